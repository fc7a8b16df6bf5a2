//! Company exposure: an asset makes its share of its node's output, at the node's price.

mod common;

use chokepoint_core::companies::companies;
use chokepoint_core::scenario::{Scenario, run_scenario};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

#[test]
fn a_grasberg_disruption_cuts_freeports_volume_in_proportion_to_its_share() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let text = r#"
[scenario]
name = "grasberg"
to = 2026

[[event]]
id = "grasberg"
kind = "disruption"
start = "2025-10-01"
end = "2026-07-01"
source = "test"
place = "IDN"
goods = ["cu_mined"]
loss_per_year = 400000
"#;
    let s = Scenario::load(text, "g.toml", &mut prepared.world).unwrap();
    let run = run_scenario(&ds, &prepared, &s).unwrap();
    let w = &prepared.world;
    let lines = companies(&ds, w, &run.baseline, &run.scenario);
    let fcx = lines.iter().find(|c| c.company_id == "freeport").unwrap();
    let grasberg = fcx
        .assets
        .iter()
        .find(|a| a.asset.contains("Grasberg"))
        .unwrap();
    let share = grasberg.share.unwrap();
    assert!(share > 0.0 && share <= 1.0);
    // The asset's volume is its share of its region's cu_mined production, summed over rows.
    let node_output = |b: &chokepoint_core::world::Baseline| -> f64 {
        b.rows
            .iter()
            .filter(|r| r.region == grasberg.region && r.good == "cu_mined")
            .map(|r| r.production)
            .sum()
    };
    let (b, sc) = (node_output(&run.baseline), node_output(&run.scenario));
    assert!((grasberg.baseline_volume - share * b).abs() < 1e-6 * b);
    assert!((grasberg.scenario_volume - share * sc).abs() < 1e-6 * b);
    assert!(
        grasberg.scenario_volume < grasberg.baseline_volume,
        "{grasberg:?}"
    );
    // Revenue by year adds up to the total; the change is scenario over baseline.
    let by_year: f64 = fcx.years.iter().map(|y| y.2).sum();
    assert!((by_year - fcx.scenario_revenue).abs() < 1e-6 * fcx.scenario_revenue);
    assert!((fcx.change - (fcx.scenario_revenue / fcx.baseline_revenue - 1.0)).abs() < 1e-12);
    // Projects are listed, not counted; with the baseline on both sides nothing changes.
    let mp = lines
        .iter()
        .find(|c| c.company_id == "mp_materials")
        .unwrap();
    assert!(
        mp.assets
            .iter()
            .any(|a| a.share.is_none() && a.skipped.is_some())
    );
    let same = companies(&ds, w, &run.baseline, &run.baseline);
    assert!(same.iter().all(|c| c.change == 0.0));
}
