//! Property tests: on thousands of random markets the fast path and the reference QP path
//! agree (prices and quantities to 1e-6 relative), report infeasible markets as infeasible,
//! and the fast path almost never needs to hand a market over. Markets have one to three
//! goods: with two, plants turn good 0 into good 1; with three, plants turn goods 0 and 1
//! together into good 2 (a process with two inputs), beside some turning good 0 into good 1.

use std::sync::atomic::{AtomicUsize, Ordering};

use chokepoint_equilibrium::{
    DemandStep, ExportShare, FastOptions, FastSolver, FixedDemand, Market, Quota, ReferenceOptions,
    Route, SolveStatus, SolverPath, SupplyStep, check, hub_quotas, solve_reference,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

mod common;

/// A drawn route: from, to, good, cost, tariff, capacity, banned.
type RouteDraw = (usize, usize, usize, f64, f64, Option<f64>, bool);

/// Raw draws for one market; `build` turns them into a valid market.
#[derive(Debug, Clone)]
struct Draw {
    regions: usize,
    goods: usize,
    steps: Vec<(f64, f64, Option<f64>, bool)>,
    routes: Vec<RouteDraw>,
    quotas: Vec<(Vec<usize>, f64)>,
    share: Option<(usize, f64)>,
    fixed: Vec<(usize, f64)>,
    /// Plants: region, input per output, cost, capacity, and (with three goods) whether the
    /// plant has the single input good 0 (making good 1) rather than goods 0 and 1 (making
    /// good 2).
    processes: Vec<(usize, f64, f64, Option<f64>, bool)>,
    /// Units of good 1 per unit of good 2 in two-input plants.
    second_input: f64,
}

fn draw(max_regions: usize) -> impl Strategy<Value = Draw> {
    draw_goods(max_regions, 1..=3)
}

fn draw_goods(
    max_regions: usize,
    goods: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Draw> {
    (2..=max_regions, goods).prop_flat_map(|(regions, goods)| {
        let nodes = regions * goods;
        (
            // Per node: supply (intercept 0–50, slope 0.05–5, maybe a cap, maybe flat);
            // demand (intercept 60–150, slope 0.05–5, maybe a cap).
            prop::collection::vec(
                (
                    0.0..50.0f64,
                    0.05..5.0f64,
                    prop::option::weighted(0.3, 5.0..200.0f64),
                    prop::bool::weighted(0.1),
                ),
                nodes * 2,
            ),
            prop::collection::vec(
                (
                    0..regions,
                    0..regions,
                    0..goods,
                    0.0..20.0f64,
                    prop::bool::weighted(0.2).prop_map(|t| if t { 3.0f64 } else { 0.0 }),
                    prop::option::weighted(0.25, 1.0..60.0f64),
                    prop::bool::weighted(0.05),
                ),
                1..(regions * regions * goods).min(40),
            ),
            prop::collection::vec(
                (prop::collection::vec(0..64usize, 1..4), 0.0..80.0f64),
                0..3,
            ),
            prop::option::weighted(0.3, (0..64usize, 0.0..1.0f64)),
            prop::collection::vec(
                (
                    0..regions,
                    0.2..2.0f64,
                    0.0..20.0f64,
                    prop::option::weighted(0.3, 1.0..40.0f64),
                    prop::bool::weighted(0.25),
                ),
                0..=(if goods == 3 { 4 } else { 2 }),
            ),
            0.05..1.5f64,
        )
            .prop_map(
                move |(steps, routes, quotas, share, processes, second_input)| Draw {
                    regions,
                    goods,
                    steps,
                    routes: routes
                        .into_iter()
                        .map(|(a, b, g, c, t, cap, ban)| (a, b, g, c, t.abs(), cap, ban))
                        .collect(),
                    quotas,
                    share,
                    fixed: Vec::new(),
                    processes: if goods >= 2 { processes } else { Vec::new() },
                    second_input,
                },
            )
    })
}

fn build(d: &Draw) -> Market {
    let mut m = Market {
        regions: (0..d.regions).map(|r| format!("R{r}")).collect(),
        goods: (0..d.goods).map(|g| format!("G{g}")).collect(),
        ..Market::default()
    };
    for node in 0..d.regions * d.goods {
        let (region, good) = (node / d.goods, node % d.goods);
        let (si, ss, scap, flat) = d.steps[2 * node];
        m.supply.push(SupplyStep {
            region,
            good,
            intercept: si,
            slope: ss,
            capacity: scap,
        });
        if flat {
            // A flat stockpile release above the elastic supply's start.
            m.supply.push(SupplyStep {
                region,
                good,
                intercept: si + 30.0,
                slope: 0.0,
                capacity: Some(scap.unwrap_or(20.0)),
            });
        }
        let (di, ds, dcap, flat_d) = d.steps[2 * node + 1];
        m.demand.push(DemandStep {
            region,
            good,
            intercept: 60.0 + 1.8 * di,
            slope: ds,
            capacity: dcap,
        });
        if flat_d {
            // A flat stockpile purchase below a floor.
            m.demand.push(DemandStep {
                region,
                good,
                intercept: 40.0 + di,
                slope: 0.0,
                capacity: Some(dcap.unwrap_or(15.0)),
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    for &(a, b, g, cost, tariff, cap, banned) in &d.routes {
        if a == b || !seen.insert((a, b, g)) {
            continue;
        }
        m.routes.push(Route {
            from: a,
            to: b,
            good: g,
            cost,
            tariff,
            capacity: cap,
            banned,
        });
    }
    if !m.routes.is_empty() {
        for (idx, (routes, limit)) in d.quotas.iter().enumerate() {
            let mut rs: Vec<usize> = routes.iter().map(|r| r % m.routes.len()).collect();
            rs.sort_unstable();
            rs.dedup();
            m.quotas.push(Quota {
                name: format!("q{idx}"),
                routes: rs,
                limit: *limit,
            });
        }
        if let Some((r, share)) = d.share {
            let route = &m.routes[r % m.routes.len()];
            let (region, good) = (route.from, route.good);
            let routes: Vec<usize> = m
                .routes
                .iter()
                .enumerate()
                .filter(|(_, x)| x.from == region && x.good == good)
                .map(|(i, _)| i)
                .collect();
            m.export_shares.push(ExportShare {
                name: "licence".into(),
                region,
                good,
                routes,
                share,
            });
        }
    }
    // One recipe per market and output (every plant uses the first draw's input
    // coefficient), as plants making the same good from the same inputs do; costs and
    // capacities differ by plant. With three goods a plant makes good 2 from goods 0 and 1
    // (or, when drawn single, good 1 from good 0).
    let recipe = d.processes.first().map_or(1.0, |p| p.1);
    let mut seen_plant = std::collections::HashSet::new();
    for &(region, _, cost, capacity, single) in &d.processes {
        let single = single || d.goods == 2;
        if seen_plant.insert((region, single)) {
            let (output, inputs) = if single {
                (1, vec![(0, recipe)])
            } else {
                (2, vec![(0, recipe), (1, d.second_input)])
            };
            m.processes.push(chokepoint_equilibrium::Process {
                name: format!("plant {region}"),
                region,
                output,
                inputs,
                cost,
                capacity,
            });
        }
    }
    for &(node, q) in &d.fixed {
        m.fixed_demand.push(FixedDemand {
            region: node / d.goods,
            good: node % d.goods,
            quantity: q,
        });
    }
    m
}

fn price_scale(m: &Market) -> f64 {
    m.demand
        .iter()
        .map(|d| d.intercept.abs())
        .fold(1.0, f64::max)
}

/// A deterministic runner (same markets on every run) that reports the failing market as
/// drawn: shrinking would pull caps and intercepts onto each other and manufacture
/// degenerate markets whose prices are not unique.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 0,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

static FALLBACKS: AtomicUsize = AtomicUsize::new(0);
static SOLVED: AtomicUsize = AtomicUsize::new(0);
/// The same counts over markets with a process of several inputs.
static JOINT_FALLBACKS: AtomicUsize = AtomicUsize::new(0);
static JOINT_SOLVED: AtomicUsize = AtomicUsize::new(0);
static REFERENCE_FAILED: AtomicUsize = AtomicUsize::new(0);

fn compare(m: &Market, count: bool) -> Result<(), TestCaseError> {
    compare_prices_except(m, count, &[])
}

/// [`compare`], but prices at the nodes `loose` (nodes without steps, whose price need not be
/// unique) are not compared (the fast solution still passes `check`).
fn compare_prices_except(m: &Market, count: bool, loose: &[usize]) -> Result<(), TestCaseError> {
    let r = solve_reference(m, &ReferenceOptions::default()).expect("valid");
    let f = FastSolver::new(m, FastOptions::default()).solve(m);
    let joint = m.processes.iter().any(|p| p.inputs.len() > 1);
    if count {
        SOLVED.fetch_add(1, Ordering::Relaxed);
        if joint {
            JOINT_SOLVED.fetch_add(1, Ordering::Relaxed);
        }
    }
    if count && f.solver != SolverPath::Fast {
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
        if joint {
            JOINT_FALLBACKS.fetch_add(1, Ordering::Relaxed);
        }
        if std::env::var_os("CHOKEPOINT_DEBUG_FALLBACK").is_some() {
            let mut solver = FastSolver::new(m, FastOptions::default());
            let _ = solver.solve(m);
            eprintln!("fallback: {:?}\n{m:?}", solver.last_fallback);
        }
    }
    if r.status == SolveStatus::NotConverged {
        // The reference itself failed its checks: nothing to compare against (counted).
        if count {
            REFERENCE_FAILED.fetch_add(1, Ordering::Relaxed);
        }
        return Ok(());
    }
    prop_assert_eq!(f.status, r.status, "statuses differ");
    if r.status != SolveStatus::Optimal {
        return Ok(());
    }
    let ps = price_scale(m);
    if std::env::var_os("CHOKEPOINT_DEBUG_FALLBACK").is_some()
        && (f
            .prices
            .iter()
            .zip(&r.prices)
            .any(|(a, b)| (a - b).abs() > 1e-6 * ps)
            || f.supply
                .iter()
                .zip(&r.supply)
                .any(|(a, b)| (a - b).abs() > 1e-6 * ps))
    {
        eprintln!(
            "mismatch: fast violation {} reference violation {}\nfast {:?} {:?} {:?} {:?}\nref {:?} {:?} {:?} {:?}\n{m:?}",
            f.max_violation,
            r.max_violation,
            f.prices,
            f.supply,
            f.flows,
            f.quota_shadow,
            r.prices,
            r.supply,
            r.flows,
            r.quota_shadow
        );
    }
    for (i, (a, b)) in f.prices.iter().zip(&r.prices).enumerate() {
        if loose.contains(&i) {
            continue;
        }
        prop_assert!(
            (a - b).abs() <= 1e-6 * ps,
            "price {} fast {} reference {} ({:?})",
            i,
            a,
            b,
            f.solver
        );
    }
    let qs = r
        .supply
        .iter()
        .chain(&r.demand)
        .fold(1.0_f64, |x, y| x.max(y.abs()));
    // Quantities are compared through the prices they imply: a step of slope d turns a price
    // difference δ into a quantity difference δ/d, so each gets 1e-6 × (price scale / d) on
    // top of 1e-6 of the quantity scale (flat steps: the quantity scale only).
    let allowed = |slope: f64| {
        if slope > 0.0 {
            1e-6 * (qs + ps / slope)
        } else {
            1e-6 * qs
        }
    };
    for ((a, b), step) in f.supply.iter().zip(&r.supply).zip(&m.supply) {
        prop_assert!(
            (a - b).abs() <= allowed(step.slope),
            "supply fast {} reference {} (violations: fast {}, reference {})",
            a,
            b,
            f.max_violation,
            r.max_violation
        );
    }
    for ((a, b), step) in f.demand.iter().zip(&r.demand).zip(&m.demand) {
        prop_assert!(
            (a - b).abs() <= allowed(step.slope),
            "demand fast {} reference {} (violations: fast {}, reference {})",
            a,
            b,
            f.max_violation,
            r.max_violation
        );
    }
    prop_assert!(f.max_violation <= 1e-6);
    Ok(())
}

#[test]
fn fast_path_agrees_with_reference_on_random_markets() {
    let mut runner = runner(2000);
    let result = runner.run(&draw(8), |d| compare(&build(&d), true));
    if let Err(e) = result {
        panic!("{e}");
    }
    let solved = SOLVED.load(Ordering::Relaxed);
    let fallbacks = FALLBACKS.load(Ordering::Relaxed);
    assert!(solved >= 2000);
    // The fast path must carry its own weight: at most 1% handed to the reference.
    assert!(
        fallbacks * 100 <= solved,
        "{fallbacks} of {solved} solves fell back to the reference path"
    );
    let unchecked = REFERENCE_FAILED.load(Ordering::Relaxed);
    assert!(
        unchecked * 100 <= solved,
        "the reference failed its own checks on {unchecked} of {solved} markets"
    );
    let joint = JOINT_SOLVED.load(Ordering::Relaxed);
    let joint_fallbacks = JOINT_FALLBACKS.load(Ordering::Relaxed);
    // Plants with two inputs are drawn in about a fifth of the markets.
    few_fallbacks(joint_fallbacks, joint, 300, "markets with two-input plants");
    eprintln!(
        "{solved} markets: {fallbacks} fallbacks, {unchecked} reference failures; \
         {joint} with two-input plants: {joint_fallbacks} fallbacks"
    );
}

#[test]
fn infeasible_markets_are_reported_by_both() {
    // Fixed demands that may exceed what supply caps and route caps can deliver.
    let strategy = draw(5).prop_flat_map(|d| {
        let nodes = d.regions * d.goods;
        prop::collection::vec((0..nodes, 10.0..600.0f64), 1..3).prop_map(move |fixed| {
            let mut d = d.clone();
            // Cap every supply so that large fixed demands cannot always be met.
            for s in d.steps.iter_mut().step_by(2) {
                s.2 = Some(s.2.unwrap_or(50.0));
            }
            d.fixed = fixed;
            d
        })
    });
    let mut runner = runner(500);
    let mut infeasible = 0usize;
    let result = runner.run(&strategy, |d| {
        let m = build(&d);
        let r = solve_reference(&m, &ReferenceOptions::default()).expect("valid");
        if r.status == SolveStatus::Infeasible {
            // Counted through a side channel: TestRunner closures are Fn.
            INFEASIBLE.fetch_add(1, Ordering::Relaxed);
        }
        compare(&m, false)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    infeasible += INFEASIBLE.load(Ordering::Relaxed);
    assert!(
        infeasible >= 20,
        "only {infeasible} infeasible markets drawn"
    );
}

static INFEASIBLE: AtomicUsize = AtomicUsize::new(0);

/// Removes every supply and demand step of `good` in `region`.
fn strip(m: &mut Market, region: usize, good: usize) {
    m.supply.retain(|s| (s.region, s.good) != (region, good));
    m.demand.retain(|d| (d.region, d.good) != (region, good));
}

/// Adds a route unless the market has one already.
fn ensure_route(m: &mut Market, from: usize, to: usize, good: usize, cost: f64) {
    if !m
        .routes
        .iter()
        .any(|r| (r.from, r.to, r.good) == (from, to, good))
    {
        m.routes.push(common::route_for(from, to, good, cost));
    }
}

/// At least `min` markets of a kind were drawn, and at most 1% of them fell back.
fn few_fallbacks(fallbacks: usize, solved: usize, min: usize, what: &str) {
    assert!(solved >= min, "only {solved} {what}");
    assert!(
        fallbacks * 100 <= solved,
        "{fallbacks} of {solved} {what} fell back to the reference path"
    );
}

static BARE_SOLVED: AtomicUsize = AtomicUsize::new(0);
static BARE_FALLBACKS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn plants_in_regions_without_a_market_for_an_input_or_the_output() {
    // As in the world model, a region may make a good from inputs it neither produces nor
    // consumes itself (they must come in by route), or make a good it does not use (it must
    // go out): the plant's nodes then have no steps at all.
    let mut runner = runner(300);
    let strategy = (draw_goods(6, 3..=3), any::<[bool; 3]>(), 0.5..5.0f64);
    let result = runner.run(&strategy, |(d, [second, first, output], cost)| {
        let mut m = build(&d);
        let plants: Vec<usize> = m
            .processes
            .iter()
            .filter(|p| p.inputs.len() == 2)
            .map(|p| p.region)
            .collect();
        if plants.is_empty() {
            return Ok(());
        }
        let mut loose = Vec::new();
        for &r in &plants {
            let other = (r + 1) % m.regions.len();
            for (strip_it, good, from, to) in [
                (second, 1, other, r),
                (first, 0, other, r),
                (output, 2, r, other),
            ] {
                if strip_it {
                    strip(&mut m, r, good);
                    ensure_route(&mut m, from, to, good, cost);
                    loose.push(m.node(r, good));
                }
            }
        }
        let f = FastSolver::new(&m, FastOptions::default()).solve(&m);
        BARE_SOLVED.fetch_add(1, Ordering::Relaxed);
        if f.solver != SolverPath::Fast {
            BARE_FALLBACKS.fetch_add(1, Ordering::Relaxed);
        }
        compare_prices_except(&m, false, &loose)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let solved = BARE_SOLVED.load(Ordering::Relaxed);
    let fallbacks = BARE_FALLBACKS.load(Ordering::Relaxed);
    few_fallbacks(fallbacks, solved, 200, "markets with two-input plants");
    eprintln!("{solved} markets with bare plant nodes: {fallbacks} fallbacks");
}

#[test]
fn warm_start_follows_changing_parameters() {
    // Period after period the same market shape with drifting costs and demand: the warm
    // solver must keep agreeing with a cold reference solve.
    let mut runner = runner(100);
    let result = runner.run(&(draw(8), 0.5..1.5f64), |(d, drift)| {
        let mut m = build(&d);
        let mut solver = FastSolver::new(&m, FastOptions::default());
        for period in 0..8 {
            let f = period as f64 / 8.0;
            for dm in &mut m.demand {
                dm.intercept *= 1.0 + 0.05 * (drift - 1.0) + 0.01 * f;
            }
            for r in &mut m.routes {
                r.cost *= drift.powf(0.1);
            }
            let fast = solver.solve(&m);
            let r = solve_reference(&m, &ReferenceOptions::default()).expect("valid");
            if r.status != SolveStatus::Optimal {
                continue;
            }
            prop_assert_eq!(fast.status, SolveStatus::Optimal);
            let ps = price_scale(&m);
            for (a, b) in fast.prices.iter().zip(&r.prices) {
                prop_assert!(
                    (a - b).abs() <= 1e-6 * ps,
                    "period {}: {} vs {}",
                    period,
                    a,
                    b
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Quotas over routes that leave one node, disjoint or nested, turned into hub edges
/// ([`hub_quotas`]) and cleared
/// on the fast path without any multiplier search, agree with the reference path on the
/// original market: prices, quantities, the quotas' shadow prices, and the original market's
/// own optimality check on the mapped-back solution.
#[test]
fn quotas_as_hub_edges_agree_with_the_reference() {
    let mut runner = runner(600);
    let hubbed_count = AtomicUsize::new(0);
    let hub_fallbacks = AtomicUsize::new(0);
    let nested_count = AtomicUsize::new(0);
    let result = runner.run(&draw(6), |d| {
        let mut m = build(&d);
        // Replace the drawn quotas by single-origin ones: all routes (or every other one)
        // leaving the first drawn routes' origin node.
        let drawn: Vec<(usize, f64)> = d
            .quotas
            .iter()
            .filter(|_| !m.routes.is_empty())
            .map(|(r, limit)| (r[0] % m.routes.len(), *limit))
            .collect();
        m.quotas.clear();
        m.export_shares.clear();
        let mut taken = std::collections::HashSet::new();
        for (k, (r, limit)) in drawn.into_iter().enumerate() {
            let (from, good) = (m.routes[r].from, m.routes[r].good);
            let routes: Vec<usize> = (0..m.routes.len())
                .filter(|&i| m.routes[i].from == from && m.routes[i].good == good)
                .filter(|&i| k % 2 == 0 || i % 2 == 0 || i == r)
                .filter(|&i| taken.insert(i))
                .collect();
            if !routes.is_empty() {
                m.quotas.push(Quota {
                    name: format!("q{k}"),
                    routes,
                    limit,
                });
            }
        }
        // A licence nested in the first quota: half of its routes, under a limit of its own.
        if let Some(first) = m.quotas.first().cloned()
            && d.regions % 2 == 0
        {
            let half: Vec<usize> = first.routes[..first.routes.len().div_ceil(2)].to_vec();
            m.quotas.push(Quota {
                name: "nested".into(),
                routes: half,
                limit: first.limit * 0.5,
            });
        }
        let Some(h) = hub_quotas(&m) else {
            return Ok(());
        };
        prop_assert_eq!(h.hubs(), m.quotas.len());
        hubbed_count.fetch_add(1, Ordering::Relaxed);
        if m.quotas.iter().any(|q| q.name == "nested") {
            nested_count.fetch_add(1, Ordering::Relaxed);
        }
        let r = solve_reference(&m, &ReferenceOptions::default()).expect("valid");
        let inner = FastSolver::new(&h.market, FastOptions::default()).solve(&h.market);
        prop_assert!(inner.quota_shadow.is_empty());
        if inner.solver != SolverPath::Fast {
            hub_fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        let f = h.back(&m, &inner);
        if r.status != SolveStatus::Optimal {
            prop_assert_eq!(f.status, r.status);
            return Ok(());
        }
        prop_assert_eq!(f.status, SolveStatus::Optimal);
        prop_assert!(
            check(&m, &f) <= 1e-6,
            "check on the original {}",
            check(&m, &f)
        );
        let ps = price_scale(&m);
        for (i, (a, b)) in f.prices.iter().zip(&r.prices).enumerate() {
            // Nodes with no step are not pinned.
            let (region, good) = (i / m.goods.len(), i % m.goods.len());
            let pinned = m
                .supply
                .iter()
                .any(|s| s.region == region && s.good == good)
                || m.demand
                    .iter()
                    .any(|s| s.region == region && s.good == good);
            if pinned {
                prop_assert!((a - b).abs() <= 1e-5 * ps, "price {}: {} vs {}", i, a, b);
            }
        }
        for (q, (a, b)) in f.quota_shadow.iter().zip(&r.quota_shadow).enumerate() {
            prop_assert!(
                (a - b).abs() <= 1e-5 * ps,
                "quota {} shadow {} vs {}",
                q,
                a,
                b
            );
        }
        prop_assert!(
            (f.welfare.total - r.welfare.total).abs() <= 1e-5 * ps.max(r.welfare.total.abs())
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (n, fallbacks) = (
        hubbed_count.load(Ordering::Relaxed),
        hub_fallbacks.load(Ordering::Relaxed),
    );
    assert!(n >= 200, "too few markets had quotas: {n}");
    // No multiplier search: the fast path clears them as it clears route capacities.
    assert!(fallbacks * 100 <= n, "{fallbacks} of {n} fell back");
    let nested = nested_count.load(Ordering::Relaxed);
    assert!(nested >= 100, "too few markets had nested quotas: {nested}");
    eprintln!("{n} markets with hub quotas ({nested} nested), {fallbacks} fallbacks");
}
