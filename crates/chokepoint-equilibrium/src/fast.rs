//! The fast path: a structure-exploiting active-set method in prices, warm-started.
//!
//! In prices the spatial equilibrium is the minimisation of a separable convex function
//! (each node's surplus as a function of its price, whose derivative is the node's excess
//! supply) subject to one difference constraint per route, `p_to − p_from ≤ wedge`, whose
//! multiplier is the route's flow. A route capacity makes the constraint soft (flow capped,
//! rent = gap − wedge). The working set of active routes is always a forest, so
//!
//! - minimising over the working set is one monotone piecewise-linear equation per tree (the
//!   tree's total excess supply as a function of its price level), solved exactly by a sweep
//!   over its sorted breakpoints;
//! - flows on working routes (the multipliers) follow from subtree sums;
//! - the primal active-set method (step towards the working-set minimiser, stop at the first
//!   blocking route, drop routes with negative flow, saturate routes over capacity) ends in
//!   finitely many steps, with no linear algebra at all.
//!
//! Quotas and export-share caps couple routes; they are priced by an outer Lagrangian loop
//! (their shadow prices add to the wedges of their routes, and a share cap's shadow price
//! times the share adds to its producers' price), each multiplier found exactly by regula
//! falsi on a monotone piecewise-linear function. A single-input process is one more edge, from
//! its input node to its output node with a gain (units of input per unit of output): within a
//! tree every price is then factor·level + offset, the tree equation weighs each node's excess
//! by its factor, and flows follow from factor-weighted subtree sums (a generalised network).
//! A process with several inputs is a *joint* edge: it never joins trees; in the working set
//! it adds one linear equation between the levels of the trees its nodes lie in, and the trees
//! it links are solved together as a small dense system over their levels, its activity being
//! the equation's multiplier (see [`joint`]).
//!
//! A solve starts from the last one's working set, repaired for the new parameters (edges its
//! minimiser would violate join it, a few rounds at most), and from scratch only when that
//! fails. Tolerances follow each good's own magnitudes: a flow is negative or over capacity
//! beyond rounding relative to the quantities of the goods it carries, not to the largest
//! good of the market (a tonne of HALEU a quarter next to megatonnes of copper).
//!
//! Markets the method does not cover (flat steps without a capacity) go to the reference
//! path, as does any solve that hits a guard; [`Solution::solver`] says which path produced a
//! solution.

mod joint;

use crate::model::Market;
use crate::reference::{ReferenceOptions, solve_reference};
use crate::solution::{Solution, SolveStatus, SolverPath, check, welfare};

/// Limits of the fast path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastOptions {
    /// Relative tolerance on prices and quantities.
    pub tolerance: f64,
    /// Active-set steps allowed per network solve, per route and node (plus
    /// `degenerate_steps`: small markets need a few times their size), at most `max_steps`.
    pub steps_per_element: usize,
    /// Active-set steps allowed per network solve, whatever its size: each step is a pass
    /// over every edge, and a cold start of the world model takes about 2,000.
    pub max_steps: usize,
    /// Steps in a row that do not move the prices (an edge joins or leaves the working set
    /// at the current point) before a network solve gives up: the active set can cycle
    /// among degenerate working sets, and each step is a pass over every edge.
    pub degenerate_steps: usize,
    /// Outer sweeps over quotas and share caps.
    pub max_outer: usize,
    /// Market clearings the multiplier search may spend per quota and share cap before the
    /// solve goes to the reference path. Quotas over routes of constant cost switch whole
    /// flows at a multiplier; several of them interacting can make the coordinate search
    /// circle for tens of thousands of clearings where the reference path takes under a
    /// second.
    pub clearings_per_multiplier: usize,
    /// At most this many clearings in all per multiplier search, however many multipliers
    /// (each clearing of a large market costs a fraction of a reference solve).
    pub max_clearings: usize,
    /// After two multiplier searches in a row spend their budget, the following markets with
    /// quotas go straight to the reference path, but every `retry_every`-th one tries the
    /// fast path again (markets from quarter to quarter are much alike: a search that circled
    /// last quarter will likely circle again).
    pub retry_every: usize,
    /// Largest scaled violation of [`check`] accepted as optimal.
    pub check_tolerance: f64,
}

impl Default for FastOptions {
    fn default() -> Self {
        Self {
            tolerance: 1e-11,
            steps_per_element: 2,
            degenerate_steps: 1000,
            max_steps: 6000,
            max_outer: 200,
            clearings_per_multiplier: 60,
            max_clearings: 120,
            retry_every: 4,
            check_tolerance: 1e-7,
        }
    }
}

/// Why a multiplier search gave up when its clearing budget ran out.
const SPENT: &str = "multiplier search: clearing budget spent";

/// Counters of the work done, for profiles and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastStats {
    /// Working-set minimisations (tree solves of one good).
    pub tree_solves: u64,
    /// Active-set changes (blocking routes added, routes dropped or saturated).
    pub pivots: u64,
    /// Network solves (one good, fixed multipliers).
    pub network_solves: u64,
    /// Solves handed to the reference path.
    pub fallbacks: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteState {
    /// Not in the working set, flow 0, gap ≤ wedge.
    Zero,
    /// In the working set: gap = wedge, flow from the tree.
    Basic,
    /// At capacity, not in the working set: gap ≥ wedge.
    Upper,
}

#[derive(Debug, Clone, Copy)]
struct Step {
    supply: bool,
    intercept: f64,
    slope: f64,
    cap: f64,
    /// Index into `Market::supply` or `Market::demand`.
    index: usize,
}

/// What an edge of the network is in the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    /// A route (index into `Market::routes`): moves a good between regions.
    Route(usize),
    /// A process (index into `Market::processes`): turns `gain` units of its first input,
    /// and the edge's `extras` of its other inputs, into one unit of the output good in one
    /// region.
    Process(usize),
}

/// The whole market as one network, prepared once and reused across solves. Nodes are the
/// market's (region, good) nodes; an edge from `tail` to `head` with activity x takes
/// `gain`·x from the tail, c·x from each of its extra inputs (node, c), and adds x to the
/// head; its dual constraint is p_head − gain·p_tail − Σ c·p_extra ≤ wedge (equality while it
/// is in the working set). Only processes with several inputs have extras: they are *joint*
/// edges, which never join trees (see [`joint`]).
#[derive(Debug, Clone)]
struct Net {
    edges: Vec<EdgeKind>,
    /// (tail, head) node of each edge.
    ends: Vec<(usize, usize)>,
    /// Input units per unit of activity: 1 for routes, the input coefficient for processes.
    gain: Vec<f64>,
    /// Joint edges are `first_joint..`; joint edge k's extra inputs are
    /// `extras[extra_start[k − first_joint]..extra_start[k − first_joint + 1]]`.
    first_joint: usize,
    extra_start: Vec<usize>,
    /// Extra inputs of joint edges: (node, units per unit of activity).
    extras: Vec<(usize, f64)>,
    /// Last activity of each joint edge in the working set (starts its next solve).
    joint_x: Vec<f64>,
    /// Cost + tariff of a route, unit cost of a process (set by `load`).
    base_wedge: Vec<f64>,
    /// Capacity of each edge, ∞ when none (set by `load`).
    cap: Vec<f64>,
    /// How far an edge's activity may stray beyond its bounds as rounding (set by `load`,
    /// from the magnitudes of the goods it carries: see [`good_quantities`]).
    tol_x: Vec<f64>,
    state: Vec<RouteState>,
    /// Steps per node.
    steps: Vec<Vec<Step>>,
    /// Fixed demand per node.
    fixed: Vec<f64>,
    /// Last working-set prices (warm start), valid when `warm`.
    prices: Vec<f64>,
    warm: bool,
}

impl Net {
    /// Inputs of edge `k` beyond its tail, (node, units per unit of activity): empty but for
    /// processes with several inputs.
    fn extras(&self, k: usize) -> &[(usize, f64)] {
        if k < self.first_joint {
            return &[];
        }
        let j = k - self.first_joint;
        &self.extras[self.extra_start[j]..self.extra_start[j + 1]]
    }

    /// Whether edge `k` is a process with several inputs (a joint edge).
    fn is_joint(&self, k: usize) -> bool {
        k >= self.first_joint
    }

    /// Every node edge `k` touches with its coefficient in the edge's gap: the head +1, the
    /// tail −gain, each extra input −c.
    fn touches(&self, k: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (tail, head) = self.ends[k];
        [(head, 1.0), (tail, -self.gain[k])]
            .into_iter()
            .chain(self.extras(k).iter().map(|&(e, c)| (e, -c)))
    }
}

/// A breakpoint of a tree's weighted excess as a function of its level: (level, change of
/// slope, jump, position of the node in `Scratch::order`, step index at the node).
type Event = (f64, f64, f64, u32, u32);

/// Scales of one network solve.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Price tolerance.
    tol_p: f64,
    /// Level of a tree whose excess cannot reach zero (± this, far beyond any real price).
    big: f64,
    /// Quantity per price (a first step length for searches over activities).
    ratio: f64,
    /// Price magnitude of the market.
    price: f64,
}

/// Work buffers of one network solve.
#[derive(Debug, Clone, Default)]
struct Scratch {
    comp: Vec<usize>,
    basic: Vec<usize>,
    fill: Vec<usize>,
    /// p = factor·level + offset within a tree.
    factor: Vec<f64>,
    offset: Vec<f64>,
    order: Vec<usize>,
    parent_route: Vec<usize>,
    adj_start: Vec<usize>,
    adj: Vec<(usize, usize)>,
    pstar: Vec<f64>,
    p: Vec<f64>,
    fixed_out: Vec<f64>,
    excess: Vec<f64>,
    flows: Vec<f64>,
    events: Vec<Event>,
    uncapped: Vec<(f64, f64)>,
    partial: Vec<(usize, usize, f64)>,
    roots: Vec<usize>,
    comp_unsolvable: Vec<i8>,
    /// Per component: its run `order[start..end]`.
    comp_range: Vec<(usize, usize)>,
    /// Joint edges in the working set.
    joints: Vec<usize>,
    /// Union–find over components joined by joint edges, and which components they touch.
    dsu: Vec<usize>,
    touched: Vec<bool>,
    /// Position of a component within its cluster.
    local: Vec<usize>,
    /// Whether the last minimiser is only approximate: trees joined by joint edges whose
    /// levels were corrected to meet the joint equations (flagged unsolvable), as when some
    /// cannot balance in the working set.
    approximate: bool,
    cluster: joint::Cluster,
    /// Edges the active set may not take out of the working set for now.
    tabu: Vec<usize>,
    /// Edges a warm start's minimiser violates: (violation, edge).
    violated: Vec<(f64, usize)>,
    /// Edge states before a warm start's repair, restored when it fails.
    saved_state: Vec<RouteState>,
    /// Whether [`price_start`] found a feasible start.
    p_feasible: bool,
    why: &'static str,
    wedge: Vec<f64>,
}

/// The result of one network solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NetOutcome {
    Optimal,
    Infeasible,
    GaveUp,
}

/// A reusable fast solver for markets of one structure (same regions, goods, steps, routes
/// and constraints); parameters may change between solves, and each solve starts from the
/// previous one's working sets and shadow prices.
#[derive(Debug, Clone)]
pub struct FastSolver {
    nets: Vec<Net>,
    quota_lambda: Vec<f64>,
    share_lambda: Vec<f64>,
    scratch: Scratch,
    options: FastOptions,
    gave_up: Option<&'static str>,
    /// `stats.pivots` when the current solve began (its iteration count is the difference).
    pivots_at_start: u64,
    /// Magnitudes of the market being solved.
    scale: Scale,
    /// Quantity magnitude of each good of the market being solved.
    good_qty: Vec<f64>,
    /// Clearings the multiplier search of the current solve may still spend.
    clearings_left: usize,
    /// Per quota / share cap: the bracket (lo, hi) of a multiplier that sits on a flow
    /// switch (usage jumps over the limit there), found by the last search.
    jumps: Vec<Option<(f64, f64)>>,
    /// Work counters since creation.
    pub stats: FastStats,
    /// Why the last fallback to the reference path happened, if any.
    pub last_fallback: Option<&'static str>,
    /// Multiplier searches that spent their budget in a row (see [`FastOptions::retry_every`]).
    spent_in_a_row: usize,
    shape: Shape,
}

/// What a solver's network is built from: the sizes of a market and how many inputs each of
/// its processes has (which makes its edges).
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    sizes: [usize; 6],
    inputs: Vec<usize>,
}

impl Shape {
    fn of(m: &Market) -> Self {
        Shape {
            sizes: Self::sizes(m),
            inputs: m.processes.iter().map(|p| p.inputs.len()).collect(),
        }
    }

    /// Quotas and share caps are not part of the shape: they only add multipliers to route
    /// wedges, and a solver keeps its warm start when a scenario adds or drops one.
    fn sizes(m: &Market) -> [usize; 6] {
        [
            m.regions.len(),
            m.goods.len(),
            m.supply.len(),
            m.demand.len(),
            m.routes.len(),
            m.processes.len(),
        ]
    }

    /// Whether `m` has this shape (without allocating: checked on every solve).
    fn fits(&self, m: &Market) -> bool {
        self.sizes == Self::sizes(m)
            && self
                .inputs
                .iter()
                .zip(&m.processes)
                .all(|(&n, p)| n == p.inputs.len())
    }
}

/// Whether the fast path covers a market: every perfectly elastic step has a capacity
/// (processes may have any number of inputs).
pub fn fast_path_covers(market: &Market) -> bool {
    market
        .supply
        .iter()
        .all(|s| s.slope > 0.0 || s.capacity.is_some())
        && market
            .demand
            .iter()
            .all(|d| d.slope > 0.0 || d.capacity.is_some())
}

/// Clears a market on the fast path when it covers it, else on the reference path.
pub fn solve(market: &Market) -> Result<Solution, Vec<crate::ModelError>> {
    market.validate()?;
    if !fast_path_covers(market) {
        return solve_reference(market, &ReferenceOptions::default());
    }
    let mut solver = FastSolver::new(market, FastOptions::default());
    Ok(solver.solve(market))
}

impl FastSolver {
    /// Prepares a solver for markets shaped like `market` (which should be valid).
    pub fn new(market: &Market, options: FastOptions) -> Self {
        let n = market.nodes();
        let mut edges = Vec::new();
        let mut ends = Vec::new();
        let mut gain = Vec::new();
        let mut extra_start = vec![0];
        let mut extras = Vec::new();
        for (i, r) in market.routes.iter().enumerate() {
            if !r.banned {
                edges.push(EdgeKind::Route(i));
                ends.push((market.node(r.from, r.good), market.node(r.to, r.good)));
                gain.push(1.0);
            }
        }
        // A process's first input is its edge's tail; any further inputs are extras (which
        // input comes first does not matter: a joint edge's inputs all enter its equation
        // alike, and the tail only guides the cold start). Joint edges come last, so that
        // the hot loops tell an edge without extras by its index alone.
        let mut order: Vec<usize> = (0..market.processes.len()).collect();
        order.sort_by_key(|&i| market.processes[i].inputs.len() > 1);
        for i in order {
            let p = &market.processes[i];
            let Some(&(input, coefficient)) = p.inputs.first() else {
                continue;
            };
            if p.inputs.len() > 1 {
                extras.extend(
                    p.inputs[1..]
                        .iter()
                        .map(|&(g, c)| (market.node(p.region, g), c)),
                );
                extra_start.push(extras.len());
            }
            edges.push(EdgeKind::Process(i));
            ends.push((
                market.node(p.region, input),
                market.node(p.region, p.output),
            ));
            gain.push(coefficient);
        }
        let m = edges.len();
        let nets = vec![Net {
            edges,
            ends,
            gain,
            first_joint: m + 1 - extra_start.len(),
            extra_start,
            extras,
            joint_x: vec![0.0; m],
            base_wedge: vec![0.0; m],
            cap: vec![f64::INFINITY; m],
            tol_x: vec![0.0; m],
            state: vec![RouteState::Zero; m],
            steps: vec![Vec::new(); n],
            fixed: vec![0.0; n],
            prices: vec![0.0; n],
            warm: false,
        }];
        let mut good_qty = Vec::new();
        let scale = Scale::of(market, &mut good_qty);
        Self {
            nets,
            quota_lambda: vec![0.0; market.quotas.len()],
            share_lambda: vec![0.0; market.export_shares.len()],
            scratch: Scratch::default(),
            options,
            gave_up: None,
            pivots_at_start: 0,
            scale,
            good_qty,
            clearings_left: 0,
            jumps: vec![None; market.quotas.len() + market.export_shares.len()],
            stats: FastStats::default(),
            last_fallback: None,
            spent_in_a_row: 0,
            shape: Shape::of(market),
        }
    }

    /// Clears `market`, warm-started from the previous solve. A market of another shape, or
    /// one the fast path does not cover, is solved on the reference path.
    pub fn solve(&mut self, market: &Market) -> Solution {
        if !self.shape.fits(market) || !fast_path_covers(market) {
            return self.fallback(market, "market not covered by the fast path");
        }
        if market.validate().is_err() {
            return self.fallback(market, "invalid market");
        }
        if self.quota_lambda.len() != market.quotas.len()
            || self.share_lambda.len() != market.export_shares.len()
        {
            // Other coupling constraints: their multipliers start from 0.
            self.quota_lambda = vec![0.0; market.quotas.len()];
            self.share_lambda = vec![0.0; market.export_shares.len()];
            self.jumps = vec![None; market.quotas.len() + market.export_shares.len()];
        }
        self.scale = Scale::of(market, &mut self.good_qty);
        self.load(market);
        self.gave_up = None;
        self.pivots_at_start = self.stats.pivots;
        self.clearings_left = (self.options.clearings_per_multiplier
            * (market.quotas.len() + market.export_shares.len()))
        .min(self.options.max_clearings);
        let coupled = !market.quotas.is_empty() || !market.export_shares.is_empty();
        if coupled
            && self.spent_in_a_row >= 2
            && self.spent_in_a_row % self.options.retry_every.max(1) != 0
        {
            // The last searches circled until their budget ran out: hand over at once (the
            // next quarter's market is much like this one), trying again now and then.
            self.spent_in_a_row += 1;
            return self.fallback(
                market,
                "multiplier search: handed over (the last ones spent their budget)",
            );
        }
        match self.solve_outer(market) {
            Some(sol) => {
                self.spent_in_a_row = 0;
                sol
            }
            None => {
                let why = self.gave_up.unwrap_or("multiplier search did not converge");
                if why == SPENT {
                    self.spent_in_a_row += 1;
                }
                self.fallback(market, why)
            }
        }
    }

    /// Warm-starts the next solve from `sol`, a solution of a market of this shape (another
    /// run's same quarter, say: a scenario starting from its baseline, a risk draw from the
    /// scenario's expected run). Its prices become the start; routes and plants running
    /// strictly inside their bounds form the working set (as far as they form a forest: one
    /// closing a cycle stays out), those at capacity start saturated. Far cheaper than a
    /// cold start, which builds the working set edge by edge (thousands of steps on the world
    /// model). Quota and share multipliers start from `sol`'s shadow prices. A solution of
    /// another shape, or not optimal, is ignored.
    pub fn warm_from(&mut self, market: &Market, sol: &Solution) {
        if !self.shape.fits(market)
            || sol.status != SolveStatus::Optimal
            || sol.prices.len() != market.nodes()
            || sol.flows.len() != market.routes.len()
            || sol.activity.len() != market.processes.len()
            || sol.prices.iter().any(|p| !p.is_finite())
        {
            return;
        }
        self.scale = Scale::of(market, &mut self.good_qty);
        self.load(market);
        if sol.quota_shadow.len() == market.quotas.len() {
            self.quota_lambda.clone_from(&sol.quota_shadow);
        }
        if sol.share_shadow.len() == market.export_shares.len() {
            self.share_lambda.clone_from(&sol.share_shadow);
        }
        self.jumps = vec![None; market.quotas.len() + market.export_shares.len()];
        for net in &mut self.nets {
            let n = net.prices.len();
            let mut dsu: Vec<usize> = (0..n).collect();
            for k in 0..net.edges.len() {
                let x = match net.edges[k] {
                    EdgeKind::Route(r) => sol.flows[r],
                    EdgeKind::Process(i) => sol.activity[i],
                };
                let (cap, tol) = (net.cap[k], net.tol_x[k]);
                net.joint_x[k] = x.max(0.0);
                net.state[k] = if x <= tol {
                    RouteState::Zero
                } else if x >= cap - tol {
                    RouteState::Upper
                } else if net.is_joint(k) {
                    // An equation between trees, not a tree edge: dependent ones are dropped
                    // when the working set is solved.
                    RouteState::Basic
                } else {
                    let (a, b) = net.ends[k];
                    let (ra, rb) = (joint::find(&mut dsu, a), joint::find(&mut dsu, b));
                    if ra == rb {
                        RouteState::Zero
                    } else {
                        dsu[rb] = ra;
                        RouteState::Basic
                    }
                };
            }
            net.prices.copy_from_slice(&sol.prices);
            net.warm = true;
        }
    }

    fn fallback(&mut self, market: &Market, why: &'static str) -> Solution {
        self.stats.fallbacks += 1;
        self.last_fallback = Some(why);
        for net in &mut self.nets {
            net.warm = false;
        }
        let mut sol = match solve_reference(market, &ReferenceOptions::default()) {
            Ok(s) => s,
            Err(_) => Solution::failed(market, SolveStatus::NotConverged, 0),
        };
        sol.solver = SolverPath::ReferenceFallback;
        // The next solve starts from this one (prices, working set, multipliers).
        self.warm_from(market, &sol);
        sol
    }

    /// Copies the steps, fixed demands, edge wedges, capacities and tolerances of `market`
    /// into the network (`good_qty` set).
    fn load(&mut self, market: &Market) {
        let qty = &self.good_qty;
        for net in &mut self.nets {
            for s in &mut net.steps {
                s.clear();
            }
            net.fixed.iter_mut().for_each(|f| *f = 0.0);
            let supply = market
                .supply
                .iter()
                .enumerate()
                .map(|(k, s)| (true, k, s.region, s.good, s.intercept, s.slope, s.capacity));
            let demand = market
                .demand
                .iter()
                .enumerate()
                .map(|(k, d)| (false, k, d.region, d.good, d.intercept, d.slope, d.capacity));
            for (is_supply, k, region, good, intercept, slope, capacity) in supply.chain(demand) {
                net.steps[market.node(region, good)].push(Step {
                    supply: is_supply,
                    intercept,
                    slope,
                    cap: capacity.unwrap_or(f64::INFINITY),
                    index: k,
                });
            }
            for d in &market.fixed_demand {
                net.fixed[market.node(d.region, d.good)] += d.quantity;
            }
            for (k, edge) in net.edges.iter().enumerate() {
                let (wedge, cap, magnitude) = match *edge {
                    EdgeKind::Route(r) => {
                        let route = &market.routes[r];
                        (route.cost + route.tariff, route.capacity, qty[route.good])
                    }
                    EdgeKind::Process(i) => {
                        // An activity in units of output: the smallest of the magnitudes of
                        // its output and of its inputs per unit of output.
                        let p = &market.processes[i];
                        let magnitude = p
                            .inputs
                            .iter()
                            .map(|&(g, c)| qty[g] / c)
                            .fold(qty[p.output], f64::min);
                        (p.cost, p.capacity, magnitude)
                    }
                };
                net.base_wedge[k] = wedge;
                net.cap[k] = cap.unwrap_or(f64::INFINITY);
                net.tol_x[k] = QTY_TOL * magnitude;
            }
        }
    }

    fn solve_outer(&mut self, market: &Market) -> Option<Solution> {
        let mut sol = Solution::failed(market, SolveStatus::Optimal, 0);
        sol.prices = vec![0.0; market.nodes()];
        let scale = self.scale;
        let nq = market.quotas.len();
        let ns = market.export_shares.len();
        // Without coupling constraints the goods clear once each.
        if nq + ns == 0 {
            return match self.clear_all(market, &mut sol) {
                NetOutcome::Optimal => Some(self.finish(market, sol)),
                NetOutcome::Infeasible => Some(infeasible(market)),
                NetOutcome::GaveUp => None,
            };
        }
        // Usage tolerance of each quota and share cap, from the magnitude of the goods it
        // covers.
        let rel = self.options.tolerance.sqrt() * 1e-3;
        let tols: Vec<f64> = market
            .quotas
            .iter()
            .map(|q| {
                q.routes
                    .iter()
                    .map(|&r| self.good_qty[market.routes[r].good])
                    .fold(1.0_f64, f64::max)
            })
            .chain(market.export_shares.iter().map(|c| self.good_qty[c.good]))
            .map(|magnitude| rel * magnitude)
            .collect();
        for _sweep in 0..self.options.max_outer {
            let mut all_ok = true;
            for (j, &tol) in tols.iter().enumerate() {
                // h(λ) = usage − limit, non-increasing in λ.
                let lambda0 = self.lambda(j, nq);
                let h0 = self.evaluate(market, &mut sol, j, nq, lambda0)?;
                let on_jump = matches!(self.jumps[j], Some((_, hi)) if hi == lambda0);
                let ok = if lambda0 <= 0.0 {
                    h0 <= tol
                } else {
                    h0.abs() <= tol || (on_jump && h0 <= 0.0)
                };
                if ok {
                    continue;
                }
                all_ok = false;
                self.find_multiplier(market, &mut sol, j, nq, lambda0, h0, tol, &scale)?;
            }
            if all_ok {
                match self.clear_all(market, &mut sol) {
                    NetOutcome::Optimal => {}
                    NetOutcome::Infeasible => return Some(infeasible(market)),
                    NetOutcome::GaveUp => return None,
                }
                let on_jumps: Vec<usize> = (0..nq + ns)
                    .filter(|&j| {
                        matches!(self.jumps[j], Some((_, hi)) if hi == self.lambda(j, nq))
                            && excess_usage(market, &sol, j, nq) < -tols[j]
                    })
                    .collect();
                match on_jumps[..] {
                    [] => {}
                    [j] => {
                        // At a flow switch both sides' flows are optimal for the same
                        // multiplier; the blend that uses exactly the limit is the equilibrium.
                        let (lo, hi) = self.jumps[j]?;
                        let h_hi = excess_usage(market, &sol, j, nq);
                        let mut low = sol.clone();
                        self.set_lambda(j, nq, lo);
                        let out = self.clear_all(market, &mut low);
                        self.set_lambda(j, nq, hi);
                        if out != NetOutcome::Optimal {
                            return None;
                        }
                        let h_lo = excess_usage(market, &low, j, nq);
                        if h_lo <= 0.0 {
                            return None;
                        }
                        let theta = -h_hi / (h_lo - h_hi);
                        blend(&mut sol.flows, &low.flows, theta);
                        blend(&mut sol.supply, &low.supply, theta);
                        blend(&mut sol.demand, &low.demand, theta);
                        blend(&mut sol.prices, &low.prices, theta);
                    }
                    _ => {
                        self.gave_up = Some("several multipliers on flow switches");
                        return None;
                    }
                }
                return Some(self.finish(market, sol));
            }
        }
        None
    }

    fn lambda(&self, j: usize, nq: usize) -> f64 {
        if j < nq {
            self.quota_lambda[j]
        } else {
            self.share_lambda[j - nq]
        }
    }

    fn set_lambda(&mut self, j: usize, nq: usize, v: f64) {
        if j < nq {
            self.quota_lambda[j] = v;
        } else {
            self.share_lambda[j - nq] = v;
        }
    }

    /// Clears the market with multiplier `j` at `lambda` and returns its usage − limit.
    /// `None` when the network solve gave up; an infeasible network counts as usage +∞.
    fn evaluate(
        &mut self,
        market: &Market,
        sol: &mut Solution,
        j: usize,
        nq: usize,
        lambda: f64,
    ) -> Option<f64> {
        if self.clearings_left == 0 {
            self.gave_up = Some(SPENT);
            return None;
        }
        self.clearings_left -= 1;
        self.set_lambda(j, nq, lambda);
        match self.clear_all(market, sol) {
            NetOutcome::Optimal => {}
            NetOutcome::Infeasible => return Some(f64::INFINITY),
            NetOutcome::GaveUp => return None,
        }
        Some(excess_usage(market, sol, j, nq))
    }

    /// Regula falsi (Illinois) for λ_j ≥ 0 with h(λ_j) = 0, or λ_j = 0 when h(0) ≤ 0.
    #[allow(clippy::too_many_arguments)]
    fn find_multiplier(
        &mut self,
        market: &Market,
        sol: &mut Solution,
        j: usize,
        nq: usize,
        lambda0: f64,
        h0: f64,
        tol: f64,
        scale: &Scale,
    ) -> Option<()> {
        self.jumps[j] = None;
        // Bracket: lo with h > 0, hi with h ≤ 0.
        let (mut lo, mut h_lo, mut hi, mut h_hi);
        if h0 > 0.0 {
            lo = lambda0;
            h_lo = h0;
            let mut step = scale.price.max(lambda0);
            loop {
                let candidate = lo + step;
                let h = self.evaluate(market, sol, j, nq, candidate)?;
                if h <= 0.0 {
                    hi = candidate;
                    h_hi = h;
                    break;
                }
                lo = candidate;
                h_lo = h;
                step *= 4.0;
                if step > 1e12 * scale.price {
                    return None;
                }
            }
        } else {
            // λ > 0 with slack: try λ = 0 first.
            hi = lambda0;
            h_hi = h0;
            let h = self.evaluate(market, sol, j, nq, 0.0)?;
            if h <= tol {
                return Some(());
            }
            lo = 0.0;
            h_lo = h;
        }
        let mut side = 0i8;
        let mut width = (hi - lo).abs();
        for iteration in 0..400 {
            // Regula falsi (Illinois), safeguarded: every third step must have halved the
            // bracket, else bisect. Usage jumps at flow switches, where false position alone
            // crawls.
            let bisect =
                h_lo.is_infinite() || (iteration % 3 == 2 && (hi - lo).abs() > 0.5 * width);
            if iteration % 3 == 2 {
                width = (hi - lo).abs();
            }
            let candidate = if bisect {
                0.5 * (lo + hi)
            } else {
                hi - h_hi * (hi - lo) / (h_hi - h_lo)
            };
            let candidate = candidate.clamp(lo.min(hi), lo.max(hi));
            let h = self.evaluate(market, sol, j, nq, candidate)?;
            if h.abs() <= tol {
                return Some(());
            }
            if h > 0.0 {
                lo = candidate;
                h_lo = h;
                if side == -1 {
                    h_hi *= 0.5;
                }
                side = -1;
            } else {
                hi = candidate;
                h_hi = h;
                if side == 1 {
                    h_lo *= 0.5;
                }
                side = 1;
            }
            if (hi - lo).abs() <= 1e-9 * scale.price.max(hi.abs()) {
                // Usage jumps across the limit between lo and hi: a flow switch. Rest on the
                // side that respects the limit; the final blend meets it exactly.
                self.set_lambda(j, nq, hi);
                self.jumps[j] = Some((lo, hi));
                return Some(());
            }
        }
        None
    }

    /// Shadow prices of quotas and licences added to each route's wedge.
    fn wedge_extra(&self, market: &Market) -> Vec<f64> {
        let mut wedge_extra = vec![0.0; market.routes.len()];
        for (q, lambda) in market.quotas.iter().zip(&self.quota_lambda) {
            for &r in &q.routes {
                wedge_extra[r] += lambda;
            }
        }
        for (c, lambda) in market.export_shares.iter().zip(&self.share_lambda) {
            for &r in &c.routes {
                wedge_extra[r] += lambda;
            }
        }
        wedge_extra
    }

    /// Clears every good at the current multipliers, writing prices, quantities and flows.
    fn clear_all(&mut self, market: &Market, sol: &mut Solution) -> NetOutcome {
        let wedge_extra = self.wedge_extra(market);
        let mut shift = vec![0.0; market.nodes()];
        for (c, lambda) in market.export_shares.iter().zip(&self.share_lambda) {
            shift[market.node(c.region, c.good)] += c.share * lambda;
        }
        let scale = self.scale;
        for g in 0..self.nets.len() {
            let outcome = network_solve(
                &mut self.nets[g],
                market,
                &wedge_extra,
                &shift,
                &scale,
                &self.options,
                &mut self.scratch,
                &mut self.stats,
                sol,
            );
            if outcome == NetOutcome::GaveUp {
                self.gave_up = Some(self.scratch.why);
            }
            if outcome != NetOutcome::Optimal {
                return outcome;
            }
        }
        NetOutcome::Optimal
    }

    fn finish(&mut self, market: &Market, mut sol: Solution) -> Solution {
        sol.status = SolveStatus::Optimal;
        sol.solver = SolverPath::Fast;
        sol.iterations =
            u32::try_from(self.stats.pivots - self.pivots_at_start).unwrap_or(u32::MAX);
        sol.quota_shadow = self.quota_lambda.clone();
        sol.share_shadow = self.share_lambda.clone();
        let extra = self.wedge_extra(market);
        for (i, r) in market.routes.iter().enumerate() {
            sol.route_shadow[i] = 0.0;
            if let Some(cap) = r.capacity
                && !r.banned
                && sol.flows[i] >= cap - 1e-9 * cap.max(1.0)
            {
                let wedge = r.cost + r.tariff + extra[i];
                let gap =
                    sol.prices[market.node(r.to, r.good)] - sol.prices[market.node(r.from, r.good)];
                sol.route_shadow[i] = (gap - wedge).max(0.0);
            }
        }
        // A plant at capacity earns its margin over cost as the capacity's shadow price
        // (licences earned by its output count as part of the margin).
        let mut licence = vec![0.0; market.nodes()];
        for (c, l) in market.export_shares.iter().zip(&sol.share_shadow) {
            licence[market.node(c.region, c.good)] += c.share * l;
        }
        for (i, p) in market.processes.iter().enumerate() {
            sol.process_shadow[i] = 0.0;
            if let Some(cap) = p.capacity
                && sol.activity[i] >= cap - 1e-9 * cap.max(1.0)
            {
                let out = market.node(p.region, p.output);
                let inputs: f64 = p
                    .inputs
                    .iter()
                    .map(|&(g, c)| c * sol.prices[market.node(p.region, g)])
                    .sum();
                sol.process_shadow[i] = (sol.prices[out] + licence[out] - inputs - p.cost).max(0.0);
            }
        }
        sol.welfare = welfare(market, &sol);
        sol.max_violation = check(market, &sol);
        if sol.max_violation > self.options.check_tolerance {
            return self.fallback(market, "solution failed the equilibrium check");
        }
        sol
    }
}

/// Usage minus limit of quota `j` (or export-share cap `j − nq`) in a solution.
fn excess_usage(market: &Market, sol: &Solution, j: usize, nq: usize) -> f64 {
    if j < nq {
        let q = &market.quotas[j];
        q.routes.iter().map(|&r| sol.flows[r]).sum::<f64>() - q.limit
    } else {
        let c = &market.export_shares[j - nq];
        let exports: f64 = c.routes.iter().map(|&r| sol.flows[r]).sum();
        let production: f64 = market
            .supply
            .iter()
            .zip(&sol.supply)
            .filter(|(s, _)| s.region == c.region && s.good == c.good)
            .map(|(_, q)| q)
            .sum::<f64>()
            + market
                .processes
                .iter()
                .zip(&sol.activity)
                .filter(|(p, _)| p.region == c.region && p.output == c.good)
                .map(|(_, y)| y)
                .sum::<f64>();
        exports - c.share * production
    }
}

/// `a ← θ·b + (1 − θ)·a`, element by element.
fn blend(a: &mut [f64], b: &[f64], theta: f64) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = theta * y + (1.0 - theta) * *x;
    }
}

/// An infeasible outcome found by the fast path itself.
fn infeasible(market: &Market) -> Solution {
    let mut sol = Solution::failed(market, SolveStatus::Infeasible, 0);
    sol.solver = SolverPath::Fast;
    sol
}

/// Price and quantity magnitudes of a market, for tolerances.
#[derive(Debug, Clone, Copy)]
struct Scale {
    price: f64,
    /// The largest good's quantity magnitude (see [`good_quantities`]).
    quantity: f64,
}

impl Scale {
    /// The market's magnitudes; each good's quantity magnitude goes into `goods`.
    fn of(m: &Market, goods: &mut Vec<f64>) -> Self {
        let price = m
            .supply
            .iter()
            .map(|s| s.intercept.abs())
            .chain(m.demand.iter().map(|d| d.intercept.abs()))
            .chain(m.routes.iter().map(|r| r.cost + r.tariff))
            .fold(1.0_f64, f64::max);
        good_quantities(m, price, goods);
        let quantity = goods.iter().fold(1.0_f64, |a, &b| a.max(b));
        Scale { price, quantity }
    }
}

/// Flows and activities within this fraction of a good's quantity magnitude of their bounds
/// count as at them (subtree sums and level solves are exact to about 1e-16 of the
/// quantities they add up).
const QTY_TOL: f64 = 1e-9;

/// The quantity magnitude of each good (at least 1 unit): the largest of what a move of the
/// good's own price magnitude (its largest intercept) does to its steepest step, its steps'
/// capacities, its fixed demands and what plants with a capacity make or use of it; goods
/// with none of these (intermediates of plants without capacity) take their plants' other
/// goods' magnitudes through the recipes. Goods of one market differ by orders of magnitude
/// (a tonne of HALEU per quarter at 2e7 a tonne against megatonnes of copper at 9e3): a
/// tolerance taken from the whole market's magnitudes (its largest price over its flattest
/// step) would swallow the small goods' flows whole.
fn good_quantities(m: &Market, market_price: f64, q: &mut Vec<f64>) {
    let ng = m.goods.len();
    let mut price = vec![0.0_f64; ng];
    for (g, intercept) in m
        .supply
        .iter()
        .map(|s| (s.good, s.intercept))
        .chain(m.demand.iter().map(|d| (d.good, d.intercept)))
    {
        price[g] = price[g].max(intercept.abs());
    }
    q.clear();
    q.resize(ng, 0.0);
    let own = |g: usize| {
        if price[g] > 0.0 {
            price[g]
        } else {
            market_price
        }
    };
    for (g, slope, cap) in m
        .supply
        .iter()
        .map(|s| (s.good, s.slope, s.capacity))
        .chain(m.demand.iter().map(|d| (d.good, d.slope, d.capacity)))
    {
        q[g] = q[g].max(step_scale(slope, cap, own(g)));
    }
    for f in &m.fixed_demand {
        q[f.good] = q[f.good].max(f.quantity);
    }
    for p in &m.processes {
        if let Some(cap) = p.capacity {
            q[p.output] = q[p.output].max(cap);
            for &(g, c) in &p.inputs {
                q[g] = q[g].max(c * cap);
            }
        }
    }
    // Goods still without a magnitude take one through the recipes (each at most once, so
    // that cycles of goods cannot inflate them).
    for _ in 0..ng {
        let mut changed = false;
        for p in &m.processes {
            if q[p.output] == 0.0 {
                let from_inputs = p
                    .inputs
                    .iter()
                    .map(|&(g, c)| q[g] / c)
                    .fold(0.0_f64, f64::max);
                if from_inputs > 0.0 {
                    q[p.output] = from_inputs;
                    changed = true;
                }
            }
            for &(g, c) in &p.inputs {
                if q[g] == 0.0 && q[p.output] > 0.0 {
                    q[g] = c * q[p.output];
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for v in q.iter_mut() {
        *v = v.clamp(1.0, 1e12);
    }
}

fn step_scale(slope: f64, cap: Option<f64>, price: f64) -> f64 {
    let q = if slope > 0.0 {
        price / slope
    } else {
        f64::INFINITY
    };
    q.min(cap.unwrap_or(f64::INFINITY)).min(1e12)
}

/// Excess supply of one step at price `p` (supply positive, demand negative); flat steps at
/// exactly their price count as empty (the tree solve splits them).
fn step_excess(s: &Step, p: f64, shift: f64) -> f64 {
    if s.supply {
        let p = p + shift;
        if s.slope > 0.0 {
            ((p - s.intercept) / s.slope).clamp(0.0, s.cap)
        } else if p > s.intercept {
            s.cap
        } else {
            0.0
        }
    } else if s.slope > 0.0 {
        -((s.intercept - p) / s.slope).clamp(0.0, s.cap)
    } else if p < s.intercept {
        -s.cap
    } else {
        0.0
    }
}

/// The primal active-set method in prices over a forest of active edges (routes and
/// single-input processes), for fixed quota and licence multipliers.
#[allow(clippy::too_many_arguments)]
fn network_solve(
    net: &mut Net,
    market: &Market,
    wedge_extra: &[f64],
    shift: &[f64],
    scale: &Scale,
    options: &FastOptions,
    sc: &mut Scratch,
    stats: &mut FastStats,
    sol: &mut Solution,
) -> NetOutcome {
    stats.network_solves += 1;
    let mut wedge = std::mem::take(&mut sc.wedge);
    wedge.clear();
    wedge.extend(
        net.edges
            .iter()
            .zip(&net.base_wedge)
            .map(|(e, &w)| match *e {
                EdgeKind::Route(r) => w + wedge_extra[r],
                // A licence earned per unit of output lowers what the plant needs from the price.
                EdgeKind::Process(i) => {
                    let p = &market.processes[i];
                    w - shift[market.node(p.region, p.output)]
                }
            }),
    );
    let cap = std::mem::take(&mut net.cap);
    let outcome = active_set(
        net, market, &wedge, &cap, shift, scale, options, sc, stats, sol,
    );
    net.cap = cap;
    sc.wedge = wedge;
    outcome
}

/// p_head − gain·p_tail − Σ c·p_extra for edge `k` at prices `p`.
fn edge_gap(net: &Net, k: usize, p: &[f64]) -> f64 {
    let extra: f64 = net.extras(k).iter().map(|&(e, c)| c * p[e]).sum();
    plain_gap(net, k, p) - extra
}

/// Rounding in [`edge_gap`] of edge `k` at prices `p`: a few ulps of its terms.
#[cold]
fn gap_rounding(net: &Net, k: usize, p: &[f64]) -> f64 {
    let (a, b) = net.ends[k];
    let terms = p[b].abs()
        + net.gain[k] * p[a].abs()
        + net
            .extras(k)
            .iter()
            .map(|&(e, c)| c * p[e].abs())
            .sum::<f64>();
    8.0 * f64::EPSILON * terms
}

/// p_head − gain·p_tail: the gap of an edge without extra inputs (not a joint edge).
// Called twice per edge per active-set step: the hot loop of the fast path.
#[inline(always)]
fn plain_gap(net: &Net, k: usize, p: &[f64]) -> f64 {
    let (a, b) = net.ends[k];
    p[b] - net.gain[k] * p[a]
}

/// The active-set iterations of [`network_solve`].
// Loops index several parallel per-edge and per-node arrays at once.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn active_set(
    net: &mut Net,
    market: &Market,
    wedge: &[f64],
    cap: &[f64],
    node_shift: &[f64],
    scale: &Scale,
    options: &FastOptions,
    sc: &mut Scratch,
    stats: &mut FastStats,
    sol: &mut Solution,
) -> NetOutcome {
    let n = net.steps.len();
    let m = net.edges.len();
    let tol_p = options.tolerance * scale.price;
    let lim = Limits {
        tol_p,
        // Far beyond any price of the market, yet small enough that gaps between prices at
        // that level stay exact well within the price tolerance (an ulp of 1e3·price is
        // 2e-13·price, against a tolerance of 1e-11·price): with walls at 1e7·price (2e15
        // for HALEU's choke price) a tree at its wall made edges inside it seem to block and
        // plants' equations seem to contradict each other.
        big: 1e3 * scale.price,
        ratio: scale.quantity / scale.price,
        price: scale.price,
    };

    // Starting point: the warm working set's minimiser if it is feasible, else cold.
    refill(&mut sc.p, n, 0.0);
    let mut started = false;
    let mut warm_prices = false;
    if net.warm {
        // The last working set, repaired: edges its minimiser would violate under the new
        // parameters join it (a route that has become worth using, a plant at capacity that
        // no longer pays), round by round, until its minimiser is a feasible start. Far
        // cheaper than a cold start, which rebuilds the working set edge by edge.
        sc.saved_state.clone_from(&net.state);
        started = repaired_start(net, wedge, cap, node_shift, &lim, sc, stats, WARM_REPAIRS);
        if !started {
            // The last prices, made feasible: the start the active set needs is any point
            // of the price space where each edge sits on its state's side of its wedge.
            net.state.clone_from(&sc.saved_state);
            price_start(net, wedge, cap, tol_p, sc, stats);
            started = sc.p_feasible;
            // The working set's minimiser is still to be computed.
            warm_prices = started;
        }
    }
    if !started {
        net.state.iter_mut().for_each(|s| *s = RouteState::Zero);
        // A feasible cold start: every edge slack. One price level per good keeps every route
        // slack (wedges ≥ 0); levels are raised along processes, from outputs to inputs, until
        // every plant's p_out − gain·p_in is within its wedge (a licence can make a wedge
        // negative).
        let goods = market.goods.len();
        let mut level = vec![0.0; goods];
        for _ in 0..=goods {
            let mut changed = false;
            for k in 0..m {
                if let EdgeKind::Process(_) = net.edges[k] {
                    let (a, b) = net.ends[k];
                    let (gi, go) = (a % goods, b % goods);
                    let extra: f64 = net
                        .extras(k)
                        .iter()
                        .map(|&(e, c)| c * level[e % goods])
                        .sum();
                    let need = (level[go] - wedge[k] - extra) / net.gain[k];
                    if level[gi] < need {
                        level[gi] = need;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for (i, p) in sc.p.iter_mut().enumerate() {
            *p = level[i % goods];
        }
        if !feasible_start(net, wedge, &sc.p, tol_p) {
            sc.why = "no feasible cold start";
            return NetOutcome::GaveUp;
        }
    }

    let limit =
        (options.steps_per_element * (n + m) + options.degenerate_steps).min(options.max_steps);
    let mut degenerate = 0usize;
    // A warm start has just computed the minimiser of its working set.
    let mut fresh = started && !warm_prices;
    // The edge the last step took out of the working set, and edges not to take out again
    // until the prices move (see below).
    let mut last_out: Option<usize> = None;
    sc.tabu.clear();
    for _ in 0..limit {
        if !fresh
            && let Err(why) = working_set_minimiser(net, wedge, cap, node_shift, &lim, sc, stats)
        {
            net.warm = false;
            sc.why = why;
            return NetOutcome::GaveUp;
        }
        fresh = false;
        // Step from p towards p*, stopping at the first blocking edge.
        let mut t_block = 1.0;
        let mut blocking = None;
        // An edge blocks only by more than the rounding of its gap: a tree that cannot
        // balance sits at ±big, where the gaps of its own edges are exact only to a few ulps
        // of its prices (there, a gap that cannot move would seem to).
        let pstar = &sc.pstar;
        let mut consider = |k: usize, gap0: f64, gap1: f64| match net.state[k] {
            RouteState::Zero
                if gap1 > wedge[k] + tol_p && gap1 - wedge[k] > gap_rounding(net, k, pstar) =>
            {
                let t = ((wedge[k] - gap0) / (gap1 - gap0)).clamp(0.0, 1.0);
                if t < t_block {
                    t_block = t;
                    blocking = Some(k);
                }
            }
            RouteState::Upper
                if gap1 < wedge[k] - tol_p && wedge[k] - gap1 > gap_rounding(net, k, pstar) =>
            {
                let t = ((gap0 - wedge[k]) / (gap0 - gap1)).clamp(0.0, 1.0);
                if t < t_block {
                    t_block = t;
                    blocking = Some(k);
                }
            }
            _ => {}
        };
        // Plain edges, then joint ones (kept apart, the hot loop stays tight).
        for k in 0..net.first_joint {
            consider(k, plain_gap(net, k, &sc.p), plain_gap(net, k, &sc.pstar));
        }
        for k in net.first_joint..m {
            consider(k, edge_gap(net, k, &sc.p), edge_gap(net, k, &sc.pstar));
        }
        // Steps that join an edge without moving the prices count towards the cycling guard;
        // a step that moves them resets it.
        match blocking {
            Some(_) if t_block == 0.0 => degenerate += 1,
            Some(_) => degenerate = 0,
            None => {}
        }
        if degenerate > options.degenerate_steps {
            net.warm = false;
            sc.why = "active set cycling among degenerate working sets";
            return NetOutcome::GaveUp;
        }
        if let Some(k) = blocking {
            if last_out == Some(k) && t_block == 0.0 && sc.approximate {
                // The edge just taken out blocks at once: the working set without it has no
                // exact minimiser and the approximate one points back. Put it back and take
                // out another edge instead (degenerate cycling otherwise).
                net.state[k] = RouteState::Basic;
                sc.tabu.push(k);
                last_out = None;
                stats.pivots += 1;
                continue;
            }
            if t_block > 0.0 {
                sc.tabu.clear();
            }
            last_out = None;
            for i in 0..n {
                sc.p[i] += t_block * (sc.pstar[i] - sc.p[i]);
            }
            let (a, b) = net.ends[k];
            if !net.is_joint(k) && sc.comp[a] == sc.comp[b] {
                // Within a tree the gap of an edge is fixed unless the edge closes a cycle of
                // processes whose gains do not cancel; that case is left to the reference.
                // (A joint edge joins no trees: it adds an equation between their levels.)
                net.warm = false;
                sc.why = "blocking edge inside a tree";
                return NetOutcome::GaveUp;
            }
            net.state[k] = RouteState::Basic;
            stats.pivots += 1;
            continue;
        }
        sc.p.copy_from_slice(&sc.pstar);
        // At the working-set minimiser: an unsolvable tree means no feasible clearing (unless
        // the minimiser is only approximate: dropping an edge may still repair it).
        if !sc.approximate && sc.comp_unsolvable.iter().any(|&u| u != 0) {
            net.warm = false;
            return NetOutcome::Infeasible;
        }
        // Multipliers: activities of working edges.
        let mut worst = 0.0;
        let mut chosen = None;
        for k in 0..m {
            if net.state[k] != RouteState::Basic {
                continue;
            }
            if sc.tabu.contains(&k) {
                continue;
            }
            // The worst violation relative to the edge's magnitude (edges of different goods
            // are not comparable in units).
            let (x, tol) = (sc.flows[k], net.tol_x[k]);
            if x < -tol && -x / tol > worst {
                worst = -x / tol;
                chosen = Some((k, RouteState::Zero));
            } else if x > cap[k] + tol && (x - cap[k]) / tol > worst {
                worst = (x - cap[k]) / tol;
                chosen = Some((k, RouteState::Upper));
            }
        }
        match chosen {
            Some((k, s)) => {
                net.state[k] = s;
                last_out = Some(k);
                stats.pivots += 1;
            }
            None if sc.approximate => {
                net.warm = false;
                sc.why = "processes with several inputs: no exact working-set minimiser";
                return NetOutcome::GaveUp;
            }
            None if !sc.tabu.is_empty() => {
                net.warm = false;
                sc.why = "processes with several inputs: cycling working sets";
                return NetOutcome::GaveUp;
            }
            None => {
                write_solution(net, market, cap, node_shift, sc, sol);
                net.prices.copy_from_slice(&sc.pstar);
                net.warm = true;
                return NetOutcome::Optimal;
            }
        }
    }
    net.warm = false;
    sc.why = "active-set step limit";
    NetOutcome::GaveUp
}

/// Rounds of [`repair_working_set`] tried on a warm start before starting cold.
const WARM_REPAIRS: usize = 20;

/// Repairs the working set (at most `rounds` rounds of [`repair_working_set`]) until its
/// minimiser is a feasible start; returns whether it is (then `sc.p` is that start).
#[allow(clippy::too_many_arguments)]
fn repaired_start(
    net: &mut Net,
    wedge: &[f64],
    cap: &[f64],
    shift: &[f64],
    lim: &Limits,
    sc: &mut Scratch,
    stats: &mut FastStats,
    rounds: usize,
) -> bool {
    for _ in 0..rounds {
        let minimised = working_set_minimiser(net, wedge, cap, shift, lim, sc, stats);
        if minimised != Ok(false) || sc.approximate {
            return false;
        }
        match repair_working_set(net, wedge, lim.tol_p, sc) {
            Some(0) => {
                sc.p.copy_from_slice(&sc.pstar);
                return true;
            }
            Some(added) => stats.pivots += added as u64,
            None => return false,
        }
    }
    false
}

/// Puts into the working set the edges that the working-set minimiser `sc.pstar` violates
/// (the gap of an idle edge above its wedge, of a saturated one below), most violated first,
/// as long as they join different trees (edges of several inputs: the most violated one,
/// alone, when no other edge can join). Returns how many joined: 0 when `sc.pstar` is a
/// feasible start; `None` when violated edges remain and none can join (the cold start
/// takes over).
fn repair_working_set(net: &mut Net, wedge: &[f64], tol: f64, sc: &mut Scratch) -> Option<usize> {
    let mut violated = std::mem::take(&mut sc.violated);
    violated.clear();
    for (k, &state) in net.state.iter().enumerate() {
        let gap = if net.is_joint(k) {
            edge_gap(net, k, &sc.pstar)
        } else {
            plain_gap(net, k, &sc.pstar)
        };
        let v = match state {
            RouteState::Zero => gap - wedge[k],
            RouteState::Upper => wedge[k] - gap,
            RouteState::Basic => 0.0,
        };
        if v > tol {
            violated.push((v, k));
        }
    }
    if violated.is_empty() {
        sc.violated = violated;
        return Some(0);
    }
    violated.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    // Union–find over the trees: an edge closing a cycle waits for the next round.
    sc.dsu.clear();
    sc.dsu.extend(0..sc.roots.len());
    let mut added = 0;
    for &(_, k) in &violated {
        if net.is_joint(k) {
            continue;
        }
        let (a, b) = net.ends[k];
        let (ca, cb) = (
            joint::find(&mut sc.dsu, sc.comp[a]),
            joint::find(&mut sc.dsu, sc.comp[b]),
        );
        if ca != cb {
            sc.dsu[cb] = ca;
            net.state[k] = RouteState::Basic;
            added += 1;
        }
    }
    if added == 0
        && let Some(&(_, k)) = violated.iter().find(|&&(_, k)| net.is_joint(k))
    {
        net.state[k] = RouteState::Basic;
        added = 1;
    }
    sc.violated = violated;
    (added > 0).then_some(added)
}

/// Passes over the edges [`price_start`] makes to raise prices before it gives up.
const PRICE_START_PASSES: usize = 64;

/// A warm start from the last solve's prices (`net.prices`), for when the repaired working
/// set fails (an edge inside a tree has become worth using, as when a quota's multiplier
/// falls and a route it covers is cheap again). Uncapacitated edges whose gap now exceeds
/// their wedge are the only way those prices can be infeasible; their tails' prices are
/// raised until it no longer does (a longest-path pass over the edges, gains ≤ 1 and
/// wedges ≥ 0 around any cycle, so it ends unless a licence made a wedge negative; then
/// the cold start). Each edge then takes the state its gap says (idle below its wedge,
/// saturated above it, its last state at it), a subset of the last working set stays
/// basic, and `sc.p` holds the start; `sc.p_feasible` says whether one was found.
fn price_start(
    net: &mut Net,
    wedge: &[f64],
    cap: &[f64],
    tol: f64,
    sc: &mut Scratch,
    stats: &mut FastStats,
) {
    sc.p_feasible = false;
    sc.p.copy_from_slice(&net.prices);
    let m = net.edges.len();
    let mut feasible = false;
    for _ in 0..PRICE_START_PASSES {
        let mut raised = false;
        for k in 0..m {
            if cap[k].is_finite() {
                continue;
            }
            let excess = edge_gap(net, k, &sc.p) - wedge[k];
            if excess > tol {
                let (a, _) = net.ends[k];
                sc.p[a] += excess / net.gain[k];
                raised = true;
            }
        }
        if !raised {
            feasible = true;
            break;
        }
    }
    if !feasible {
        return;
    }
    for (k, &w) in wedge.iter().enumerate().take(m) {
        let gap = edge_gap(net, k, &sc.p);
        let state = if gap < w - tol {
            RouteState::Zero
        } else if gap > w + tol {
            // Only capacitated edges get here (the passes above).
            RouteState::Upper
        } else {
            net.state[k]
        };
        if state != net.state[k] {
            net.state[k] = state;
            stats.pivots += 1;
        }
    }
    sc.p_feasible = true;
}

/// Whether the working-set minimiser is a feasible start for the current wedges.
fn feasible_start(net: &Net, wedge: &[f64], p: &[f64], tol: f64) -> bool {
    let ok = |k: usize, gap: f64| match net.state[k] {
        RouteState::Zero => gap <= wedge[k] + tol,
        RouteState::Upper => gap >= wedge[k] - tol,
        RouteState::Basic => true,
    };
    (0..net.first_joint).all(|k| ok(k, plain_gap(net, k, p)))
        && (net.first_joint..net.edges.len()).all(|k| ok(k, edge_gap(net, k, p)))
}

/// Minimises over the working set: builds the forest of basic edges, solves each tree's
/// price level (trees coupled by joint edges together, see [`joint`]), and computes the
/// activities of basic edges. Returns whether some tree has no solution (its prices are then
/// ±`big`), or why the coupled trees could not be solved.
// Loops index several parallel per-edge and per-node arrays at once.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn working_set_minimiser(
    net: &mut Net,
    wedge: &[f64],
    cap: &[f64],
    shift: &[f64],
    lim: &Limits,
    sc: &mut Scratch,
    stats: &mut FastStats,
) -> Result<bool, &'static str> {
    stats.tree_solves += 1;
    let n = net.steps.len();
    let m = net.edges.len();
    // One pass over the edges: the basic ones (adjacency, CSR; joint edges apart) and the
    // saturated ones (fixed activities: the tail gives gain·cap, each extra input c·cap, the
    // head gets cap).
    refill(&mut sc.adj_start, n + 1, 0);
    refill(&mut sc.fixed_out, n, 0.0);
    sc.basic.clear();
    sc.joints.clear();
    sc.approximate = false;
    for k in 0..m {
        match net.state[k] {
            RouteState::Basic if net.is_joint(k) => sc.joints.push(k),
            RouteState::Basic => {
                let (a, b) = net.ends[k];
                sc.adj_start[a + 1] += 1;
                sc.adj_start[b + 1] += 1;
                sc.basic.push(k);
            }
            RouteState::Upper => {
                for (v, a) in net.touches(k) {
                    sc.fixed_out[v] -= a * cap[k];
                }
            }
            RouteState::Zero => {}
        }
    }
    for i in 0..n {
        sc.adj_start[i + 1] += sc.adj_start[i];
    }
    refill(&mut sc.adj, sc.adj_start[n], (0, 0));
    sc.fill.clear();
    sc.fill.extend_from_slice(&sc.adj_start);
    for &k in &sc.basic {
        let (a, b) = net.ends[k];
        sc.adj[sc.fill[a]] = (b, k);
        sc.fill[a] += 1;
        sc.adj[sc.fill[b]] = (a, k);
        sc.fill[b] += 1;
    }
    // Components by BFS; in a tree every price is factor·level + offset.
    refill(&mut sc.comp, n, usize::MAX);
    refill(&mut sc.factor, n, 1.0);
    refill(&mut sc.offset, n, 0.0);
    refill(&mut sc.parent_route, n, usize::MAX);
    sc.order.clear();
    sc.roots.clear();
    sc.comp_range.clear();
    for root in 0..n {
        if sc.comp[root] != usize::MAX {
            continue;
        }
        let c = sc.roots.len();
        sc.roots.push(root);
        sc.comp[root] = c;
        let start = sc.order.len();
        sc.order.push(root);
        let mut head = start;
        while head < sc.order.len() {
            let u = sc.order[head];
            head += 1;
            for e in sc.adj_start[u]..sc.adj_start[u + 1] {
                let (v, k) = sc.adj[e];
                if sc.comp[v] == usize::MAX {
                    sc.comp[v] = c;
                    sc.parent_route[v] = k;
                    let (tail, _) = net.ends[k];
                    let g = net.gain[k];
                    // Edge tail→head basic: p_head = gain·p_tail + wedge.
                    if tail == u {
                        sc.factor[v] = g * sc.factor[u];
                        sc.offset[v] = g * sc.offset[u] + wedge[k];
                    } else {
                        sc.factor[v] = sc.factor[u] / g;
                        sc.offset[v] = (sc.offset[u] - wedge[k]) / g;
                    }
                    sc.order.push(v);
                }
            }
        }
        sc.comp_range.push((start, sc.order.len()));
    }
    let ncomp = sc.roots.len();
    refill(&mut sc.comp_unsolvable, ncomp, 0);
    refill(&mut sc.pstar, n, 0.0);
    sc.partial.clear();
    sc.flows.resize(m, 0.0);
    // Trees touched by joint edges are solved with them, cluster by cluster.
    refill(&mut sc.touched, ncomp, false);
    for &k in &sc.joints {
        for (v, _) in net.touches(k) {
            sc.touched[sc.comp[v]] = true;
        }
    }
    for c in 0..ncomp {
        if sc.touched[c] {
            continue;
        }
        let (start, end) = sc.comp_range[c];
        let (level, unsolvable) = tree_level(net, shift, lim.big, sc, start, end);
        sc.comp_unsolvable[c] = unsolvable;
        set_level(sc, c, level);
    }
    if !sc.joints.is_empty() {
        joint::solve_clusters(net, wedge, shift, lim, sc)?;
        // Joint activities are fixed flows for the subtree sums below.
        for &k in &sc.joints {
            let x = sc.flows[k];
            for (v, a) in net.touches(k) {
                sc.fixed_out[v] -= a * x;
            }
        }
    }
    // Excess at p* (flat steps at the level split by the tree solve), then subtree sums in
    // factor-weighted units (conserved across every edge of a tree).
    refill(&mut sc.excess, n, 0.0);
    for i in 0..n {
        let mut e = -net.fixed[i] - sc.fixed_out[i];
        for (j, s) in net.steps[i].iter().enumerate() {
            e += match partial_fill(&sc.partial, i, j) {
                Some(theta) if s.supply => theta * s.cap,
                Some(theta) => -theta * s.cap,
                None => step_excess(s, sc.pstar[i], shift[i]),
            };
        }
        sc.excess[i] = sc.factor[i] * e;
    }
    // Only basic edges carry flows from the tree; others are read from their state.
    for idx in (0..sc.order.len()).rev() {
        let v = sc.order[idx];
        let k = sc.parent_route[v];
        if k == usize::MAX {
            continue;
        }
        let (tail, head) = net.ends[k];
        let sub = sc.excess[v];
        let parent = if tail == v { head } else { tail };
        // The subtree of v has `sub` (weighted) to send. Leaving through its tail side, the
        // edge takes gain·x from v: x = sub / (factor_v·gain); arriving at v (the head), the
        // edge brings x: x = −sub / factor_v.
        sc.flows[k] = if tail == v {
            sub / (sc.factor[v] * net.gain[k])
        } else {
            -sub / sc.factor[v]
        };
        sc.excess[parent] += sub;
    }
    Ok(sc.comp_unsolvable.iter().any(|&u| u != 0))
}

/// Empties `v` and fills it with `n` copies of `value` (keeping its allocation).
fn refill<T: Clone>(v: &mut Vec<T>, n: usize, value: T) {
    v.clear();
    v.resize(n, value);
}

/// Prices of component `c` at tree level `level`.
fn set_level(sc: &mut Scratch, c: usize, level: f64) {
    let (start, end) = sc.comp_range[c];
    for &v in &sc.order[start..end] {
        sc.pstar[v] = sc.factor[v] * level + sc.offset[v];
    }
}

/// Solves one tree's price level: Σ factor·excess(factor·level + offset) = 0, a monotone
/// piecewise-linear equation, and records the fill of flat steps at the level. Returns the
/// level and whether the equation has no solution (−1: too much supply, +1: too much demand).
#[inline]
fn tree_level(
    net: &Net,
    shift: &[f64],
    big: f64,
    sc: &mut Scratch,
    start: usize,
    end: usize,
) -> (f64, i8) {
    let (base, slope0) = tree_events(net, shift, sc, start, end);
    let root = tree_sweep(&sc.events, &sc.uncapped, base, slope0, big);
    record_fill(net, &sc.order, &sc.events, &root, &mut sc.partial);
    (root.level, root.unsolvable)
}

/// The breakpoints of one tree's weighted excess G(level) = Σ factor·excess(factor·level +
/// offset), sorted, into `sc.events`, and its uncapped demand steps (threshold, weighted
/// slope) into `sc.uncapped`. Returns the constant part of G as level → −∞ (before any event,
/// uncapped demand apart) and G's slope there.
#[inline]
fn tree_events(net: &Net, shift: &[f64], sc: &mut Scratch, start: usize, end: usize) -> (f64, f64) {
    sc.events.clear();
    sc.uncapped.clear();
    let mut slope0 = 0.0;
    let mut base = 0.0;
    for idx in start..end {
        let v = sc.order[idx];
        let (a, o) = (sc.factor[v], sc.offset[v]);
        base -= a * (net.fixed[v] + sc.fixed_out[v]);
        for (j, s) in net.steps[v].iter().enumerate() {
            let id = (idx as u32, j as u32);
            if s.supply {
                let t1 = (s.intercept - shift[v] - o) / a;
                if s.slope > 0.0 {
                    let w = a * a / s.slope;
                    sc.events.push((t1, w, 0.0, id.0, id.1));
                    if s.cap.is_finite() {
                        sc.events
                            .push((t1 + s.slope * s.cap / a, -w, 0.0, id.0, id.1));
                    }
                } else {
                    sc.events.push((t1, 0.0, a * s.cap, id.0, id.1));
                }
            } else {
                let t_hi = (s.intercept - o) / a;
                if s.slope > 0.0 {
                    let w = a * a / s.slope;
                    if s.cap.is_finite() {
                        base -= a * s.cap;
                        sc.events
                            .push((t_hi - s.slope * s.cap / a, w, 0.0, id.0, id.1));
                    } else {
                        slope0 += w;
                        sc.uncapped.push((t_hi, w));
                    }
                    sc.events.push((t_hi, -w, 0.0, id.0, id.1));
                } else {
                    base -= a * s.cap;
                    sc.events.push((t_hi, 0.0, a * s.cap, id.0, id.1));
                }
            }
        }
    }
    sc.events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    (base, slope0)
}

/// A tree's slope below this fraction of the largest slope change met so far is rounding left
/// by steps that begin and end (double precision keeps about 1e-16 of each term).
const SLOPE_ROUNDING: f64 = 1e-12;

/// Where a tree's weighted excess crosses zero.
#[derive(Debug, Clone, Copy)]
struct Root {
    level: f64,
    /// How fast the level falls per unit of weighted excess added to the tree: 1 / slope of
    /// G at the root; 0 where the root sits on a jump (a flat step absorbs the change) or
    /// beyond G's range.
    dlevel: f64,
    /// 0, or −1 (too much supply) / +1 (too much demand) when G has no root.
    unsolvable: i8,
    /// Events `[i, j)` at the root whose flat steps are filled to the fraction θ.
    fill: Option<(usize, usize, f64)>,
}

/// Sweeps a tree's sorted breakpoints for the root of G = `base` + the steps' excess.
#[inline]
fn tree_sweep(events: &[Event], uncapped: &[(f64, f64)], base: f64, slope0: f64, big: f64) -> Root {
    let root = |level: f64, slope: f64, unsolvable: i8| Root {
        level,
        dlevel: if slope > 0.0 { 1.0 / slope } else { 0.0 },
        unsolvable,
        fill: None,
    };
    if events.is_empty() {
        // No steps at all: the tree clears only if nothing must flow in or out.
        return if base > 0.0 {
            root(-big, 0.0, -1)
        } else if base < 0.0 {
            root(big, 0.0, 1)
        } else {
            root(0.0, 0.0, 0)
        };
    }
    let t0 = events[0].0;
    // G just left of t0: base minus uncapped demand at t0 (linear, still on its slope).
    let mut g_left = base;
    for &(t_hi, w) in uncapped {
        g_left -= (t_hi - t0) * w;
    }
    let mut slope = slope0;
    // Slopes are sums of +w and −w over steps: where they cancel, what is left is rounding.
    let mut noise = slope0 * SLOPE_ROUNDING;
    if g_left > 0.0 {
        return if slope > 0.0 {
            root(t0 - g_left / slope, slope, 0)
        } else {
            root(t0 - big, 0.0, -1)
        };
    }
    let m = events.len();
    let mut i = 0;
    while i < m {
        let t = events[i].0;
        let mut jump = 0.0;
        let mut dslope = 0.0;
        let mut j = i;
        while j < m && events[j].0 == t {
            jump += events[j].2;
            dslope += events[j].1;
            j += 1;
        }
        let g_right = g_left + jump;
        if g_right >= 0.0 {
            // The root is at t: flat steps at t are filled by the fraction θ.
            if jump > 0.0 {
                let theta = (-g_left / jump).clamp(0.0, 1.0);
                return Root {
                    fill: Some((i, j, theta)),
                    ..root(t, 0.0, 0)
                };
            }
            // Exactly on a kink of G: the slope after it moves the level first.
            let after = slope + dslope;
            return root(t, if after > 0.0 { after } else { slope }, 0);
        }
        slope += dslope;
        noise = noise.max(dslope.abs() * SLOPE_ROUNDING);
        if slope <= noise {
            slope = 0.0;
        }
        let next = if j < m { events[j].0 } else { f64::INFINITY };
        if slope > 0.0 {
            let level = t - g_right / slope;
            if level <= next {
                return root(level, slope, 0);
            }
        }
        if j < m {
            g_left = g_right + slope * (next - t);
        } else {
            return root(t + big, 0.0, 1);
        }
        i = j;
    }
    root(t0 + big, 0.0, 1)
}

/// Records the fill of the flat steps at a tree's root in `partial`.
fn record_fill(
    net: &Net,
    order: &[usize],
    events: &[Event],
    root: &Root,
    partial: &mut Vec<(usize, usize, f64)>,
) {
    let Some((i, j, theta)) = root.fill else {
        return;
    };
    for e in &events[i..j] {
        if e.2 > 0.0 {
            let node = order[e.3 as usize];
            let step = e.4 as usize;
            // A flat supply step at the root is filled to θ of its capacity; a flat demand
            // step keeps 1 − θ (the jump is demand falling away).
            let theta_eff = if net.steps[node][step].supply {
                theta
            } else {
                1.0 - theta
            };
            partial.push((node, step, theta_eff));
        }
    }
}

/// The fill of a flat step that sits exactly at its tree's price level, if it does.
fn partial_fill(partial: &[(usize, usize, f64)], node: usize, step: usize) -> Option<f64> {
    partial
        .iter()
        .find(|&&(n, s, _)| n == node && s == step)
        .map(|&(_, _, theta)| theta)
}

fn write_solution(
    net: &Net,
    _market: &Market,
    cap: &[f64],
    shift: &[f64],
    sc: &Scratch,
    sol: &mut Solution,
) {
    for (i, steps) in net.steps.iter().enumerate() {
        sol.prices[i] = sc.pstar[i];
        for (j, s) in steps.iter().enumerate() {
            let q = match partial_fill(&sc.partial, i, j) {
                Some(theta) => theta * s.cap,
                None => step_excess(s, sc.pstar[i], shift[i]).abs(),
            };
            if s.supply {
                sol.supply[s.index] = q;
            } else {
                sol.demand[s.index] = q;
            }
        }
    }
    for (k, edge) in net.edges.iter().enumerate() {
        let x = match net.state[k] {
            RouteState::Zero => 0.0,
            RouteState::Basic => sc.flows[k].clamp(0.0, cap[k]),
            RouteState::Upper => cap[k],
        };
        match *edge {
            EdgeKind::Route(r) => sol.flows[r] = x,
            EdgeKind::Process(p) => sol.activity[p] = x,
        }
    }
}
