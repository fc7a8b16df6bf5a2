//! Calibration: linear curves through a base year, so that the calibrated market clears exactly
//! at the base quantities and at base prices consistent with transport costs.
//!
//! The base year gives, per region and good, production and consumption, and per good one
//! reference price; elasticities are assumptions. Three steps:
//!
//! 1. **Base trade.** Production and consumption are fixed and the cheapest flows that move
//!    surpluses to deficits are found (a transport problem, solved on the reference path with
//!    every quantity perfectly inelastic). Its duals are the regional price differences that
//!    make those flows an equilibrium. When every route of each traded good costs the same (the
//!    world model's case), every allocation of exporters' surpluses to importers' deficits is
//!    cheapest; the one taken is the analytic centre of that set, computed directly per good
//!    (Newton's method on its dual, a few hundred microseconds) instead of by the interior-point
//!    solver, whose path tends to the same point.
//! 2. **Base prices.** The prices closest to each good's reference price (least squares,
//!    weighted by the node's volume) at which the base flows are an equilibrium: used routes
//!    priced at their cost, unused ones at most, every plant covering its inputs. Processes
//!    enter the transport problem with the reference margin as cost, so its duals are one
//!    such set of prices and the problem is feasible. Unused routes' bounds join the problem
//!    only when a solution comes near one (most never bind), which keeps it small.
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
    closest_prices_rows(base, market, flows, false)
}

/// [`closest_prices`], with every unused route's bound in the problem from the start when
/// `all_rows` (the reference the row generation is tested against).
fn closest_prices_rows(
    base: &BaseYear,
    market: &Market,
    flows: &[f64],
    all_rows: bool,
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
    // Unused routes bound a price gap from above; most bounds never bind (a route between two
    // regions whose prices differ by less than its cost), so they are left out until the
    // solution breaks one: the optimum of the problem with a subset of the rows that meets
    // every row is the optimum of the whole (convex) problem.
    let unused: Vec<usize> = (0..market.routes.len())
        .filter(|&i| !market.routes[i].banned && !used(i))
        .collect();
    let mut included = vec![all_rows; market.routes.len()];
    let failed = || CalibrationError::NoBasePrices("solver setup failed".into());
    let settings = || {
        DefaultSettingsBuilder::default()
            .verbose(false)
            .build()
            .map_err(|_| failed())
    };
    for _ in 0..MAX_ROW_ROUNDS {
        let mut a = Triplets::default();
        for (i, r) in market.routes.iter().enumerate() {
            if !r.banned && used(i) {
                let (coefs, rhs) = gap_row(r);
                a.row(coefs, rhs);
            }
        }
        let zero = a.rows;
        for &i in unused.iter().filter(|&&i| included[i]) {
            let (coefs, rhs) = gap_row(&market.routes[i]);
            a.row(coefs, rhs);
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
        let mut solver =
            DefaultSolver::new(&pm, &q, &am, &b, &cones, settings()?).map_err(|_| failed())?;
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
        let x = &solver.solution.x;
        let mut added = false;
        for &i in &unused {
            let r = &market.routes[i];
            let (coefs, rhs) = gap_row(r);
            let lhs: f64 = coefs.iter().map(|&(c, v)| v * x[c]).sum();
            if !included[i] && lhs > rhs - ROW_MARGIN {
                included[i] = true;
                added = true;
            }
        }
        if !added {
            return Ok(x.iter().zip(&scale).map(|(x, s)| x * s).collect());
        }
    }
    Err(CalibrationError::NoBasePrices(format!(
        "unused routes' bounds still broken after {MAX_ROW_ROUNDS} rounds"
    )))
}

/// Rounds of adding broken route bounds in [`closest_prices`] before giving up.
const MAX_ROW_ROUNDS: usize = 50;
/// A left-out route bound joins the problem when the solution comes this close to it (in
/// units of the good's reference price): bounds about to bind are added before they are
/// broken, which saves rounds.
const ROW_MARGIN: f64 = 1e-6;

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
    if let Some(p) = base
        .processes
        .iter()
        .find(|p| p.region >= nr || p.output >= ng || p.inputs.iter().any(|&(g, _)| g >= ng))
    {
        return invalid(format!("process {}: region or good out of range", p.name));
    }
    // Each good's world use must equal its world output: calibration cannot invent stocks.
    let net_nodes = net_positions(base);
    let volume = volumes(base);
    for g in 0..ng {
        let net: f64 = (0..nr).map(|r| net_nodes[r * ng + g]).sum();
        if net.abs() > BALANCE_TOLERANCE * volume[g].max(1.0) {
            return invalid(format!(
                "{}: world output exceeds use by {} (output must equal consumption plus \
                 processing input)",
                base.goods[g], net
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
    let flows = match pooled_trade(base, &net_nodes, &volume) {
        Some(flows) => flows,
        None => {
            let solved = solve_reference(&transport, &ReferenceOptions::default())
                .map_err(|e| CalibrationError::Invalid(format!("{e:?}")))?;
            if solved.status != SolveStatus::Optimal {
                return Err(CalibrationError::NoBaseTrade(solved.status));
            }
            solved.flows
        }
    };

    // 2. Base prices: the prices closest to the reference prices at which the base flows
    //    and base processing are an equilibrium.
    let prices = closest_prices(base, &transport, &flows)?;
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
        flows,
    })
}

/// Each region's net position in every good at base quantities (production and process output
/// less consumption and process input), by node (`region × goods + good`).
fn net_positions(base: &BaseYear) -> Vec<f64> {
    let ng = base.goods.len();
    let mut net = vec![0.0; base.regions.len() * ng];
    for n in &base.nodes {
        net[n.region * ng + n.good] += n.production - n.consumption;
    }
    for p in &base.processes {
        let out = p.capacity.unwrap_or(0.0);
        net[p.region * ng + p.output] += out;
        for &(g, c) in &p.inputs {
            net[p.region * ng + g] -= c * out;
        }
    }
    net
}

/// Each good's volume in the base year: production, consumption, process output and process
/// input over all regions (the scale of its balance).
fn volumes(base: &BaseYear) -> Vec<f64> {
    let mut volume = vec![0.0; base.goods.len()];
    for n in &base.nodes {
        volume[n.good] += n.production + n.consumption;
    }
    for p in &base.processes {
        let out = p.capacity.unwrap_or(0.0);
        volume[p.output] += out;
        for &(g, c) in &p.inputs {
            volume[g] += c * out;
        }
    }
    volume
}

/// Largest imbalance of a good's world output and use, relative to its volume, taken as
/// rounding.
const BALANCE_TOLERANCE: f64 = 1e-9;

/// The base trade when every route of a traded good costs the same (one positive cost plus
/// tariff, no capacity, no ban, a route between every exporter and importer): then every
/// allocation of the exporters' surpluses to the importers' deficits is a cheapest one, and
/// the transport problem leaves the choice open. The one taken is the analytic centre of that
/// set (the allocation maximising Σ log x_ij, the most even one, and the point an
/// interior-point solver's central path tends to), computed per good by Newton's method on its
/// dual: x_ij = 1/(u_i + v_j). `None` when the structure does not hold: the general transport
/// problem is solved instead.
fn pooled_trade(base: &BaseYear, net: &[f64], volume: &[f64]) -> Option<Vec<f64>> {
    let (nr, ng) = (base.regions.len(), base.goods.len());
    let mut index = vec![None; nr * nr * ng];
    for (k, r) in base.routes.iter().enumerate() {
        let slot = &mut index[(r.from * nr + r.to) * ng + r.good];
        if slot.is_some() {
            return None;
        }
        *slot = Some(k);
    }
    let mut flows = vec![0.0; base.routes.len()];
    for g in 0..ng {
        // Positions within the solvers' rounding of the good's volume are balanced.
        let tiny = 1e-12 * volume[g].max(1e-300);
        let exporters: Vec<usize> = (0..nr).filter(|&r| net[r * ng + g] > tiny).collect();
        let importers: Vec<usize> = (0..nr).filter(|&r| net[r * ng + g] < -tiny).collect();
        if exporters.is_empty() || importers.is_empty() {
            continue;
        }
        let mut wedge = None;
        for r in base.routes.iter().filter(|r| r.good == g) {
            let w = r.cost + r.tariff;
            if r.banned || r.capacity.is_some() || w <= 0.0 || wedge.is_some_and(|x| x != w) {
                return None;
            }
            wedge = Some(w);
        }
        let supply: Vec<f64> = exporters.iter().map(|&r| net[r * ng + g]).collect();
        let demand: Vec<f64> = importers.iter().map(|&r| -net[r * ng + g]).collect();
        let (ts, td): (f64, f64) = (supply.iter().sum(), demand.iter().sum());
        if (ts - td).abs() > BALANCE_TOLERANCE * volume[g] {
            return None;
        }
        // In shares of the trade, with the exporters' margins matched to the importers'.
        let sup: Vec<f64> = supply.iter().map(|x| x / ts).collect();
        let dem: Vec<f64> = demand.iter().map(|x| x / td).collect();
        let x = analytic_centre(&sup, &dem)?;
        for (a, &i) in exporters.iter().enumerate() {
            for (b, &j) in importers.iter().enumerate() {
                flows[index[(i * nr + j) * ng + g]?] = x[a * dem.len() + b] * td;
            }
        }
    }
    Some(flows)
}

/// The analytic centre of the transportation polytope {x ≥ 0 : Σ_j x_ij = sup_i,
/// Σ_i x_ij = dem_j} (margins positive, summing to 1): the x maximising Σ log x_ij, row-major.
/// Damped Newton's method on the dual φ(u, v) = Σ sup·u + Σ dem·v − Σ log(u_i + v_j),
/// whose minimiser gives x_ij = 1/(u_i + v_j); `None` if it does not converge.
fn analytic_centre(sup: &[f64], dem: &[f64]) -> Option<Vec<f64>> {
    let (m, n) = (sup.len(), dem.len());
    let k = m + n;
    // Start near the proportional split x_ij = sup_i·dem_j, which is not of the form
    // 1/(u_i + v_j): u_i = n/(2·sup_i) and v_j = m/(2·dem_j) give each row and column about
    // its margin and keep every u_i + v_j positive.
    let mut y: Vec<f64> = sup
        .iter()
        .map(|s| 0.5 * n as f64 / s)
        .chain(dem.iter().map(|d| 0.5 * m as f64 / d))
        .collect();
    // φ is flat along (u + c, v − c): the last v stays where it is, and Newton runs on the
    // other k − 1 variables, whose Hessian is positive definite.
    let free = k - 1;
    for _ in 0..MAX_NEWTON {
        let mut grad: Vec<f64> = sup.iter().chain(dem).copied().collect();
        let mut h = vec![0.0; k * k];
        for i in 0..m {
            for j in 0..n {
                let t = y[i] + y[m + j];
                let (g1, h1) = (1.0 / t, 1.0 / (t * t));
                grad[i] -= g1;
                grad[m + j] -= g1;
                for (a, b) in [(i, i), (m + j, m + j), (i, m + j), (m + j, i)] {
                    h[a * k + b] += h1;
                }
            }
        }
        // Each margin to a relative accuracy: shares can span many orders of magnitude.
        let margins = sup.iter().chain(dem);
        if grad
            .iter()
            .zip(margins)
            .all(|(g, s)| g.abs() <= NEWTON_TOLERANCE * s)
        {
            let mut x = Vec::with_capacity(m * n);
            for i in 0..m {
                for j in 0..n {
                    x.push(1.0 / (y[i] + y[m + j]));
                }
            }
            return Some(x);
        }
        // Jacobi-scaled reduced system: (D^-½ H D^-½) z = −D^-½ g, step = D^-½ z.
        let d: Vec<f64> = (0..free).map(|a| h[a * k + a].sqrt()).collect();
        let mut reduced = vec![0.0; free * free];
        for a in 0..free {
            for b in 0..free {
                reduced[a * free + b] = h[a * k + b] / (d[a] * d[b]);
            }
        }
        let rhs: Vec<f64> = (0..free).map(|a| -grad[a] / d[a]).collect();
        let z = cholesky_solve(&mut reduced, free, &rhs)?;
        let mut step: Vec<f64> = z.iter().zip(&d).map(|(z, d)| z / d).collect();
        step.push(0.0);
        // Damped Newton for a self-concordant function: the step 1/(1 + λ), λ the Newton
        // decrement, stays inside the domain and converges; full steps once λ is small.
        let lambda = (-grad.iter().zip(&step).map(|(g, d)| g * d).sum::<f64>())
            .max(0.0)
            .sqrt();
        let t = if lambda > 0.25 {
            1.0 / (1.0 + lambda)
        } else {
            1.0
        };
        for (a, d) in y.iter_mut().zip(&step) {
            *a += t * d;
        }
        if (0..m).any(|i| (0..n).any(|j| y[i] + y[m + j] <= 0.0)) {
            return None;
        }
    }
    None
}

/// Newton steps at most in [`analytic_centre`] (it converges quadratically within a few dozen).
const MAX_NEWTON: usize = 200;
/// Relative error of every margin at which [`analytic_centre`] has converged.
const NEWTON_TOLERANCE: f64 = 1e-12;

/// Solves `a·x = b` for a symmetric positive definite `k × k` matrix `a` (row-major,
/// overwritten by its Cholesky factor); `None` if it is not positive definite.
fn cholesky_solve(a: &mut [f64], k: usize, b: &[f64]) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for p in 0..j {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / d;
        }
    }
    let mut x = b.to_vec();
    for i in 0..k {
        for p in 0..i {
            x[i] -= a[i * k + p] * x[p];
        }
        x[i] /= a[i * k + i];
    }
    for i in (0..k).rev() {
        for p in i + 1..k {
            x[i] -= a[p * k + i] * x[p];
        }
        x[i] /= a[i * k + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four regions trading one good at one cost: A and B export 70 and 30, C and D import 60
    /// and 40; and a processed good whose plant in C takes the ore.
    fn pooled() -> BaseYear {
        let node = |region, good, production, consumption| BaseNode {
            region,
            good,
            production,
            consumption,
            supply_elasticity: 0.5,
            demand_elasticity: 0.5,
        };
        let mut routes = Vec::new();
        for good in 0..2 {
            for from in 0..4 {
                for to in (0..4).filter(|&t| t != from) {
                    routes.push(Route {
                        from,
                        to,
                        good,
                        cost: [8.0, 30.0][good],
                        tariff: 0.0,
                        capacity: None,
                        banned: false,
                    });
                }
            }
        }
        BaseYear {
            regions: ["A", "B", "C", "D"].map(String::from).to_vec(),
            goods: vec!["ore".into(), "metal".into()],
            prices: vec![100.0, 400.0],
            nodes: vec![
                node(0, 0, 80.0, 10.0),
                node(1, 0, 30.0, 0.0),
                node(2, 0, 10.0, 10.0),
                node(3, 0, 0.0, 40.0),
                node(0, 1, 0.0, 10.0),
                node(3, 1, 0.0, 20.0),
            ],
            routes,
            processes: vec![Process {
                name: "plant C".into(),
                region: 2,
                output: 1,
                inputs: vec![(0, 2.0)],
                cost: 0.0,
                capacity: Some(30.0),
            }],
        }
    }

    fn trade_of(base: &BaseYear) -> Option<Vec<f64>> {
        pooled_trade(base, &net_positions(base), &volumes(base))
    }

    #[test]
    fn equal_costs_take_the_analytic_centre_of_the_cheapest_allocations() {
        let base = pooled();
        let flows = trade_of(&base).expect("one cost per good");
        let flow = |from: usize, to: usize, good: usize| {
            base.routes
                .iter()
                .position(|r| r.from == from && r.to == to && r.good == good)
                .map(|i| flows[i])
                .unwrap()
        };
        // Ore: A exports 70, B 30; C imports 60 (its plant takes 60), D 40.
        let x = [
            [flow(0, 2, 0), flow(0, 3, 0)],
            [flow(1, 2, 0), flow(1, 3, 0)],
        ];
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        close(x[0][0] + x[0][1], 70.0);
        close(x[1][0] + x[1][1], 30.0);
        close(x[0][0] + x[1][0], 60.0);
        close(x[0][1] + x[1][1], 40.0);
        // The analytic centre of the 2 × 2 polytope (t = x_AC, margins in shares 0.7/0.3 and
        // 0.6/0.4): 1/t − 1/(0.7 − t) − 1/(0.6 − t) + 1/(t − 0.3) = 0 on (0.3, 0.6), by
        // bisection, independently of the Newton iteration.
        let f = |t: f64| 1.0 / t - 1.0 / (0.7 - t) - 1.0 / (0.6 - t) + 1.0 / (t - 0.3);
        let (mut lo, mut hi) = (0.3 + 1e-12, 0.6 - 1e-12);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if f(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        close(x[0][0] / 100.0, 0.5 * (lo + hi));
        // It is not the proportional split (0.7 × 0.6 = 0.42).
        assert!((x[0][0] / 100.0 - 0.42).abs() > 1e-3);
        // Metal: C's plant makes 30, C uses none; A takes 10 and D 20: one exporter.
        close(flow(2, 0, 1), 10.0);
        close(flow(2, 3, 1), 20.0);
        // Nothing else moves: the cheapest allocations ship each unit once.
        let shipped: f64 = flows.iter().sum();
        close(shipped, 100.0 + 30.0);
        // And the calibration built on it is the same as on the transport problem's solution:
        // the same routes are used, so the same prices.
        let cal = calibrate(&base).unwrap();
        close(cal.flows.iter().sum::<f64>(), 130.0);
    }

    #[test]
    fn unequal_costs_or_a_ban_solve_the_transport_problem() {
        let mut base = pooled();
        base.routes[0].cost += 1.0;
        assert!(trade_of(&base).is_none());
        let mut base = pooled();
        base.routes[1].banned = true;
        assert!(trade_of(&base).is_none());
        // Both still calibrate, through the general path.
        let cal = calibrate(&base).unwrap();
        assert!(cal.flows[1].abs() < 1e-9);
    }

    #[test]
    fn adding_broken_route_bounds_gives_the_prices_of_the_whole_problem() {
        for base in [pooled(), {
            // Costs that differ by route, so some unused routes' bounds bind.
            let mut b = pooled();
            for (i, r) in b.routes.iter_mut().enumerate() {
                r.cost *= 1.0 + (i % 5) as f64 * 0.3;
            }
            b
        }] {
            let mut transport = Market {
                regions: base.regions.clone(),
                goods: base.goods.clone(),
                routes: base.routes.clone(),
                ..Market::default()
            };
            transport.processes = base.processes.clone();
            let flows = match trade_of(&base) {
                Some(f) => f,
                None => calibrate(&base).unwrap().flows,
            };
            let some = closest_prices_rows(&base, &transport, &flows, false).unwrap();
            let all = closest_prices_rows(&base, &transport, &flows, true).unwrap();
            // Where a node has base volume its price is pinned; a node without any (metal in
            // B) only gets a token pull to the reference, so solvers may leave it anywhere
            // its routes allow.
            let mut pinned: Vec<usize> = base
                .nodes
                .iter()
                .map(|n| transport.node(n.region, n.good))
                .collect();
            pinned.push(transport.node(2, 1));
            for i in pinned {
                let (a, b) = (some[i], all[i]);
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "node {i}: {a} vs {b}"
                );
            }
        }
    }
}
