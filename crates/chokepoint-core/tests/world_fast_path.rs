//! The world model's quarters clear on the fast path and agree with the reference path.
//!
//! Regression: once processes with several inputs joined the fast path, every quarter of
//! the world model still fell back to the reference path ("solution failed the equilibrium
//! check"). Its goods span seven orders of magnitude (a tonne of HALEU a quarter at 2e7 a
//! tonne, megatonnes of copper at 9e3), and the fast path's flow tolerance, taken from the
//! whole market (its largest price over its flattest step), let UF6 and SWU flow the wrong
//! way by tens of tonnes.

mod common;

use chokepoint_core::Dataset;
use chokepoint_core::world::{RegionMap, quarter_market_at};
use chokepoint_equilibrium::{
    FastOptions, FastSolver, Market, ReferenceOptions, Solution, SolveStatus, SolverPath,
    solve_reference,
};

/// Per good, the largest quantity of its supply and demand steps in `sol`.
fn good_quantities(m: &Market, sol: &Solution) -> Vec<f64> {
    let mut q = vec![0.0_f64; m.goods.len()];
    for (s, x) in m.supply.iter().zip(&sol.supply) {
        q[s.good] = q[s.good].max(*x);
    }
    for (d, x) in m.demand.iter().zip(&sol.demand) {
        q[d.good] = q[d.good].max(*x);
    }
    q
}

/// Mass balance at every node to 1e-9 of its good's own quantities (the equilibrium check
/// scales every balance by the market's largest quantity: megatonnes of copper).
fn assert_balanced_per_good(m: &Market, sol: &Solution, what: &str) {
    let scale = good_quantities(m, sol);
    let net = chokepoint_equilibrium::node_balance(m, sol);
    for (i, v) in net.iter().enumerate() {
        let g = i % m.goods.len();
        assert!(
            v.abs() <= 1e-9 * scale[g].max(1.0),
            "{what}: {} {} out of balance by {v}",
            m.regions[i / m.goods.len()],
            m.goods[g]
        );
    }
}

/// The fast solution against the reference one. Only what is unique is compared: welfare
/// (the optimum's value), quantities of sloped steps (the objective is strictly convex in
/// them) and prices at nodes where such a step lies strictly inside its range; flat steps,
/// flows and plants that break even exactly may split differently, and nodes nobody
/// trades at may sit anywhere their routes allow. The reference (interior point) is exact
/// only to its tolerances on the market's *largest* magnitudes (a price scale of 2e8,
/// megatonnes): it stops short of capacities on the small goods (a conversion plant at
/// 1249.99996 of its 1250 t), which moves steep curves' prices by up to ~1e-4 (antimony in
/// Kazakhstan, 10 t a quarter, 7,110 a tonne per tonne). Hence prices to 1e-3, quantities
/// to 1e-4 of their good's largest, welfare to 1e-9 (found: 1e-13).
fn assert_agree(m: &Market, fast: &Solution, r: &Solution, what: &str) {
    let dw = (fast.welfare.total - r.welfare.total).abs() / r.welfare.total.abs();
    assert!(dw <= 1e-9, "{what}: welfare differs by {dw:e}");
    let scale = good_quantities(m, r);
    let mut interior = vec![false; m.nodes()];
    let steps = m
        .supply
        .iter()
        .map(|s| (s.region, s.good, s.slope, s.capacity))
        .zip(fast.supply.iter().zip(&r.supply))
        .chain(
            m.demand
                .iter()
                .map(|d| (d.region, d.good, d.slope, d.capacity))
                .zip(fast.demand.iter().zip(&r.demand)),
        );
    for ((region, good, slope, cap), (&a, &b)) in steps {
        if slope == 0.0 {
            continue;
        }
        let tol = 1e-4 * scale[good].max(1.0);
        assert!(
            (a - b).abs() <= tol,
            "{what}: {} {} step quantity {a} vs reference {b}",
            m.regions[region],
            m.goods[good]
        );
        if b > tol && cap.is_none_or(|c| b < c - tol) {
            interior[m.node(region, good)] = true;
        }
    }
    for (i, _) in interior.iter().enumerate().filter(|(_, x)| **x) {
        let (a, b) = (fast.prices[i], r.prices[i]);
        assert!(
            (a - b).abs() <= 1e-3 * b.abs(),
            "{what}: {} {} price {a} vs reference {b}",
            m.regions[i / m.goods.len()],
            m.goods[i % m.goods.len()]
        );
    }
}

/// Clears the quarters at `times` (mid-quarter, in years) with one solver, warm-started
/// from quarter to quarter as the baseline does; each must clear on the fast path and agree
/// with the reference path.
fn clear_quarters(ds: &Dataset, times: &[f64]) {
    let map = RegionMap::from_dataset(ds).expect("valid regions");
    let mut solver: Option<FastSolver> = None;
    for &t in times {
        let m = quarter_market_at(ds, &map, "steps", t).expect("quarter market");
        let solver = solver.get_or_insert_with(|| FastSolver::new(&m, FastOptions::default()));
        let fast = solver.solve(&m);
        let what = format!("{t}");
        assert_eq!(fast.status, SolveStatus::Optimal, "{what}");
        assert_eq!(
            fast.solver,
            SolverPath::Fast,
            "{what}: fell back ({:?})",
            solver.last_fallback
        );
        assert_balanced_per_good(&m, &fast, &what);
        let r = solve_reference(&m, &ReferenceOptions::default()).expect("valid market");
        assert_eq!(r.status, SolveStatus::Optimal, "{what}: reference");
        assert_agree(&m, &fast, &r, &what);
    }
}

#[test]
fn quarters_of_2025_and_2026_clear_on_the_fast_path() {
    // The coarse regions (8): the same goods, plants and recipes, quick solves.
    let ds = common::minimal_dataset();
    let times: Vec<f64> = (0..8).map(|q| 2025.125 + 0.25 * f64::from(q)).collect();
    clear_quarters(&ds, &times);
}

#[test]
fn the_first_quarter_of_the_full_world_clears_on_the_fast_path() {
    // 30 regions, 25,000 routes: the market that fell back, solved from cold.
    let ds = Dataset::embedded().expect("embedded dataset");
    clear_quarters(&ds, &[2025.125]);
}

#[test]
fn the_full_world_baseline_to_2040_clears_every_quarter_on_the_fast_path() {
    // The benchmark of record (`baseline_to_2040`) depends on this: 64 quarters, warm-started.
    use chokepoint_core::world::{BaselineOptions, run_baseline};
    let ds = Dataset::embedded().expect("embedded dataset");
    let map = RegionMap::from_dataset(&ds).expect("valid regions");
    let opts = BaselineOptions {
        to_year: 2040,
        scenario: "steps".into(),
    };
    let b = run_baseline(&ds, &map, &opts).expect("baseline");
    assert_eq!(b.periods.len(), 64);
    for p in &b.periods {
        assert_eq!(p.status, SolveStatus::Optimal, "{}", p.period);
        assert_eq!(
            p.solver,
            SolverPath::Fast,
            "{} fell back: {:?}",
            p.period,
            p.fallback
        );
        assert!(p.max_violation < 1e-9, "{}: {}", p.period, p.max_violation);
    }
}
