//! Known-answer tests of the reference path: hand-solved markets (each derivation in the
//! comments), a tariff and its equivalent quota, export licensing, processing, and failures.

use chokepoint_equilibrium::{
    DemandStep, ExportShare, FastOptions, FastSolver, FixedDemand, Market, Process, Quota,
    ReferenceOptions, Route, Solution, SolveStatus, SolverPath, SupplyStep, solve_reference,
};

mod common;

use common::{close, demand, solve_both, supply};

/// A route for good 0.
fn route(from: usize, to: usize, cost: f64) -> Route {
    common::route_for(from, to, 0, cost)
}

/// Two regions, one good. A: supply p = 2 + q, demand p = 20 − q; B: supply p = 8 + q,
/// demand p = 30 − q; route A → B at cost 2.
/// Autarky: A clears at p = 11, B at p = 19; the gap 8 exceeds the cost, so A exports.
/// Excess supply E_A(p) = 2p − 22, E_B(p) = 2p − 38; with p_B = p_A + 2:
/// 2p − 22 = −(2(p + 2) − 38) ⇒ p_A = 14, p_B = 16, x = 6.
fn two_regions() -> Market {
    Market {
        regions: vec!["A".into(), "B".into()],
        goods: vec!["g".into()],
        supply: vec![supply(0, 0, 2.0, 1.0), supply(1, 0, 8.0, 1.0)],
        demand: vec![demand(0, 0, 20.0, 1.0), demand(1, 0, 30.0, 1.0)],
        routes: vec![route(0, 1, 2.0)],
        ..Market::default()
    }
}

/// Solves on both paths (see [`solve_both`]) and returns the reference solution.
fn solve(m: &Market) -> Solution {
    solve_both(m).0
}

#[test]
fn two_region_free_trade() {
    let m = two_regions();
    let s = solve(&m);
    close(s.price(&m, 0, 0), 14.0, "p_A");
    close(s.price(&m, 1, 0), 16.0, "p_B");
    close(s.flows[0], 6.0, "flow");
    close(s.supply[0], 12.0, "supply A");
    close(s.demand[1], 14.0, "demand B");
    assert!(s.max_violation < 1e-7);
    // Welfare: CS_A = ½·6², CS_B = ½·14², PS_A = ½·12², PS_B = ½·8², transport 2·6.
    close(s.welfare.consumer_surplus, 18.0 + 98.0, "CS");
    close(s.welfare.producer_surplus, 72.0 + 32.0, "PS");
    close(s.welfare.transport_cost, 12.0, "transport");
    close(s.welfare.total, 220.0, "total");
}

#[test]
fn tariff_and_equivalent_quota_give_the_same_prices() {
    // Tariff 2: p_B = p_A + 4 ⇒ 2p − 22 = −(2p + 8 − 38) ⇒ p_A = 13, p_B = 17, x = 4.
    let mut with_tariff = two_regions();
    with_tariff.routes[0].tariff = 2.0;
    let t = solve(&with_tariff);
    close(t.price(&with_tariff, 0, 0), 13.0, "p_A tariff");
    close(t.price(&with_tariff, 1, 0), 17.0, "p_B tariff");
    close(t.flows[0], 4.0, "flow tariff");
    close(t.welfare.tariff_revenue, 8.0, "tariff revenue to the state");
    close(t.welfare.constraint_rent, 0.0, "no quota rent");

    // A quota of 4 on the same route: same flow, same prices; the wedge of 2 is now a quota
    // rent of 2 × 4 = 8 to the quota holders instead of revenue to the state.
    let mut with_quota = two_regions();
    with_quota.quotas.push(Quota {
        name: "A→B quota".into(),
        routes: vec![0],
        limit: 4.0,
    });
    let q = solve(&with_quota);
    close(q.price(&with_quota, 0, 0), 13.0, "p_A quota");
    close(q.price(&with_quota, 1, 0), 17.0, "p_B quota");
    close(q.flows[0], 4.0, "flow quota");
    close(q.quota_shadow[0], 2.0, "quota shadow price");
    close(q.welfare.tariff_revenue, 0.0, "no tariff revenue");
    close(q.welfare.constraint_rent, 8.0, "quota rent");
    close(q.welfare.total, t.welfare.total, "same total welfare");
}

#[test]
fn route_capacity_and_ban() {
    // Capacity 3 < 6: A: 2p − 22 = 3 ⇒ p_A = 12.5; B: 2p − 38 = −3 ⇒ p_B = 17.5;
    // capacity rent 17.5 − 12.5 − 2 = 3 per unit.
    let mut m = two_regions();
    m.routes[0].capacity = Some(3.0);
    let s = solve(&m);
    close(s.price(&m, 0, 0), 12.5, "p_A");
    close(s.price(&m, 1, 0), 17.5, "p_B");
    close(s.route_shadow[0], 3.0, "capacity shadow");
    // A ban restores autarky: 11 and 19.
    let mut m = two_regions();
    m.routes[0].banned = true;
    let s = solve(&m);
    close(s.price(&m, 0, 0), 11.0, "p_A autarky");
    close(s.price(&m, 1, 0), 19.0, "p_B autarky");
    assert_eq!(s.flows[0], 0.0);
}

#[test]
fn export_licensing_share_cap() {
    // Exports from A ≤ 0.25 × A's production. Each unit produced carries a licence worth
    // 0.25·λ, so A's producers see p_A + 0.25λ. With s = p_A + 0.25λ − 2, d = 20 − p_A,
    // s − d = x = 0.25 s, p_B = 19 − x/2 and p_B − p_A = 2 + λ:
    // s = 69/6.375, p_A = 20 − 0.75 s, λ = 7 s − 72, x = s/4.
    let mut m = two_regions();
    m.export_shares.push(ExportShare {
        name: "A licensed exports".into(),
        region: 0,
        good: 0,
        routes: vec![0],
        share: 0.25,
    });
    let sol = solve(&m);
    let s = 69.0 / 6.375;
    close(sol.supply[0], s, "supply A");
    close(sol.price(&m, 0, 0), 20.0 - 0.75 * s, "p_A");
    close(sol.share_shadow[0], 7.0 * s - 72.0, "licence shadow price");
    close(sol.flows[0], s / 4.0, "licensed exports");
    close(sol.price(&m, 1, 0), 19.0 - s / 8.0, "p_B");
    assert!(sol.max_violation < 1e-7);
}

#[test]
fn processing_links_goods() {
    // Good 0 = oxide, good 1 = magnet. O (region 0) mines oxide p = 10 + q; M (region 1)
    // makes magnets from 0.3 t oxide each at cost 5; magnet demand in M p = 100 − q; oxide
    // moves O → M at cost 1.
    // p_m = 0.3 (p_o + 1) + 5; y = 100 − p_m; oxide s = 0.3 y = p_o − 10
    // ⇒ 1.09 p_o = 38.41.
    let mut m = Market {
        regions: vec!["O".into(), "M".into()],
        goods: vec!["oxide".into(), "magnet".into()],
        supply: vec![supply(0, 0, 10.0, 1.0)],
        demand: vec![demand(1, 1, 100.0, 1.0)],
        routes: vec![route(0, 1, 1.0)],
        processes: vec![Process {
            name: "magnet making".into(),
            region: 1,
            output: 1,
            inputs: vec![(0, 0.3)],
            cost: 5.0,
            capacity: None,
        }],
        ..Market::default()
    };
    let s = solve(&m);
    let p_o = 38.41 / 1.09;
    close(s.price(&m, 0, 0), p_o, "oxide price at O");
    close(s.price(&m, 1, 0), p_o + 1.0, "oxide price at M");
    close(s.price(&m, 1, 1), 0.3 * (p_o + 1.0) + 5.0, "magnet price");
    close(s.activity[0], 94.7 - 0.3 * p_o, "magnets made");
    // A ban on oxide to M leaves only a costly domestic oxide (p = 40 + 2q): the magnet
    // price rises. Then p_oM = 40 + 2·0.3y and p_m = 0.3 p_oM + 5 = 100 − y
    // ⇒ y (1 + 0.18) = 83 ⇒ y = 83/1.18.
    m.supply.push(supply(1, 0, 40.0, 2.0));
    m.routes[0].banned = true;
    let b = solve(&m);
    let y = 83.0 / 1.18;
    close(b.activity[0], y, "magnets after ban");
    close(b.price(&m, 1, 1), 100.0 - y, "magnet price after ban");
    assert!(b.price(&m, 1, 1) > s.price(&m, 1, 1));
    // Process capacity below demand earns a rent.
    m.processes[0].capacity = Some(50.0);
    let c = solve(&m);
    close(c.activity[0], 50.0, "capacity binds");
    close(c.price(&m, 1, 1), 50.0, "magnet price at capacity");
    let oxide = 40.0 + 2.0 * 15.0;
    close(
        c.process_shadow[0],
        50.0 - 0.3 * oxide - 5.0,
        "capacity rent per magnet",
    );
}

#[test]
fn stepped_curves_make_stockpiles() {
    // One region, demand p = 20 − q, supply p = 2 + q: clears at q = 9, p = 11.
    // A stockpile that buys up to 4 units at a floor of 12 (a flat demand step): price rises
    // to the floor, producers sell 10, consumers take 8, the stockpile 2.
    let mut m = Market {
        regions: vec!["A".into()],
        goods: vec!["g".into()],
        supply: vec![supply(0, 0, 2.0, 1.0)],
        demand: vec![
            demand(0, 0, 20.0, 1.0),
            DemandStep {
                capacity: Some(4.0),
                ..demand(0, 0, 12.0, 0.0)
            },
        ],
        ..Market::default()
    };
    let s = solve(&m);
    close(s.price(&m, 0, 0), 12.0, "floor price");
    close(s.demand[1], 2.0, "stockpile purchase");
    // A release of up to 3 units above a ceiling of 14 when demand jumps to p = 30 − q:
    // without it p = 16 (q = 14); with it the price stops at 14 only if 3 units suffice:
    // supply 12 at p = 14, demand 16: gap 4 > 3, so price = 30 − (12 + p − 2... ) solve:
    // q_d = 30 − p, q_s = p − 2, release 3: 30 − p = p − 2 + 3 ⇒ p = 14.5.
    m.demand = vec![demand(0, 0, 30.0, 1.0)];
    m.supply.push(SupplyStep {
        capacity: Some(3.0),
        ..supply(0, 0, 14.0, 0.0)
    });
    let r = solve(&m);
    close(r.price(&m, 0, 0), 14.5, "price with release");
    close(r.supply[1], 3.0, "released");
}

#[test]
fn infeasible_and_unbounded_are_statuses() {
    // B must receive 10 but the only route carries 5.
    let mut m = two_regions();
    m.supply.truncate(1);
    m.routes[0].capacity = Some(5.0);
    m.fixed_demand.push(FixedDemand {
        region: 1,
        good: 0,
        quantity: 10.0,
    });
    let s = solve_reference(&m, &ReferenceOptions::default()).unwrap();
    assert_eq!(s.status, SolveStatus::Infeasible);
    assert!(s.prices.iter().all(|p| p.is_nan()));
    let f = FastSolver::new(&m, FastOptions::default()).solve(&m);
    assert_eq!(f.status, SolveStatus::Infeasible);
    assert_eq!(
        f.solver,
        SolverPath::Fast,
        "the fast path detects it itself"
    );
    // Free, unlimited supply meeting perfectly elastic, unlimited demand.
    let m = Market {
        regions: vec!["A".into()],
        goods: vec!["g".into()],
        supply: vec![supply(0, 0, 1.0, 0.0)],
        demand: vec![demand(0, 0, 5.0, 0.0)],
        ..Market::default()
    };
    let s = solve_reference(&m, &ReferenceOptions::default()).unwrap();
    assert_eq!(s.status, SolveStatus::Unbounded);
}

#[test]
fn invalid_markets_are_errors_not_statuses() {
    let mut m = two_regions();
    m.routes.push(route(0, 7, 1.0));
    m.demand[0].slope = -1.0;
    let errs = solve_reference(&m, &ReferenceOptions::default()).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
}

/// Three regions, one good, every ordered pair a route: inverse supply p = a_s + b_s q,
/// inverse demand p = a_d − b_d q, `cost[i][j]` the unit cost from i to j.
fn three_region(
    a_s: [f64; 3],
    b_s: [f64; 3],
    a_d: [f64; 3],
    b_d: [f64; 3],
    cost: [[f64; 3]; 3],
) -> Market {
    let mut m = Market {
        regions: vec!["1".into(), "2".into(), "3".into()],
        goods: vec!["g".into()],
        ..Market::default()
    };
    for r in 0..3 {
        m.supply.push(supply(r, 0, a_s[r], b_s[r]));
        m.demand.push(demand(r, 0, a_d[r], b_d[r]));
        for (t, c) in cost[r].iter().enumerate() {
            if t != r {
                m.routes.push(route(r, t, *c));
            }
        }
    }
    m
}

#[test]
fn compecon_spatial_equilibrium_notebook() {
    // Miranda & Fackler, CompEcon, "Spatial Equilibrium Model" (Python notebook by R. Romero
    // Aguilar, randall-romero/CompEcon, notebooks/slv/14): supply p = 9+q, 3+2q, 18+q;
    // demand p = 42−2q, 54−3q, 51−q; the notebook applies its cost table c = [0 3 9; 3 0 3;
    // 6 3 0] as c[destination][origin]. Published: prices 24, 27, 30; net exports 6, 3, −9.
    // (Flows are not unique: 1→3 directly costs 6, as does 1→2→3.)
    let c = [[0.0, 3.0, 9.0], [3.0, 0.0, 3.0], [6.0, 3.0, 0.0]];
    let cost = [
        [0.0, c[1][0], c[2][0]],
        [c[0][1], 0.0, c[2][1]],
        [c[0][2], c[1][2], 0.0],
    ];
    let m = three_region(
        [9.0, 3.0, 18.0],
        [1.0, 2.0, 1.0],
        [42.0, 54.0, 51.0],
        [2.0, 3.0, 1.0],
        cost,
    );
    let s = solve(&m);
    for (r, p) in [24.0, 27.0, 30.0].into_iter().enumerate() {
        close(s.price(&m, r, 0), p, "price");
    }
    let supplied = s.node_supply(&m);
    let demanded = s.node_demand(&m);
    for (r, (q_s, q_d)) in [(15.0, 9.0), (12.0, 9.0), (12.0, 21.0)]
        .into_iter()
        .enumerate()
    {
        close(supplied[r], q_s, "supply");
        close(demanded[r], q_d, "demand");
    }
    // Net social payoff (surplus minus transport cost) computed by the authors' data: 751.5.
    close(s.welfare.total, 751.5, "net social payoff");
}

#[test]
fn compecon_demslv13_matlab_data() {
    // The MATLAB demo demslv13 (same book) uses demand slopes 3, 2, 1 and c[origin][dest].
    // Its unique solution (exact fractions, checked by two independent solvers): prices
    // 633/26, 711/26, 789/26; flows 1→2 123/13, 2→3 108/13; net social payoff 81639/104.
    let cost = [[0.0, 3.0, 9.0], [3.0, 0.0, 3.0], [6.0, 3.0, 0.0]];
    let m = three_region(
        [9.0, 3.0, 18.0],
        [1.0, 2.0, 1.0],
        [42.0, 54.0, 51.0],
        [3.0, 2.0, 1.0],
        cost,
    );
    let s = solve(&m);
    for (r, p) in [633.0 / 26.0, 711.0 / 26.0, 789.0 / 26.0]
        .into_iter()
        .enumerate()
    {
        close(s.price(&m, r, 0), p, "price");
    }
    let flow = |from: usize, to: usize| {
        m.routes
            .iter()
            .position(|r| r.from == from && r.to == to)
            .map(|i| s.flows[i])
            .unwrap()
    };
    close(flow(0, 1), 123.0 / 13.0, "flow 1→2");
    close(flow(1, 2), 108.0 / 13.0, "flow 2→3");
    for (a, b) in [(0, 2), (1, 0), (2, 0), (2, 1)] {
        close(flow(a, b), 0.0, "unused route");
    }
    close(s.welfare.total, 81639.0 / 104.0, "net social payoff");
}

#[test]
fn takayama_judge_spatequ_as_in_the_gams_library() {
    // GAMS model library SPATEQU (Takayama & Judge 1964 example, 2 goods × 3 regions), as
    // coded: Q_d = αD + ΣβD·P and Q_s = αS + ΣβS·P where the cross terms multiply the same
    // good's price, so each good clears alone with slopes equal to the row sums.
    // Demand slopes (dQ/dP): Reg1 (−9, −9), Reg2 (−4, −19), Reg3 (−7, −9); intercepts
    // αD = (200, 300), (100, 200), (160, 250). Supply: αS = (−50, −60) everywhere, slopes
    // Reg1/Reg3 (10.5, 15.5), Reg2 (20.5, 25.5). Transport symmetric: 1–2 (2, 3), 1–3 (2, 3),
    // 2–3 (1, 2). Equilibrium (GAMS MCP/LP/NLP; NLP objective 7906.9463 in the published
    // run log): prices Reg1 (11, 128/11), Reg2 (9, 95/11), Reg3 (10, 117/11); flows 2→1
    // (35.5, 824/11), 2→3 (35, 1087/22); transport cost 4725/11.
    let alpha_d = [[200.0, 300.0], [100.0, 200.0], [160.0, 250.0]];
    let beta_d = [[9.0, 9.0], [4.0, 19.0], [7.0, 9.0]];
    let alpha_s = [-50.0, -60.0];
    let beta_s = [[10.5, 15.5], [20.5, 25.5], [10.5, 15.5]];
    let tcost = [
        ((0, 1), [2.0, 3.0]),
        ((0, 2), [2.0, 3.0]),
        ((1, 2), [1.0, 2.0]),
    ];
    let mut m = Market {
        regions: vec!["Reg1".into(), "Reg2".into(), "Reg3".into()],
        goods: vec!["Com1".into(), "Com2".into()],
        ..Market::default()
    };
    for r in 0..3 {
        for g in 0..2 {
            // Q = α + βP  ⇔  P = −α/β + Q/β.
            m.demand.push(demand(
                r,
                g,
                alpha_d[r][g] / beta_d[r][g],
                1.0 / beta_d[r][g],
            ));
            m.supply
                .push(supply(r, g, -alpha_s[g] / beta_s[r][g], 1.0 / beta_s[r][g]));
        }
    }
    for ((a, b), costs) in tcost {
        for (g, c) in costs.into_iter().enumerate() {
            for (from, to) in [(a, b), (b, a)] {
                m.routes.push(Route {
                    good: g,
                    ..route(from, to, c)
                });
            }
        }
    }
    let s = solve(&m);
    let expected = [
        [11.0, 128.0 / 11.0],
        [9.0, 95.0 / 11.0],
        [10.0, 117.0 / 11.0],
    ];
    for (r, row) in expected.iter().enumerate() {
        for (g, p) in row.iter().enumerate() {
            close(s.price(&m, r, g), *p, "price");
        }
    }
    let flow = |from: usize, to: usize, good: usize| {
        m.routes
            .iter()
            .position(|r| r.from == from && r.to == to && r.good == good)
            .map(|i| s.flows[i])
            .unwrap()
    };
    close(flow(1, 0, 0), 35.5, "Com1 2→1");
    close(flow(1, 2, 0), 35.0, "Com1 2→3");
    close(flow(1, 0, 1), 824.0 / 11.0, "Com2 2→1");
    close(flow(1, 2, 1), 1087.0 / 22.0, "Com2 2→3");
    close(s.welfare.transport_cost, 4725.0 / 11.0, "transport cost");
    let demanded = s.node_demand(&m);
    close(demanded[m.node(0, 0)], 101.0, "Reg1 Com1 demand");
    close(demanded[m.node(1, 0)], 64.0, "Reg2 Com1 demand");
}

#[test]
fn empty_stockpile_steps_are_harmless() {
    // A stockpile with nothing to release (a flat supply step of zero capacity, priced below
    // the market) and no room to buy (a flat demand step of zero capacity, priced above it)
    // leaves the two-region answer unchanged: p_A = 14, p_B = 16.
    let mut m = two_regions();
    m.supply.push(SupplyStep {
        capacity: Some(0.0),
        ..supply(1, 0, 5.0, 0.0)
    });
    m.demand.push(DemandStep {
        capacity: Some(0.0),
        ..demand(1, 0, 50.0, 0.0)
    });
    let s = solve(&m);
    close(s.price(&m, 0, 0), 14.0, "p_A");
    close(s.price(&m, 1, 0), 16.0, "p_B");
}
