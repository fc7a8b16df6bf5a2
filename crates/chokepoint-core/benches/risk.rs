//! Risk runs: what one draw costs (issue 6: 10,000 draws of the seed scenario, quarterly to
//! 2040, in under 60 s on 2 cores).

use chokepoint_core::Dataset;
use chokepoint_core::risk::RiskRun;
use chokepoint_core::scenario::{Scenario, demand_path_of};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

fn main() {
    divan::main();
}

const SEED: &str = include_str!("../../../scenarios/2026-01-critical-minerals.toml");

/// Two uncertain events of 2026 (a Grasberg disruption, the DR Congo cobalt quota).
const SMALL: &str = include_str!("../../../scenarios/risk/copper-cobalt-2026.toml");

fn prepared(text: &str) -> (Dataset, WorldModel, Scenario) {
    let ds = Dataset::embedded().expect("embedded dataset is valid");
    let map = RegionMap::from_dataset(&ds).expect("valid regions");
    let mut model = WorldModel::prepare(&ds, &map, &demand_path_of(text)).expect("model");
    let s = Scenario::load(text, "bench.toml", &mut model.world).expect("scenario");
    (ds, model, s)
}

/// One draw of the seed scenario (24 events, full world, quarterly to 2030), the baseline
/// already run.
#[divan::bench(sample_count = 2, sample_size = 1)]
fn seed_one_draw(bencher: divan::Bencher) {
    let (ds, model, s) = prepared(SEED);
    let risk = RiskRun::new(&ds, &model, &s, s.header.seed).expect("baseline");
    let mut i = 0;
    bencher.bench_local(|| {
        i += 1;
        risk.run_draw(i)
    });
}

/// 16 draws of a two-event scenario on the full world (8 quarters each), on 2 threads.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn small_16_draws_2_threads(bencher: divan::Bencher) {
    let (ds, model, s) = prepared(SMALL);
    let risk = RiskRun::new(&ds, &model, &s, s.header.seed).expect("baseline");
    let draws: Vec<u64> = (0..16).collect();
    bencher.bench_local(|| risk.run_draws(&draws, 2, &|_| {}));
}
