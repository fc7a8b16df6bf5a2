//! The seed scenario (scenarios/2026-01-critical-minerals.toml): it checks against the world
//! model, and run on the coarse regions its events show in the results.

mod common;

use chokepoint_core::scenario::summary::summarize;
use chokepoint_core::scenario::{Scenario, run_scenario};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

const SEED: &str = include_str!("../../../scenarios/2026-01-critical-minerals.toml");

#[test]
fn the_seed_scenario_checks_against_the_full_world_model() {
    let ds = chokepoint_core::Dataset::embedded().unwrap();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "seed").unwrap();
    let s =
        Scenario::load(SEED, "seed.toml", &mut prepared.world).unwrap_or_else(|e| panic!("{e}"));
    // Every event E1–E23 that is a market event is in the file, each citing its source.
    for e in [
        "E1", "E2", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E12", "E14", "E15", "E20", "E21",
        "E22", "E23",
    ] {
        assert!(
            s.events
                .iter()
                .any(|ev| ev.source.split([';', ' ']).any(|w| w == e)),
            "no event cites {e}"
        );
    }
}

#[test]
fn every_kind_has_an_example_that_checks() {
    let ds = chokepoint_core::Dataset::embedded().unwrap();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/examples");
    for kind in chokepoint_core::scenario::events::KINDS {
        let path = dir.join(format!("{kind}.toml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no example {kind}.toml"));
        let mut world = prepared.world.clone();
        let s = Scenario::load(&text, &path.display().to_string(), &mut world)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            s.events.iter().any(|e| e.kind.name() == kind),
            "{kind}.toml has no {kind} event"
        );
    }
}

#[test]
fn the_seed_scenario_runs_and_its_events_show() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "seed").unwrap();
    let mut s =
        Scenario::load(SEED, "seed.toml", &mut prepared.world).unwrap_or_else(|e| panic!("{e}"));
    s.header.to = 2026;
    let run = run_scenario(&ds, &prepared, &s).unwrap();
    let summary = summarize(&s, &run);
    assert_eq!(summary.quarters, 8);
    assert_eq!(summary.cleared, [8, 8], "every quarter clears in both runs");
    // E22: DR Congo's cobalt exports in 2026 are the quotas less the delay: 2026Q1 under the
    // Q4-2025 quota (18,125 × 0.8), then 96,600 a year (three quarters × 24,150 × 0.8).
    let exports: f64 = run
        .scenario
        .rows
        .iter()
        .filter(|r| r.region == "COD" && r.period.starts_with("2026") && r.good.starts_with("co_"))
        .map(|r| r.exports)
        .sum();
    let cap = 18_125.0 * 0.8 + 3.0 * 96_600.0 / 4.0 * 0.8;
    assert!(
        exports <= cap * (1.0 + 1e-6),
        "exports {exports} above the quota {cap}"
    );
    assert!(
        exports >= cap * 0.999,
        "the quota binds: {exports} vs {cap}"
    );
    // E1: Japan runs short of NdFeB magnets once China stops shipping them.
    let japan = summary
        .answers
        .iter()
        .find(|a| a.key == "japan_heavy_re_shortfall")
        .expect("Japan is a region of the coarse model");
    assert!(japan.value > 0.0, "{}", japan.answer);
    let cobalt = summary
        .answers
        .iter()
        .find(|a| a.key == "drc_cobalt_2026")
        .unwrap();
    assert!((cobalt.value - exports).abs() < 1e-6 * exports);
}
