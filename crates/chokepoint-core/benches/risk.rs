//! Risk runs: what one draw costs (issue 6: 10,000 draws of the seed scenario, quarterly to
//! 2040, in under 60 s on 2 cores).

use chokepoint_core::Dataset;
use chokepoint_core::risk::{RiskRun, aggregate, base_prices};
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

/// The target of issue 6: 10,000 draws of the seed scenario (24 events, full world,
/// quarterly 2025–2040) on 2 threads, everything a user waits for: the baseline, the chains'
/// runs without events, the draws and their aggregation into quantiles.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn seed_10000_draws_to_2040_2_threads(bencher: divan::Bencher) {
    let (ds, model, mut s) = prepared(SEED);
    s.header.to = 2040;
    let draws: Vec<u64> = (0..10_000).collect();
    bencher.bench_local(|| {
        let risk = RiskRun::new(&ds, &model, &s, s.header.seed).expect("baseline");
        let results = risk.run_draws(&draws, 2, &|_| {});
        let prices = base_prices(&risk.baseline, &risk.keys);
        aggregate(&risk.keys, &prices, &results, 0.0)
    });
}

/// One draw of the seed scenario to 2040 with nothing shared: each sample a fresh risk run
/// (set up untimed: the baseline and the chains' runs without events), then one draw, whose
/// chains that its events touch all run. What a draw costs alone.
#[divan::bench(sample_count = 2, sample_size = 1)]
fn seed_one_draw_unshared(bencher: divan::Bencher) {
    let (ds, model, mut s) = prepared(SEED);
    s.header.to = 2040;
    bencher
        .with_inputs(|| RiskRun::new(&ds, &model, &s, s.header.seed).expect("baseline"))
        .bench_local_refs(|risk| risk.run_draw(1));
}

/// 16 draws of a two-event scenario on the full world (8 quarters each), on 2 threads, each
/// sample a fresh risk run (set up untimed) so that nothing is shared between samples.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn small_16_draws_2_threads(bencher: divan::Bencher) {
    let (ds, model, s) = prepared(SMALL);
    let draws: Vec<u64> = (0..16).collect();
    bencher
        .with_inputs(|| RiskRun::new(&ds, &model, &s, s.header.seed).expect("baseline"))
        .bench_local_refs(|risk| risk.run_draws(&draws, 2, &|_| {}));
}

/// One quarter of the world model (2026Q1 of the baseline, all goods) cleared by the generic
/// reference QP solver (Clarabel): the unit of the ratio against re-solving every market of
/// every draw that way.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn reference_one_world_quarter(bencher: divan::Bencher) {
    let ds = Dataset::embedded().expect("embedded dataset is valid");
    let map = RegionMap::from_dataset(&ds).expect("valid regions");
    let market = chokepoint_core::world::baseline::quarter_market_at(&ds, &map, "steps", 2026.125)
        .expect("market");
    bencher.bench_local(|| {
        chokepoint_equilibrium::solve_reference(&market, &Default::default()).expect("valid")
    });
}
