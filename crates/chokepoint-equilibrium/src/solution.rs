//! What a clearing returns: status, prices, quantities, flows, shadow prices, the welfare
//! account, and the checks every optimal solution must pass.

use serde::Serialize;

use crate::model::Market;

/// How a solve ended. Only `Optimal` carries meaningful prices and quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Every market clears; the solution passed the balance and complementarity checks.
    Optimal,
    /// No allocation satisfies the constraints (e.g. a fixed demand that cannot be met).
    Infeasible,
    /// Surplus can grow without bound (e.g. perfectly elastic demand with unlimited free
    /// supply).
    Unbounded,
    /// The solver stopped before reaching the tolerances, or its answer failed the checks.
    NotConverged,
}

/// Which algorithm produced a solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverPath {
    /// The reference QP path (Clarabel).
    Reference,
    /// The fast structure-exploiting path.
    Fast,
    /// The fast path handed the market to the reference path (not covered, or gave up).
    ReferenceFallback,
}

/// The welfare account of a cleared market, in currency units.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Welfare {
    /// Σ over demand steps of (value of what is consumed − what consumers pay).
    pub consumer_surplus: f64,
    /// Σ over supply steps of (revenue − cost of production).
    pub producer_surplus: f64,
    /// Margin of processors over input cost and processing cost (capacity rent).
    pub processing_surplus: f64,
    /// Real cost of moving goods along routes.
    pub transport_cost: f64,
    /// Tariff revenue (a transfer to the importing states, not a cost).
    pub tariff_revenue: f64,
    /// Rents of binding route capacities, quotas and export-share caps (to whoever holds the
    /// capacity, quota or licence).
    pub constraint_rent: f64,
    /// Payments by perfectly inelastic demand (their surplus is not defined).
    pub fixed_demand_payments: f64,
    /// Net social payoff: consumer + producer + processing surplus + tariff revenue +
    /// constraint rent, which equals the value of consumption minus the costs of production,
    /// processing and transport (transport is already netted out of the surpluses).
    pub total: f64,
}

/// The shadow price and rent of one constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintReport {
    /// `route_capacity`, `quota`, `export_share`, `process_capacity` or `supply_capacity`.
    pub kind: &'static str,
    /// Index of the route, quota, share cap, process or supply step.
    pub index: usize,
    /// Name for reports.
    pub name: String,
    /// Value of one more unit of the limit (currency per unit, ≥ 0).
    pub shadow_price: f64,
    /// Quantity the constraint covers at the solution (flow, output).
    pub quantity: f64,
    /// The limit.
    pub limit: f64,
    /// shadow price × quantity.
    pub rent: f64,
    /// Whether the constraint holds with equality.
    pub binding: bool,
}

/// A cleared (or failed) market.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Solution {
    /// How the solve ended.
    pub status: SolveStatus,
    /// Price per node, indexed by [`Market::node`].
    pub prices: Vec<f64>,
    /// Quantity of each supply step.
    pub supply: Vec<f64>,
    /// Quantity of each demand step.
    pub demand: Vec<f64>,
    /// Flow on each route (0 on banned routes).
    pub flows: Vec<f64>,
    /// Output of each process.
    pub activity: Vec<f64>,
    /// Shadow price of each route's capacity (0 when none or slack).
    pub route_shadow: Vec<f64>,
    /// Shadow price of each quota.
    pub quota_shadow: Vec<f64>,
    /// Shadow price of each export-share cap.
    pub share_shadow: Vec<f64>,
    /// Shadow price of each process's capacity.
    pub process_shadow: Vec<f64>,
    /// The welfare account.
    pub welfare: Welfare,
    /// Solver iterations.
    pub iterations: u32,
    /// Largest violation found by [`check`] (0 when not optimal).
    pub max_violation: f64,
    /// Which algorithm produced it.
    pub solver: SolverPath,
}

impl Solution {
    /// A solution carrying only a failure status.
    pub fn failed(market: &Market, status: SolveStatus, iterations: u32) -> Self {
        Solution {
            status,
            prices: vec![f64::NAN; market.nodes()],
            supply: vec![0.0; market.supply.len()],
            demand: vec![0.0; market.demand.len()],
            flows: vec![0.0; market.routes.len()],
            activity: vec![0.0; market.processes.len()],
            route_shadow: vec![0.0; market.routes.len()],
            quota_shadow: vec![0.0; market.quotas.len()],
            share_shadow: vec![0.0; market.export_shares.len()],
            process_shadow: vec![0.0; market.processes.len()],
            welfare: Welfare::default(),
            iterations,
            max_violation: 0.0,
            solver: SolverPath::Reference,
        }
    }

    /// Price of `good` in `region`.
    pub fn price(&self, market: &Market, region: usize, good: usize) -> f64 {
        self.prices[market.node(region, good)]
    }

    /// Total supply (supply steps only) per node.
    pub fn node_supply(&self, market: &Market) -> Vec<f64> {
        let mut v = vec![0.0; market.nodes()];
        for (s, q) in market.supply.iter().zip(&self.supply) {
            v[market.node(s.region, s.good)] += q;
        }
        v
    }

    /// Total demand (demand steps plus fixed demand) per node.
    pub fn node_demand(&self, market: &Market) -> Vec<f64> {
        let mut v = vec![0.0; market.nodes()];
        for (d, q) in market.demand.iter().zip(&self.demand) {
            v[market.node(d.region, d.good)] += q;
        }
        for d in &market.fixed_demand {
            v[market.node(d.region, d.good)] += d.quantity;
        }
        v
    }

    /// Every constraint with a limit, as (kind, index, shadow price, quantity, limit), without
    /// allocating names: the hot path of [`welfare`] and [`check`].
    fn constraint_values<'a>(
        &'a self,
        market: &'a Market,
    ) -> impl Iterator<Item = (&'static str, usize, f64, f64, f64)> + 'a {
        let routes = market.routes.iter().enumerate().filter_map(|(i, r)| {
            r.capacity.map(|cap| {
                (
                    "route_capacity",
                    i,
                    self.route_shadow[i],
                    self.flows[i],
                    cap,
                )
            })
        });
        let quotas = market.quotas.iter().enumerate().map(|(i, q)| {
            let flow = q.routes.iter().map(|&r| self.flows[r]).sum();
            ("quota", i, self.quota_shadow[i], flow, q.limit)
        });
        let production = if market.export_shares.is_empty() {
            Vec::new()
        } else {
            self.node_production(market)
        };
        let shares = market.export_shares.iter().enumerate().map(move |(i, s)| {
            let flow = s.routes.iter().map(|&r| self.flows[r]).sum();
            let limit = s.share * production[market.node(s.region, s.good)];
            ("export_share", i, self.share_shadow[i], flow, limit)
        });
        let processes = market.processes.iter().enumerate().filter_map(|(i, p)| {
            p.capacity.map(|cap| {
                (
                    "process_capacity",
                    i,
                    self.process_shadow[i],
                    self.activity[i],
                    cap,
                )
            })
        });
        routes.chain(quotas).chain(shares).chain(processes)
    }

    /// Every constraint with a limit, with its shadow price and rent.
    pub fn constraints(&self, market: &Market) -> Vec<ConstraintReport> {
        self.constraint_values(market)
            .map(|(kind, index, shadow, quantity, limit)| {
                let name = match kind {
                    "route_capacity" => {
                        let r = &market.routes[index];
                        format!(
                            "{} → {} ({})",
                            market.regions[r.from], market.regions[r.to], market.goods[r.good]
                        )
                    }
                    "quota" => market.quotas[index].name.clone(),
                    "export_share" => market.export_shares[index].name.clone(),
                    _ => market.processes[index].name.clone(),
                };
                report(kind, index, name, shadow, quantity, limit)
            })
            .collect()
    }

    /// Production per node: supply steps plus processing output.
    pub fn node_production(&self, market: &Market) -> Vec<f64> {
        let mut v = self.node_supply(market);
        for (p, y) in market.processes.iter().zip(&self.activity) {
            v[market.node(p.region, p.output)] += y;
        }
        v
    }
}

fn report(
    kind: &'static str,
    index: usize,
    name: String,
    shadow: f64,
    quantity: f64,
    limit: f64,
) -> ConstraintReport {
    ConstraintReport {
        kind,
        index,
        name,
        shadow_price: shadow,
        quantity,
        limit,
        rent: shadow * quantity,
        binding: (quantity - limit).abs() <= 1e-7 * limit.abs().max(1.0),
    }
}

/// Computes the welfare account of a solution from its quantities and prices.
pub fn welfare(market: &Market, sol: &Solution) -> Welfare {
    let mut w = Welfare::default();
    for (d, &q) in market.demand.iter().zip(&sol.demand) {
        let p = sol.prices[market.node(d.region, d.good)];
        w.consumer_surplus += d.intercept * q - 0.5 * d.slope * q * q - p * q;
    }
    for d in &market.fixed_demand {
        w.fixed_demand_payments += sol.prices[market.node(d.region, d.good)] * d.quantity;
    }
    for (s, &q) in market.supply.iter().zip(&sol.supply) {
        let p = sol.prices[market.node(s.region, s.good)];
        w.producer_surplus += p * q - s.intercept * q - 0.5 * s.slope * q * q;
    }
    for (p, &y) in market.processes.iter().zip(&sol.activity) {
        let out = sol.prices[market.node(p.region, p.output)];
        let inputs: f64 = p
            .inputs
            .iter()
            .map(|&(g, c)| c * sol.prices[market.node(p.region, g)])
            .sum();
        w.processing_surplus += y * (out - inputs - p.cost);
    }
    for (r, &x) in market.routes.iter().zip(&sol.flows) {
        w.transport_cost += r.cost * x;
        w.tariff_revenue += r.tariff * x;
    }
    w.constraint_rent = sol
        .constraint_values(market)
        .filter(|c| c.0 != "process_capacity")
        .map(|c| c.2 * c.3)
        .sum();
    w.total = w.consumer_surplus
        + w.producer_surplus
        + w.processing_surplus
        + w.tariff_revenue
        + w.constraint_rent;
    w
}

/// What is left over at each node (indexed as [`Market::node`]) in `sol`: supply, arrivals
/// and plant output less demand (priced and fixed), departures and plant inputs. Zero at an
/// equilibrium; [`check`] scales it by the market's largest quantity, a caller comparing
/// goods of very different magnitudes can scale it per good.
pub fn node_balance(market: &Market, sol: &Solution) -> Vec<f64> {
    let mut net = vec![0.0; market.nodes()];
    for (s, q) in market.supply.iter().zip(&sol.supply) {
        net[market.node(s.region, s.good)] += q;
    }
    for (d, q) in market.demand.iter().zip(&sol.demand) {
        net[market.node(d.region, d.good)] -= q;
    }
    for d in &market.fixed_demand {
        net[market.node(d.region, d.good)] -= d.quantity;
    }
    for (r, x) in market.routes.iter().zip(&sol.flows) {
        net[market.node(r.from, r.good)] -= x;
        net[market.node(r.to, r.good)] += x;
    }
    for (p, y) in market.processes.iter().zip(&sol.activity) {
        net[market.node(p.region, p.output)] += y;
        for &(g, c) in &p.inputs {
            net[market.node(p.region, g)] -= c * y;
        }
    }
    net
}

/// Checks mass balance at every node and complementarity on every route and step; returns the
/// largest violation, scaled by the market's magnitudes (0 = exact).
///
/// - balance: supply + imports + processing output = demand + exports + processing input;
/// - a used route has `p_to − p_from = cost + tariff + rent`, an unused one `≤` that;
/// - a supply step below capacity and above zero is priced at its marginal cost, at zero the
///   price is at most its first unit's cost; likewise for demand steps;
/// - quantities are non-negative and within capacities.
pub fn check(market: &Market, sol: &Solution) -> f64 {
    // Prices are set by curve intercepts, route wedges and processing costs, whichever are
    // present: a market of inelastic quantities has no intercepts to speak of.
    let price_scale = market
        .supply
        .iter()
        .map(|s| s.intercept.abs())
        .chain(market.demand.iter().map(|d| d.intercept.abs()))
        .chain(market.routes.iter().map(|r| r.cost + r.tariff))
        .chain(market.processes.iter().map(|p| p.cost))
        .fold(1.0_f64, f64::max);
    let qty_scale = sol
        .supply
        .iter()
        .chain(&sol.demand)
        .chain(&sol.flows)
        .fold(1.0_f64, |a, &b| a.max(b.abs()));
    let mut worst = 0.0_f64;
    let mut note = |v: f64| worst = worst.max(v);

    for v in &node_balance(market, sol) {
        note(v.abs() / qty_scale);
    }

    let tol_q = 1e-7 * qty_scale;
    // An export-share cap makes every unit produced carry a licence to export `share` units:
    // producers see the price plus share × the licence's shadow price.
    let mut licence = vec![0.0; market.nodes()];
    for (cap, lambda) in market.export_shares.iter().zip(&sol.share_shadow) {
        licence[market.node(cap.region, cap.good)] += cap.share * lambda;
    }
    // Supply and demand steps.
    for (s, &q) in market.supply.iter().zip(&sol.supply) {
        note((-q).max(0.0) / qty_scale);
        if let Some(cap) = s.capacity {
            note((q - cap).max(0.0) / qty_scale);
        }
        let node = market.node(s.region, s.good);
        let p = sol.prices[node] + licence[node];
        let mc = s.intercept + s.slope * q;
        let at_cap = s.capacity.is_some_and(|c| q >= c - tol_q);
        // A step of zero capacity is both empty and full: no condition on the price.
        match (q <= tol_q, at_cap) {
            (true, true) => {}
            (true, false) => note((p - mc).max(0.0) / price_scale),
            (false, true) => note((mc - p).max(0.0) / price_scale),
            (false, false) => note((p - mc).abs() / price_scale),
        }
    }
    for (d, &q) in market.demand.iter().zip(&sol.demand) {
        note((-q).max(0.0) / qty_scale);
        if let Some(cap) = d.capacity {
            note((q - cap).max(0.0) / qty_scale);
        }
        let p = sol.prices[market.node(d.region, d.good)];
        let mv = d.intercept - d.slope * q;
        let at_cap = d.capacity.is_some_and(|c| q >= c - tol_q);
        match (q <= tol_q, at_cap) {
            (true, true) => {}
            (true, false) => note((mv - p).max(0.0) / price_scale),
            (false, true) => note((p - mv).max(0.0) / price_scale),
            (false, false) => note((p - mv).abs() / price_scale),
        }
    }
    // Processes: output value against input cost, processing cost and capacity rent.
    for (k, (p, &y)) in market.processes.iter().zip(&sol.activity).enumerate() {
        note((-y).max(0.0) / qty_scale);
        let node = market.node(p.region, p.output);
        let inputs: f64 = p
            .inputs
            .iter()
            .map(|&(g, c)| c * sol.prices[market.node(p.region, g)])
            .sum();
        let margin = sol.prices[node] + licence[node] - inputs - p.cost - sol.process_shadow[k];
        if y > tol_q {
            note(margin.abs() / price_scale);
        } else {
            note(margin.max(0.0) / price_scale);
        }
    }
    // Routes: price gap against cost + tariff + rents.
    let mut rents = sol.route_shadow.clone();
    for (quota, lambda) in market.quotas.iter().zip(&sol.quota_shadow) {
        for &r in &quota.routes {
            rents[r] += lambda;
        }
    }
    for (share, lambda) in market.export_shares.iter().zip(&sol.share_shadow) {
        for &r in &share.routes {
            rents[r] += lambda;
        }
    }
    for (i, (r, &x)) in market.routes.iter().zip(&sol.flows).enumerate() {
        if r.banned {
            note(x.abs() / qty_scale);
            continue;
        }
        note((-x).max(0.0) / qty_scale);
        let wedge = r.cost + r.tariff + rents[i];
        let gap = sol.prices[market.node(r.to, r.good)] - sol.prices[market.node(r.from, r.good)];
        if x > tol_q {
            note((gap - wedge).abs() / price_scale);
        } else {
            note((gap - wedge).max(0.0) / price_scale);
        }
        if let Some(cap) = r.capacity {
            note((x - cap).max(0.0) / qty_scale);
        }
    }
    for (_, _, shadow, quantity, limit) in sol.constraint_values(market) {
        note((quantity - limit).max(0.0) / qty_scale);
        note((-shadow).max(0.0) / price_scale);
        // Complementary slackness: a slack constraint has no shadow price.
        note(shadow.abs() * (limit - quantity).abs() / (price_scale * qty_scale));
    }
    worst
}
