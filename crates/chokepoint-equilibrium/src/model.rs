//! The market to clear: regions, goods, supply and demand steps, routes, processing and policy
//! constraints. Everything is indexed by position (`usize`) for speed; names are for reports.

use std::fmt;

/// A supply step in one region and good: inverse supply `p = intercept + slope·q` for
/// `0 ≤ q ≤ capacity`. Several steps of a region and good add up (several producers, or the
/// pieces of a piecewise-linear curve); a flat step (`slope = 0`) with a capacity is a
/// stockpile release or a stepped cost curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplyStep {
    /// Region index.
    pub region: usize,
    /// Good index.
    pub good: usize,
    /// Price of the first unit (currency per unit).
    pub intercept: f64,
    /// Price rise per unit (≥ 0); 0 is perfectly elastic.
    pub slope: f64,
    /// Maximum quantity, if any (units).
    pub capacity: Option<f64>,
}

/// A demand step: inverse demand `p = intercept − slope·q` for `0 ≤ q ≤ capacity`. A flat step
/// with a capacity is a stockpile that buys below a floor.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandStep {
    /// Region index.
    pub region: usize,
    /// Good index.
    pub good: usize,
    /// Choke price (currency per unit).
    pub intercept: f64,
    /// Price fall per unit (≥ 0); 0 is perfectly elastic.
    pub slope: f64,
    /// Maximum quantity, if any (units).
    pub capacity: Option<f64>,
}

/// Perfectly inelastic demand: this quantity must be delivered whatever the price.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedDemand {
    /// Region index.
    pub region: usize,
    /// Good index.
    pub good: usize,
    /// Quantity (units, ≥ 0).
    pub quantity: f64,
}

/// A trade route for one good.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Exporting region.
    pub from: usize,
    /// Importing region.
    pub to: usize,
    /// Good index.
    pub good: usize,
    /// Real unit cost of moving one unit (currency per unit, ≥ 0).
    pub cost: f64,
    /// Specific tariff (currency per unit, ≥ 0): a transfer to the importer's state, not a
    /// real cost.
    pub tariff: f64,
    /// Maximum flow, if any.
    pub capacity: Option<f64>,
    /// No trade at all on this route.
    pub banned: bool,
}

/// Processing in one region: one unit of activity makes one unit of `output` from
/// `inputs` (good, units per unit of output), at a unit `cost`.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    /// Name for reports.
    pub name: String,
    /// Region index.
    pub region: usize,
    /// Output good index.
    pub output: usize,
    /// Inputs: (good index, units of input per unit of output, > 0).
    pub inputs: Vec<(usize, f64)>,
    /// Processing cost per unit of output (≥ 0).
    pub cost: f64,
    /// Maximum output, if any.
    pub capacity: Option<f64>,
}

/// A cap on the sum of flows over a set of routes (an export quota to all or to a coalition).
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// Name for reports.
    pub name: String,
    /// Route indices.
    pub routes: Vec<usize>,
    /// Maximum total flow (units, ≥ 0).
    pub limit: f64,
}

/// Exports over a set of routes of `region` may not exceed `share` × that region's production
/// of `good` (supply steps plus processing output): export licensing.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportShare {
    /// Name for reports.
    pub name: String,
    /// Exporting region.
    pub region: usize,
    /// Good.
    pub good: usize,
    /// Route indices (all must leave `region` with `good`).
    pub routes: Vec<usize>,
    /// Licensed share of production, in [0, 1].
    pub share: f64,
}

/// A whole market: everything that clears together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Market {
    /// Region names.
    pub regions: Vec<String>,
    /// Good names.
    pub goods: Vec<String>,
    /// Supply steps.
    pub supply: Vec<SupplyStep>,
    /// Demand steps.
    pub demand: Vec<DemandStep>,
    /// Perfectly inelastic demands.
    pub fixed_demand: Vec<FixedDemand>,
    /// Trade routes.
    pub routes: Vec<Route>,
    /// Processing.
    pub processes: Vec<Process>,
    /// Group caps on flows.
    pub quotas: Vec<Quota>,
    /// Export-share caps.
    pub export_shares: Vec<ExportShare>,
}

/// A market that cannot be cleared as stated (an input error, not a solve outcome).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    /// Which item (`supply[3]`, `route[0]`, ...).
    pub item: String,
    /// Which field of it.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.item, self.field, self.message)
    }
}

impl std::error::Error for ModelError {}

impl Market {
    /// Index of the price of `good` in `region` in [`crate::Solution::prices`].
    pub fn node(&self, region: usize, good: usize) -> usize {
        region * self.goods.len() + good
    }

    /// Number of (region, good) nodes.
    pub fn nodes(&self) -> usize {
        self.regions.len() * self.goods.len()
    }

    /// Adds a piecewise-linear supply curve through `points` (quantity, price), quantities
    /// increasing from 0 and prices non-decreasing, as one step per segment.
    pub fn add_supply_curve(
        &mut self,
        region: usize,
        good: usize,
        points: &[(f64, f64)],
    ) -> Result<(), ModelError> {
        for step in segments(points, true)? {
            self.supply.push(SupplyStep {
                region,
                good,
                intercept: step.0,
                slope: step.1,
                capacity: Some(step.2),
            });
        }
        Ok(())
    }

    /// Adds a piecewise-linear demand curve through `points` (quantity, price), quantities
    /// increasing from 0 and prices non-increasing, as one step per segment.
    pub fn add_demand_curve(
        &mut self,
        region: usize,
        good: usize,
        points: &[(f64, f64)],
    ) -> Result<(), ModelError> {
        for step in segments(points, false)? {
            self.demand.push(DemandStep {
                region,
                good,
                intercept: step.0,
                slope: -step.1,
                capacity: Some(step.2),
            });
        }
        Ok(())
    }

    /// Checks every index, sign and range; returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<ModelError>> {
        let mut errs = Vec::new();
        let nr = self.regions.len();
        let ng = self.goods.len();
        let mut err = |item: String, field: &'static str, message: String| {
            errs.push(ModelError {
                item,
                field,
                message,
            })
        };
        let finite_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        // Supply and demand steps share their checks.
        let steps = self
            .supply
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    "supply",
                    i,
                    s.region,
                    s.good,
                    s.intercept,
                    s.slope,
                    s.capacity,
                )
            })
            .chain(self.demand.iter().enumerate().map(|(i, d)| {
                (
                    "demand",
                    i,
                    d.region,
                    d.good,
                    d.intercept,
                    d.slope,
                    d.capacity,
                )
            }));
        for (kind, i, region, good, intercept, slope, capacity) in steps {
            let item = || format!("{kind}[{i}]");
            if region >= nr {
                err(item(), "region", format!("no region {region}"));
            }
            if good >= ng {
                err(item(), "good", format!("no good {good}"));
            }
            if !intercept.is_finite() {
                err(item(), "intercept", "must be finite".into());
            }
            if !finite_nonneg(slope) {
                err(item(), "slope", format!("{slope} must be ≥ 0"));
            }
            if let Some(c) = capacity.filter(|c| !finite_nonneg(*c)) {
                err(item(), "capacity", format!("{c} must be ≥ 0"));
            }
        }
        for (i, d) in self.fixed_demand.iter().enumerate() {
            let item = || format!("fixed_demand[{i}]");
            if d.region >= nr || d.good >= ng {
                err(item(), "region", "no such region or good".into());
            }
            if !finite_nonneg(d.quantity) {
                err(item(), "quantity", format!("{} must be ≥ 0", d.quantity));
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            let item = || format!("route[{i}]");
            if r.from >= nr {
                err(item(), "from", format!("no region {}", r.from));
            }
            if r.to >= nr {
                err(item(), "to", format!("no region {}", r.to));
            }
            if r.from == r.to {
                err(item(), "to", "a route must join two regions".into());
            }
            if r.good >= ng {
                err(item(), "good", format!("no good {}", r.good));
            }
            if !finite_nonneg(r.cost) {
                err(item(), "cost", format!("{} must be ≥ 0", r.cost));
            }
            if !finite_nonneg(r.tariff) {
                err(item(), "tariff", format!("{} must be ≥ 0", r.tariff));
            }
            if let Some(c) = r.capacity.filter(|c| !finite_nonneg(*c)) {
                err(item(), "capacity", format!("{c} must be ≥ 0"));
            }
        }
        for (i, p) in self.processes.iter().enumerate() {
            let item = || format!("process[{i}]");
            if p.region >= nr {
                err(item(), "region", format!("no region {}", p.region));
            }
            if p.output >= ng {
                err(item(), "output", format!("no good {}", p.output));
            }
            if p.inputs.is_empty() {
                err(
                    item(),
                    "inputs",
                    "a process needs at least one input".into(),
                );
            }
            for &(g, coef) in &p.inputs {
                if g >= ng {
                    err(item(), "inputs", format!("no good {g}"));
                }
                if g == p.output {
                    err(
                        item(),
                        "inputs",
                        "a process cannot use its own output".into(),
                    );
                }
                if !(coef.is_finite() && coef > 0.0) {
                    err(item(), "inputs", format!("coefficient {coef} must be > 0"));
                }
            }
            if !finite_nonneg(p.cost) {
                err(item(), "cost", format!("{} must be ≥ 0", p.cost));
            }
            if let Some(c) = p.capacity.filter(|c| !finite_nonneg(*c)) {
                err(item(), "capacity", format!("{c} must be ≥ 0"));
            }
        }
        for (i, q) in self.quotas.iter().enumerate() {
            let item = || format!("quota[{i}]");
            if q.routes.is_empty() {
                err(item(), "routes", "a quota needs at least one route".into());
            }
            if q.routes.iter().any(|&r| r >= self.routes.len()) {
                err(item(), "routes", "no such route".into());
            }
            if !finite_nonneg(q.limit) {
                err(item(), "limit", format!("{} must be ≥ 0", q.limit));
            }
        }
        for (i, s) in self.export_shares.iter().enumerate() {
            let item = || format!("export_share[{i}]");
            if s.routes.is_empty() {
                err(item(), "routes", "needs at least one route".into());
            }
            for &r in &s.routes {
                match self.routes.get(r) {
                    None => err(item(), "routes", format!("no route {r}")),
                    Some(route) if route.from != s.region || route.good != s.good => err(
                        item(),
                        "routes",
                        format!("route {r} does not export the good from the region"),
                    ),
                    Some(_) => {}
                }
            }
            if !(s.share.is_finite() && (0.0..=1.0).contains(&s.share)) {
                err(item(), "share", format!("{} must be in [0, 1]", s.share));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// Splits a piecewise-linear curve into (intercept, slope, width) steps.
fn segments(points: &[(f64, f64)], supply: bool) -> Result<Vec<(f64, f64, f64)>, ModelError> {
    let bad = |message: String| ModelError {
        item: "curve".into(),
        field: "points",
        message,
    };
    if points.len() < 2 {
        return Err(bad("a curve needs at least two points".into()));
    }
    if points.iter().any(|(q, p)| !q.is_finite() || !p.is_finite()) {
        return Err(bad("points must be finite".into()));
    }
    if points[0].0 != 0.0 {
        return Err(bad("the first point must be at quantity 0".into()));
    }
    // Each segment becomes its own step. A monotone curve keeps the steps in merit order
    // (every unit of a later segment costs at least as much as any unit of an earlier one), so
    // clearing fills them in order without extra constraints.
    let mut steps = Vec::new();
    for w in points.windows(2) {
        let ((q0, p0), (q1, p1)) = (w[0], w[1]);
        let width = q1 - q0;
        if width <= 0.0 {
            return Err(bad(format!("quantities must increase ({q0} then {q1})")));
        }
        let slope = (p1 - p0) / width;
        if supply && slope < 0.0 {
            return Err(bad(
                "a supply curve's price must not fall with quantity".into()
            ));
        }
        if !supply && slope > 0.0 {
            return Err(bad(
                "a demand curve's price must not rise with quantity".into()
            ));
        }
        steps.push((p0, slope, width));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_split_into_steps() {
        let mut m = Market {
            regions: vec!["A".into()],
            goods: vec!["x".into()],
            ..Market::default()
        };
        m.add_supply_curve(0, 0, &[(0.0, 1.0), (10.0, 1.0), (20.0, 3.0)])
            .unwrap();
        assert_eq!(m.supply.len(), 2);
        assert_eq!(m.supply[1].intercept, 1.0);
        assert!((m.supply[1].slope - 0.2).abs() < 1e-15);
        assert_eq!(m.supply[1].capacity, Some(10.0));
        assert!(m.add_supply_curve(0, 0, &[(0.0, 5.0), (1.0, 4.0)]).is_err());
        m.add_demand_curve(0, 0, &[(0.0, 10.0), (5.0, 10.0), (10.0, 5.0)])
            .unwrap();
        assert_eq!(m.demand.len(), 2);
        assert!((m.demand[1].slope - 1.0).abs() < 1e-15);
    }

    #[test]
    fn validation_reports_every_problem() {
        let m = Market {
            regions: vec!["A".into()],
            goods: vec!["x".into()],
            supply: vec![SupplyStep {
                region: 3,
                good: 0,
                intercept: 1.0,
                slope: -1.0,
                capacity: None,
            }],
            ..Market::default()
        };
        let errs = m.validate().unwrap_err();
        assert_eq!(errs.len(), 2);
    }
}
