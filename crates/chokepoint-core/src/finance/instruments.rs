//! The scenario's financial instruments (price floors, collars, offtakes, strategic reserves)
//! valued on price paths: what the state pays and receives quarter by quarter, what producers
//! earn with and without the support, what a reserve buys, holds and releases, and what a
//! pipeline project is worth with and without the support.
//!
//! Paths come from the market simulation (the scenario run, its baseline, risk draws) and from
//! the stochastic models of [`super::dynamics`] around the scenario's path. On a simulated path
//! the volumes are the simulation's (the supported producers' output, the reserve's purchases
//! and releases: the instruments are steps in the clearing, so their tonnes are in the
//! prices); on a stochastic path the volumes stay the scenario's and only prices move (a
//! reserve follows its buy and release rule against the drawn prices, as a price taker).
//!
//! Cash per quarter: a support on producers P of a good, floor F, optional ceiling C with
//! share s, volume cap V a year, covers c_r = q_r·min(1, V/4 ⁄ Σ q) of each producer's output
//! q_r; the state pays Σ c_r·max(F − p_r, 0) and receives Σ c_r·s·max(p_r − C, 0). A reserve
//! pays p·bought and receives p·released; what it still holds at the end is valued at the last
//! price. Net fiscal cost = present value (at assumption `finance_public_discount_rate`, from
//! the start of the first quarter) of payments less receipts, less the closing stock's value.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::dynamics::{Dynamics, PathModel, draw_factors};
use crate::Dataset;
use crate::risk::quantile;
use crate::scenario::events::EventKind;
use crate::scenario::{Event, Scenario, World};
use crate::world::{Baseline, RESIDUE};

/// What an instrument does, resolved against the world.
#[derive(Debug, Clone)]
enum Terms {
    Support {
        regions: Vec<usize>,
        good: usize,
        floor: f64,
        ceiling: Option<(f64, f64)>,
        volume: f64,
    },
    Reserve {
        region: usize,
        good: usize,
        capacity: f64,
        initial: f64,
        buy_below: f64,
        release_above: f64,
        max_buy: f64,
        max_release: f64,
    },
}

/// One instrument of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Instrument {
    /// Index of its event in the scenario.
    pub index: usize,
    /// Event id.
    pub event: String,
    /// `price_floor`, `price_collar`, `offtake` or `stockpile`.
    pub kind: String,
    /// Good.
    pub good: String,
    /// Producer regions covered, or the reserve's owner.
    pub regions: Vec<String>,
    /// Floor (supports) or buy trigger (reserves).
    pub floor: f64,
    /// Ceiling (collars) or release trigger (reserves).
    pub ceiling: Option<f64>,
    /// Share of the excess above the ceiling paid to the state (collars).
    pub upside_share: f64,
    /// Annual volume covered (`None`: all output), or the reserve's capacity.
    pub volume: Option<f64>,
    /// In force from (decimal year).
    pub start: f64,
    /// Until.
    pub end: Option<f64>,
    /// Probability the event declares (a risk run draws it; here it is in force).
    pub probability: f64,
    #[serde(skip)]
    terms: Terms,
}

/// The instruments among a scenario's events.
pub fn instruments(s: &Scenario, w: &World) -> Vec<Instrument> {
    let mut out = Vec::new();
    for (index, e) in s.events.iter().enumerate() {
        let terms = match &e.kind {
            EventKind::PriceFloor(x) => support_terms(x.support()),
            EventKind::PriceCollar(x) => support_terms(x.support()),
            EventKind::Offtake(x) => support_terms(x.support()),
            EventKind::Stockpile(x) => {
                let (region, good) = x.place();
                Terms::Reserve {
                    region,
                    good,
                    capacity: *x.capacity.get_ref(),
                    initial: x.initial,
                    buy_below: *x.buy_below.get_ref(),
                    release_above: *x.release_above.get_ref(),
                    max_buy: *x.max_buy_per_quarter.get_ref(),
                    max_release: *x.max_release_per_quarter.get_ref(),
                }
            }
            _ => continue,
        };
        let (regions, good, floor, ceiling, share, volume) = match &terms {
            Terms::Support {
                regions,
                good,
                floor,
                ceiling,
                volume,
            } => (
                regions.clone(),
                *good,
                *floor,
                ceiling.map(|c| c.0),
                ceiling.map_or(0.0, |c| c.1),
                volume.is_finite().then_some(*volume),
            ),
            Terms::Reserve {
                region,
                good,
                capacity,
                buy_below,
                release_above,
                ..
            } => (
                vec![*region],
                *good,
                *buy_below,
                Some(*release_above),
                0.0,
                Some(*capacity),
            ),
        };
        out.push(Instrument {
            index,
            event: e.id.clone(),
            kind: e.kind.name().to_string(),
            good: w.goods[good].clone(),
            regions: regions.iter().map(|&r| w.regions[r].clone()).collect(),
            floor,
            ceiling,
            upside_share: share,
            volume,
            start: e.start,
            end: e.end,
            probability: e.probability,
            terms,
        });
    }
    out
}

fn support_terms(s: &crate::scenario::events::price_support::Support) -> Terms {
    Terms::Support {
        regions: s.regions.clone(),
        good: s.good,
        floor: s.floor,
        ceiling: s.ceiling,
        volume: s.volume,
    }
}

/// The events of a scenario without the one at `index`: the counterfactual that shows an
/// instrument's market effect.
pub fn without_event(s: &Scenario, index: usize) -> Vec<Event> {
    s.events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, e)| e.clone())
        .collect()
}

/// A run as dense quarter × node arrays (NaN where a quarter did not clear).
#[derive(Debug, Clone)]
pub struct RunPath {
    /// Quarters (`2025Q1`).
    pub periods: Vec<String>,
    /// Mid-quarter, decimal years.
    pub t: Vec<f64>,
    price: Vec<Vec<f64>>,
    production: Vec<Vec<f64>>,
    shortfall: Vec<Vec<f64>>,
    reserves: BTreeMap<String, Vec<(f64, f64, f64)>>,
    projects: BTreeMap<String, Vec<(f64, f64, f64)>>,
    /// (region, sector, good) → (shortfall, demand at base price), summed over quarters.
    sectors: BTreeMap<(String, String, String), (f64, f64)>,
}

fn period_time(p: &str) -> Option<f64> {
    let (y, q) = p.split_once('Q')?;
    Some(f64::from(y.parse::<i32>().ok()?) + (f64::from(q.parse::<u8>().ok()?) - 0.5) / 4.0)
}

impl RunPath {
    /// Reads a run.
    pub fn of(run: &Baseline, w: &World) -> RunPath {
        let n = w.regions.len() * w.goods.len();
        let periods: Vec<String> = run.periods.iter().map(|p| p.period.clone()).collect();
        let index: BTreeMap<&str, usize> = periods
            .iter()
            .enumerate()
            .map(|(k, p)| (p.as_str(), k))
            .collect();
        let nq = periods.len();
        let mut price = vec![vec![f64::NAN; n]; nq];
        let mut production = vec![vec![0.0; n]; nq];
        let mut shortfall = vec![vec![0.0; n]; nq];
        for r in &run.rows {
            let (Some(&k), Some(ri), Some(g)) = (
                index.get(r.period.as_str()),
                w.region(&r.region),
                w.good(&r.good),
            ) else {
                continue;
            };
            let i = w.node(ri, g);
            price[k][i] = r.price.unwrap_or(f64::NAN);
            production[k][i] = r.production;
            shortfall[k][i] = r.shortfall;
        }
        // Prices of nodes without a row (nothing made, used or held) from the solution.
        for (k, p) in run.quarter_prices.iter().enumerate() {
            for (i, &v) in p.iter().enumerate().take(n) {
                if price[k][i].is_nan() {
                    price[k][i] = v;
                }
            }
        }
        let mut reserves: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
        for r in &run.reserve_rows {
            let v = reserves
                .entry(r.event.clone())
                .or_insert_with(|| vec![(0.0, 0.0, f64::NAN); nq]);
            if let Some(&k) = index.get(r.period.as_str()) {
                v[k] = (r.bought, r.released, r.stock);
            }
        }
        let mut projects: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
        for r in &run.project_rows {
            let v = projects
                .entry(r.project.clone())
                .or_insert_with(|| vec![(0.0, f64::NAN, 0.0); nq]);
            if let Some(&k) = index.get(r.period.as_str()) {
                v[k] = (r.output, r.price, r.unit_margin);
            }
        }
        let mut sectors = BTreeMap::new();
        for r in &run.sector_rows {
            let e: &mut (f64, f64) = sectors
                .entry((r.region.clone(), r.sector.clone(), r.good.clone()))
                .or_default();
            e.0 += r.shortfall;
            e.1 += r.demand_at_base_price;
        }
        RunPath {
            t: periods
                .iter()
                .map(|p| period_time(p).unwrap_or(f64::NAN))
                .collect(),
            periods,
            price,
            production,
            shortfall,
            reserves,
            projects,
            sectors,
        }
    }
}

/// One quarter of an instrument's cash (model currency) and volumes (model units).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuarterCash {
    /// Quarter.
    pub period: String,
    /// Output covered (supports) or stock held at the end (reserves).
    pub volume: f64,
    /// Covered-volume-weighted price of the covered producers, or the reserve's price.
    pub price: f64,
    /// Paid by the state (support payments; a reserve's purchases).
    pub paid: f64,
    /// Received by the state (a collar's share of the upside; a reserve's sales).
    pub received: f64,
    /// The covered producers' revenue at market prices (all their output).
    pub producer_market: f64,
    /// Bought by a reserve.
    pub bought: f64,
    /// Released by a reserve.
    pub released: f64,
    /// Share of each covered producer's output the support covers (below 1 under a volume cap).
    pub cover: f64,
}

/// Cash of `ins` on a path; `factor[k]` multiplies every price of the good (1 on the
/// simulated path). A reserve follows its recorded purchases and releases when the path has
/// them and `factor` is `None`, else its rule against the path's prices.
fn cash(ins: &Instrument, w: &World, p: &RunPath, factor: Option<&[f64]>) -> Vec<QuarterCash> {
    let f = |k: usize| factor.map_or(1.0, |x| x[k]);
    let active = |t: f64| t >= ins.start && ins.end.is_none_or(|e| t < e);
    let mut out = Vec::with_capacity(p.periods.len());
    match &ins.terms {
        Terms::Support {
            regions,
            good,
            floor,
            ceiling,
            volume,
        } => {
            for (k, period) in p.periods.iter().enumerate() {
                let mut q = QuarterCash {
                    period: period.clone(),
                    ..QuarterCash::default()
                };
                if active(p.t[k]) {
                    let nodes: Vec<(f64, f64)> = regions
                        .iter()
                        .map(|&r| {
                            let i = w.node(r, *good);
                            (p.production[k][i], p.price[k][i] * f(k))
                        })
                        .filter(|(_, price)| price.is_finite())
                        .collect();
                    let total: f64 = nodes.iter().map(|n| n.0).sum();
                    let cap = volume / 4.0;
                    let scale = if total > cap { cap / total } else { 1.0 };
                    q.cover = scale;
                    for &(qty, price) in &nodes {
                        let c = qty * scale;
                        q.volume += c;
                        q.price += c * price;
                        q.paid += c * (floor - price).max(0.0);
                        if let Some((ceil, share)) = ceiling {
                            q.received += c * share * (price - ceil).max(0.0);
                        }
                        q.producer_market += qty * price;
                    }
                    if q.volume > 0.0 {
                        q.price /= q.volume;
                    }
                }
                out.push(q);
            }
        }
        Terms::Reserve {
            region,
            good,
            capacity,
            initial,
            buy_below,
            release_above,
            max_buy,
            max_release,
        } => {
            let recorded = factor
                .is_none()
                .then(|| p.reserves.get(&ins.event))
                .flatten();
            let i = w.node(*region, *good);
            let mut stock = *initial;
            for (k, period) in p.periods.iter().enumerate() {
                let price = p.price[k][i] * f(k);
                let (bought, released) = match recorded {
                    Some(r) => (r[k].0, r[k].1),
                    None if active(p.t[k]) && price.is_finite() => {
                        if price < *buy_below {
                            (max_buy.min(capacity - stock).max(0.0), 0.0)
                        } else if price > *release_above {
                            (0.0, max_release.min(stock).max(0.0))
                        } else {
                            (0.0, 0.0)
                        }
                    }
                    None => (0.0, 0.0),
                };
                stock = (stock + bought - released).max(0.0);
                let price = if price.is_finite() { price } else { 0.0 };
                out.push(QuarterCash {
                    period: period.clone(),
                    volume: stock,
                    price,
                    paid: bought * price,
                    received: released * price,
                    producer_market: 0.0,
                    bought,
                    released,
                    cover: 0.0,
                });
            }
        }
    }
    out
}

/// Discount factor at `t` from `t0` at the annual rate `r`.
fn discount(r: f64, t0: f64, t: f64) -> f64 {
    (1.0 + r).powf(-(t - t0))
}

/// Net present cost of a quarter-cash series (payments − receipts − closing stock value).
fn net_cost(ins: &Instrument, cash: &[QuarterCash], t: &[f64], r: f64, t0: f64) -> f64 {
    let mut pv: f64 = cash
        .iter()
        .zip(t)
        .map(|(c, &tk)| (c.paid - c.received) * discount(r, t0, tk))
        .sum();
    if matches!(ins.terms, Terms::Reserve { .. })
        && let (Some(last), Some(&tl)) = (cash.last(), t.last())
    {
        pv -= last.volume * last.price * discount(r, t0, tl);
    }
    pv
}

/// One calendar year of an instrument's cash.
#[derive(Debug, Clone, Default, Serialize)]
pub struct YearCash {
    /// Year.
    pub year: i32,
    /// Paid by the state.
    pub paid: f64,
    /// Received by the state.
    pub received: f64,
    /// Volume covered (supports: sum over quarters) or stock at the year's end (reserves).
    pub volume: f64,
    /// Bought by a reserve.
    pub bought: f64,
    /// Released by a reserve.
    pub released: f64,
}

fn by_year(ins: &Instrument, cash: &[QuarterCash], t: &[f64]) -> Vec<YearCash> {
    let mut out: Vec<YearCash> = Vec::new();
    for (c, &tk) in cash.iter().zip(t) {
        let year = tk.floor() as i32;
        if out.last().is_none_or(|y| y.year != year) {
            out.push(YearCash {
                year,
                ..YearCash::default()
            });
        }
        if let Some(y) = out.last_mut() {
            y.paid += c.paid;
            y.received += c.received;
            y.bought += c.bought;
            y.released += c.released;
            if matches!(ins.terms, Terms::Reserve { .. }) {
                y.volume = c.volume;
            } else {
                y.volume += c.volume;
            }
        }
    }
    out
}

/// An instrument on one simulated path.
#[derive(Debug, Clone, Serialize)]
pub struct PathValue {
    /// Net present fiscal cost.
    pub net_cost: f64,
    /// Paid by the state (undiscounted).
    pub paid: f64,
    /// Received by the state (undiscounted).
    pub received: f64,
    /// Producers' revenue at market prices (undiscounted; supports).
    pub producer_market: f64,
    /// Producers' revenue with the support (market + paid − received).
    pub producer_with: f64,
    /// By year.
    pub years: Vec<YearCash>,
    /// By quarter.
    pub quarters: Vec<QuarterCash>,
}

fn path_value(ins: &Instrument, w: &World, p: &RunPath, r: f64, t0: f64) -> PathValue {
    let c = cash(ins, w, p, None);
    let paid: f64 = c.iter().map(|q| q.paid).sum();
    let received: f64 = c.iter().map(|q| q.received).sum();
    let producer_market: f64 = c.iter().map(|q| q.producer_market).sum();
    PathValue {
        net_cost: net_cost(ins, &c, &p.t, r, t0),
        paid,
        received,
        producer_market,
        producer_with: producer_market + paid - received,
        years: by_year(ins, &c, &p.t),
        quarters: c,
    }
}

/// Mean, spread and tail of a quantity over draws.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Distribution {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub std: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

impl Distribution {
    /// Of a sample.
    pub fn of(mut v: Vec<f64>) -> Distribution {
        if v.is_empty() {
            return Distribution::default();
        }
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = if v.len() > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Distribution {
            mean,
            std: var.sqrt(),
            p5: quantile(&v, 0.05),
            p50: quantile(&v, 0.5),
            p95: quantile(&v, 0.95),
            max: v[v.len() - 1],
        }
    }
}

/// An instrument over many price paths.
#[derive(Debug, Clone, Serialize)]
pub struct DrawValue {
    /// `gbm`, `mean_reverting` or `market` (risk draws of the simulation).
    pub model: String,
    /// Paths.
    pub draws: usize,
    /// Net present fiscal cost (P95 and max: the bad tail for the state).
    pub net_cost: Distribution,
    /// Standard error of the mean net cost.
    pub std_error: f64,
    /// Mean paid and received by year.
    pub years: Vec<YearCash>,
    /// Producers' present revenue at market prices (supports).
    pub producer_market: Distribution,
    /// Producers' present revenue with the support.
    pub producer_with: Distribution,
}

fn draw_value(
    model: &str,
    ins: &Instrument,
    samples: &[(f64, f64, f64, Vec<YearCash>)],
) -> DrawValue {
    let n = samples.len();
    let cost: Vec<f64> = samples.iter().map(|s| s.0).collect();
    let d = Distribution::of(cost);
    let mut years: Vec<YearCash> = Vec::new();
    for s in samples {
        for (i, y) in s.3.iter().enumerate() {
            if years.len() <= i {
                years.push(YearCash {
                    year: y.year,
                    ..YearCash::default()
                });
            }
            let m = &mut years[i];
            m.paid += y.paid / n as f64;
            m.received += y.received / n as f64;
            m.volume += y.volume / n as f64;
            m.bought += y.bought / n as f64;
            m.released += y.released / n as f64;
        }
    }
    let support = matches!(ins.terms, Terms::Support { .. });
    DrawValue {
        model: model.to_string(),
        draws: n,
        std_error: d.std / (n.max(1) as f64).sqrt(),
        net_cost: d,
        years,
        producer_market: if support {
            Distribution::of(samples.iter().map(|s| s.1).collect())
        } else {
            Distribution::default()
        },
        producer_with: if support {
            Distribution::of(samples.iter().map(|s| s.2).collect())
        } else {
            Distribution::default()
        },
    }
}

/// (net cost, PV producer market revenue, PV producer revenue with support, years) of a path.
fn sample(
    ins: &Instrument,
    w: &World,
    p: &RunPath,
    factor: Option<&[f64]>,
    r: f64,
    t0: f64,
) -> (f64, f64, f64, Vec<YearCash>) {
    let c = cash(ins, w, p, factor);
    let pv = |f: &dyn Fn(&QuarterCash) -> f64| -> f64 {
        c.iter()
            .zip(&p.t)
            .map(|(q, &tk)| f(q) * discount(r, t0, tk))
            .sum()
    };
    let market = pv(&|q| q.producer_market);
    let with = pv(&|q| q.producer_market + q.paid - q.received);
    (
        net_cost(ins, &c, &p.t, r, t0),
        market,
        with,
        by_year(ins, &c, &p.t),
    )
}

/// A reserve on the scenario path: what it did in shortfalls, and for whom.
#[derive(Debug, Clone, Serialize)]
pub struct ReserveEffect {
    /// Stock at the end of the run.
    pub closing_stock: f64,
    /// Bought over the run.
    pub bought: f64,
    /// Released over the run.
    pub released: f64,
    /// Released in quarters when the good was shorter than in the baseline.
    pub released_in_shortfall: f64,
    /// Shortfall the reserve removed (the run without it less the run with it), by region,
    /// sector and good, largest first; empty without the counterfactual run.
    pub shortfall_removed: Vec<ShortfallChange>,
}

/// A change of shortfall over the run.
#[derive(Debug, Clone, Serialize)]
pub struct ShortfallChange {
    /// Region.
    pub region: String,
    /// Sector (`total` for goods without sectors).
    pub sector: String,
    /// Good.
    pub good: String,
    /// Shortfall without the instrument less with it (model units, summed over quarters).
    pub removed: f64,
}

/// What an instrument changed in the market: the run with it against the run without it.
#[derive(Debug, Clone, Serialize)]
pub struct MarketEffect {
    /// Output of the covered producers: with less without (summed over quarters).
    pub covered_output_change: f64,
    /// Mean price of the good at the covered producers: with / without − 1.
    pub price_change: f64,
    /// The good's total shortfall over the run: with less without.
    pub shortfall_change: f64,
    /// The covered producers' revenue at market prices: with less without (undiscounted).
    pub producer_market_change: f64,
}

/// One instrument valued every way.
#[derive(Debug, Clone, Serialize)]
pub struct Valuation {
    /// The instrument.
    pub instrument: Instrument,
    /// On the scenario's simulated path.
    pub scenario: PathValue,
    /// On the baseline's path (what it would cost in a calm market).
    pub baseline: PathValue,
    /// Over stochastic paths around the scenario's (and over risk draws, when run).
    pub draws: Vec<DrawValue>,
    /// Against the run without it (when run).
    pub market_effect: Option<MarketEffect>,
    /// For reserves.
    pub reserve: Option<ReserveEffect>,
}

/// A pipeline project's value with and without the supports that cover it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectValue {
    /// Id.
    pub project: String,
    /// Name.
    pub name: String,
    /// Good.
    pub good: String,
    /// Region.
    pub region: String,
    /// Capital cost.
    pub capex: f64,
    /// Where the capital cost comes from.
    pub capex_source: String,
    /// Instruments that cover its output.
    pub supported_by: Vec<String>,
    /// Net present value without the support (at `finance_project_discount_rate`).
    pub npv_without: f64,
    /// With it.
    pub npv_with: f64,
    /// Internal rate of return without the support (`None`: no rate sets the NPV to zero).
    pub irr_without: Option<f64>,
    /// With it.
    pub irr_with: Option<f64>,
    /// Cash by year: (year, without, with), capex included, beyond the run at the last
    /// year's operating cash.
    pub years: Vec<(i32, f64, f64)>,
}

/// The internal rate of return of annual cash flows (the first at year 0), by bisection on
/// (−99%, 1000%); `None` when the NPV does not change sign there.
pub fn irr(cash: &[f64]) -> Option<f64> {
    let npv = |r: f64| -> f64 {
        cash.iter()
            .enumerate()
            .map(|(i, c)| c / (1.0 + r).powi(i as i32))
            .sum()
    };
    let (mut lo, mut hi) = (-0.99, 10.0);
    let (flo, fhi) = (npv(lo), npv(hi));
    if !(flo.is_finite() && fhi.is_finite()) || flo.signum() == fhi.signum() {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if npv(mid).signum() == flo.signum() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Everything the finance report says.
#[derive(Debug, Clone, Serialize)]
pub struct FinanceReport {
    /// Scenario name.
    pub scenario: String,
    /// First and last quarter valued.
    pub from: String,
    /// Last quarter.
    pub to: String,
    /// Public discount rate (a year).
    pub public_rate: f64,
    /// Project discount rate (a year).
    pub project_rate: f64,
    /// Price dynamics per good valued.
    pub dynamics: BTreeMap<String, Dynamics>,
    /// The instruments.
    pub instruments: Vec<Valuation>,
    /// Pipeline projects valued.
    pub projects: Vec<ProjectValue>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// What to value and how.
#[derive(Debug, Clone)]
pub struct FinanceOptions {
    /// Stochastic paths per model.
    pub draws: usize,
    /// Seed of the paths.
    pub seed: u64,
    /// Projects to value (empty: every pipeline project an instrument covers).
    pub projects: Vec<String>,
}

/// The runs a valuation reads.
pub struct FinanceInputs<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Its baseline run.
    pub baseline: &'a Baseline,
    /// Its run.
    pub run: &'a Baseline,
    /// Runs without one instrument each: (event index, run).
    pub without: &'a [(usize, Baseline)],
    /// Risk draws of the scenario: each run with the events drawn for it (an instrument
    /// whose event was not drawn costs nothing in that draw).
    pub market_draws: &'a [(Baseline, Vec<Event>)],
}

/// Values every instrument of a scenario and the projects they cover.
pub fn value(
    ds: &Dataset,
    w: &World,
    input: &FinanceInputs<'_>,
    opts: &FinanceOptions,
) -> Result<FinanceReport, String> {
    let a = |id: &str| ds.assumption(id).map_err(|e| e.to_string());
    let public_rate = a("finance_public_discount_rate")?;
    let project_rate = a("finance_project_discount_rate")?;
    let scn = RunPath::of(input.run, w);
    let base = RunPath::of(input.baseline, w);
    let Some(&t_first) = scn.t.first() else {
        return Err("the run has no quarters".into());
    };
    let t0 = t_first - 0.125;
    let list = instruments(input.scenario, w);
    let mut notes = Vec::new();
    let goods: Vec<usize> = {
        let mut g: Vec<usize> = list.iter().filter_map(|i| w.good(&i.good)).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let commodity = |g: usize| -> String {
        ds.goods
            .iter()
            .find(|x| x.good_id == w.goods[g])
            .map_or_else(|| w.goods[g].clone(), |x| x.commodity_id.clone())
    };
    let commodities: Vec<String> = goods.iter().map(|&g| commodity(g)).collect();
    let refs: Vec<&str> = commodities.iter().map(String::as_str).collect();
    let by_commodity = super::dynamics::dynamics_for(ds, &refs).map_err(|e| e.to_string())?;
    let dynamics: BTreeMap<String, Dynamics> = goods
        .iter()
        .zip(&commodities)
        .filter_map(|(&g, c)| Some((w.goods[g].clone(), by_commodity.get(c)?.clone())))
        .collect();
    // Years from the valuation date of each quarter.
    let tau: Vec<f64> = scn.t.iter().map(|t| t - t0).collect();
    let models = [PathModel::Gbm, PathModel::MeanReverting];
    // samples[model][instrument] = per-draw samples; factors shared by every instrument on a
    // good within a draw.
    let mut samples = vec![vec![Vec::with_capacity(opts.draws); list.len()]; models.len()];
    for d in 0..opts.draws {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(d as u64);
        for (mi, &model) in models.iter().enumerate() {
            let factors: BTreeMap<&str, Vec<f64>> = dynamics
                .iter()
                .map(|(g, dy)| (g.as_str(), draw_factors(model, dy, &tau, &mut rng)))
                .collect();
            for (ii, ins) in list.iter().enumerate() {
                let f = factors.get(ins.good.as_str()).map(Vec::as_slice);
                samples[mi][ii].push(sample(ins, w, &scn, f, public_rate, t0));
            }
        }
    }
    let market: Vec<(RunPath, &[Event])> = input
        .market_draws
        .iter()
        .map(|(b, e)| (RunPath::of(b, w), e.as_slice()))
        .collect();
    let mut valuations = Vec::new();
    for (ii, ins) in list.iter().enumerate() {
        let mut draws: Vec<DrawValue> = if opts.draws > 0 {
            models
                .iter()
                .enumerate()
                .map(|(mi, m)| draw_value(m.name(), ins, &samples[mi][ii]))
                .collect()
        } else {
            Vec::new()
        };
        if !market.is_empty() {
            let s: Vec<_> = market
                .iter()
                .map(|(p, events)| {
                    let mut drawn = ins.clone();
                    match events.iter().find(|e| e.id == ins.event) {
                        Some(e) => (drawn.start, drawn.end) = (e.start, e.end),
                        None => drawn.start = f64::INFINITY,
                    }
                    sample(&drawn, w, p, None, public_rate, t0)
                })
                .collect();
            draws.push(draw_value("market", ins, &s));
        }
        let without = input
            .without
            .iter()
            .find(|(i, _)| *i == ins.index)
            .map(|(_, b)| RunPath::of(b, w));
        let scenario = path_value(ins, w, &scn, public_rate, t0);
        let market_effect = without.as_ref().map(|wo| {
            let other = path_value(ins, w, wo, public_rate, t0);
            let good = w.good(&ins.good).unwrap_or(0);
            let mean_price = |p: &RunPath| {
                let (mut s, mut n) = (0.0, 0.0);
                for (k, &t) in p.t.iter().enumerate() {
                    if t < ins.start || ins.end.is_some_and(|e| t >= e) {
                        continue;
                    }
                    for r in &ins.regions {
                        if let Some(ri) = w.region(r) {
                            let v = p.price[k][w.node(ri, good)];
                            if v.is_finite() {
                                s += v;
                                n += 1.0;
                            }
                        }
                    }
                }
                if n > 0.0 { s / n } else { f64::NAN }
            };
            let covered_output = |p: &RunPath| -> f64 {
                ins.regions
                    .iter()
                    .filter_map(|r| w.region(r))
                    .map(|ri| {
                        p.production
                            .iter()
                            .map(|q| q[w.node(ri, good)])
                            .sum::<f64>()
                    })
                    .sum()
            };
            let total_shortfall = |p: &RunPath| -> f64 {
                p.shortfall
                    .iter()
                    .map(|s| {
                        (0..w.regions.len())
                            .map(|r| s[w.node(r, good)])
                            .sum::<f64>()
                    })
                    .sum()
            };
            MarketEffect {
                covered_output_change: covered_output(&scn) - covered_output(wo),
                price_change: mean_price(&scn) / mean_price(wo) - 1.0,
                shortfall_change: total_shortfall(&scn) - total_shortfall(wo),
                producer_market_change: scenario.producer_market - other.producer_market,
            }
        });
        let reserve = matches!(ins.terms, Terms::Reserve { .. }).then(|| {
            let good = w.good(&ins.good).unwrap_or(0);
            let short = |p: &RunPath, k: usize| -> f64 {
                (0..w.regions.len())
                    .map(|r| p.shortfall[k][w.node(r, good)])
                    .sum()
            };
            let released_in_shortfall = scenario
                .quarters
                .iter()
                .enumerate()
                .filter(|(k, _)| short(&scn, *k) > short(&base, *k))
                .map(|(_, q)| q.released)
                .sum();
            let mut removed: Vec<ShortfallChange> = without
                .as_ref()
                .map(|wo| {
                    wo.sectors
                        .iter()
                        .filter_map(|(key, &(v, demand))| {
                            let removed = v - scn.sectors.get(key).map_or(0.0, |x| x.0);
                            // Differences at the solver's tolerance are not effects.
                            (removed.abs() > RESIDUE * demand.max(1.0)).then(|| ShortfallChange {
                                region: key.0.clone(),
                                sector: key.1.clone(),
                                good: key.2.clone(),
                                removed,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            removed.sort_by(|a, b| b.removed.total_cmp(&a.removed));
            ReserveEffect {
                closing_stock: scenario.quarters.last().map_or(0.0, |q| q.volume),
                bought: scenario.quarters.iter().map(|q| q.bought).sum(),
                released: scenario.quarters.iter().map(|q| q.released).sum(),
                released_in_shortfall,
                shortfall_removed: removed,
            }
        });
        valuations.push(Valuation {
            instrument: ins.clone(),
            baseline: path_value(ins, w, &base, public_rate, t0),
            scenario,
            draws,
            market_effect,
            reserve,
        });
    }
    if list.iter().any(|i| i.probability < 1.0) {
        notes.push(
            "Instruments are valued as in force; their declared probabilities are drawn by `chokepoint risk`."
                .into(),
        );
    }
    let projects = projects(ds, w, &list, &scn, opts, t0, &mut notes)?;
    Ok(FinanceReport {
        scenario: input.scenario.header.name.clone(),
        from: scn.periods.first().cloned().unwrap_or_default(),
        to: scn.periods.last().cloned().unwrap_or_default(),
        public_rate,
        project_rate,
        dynamics,
        instruments: valuations,
        projects,
        notes,
    })
}

/// Values the selected pipeline projects.
#[allow(clippy::too_many_arguments)]
fn projects(
    ds: &Dataset,
    w: &World,
    list: &[Instrument],
    scn: &RunPath,
    opts: &FinanceOptions,
    t0: f64,
    notes: &mut Vec<String>,
) -> Result<Vec<ProjectValue>, String> {
    let a = |id: &str| ds.assumption(id).map_err(|e| e.to_string());
    let rate = a("finance_project_discount_rate")?;
    let life = a("finance_project_life_years")?;
    let capex_years = a("finance_capex_years_of_revenue")?;
    let covers = |ins: &Instrument, p: &crate::dataset::tables::Project| {
        matches!(ins.terms, Terms::Support { .. })
            && ins.good == p.good_id
            && ins.regions.contains(&p.region_id)
    };
    let mut out = Vec::new();
    for id in &opts.projects {
        if !ds.projects.iter().any(|p| &p.project_id == id) {
            return Err(crate::LookupError::unknown(
                "project",
                id,
                ds.projects.iter().map(|p| p.project_id.as_str()),
            )
            .to_string());
        }
    }
    for p in &ds.projects {
        let chosen = if opts.projects.is_empty() {
            list.iter().any(|i| covers(i, p))
        } else {
            opts.projects.contains(&p.project_id)
        };
        if !chosen {
            continue;
        }
        let supports: Vec<&Instrument> = list.iter().filter(|i| covers(i, p)).collect();
        let (capex, capex_source) = match p.capex {
            Some(c) => (c, format!("model/projects.csv capex ({})", p.source)),
            None => {
                let price = w.good(&p.good_id).map_or(0.0, |g| w.prices[g]);
                (
                    capex_years * p.capacity * price,
                    format!(
                        "assumption finance_capex_years_of_revenue ({capex_years}) × capacity × base price"
                    ),
                )
            }
        };
        // The run carries probability × capacity: a project's value is conditional on its
        // going ahead.
        let scale = if p.probability > 0.0 {
            1.0 / p.probability
        } else {
            0.0
        };
        let rows = scn.projects.get(&p.project_id);
        let support_cash: Vec<Vec<QuarterCash>> =
            supports.iter().map(|i| cash(i, w, scn, None)).collect();
        let mut without = BTreeMap::<i32, f64>::new();
        let mut with = BTreeMap::<i32, f64>::new();
        let mut last_year_support = 0.0;
        let mut last_year = i32::MIN;
        for (k, &t) in scn.t.iter().enumerate() {
            let year = t.floor() as i32;
            let (output, price, margin) = rows.map_or((0.0, f64::NAN, 0.0), |r| r[k]);
            let output = output * scale;
            let operating = if price.is_finite() {
                output * margin
            } else {
                0.0
            };
            let mut support = 0.0;
            if price.is_finite() {
                for (ins, c) in supports.iter().zip(&support_cash) {
                    let c_out = output * c[k].cover;
                    if let Terms::Support { floor, ceiling, .. } = &ins.terms {
                        support += c_out * (floor - price).max(0.0);
                        if let Some((ceil, s)) = ceiling {
                            support -= c_out * s * (price - ceil).max(0.0);
                        }
                    }
                }
            }
            *without.entry(year).or_default() += operating;
            *with.entry(year).or_default() += operating + support;
            if year != last_year {
                last_year = year;
                last_year_support = 0.0;
            }
            last_year_support += support;
        }
        let last_operating = without.values().last().copied().unwrap_or(0.0);
        let start_year = p.start.floor() as i32;
        let end_year = (p.start + life).floor() as i32;
        let first_year = (t0.floor() as i32).min(start_year);
        let last_run_year = without.keys().last().copied().unwrap_or(first_year);
        let mut years = Vec::new();
        for y in first_year..end_year.max(last_run_year + 1) {
            let (mut a, mut b) = match (without.get(&y), with.get(&y)) {
                (Some(a), Some(b)) => (*a, *b),
                _ if y > last_run_year && y < end_year => {
                    let supported = supports.iter().any(|i| {
                        let t = f64::from(y) + 0.5;
                        t >= i.start && i.end.is_none_or(|e| t < e)
                    });
                    (
                        last_operating,
                        last_operating + if supported { last_year_support } else { 0.0 },
                    )
                }
                _ => (0.0, 0.0),
            };
            if y == start_year {
                a -= capex;
                b -= capex;
            }
            years.push((y, a, b));
        }
        let npv = |f: fn(&(i32, f64, f64)) -> f64| -> f64 {
            years
                .iter()
                .map(|y| f(y) * discount(rate, t0, f64::from(y.0) + 0.5))
                .sum()
        };
        let cash_without: Vec<f64> = years.iter().map(|y| y.1).collect();
        let cash_with: Vec<f64> = years.iter().map(|y| y.2).collect();
        out.push(ProjectValue {
            project: p.project_id.clone(),
            name: p.name.clone(),
            good: p.good_id.clone(),
            region: p.region_id.clone(),
            capex,
            capex_source,
            supported_by: supports.iter().map(|i| i.event.clone()).collect(),
            npv_without: npv(|y| y.1),
            npv_with: npv(|y| y.2),
            irr_without: irr(&cash_without),
            irr_with: irr(&cash_with),
            years,
        });
    }
    if !out.is_empty() {
        notes.push(format!(
            "Projects: cash beyond the run is the last run year's, to {life} years after the start (assumption finance_project_life_years); output is the run's divided by the project's probability (its value if it goes ahead)."
        ));
    }
    Ok(out)
}
