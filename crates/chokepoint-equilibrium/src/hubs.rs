//! Quotas as capacities: a quota whose routes all leave one node (one exporting region, one
//! good) is the same constraint as a capacity on one extra edge, and so is a family of such
//! quotas that are disjoint or nested (a licence per destination inside an export cap). The
//! node ships to a hub node of its own, along an edge capped at the quota, and the quota's
//! routes leave from the hub instead. The edge costs a hair above zero ([`HUB_COST`] of its
//! routes' cost): with a cost of exactly zero an idle hub edge ties with a used one and the
//! active set can cycle (seen on risk draws of the seed scenario: 6,000 steps, then the
//! reference path). The market then has a plain route capacity where it had a coupling
//! constraint, which the fast path prices without a search over multipliers; the quota's
//! shadow price is the price gap across the hub edge, less that cost.
//!
//! Hubs live in extra regions appended after the market's own (`hub 1`, `hub 2`, …), one
//! hub of each good per extra region, so node indices keep `region × goods + good` and the
//! good of every node is its index modulo the goods. A hub region's other nodes have nothing
//! attached. Routes keep their indices (a moved route only changes its `from`), and the hub
//! edges come after them; a solution maps back by truncation, with the quota shadows read
//! off the hub edges.

use crate::model::{Market, Route};
use crate::solution::{Solution, welfare};

/// A market with some quotas turned into hub edges, and how to map solutions between it and
/// the original.
#[derive(Debug, Clone)]
pub struct Hubbed {
    /// The transformed market.
    pub market: Market,
    /// Original quota index → hub edge (route index in `market`), for the quotas turned into
    /// hub edges.
    hubs: Vec<(usize, usize)>,
    /// Original quota index of each quota left in `market` (in order).
    kept: Vec<usize>,
    /// Routes, nodes and quotas of the original market.
    routes: usize,
    nodes: usize,
    quotas: usize,
}

impl Hubbed {
    /// The layout as a key: which quotas became hubs and where their edges start. Two
    /// quarters with the same key have markets of the same structure (a solver's warm start
    /// carries over).
    pub fn key(&self) -> Vec<usize> {
        let mut k = vec![self.market.regions.len(), self.market.routes.len()];
        for &(q, e) in &self.hubs {
            let r = &self.market.routes[e];
            k.extend([q, r.from, r.good]);
        }
        k
    }

    /// Number of quotas turned into hub edges.
    pub fn hubs(&self) -> usize {
        self.hubs.len()
    }

    /// A solution of the transformed market as one of `original` (the market this was made
    /// from): the original routes' flows and nodes' prices, quota shadows from the hub edges'
    /// capacity shadows, and the welfare account recomputed on the original.
    pub fn back(&self, original: &Market, sol: &Solution) -> Solution {
        let mut out = sol.clone();
        if sol.flows.len() == self.market.routes.len() {
            out.flows.truncate(self.routes);
            out.route_shadow.truncate(self.routes);
        }
        if sol.prices.len() == self.market.nodes() {
            out.prices.truncate(self.nodes);
        }
        let mut quota = vec![0.0; self.quotas];
        for &(q, e) in &self.hubs {
            quota[q] = sol.route_shadow.get(e).copied().unwrap_or(0.0);
        }
        for (k, &q) in self.kept.iter().enumerate() {
            quota[q] = sol.quota_shadow.get(k).copied().unwrap_or(0.0);
        }
        out.quota_shadow = quota;
        if out.flows.len() == original.routes.len() && out.prices.len() == original.nodes() {
            out.welfare = welfare(original, &out);
        }
        out
    }

    /// A solution of `original` as one of the transformed market, to warm-start it: each hub
    /// edge carries its quota's flow at the origin's price plus the quota's shadow; the other
    /// hub nodes are priced at 0 (nothing is attached to them).
    pub fn into_hubbed(&self, original: &Market, sol: &Solution) -> Solution {
        let m = &self.market;
        let mut out = sol.clone();
        if sol.flows.len() != self.routes || sol.prices.len() != self.nodes {
            return out;
        }
        out.prices.resize(m.nodes(), 0.0);
        out.flows.resize(m.routes.len(), 0.0);
        out.route_shadow.resize(m.routes.len(), 0.0);
        for &(q, e) in &self.hubs {
            let edge = &m.routes[e];
            let flow: f64 = original.quotas[q]
                .routes
                .iter()
                .map(|&r| sol.flows[r])
                .sum();
            let shadow = sol.quota_shadow.get(q).copied().unwrap_or(0.0).max(0.0);
            out.flows[e] = flow;
            out.route_shadow[e] = shadow;
            // Parents come before their nested quotas, so each edge's start is priced.
            out.prices[m.node(edge.to, edge.good)] =
                out.prices[m.node(edge.from, edge.good)] + edge.cost + shadow;
        }
        out.quota_shadow = self
            .kept
            .iter()
            .map(|&q| sol.quota_shadow.get(q).copied().unwrap_or(0.0))
            .collect();
        out
    }
}

/// Turns quotas into hub edges: every quota whose routes all leave one region with one good,
/// share no route with an export-share cap or a quota that stays, and, among the quotas of
/// the same node, are either disjoint from or nested in one another (a laminar family: a
/// licence per destination inside a cap on all exports). A nested quota's hub hangs from the
/// hub of the smallest quota containing it, so its edge carries its routes' flows and every
/// enclosing edge carries them too. `None` when no quota qualifies.
pub fn hub_quotas(market: &Market) -> Option<Hubbed> {
    use std::collections::{BTreeMap, HashSet};
    let nr = market.regions.len();
    let ng = market.goods.len();
    let mut in_share = vec![false; market.routes.len()];
    for s in &market.export_shares {
        for &r in &s.routes {
            if let Some(u) = in_share.get_mut(r) {
                *u = true;
            }
        }
    }
    // Candidates: one origin node, distinct known routes, none capped by a share, a limit.
    let single = |q: &crate::model::Quota| -> Option<(usize, usize)> {
        let first = market.routes.get(*q.routes.first()?)?;
        let (from, good) = (first.from, first.good);
        let mut seen = HashSet::new();
        for &r in &q.routes {
            let route = market.routes.get(r)?;
            if route.from != from || route.good != good || in_share[r] || !seen.insert(r) {
                return None;
            }
        }
        (q.limit.is_finite() && q.limit >= 0.0).then_some((from, good))
    };
    let mut node_of: Vec<Option<(usize, usize)>> = market.quotas.iter().map(single).collect();
    let sets: Vec<HashSet<usize>> = market
        .quotas
        .iter()
        .map(|q| q.routes.iter().copied().collect())
        .collect();
    // Drop candidates that share a route with a quota that stays, or that break laminarity
    // within their node's family, until none does.
    loop {
        let mut changed = false;
        for a in 0..market.quotas.len() {
            let Some(na) = node_of[a] else { continue };
            for b in 0..market.quotas.len() {
                if a == b || sets[a].is_disjoint(&sets[b]) {
                    continue;
                }
                let nested = sets[a].is_subset(&sets[b]) || sets[b].is_subset(&sets[a]);
                if node_of[b] != Some(na) || !nested {
                    node_of[a] = None;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Families by node, largest quota first: each one's parent is the smallest placed quota
    // containing it.
    let mut families: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (q, n) in node_of.iter().enumerate() {
        if let Some(n) = n {
            families.entry(*n).or_default().push(q);
        }
    }
    if node_of.iter().all(Option::is_none) {
        return None;
    }
    let mut hubbed = market.clone();
    hubbed.quotas = Vec::new();
    let mut kept = Vec::new();
    for (q, n) in node_of.iter().enumerate() {
        if n.is_none() {
            kept.push(q);
            hubbed.quotas.push(market.quotas[q].clone());
        }
    }
    let mut hubs = Vec::new();
    let mut layer = vec![0usize; ng];
    let mut layers = 0usize;
    for ((from, good), mut family) in families {
        family.sort_by_key(|&q| (std::cmp::Reverse(sets[q].len()), q));
        // (quota, its hub region) as placed.
        let mut placed: Vec<(usize, usize)> = Vec::new();
        for &q in &family {
            let parent = placed
                .iter()
                .filter(|&&(p, _)| sets[q].is_subset(&sets[p]))
                .min_by_key(|&&(p, _)| sets[p].len())
                .map_or(from, |&(_, hub)| hub);
            let region = nr + layer[good];
            layer[good] += 1;
            layers = layers.max(layer[good]);
            hubs.push((q, hubbed.routes.len()));
            let tie = HUB_COST
                * market.quotas[q]
                    .routes
                    .iter()
                    .map(|&r| market.routes[r].cost)
                    .fold(0.0, f64::max);
            hubbed.routes.push(Route {
                from: parent,
                to: region,
                good,
                cost: tie,
                tariff: 0.0,
                capacity: Some(market.quotas[q].limit),
                banned: false,
            });
            placed.push((q, region));
            // Routes leave from the hub of the smallest quota holding them: this one, until a
            // nested one takes them.
            for &r in &market.quotas[q].routes {
                hubbed.routes[r].from = region;
            }
        }
    }
    if hubs.is_empty() {
        return None;
    }
    for l in 0..layers {
        hubbed.regions.push(format!("hub {}", l + 1));
    }
    Some(Hubbed {
        market: hubbed,
        hubs,
        kept,
        routes: market.routes.len(),
        nodes: market.nodes(),
        quotas: market.quotas.len(),
    })
}

/// Cost of a hub edge, as a share of the dearest of its quota's routes: a hair above zero, so
/// that an unused hub edge is strictly unprofitable rather than tied (ties make the active
/// set cycle).
const HUB_COST: f64 = 1e-8;
