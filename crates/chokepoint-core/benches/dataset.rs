//! Loading and validating the embedded dataset (target: under 50 ms), and the whole baseline.

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

/// The whole baseline: assemble, calibrate and clear every quarter 2025Q1–2040Q4 (30 regions,
/// all calibrated goods). Target (issue 4): under 0.5 s on one core.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn baseline_to_2040() -> chokepoint_core::world::Baseline {
    use chokepoint_core::world::{BaselineOptions, RegionMap, run_baseline};
    let ds = Dataset::embedded().expect("embedded dataset is valid");
    let map = RegionMap::from_dataset(&ds).expect("valid regions");
    let options = BaselineOptions {
        to_year: 2040,
        scenario: "steps".into(),
    };
    run_baseline(&ds, &map, &options).expect("baseline runs")
}
