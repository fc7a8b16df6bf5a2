//! The report of a cleared market, by name rather than index: what `chokepoint solve` prints
//! and serialises (`docs/json.md`).

use serde::Serialize;

use crate::model::Market;
use crate::solution::{ConstraintReport, Solution, SolveStatus, Welfare};

/// A cleared (or failed) market, named for people and programs. Prices are in the market's
/// currency per unit, quantities in its units. When the status is not `optimal`, `regions`,
/// `flows`, `processes` and `constraints` are empty and `welfare` is `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveReport {
    /// How the solve ended (`optimal`, `infeasible`, `unbounded`, `not_converged`).
    pub status: SolveStatus,
    /// Why the market did not clear; `None` when optimal.
    pub message: Option<String>,
    /// Which solver cleared the market: `fast`, `reference`, or
    /// `reference (fast path fell back)`.
    pub solver: String,
    /// Solver iterations.
    pub iterations: u32,
    /// Largest scaled violation of the balance and complementarity checks (0 = exact).
    pub max_violation: f64,
    /// The goods, in declaration order.
    pub goods: Vec<String>,
    /// One entry per region (per region and good when there are several goods).
    pub regions: Vec<RegionReport>,
    /// One entry per route, in declaration order.
    pub flows: Vec<FlowReport>,
    /// One entry per process, in declaration order.
    pub processes: Vec<ProcessReport>,
    /// Every capacity, quota and export-share cap with its shadow price and rent.
    pub constraints: Vec<ConstraintReport>,
    /// The welfare account; `None` when the market did not clear.
    pub welfare: Option<Welfare>,
}

/// Price and quantities of one good in one region. At every node
/// `supply + imports + process_output = demand + exports + process_input`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionReport {
    /// Region id.
    pub id: String,
    /// Good (only when the market has several goods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    /// Clearing price (currency per unit); `None` when no step, route or process touches the
    /// node, so that nothing can set its price.
    pub price: Option<f64>,
    /// Quantity supplied by the region's supply steps.
    pub supply: f64,
    /// Quantity consumed (demand steps plus fixed demand).
    pub demand: f64,
    /// Quantity arriving over routes.
    pub imports: f64,
    /// Quantity leaving over routes.
    pub exports: f64,
    /// Quantity made by the region's processes.
    pub process_output: f64,
    /// Quantity used as input by the region's processes.
    pub process_input: f64,
}

/// The flow on one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowReport {
    /// Exporting region.
    pub from: String,
    /// Importing region.
    pub to: String,
    /// Good (only when the market has several goods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    /// Quantity shipped (0 on unused and banned routes).
    pub quantity: f64,
    /// Real unit cost (currency per unit).
    pub cost: f64,
    /// Specific tariff (currency per unit).
    pub tariff: f64,
    /// Price at `to` minus price at `from`: equals cost + tariff + rents on a used route.
    pub price_gap: f64,
    /// Whether trade on the route is banned.
    pub banned: bool,
}

/// The activity of one process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessReport {
    /// Process name.
    pub name: String,
    /// Region id.
    pub region: String,
    /// Output good.
    pub output: String,
    /// Output (units of the output good).
    pub activity: f64,
    /// Output price (plus the export licences a unit of output earns under an export-share
    /// cap: share × the cap's shadow price) minus input cost minus processing cost, per unit of
    /// output (currency per unit): 0 for a process that runs below capacity, the capacity's
    /// shadow price at capacity, ≤ 0 for one that does not run.
    pub margin: f64,
}

impl SolveReport {
    /// Names the solution of `market`.
    pub fn new(market: &Market, solution: &Solution) -> Self {
        let solver = match solution.solver {
            crate::SolverPath::Reference => "reference",
            crate::SolverPath::Fast => "fast",
            crate::SolverPath::ReferenceFallback => "reference (fast path fell back)",
        };
        let goods = market.goods.clone();
        let mut report = SolveReport {
            status: solution.status,
            message: status_message(solution.status).map(str::to_string),
            solver: solver.to_string(),
            iterations: solution.iterations,
            max_violation: solution.max_violation,
            goods,
            regions: Vec::new(),
            flows: Vec::new(),
            processes: Vec::new(),
            constraints: Vec::new(),
            welfare: None,
        };
        if solution.status != SolveStatus::Optimal {
            return report;
        }
        let several = market.goods.len() > 1;
        let good_name = |g: usize| several.then(|| market.goods[g].clone());
        let supply = solution.node_supply(market);
        let demand = solution.node_demand(market);
        let nodes = market.nodes();
        let (mut imports, mut exports) = (vec![0.0; nodes], vec![0.0; nodes]);
        for (r, &x) in market.routes.iter().zip(&solution.flows) {
            exports[market.node(r.from, r.good)] += x;
            imports[market.node(r.to, r.good)] += x;
        }
        let (mut output, mut input) = (vec![0.0; nodes], vec![0.0; nodes]);
        for (p, &y) in market.processes.iter().zip(&solution.activity) {
            output[market.node(p.region, p.output)] += y;
            for &(g, c) in &p.inputs {
                input[market.node(p.region, g)] += c * y;
            }
        }
        let price = |region: usize, good: usize| {
            solution
                .prices
                .get(market.node(region, good))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let touched = touched(market);
        for (r, id) in market.regions.iter().enumerate() {
            for g in 0..market.goods.len() {
                let n = market.node(r, g);
                report.regions.push(RegionReport {
                    id: id.clone(),
                    good: good_name(g),
                    price: touched[n].then(|| price(r, g)),
                    supply: supply[n],
                    demand: demand[n],
                    imports: imports[n],
                    exports: exports[n],
                    process_output: output[n],
                    process_input: input[n],
                });
            }
        }
        for (r, &x) in market.routes.iter().zip(&solution.flows) {
            report.flows.push(FlowReport {
                from: market.regions[r.from].clone(),
                to: market.regions[r.to].clone(),
                good: good_name(r.good),
                quantity: x,
                cost: r.cost,
                tariff: r.tariff,
                price_gap: price(r.to, r.good) - price(r.from, r.good),
                banned: r.banned,
            });
        }
        // Every unit produced under an export-share cap earns `share` units of export licence.
        let mut licence = vec![0.0; nodes];
        for (cap, lambda) in market.export_shares.iter().zip(&solution.share_shadow) {
            licence[market.node(cap.region, cap.good)] += cap.share * lambda;
        }
        for (p, &y) in market.processes.iter().zip(&solution.activity) {
            let inputs: f64 = p.inputs.iter().map(|&(g, c)| c * price(p.region, g)).sum();
            let out = market.node(p.region, p.output);
            report.processes.push(ProcessReport {
                name: p.name.clone(),
                region: market.regions[p.region].clone(),
                output: market.goods[p.output].clone(),
                activity: y,
                margin: price(p.region, p.output) + licence[out] - inputs - p.cost,
            });
        }
        report.constraints = solution.constraints(market);
        report.welfare = Some(solution.welfare.clone());
        report
    }
}

/// Whether anything (a step, a fixed demand, a route, a process) touches each node.
fn touched(market: &Market) -> Vec<bool> {
    let mut t = vec![false; market.nodes()];
    let nodes = market
        .supply
        .iter()
        .map(|s| (s.region, s.good))
        .chain(market.demand.iter().map(|d| (d.region, d.good)))
        .chain(market.fixed_demand.iter().map(|d| (d.region, d.good)))
        .chain(
            market
                .routes
                .iter()
                .flat_map(|r| [(r.from, r.good), (r.to, r.good)]),
        )
        .chain(market.processes.iter().flat_map(|p| {
            std::iter::once((p.region, p.output))
                .chain(p.inputs.iter().map(|&(g, _)| (p.region, g)))
        }));
    for (r, g) in nodes {
        if let Some(slot) = t.get_mut(market.node(r, g)) {
            *slot = true;
        }
    }
    t
}

/// Why a market with this status did not clear.
fn status_message(status: SolveStatus) -> Option<&'static str> {
    match status {
        SolveStatus::Optimal => None,
        SolveStatus::Infeasible => Some(
            "no allocation satisfies the constraints: e.g. a fixed demand that supply, routes \
             and quotas cannot meet",
        ),
        SolveStatus::Unbounded => Some(
            "surplus can grow without bound: e.g. perfectly elastic demand met by supply with \
             no slope and no capacity below its price",
        ),
        SolveStatus::NotConverged => Some(
            "the solver stopped before reaching its tolerances, or its answer failed the balance \
             and complementarity checks",
        ),
    }
}
