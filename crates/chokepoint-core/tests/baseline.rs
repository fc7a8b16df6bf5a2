//! The baseline runs quarter by quarter: every quarter clears and balances, demand at the base
//! price follows the IEA scenario, and scarcity shows up as prices and shortfalls.

mod common;

use std::collections::BTreeMap;

use chokepoint_core::world::{BaselineOptions, RegionMap, run_baseline};
use chokepoint_equilibrium::SolveStatus;

/// World base-year consumption of a good (annual, model units).
fn base_consumption(ds: &chokepoint_core::Dataset, map: &RegionMap, good: &str) -> f64 {
    let build = chokepoint_core::world::build_base_year(ds, map).unwrap();
    let g = build.base.goods.iter().position(|x| x == good).unwrap();
    build
        .base
        .nodes
        .iter()
        .filter(|n| n.good == g)
        .map(|n| n.consumption)
        .sum()
}

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
    // clears a quarter of the base year's 25,200 t of mine output at the base price (to the
    // solver's relative tolerance).
    let q1: f64 = b
        .rows
        .iter()
        .filter(|r| r.period == "2025Q1" && r.good == "ag_mined")
        .map(|r| r.production)
        .sum();
    assert!((q1 - 25_200.0 / 4.0).abs() < 1e-6 * 25_200.0, "{q1}");
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
    let base = base_consumption(&ds, &map, "cu_cathode");
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

#[test]
fn the_seed_path_carries_the_article_figures() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let run = |scenario: &str| {
        run_baseline(
            &ds,
            &map,
            &BaselineOptions {
                to_year: 2040,
                scenario: scenario.into(),
            },
        )
        .unwrap()
    };
    let seed = run("seed");
    let steps = run("steps");
    let at_base = |b: &chokepoint_core::world::Baseline, good: &str, year: &str| -> f64 {
        b.rows
            .iter()
            .filter(|r| r.good == good && r.period.starts_with(year))
            .map(|r| r.consumption + r.shortfall)
            .sum()
    };
    // Copper: S&P's 28 Mt in 2025 and 42 Mt in 2040 (facts SF198, SF199) on IEA STEPS. The
    // base year 2024 lies halfway between the IEA 2023 base year and the 2025 figure.
    let iea2023 = ds
        .demand
        .iter()
        .find(|r| r.commodity_id == "copper" && r.sector_id == "total" && r.scenario == "base_year")
        .and_then(|r| r.value)
        .unwrap();
    let d2024 = (iea2023 + 28_000.0) / 2.0;
    let base = base_consumption(&ds, &map, "cu_cathode");
    // The 2040 quarters sit at mid-quarter, on the way to IEA STEPS 2045: the year averages
    // the path half a year past 2040, a tenth of the way to 2045.
    let steps2045 = ds
        .demand
        .iter()
        .find(|r| {
            r.commodity_id == "copper"
                && r.sector_id == "total"
                && r.scenario == "steps"
                && r.year == 2045
        })
        .and_then(|r| r.value)
        .unwrap();
    let expected = (42_000.0 + (steps2045 - 42_000.0) * 0.1) / d2024;
    let index = at_base(&seed, "cu_cathode", "2040") / base;
    assert!(
        (index - expected).abs() < 0.005,
        "copper demand index 2040 {index} vs {expected}"
    );
    // Lithium: storage demand +71% in 2025 and +55% in 2026 lifts total demand above STEPS.
    for year in ["2025", "2026"] {
        let s = at_base(&seed, "li_carbonate", year);
        let t = at_base(&steps, "li_carbonate", year);
        assert!(s > t * 1.01, "{year}: seed {s} vs STEPS {t}");
    }
}

/// The minimal dataset with one stockpile row.
fn with_stockpile(row: &str) -> chokepoint_core::Dataset {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let minimal = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/model/regions_minimal.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model/regions.csv"), minimal).unwrap();
    let path = dir.path().join("model/stockpiles.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(row);
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    chokepoint_core::Dataset::load_dir(dir.path()).unwrap()
}

#[test]
fn a_stockpile_releases_above_its_trigger_and_buys_below_it() {
    // A copper stock in the USA released as soon as the price exceeds 5,000 USD/t (it always
    // does), at most 100,000 t a quarter, from 250,000 t: 100k, 100k, 50k, then empty.
    let ds = with_stockpile(
        "test_release,Test release,USA,cu_cathode,1000000,250000,1000,5000,0,100000,test,",
    );
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
    for p in &b.periods {
        assert_eq!(
            p.status,
            SolveStatus::Optimal,
            "{} {:?}",
            p.period,
            p.solver
        );
    }
    let usa = |period: &str| {
        b.rows
            .iter()
            .find(|r| r.period == period && r.region == "USA" && r.good == "cu_cathode")
            .unwrap()
            .clone()
    };
    let expected = [
        (-100_000.0, 150_000.0),
        (-100_000.0, 50_000.0),
        (-50_000.0, 0.0),
        (0.0, 0.0),
    ];
    for (q, (change, left)) in expected.iter().enumerate() {
        let row = usa(&format!("2025Q{}", q + 1));
        assert!(
            (row.stock_change - change).abs() < 1e-6,
            "Q{}: change {}",
            q + 1,
            row.stock_change
        );
        assert!(
            (row.inventory - left).abs() < 1e-6,
            "Q{}: stock {}",
            q + 1,
            row.inventory
        );
    }
    for p in &b.periods {
        assert!(p.max_violation < 1e-6);
    }
    // A stock that buys below 1e9 USD/t (always) fills at its rate until full.
    let ds = with_stockpile(
        "test_buy,Test buy,CHN,cu_cathode,150000,0,1000000000,2000000000,60000,0,test,",
    );
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
    let stocks: Vec<f64> = (1..=4)
        .map(|q| {
            b.rows
                .iter()
                .find(|r| {
                    r.period == format!("2025Q{q}") && r.region == "CHN" && r.good == "cu_cathode"
                })
                .unwrap()
                .inventory
        })
        .collect();
    for (got, want) in stocks
        .iter()
        .zip([60_000.0, 120_000.0, 150_000.0, 150_000.0])
    {
        assert!((got - want).abs() < 1e-6 * want, "stocks {stocks:?}");
    }
}

#[test]
fn stockpile_rules_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let path = dir.path().join("model/stockpiles.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("bad,Bad,USA,cu_cathode,100,200,9000,8000,10,10,test,\n");
    std::fs::write(&path, text).unwrap();
    let err = chokepoint_core::Dataset::load_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("initial stock 200 exceeds capacity 100"),
        "{err}"
    );
    assert!(
        err.contains("release price 8000 is not above the buy price 9000"),
        "{err}"
    );
}

#[test]
fn regional_capacity_follows_the_iea_country_projections() {
    // IEA base case, cobalt mining 2023 → 2030: DR Congo 157 → 215 kt, Australia 7.6 → 6.4 kt.
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let b = run_baseline(
        &ds,
        &map,
        &BaselineOptions {
            to_year: 2030,
            scenario: "steps".into(),
        },
    )
    .unwrap();
    let output = |region: &str, year: &str| -> f64 {
        b.rows
            .iter()
            .filter(|r| r.good == "co_mined" && r.region == region && r.period.starts_with(year))
            .map(|r| r.production)
            .sum()
    };
    let cod = output("COD", "2030") / output("COD", "2025");
    let aus = output("AUS", "2030") / output("AUS", "2025");
    assert!(cod > 1.1, "DR Congo cobalt mining grows: {cod}");
    assert!(aus < 1.0, "Australian cobalt mining shrinks: {aus}");
}
