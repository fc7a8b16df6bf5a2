//! Parts of a market: the goods that clear together. Goods are linked only by processes (a
//! plant's inputs and output) and by constraints over several routes (quotas, export-share
//! caps); a set of goods closed under those links clears on its own, and its solution is the
//! whole market's solution restricted to it. [`components`] finds the smallest such sets;
//! [`part`] cuts one out (all regions, its goods renumbered) and maps solutions both ways.
//!
//! A risk run uses this to clear only the goods a draw's events touch: a draw that leaves a
//! chain alone shares that chain's run with every other such draw.

use crate::model::Market;
use crate::solution::Solution;

/// The goods that clear together: `component[g]` is the component of good `g`, numbered from
/// 0 in order of each component's first good. `links` are extra sets of goods that must clear
/// together (the goods one policy touches).
pub fn components(market: &Market, links: &[Vec<usize>]) -> Vec<usize> {
    let ng = market.goods.len();
    let mut parent: Vec<usize> = (0..ng).collect();
    fn root(parent: &mut [usize], mut g: usize) -> usize {
        while parent[g] != g {
            parent[g] = parent[parent[g]];
            g = parent[g];
        }
        g
    }
    let join = |parent: &mut Vec<usize>, a: usize, b: usize| {
        if a < ng && b < ng {
            let (ra, rb) = (root(parent, a), root(parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    };
    for p in &market.processes {
        for &(g, _) in &p.inputs {
            join(&mut parent, p.output, g);
        }
    }
    let route_good = |r: usize| market.routes.get(r).map(|r| r.good);
    for q in &market.quotas {
        let goods: Vec<usize> = q.routes.iter().filter_map(|&r| route_good(r)).collect();
        for w in goods.windows(2) {
            join(&mut parent, w[0], w[1]);
        }
    }
    for s in &market.export_shares {
        for g in s.routes.iter().filter_map(|&r| route_good(r)) {
            join(&mut parent, s.good, g);
        }
    }
    for set in links {
        for w in set.windows(2) {
            join(&mut parent, w[0], w[1]);
        }
    }
    let mut number = vec![usize::MAX; ng];
    let mut next = 0;
    (0..ng)
        .map(|g| {
            let r = root(&mut parent, g);
            if number[r] == usize::MAX {
                number[r] = next;
                next += 1;
            }
            number[r]
        })
        .collect()
}

/// One part of a market (every region, some goods) and how to map solutions between it and
/// the whole.
#[derive(Debug, Clone)]
pub struct Part {
    /// The part as a market of its own: the kept goods renumbered in order, everything else
    /// in its original order.
    pub market: Market,
    /// Whole-market index of each kept good, supply step, demand step, route, process, quota
    /// and export-share cap, in the part's order.
    goods: Vec<usize>,
    supply: Vec<usize>,
    demand: Vec<usize>,
    routes: Vec<usize>,
    processes: Vec<usize>,
    quotas: Vec<usize>,
    shares: Vec<usize>,
}

/// Cuts the goods `keep` (one flag per good) out of `market`. `None` when the flags do not
/// match the goods or the kept goods are not closed: a process, quota or export-share cap
/// that links a kept good with one left out.
pub fn part(market: &Market, keep: &[bool]) -> Option<Part> {
    if keep.len() != market.goods.len() {
        return None;
    }
    let mut renumber = vec![usize::MAX; keep.len()];
    let mut goods = Vec::new();
    for (g, &k) in keep.iter().enumerate() {
        if k {
            renumber[g] = goods.len();
            goods.push(g);
        }
    }
    let kept = |g: usize| keep.get(g).copied().unwrap_or(false);
    let mut m = Market {
        regions: market.regions.clone(),
        goods: goods.iter().map(|&g| market.goods[g].clone()).collect(),
        ..Market::default()
    };
    let mut supply = Vec::new();
    for (i, s) in market
        .supply
        .iter()
        .enumerate()
        .filter(|(_, s)| kept(s.good))
    {
        supply.push(i);
        m.supply.push(crate::SupplyStep {
            good: renumber[s.good],
            ..s.clone()
        });
    }
    let mut demand = Vec::new();
    for (i, d) in market
        .demand
        .iter()
        .enumerate()
        .filter(|(_, d)| kept(d.good))
    {
        demand.push(i);
        m.demand.push(crate::DemandStep {
            good: renumber[d.good],
            ..d.clone()
        });
    }
    for d in market.fixed_demand.iter().filter(|d| kept(d.good)) {
        m.fixed_demand.push(crate::FixedDemand {
            good: renumber[d.good],
            ..d.clone()
        });
    }
    let mut routes = Vec::new();
    let mut route_at = vec![usize::MAX; market.routes.len()];
    for (i, r) in market
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| kept(r.good))
    {
        route_at[i] = routes.len();
        routes.push(i);
        m.routes.push(crate::Route {
            good: renumber[r.good],
            ..r.clone()
        });
    }
    let mut processes = Vec::new();
    for (i, p) in market.processes.iter().enumerate() {
        let inside = p.inputs.iter().filter(|(g, _)| kept(*g)).count();
        match (kept(p.output), inside) {
            (true, n) if n == p.inputs.len() => {
                processes.push(i);
                let mut q = p.clone();
                q.output = renumber[p.output];
                for (g, _) in &mut q.inputs {
                    *g = renumber[*g];
                }
                m.processes.push(q);
            }
            (false, 0) => {}
            _ => return None,
        }
    }
    // A constraint's routes all inside or all outside.
    let moved = |list: &[usize]| -> Option<Option<Vec<usize>>> {
        let at: Vec<usize> = list
            .iter()
            .map(|&r| route_at.get(r).copied().unwrap_or(usize::MAX))
            .collect();
        match at.iter().filter(|&&a| a != usize::MAX).count() {
            0 => Some(None),
            n if n == at.len() => Some(Some(at)),
            _ => None,
        }
    };
    let mut quotas = Vec::new();
    for (i, q) in market.quotas.iter().enumerate() {
        if let Some(routes) = moved(&q.routes)? {
            quotas.push(i);
            m.quotas.push(crate::Quota {
                routes,
                ..q.clone()
            });
        }
    }
    let mut shares = Vec::new();
    for (i, s) in market.export_shares.iter().enumerate() {
        match (moved(&s.routes)?, kept(s.good)) {
            (Some(routes), true) => {
                shares.push(i);
                m.export_shares.push(crate::ExportShare {
                    good: renumber[s.good],
                    routes,
                    ..s.clone()
                });
            }
            (None, false) => {}
            _ => return None,
        }
    }
    Some(Part {
        market: m,
        goods,
        supply,
        demand,
        routes,
        processes,
        quotas,
        shares,
    })
}

/// `out[at[i]] = from[i]` for every `i` both sides have.
fn scatter(out: &mut [f64], at: &[usize], from: &[f64]) {
    for (&i, &v) in at.iter().zip(from) {
        if let Some(o) = out.get_mut(i) {
            *o = v;
        }
    }
}

/// `from[at[i]]` for every `i` (0 where `from` has none).
fn gather(from: &[f64], at: &[usize]) -> Vec<f64> {
    at.iter()
        .map(|&i| from.get(i).copied().unwrap_or(0.0))
        .collect()
}

impl Part {
    /// Whole-market indices of the kept goods.
    pub fn goods(&self) -> &[usize] {
        &self.goods
    }

    /// A solution of the part as one of `whole`: the part's prices, quantities, flows and
    /// shadows in place; nodes of other goods unpriced (NaN), everything else of theirs 0.
    /// The welfare account and the solver's record are the part's.
    pub fn back(&self, whole: &Market, sol: &Solution) -> Solution {
        let mut out = Solution::failed(whole, sol.status, sol.iterations);
        let ng = self.goods.len();
        for (i, &p) in sol.prices.iter().enumerate() {
            let (r, g) = (i / ng.max(1), i % ng.max(1));
            if let Some(&full) = self.goods.get(g) {
                out.prices[whole.node(r, full)] = p;
            }
        }
        scatter(&mut out.supply, &self.supply, &sol.supply);
        scatter(&mut out.demand, &self.demand, &sol.demand);
        scatter(&mut out.flows, &self.routes, &sol.flows);
        scatter(&mut out.route_shadow, &self.routes, &sol.route_shadow);
        scatter(&mut out.activity, &self.processes, &sol.activity);
        scatter(
            &mut out.process_shadow,
            &self.processes,
            &sol.process_shadow,
        );
        scatter(&mut out.quota_shadow, &self.quotas, &sol.quota_shadow);
        scatter(&mut out.share_shadow, &self.shares, &sol.share_shadow);
        out.welfare = sol.welfare.clone();
        out.max_violation = sol.max_violation;
        out.solver = sol.solver;
        out
    }

    /// A solution of the whole market as one of the part, to warm-start it.
    pub fn into_part(&self, whole: &Market, sol: &Solution) -> Solution {
        let m = &self.market;
        let mut out = Solution::failed(m, sol.status, sol.iterations);
        for r in 0..m.regions.len() {
            for (g, &full) in self.goods.iter().enumerate() {
                if let Some(&p) = sol.prices.get(whole.node(r, full)) {
                    out.prices[m.node(r, g)] = p;
                }
            }
        }
        out.supply = gather(&sol.supply, &self.supply);
        out.demand = gather(&sol.demand, &self.demand);
        out.flows = gather(&sol.flows, &self.routes);
        out.route_shadow = gather(&sol.route_shadow, &self.routes);
        out.activity = gather(&sol.activity, &self.processes);
        out.process_shadow = gather(&sol.process_shadow, &self.processes);
        out.quota_shadow = gather(&sol.quota_shadow, &self.quotas);
        out.share_shadow = gather(&sol.share_shadow, &self.shares);
        out.welfare = sol.welfare.clone();
        out.max_violation = sol.max_violation;
        out.solver = sol.solver;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DemandStep, Process, Quota, Route, SolveStatus, SupplyStep, solve_reference};

    /// Two chains in two regions: ore → metal (goods 0, 1) and a lone good 2, with a quota on
    /// good 2's exports.
    fn two_chains() -> Market {
        let mut m = Market {
            regions: vec!["A".into(), "B".into()],
            goods: vec!["ore".into(), "metal".into(), "salt".into()],
            ..Market::default()
        };
        for (r, (a, b)) in [(10.0, 0.5), (14.0, 0.2)].into_iter().enumerate() {
            m.supply.push(SupplyStep {
                region: r,
                good: 0,
                intercept: a,
                slope: b,
                capacity: None,
            });
            m.supply.push(SupplyStep {
                region: r,
                good: 2,
                intercept: a / 2.0,
                slope: b,
                capacity: None,
            });
            m.demand.push(DemandStep {
                region: 1 - r,
                good: 1,
                intercept: 200.0,
                slope: 1.0,
                capacity: None,
            });
            m.demand.push(DemandStep {
                region: 1 - r,
                good: 2,
                intercept: 60.0,
                slope: 0.5,
                capacity: None,
            });
            m.processes.push(Process {
                name: format!("smelter {r}"),
                region: r,
                output: 1,
                inputs: vec![(0, 2.0)],
                cost: 5.0 + r as f64,
                capacity: Some(30.0),
            });
        }
        for g in 0..3 {
            for (from, to) in [(0, 1), (1, 0)] {
                m.routes.push(Route {
                    from,
                    to,
                    good: g,
                    cost: 1.0,
                    tariff: 0.0,
                    capacity: None,
                    banned: false,
                });
            }
        }
        m.quotas.push(Quota {
            name: "salt cap".into(),
            routes: vec![4, 5],
            limit: 0.5,
        });
        m
    }

    #[test]
    fn components_follow_processes_and_links() {
        let m = two_chains();
        assert_eq!(components(&m, &[]), vec![0, 0, 1]);
        assert_eq!(components(&m, &[vec![2, 0]]), vec![0, 0, 0]);
    }

    #[test]
    fn parts_clear_as_the_whole_does() {
        let m = two_chains();
        let whole = solve_reference(&m, &Default::default()).expect("valid");
        assert_eq!(whole.status, SolveStatus::Optimal);
        let comp = components(&m, &[]);
        let mut prices = vec![f64::NAN; m.nodes()];
        let mut flows = vec![f64::NAN; m.routes.len()];
        let mut quota = f64::NAN;
        for c in 0..2 {
            let keep: Vec<bool> = comp.iter().map(|&k| k == c).collect();
            let p = part(&m, &keep).expect("closed");
            let sol = solve_reference(&p.market, &Default::default()).expect("valid");
            assert_eq!(sol.status, SolveStatus::Optimal);
            let back = p.back(&m, &sol);
            for (i, x) in back.prices.iter().enumerate() {
                if keep[i % 3] {
                    prices[i] = *x;
                } else {
                    assert!(x.is_nan(), "node {i} of another part is priced");
                }
            }
            for (i, r) in m.routes.iter().enumerate() {
                if keep[r.good] {
                    flows[i] = back.flows[i];
                }
            }
            if keep[2] {
                quota = back.quota_shadow[0];
            }
            // And back again: the warm start is the part's own solution.
            let again = p.into_part(&m, &back);
            assert_eq!(again.prices, sol.prices);
            assert_eq!(again.flows, sol.flows);
            assert_eq!(again.activity, sol.activity);
        }
        for (a, b) in prices.iter().zip(&whole.prices) {
            assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} vs {b}");
        }
        for (a, b) in flows.iter().zip(&whole.flows) {
            assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert!(quota > 1.0, "the salt cap binds: {quota}");
        assert!((quota - whole.quota_shadow[0]).abs() < 1e-6 * quota);
    }

    #[test]
    fn a_part_that_cuts_a_link_is_refused() {
        let m = two_chains();
        assert!(part(&m, &[true, false, false]).is_none(), "splits a plant");
        assert!(part(&m, &[true, true]).is_none(), "flags do not match");
        let mut q = m.clone();
        q.quotas[0].routes.push(0);
        assert!(part(&q, &[true, true, false]).is_none(), "splits a quota");
        assert_eq!(components(&q, &[]), vec![0, 0, 0]);
    }
}
