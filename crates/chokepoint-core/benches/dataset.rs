//! Loading and validating the embedded dataset (target: under 50 ms).

use chokepoint_core::Dataset;

fn main() {
    divan::main();
}

/// Parse every embedded table, build indexes and run every cross-table check.
#[divan::bench(sample_count = 30)]
fn load_and_validate_embedded() -> Dataset {
    Dataset::embedded().expect("embedded dataset is valid")
}

/// Concentration of one commodity on an already loaded dataset.
#[divan::bench(sample_count = 100)]
fn concentration_cobalt(bencher: divan::Bencher) {
    use chokepoint_core::metrics::concentration::{ConcentrationQuery, concentration};
    let ds = Dataset::embedded().expect("embedded dataset is valid");
    let q = ConcentrationQuery::production("cobalt");
    bencher.bench(|| concentration(&ds, &q).expect("cobalt has data"));
}
