//! Finance: valuing the seed scenario's floors, collars, offtake and reserve once the runs are
//! done (2,000 GBM and 2,000 mean-reverting paths each, quarterly to 2030).

use chokepoint_core::Dataset;
use chokepoint_core::finance::instruments::{FinanceInputs, FinanceOptions, value};
use chokepoint_core::scenario::{Scenario, demand_path_of, run_scenario};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

fn main() {
    divan::main();
}

const SEED: &str = include_str!("../../../scenarios/2026-01-critical-minerals.toml");

/// The valuation alone (the scenario and baseline runs are done before timing).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn seed_instruments_2000_paths(bencher: divan::Bencher) {
    let ds = Dataset::embedded().expect("embedded dataset is valid");
    let map = RegionMap::from_dataset(&ds).expect("valid regions");
    let mut model = WorldModel::prepare(&ds, &map, &demand_path_of(SEED)).expect("model");
    let s = Scenario::load(SEED, "bench.toml", &mut model.world).expect("scenario");
    let run = run_scenario(&ds, &model, &s).expect("runs");
    bencher.bench_local(|| {
        value(
            &ds,
            &model.world,
            &FinanceInputs {
                scenario: &s,
                baseline: &run.baseline,
                run: &run.scenario,
                without: &[],
                market_draws: &[],
            },
            &FinanceOptions {
                draws: 2000,
                seed: 1,
                projects: Vec::new(),
            },
        )
        .expect("valued")
    });
}
