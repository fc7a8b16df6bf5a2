//! Processes with several inputs, on both paths: hand-solved markets (each derivation in the
//! comments) and a magnet-like world cleared quarter after quarter with warm starts.

use chokepoint_equilibrium::{
    FastOptions, FastSolver, Market, Process, ReferenceOptions, Solution, SolveStatus, SolverPath,
    solve_reference,
};

mod common;

use common::{close, demand, pinned, route_for as route, solve_both, supply};

/// A magnet plant: one unit of good 2 from 2 units of good 0 and 1 unit of good 1, at cost 5.
fn plant(region: usize, capacity: Option<f64>) -> Process {
    Process {
        name: format!("plant {region}"),
        region,
        output: 2,
        inputs: vec![(0, 2.0), (1, 1.0)],
        cost: 5.0,
        capacity,
    }
}

/// Solves on both paths (see [`solve_both`]), which must also agree on every activity here
/// (each plant's output is unique in these markets); returns the fast solution.
fn both(m: &Market) -> Solution {
    let (r, f) = solve_both(m);
    for (a, b) in f.activity.iter().zip(&r.activity) {
        close(*a, *b, "fast vs reference activity");
    }
    f
}

/// One region. Inputs A (supply p = 10 + q) and B (supply p = 20 + 2q), magnets M (demand
/// p = 200 − q); the plant makes x magnets from 2x of A and x of B at cost 5. Then
/// p_A = 10 + 2x, p_B = 20 + 2x, p_M = 200 − x, and the plant breaks even:
/// 200 − x = 2(10 + 2x) + (20 + 2x) + 5 = 45 + 6x ⇒ x = 155/7.
fn one_region() -> Market {
    Market {
        regions: vec!["P".into()],
        goods: vec!["A".into(), "B".into(), "M".into()],
        supply: vec![supply(0, 0, 10.0, 1.0), supply(0, 1, 20.0, 2.0)],
        demand: vec![demand(0, 2, 200.0, 1.0)],
        processes: vec![plant(0, None)],
        ..Market::default()
    }
}

#[test]
fn a_plant_with_two_inputs_breaks_even() {
    let m = one_region();
    let s = both(&m);
    let x = 155.0 / 7.0;
    close(s.activity[0], x, "magnets made");
    close(s.price(&m, 0, 0), 10.0 + 2.0 * x, "price of A");
    close(s.price(&m, 0, 1), 20.0 + 2.0 * x, "price of B");
    close(s.price(&m, 0, 2), 200.0 - x, "price of M");
    close(s.supply[0], 2.0 * x, "A used");
    close(s.supply[1], x, "B used");
    assert!(s.max_violation <= 1e-9);
}

#[test]
fn a_plant_with_two_inputs_at_capacity_earns_a_rent() {
    // Capacity 15 < 155/7: x = 15, p_A = 40, p_B = 50, p_M = 185, and the capacity's rent
    // is 185 − 2·40 − 50 − 5 = 50 per magnet.
    let mut m = one_region();
    m.processes[0].capacity = Some(15.0);
    let s = both(&m);
    close(s.activity[0], 15.0, "capacity binds");
    close(s.price(&m, 0, 0), 40.0, "price of A");
    close(s.price(&m, 0, 1), 50.0, "price of B");
    close(s.price(&m, 0, 2), 185.0, "price of M");
    close(s.process_shadow[0], 50.0, "rent per magnet");
}

#[test]
fn an_input_brought_in_from_a_region_that_makes_it() {
    // B is mined only in S (p = 20 + 2q) and moves S → P at cost 3; P has no market for B at
    // all. p_B(P) = 23 + 2x ⇒ 200 − x = 2(10 + 2x) + 23 + 2x + 5 = 48 + 6x ⇒ x = 152/7,
    // all of it shipped.
    let m = Market {
        regions: vec!["S".into(), "P".into()],
        goods: vec!["A".into(), "B".into(), "M".into()],
        supply: vec![supply(1, 0, 10.0, 1.0), supply(0, 1, 20.0, 2.0)],
        demand: vec![demand(1, 2, 200.0, 1.0)],
        routes: vec![route(0, 1, 1, 3.0)],
        processes: vec![plant(1, None)],
        ..Market::default()
    };
    let s = both(&m);
    let x = 152.0 / 7.0;
    close(s.activity[0], x, "magnets made");
    close(s.flows[0], x, "B shipped");
    close(s.price(&m, 0, 1), 20.0 + 2.0 * x, "price of B at the mine");
    close(s.price(&m, 1, 1), 23.0 + 2.0 * x, "price of B at the plant");
    close(s.price(&m, 1, 2), 200.0 - x, "price of M");
}

#[test]
fn two_plants_share_an_input_from_one_mine() {
    // B comes only from S (p = 20 + q) at cost 3 to P1 and to P2, each with its own A
    // (p = 10 + q) and magnet demand (P1: p = 200 − q, P2: p = 160 − q). With x1, x2 made,
    // p_B at either plant = 23 + x1 + x2 and each plant breaks even:
    // 200 − x1 = 2(10 + 2x1) + 23 + x1 + x2 + 5 ⇒ 6x1 + x2 = 152,
    // 160 − x2 = 2(10 + 2x2) + 23 + x1 + x2 + 5 ⇒ x1 + 6x2 = 112,
    // ⇒ x1 = 160/7, x2 = 104/7.
    let m = Market {
        regions: vec!["S".into(), "P1".into(), "P2".into()],
        goods: vec!["A".into(), "B".into(), "M".into()],
        supply: vec![
            supply(0, 1, 20.0, 1.0),
            supply(1, 0, 10.0, 1.0),
            supply(2, 0, 10.0, 1.0),
        ],
        demand: vec![demand(1, 2, 200.0, 1.0), demand(2, 2, 160.0, 1.0)],
        routes: vec![route(0, 1, 1, 3.0), route(0, 2, 1, 3.0)],
        processes: vec![plant(1, None), plant(2, None)],
        ..Market::default()
    };
    let s = both(&m);
    let (x1, x2) = (160.0 / 7.0, 104.0 / 7.0);
    close(s.activity[0], x1, "magnets made in P1");
    close(s.activity[1], x2, "magnets made in P2");
    close(s.price(&m, 0, 1), 20.0 + x1 + x2, "price of B at the mine");
    close(s.price(&m, 1, 2), 200.0 - x1, "price of M in P1");
    close(s.price(&m, 2, 2), 160.0 - x2, "price of M in P2");
}

#[test]
fn a_plant_drains_an_input_whose_supply_is_capped() {
    // B's only supply is capped at 10 (p = 20 + 2q up to q = 10) and nobody else wants B:
    // with the plant unconstrained (x = 155/7 > 10 would need more B) it uses all 10, and
    // the price of B is whatever makes the plant break even at x = 10:
    // p_M = 190, p_A = 30 ⇒ p_B = 190 − 60 − 5 = 125, above B's own marginal cost of 40.
    let mut m = one_region();
    m.supply[1].capacity = Some(10.0);
    let s = both(&m);
    close(s.activity[0], 10.0, "magnets made");
    close(s.price(&m, 0, 1), 125.0, "price of B");
    close(s.supply[1], 10.0, "all of B used");
}

/// A magnet-like world over `regions` regions: oxide (good 0) mined in a few regions and
/// refined to metal (good 1) by single-input plants; dysprosium (good 2) from one mine;
/// magnets (good 3) made where there is demand, from 0.31 t metal and 0.009 t Dy per tonne,
/// in regions that mostly have no market for metal or Dy of their own.
fn magnet_world(regions: usize) -> Market {
    let goods = vec!["oxide".into(), "metal".into(), "dy".into(), "magnet".into()];
    let mut m = Market {
        regions: (0..regions).map(|r| format!("R{r}")).collect(),
        goods,
        ..Market::default()
    };
    for r in 0..regions {
        if r % 3 == 0 {
            m.supply.push(supply(r, 0, 20.0 + r as f64, 0.5));
            m.processes.push(Process {
                name: format!("refinery {r}"),
                region: r,
                output: 1,
                inputs: vec![(0, 1.18)],
                cost: 8.0,
                capacity: Some(120.0),
            });
        }
        m.demand.push(demand(r, 3, 150.0 + 5.0 * r as f64, 0.4));
        m.processes.push(Process {
            name: format!("magnets {r}"),
            region: r,
            output: 3,
            inputs: vec![(1, 0.31), (2, 0.009)],
            cost: 30.0,
            capacity: (r % 2 == 0).then_some(150.0),
        });
    }
    m.supply.push(supply(0, 2, 200.0, 20.0));
    m.demand.push(demand(1, 0, 60.0, 1.0));
    for a in 0..regions {
        for b in 0..regions {
            if a != b {
                for g in 0..4 {
                    m.routes
                        .push(route(a, b, g, 1.0 + (a + 2 * b) as f64 % 5.0));
                }
            }
        }
    }
    m
}

#[test]
fn a_magnet_world_clears_warm_quarter_after_quarter() {
    let base = magnet_world(6);
    let mut solver = FastSolver::new(&base, FastOptions::default());
    for quarter in 0..12 {
        let mut m = base.clone();
        let f = (quarter as f64 * 0.7).sin();
        for d in &mut m.demand {
            d.intercept *= 1.0 + 0.05 * f;
        }
        m.supply.last_mut().expect("dy mine").intercept *= 1.0 + 0.3 * f.abs();
        let fast = solver.solve(&m);
        assert_eq!(
            fast.solver,
            SolverPath::Fast,
            "quarter {quarter}: {:?}",
            solver.last_fallback
        );
        let r = solve_reference(&m, &ReferenceOptions::default()).expect("valid");
        assert_eq!(r.status, SolveStatus::Optimal);
        // Prices are unique where an active step pins them; oxide in a region that neither
        // mines nor uses it may sit anywhere its routes allow.
        for i in pinned(&m, &r) {
            close(fast.prices[i], r.prices[i], "price");
        }
        close(fast.welfare.total, r.welfare.total, "welfare");
        for (a, b) in fast.activity.iter().zip(&r.activity) {
            close(*a, *b, "activity");
        }
        let magnets: f64 = m
            .processes
            .iter()
            .zip(&fast.activity)
            .filter(|(p, _)| p.output == 3)
            .map(|(_, x)| x)
            .sum();
        assert!(magnets > 1.0, "quarter {quarter}: no magnets made");
    }
}
