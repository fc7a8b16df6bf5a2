//! Helpers shared by the integration tests: step and route builders, a relative comparison,
//! and the check that both paths clear a market alike.

// Each test file uses a part of these.
#![allow(dead_code)]

use chokepoint_equilibrium::{
    DemandStep, FastOptions, FastSolver, Market, ReferenceOptions, Route, Solution, SolveStatus,
    SolverPath, SupplyStep, fast_path_covers, solve_reference,
};

/// Relative tolerance of the known-answer tests.
pub const TOL: f64 = 1e-6;

/// Asserts `a` is `b` to [`TOL`] (relative, absolute below 1).
pub fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= TOL * b.abs().max(1.0),
        "{what}: got {a}, expected {b}"
    );
}

/// A linear supply step without a capacity.
pub fn supply(region: usize, good: usize, intercept: f64, slope: f64) -> SupplyStep {
    SupplyStep {
        region,
        good,
        intercept,
        slope,
        capacity: None,
    }
}

/// A linear demand step without a capacity.
pub fn demand(region: usize, good: usize, intercept: f64, slope: f64) -> DemandStep {
    DemandStep {
        region,
        good,
        intercept,
        slope,
        capacity: None,
    }
}

/// An open route without tariff or capacity.
pub fn route_for(from: usize, to: usize, good: usize, cost: f64) -> Route {
    Route {
        from,
        to,
        good,
        cost,
        tariff: 0.0,
        capacity: None,
        banned: false,
    }
}

/// Nodes whose price an active supply or demand step pins in `sol`. Elsewhere (a good in a
/// region whose only outlet is banned, or that neither makes nor uses it) any price within
/// its routes' wedges clears, and solvers may pick different ones.
pub fn pinned(m: &Market, sol: &Solution) -> Vec<usize> {
    let supply = m
        .supply
        .iter()
        .zip(&sol.supply)
        .map(|(s, q)| (s.region, s.good, *q));
    let demand = m
        .demand
        .iter()
        .zip(&sol.demand)
        .map(|(d, q)| (d.region, d.good, *q));
    supply
        .chain(demand)
        .filter(|&(_, _, q)| q > 1e-9)
        .map(|(r, g, _)| m.node(r, g))
        .collect()
}

/// Solves on the reference path, and on the fast path (which must not hand over a market it
/// covers); both must be optimal and agree on pinned prices, quantities and welfare (flows
/// may differ where they are not unique). Returns (reference, fast).
pub fn solve_both(m: &Market) -> (Solution, Solution) {
    let sol = solve_reference(m, &ReferenceOptions::default()).expect("valid market");
    assert_eq!(sol.status, SolveStatus::Optimal, "{sol:?}");
    let mut solver = FastSolver::new(m, FastOptions::default());
    let fast = solver.solve(m);
    assert_eq!(fast.status, SolveStatus::Optimal, "{fast:?}");
    if fast_path_covers(m) {
        assert_eq!(
            fast.solver,
            SolverPath::Fast,
            "fast path fell back: {:?}",
            solver.last_fallback
        );
    }
    for i in pinned(m, &sol) {
        close(fast.prices[i], sol.prices[i], "fast vs reference price");
    }
    for (a, b) in fast.supply.iter().zip(&sol.supply) {
        close(*a, *b, "fast vs reference supply");
    }
    for (a, b) in fast.demand.iter().zip(&sol.demand) {
        close(*a, *b, "fast vs reference demand");
    }
    close(
        fast.welfare.total,
        sol.welfare.total,
        "fast vs reference welfare",
    );
    (sol, fast)
}
