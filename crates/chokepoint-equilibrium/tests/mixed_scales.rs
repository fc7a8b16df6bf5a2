//! Goods of very different magnitudes in one market, the shape of the world model that made
//! every quarter fall back to the reference path: a bulk good (megatonnes a quarter at
//! thousands a tonne, flat slopes) next to a nuclear fuel chain whose last good is a tonne a
//! quarter at tens of millions a tonne, made by plants with two inputs; nodes without supply
//! or demand, demand split into sector steps, flat supply steps with capacity (some 0),
//! plants of capacity 0.
//!
//! The fast path once took its flow tolerance from the whole market's magnitudes (its
//! largest price over its flattest step: 3e10 units here), so that flows of tens of tonnes in
//! the wrong direction passed for rounding, were clipped to zero and left the fuel goods out
//! of balance: the equilibrium check failed and the reference path took over.

mod common;

use chokepoint_equilibrium::{
    FastOptions, FastSolver, Market, Process, ReferenceOptions, Route, Solution, SolveStatus,
    SolverPath, SupplyStep, solve_reference,
};
use common::demand;

/// Goods, by index.
const ORE: usize = 0;
const METAL: usize = 1;
const U3O8: usize = 2;
const UF6: usize = 3;
const SWU: usize = 4;
const LEU: usize = 5;
const HALEU: usize = 6;

/// A small deterministic generator (the markets are varied, not random).
struct Lcg(u64);

impl Lcg {
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn supply(region: usize, good: usize, intercept: f64, slope: f64, cap: Option<f64>) -> SupplyStep {
    SupplyStep {
        region,
        good,
        intercept,
        slope,
        capacity: cap,
    }
}

fn plant(
    name: &str,
    region: usize,
    output: usize,
    inputs: &[(usize, f64)],
    cost: f64,
    cap: f64,
) -> Process {
    Process {
        name: format!("{name} {region}"),
        region,
        output,
        inputs: inputs.to_vec(),
        cost,
        capacity: Some(cap),
    }
}

/// Six regions; `seed` varies every magnitude by up to a few tens of percent.
fn market(seed: u64) -> Market {
    let mut r = Lcg(seed);
    let regions = 6;
    let mut m = Market {
        regions: (0..regions).map(|i| format!("R{i}")).collect(),
        goods: ["ore", "metal", "u3o8", "uf6", "swu", "leu", "haleu"]
            .map(String::from)
            .to_vec(),
        ..Market::default()
    };
    // Bulk: ore mined in three regions (negative intercepts, flat slopes: megatonnes), a
    // smelter in each, metal demanded everywhere in two sector steps.
    for reg in 0..3 {
        m.supply
            .push(supply(reg, ORE, -8000.0, r.range(0.01, 0.03), None));
        m.processes.push(plant(
            "smelter",
            reg,
            METAL,
            &[(ORE, 1.0)],
            r.range(700.0, 900.0),
            r.range(1.0e6, 3.0e6),
        ));
    }
    for reg in 0..regions {
        m.demand
            .push(demand(reg, METAL, 28_000.0, r.range(0.006, 0.05)));
        m.demand
            .push(demand(reg, METAL, 60_000.0, r.range(0.5, 2.0)));
    }
    // Fuel: u3o8 mined in two regions, converted to uf6 (plants at capacity), a little uf6
    // from inventories (steep steps), enrichment as flat steps with capacity (one idle
    // project at capacity 0), leu and haleu from uf6 and swu.
    m.supply
        .push(supply(3, U3O8, 5.0e4, r.range(60.0, 100.0), None));
    m.supply
        .push(supply(4, U3O8, 5.0e4, r.range(200.0, 400.0), None));
    m.processes.push(plant(
        "conversion",
        0,
        UF6,
        &[(U3O8, 1.0)],
        3726.0,
        r.range(1000.0, 1500.0),
    ));
    m.processes.push(plant(
        "conversion",
        5,
        UF6,
        &[(U3O8, 1.0)],
        22_889.0,
        r.range(3000.0, 5000.0),
    ));
    m.supply
        .push(supply(0, UF6, 2.2e5, r.range(1.5e5, 2.5e5), None));
    m.supply
        .push(supply(5, UF6, 2.4e5, r.range(3e4, 5e4), None));
    m.supply.push(supply(
        0,
        SWU,
        r.range(1.0e5, 1.4e5),
        0.0,
        Some(r.range(2000.0, 4000.0)),
    ));
    m.supply.push(supply(
        5,
        SWU,
        r.range(0.9e5, 1.2e5),
        0.0,
        Some(r.range(4000.0, 8000.0)),
    ));
    m.supply.push(supply(1, SWU, 1.5e5, 0.0, Some(0.0)));
    let leu = [(UF6, 9.2191), (SWU, 6.8711)];
    let haleu = [(UF6, 42.2993), (SWU, 41.0011)];
    m.processes.push(plant(
        "enrichment",
        0,
        LEU,
        &leu,
        r.range(6.0e5, 8.0e5),
        r.range(100.0, 130.0),
    ));
    m.processes.push(plant(
        "enrichment",
        5,
        LEU,
        &leu,
        r.range(1.2e5, 1.5e5),
        r.range(600.0, 800.0),
    ));
    m.processes
        .push(plant("enrichment project", 1, LEU, &leu, 4.0e5, 0.0));
    m.processes
        .push(plant("haleu", 5, HALEU, &haleu, r.range(4.0e5, 5.0e5), 1.0));
    m.processes
        .push(plant("haleu project", 1, HALEU, &haleu, 3.0e6, 0.0));
    for reg in [0, 1, 2] {
        m.demand.push(demand(
            reg,
            LEU,
            r.range(3.5e7, 4.5e7),
            r.range(1.5e5, 3.5e5),
        ));
    }
    // HALEU: a tonne a quarter, choke price 2e8.
    m.demand
        .push(demand(1, HALEU, 2.16e8, r.range(1.8e8, 2.2e8)));
    // Routes between every pair of regions for every good.
    for good in 0..m.goods.len() {
        let base = [100.0, 150.0, 2000.0, 5000.0, 3000.0, 2.0e4, 1.0e5][good];
        for from in 0..regions {
            for to in 0..regions {
                if from != to {
                    m.routes.push(Route {
                        from,
                        to,
                        good,
                        cost: base * r.range(0.5, 2.0),
                        tariff: 0.0,
                        capacity: None,
                        banned: false,
                    });
                }
            }
        }
    }
    m.validate().expect("valid market");
    m
}

/// Per good, the largest quantity of its steps in `sol`.
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

/// Mass balance at every node, relative to the quantities of the node's good: far stricter
/// for the fuel goods than [`chokepoint_equilibrium::check`], which scales every balance by
/// the largest quantity of the market (megatonnes of metal).
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

/// The fast path clears on its own, balances every good to its own magnitude, and agrees
/// with the reference path. The reference (an interior-point method) is exact only to its
/// tolerances on the market's *largest* magnitudes (megatonnes, a price scale of 2e8): it
/// stops short of bounds on the fuel goods by up to ~1e-4 t (a conversion plant at 1026.93
/// of its 1026.94 t), which moves their prices by up to ~1e-4 (steep curves), and its
/// welfare falls short of the optimum by up to ~1e-8. Hence: welfare (the optimum's value)
/// no lower than the reference's, and above it by at most 1e-7; quantities of sloped steps
/// (unique: the objective is strictly convex in them) to 1e-4 of their good's largest;
/// prices where such a step lies strictly inside its range (unique there) to 1e-3.
fn assert_agree(m: &Market, solver: &FastSolver, fast: &Solution, what: &str) {
    assert_eq!(fast.status, SolveStatus::Optimal, "{what}");
    assert_eq!(
        fast.solver,
        SolverPath::Fast,
        "{what}: fell back ({:?})",
        solver.last_fallback
    );
    assert_balanced_per_good(m, fast, what);
    let r = solve_reference(m, &ReferenceOptions::default()).expect("valid market");
    assert_eq!(r.status, SolveStatus::Optimal, "{what}: reference");
    let dw = (fast.welfare.total - r.welfare.total) / r.welfare.total.abs();
    assert!(
        (-1e-10..=1e-7).contains(&dw),
        "{what}: welfare differs by {dw:e}"
    );
    let scale = good_quantities(m, &r);
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

#[test]
fn bulk_and_fuel_goods_clear_together_on_the_fast_path() {
    for seed in 1..=12 {
        let m = market(seed);
        let mut solver = FastSolver::new(&m, FastOptions::default());
        let fast = solver.solve(&m);
        assert_agree(&m, &solver, &fast, &format!("seed {seed}"));
    }
}

#[test]
fn bulk_and_fuel_goods_clear_quarter_after_quarter() {
    // Demand grows and enrichment capacity arrives quarter by quarter (the idle project
    // starts in the fourth); one solver, warm-started, stays on the fast path.
    let mut m = market(7);
    let mut solver = FastSolver::new(&m, FastOptions::default());
    for quarter in 0..8 {
        for d in &mut m.demand {
            d.intercept *= 1.01;
        }
        if quarter == 3 {
            m.supply[9].capacity = Some(1500.0);
            m.processes[7].capacity = Some(40.0);
        }
        let fast = solver.solve(&m);
        assert_agree(&m, &solver, &fast, &format!("quarter {quarter}"));
    }
    assert_eq!(solver.stats.fallbacks, 0);
}
