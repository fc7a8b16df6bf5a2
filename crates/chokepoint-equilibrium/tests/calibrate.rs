//! Calibration reproduces its base year: the calibrated market, cleared from scratch, returns
//! the base production, consumption, processing and prices.

use chokepoint_equilibrium::{
    BaseNode, BaseYear, CalibrationError, FastOptions, FastSolver, Process, ReferenceOptions,
    Route, SolveStatus, SolverPath, calibrate, solve_reference,
};

fn node(region: usize, good: usize, production: f64, consumption: f64) -> BaseNode {
    BaseNode {
        region,
        good,
        production,
        consumption,
        supply_elasticity: 0.4,
        demand_elasticity: 0.6,
    }
}

fn routes(goods: usize, cost: impl Fn(usize, usize, usize) -> f64) -> Vec<Route> {
    let mut out = Vec::new();
    for g in 0..goods {
        for a in 0..3 {
            for b in 0..3 {
                if a != b {
                    out.push(Route {
                        from: a,
                        to: b,
                        good: g,
                        cost: cost(a, b, g),
                        tariff: 0.0,
                        capacity: None,
                        banned: false,
                    });
                }
            }
        }
    }
    out
}

/// Three regions; ore (good 0) mined in A and B, refined into metal (good 1) in A and C at
/// 1.2 t ore per t metal; metal consumed everywhere.
fn ore_to_metal() -> BaseYear {
    BaseYear {
        regions: vec!["A".into(), "B".into(), "C".into()],
        goods: vec!["ore".into(), "metal".into()],
        prices: vec![100.0, 400.0],
        nodes: vec![
            node(0, 0, 100.0, 0.0),
            node(1, 0, 50.0, 30.0),
            node(0, 1, 0.0, 20.0),
            node(1, 1, 0.0, 50.0),
            node(2, 1, 0.0, 30.0),
        ],
        routes: routes(2, |a, b, g| {
            (1 + a + b) as f64 * if g == 0 { 2.0 } else { 5.0 }
        }),
        processes: vec![
            Process {
                name: "refinery A".into(),
                region: 0,
                output: 1,
                inputs: vec![(0, 1.2)],
                cost: 0.0,
                capacity: Some(40.0),
            },
            Process {
                name: "refinery C".into(),
                region: 2,
                output: 1,
                inputs: vec![(0, 1.2)],
                cost: 0.0,
                capacity: Some(60.0),
            },
        ],
    }
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn the_calibrated_market_reproduces_its_base_year() {
    let base = ore_to_metal();
    let cal = calibrate(&base).unwrap();
    let sol = solve_reference(&cal.market, &ReferenceOptions::default()).unwrap();
    assert_eq!(sol.status, SolveStatus::Optimal);
    // Prices are unique where a curve pins them: at every node with base data.
    for n in &base.nodes {
        let i = cal.market.node(n.region, n.good);
        close(sol.prices[i], cal.prices[i], "price");
    }
    let supplied = sol.node_supply(&cal.market);
    let demanded = sol.node_demand(&cal.market);
    for n in &base.nodes {
        let i = cal.market.node(n.region, n.good);
        close(supplied[i], n.production, "production");
        close(demanded[i], n.consumption, "consumption");
    }
    close(sol.activity[0], 40.0, "refinery A output");
    close(sol.activity[1], 60.0, "refinery C output");
    // Production shares are the base shares: A mines 2/3 of the ore.
    close(
        supplied[0] / (supplied[0] + supplied[cal.market.node(1, 0)]),
        2.0 / 3.0,
        "share",
    );
    // Base prices are as close as they can be to the reference prices: where no margin
    // constraint binds, a good's volume-weighted mean (volume: production, consumption,
    // processing output and input at the node) is its reference price.
    let metal_mean = (60.0 * cal.prices[cal.market.node(0, 1)]
        + 50.0 * cal.prices[cal.market.node(1, 1)]
        + 90.0 * cal.prices[cal.market.node(2, 1)])
        / 200.0;
    close(metal_mean, 400.0, "reference price of metal");
    // Every refinery covers its inputs at base prices, with a margin near the reference one
    // (400 − 1.2 × 100 = 280 per t).
    for p in &cal.market.processes {
        assert!(
            p.cost >= 0.0 && (p.cost - 280.0).abs() < 40.0,
            "{}: margin {}",
            p.name,
            p.cost
        );
    }
}

#[test]
fn a_single_good_calibration_clears_on_the_fast_path_too() {
    let mut base = ore_to_metal();
    base.goods.truncate(1);
    base.prices.truncate(1);
    base.processes.clear();
    base.nodes = vec![
        node(0, 0, 100.0, 10.0),
        node(1, 0, 50.0, 60.0),
        node(2, 0, 0.0, 80.0),
    ];
    base.routes.retain(|r| r.good == 0);
    let cal = calibrate(&base).unwrap();
    let fast = FastSolver::new(&cal.market, FastOptions::default()).solve(&cal.market);
    assert_eq!(fast.solver, SolverPath::Fast);
    let supplied = fast.node_supply(&cal.market);
    let demanded = fast.node_demand(&cal.market);
    for n in &base.nodes {
        let i = cal.market.node(n.region, n.good);
        close(supplied[i], n.production, "production");
        close(demanded[i], n.consumption, "consumption");
        close(fast.prices[i], cal.prices[i], "price");
    }
}

#[test]
fn unbalanced_and_unprofitable_base_years_are_refused() {
    let mut base = ore_to_metal();
    base.nodes[0].production = 120.0;
    assert!(matches!(
        calibrate(&base),
        Err(CalibrationError::Invalid(m)) if m.contains("ore")
    ));
    // Ore dearer than the metal it makes: refining loses money at base prices.
    let mut base = ore_to_metal();
    base.prices = vec![500.0, 400.0];
    assert!(matches!(
        calibrate(&base),
        Err(CalibrationError::NegativeMargin { .. })
    ));
}
