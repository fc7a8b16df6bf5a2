//! The baseline runs quarter by quarter: every quarter clears and balances, demand at the base
//! price follows the IEA scenario, and scarcity shows up as prices and shortfalls.

mod common;

use std::collections::BTreeMap;

use chokepoint_core::world::{BaselineOptions, RegionMap, run_baseline};
use chokepoint_equilibrium::SolveStatus;

/// World totals per (year, good) of a baseline: (consumption, shortfall, volume-weighted price).
fn yearly(b: &chokepoint_core::world::Baseline) -> BTreeMap<(String, String), (f64, f64, f64)> {
    let mut out: BTreeMap<(String, String), (f64, f64, f64, f64)> = BTreeMap::new();
    for r in &b.rows {
        let e = out
            .entry((r.period[..4].to_string(), r.good.clone()))
            .or_default();
        e.0 += r.consumption;
        e.1 += r.shortfall;
        if let Some(p) = r.price {
            e.2 += p * (r.production + r.consumption);
            e.3 += r.production + r.consumption;
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, (v.0, v.1, if v.3 > 0.0 { v.2 / v.3 } else { 0.0 })))
        .collect()
}

#[test]
fn every_quarter_to_2030_clears_and_balances() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let opts = BaselineOptions {
        to_year: 2030,
        scenario: "steps".into(),
    };
    let b = run_baseline(&ds, &map, &opts).unwrap();
    assert_eq!(b.periods.len(), 6 * 4, "2025Q1 to 2030Q4");
    for p in &b.periods {
        assert_eq!(p.status, SolveStatus::Optimal, "{}", p.period);
        assert!(
            p.max_violation < 1e-6,
            "{}: violation {}",
            p.period,
            p.max_violation
        );
    }
    // (`max_violation` covers mass balance at every node and route and step complementarity.)
    let y = yearly(&b);
    // Copper demand grows along IEA STEPS while the IEA mine pipeline shrinks: by 2030 refined
    // copper is dearer than in 2025 and some demand at base prices goes unmet.
    let cu25 = y[&("2025".to_string(), "cu_cathode".to_string())];
    let cu30 = y[&("2030".to_string(), "cu_cathode".to_string())];
    assert!(cu30.2 > cu25.2, "copper price {} → {}", cu25.2, cu30.2);
    assert!(cu30.1 > cu25.1, "copper shortfall {} → {}", cu25.1, cu30.1);
}

#[test]
fn quarterly_quantities_are_a_quarter_of_the_year() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let b = run_baseline(
        &ds,
        &map,
        &BaselineOptions {
            to_year: 2025,
            scenario: "steps".into(),
        },
    )
    .unwrap();
    // Silver has no IEA path: demand and capacity stay at the base year, so each quarter
    // clears a quarter of the base year's 25,200 t of mine output at the base price.
    let q1: f64 = b
        .rows
        .iter()
        .filter(|r| r.period == "2025Q1" && r.good == "ag_mined")
        .map(|r| r.production)
        .sum();
    assert!((q1 - 25_200.0 / 4.0).abs() < 1e-3, "{q1}");
    assert!(b.notes.iter().any(|n| n.contains("ag_mined")));
}

#[test]
fn options_are_checked() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let err = run_baseline(
        &ds,
        &map,
        &BaselineOptions {
            to_year: 2020,
            scenario: "steps".into(),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("not after the base year"));
    let err = run_baseline(
        &ds,
        &map,
        &BaselineOptions {
            to_year: 2026,
            scenario: "stesp".into(),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("did you mean 'steps'"), "{err}");
}

#[test]
fn demand_at_base_prices_follows_the_iea_path() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let b = run_baseline(
        &ds,
        &map,
        &BaselineOptions {
            to_year: 2040,
            scenario: "steps".into(),
        },
    )
    .unwrap();
    // IEA STEPS total copper demand (demand.csv): 2023 base year, 2030, 2035, 2040; the model's
    // base year is 2024, linear in between.
    let iea = |year: i32| {
        ds.demand
            .iter()
            .find(|r| {
                r.commodity_id == "copper"
                    && r.sector_id == "total"
                    && r.year == year
                    && (r.scenario == "steps" || r.scenario == "base_year")
            })
            .and_then(|r| r.value)
            .unwrap()
    };
    let d2024 = iea(2023) + (iea(2030) - iea(2023)) / 7.0;
    let base: f64 = {
        let build = chokepoint_core::world::build_base_year(&ds, &map).unwrap();
        let g = build
            .base
            .goods
            .iter()
            .position(|x| x == "cu_cathode")
            .unwrap();
        build
            .base
            .nodes
            .iter()
            .filter(|n| n.good == g)
            .map(|n| n.consumption)
            .sum()
    };
    for (year, target) in [(2030, iea(2030)), (2035, iea(2035)), (2040, iea(2040))] {
        // Demand at base prices in the year = consumption + shortfall wherever demand is not
        // fully met; the year's four mid-quarter indices average to the mid-year index.
        let at_base: f64 = b
            .rows
            .iter()
            .filter(|r| r.good == "cu_cathode" && r.period.starts_with(&year.to_string()))
            .map(|r| r.consumption + r.shortfall)
            .sum();
        let path = target / d2024;
        let next = if year < 2040 { iea(year + 5) } else { target };
        // Mid-year of `year` sits half a year past the IEA point: allow that drift.
        let drift = ((next - target) / 5.0 * 0.5 / d2024).abs();
        assert!(
            (at_base / base - path).abs() <= drift + 0.02,
            "{year}: demand index {} vs IEA {}",
            at_base / base,
            path
        );
    }
}
