//! Exposure tracing: where the material in a region's consumption of a good was mined,
//! refined and made, by proportional tracing through the cleared flows (the rule of
//! input–output footprints: every unit leaving a node carries the node's average mix).
//!
//! For a good g and one of its chain's goods k (g itself or any good upstream of it through the
//! plants' input coefficients), E_{k,g}(r) is the quantity of k embodied in everything of g
//! available at region r (production plus imports), split by the region where k was produced:
//!
//! E_{k,g}(r) = [k = g]·P_g(r)·e_r
//!            + [k ≠ g]·( Σ_{plants p at r making g} x_p Σ_j c_{p,j}·E_{k,j}(r)/A_j(r)
//!                        + (P_g(r) − Σ_p x_p)·e_untraced )
//!            + Σ_s F_g(s→r)·E_{k,g}(s)/A_g(s)
//!
//! where P is production, x a plant's output, c its input coefficients, F the route flows and
//! A = P + imports the availability. Output of g that is not made from inputs (secondary supply
//! such as scrap refining) carries no upstream origin: it is reported as `untraced`. The system
//! is solved by fixed-point iteration (trade loops converge because a node re-exports less
//! than it has). A consumer at r takes the mix E_{k,g}(r)/A_g(r) per unit.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scenario::World;
use crate::world::Baseline;

/// A plant in the trace: (region, output good, inputs (good, units per unit of output), output).
pub type Plant = (usize, usize, Vec<(usize, f64)>, f64);

/// Annual (or any period's) cleared quantities, by node, route and plant.
#[derive(Debug, Clone)]
pub struct Flows {
    /// Region names.
    pub regions: Vec<String>,
    /// Good names.
    pub goods: Vec<String>,
    /// Production per node (region × goods + good).
    pub production: Vec<f64>,
    /// (from region, to region, good, flow).
    pub routes: Vec<(usize, usize, usize, f64)>,
    /// The plants that ran.
    pub plants: Vec<Plant>,
    /// Final consumption per (node, sector).
    pub consumption: BTreeMap<(usize, String), f64>,
}

impl Flows {
    fn node(&self, r: usize, g: usize) -> usize {
        r * self.goods.len() + g
    }

    /// The flows of one calendar year of a run (its quarters summed), with the plants of the
    /// world model (`WorldModel::processes`).
    pub fn of_year(
        run: &Baseline,
        w: &World,
        plants: &[chokepoint_equilibrium::Process],
        year: i32,
    ) -> Result<Flows, String> {
        let prefix = format!("{year}Q");
        let quarters: Vec<usize> = run
            .periods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.period.starts_with(&prefix))
            .map(|(k, _)| k)
            .collect();
        if quarters.is_empty() {
            let years: Vec<String> = run
                .periods
                .iter()
                .filter_map(|p| p.period.get(..4).map(str::to_string))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            return Err(format!(
                "the run has no quarter of {year} (it covers {})",
                years.join(", ")
            ));
        }
        if quarters.iter().any(|&k| run.quarter_flows[k].is_empty()) {
            return Err(format!("a quarter of {year} did not clear"));
        }
        let n = w.regions.len() * w.goods.len();
        let mut production = vec![0.0; n];
        let mut consumption = BTreeMap::new();
        for r in run.rows.iter().filter(|r| r.period.starts_with(&prefix)) {
            if let (Some(ri), Some(g)) = (w.region(&r.region), w.good(&r.good)) {
                production[w.node(ri, g)] += r.production;
            }
        }
        for r in run
            .sector_rows
            .iter()
            .filter(|r| r.period.starts_with(&prefix))
        {
            if let (Some(ri), Some(g)) = (w.region(&r.region), w.good(&r.good)) {
                *consumption
                    .entry((w.node(ri, g), r.sector.clone()))
                    .or_insert(0.0) += r.consumption;
            }
        }
        let mut routes: Vec<(usize, usize, usize, f64)> = Vec::with_capacity(run.routes.len());
        for (i, (from, to, good)) in run.routes.iter().enumerate() {
            let flow: f64 = quarters.iter().map(|&k| run.quarter_flows[k][i]).sum();
            if flow > 0.0
                && let (Some(f), Some(t), Some(g)) = (w.region(from), w.region(to), w.good(good))
            {
                routes.push((f, t, g, flow));
            }
        }
        let plants = plants
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x: f64 = quarters
                    .iter()
                    .map(|&k| run.quarter_activity[k].get(i).copied().unwrap_or(0.0))
                    .sum();
                (p.region, p.output, p.inputs.clone(), x)
            })
            .filter(|p| p.3 > 0.0)
            .collect();
        Ok(Flows {
            regions: w.regions.clone(),
            goods: w.goods.clone(),
            production,
            routes,
            plants,
            consumption,
        })
    }

    /// Goods upstream of `g` through the plants' inputs, `g` first, then nearer before farther.
    pub fn chain(&self, g: usize) -> Vec<usize> {
        let mut out = vec![g];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i];
            for p in self.plants.iter().filter(|p| p.1 == cur) {
                for &(j, _) in &p.2 {
                    if !out.contains(&j) {
                        out.push(j);
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Units of `k` in a unit of each good made from it: 1 for `k`, else the output-weighted
    /// mean over the plants making the good of Σ_j c_j·content_j (0 for goods not made from
    /// `k`). What secondary output (not made from inputs) is taken to replace.
    pub fn content(&self, k: usize) -> Vec<f64> {
        let ng = self.goods.len();
        let mut a = vec![0.0; ng];
        a[k] = 1.0;
        // A chain is at most as deep as it has goods.
        for _ in 0..ng {
            let mut next = vec![0.0; ng];
            let mut weight = vec![0.0; ng];
            next[k] = 1.0;
            for p in self.plants.iter().filter(|p| p.1 != k) {
                next[p.1] += p.3 * p.2.iter().map(|&(j, c)| c * a[j]).sum::<f64>();
                weight[p.1] += p.3;
            }
            for g in (0..ng).filter(|&g| g != k) {
                next[g] = if weight[g] > 0.0 {
                    next[g] / weight[g]
                } else {
                    0.0
                };
            }
            if next == a {
                break;
            }
            a = next;
        }
        a
    }

    /// Availability (production + imports) per node.
    fn availability(&self) -> Vec<f64> {
        let mut a = self.production.clone();
        for &(_, t, g, f) in &self.routes {
            let i = self.node(t, g);
            a[i] += f;
        }
        a
    }

    /// E_{k,g}(r) for every good g and region r, for the chain good `k`: per node a vector
    /// over origins (regions, then `untraced`).
    pub fn embodied(&self, k: usize) -> Vec<Vec<f64>> {
        let (nr, ng) = (self.regions.len(), self.goods.len());
        let width = nr + 1;
        let avail = self.availability();
        let mut made = vec![0.0; nr * ng];
        for p in &self.plants {
            made[self.node(p.0, p.1)] += p.3;
        }
        // Goods made (directly or not) from k: only their own secondary output is untraced.
        let downstream: Vec<bool> = (0..ng).map(|g| self.chain(g).contains(&k)).collect();
        let content = self.content(k);
        let mut e = vec![vec![0.0; width]; nr * ng];
        for _ in 0..MAX_SWEEPS {
            // Per unit available at each node.
            let u: Vec<Vec<f64>> = e
                .iter()
                .zip(&avail)
                .map(|(v, &a)| {
                    if a > 0.0 {
                        v.iter().map(|x| x / a).collect()
                    } else {
                        vec![0.0; width]
                    }
                })
                .collect();
            let mut next = vec![vec![0.0; width]; nr * ng];
            for r in 0..nr {
                for g in 0..ng {
                    let i = self.node(r, g);
                    if g == k {
                        next[i][r] += self.production[i];
                    } else if downstream[g] {
                        let untraced = (self.production[i] - made[i]).max(0.0);
                        next[i][nr] += untraced * content[g];
                    }
                }
            }
            for p in &self.plants {
                if p.1 == k {
                    continue;
                }
                let out = self.node(p.0, p.1);
                for &(j, c) in &p.2 {
                    let src = &u[self.node(p.0, j)];
                    for (o, v) in next[out].iter_mut().zip(src) {
                        *o += p.3 * c * v;
                    }
                }
            }
            for &(s, t, g, f) in &self.routes {
                let src = &u[self.node(s, g)];
                let to = self.node(t, g);
                for (o, v) in next[to].iter_mut().zip(src) {
                    *o += f * v;
                }
            }
            let change = next
                .iter()
                .zip(&e)
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold(0.0, f64::max);
            let scale = next
                .iter()
                .flat_map(|v| v.iter())
                .fold(0.0_f64, |m, x| m.max(x.abs()))
                .max(1.0);
            e = next;
            if change <= TOLERANCE * scale {
                break;
            }
        }
        e
    }
}

/// Sweeps of the fixed-point iteration at most (a chain's depth plus its trade loops).
const MAX_SWEEPS: usize = 500;
/// Relative change at which the iteration has converged (far below any reported share).
const TOLERANCE: f64 = 1e-12;

/// Where one chain good in a consumption came from.
#[derive(Debug, Clone, Serialize)]
pub struct StageOrigin {
    /// The chain good (the consumed good itself first).
    pub good: String,
    /// Quantity of it embodied in the consumption (its model unit).
    pub quantity: f64,
    /// (region, share) largest first; `untraced` for secondary supply with no upstream.
    pub origins: Vec<(String, f64)>,
}

/// A region's (sector's) consumption of a good traced back through its chain.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    /// Region.
    pub region: String,
    /// Good.
    pub good: String,
    /// Sector (`None`: all final consumption).
    pub sector: Option<String>,
    /// Quantity consumed (model unit).
    pub quantity: f64,
    /// Per chain good.
    pub stages: Vec<StageOrigin>,
}

/// Traces the final consumption of `good` at `region` (one sector's, or all) through the
/// chain.
pub fn trace(f: &Flows, region: usize, good: usize, sector: Option<&str>) -> Trace {
    let i = f.node(region, good);
    let quantity: f64 = f
        .consumption
        .iter()
        .filter(|((n, s), _)| *n == i && sector.is_none_or(|x| x == s))
        .map(|(_, v)| v)
        .sum();
    let avail = f.availability();
    let mut stages = Vec::new();
    for k in f.chain(good) {
        let e = f.embodied(k);
        let total: f64 = e[i].iter().sum();
        let per_unit = if avail[i] > 0.0 {
            total / avail[i]
        } else {
            0.0
        };
        let mut origins: Vec<(String, f64)> = e[i]
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0 && total > 0.0)
            .map(|(o, v)| {
                let name = f
                    .regions
                    .get(o)
                    .cloned()
                    .unwrap_or_else(|| "untraced".into());
                (name, v / total)
            })
            .collect();
        origins.sort_by(|a, b| b.1.total_cmp(&a.1));
        stages.push(StageOrigin {
            good: f.goods[k].clone(),
            quantity: quantity * per_unit,
            origins,
        });
    }
    Trace {
        region: f.regions[region].clone(),
        good: f.goods[good].clone(),
        sector: sector.map(str::to_string),
        quantity,
        stages,
    }
}

/// Traces a consumer named in words: `region` (a model region, or a country: its region),
/// optionally a sector and a good (default: every good the consumer uses, largest first).
pub fn query(
    f: &Flows,
    w: &World,
    region: &str,
    sector: Option<&str>,
    good: Option<&str>,
) -> Result<Vec<Trace>, String> {
    let r = match w.place(region).as_deref() {
        Some([r]) => *r,
        Some(rs) => {
            return Err(format!(
                "`{region}` covers {} regions; name one region (hint: `chokepoint model regions`)",
                rs.len()
            ));
        }
        None => {
            return Err(crate::LookupError::unknown("region", region, w.place_names()).to_string());
        }
    };
    let sectors: std::collections::BTreeSet<&str> =
        f.consumption.keys().map(|(_, s)| s.as_str()).collect();
    if let Some(s) = sector
        && !sectors.contains(s)
    {
        return Err(crate::LookupError::unknown("sector", s, sectors.iter().copied()).to_string());
    }
    let goods: Vec<usize> = match good {
        Some(name) => vec![w.good(name).ok_or_else(|| {
            crate::LookupError::unknown("good", name, w.goods.iter().map(String::as_str))
                .to_string()
        })?],
        None => {
            let mut used: Vec<(usize, f64)> = (0..f.goods.len())
                .map(|g| {
                    let i = f.node(r, g);
                    let q: f64 = f
                        .consumption
                        .iter()
                        .filter(|((n, s), _)| *n == i && sector.is_none_or(|x| x == s))
                        .map(|(_, v)| v)
                        .sum();
                    (g, q)
                })
                .filter(|x| x.1 > 0.0)
                .collect();
            used.sort_by(|a, b| b.1.total_cmp(&a.1));
            used.into_iter().map(|x| x.0).collect()
        }
    };
    Ok(goods.into_iter().map(|g| trace(f, r, g, sector)).collect())
}

/// A consumer traced in the baseline and the scenario (the run report's exposure section).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Region asked for.
    pub region: String,
    /// Sector asked for.
    pub sector: Option<String>,
    /// Good asked for.
    pub good: Option<String>,
    /// Year traced.
    pub year: i32,
    /// Baseline traces.
    pub baseline: Vec<Trace>,
    /// Scenario traces (same goods, same order).
    pub scenario: Vec<Trace>,
    /// Why the query could not be traced, if it could not.
    pub error: Option<String>,
}

/// Traces the scenario header's `exposure` consumers in `year` of both runs.
pub fn compare(
    model: &crate::world::baseline::WorldModel,
    run: &crate::scenario::ScenarioRun,
    queries: &[crate::scenario::ExposureQuery],
    year: i32,
) -> Vec<Comparison> {
    let w = &model.world;
    let flows = |b: &Baseline| Flows::of_year(b, w, model.processes(), year);
    let (base, scen) = (flows(&run.baseline), flows(&run.scenario));
    queries
        .iter()
        .map(|q| {
            let traced = |f: &Result<Flows, String>, goods: Option<&[Trace]>| {
                let f = f.as_ref().map_err(Clone::clone)?;
                match goods {
                    // The scenario traces the baseline's goods, in its order.
                    Some(list) => list
                        .iter()
                        .map(|t| {
                            query(f, w, &q.region, q.sector.as_deref(), Some(&t.good))
                                .map(|mut v| v.remove(0))
                        })
                        .collect(),
                    None => query(f, w, &q.region, q.sector.as_deref(), q.good.as_deref()),
                }
            };
            let result = traced(&base, None).and_then(|b| traced(&scen, Some(&b)).map(|s| (b, s)));
            let (baseline, scenario, error) = match result {
                Ok((b, s)) => (b, s, None),
                Err(e) => (Vec::new(), Vec::new(), Some(e)),
            };
            Comparison {
                region: q.region.clone(),
                sector: q.sector.clone(),
                good: q.good.clone(),
                year,
                baseline,
                scenario,
                error,
            }
        })
        .collect()
}

/// A node of a chain's Sankey diagram: a good where it was made, or a region's consumption of
/// the chain's final good.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SankeyNode {
    /// Unique name (`ndpr_oxide · CHN`, `used · JPN`).
    pub name: String,
    /// Good (`used` for final consumption).
    pub good: String,
    /// Region.
    pub region: String,
}

/// A link of a chain's Sankey diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SankeyLink {
    /// Source node name.
    pub source: String,
    /// Target node name.
    pub target: String,
    /// The good that flows (the source's).
    pub good: String,
    /// Quantity of it (model unit).
    pub quantity: f64,
    /// Its value at the year's production-weighted mean price of the good (USD).
    pub value: f64,
}

/// A chain's flows in one year, from where each good was made to where the next good was made
/// from it, and from where the final good was made to where it was consumed.
#[derive(Debug, Clone, Serialize)]
pub struct Sankey {
    /// The chain's final good.
    pub good: String,
    /// Year.
    pub year: i32,
    /// Goods of the chain, final good first, then upstream.
    pub chain: Vec<String>,
    /// Nodes.
    pub nodes: Vec<SankeyNode>,
    /// Links, largest value first.
    pub links: Vec<SankeyLink>,
    /// Value of the links left out as smaller than `min_share` of the largest (USD).
    pub omitted_value: f64,
}

/// The Sankey of the chain ending in `good` in `year` of a run. Each region's stock of a good
/// (production plus imports) is one pool with the mix of its origins (the proportional rule of
/// the traces above), so a plant at region b using q of good g draws q·share(a) from each
/// origin a (imports are attributed to the region that shipped them); links smaller than
/// `min_share` of the largest are summed into `omitted_value`.
pub fn sankey(
    run: &Baseline,
    w: &World,
    plants: &[chokepoint_equilibrium::Process],
    year: i32,
    good: &str,
    min_share: f64,
) -> Result<Sankey, String> {
    let k = w.good(good).ok_or_else(|| {
        format!(
            "no good {good} in the model (goods: {})",
            w.goods.join(", ")
        )
    })?;
    let f = Flows::of_year(run, w, plants, year)?;
    let prefix = format!("{year}Q");
    let mut pq = vec![(0.0, 0.0); w.goods.len()];
    for r in run.rows.iter().filter(|r| r.period.starts_with(&prefix)) {
        if let (Some(p), Some(g)) = (r.price, w.good(&r.good))
            && r.production > 0.0
        {
            pq[g].0 += p * r.production;
            pq[g].1 += r.production;
        }
    }
    let price: Vec<f64> = pq
        .iter()
        .map(|&(v, q)| if q > 0.0 { v / q } else { 0.0 })
        .collect();
    Ok(f.sankey(k, &price, year, min_share))
}

impl Flows {
    /// The Sankey of the chain ending in good `k` with these flows, valued at `price` (per
    /// good); see [`sankey`].
    pub fn sankey(&self, k: usize, price: &[f64], year: i32, min_share: f64) -> Sankey {
        let f = self;
        let chain = f.chain(k);
        let avail = f.availability();
        // Origin shares of each pool: own production, then imports by route.
        let nr = f.regions.len();
        // Arrivals per node, gathered once: (from region, quantity).
        let mut arrivals: Vec<Vec<(usize, f64)>> = vec![Vec::new(); avail.len()];
        for &(s, t, g, q) in &f.routes {
            arrivals[f.node(t, g)].push((s, q));
        }
        let shares = |b: usize, g: usize| -> Vec<(usize, f64)> {
            let i = f.node(b, g);
            let a = avail[i];
            if a <= 0.0 {
                return Vec::new();
            }
            std::iter::once((b, f.production[i]))
                .chain(arrivals[i].iter().copied())
                .map(|(s, q)| (s, q / a))
                .collect()
        };
        let name = |g: usize, r: usize| format!("{} · {}", f.goods[g], f.regions[r]);
        let mut links: BTreeMap<(String, String, usize), f64> = BTreeMap::new();
        for p in f
            .plants
            .iter()
            .filter(|p| p.3 > 0.0 && chain.contains(&p.1))
        {
            for &(j, c) in p.2.iter().filter(|(j, _)| chain.contains(j)) {
                for (a, s) in shares(p.0, j) {
                    *links.entry((name(j, a), name(p.1, p.0), j)).or_default() += p.3 * c * s;
                }
            }
        }
        for b in 0..nr {
            let used: f64 = f
                .consumption
                .range((f.node(b, k), String::new())..)
                .take_while(|((n, _), _)| *n == f.node(b, k))
                .map(|(_, q)| q)
                .sum();
            if used > 0.0 {
                for (a, s) in shares(b, k) {
                    *links
                        .entry((name(k, a), format!("used · {}", f.regions[b]), k))
                        .or_default() += used * s;
                }
            }
        }
        let mut all: Vec<SankeyLink> = links
            .into_iter()
            .filter(|(_, q)| *q > 0.0)
            .map(|((source, target, g), quantity)| SankeyLink {
                source,
                target,
                good: f.goods[g].clone(),
                quantity,
                value: quantity * price[g],
            })
            .collect();
        all.sort_by(|a, b| b.value.total_cmp(&a.value));
        let largest = all.first().map_or(0.0, |l| l.value);
        let (kept, dropped): (Vec<SankeyLink>, Vec<SankeyLink>) = all
            .into_iter()
            .partition(|l| l.value >= min_share * largest && l.value > 0.0);
        let mut nodes: Vec<SankeyNode> = Vec::new();
        for l in &kept {
            for n in [&l.source, &l.target] {
                if !nodes.iter().any(|x| &x.name == n) {
                    let (g, r) = n.split_once(" · ").unwrap_or((n, ""));
                    nodes.push(SankeyNode {
                        name: n.clone(),
                        good: g.to_string(),
                        region: r.to_string(),
                    });
                }
            }
        }
        Sankey {
            good: f.goods[k].clone(),
            year,
            chain: chain.iter().map(|&g| f.goods[g].clone()).collect(),
            nodes,
            links: kept,
            omitted_value: dropped.iter().map(|l| l.value).sum(),
        }
    }
}
