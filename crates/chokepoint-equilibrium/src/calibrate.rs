//! Calibration: linear curves through a base year, so that the calibrated market clears exactly
//! at the base quantities and at base prices consistent with transport costs.
//!
//! The base year gives, per region and good, production and consumption, and per good one
//! reference price; elasticities are assumptions. Three steps:
//!
//! 1. **Base trade.** Production and consumption are fixed and the cheapest flows that move
//!    surpluses to deficits are found (a transport problem, solved on the reference path with
//!    every quantity perfectly inelastic). Its duals are the regional price differences that
//!    make those flows an equilibrium.
//! 2. **Base prices.** The prices closest to each good's reference price (least squares,
//!    weighted by the node's volume) at which the base flows are an equilibrium: used routes
//!    priced at their cost, unused ones at most, every plant covering its inputs. Processes
//!    enter the transport problem with the reference margin as cost, so its duals are one
//!    such set of prices and the problem is feasible.
//! 3. **Curves.** A linear supply through (production, price) with elasticity ε_s has slope
//!    p/(ε_s·q) and intercept p·(1 − 1/ε_s); demand likewise with −ε_d. A process keeps its
//!    base output as capacity and takes its base margin as unit cost, so it runs at capacity
//!    and breaks even at base prices.
//!
//! At base prices every step supplies or demands its base quantity and the base flows satisfy
//! every route's complementarity, so the base allocation is an equilibrium of the calibrated
//! market; since the curves are strictly monotone its prices and quantities are the unique
//! ones (flows may tie where two paths cost the same).

use std::fmt;

use crate::model::{DemandStep, FixedDemand, Market, Process, Route, SupplyStep};
use crate::reference::{ReferenceOptions, solve_reference};
use crate::solution::SolveStatus;

/// Base-year data of one region and good.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseNode {
    /// Region index.
    pub region: usize,
    /// Good index.
    pub good: usize,
    /// Base production from the node's own supply (not processing), units.
    pub production: f64,
    /// Base final consumption, units (not processing input).
    pub consumption: f64,
    /// Price elasticity of supply (> 0).
    pub supply_elasticity: f64,
    /// Price elasticity of demand, as a positive number (> 0).
    pub demand_elasticity: f64,
}

/// A base year to calibrate.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseYear {
    /// Region names.
    pub regions: Vec<String>,
    /// Good names.
    pub goods: Vec<String>,
    /// Reference price of each good (currency per unit, > 0).
    pub prices: Vec<f64>,
    /// Base data per node (nodes not listed have no supply and no demand).
    pub nodes: Vec<BaseNode>,
    /// Routes (costs, tariffs, capacities, bans as in the base year).
    pub routes: Vec<Route>,
    /// Processes with their base output in `capacity` (required, and kept as capacity); the
    /// unit cost is set by calibration.
    pub processes: Vec<Process>,
}

/// Why a base year cannot be calibrated.
#[derive(Debug, Clone, PartialEq)]
pub enum CalibrationError {
    /// The base year is not a valid market (indices, signs).
    Invalid(String),
    /// Production, processing and consumption of a good cannot be reconciled by trade.
    NoBaseTrade(SolveStatus),
    /// No set of prices makes the base flows an equilibrium close to the reference prices
    /// (the solver's status is given).
    NoBasePrices(String),
    /// Base prices are not positive somewhere (transport costs exceed the reference price).
    NonPositivePrice {
        /// Region name.
        region: String,
        /// Good name.
        good: String,
        /// The price found.
        price: f64,
    },
    /// A process loses money at base prices, so it would not run at its base output.
    NegativeMargin {
        /// Process name.
        process: String,
        /// Output value minus input cost at base prices.
        margin: f64,
    },
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalibrationError::Invalid(m) => write!(f, "invalid base year: {m}"),
            CalibrationError::NoBaseTrade(s) => write!(
                f,
                "base production, processing and consumption cannot be reconciled by trade \
                 (transport problem {s:?}): check that each good's world production covers \
                 its consumption and processing input"
            ),
            CalibrationError::NoBasePrices(status) => write!(
                f,
                "no base prices make the base flows an equilibrium (price fit: {status})"
            ),
            CalibrationError::NonPositivePrice {
                region,
                good,
                price,
            } => write!(
                f,
                "base price of {good} in {region} would be {price}: transport costs exceed the \
                 reference price"
            ),
            CalibrationError::NegativeMargin { process, margin } => write!(
                f,
                "process {process} loses {:.4} per unit at base prices",
                -margin
            ),
        }
    }
}

impl std::error::Error for CalibrationError {}

/// A calibrated market and the base-year equilibrium it reproduces.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// The market with calibrated curves and process costs.
    pub market: Market,
    /// Base price per node (indexed by `Market::node`).
    pub prices: Vec<f64>,
    /// Base flow per route.
    pub flows: Vec<f64>,
}

/// The node prices closest to each good's reference price (least squares, weighted by each
/// node's production plus consumption) such that the base `flows` are an equilibrium: a used
/// route's price gap equals its cost and tariff, an unused one's is at most that, and every
/// process covers its inputs (margin ≥ 0). The transport problem's duals satisfy all of these,
/// so the problem is feasible; its solution is unique (strictly convex).
fn closest_prices(
    base: &BaseYear,
    market: &Market,
    flows: &[f64],
) -> Result<Vec<f64>, CalibrationError> {
    use clarabel::algebra::CscMatrix;
    use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, SupportedConeT};

    use crate::reference::Triplets;

    let n = market.nodes();
    let mut weight = vec![0.0; n];
    let mut reference = vec![0.0; n];
    for r in 0..market.regions.len() {
        for g in 0..market.goods.len() {
            reference[market.node(r, g)] = base.prices[g];
        }
    }
    for node in &base.nodes {
        weight[market.node(node.region, node.good)] += node.production + node.consumption;
    }
    for p in &base.processes {
        let out = p.capacity.unwrap_or(0.0);
        weight[market.node(p.region, p.output)] += out;
        for &(g, c) in &p.inputs {
            weight[market.node(p.region, g)] += c * out;
        }
    }
    // Scale weights so the largest is 1, and give empty nodes a small pull to the reference
    // (they are transit nodes whose price is otherwise only bounded).
    let top = weight.iter().copied().fold(0.0_f64, f64::max).max(1e-300);
    let w: Vec<f64> = weight.iter().map(|x| (x / top).max(1e-6)).collect();
    // Work in units of each good's reference price so every variable is of order 1.
    let scale: Vec<f64> = reference.clone();
    let pm = CscMatrix::new(
        n,
        n,
        (0..=n).collect(),
        (0..n).collect(),
        w.iter().map(|x| 2.0 * x).collect(),
    );
    let q: Vec<f64> = w.iter().map(|x| -2.0 * x).collect();
    let mut a = Triplets::default();
    // A route is used when it carries more than solver noise relative to its good's volume
    // (a good that barely trades must not see every noisy route as used: opposite routes
    // cannot both be priced at their cost).
    let mut volume = vec![0.0_f64; market.goods.len()];
    for (r, g) in
        (0..market.regions.len()).flat_map(|r| (0..market.goods.len()).map(move |g| (r, g)))
    {
        volume[g] += weight[market.node(r, g)];
    }
    let used = |i: usize| {
        let r = &market.routes[i];
        flows.get(i).copied().unwrap_or(0.0) > 1e-7 * volume[r.good].max(1e-300)
    };
    // Rows in units of the good's reference price: x_to − x_from (≤ or =) wedge / price.
    let gap_row = |r: &Route| {
        let (from, to) = (market.node(r.from, r.good), market.node(r.to, r.good));
        ([(to, 1.0), (from, -1.0)], (r.cost + r.tariff) / scale[to])
    };
    for (i, r) in market.routes.iter().enumerate() {
        if !r.banned && used(i) {
            let (coefs, rhs) = gap_row(r);
            a.row(coefs, rhs);
        }
    }
    let zero = a.rows;
    for (i, r) in market.routes.iter().enumerate() {
        if !r.banned && !used(i) {
            let (coefs, rhs) = gap_row(r);
            a.row(coefs, rhs);
        }
    }
    for p in &base.processes {
        let out = market.node(p.region, p.output);
        let mut coefs = vec![(out, -1.0)];
        for &(g, c) in &p.inputs {
            let i = market.node(p.region, g);
            coefs.push((i, c * scale[i] / scale[out]));
        }
        a.row(coefs, 0.0);
    }
    for i in 0..n {
        a.row([(i, -1.0)], 0.0);
    }
    let rows = a.rows;
    let (am, b) = a.into_csc(n);
    let cones = [
        SupportedConeT::ZeroConeT(zero),
        SupportedConeT::NonnegativeConeT(rows - zero),
    ];
    let failed = || CalibrationError::NoBasePrices("solver setup failed".into());
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .map_err(|_| failed())?;
    let mut solver =
        DefaultSolver::new(&pm, &q, &am, &b, &cones, settings).map_err(|_| failed())?;
    solver.solve();
    if !matches!(
        solver.solution.status,
        clarabel::solver::SolverStatus::Solved | clarabel::solver::SolverStatus::AlmostSolved
    ) {
        return Err(CalibrationError::NoBasePrices(format!(
            "{:?}",
            solver.solution.status
        )));
    }
    Ok(solver
        .solution
        .x
        .iter()
        .zip(&scale)
        .map(|(x, s)| x * s)
        .collect())
}

/// Calibrates linear curves and process costs so that the market clears at the base year.
pub fn calibrate(base: &BaseYear) -> Result<Calibrated, CalibrationError> {
    let nr = base.regions.len();
    let ng = base.goods.len();
    let invalid = |m: String| Err(CalibrationError::Invalid(m));
    if base.prices.len() != ng || base.prices.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return invalid("one positive reference price per good is needed".into());
    }
    for n in &base.nodes {
        if n.region >= nr || n.good >= ng {
            return invalid(format!("node ({}, {}) is out of range", n.region, n.good));
        }
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(n.production) || !ok(n.consumption) {
            return invalid("production and consumption must be ≥ 0".into());
        }
        if !(n.supply_elasticity > 0.0 && n.demand_elasticity > 0.0) {
            return invalid("elasticities must be > 0".into());
        }
    }
    if base.processes.iter().any(|p| p.capacity.is_none()) {
        return invalid("every process needs its base output as capacity".into());
    }
    // Each good's world use must equal its world output: calibration cannot invent stocks.
    let mut net = vec![0.0; ng];
    let mut scale = vec![0.0; ng];
    for n in &base.nodes {
        net[n.good] += n.production - n.consumption;
        scale[n.good] += n.production + n.consumption;
    }
    for p in &base.processes {
        let out = p.capacity.unwrap_or(0.0);
        net[p.output] += out;
        scale[p.output] += out;
        for &(g, c) in &p.inputs {
            net[g] -= c * out;
            scale[g] += c * out;
        }
    }
    for g in 0..ng {
        if net[g].abs() > 1e-9 * scale[g].max(1.0) {
            return invalid(format!(
                "{}: world output exceeds use by {} (output must equal consumption plus \
                 processing input)",
                base.goods[g], net[g]
            ));
        }
    }

    // 1. Base trade: everything inelastic at the base quantities.
    let mut transport = Market {
        regions: base.regions.clone(),
        goods: base.goods.clone(),
        routes: base.routes.clone(),
        ..Market::default()
    };
    for n in &base.nodes {
        if n.production > 0.0 {
            transport.supply.push(SupplyStep {
                region: n.region,
                good: n.good,
                intercept: 0.0,
                slope: 0.0,
                capacity: Some(n.production),
            });
        }
        if n.consumption > 0.0 {
            transport.fixed_demand.push(FixedDemand {
                region: n.region,
                good: n.good,
                quantity: n.consumption,
            });
        }
    }
    // Processes run in the transport problem as processes, at their base output (every plant
    // is needed to meet demand) with the reference margin as unit cost: the duals then give
    // every plant a margin of at least the reference margin.
    for p in &base.processes {
        let inputs: f64 = p.inputs.iter().map(|&(g, c)| c * base.prices[g]).sum();
        let margin = base.prices[p.output] - inputs;
        if margin < 0.0 {
            return Err(CalibrationError::NegativeMargin {
                process: p.name.clone(),
                margin,
            });
        }
        transport.processes.push(Process {
            cost: margin,
            ..p.clone()
        });
    }
    let solved = solve_reference(&transport, &ReferenceOptions::default())
        .map_err(|e| CalibrationError::Invalid(format!("{e:?}")))?;
    if solved.status != SolveStatus::Optimal {
        return Err(CalibrationError::NoBaseTrade(solved.status));
    }

    // 2. Base prices: the prices closest to the reference prices at which the base flows
    //    and base processing are an equilibrium.
    let prices = closest_prices(base, &transport, &solved.flows)?;
    for n in &base.nodes {
        let p = prices[transport.node(n.region, n.good)];
        if p <= 0.0 {
            return Err(CalibrationError::NonPositivePrice {
                region: base.regions[n.region].clone(),
                good: base.goods[n.good].clone(),
                price: p,
            });
        }
    }

    // 3. Curves and process costs.
    let mut market = Market {
        regions: base.regions.clone(),
        goods: base.goods.clone(),
        routes: base.routes.clone(),
        ..Market::default()
    };
    for n in &base.nodes {
        let p = prices[market.node(n.region, n.good)];
        if n.production > 0.0 {
            let slope = p / (n.supply_elasticity * n.production);
            market.supply.push(SupplyStep {
                region: n.region,
                good: n.good,
                intercept: p - slope * n.production,
                slope,
                capacity: None,
            });
        }
        if n.consumption > 0.0 {
            let slope = p / (n.demand_elasticity * n.consumption);
            market.demand.push(DemandStep {
                region: n.region,
                good: n.good,
                intercept: p + slope * n.consumption,
                slope,
                capacity: None,
            });
        }
    }
    for p in &base.processes {
        let out = prices[market.node(p.region, p.output)];
        let inputs: f64 = p
            .inputs
            .iter()
            .map(|&(g, c)| c * prices[market.node(p.region, g)])
            .sum();
        let margin = out - inputs;
        if margin < 0.0 {
            return Err(CalibrationError::NegativeMargin {
                process: p.name.clone(),
                margin,
            });
        }
        // The base margin becomes the unit cost and the base output stays the capacity:
        // at base prices processing breaks even and every plant is needed, which pins each
        // plant's output (with zero-margin plants and no capacity the split between plants
        // that make the same good would be arbitrary).
        market.processes.push(Process {
            cost: margin,
            ..p.clone()
        });
    }
    Ok(Calibrated {
        market,
        prices,
        flows: solved.flows,
    })
}
