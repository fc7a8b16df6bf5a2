//! The reference path: the market as a convex quadratic programme solved by Clarabel.
//!
//! Maximise consumer plus producer surplus minus transport, tariff (as a wedge) and processing
//! costs, subject to node balances, capacities, quotas and export-share caps. Prices are the
//! duals of the node balances; shadow prices of the other constraints are their rents.
//!
//! Variables, in order: supply steps, demand steps, flows on non-banned routes, process
//! activities. Clarabel solves `min ½xᵀPx + qᵀx  s.t.  Ax + s = b, s ∈ K`; its dual `z`
//! satisfies `Px + q + Aᵀz = 0`, so with balance rows written as
//! `demand + exports + inputs − supply − imports − output = −fixed demand` the balance dual is
//! the node's price.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use crate::model::Market;
use crate::solution::{Solution, SolveStatus, check, welfare};

/// Tolerances of the reference path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceOptions {
    /// Clarabel's gap and feasibility tolerances.
    pub tolerance: f64,
    /// Largest scaled violation of [`check`] accepted as optimal.
    pub check_tolerance: f64,
    /// Iteration limit.
    pub max_iter: u32,
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        Self {
            tolerance: 1e-12,
            check_tolerance: 1e-6,
            max_iter: 200,
        }
    }
}

/// Rows of `A` as triplets, to be turned into compressed columns.
#[derive(Default)]
pub(crate) struct Triplets {
    pub(crate) rows: usize,
    entries: Vec<(usize, usize, f64)>,
    b: Vec<f64>,
}

impl Triplets {
    pub(crate) fn row(&mut self, coefs: impl IntoIterator<Item = (usize, f64)>, rhs: f64) -> usize {
        let r = self.rows;
        for (col, v) in coefs {
            if v != 0.0 {
                self.entries.push((r, col, v));
            }
        }
        self.b.push(rhs);
        self.rows += 1;
        r
    }

    pub(crate) fn into_csc(mut self, ncols: usize) -> (CscMatrix<f64>, Vec<f64>) {
        self.entries.sort_by_key(|&(r, c, _)| (c, r));
        let mut colptr = vec![0usize; ncols + 1];
        let mut rowval = Vec::with_capacity(self.entries.len());
        let mut nzval: Vec<f64> = Vec::with_capacity(self.entries.len());
        let mut last = None;
        for (r, c, v) in self.entries {
            if last == Some((r, c)) {
                // A variable appearing twice in one row: add the coefficients.
                if let Some(x) = nzval.last_mut() {
                    *x += v;
                }
                continue;
            }
            rowval.push(r);
            nzval.push(v);
            colptr[c + 1] += 1;
            last = Some((r, c));
        }
        for c in 0..ncols {
            colptr[c + 1] += colptr[c];
        }
        (
            CscMatrix::new(self.rows, ncols, colptr, rowval, nzval),
            self.b,
        )
    }
}

/// Clears a market with the reference QP solver. Invalid input is an `Err`; a market that
/// cannot clear is a [`SolveStatus`] in the solution.
pub fn solve_reference(
    market: &Market,
    options: &ReferenceOptions,
) -> Result<Solution, Vec<crate::ModelError>> {
    market.validate()?;
    let ns = market.supply.len();
    let nd = market.demand.len();
    let live_routes: Vec<usize> = (0..market.routes.len())
        .filter(|&i| !market.routes[i].banned)
        .collect();
    let nr = live_routes.len();
    let np = market.processes.len();
    let n = ns + nd + nr + np;
    let (s0, d0, x0, y0) = (0, ns, ns + nd, ns + nd + nr);
    let mut route_var = vec![usize::MAX; market.routes.len()];
    for (k, &i) in live_routes.iter().enumerate() {
        route_var[i] = x0 + k;
    }

    // Objective.
    let mut q = vec![0.0; n];
    let mut pdiag = vec![0.0; n];
    for (k, s) in market.supply.iter().enumerate() {
        q[s0 + k] = s.intercept;
        pdiag[s0 + k] = s.slope;
    }
    for (k, d) in market.demand.iter().enumerate() {
        q[d0 + k] = -d.intercept;
        pdiag[d0 + k] = d.slope;
    }
    for &i in &live_routes {
        let r = &market.routes[i];
        q[route_var[i]] = r.cost + r.tariff;
    }
    for (k, p) in market.processes.iter().enumerate() {
        q[y0 + k] = p.cost;
    }
    let p_matrix = {
        let mut colptr = vec![0usize];
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
        for (j, &v) in pdiag.iter().enumerate() {
            if v != 0.0 {
                rowval.push(j);
                nzval.push(v);
            }
            colptr.push(rowval.len());
        }
        CscMatrix::new(n, n, colptr, rowval, nzval)
    };

    // Balance rows (zero cone), one per node.
    let nodes = market.nodes();
    let mut bal: Vec<Vec<(usize, f64)>> = vec![Vec::new(); nodes];
    let mut rhs = vec![0.0; nodes];
    for (k, s) in market.supply.iter().enumerate() {
        bal[market.node(s.region, s.good)].push((s0 + k, -1.0));
    }
    for (k, d) in market.demand.iter().enumerate() {
        bal[market.node(d.region, d.good)].push((d0 + k, 1.0));
    }
    for d in &market.fixed_demand {
        rhs[market.node(d.region, d.good)] -= d.quantity;
    }
    for &i in &live_routes {
        let r = &market.routes[i];
        bal[market.node(r.from, r.good)].push((route_var[i], 1.0));
        bal[market.node(r.to, r.good)].push((route_var[i], -1.0));
    }
    for (k, p) in market.processes.iter().enumerate() {
        bal[market.node(p.region, p.output)].push((y0 + k, -1.0));
        for &(g, c) in &p.inputs {
            bal[market.node(p.region, g)].push((y0 + k, c));
        }
    }
    let mut a = Triplets {
        rows: 0,
        entries: Vec::new(),
        b: Vec::new(),
    };
    for (coefs, b) in bal.into_iter().zip(rhs) {
        a.row(coefs, b);
    }
    let zero_rows = a.rows;

    // Inequalities (non-negative cone): v ≥ 0, capacities, quotas, share caps.
    for j in 0..n {
        a.row([(j, -1.0)], 0.0);
    }
    for (k, s) in market.supply.iter().enumerate() {
        if let Some(c) = s.capacity {
            a.row([(s0 + k, 1.0)], c);
        }
    }
    for (k, d) in market.demand.iter().enumerate() {
        if let Some(c) = d.capacity {
            a.row([(d0 + k, 1.0)], c);
        }
    }
    let mut route_cap_row = vec![None; market.routes.len()];
    for &i in &live_routes {
        if let Some(c) = market.routes[i].capacity {
            route_cap_row[i] = Some(a.row([(route_var[i], 1.0)], c));
        }
    }
    let mut process_cap_row = vec![None; np];
    for (k, p) in market.processes.iter().enumerate() {
        if let Some(c) = p.capacity {
            process_cap_row[k] = Some(a.row([(y0 + k, 1.0)], c));
        }
    }
    let quota_rows: Vec<usize> = market
        .quotas
        .iter()
        .map(|quota| {
            let coefs: Vec<(usize, f64)> = quota
                .routes
                .iter()
                .filter(|&&i| !market.routes[i].banned)
                .map(|&i| (route_var[i], 1.0))
                .collect();
            a.row(coefs, quota.limit)
        })
        .collect();
    let share_rows: Vec<usize> = market
        .export_shares
        .iter()
        .map(|cap| {
            let mut coefs: Vec<(usize, f64)> = cap
                .routes
                .iter()
                .filter(|&&i| !market.routes[i].banned)
                .map(|&i| (route_var[i], 1.0))
                .collect();
            for (k, s) in market.supply.iter().enumerate() {
                if s.region == cap.region && s.good == cap.good {
                    coefs.push((s0 + k, -cap.share));
                }
            }
            for (k, p) in market.processes.iter().enumerate() {
                if p.region == cap.region && p.output == cap.good {
                    coefs.push((y0 + k, -cap.share));
                }
            }
            a.row(coefs, 0.0)
        })
        .collect();
    let total_rows = a.rows;
    let (a_matrix, b) = a.into_csc(n);
    let cones = [
        SupportedConeT::ZeroConeT(zero_rows),
        SupportedConeT::NonnegativeConeT(total_rows - zero_rows),
    ];
    let settings = match DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(options.max_iter)
        .tol_gap_abs(options.tolerance)
        .tol_gap_rel(options.tolerance)
        .tol_feas(options.tolerance)
        .tol_infeas_abs(options.tolerance)
        .tol_infeas_rel(options.tolerance)
        .build()
    {
        Ok(s) => s,
        Err(_) => return Ok(Solution::failed(market, SolveStatus::NotConverged, 0)),
    };
    let mut solver = match DefaultSolver::new(&p_matrix, &q, &a_matrix, &b, &cones, settings) {
        Ok(s) => s,
        Err(_) => return Ok(Solution::failed(market, SolveStatus::NotConverged, 0)),
    };
    solver.solve();
    let sol = &solver.solution;
    let iterations = sol.iterations;
    let status = match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => SolveStatus::Optimal,
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            SolveStatus::Infeasible
        }
        SolverStatus::DualInfeasible | SolverStatus::AlmostDualInfeasible => SolveStatus::Unbounded,
        _ => SolveStatus::NotConverged,
    };
    if status != SolveStatus::Optimal {
        return Ok(Solution::failed(market, status, iterations));
    }
    let x = &sol.x;
    let z = &sol.z;
    let clean = |v: f64| if v.abs() < 1e-12 { 0.0 } else { v };
    let mut out = Solution::failed(market, SolveStatus::Optimal, iterations);
    out.prices = (0..nodes).map(|i| z[i]).collect();
    out.supply = (0..ns).map(|k| clean(x[s0 + k].max(0.0))).collect();
    out.demand = (0..nd).map(|k| clean(x[d0 + k].max(0.0))).collect();
    for &i in &live_routes {
        out.flows[i] = clean(x[route_var[i]].max(0.0));
        if let Some(r) = route_cap_row[i] {
            out.route_shadow[i] = clean(z[r].max(0.0));
        }
    }
    out.activity = (0..np).map(|k| clean(x[y0 + k].max(0.0))).collect();
    for (k, row) in process_cap_row.iter().enumerate() {
        if let Some(r) = row {
            out.process_shadow[k] = clean(z[*r].max(0.0));
        }
    }
    out.quota_shadow = quota_rows.iter().map(|&r| clean(z[r].max(0.0))).collect();
    out.share_shadow = share_rows.iter().map(|&r| clean(z[r].max(0.0))).collect();
    out.welfare = welfare(market, &out);
    out.max_violation = check(market, &out);
    if out.max_violation > options.check_tolerance {
        out.status = SolveStatus::NotConverged;
    }
    Ok(out)
}
