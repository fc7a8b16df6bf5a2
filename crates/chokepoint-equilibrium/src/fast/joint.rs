//! Processes with several inputs on the fast path.
//!
//! A process with several inputs (a *joint* edge) does not fit a tree: in the working set its
//! dual constraint p_out − Σᵢ cᵢ·p_inᵢ = wedge ties three or more prices. The forest is built
//! from the other basic edges only, and each basic joint edge h adds one linear equation
//! between the levels L of the trees its nodes lie in,
//!
//! ```text
//! Σ_j B[h][j]·L_j = rhs[h],   B[h][j] = Σ over h's nodes v in tree j of a_v·factor_v,
//! ```
//!
//! with a = +1 at the output and −c at each input, its activity x_h being the equation's
//! multiplier: tree j receives (Bᵀx)_j of weighted excess. The working-set minimiser is then
//! the saddle point of a separable convex problem, min Σ_j ψ_j(L_j) subject to B·L = rhs,
//! where ψ_j' = G_j is tree j's weighted excess (the monotone piecewise-linear function whose
//! root [`tree_sweep`] finds). Its dual in the activities,
//!
//! ```text
//! φ(x) = Σ_j min_L [ψ_j(L) + (Bᵀx)_j·L] − rhs·x,   ∇φ(x) = B·L(x) − rhs,
//! ```
//!
//! is concave and piecewise quadratic; one evaluation is one sweep per tree over its
//! breakpoints, sorted once per solve. It is maximised by Newton steps (the Hessian is
//! −B·diag(dL/dτ)·Bᵀ, as many rows as joint edges) with an exact line search, and by steepest
//! ascent where that Hessian is singular (every tree the joint edges touch sits on a flat
//! step).
//!
//! Where G_j is flat (a tree without steps, or one whose supply is all at capacity and whose
//! price is above every demand's choke price) its level does not follow from the excess it
//! receives, and φ has a kink. Such a tree is *pinned*: its balance G_flat + (Bᵀx)_j = 0
//! becomes a linear constraint on the activities, the search moves only in that constraint's
//! null space, and the tree's level is the constraint's multiplier (least squares on the
//! joint equations), which must lie on the flat piece or the pin is released. Trees without
//! steps are pinned from the start; others when a line search closes in on a jump of ∇φ.
//! Levels are bounded by walls at ±big, as a lone tree's are, so a maximiser always exists.
//!
//! A working set may leave no balanced solution (two plants sharing an input that neither
//! region has; the active set passes through such sets from a cold start). When the search
//! does not converge, the levels reached are moved by the least change that meets every joint
//! equation and the moved trees are flagged unsolvable: the working equalities still hold, as
//! the active set needs, and the unbalanced trees' prices drive it to a better working set.
//! Such a minimiser is marked approximate and can never end a solve (that would be handed to
//! the reference path). Trees joined through joint edges form a *cluster*; clusters are
//! solved one at a time.

use super::{
    Event, Limits, Net, RouteState, Scratch, record_fill, refill, set_level, tree_events,
    tree_sweep,
};

/// Newton steps allowed per cluster. Piecewise-quadratic problems end in a few once the
/// pieces are identified; a cluster that needs more gets an approximate minimiser.
const MAX_NEWTON: usize = 60;
/// Evaluations allowed per line search (bracketing by fourfold steps, then Illinois regula
/// falsi, bisecting whenever a step fails to halve the bracket).
const MAX_SEARCH: usize = 100;
/// A pivot below this fraction of the largest entry counts as zero: double precision keeps
/// about 1e-16, and the entries are short sums of products.
const PIVOT: f64 = 1e-12;
/// Relative rounding allowed in a joint equation, on top of the price tolerance: its terms
/// are tree levels times coefficients, each exact to a few ulps.
const ROUNDING: f64 = 1e-12;
/// A line search stops once the directional derivative has fallen to this fraction of its
/// value at the start (the next Newton step corrects the rest).
const SEARCH_TOL: f64 = 1e-9;
/// A line search whose bracket has closed to this fraction of its length sits on a jump of
/// the directional derivative (a kink of φ).
const KINK_WIDTH: f64 = 1e-10;
/// Across such a kink, a tree whose level moves by more than this fraction of the market's
/// price scale is crossing a flat piece of its excess (a continuous move over a bracket of
/// `KINK_WIDTH` is many orders of magnitude smaller).
const JUMP: f64 = 1e-6;

/// A tree held on a flat piece of its excess.
#[derive(Debug, Clone, Copy)]
struct Pin {
    /// G on the flat piece.
    g: f64,
    /// The flat piece's extent in levels.
    lo: f64,
    hi: f64,
    /// Where the level goes when the joint equations leave it undetermined.
    reference: f64,
}

/// Work buffers of one cluster solve.
#[derive(Debug, Clone, Default)]
pub(super) struct Cluster {
    /// Components (trees) of the cluster; a position here is the tree's local index j.
    comps: Vec<usize>,
    /// Basic joint edges of the cluster; a position here is the edge's local index h.
    joints: Vec<usize>,
    /// q × m, row-major: coefficient of tree j's level in joint edge h's equation.
    b: Vec<f64>,
    /// Right-hand side of each joint edge's equation: its wedge minus the offsets.
    rhs: Vec<f64>,
    /// Per tree: G's constant part, its slope before the first breakpoint, and the ranges
    /// of its breakpoints and uncapped demand steps in `events` and `uncapped`.
    base: Vec<f64>,
    slope0: Vec<f64>,
    ev: Vec<(usize, usize)>,
    unc: Vec<(usize, usize)>,
    events: Vec<Event>,
    uncapped: Vec<(f64, f64)>,
    /// Per tree: pinned to a flat piece, or not; trees the last line search pinned.
    pin: Vec<Option<Pin>>,
    newly: Vec<usize>,
    /// Trees whose level follows from their excess, and pinned ones.
    sloped: Vec<usize>,
    flat: Vec<usize>,
    /// Per tree at the last evaluation: level, dL/dτ, and whether `force_equations` moved it.
    level: Vec<f64>,
    dlevel: Vec<f64>,
    forced: Vec<bool>,
    /// Levels at the ends of a line search's bracket.
    level_lo: Vec<f64>,
    level_hi: Vec<f64>,
    /// B·L − rhs over the sloped trees at the last evaluation.
    resid: Vec<f64>,
    /// Activities: x = xp + Z·y spans every x that balances the pinned trees.
    z: Vec<f64>,
    xp: Vec<f64>,
    free: Vec<usize>,
    pivots: Vec<usize>,
    x: Vec<f64>,
    /// The point of the next evaluation.
    trial: Vec<f64>,
    dx: Vec<f64>,
    /// Reduced gradient, Hessian and step (free coordinates).
    grad: Vec<f64>,
    hess: Vec<f64>,
    dy: Vec<f64>,
    w: Vec<f64>,
    work: Vec<f64>,
    work_rhs: Vec<f64>,
}

/// What a search step did.
enum Move {
    /// Moved along an ascent direction.
    Stepped,
    /// Stopped at a kink and pinned the trees crossing flat pieces there.
    Pinned,
    /// No ascent direction left.
    Stuck,
}

/// Solves every cluster of trees joined by the working set's joint edges: levels into
/// `sc.pstar`, activities into `sc.flows` (and `net.joint_x`, the next solve's start), fills
/// of flat steps into `sc.partial`.
pub(super) fn solve_clusters(
    net: &mut Net,
    wedge: &[f64],
    shift: &[f64],
    lim: &Limits,
    sc: &mut Scratch,
) -> Result<(), &'static str> {
    let ncomp = sc.comp_range.len();
    // Union–find: a joint edge joins every tree it touches.
    sc.dsu.clear();
    sc.dsu.extend(0..ncomp);
    for &k in &sc.joints {
        let head = net.ends[k].1;
        for (v, _) in net.touches(k) {
            let a = find(&mut sc.dsu, sc.comp[head]);
            let b = find(&mut sc.dsu, sc.comp[v]);
            sc.dsu[b] = a;
        }
    }
    refill(&mut sc.local, ncomp, usize::MAX);
    let mut cl = std::mem::take(&mut sc.cluster);
    let mut outcome = Ok(());
    for idx in 0..sc.joints.len() {
        let root = find(&mut sc.dsu, sc.comp[net.ends[sc.joints[idx]].1]);
        // `touched` is cleared as clusters are solved.
        if !sc.touched[root] {
            continue;
        }
        cl.comps.clear();
        for c in 0..ncomp {
            if sc.touched[c] && find(&mut sc.dsu, c) == root {
                cl.comps.push(c);
            }
        }
        cl.joints.clear();
        for &k in &sc.joints[idx..] {
            if find(&mut sc.dsu, sc.comp[net.ends[k].1]) == root {
                cl.joints.push(k);
            }
        }
        for &c in &cl.comps {
            sc.touched[c] = false;
        }
        match cl.solve(net, wedge, shift, lim, sc) {
            Ok(exact) => sc.approximate |= !exact,
            Err(why) => {
                outcome = Err(why);
                break;
            }
        }
    }
    sc.cluster = cl;
    outcome
}

/// Root of `c` in a union–find forest (with path halving).
pub(super) fn find(dsu: &mut [usize], mut c: usize) -> usize {
    while dsu[c] != c {
        dsu[c] = dsu[dsu[c]];
        c = dsu[c];
    }
    c
}

impl Cluster {
    /// Solves one cluster (`comps` and `joints` set); returns whether exactly. When the
    /// search does not converge (typically a working set in which some trees cannot balance,
    /// so that no minimiser exists), the levels reached are corrected by the least change that
    /// meets every joint equation, and the trees so moved are flagged unsolvable: the working
    /// equalities hold, as the active set needs, and those trees' prices drive it on.
    fn solve(
        &mut self,
        net: &mut Net,
        wedge: &[f64],
        shift: &[f64],
        lim: &Limits,
        sc: &mut Scratch,
    ) -> Result<bool, &'static str> {
        self.load(net, wedge, shift, lim, sc);
        if !self.independent() {
            self.drop_dependent(net, lim, sc)?;
        }
        // Start from the activities of the last solve.
        self.x.clear();
        self.x.extend(self.joints.iter().map(|&k| net.joint_x[k]));
        self.partition(&[]);
        let mut converged = false;
        for _ in 0..MAX_NEWTON {
            self.trial.clone_from(&self.x);
            self.eval(lim.big);
            let (small, released) = self.residual_small(lim);
            if released {
                self.partition(&[]);
                continue;
            }
            if small {
                converged = true;
                break;
            }
            match self.step(lim) {
                Move::Stepped => {}
                Move::Pinned => {
                    let newly = std::mem::take(&mut self.newly);
                    self.partition(&newly);
                    self.newly = newly;
                }
                Move::Stuck => break,
            }
        }
        if !converged {
            self.trial.clone_from(&self.x);
            self.eval(lim.big);
            let _ = self.residual_small(lim);
            self.force_equations(lim);
        }
        // Levels, fills of flat steps and activities at the solution (`trial` = `x`).
        for &j in &self.sloped {
            if self.forced[j] {
                continue;
            }
            let inj = self.injection(j);
            let (e0, e1) = self.ev[j];
            let (u0, u1) = self.unc[j];
            let events = &self.events[e0..e1];
            let root = tree_sweep(
                events,
                &self.uncapped[u0..u1],
                self.base[j] + inj,
                self.slope0[j],
                lim.big,
            );
            record_fill(net, &sc.order, events, &root, &mut sc.partial);
            let c = self.comps[j];
            sc.comp_unsolvable[c] = root.unsolvable;
            set_level(sc, c, root.level);
        }
        for &j in &self.flat {
            set_level(sc, self.comps[j], self.level[j]);
        }
        for (j, &c) in self.comps.iter().enumerate() {
            if self.forced[j] {
                sc.comp_unsolvable[c] = 1;
                set_level(sc, c, self.level[j]);
            }
        }
        for (h, &k) in self.joints.iter().enumerate() {
            sc.flows[k] = self.x[h];
            net.joint_x[k] = self.x[h];
        }
        Ok(converged)
    }

    /// Moves the levels by the least change ΔL = −Bᵀ(BBᵀ)⁻¹(B·L − rhs) that meets every joint
    /// equation, and marks the trees it moves (`forced`).
    fn force_equations(&mut self, lim: &Limits) {
        let (q, m) = (self.joints.len(), self.comps.len());
        refill(&mut self.work, q * q, 0.0);
        self.work_rhs.clear();
        for h in 0..q {
            let row = &self.b[h * m..(h + 1) * m];
            let r: f64 = row.iter().zip(&self.level).map(|(b, l)| b * l).sum();
            self.work_rhs.push(r - self.rhs[h]);
            for g in 0..q {
                self.work[h * q + g] = (0..m).map(|j| row[j] * self.b[g * m + j]).sum();
            }
        }
        gauss_jordan(&mut self.work, &mut self.work_rhs, q, q, &mut self.pivots);
        refill(&mut self.w, q, 0.0);
        for (i, &pc) in self.pivots.iter().enumerate() {
            self.w[pc] = self.work_rhs[i];
        }
        for j in 0..m {
            let delta: f64 = (0..q).map(|h| self.b[h * m + j] * self.w[h]).sum();
            self.level[j] -= delta;
            self.forced[j] = delta.abs() > lim.tol_p + ROUNDING * self.level[j].abs();
        }
    }

    /// Sorts each tree's breakpoints and builds the joint edges' equations; trees without
    /// steps are pinned.
    fn load(&mut self, net: &Net, wedge: &[f64], shift: &[f64], lim: &Limits, sc: &mut Scratch) {
        let m = self.comps.len();
        self.base.clear();
        self.slope0.clear();
        self.ev.clear();
        self.unc.clear();
        self.events.clear();
        self.uncapped.clear();
        self.pin.clear();
        for j in 0..m {
            let c = self.comps[j];
            sc.local[c] = j;
            let (start, end) = sc.comp_range[c];
            let (base, slope0) = tree_events(net, shift, sc, start, end);
            let e0 = self.events.len();
            self.events.extend_from_slice(&sc.events);
            self.ev.push((e0, self.events.len()));
            let u0 = self.uncapped.len();
            self.uncapped.extend_from_slice(&sc.uncapped);
            self.unc.push((u0, self.uncapped.len()));
            self.base.push(base);
            self.slope0.push(slope0);
            // Excess that cannot move with the price: no steps, or only empty ones. Its
            // level is free between the walls at ±big (beyond, it cannot balance, as a lone
            // tree that cannot); 0 where nothing determines it, as for a lone tree.
            let flat = slope0 == 0.0 && sc.events.iter().all(|e| e.1 == 0.0 && e.2 == 0.0);
            self.pin.push(flat.then_some(Pin {
                g: base,
                lo: -lim.big,
                hi: lim.big,
                reference: 0.0,
            }));
        }
        refill(&mut self.level, m, 0.0);
        refill(&mut self.dlevel, m, 0.0);
        refill(&mut self.forced, m, false);
        let q = self.joints.len();
        refill(&mut self.b, q * m, 0.0);
        self.rhs.clear();
        for (h, &k) in self.joints.iter().enumerate() {
            let mut r = wedge[k];
            for (v, a) in net.touches(k) {
                self.b[h * m + sc.local[sc.comp[v]]] += a * sc.factor[v];
                r -= a * sc.offset[v];
            }
            self.rhs.push(r);
        }
    }

    /// Splits the trees into sloped and pinned ones, and parametrises the activities that
    /// balance every pinned tree, g_j + (Bᵀx)_j = 0, as x = xp + Z·y; moves `x` onto them.
    /// When pinned balances contradict each other (not every tree can balance: some must go
    /// to a wall at ±big), older pins are released until the newly pinned `keep` hold.
    fn partition(&mut self, keep: &[usize]) {
        let m = self.comps.len();
        while !self.pins_consistent() {
            let mut release = None;
            for j in 0..m {
                if keep.contains(&j) {
                    continue;
                }
                if let Some(pin) = self.pin[j].take() {
                    let ok = self.pins_consistent();
                    self.pin[j] = Some(pin);
                    if ok {
                        release = Some(j);
                        break;
                    }
                }
            }
            match release {
                Some(j) => self.pin[j] = None,
                None => {
                    for &j in keep {
                        self.pin[j] = None;
                    }
                }
            }
        }
        let q = self.joints.len();
        self.free.clear();
        self.free
            .extend((0..q).filter(|h| !self.pivots.contains(h)));
        let nf = self.free.len();
        refill(&mut self.z, q * nf, 0.0);
        refill(&mut self.xp, q, 0.0);
        for (jj, &f) in self.free.iter().enumerate() {
            self.z[f * nf + jj] = 1.0;
            for (i, &pc) in self.pivots.iter().enumerate() {
                self.z[pc * nf + jj] = -self.work[i * q + f];
            }
        }
        for (i, &pc) in self.pivots.iter().enumerate() {
            self.xp[pc] = self.work_rhs[i];
        }
        // x ← xp + Z·x_free: the free activities kept, the others solved for.
        self.trial.clone_from(&self.xp);
        for (jj, &f) in self.free.iter().enumerate() {
            for h in 0..q {
                self.trial[h] += self.z[h * nf + jj] * self.x[f];
            }
        }
        self.x.clone_from(&self.trial);
    }

    /// Lists sloped and pinned trees, reduces the pinned trees' balances (`work`, `work_rhs`,
    /// `pivots`) and says whether they can all hold.
    fn pins_consistent(&mut self) -> bool {
        let q = self.joints.len();
        let m = self.comps.len();
        self.sloped.clear();
        self.flat.clear();
        for j in 0..m {
            if self.pin[j].is_some() {
                self.flat.push(j);
            } else {
                self.sloped.push(j);
            }
        }
        self.work.clear();
        self.work_rhs.clear();
        for &j in &self.flat {
            self.work.extend((0..q).map(|h| self.b[h * m + j]));
            self.work_rhs.push(-self.pin[j].map_or(0.0, |p| p.g));
        }
        gauss_jordan(
            &mut self.work,
            &mut self.work_rhs,
            self.flat.len(),
            q,
            &mut self.pivots,
        )
    }

    /// Whether the joint edges' equations are independent (B has full row rank): the active
    /// set only adds an edge whose gap moves within the working set, so they are, but for
    /// rounding at ties.
    fn independent(&mut self) -> bool {
        let (q, m) = (self.joints.len(), self.comps.len());
        self.work.clone_from(&self.b);
        refill(&mut self.work_rhs, q, 0.0);
        gauss_jordan(&mut self.work, &mut self.work_rhs, q, m, &mut self.pivots);
        self.pivots.len() == q
    }

    /// Takes out of the working set the joint edges whose equations follow from the others'
    /// (B without full row rank: a plant parallel to another one of the same recipe and cost
    /// once their trees merge, or several edges joining at once on a warm start), keeping
    /// those that ran most in the last solve: a redundant equation still holds at the
    /// solution with its edge idle. Equations that contradict each other (the working set
    /// has no point at all) are an error: the active set never makes them.
    fn drop_dependent(
        &mut self,
        net: &mut Net,
        lim: &Limits,
        sc: &mut Scratch,
    ) -> Result<(), &'static str> {
        let (q, m) = (self.joints.len(), self.comps.len());
        self.work.clone_from(&self.b);
        self.work_rhs.clone_from(&self.rhs);
        gauss_jordan(&mut self.work, &mut self.work_rhs, q, m, &mut self.pivots);
        let size = self.rhs.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
        let rank = self.pivots.len();
        if self.work_rhs[rank..]
            .iter()
            .any(|v| v.abs() > 10.0 * lim.tol_p + ROUNDING * size)
        {
            return Err("processes with several inputs: contradictory level equations");
        }
        // Columns of Bᵀ (rows of B) by the last activity, largest first: Gauss–Jordan picks
        // its pivot columns greedily, and those are the equations kept.
        let mut by_activity: Vec<usize> = (0..q).collect();
        by_activity
            .sort_by(|&a, &b| net.joint_x[self.joints[b]].total_cmp(&net.joint_x[self.joints[a]]));
        refill(&mut self.work, m * q, 0.0);
        for (col, &h) in by_activity.iter().enumerate() {
            for j in 0..m {
                self.work[j * q + col] = self.b[h * m + j];
            }
        }
        refill(&mut self.work_rhs, m, 0.0);
        gauss_jordan(&mut self.work, &mut self.work_rhs, m, q, &mut self.pivots);
        let mut kept = vec![false; q];
        for &col in &self.pivots {
            kept[by_activity[col]] = true;
        }
        let mut to = 0;
        for (h, &keep) in kept.iter().enumerate() {
            if keep {
                self.b.copy_within(h * m..(h + 1) * m, to * m);
                self.rhs[to] = self.rhs[h];
                self.joints[to] = self.joints[h];
                to += 1;
            } else {
                let k = self.joints[h];
                net.state[k] = RouteState::Zero;
                net.joint_x[k] = 0.0;
                sc.flows[k] = 0.0;
            }
        }
        self.joints.truncate(to);
        self.rhs.truncate(to);
        self.b.truncate(to * m);
        Ok(())
    }

    /// Weighted excess the joint edges bring to tree j at activities `trial`.
    fn injection(&self, j: usize) -> f64 {
        let m = self.comps.len();
        (0..self.joints.len())
            .map(|h| self.b[h * m + j] * self.trial[h])
            .sum()
    }

    /// Levels of the sloped trees and the residuals B·L − rhs over them at activities
    /// `trial`.
    fn eval(&mut self, big: f64) {
        let m = self.comps.len();
        for idx in 0..self.sloped.len() {
            let j = self.sloped[idx];
            let inj = self.injection(j);
            let (e0, e1) = self.ev[j];
            let (u0, u1) = self.unc[j];
            let root = tree_sweep(
                &self.events[e0..e1],
                &self.uncapped[u0..u1],
                self.base[j] + inj,
                self.slope0[j],
                big,
            );
            self.level[j] = root.level;
            self.dlevel[j] = root.dlevel;
        }
        self.resid.clear();
        for h in 0..self.joints.len() {
            let row = &self.b[h * m..(h + 1) * m];
            let r: f64 = self.sloped.iter().map(|&j| row[j] * self.level[j]).sum();
            self.resid.push(r - self.rhs[h]);
        }
    }

    /// Levels of the pinned trees (least squares on the joint equations, undetermined ones
    /// pulled to their reference) and whether every joint equation then holds; releases
    /// (and says so) pins whose level falls off their flat piece.
    fn residual_small(&mut self, lim: &Limits) -> (bool, bool) {
        let q = self.joints.len();
        let m = self.comps.len();
        let kf = self.flat.len();
        // Normal equations EEᵀ·ℓ = −E·resid, E's rows the pinned trees' columns of B, solved
        // for the change from the reference levels (undetermined ones stay there).
        for &j in &self.flat {
            self.level[j] = self.pin[j].map_or(0.0, |p| p.reference);
        }
        refill(&mut self.work, kf * kf, 0.0);
        self.work_rhs.clear();
        for (a, &ja) in self.flat.iter().enumerate() {
            let mut r = 0.0;
            for h in 0..q {
                let row = &self.b[h * m..(h + 1) * m];
                let at_ref: f64 = self.flat.iter().map(|&j| row[j] * self.level[j]).sum();
                r -= row[ja] * (self.resid[h] + at_ref);
            }
            self.work_rhs.push(r);
            for (c, &jc) in self.flat.iter().enumerate() {
                self.work[a * kf + c] = (0..q)
                    .map(|h| self.b[h * m + ja] * self.b[h * m + jc])
                    .sum();
            }
        }
        gauss_jordan(&mut self.work, &mut self.work_rhs, kf, kf, &mut self.pivots);
        for (i, &pc) in self.pivots.iter().enumerate() {
            self.level[self.flat[pc]] += self.work_rhs[i];
        }
        let mut released = false;
        for &j in &self.flat {
            let level = self.level[j];
            if let Some(p) = self.pin[j] {
                let slack = lim.tol_p + ROUNDING * level.abs();
                if level < p.lo - slack || level > p.hi + slack {
                    self.pin[j] = None;
                    released = true;
                }
            }
        }
        let mut small = true;
        for h in 0..q {
            let row = &self.b[h * m..(h + 1) * m];
            let r = self.resid[h]
                + self
                    .flat
                    .iter()
                    .map(|&j| row[j] * self.level[j])
                    .sum::<f64>();
            let size: f64 = self.rhs[h].abs()
                + row
                    .iter()
                    .zip(&self.level)
                    .map(|(b, l)| (b * l).abs())
                    .sum::<f64>();
            small &= r.abs() <= lim.tol_p + ROUNDING * size;
        }
        (small, released)
    }

    /// One ascent step from `x` (the last evaluation was at `x`): Newton where the reduced
    /// Hessian is regular, steepest ascent where not, with a line search.
    fn step(&mut self, lim: &Limits) -> Move {
        let q = self.joints.len();
        let m = self.comps.len();
        let nf = self.free.len();
        // Reduced gradient Zᵀ·resid and Hessian Σ_j dL_j·(Zᵀb_j)(Zᵀb_j)ᵀ over sloped trees.
        self.grad.clear();
        for jj in 0..nf {
            self.grad
                .push((0..q).map(|h| self.z[h * nf + jj] * self.resid[h]).sum());
        }
        refill(&mut self.hess, nf * nf, 0.0);
        for &j in &self.sloped {
            let d = self.dlevel[j];
            if d == 0.0 {
                continue;
            }
            self.w.clear();
            for jj in 0..nf {
                self.w.push(
                    (0..q)
                        .map(|h| self.z[h * nf + jj] * self.b[h * m + j])
                        .sum(),
                );
            }
            for a in 0..nf {
                for c in 0..nf {
                    self.hess[a * nf + c] += d * self.w[a] * self.w[c];
                }
            }
        }
        self.dy.clone_from(&self.grad);
        let newton = gauss_jordan(&mut self.hess, &mut self.dy, nf, nf, &mut self.pivots)
            && self.pivots.len() == nf
            && self
                .dy
                .iter()
                .zip(&self.grad)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                > 0.0;
        if !newton {
            // Steepest ascent, first tried at a step of the market's quantity per price.
            self.dy.clear();
            self.dy.extend(self.grad.iter().map(|g| g * lim.ratio));
        }
        self.dx.clear();
        for h in 0..q {
            self.dx
                .push((0..nf).map(|jj| self.z[h * nf + jj] * self.dy[jj]).sum());
        }
        let s0: f64 = self.resid.iter().zip(&self.dx).map(|(r, d)| r * d).sum();
        if s0.is_nan() || s0 <= 0.0 {
            return Move::Stuck;
        }
        let (alpha, pinned) = self.line_search(s0, newton, lim);
        let mut moved = false;
        for h in 0..q {
            let before = self.x[h];
            self.x[h] += alpha * self.dx[h];
            moved |= self.x[h] != before;
        }
        if pinned {
            Move::Pinned
        } else if moved {
            Move::Stepped
        } else {
            // The step has shrunk below the activities' precision at a jump of ∇φ that no
            // pin can take (a tree that cannot balance).
            Move::Stuck
        }
    }

    /// The step length along `dx` where φ stops rising: the root of the non-increasing
    /// s(α) = resid(x + α·dx)·dx, with s(0) = `s0` > 0. A Newton step is taken whole while s
    /// stays ≥ 0 at α = 1; otherwise the root is bracketed (fourfold steps) and found by
    /// Illinois regula falsi with bisection. If the bracket closes on a jump of s, the trees
    /// whose levels jump there are pinned (returns true) and the step stops short of it.
    fn line_search(&mut self, s0: f64, newton: bool, lim: &Limits) -> (f64, bool) {
        self.level_lo.clone_from(&self.level);
        let (mut lo, mut s_lo) = (0.0, s0);
        let mut hi = 1.0;
        let mut s_hi = self.slope_at(hi, lim.big);
        let mut tries = 0;
        while s_hi > 0.0 {
            if newton || tries == MAX_SEARCH {
                return (hi, false);
            }
            (lo, s_lo) = (hi, s_hi);
            self.level_lo.clone_from(&self.level);
            hi *= 4.0;
            s_hi = self.slope_at(hi, lim.big);
            tries += 1;
        }
        if s_hi == 0.0 {
            return (hi, false);
        }
        self.level_hi.clone_from(&self.level);
        let mut side = 0i8;
        let mut bisect = false;
        for _ in 0..MAX_SEARCH {
            let width = hi - lo;
            if width <= KINK_WIDTH * hi {
                break;
            }
            let alpha = if bisect {
                0.5 * (lo + hi)
            } else {
                (hi - s_hi * width / (s_hi - s_lo)).clamp(lo, hi)
            };
            let s = self.slope_at(alpha, lim.big);
            if s.abs() <= SEARCH_TOL * s0 {
                return (alpha, false);
            }
            if s > 0.0 {
                (lo, s_lo) = (alpha, s);
                self.level_lo.clone_from(&self.level);
                if side == 1 {
                    s_hi *= 0.5;
                }
                side = 1;
            } else {
                (hi, s_hi) = (alpha, s);
                self.level_hi.clone_from(&self.level);
                if side == -1 {
                    s_lo *= 0.5;
                }
                side = -1;
            }
            // A jump of s makes false position crawl: bisect after any step that did not
            // halve the bracket.
            bisect = hi - lo > 0.5 * width;
        }
        // The bracket has closed on a jump of s: trees whose level jumps across it lie on a
        // flat piece of their excess there.
        self.newly.clear();
        for idx in 0..self.sloped.len() {
            let j = self.sloped[idx];
            let (a, b) = (self.level_lo[j], self.level_hi[j]);
            if (a - b).abs() > JUMP * lim.price {
                let (lo_level, hi_level) = (a.min(b), a.max(b));
                // A flat piece reaching beyond the tree's range ends at ±big.
                let reference = if hi_level.abs() >= 0.5 * lim.big {
                    lo_level
                } else if lo_level.abs() >= 0.5 * lim.big {
                    hi_level
                } else {
                    0.5 * (lo_level + hi_level)
                };
                self.pin[j] = Some(Pin {
                    g: self.excess_at(j, 0.5 * (lo_level + hi_level)),
                    lo: lo_level,
                    hi: hi_level,
                    reference,
                });
                self.newly.push(j);
            }
        }
        (lo, !self.newly.is_empty())
    }

    /// s(α) = resid(x + α·dx)·dx.
    fn slope_at(&mut self, alpha: f64, big: f64) -> f64 {
        self.trial.clear();
        self.trial
            .extend(self.x.iter().zip(&self.dx).map(|(x, d)| x + alpha * d));
        self.eval(big);
        self.resid.iter().zip(&self.dx).map(|(r, d)| r * d).sum()
    }

    /// Tree j's weighted excess G at `level` (flat steps at exactly their price counted
    /// filled).
    fn excess_at(&self, j: usize, level: f64) -> f64 {
        let events = &self.events[self.ev[j].0..self.ev[j].1];
        let uncapped = &self.uncapped[self.unc[j].0..self.unc[j].1];
        let Some(first) = events.first() else {
            return self.base[j];
        };
        let t0 = first.0;
        let g0 = self.base[j]
            - uncapped
                .iter()
                .map(|&(t_hi, w)| (t_hi - t0) * w)
                .sum::<f64>();
        if level < t0 {
            return g0 - self.slope0[j] * (t0 - level);
        }
        let (mut g, mut slope, mut at) = (g0, self.slope0[j], t0);
        for e in events.iter().take_while(|e| e.0 <= level) {
            g += slope * (e.0 - at) + e.2;
            slope += e.1;
            at = e.0;
        }
        g + slope * (level - at)
    }
}

/// Gauss–Jordan elimination of `a·x = rhs` (`rows` × `cols`, row-major, in place) with
/// partial pivoting. A column whose best pivot is below [`PIVOT`] × the largest entry is
/// skipped (its variable is free). Fills `pivots` with the pivot column of each leading row,
/// so that x[pivots[i]] = rhs[i] with the free variables at 0; returns whether the rows left
/// over are consistent (their right-hand sides vanish to [`PIVOT`] × the largest).
fn gauss_jordan(
    a: &mut [f64],
    rhs: &mut [f64],
    rows: usize,
    cols: usize,
    pivots: &mut Vec<usize>,
) -> bool {
    let amax = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let bmax = rhs.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    pivots.clear();
    let mut row = 0;
    for col in 0..cols {
        if row == rows {
            break;
        }
        let best = (row..rows)
            .max_by(|&r, &s| a[r * cols + col].abs().total_cmp(&a[s * cols + col].abs()))
            .unwrap_or(row);
        if a[best * cols + col].abs() <= PIVOT * amax {
            continue;
        }
        if best != row {
            for c in 0..cols {
                a.swap(best * cols + c, row * cols + c);
            }
            rhs.swap(best, row);
        }
        let p = a[row * cols + col];
        for c in 0..cols {
            a[row * cols + c] /= p;
        }
        rhs[row] /= p;
        for r in 0..rows {
            let f = a[r * cols + col];
            if r == row || f == 0.0 {
                continue;
            }
            for c in 0..cols {
                a[r * cols + c] -= f * a[row * cols + c];
            }
            rhs[r] -= f * rhs[row];
        }
        pivots.push(col);
        row += 1;
    }
    rhs[row..rows].iter().all(|v| v.abs() <= PIVOT * bmax)
}

#[cfg(test)]
mod tests {
    use super::gauss_jordan;

    #[test]
    fn gauss_jordan_solves_and_finds_free_columns() {
        // x + 2y = 5, 3x + 4y = 6 ⇒ x = −4, y = 4.5.
        let mut a = vec![1.0, 2.0, 3.0, 4.0];
        let mut b = vec![5.0, 6.0];
        let mut piv = Vec::new();
        assert!(gauss_jordan(&mut a, &mut b, 2, 2, &mut piv));
        assert_eq!(piv, vec![0, 1]);
        assert!((b[0] + 4.0).abs() < 1e-12 && (b[1] - 4.5).abs() < 1e-12);
        // x + y = 1 twice: y is free, consistent; x + y = 1 and x + y = 2: inconsistent.
        let mut a = vec![1.0, 1.0, 1.0, 1.0];
        let mut b = vec![1.0, 1.0];
        assert!(gauss_jordan(&mut a, &mut b, 2, 2, &mut piv));
        assert_eq!(piv, vec![0]);
        let mut a = vec![1.0, 1.0, 1.0, 1.0];
        let mut b = vec![1.0, 2.0];
        assert!(!gauss_jordan(&mut a, &mut b, 2, 2, &mut piv));
    }
}
