//! Risk: Monte Carlo over a scenario's uncertain events.
//!
//! A draw is one version of the scenario: each event happens with its `probability`, starts
//! anywhere in its `uncertainty.start` range, lasts anywhere in its `uncertainty.duration`
//! range, and acts with a magnitude anywhere in `uncertainty.magnitude` (a multiple of its own
//! figure), all uniform. Draw `i` takes its numbers from its own stream (ChaCha8 seeded with
//! the scenario's seed, stream `i`), so a draw's outcome does not depend on which thread or
//! shard runs it, and a single draw can be replayed alone ([`run_draw`]).
//!
//! Each draw runs the world model quarter by quarter beside the scenario's baseline; what it
//! records per region × sector × good × year is the shortfall it adds to the baseline's
//! (demand at base-year prices less consumption, summed over the year's quarters) and per
//! region × good × year the mean price. [`aggregate`] turns the draws into quantiles (P5, P50,
//! P95), the expected shortfall and the probability that it exceeds a threshold, and finds
//! the events that drive the tail. Partial results of shards ([`DrawResult`] rows, written as
//! CSV by the CLI) merge into exactly the result of the whole run: aggregation sorts the draws
//! by index first.
//!
//! Draws share work. The goods of the world model fall into chains that clear apart (the
//! components of [`WorldModel::components`], joined where one event touches several), and a
//! draw's outcome in a chain depends only on the events that touch it, as drawn. Each chain is
//! run once per distinct set of drawn events ([`WorldModel::run_part`]) and every draw with
//! that set reads the same run: a draw that only moves the rare-earth chain reruns only that
//! chain, and draws that drew the same rare-earth events rerun nothing. A chain's run is a
//! function of its drawn events alone, so sharing changes no number: the result is the same
//! whichever draw ran the chain first, on any thread or shard.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::scenario::{Event, Scenario, time::parse_date};
use crate::world::baseline::WorldModel;
use crate::world::{Baseline, BaselineError};

/// What one event did in one draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnEvent {
    /// Event id.
    pub event: String,
    /// Whether it happened.
    pub happened: bool,
    /// Start (decimal year).
    pub start: f64,
    /// End (decimal year), if any.
    pub end: Option<f64>,
    /// Magnitude (multiple of the event's own figure; 1 without a range).
    pub magnitude: f64,
}

/// One draw's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawResult {
    /// Draw index (0-based).
    pub draw: u64,
    /// What each event did.
    pub events: Vec<DrawnEvent>,
    /// `ok`, or why the draw failed (a quarter not cleared, an error): failed draws carry no
    /// values and are left out of the quantiles.
    pub status: String,
    /// Shortfall added to the baseline's, per key of [`RiskKeys::shortfall`] (shared by
    /// draws with the same outcome).
    pub shortfall: Arc<[f64]>,
    /// Mean price per key of [`RiskKeys::price`] (NaN where the draw has none).
    pub price: Arc<[f64]>,
}

/// The rows a risk run reports on, fixed by the baseline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RiskKeys {
    /// (region, sector, good, year) of every shortfall value.
    pub shortfall: Vec<(String, String, String, i32)>,
    /// (region, good, year) of every price value.
    pub price: Vec<(String, String, i32)>,
}

/// Draws the events of draw `index`: the events that happen, with their drawn start, end and
/// magnitude applied, and a record of every event's draw.
pub fn draw_events(scenario: &Scenario, seed: u64, index: u64) -> (Vec<Event>, Vec<DrawnEvent>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let mut events = Vec::new();
    let mut record = Vec::new();
    for e in &scenario.events {
        // Always four numbers per event, so that streams stay aligned whatever happens.
        let (u_happen, u_start, u_duration, u_magnitude): (f64, f64, f64, f64) =
            (rng.random(), rng.random(), rng.random(), rng.random());
        let happened = u_happen < e.probability;
        let u = &e.uncertainty;
        let start = match &u.start {
            Some([a, b]) => match (parse_date(a), parse_date(b)) {
                (Ok(a), Ok(b)) => a + u_start * (b - a),
                _ => e.start,
            },
            None => e.start,
        };
        let end = match u.duration {
            Some([a, b]) => Some(start + a + u_duration * (b - a)),
            None => e.end.map(|end| end + (start - e.start)),
        };
        let magnitude = u.magnitude.map_or(1.0, |[a, b]| a + u_magnitude * (b - a));
        record.push(DrawnEvent {
            event: e.id.clone(),
            happened,
            start,
            end,
            magnitude,
        });
        if happened {
            let mut d = e.clone();
            d.start = start;
            d.end = end;
            if magnitude != 1.0 {
                d.kind.scale(magnitude);
            }
            events.push(d);
        }
    }
    (events, record)
}

/// Events whose `uncertainty.magnitude` a risk run cannot draw (kinds without one figure to
/// scale): the run reports them and uses their own figure.
pub fn unscaled_magnitudes(scenario: &Scenario) -> Vec<String> {
    scenario
        .events
        .iter()
        .filter(|e| e.uncertainty.magnitude.is_some() && !e.kind.scalable())
        .map(|e| e.id.clone())
        .collect()
}

/// The keys of a risk run over `baseline`.
pub fn keys(baseline: &Baseline) -> RiskKeys {
    let mut shortfall = std::collections::BTreeSet::new();
    for r in &baseline.sector_rows {
        shortfall.insert((
            r.region.clone(),
            r.sector.clone(),
            r.good.clone(),
            year_of(&r.period),
        ));
    }
    let mut price = std::collections::BTreeSet::new();
    for r in &baseline.rows {
        price.insert((r.region.clone(), r.good.clone(), year_of(&r.period)));
    }
    RiskKeys {
        shortfall: shortfall.into_iter().collect(),
        price: price.into_iter().collect(),
    }
}

fn year_of(period: &str) -> i32 {
    period
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or_default()
}

/// Per key: the run's yearly shortfall sums and mean prices.
fn yearly(
    run: &Baseline,
    keys: &RiskKeys,
    index: &KeyIndex,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let shortfall = by_key(run, keys, index, |r| r.shortfall);
    let mut price = vec![0.0; keys.price.len()];
    let mut count = vec![0u32; keys.price.len()];
    for r in &run.rows {
        if let (Some(p), Some(&i)) = (
            r.price,
            index
                .price
                .get(&((r.region.as_str(), r.good.as_str()), year_of(&r.period))),
        ) {
            price[i] += p;
            count[i] += 1;
        }
    }
    for (p, c) in price.iter_mut().zip(&count) {
        *p = if *c > 0 { *p / f64::from(*c) } else { f64::NAN };
    }
    if let Some(p) = run
        .periods
        .iter()
        .find(|p| p.status != chokepoint_equilibrium::SolveStatus::Optimal)
    {
        return Err(format!("{}: {:?}", p.period, p.status));
    }
    Ok((shortfall, price))
}

/// A sector-row field summed per shortfall key (region, sector, good, year).
fn by_key(
    run: &Baseline,
    keys: &RiskKeys,
    index: &KeyIndex,
    field: fn(&crate::world::baseline::SectorRow) -> f64,
) -> Vec<f64> {
    let mut out = vec![0.0; keys.shortfall.len()];
    for r in &run.sector_rows {
        let k = (r.region.as_str(), r.sector.as_str(), r.good.as_str());
        if let Some(&i) = index.shortfall.get(&(k, year_of(&r.period))) {
            out[i] += field(r);
        }
    }
    out
}

type ShortfallKey<'a> = ((&'a str, &'a str, &'a str), i32);
type PriceKey<'a> = ((&'a str, &'a str), i32);

struct KeyIndex<'a> {
    shortfall: std::collections::HashMap<ShortfallKey<'a>, usize>,
    price: std::collections::HashMap<PriceKey<'a>, usize>,
}

impl<'a> KeyIndex<'a> {
    fn of(keys: &'a RiskKeys) -> Self {
        KeyIndex {
            shortfall: keys
                .shortfall
                .iter()
                .enumerate()
                .map(|(i, (r, s, g, y))| (((r.as_str(), s.as_str(), g.as_str()), *y), i))
                .collect(),
            price: keys
                .price
                .iter()
                .enumerate()
                .map(|(i, (r, g, y))| (((r.as_str(), g.as_str()), *y), i))
                .collect(),
        }
    }
}

/// A chain of goods that clears apart, as a risk run sees it.
struct Chain {
    /// One flag per good of the world model.
    keep: Vec<bool>,
    /// Scenario events that touch it (indices into the scenario's events).
    events: Vec<usize>,
    /// Keys of [`RiskKeys::shortfall`] and [`RiskKeys::price`] of its goods.
    shortfall: Vec<usize>,
    price: Vec<usize>,
}

/// When a drawn event acts: the quarters it is in force (one bit per quarter of the run) for
/// kinds that act by quarter ([`crate::scenario::EventKind::acts_by_quarter`]), else its start
/// and end (as bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Timing {
    Quarters(Vec<u64>),
    Dates(u64, Option<u64>),
}

/// What a chain's drawn events were: (scenario event index, timing, magnitude as bits) of
/// each one that happened, in scenario order. Equal signatures give equal runs.
type Signature = Vec<(usize, Timing, u64)>;

/// One run of a chain: its yearly shortfall and mean price per key of the chain (in the
/// chain's key order), or why it failed.
struct ChainRun {
    /// Distinct per run (names the combination a draw's result is assembled from).
    id: usize,
    values: Result<(Vec<f64>, Vec<f64>), String>,
}

/// A chain run, filled once by whichever draw needs it first (others wait for it).
type RunCell = Arc<OnceLock<Arc<ChainRun>>>;

/// A draw's shortfall and price values, shared by draws with the same outcome.
type Values = (Arc<[f64]>, Arc<[f64]>);

/// Chain runs by signature, and draws' results by the chain runs they combine. Entries are
/// pure functions of their keys, so which thread fills one first changes nothing.
#[derive(Default)]
struct Shared {
    runs: Mutex<HashMap<(usize, Signature), RunCell>>,
    results: Mutex<HashMap<Vec<usize>, Values>>,
    /// Values held in `runs` and `results`.
    held: std::sync::atomic::AtomicUsize,
    next_id: std::sync::atomic::AtomicUsize,
}

/// Values the shared runs and results may hold before new ones are no longer kept (a bound
/// on memory, 128 MiB of `f64`; results do not depend on it, only speed does).
const SHARED_VALUES: usize = 16 << 20;

/// A prepared risk run: the world model, the scenario, its baseline and what it reports on.
pub struct RiskRun<'a> {
    ds: &'a Dataset,
    model: &'a WorldModel,
    scenario: &'a Scenario,
    /// The scenario's baseline (no events).
    pub baseline: Baseline,
    /// The rows reported on.
    pub keys: RiskKeys,
    chains: Vec<Chain>,
    /// The baseline's shortfall per key, each chain's from its own run without events.
    base_shortfall: Vec<f64>,
    /// The baseline's demand at base prices per shortfall key: the scale below which an added
    /// shortfall is the solvers' rounding ([`crate::world::RESIDUE`]), not a shortfall.
    base_demand: Vec<f64>,
    shared: Shared,
    /// The middle of every quarter of the run (see [`crate::world::baseline::mid_quarter`]).
    quarters: Vec<f64>,
    /// Seed of the draws.
    pub seed: u64,
}

impl<'a> RiskRun<'a> {
    /// Runs the baseline the draws are compared with, and each chain's run without events.
    pub fn new(
        ds: &'a Dataset,
        model: &'a WorldModel,
        scenario: &'a Scenario,
        seed: u64,
    ) -> Result<Self, BaselineError> {
        let baseline = model.run(ds, scenario.header.to, &[], None)?;
        let keys = keys(&baseline);
        let index = KeyIndex::of(&keys);
        let base_demand = by_key(&baseline, &keys, &index, |r| r.demand_at_base_price);
        let w = &model.world;
        let all: Vec<usize> = (0..w.goods.len()).collect();
        let touched: Vec<Vec<usize>> = scenario
            .events
            .iter()
            .map(|e| e.kind.goods(w).unwrap_or_else(|| all.clone()))
            .collect();
        let component = model.components(&touched);
        let count = component.iter().max().map_or(0, |c| c + 1);
        let good_of = |name: &str| w.good(name).map(|g| component[g]);
        let chains = (0..count)
            .map(|c| Chain {
                keep: component.iter().map(|&k| k == c).collect(),
                events: (0..scenario.events.len())
                    .filter(|&e| touched[e].iter().any(|&g| component.get(g) == Some(&c)))
                    .collect(),
                shortfall: (0..keys.shortfall.len())
                    .filter(|&k| good_of(&keys.shortfall[k].2) == Some(c))
                    .collect(),
                price: (0..keys.price.len())
                    .filter(|&k| good_of(&keys.price[k].1) == Some(c))
                    .collect(),
            })
            .collect();
        let mut risk = RiskRun {
            ds,
            model,
            scenario,
            baseline,
            keys,
            chains,
            base_shortfall: Vec::new(),
            base_demand,
            shared: Shared::default(),
            quarters: Vec::new(),
            seed,
        };
        let base_year = ds
            .assumption("default_year")
            .map_err(|e| BaselineError::Options(e.to_string()))? as i32;
        risk.quarters = (base_year + 1..=scenario.header.to)
            .flat_map(|y| (1..=4).map(move |q| crate::world::baseline::mid_quarter(y, q)))
            .collect();
        let mut base_shortfall = vec![0.0; risk.keys.shortfall.len()];
        for c in 0..risk.chains.len() {
            let run = risk.chain_run(c, Vec::new(), &[]);
            let (shortfall, _) = run
                .values
                .as_ref()
                .map_err(|e| BaselineError::Options(format!("baseline does not clear: {e}")))?;
            for (&k, v) in risk.chains[c].shortfall.iter().zip(shortfall) {
                base_shortfall[k] = *v;
            }
        }
        risk.base_shortfall = base_shortfall;
        Ok(risk)
    }

    /// The run of chain `c` with `events` (drawn, with `signature`): shared when kept.
    fn chain_run(&self, c: usize, signature: Signature, events: &[&Event]) -> Arc<ChainRun> {
        use std::sync::atomic::Ordering::Relaxed;
        let compute = || {
            let chain = &self.chains[c];
            let events: Vec<Event> = events.iter().map(|e| (*e).clone()).collect();
            let run = self.model.run_part(
                self.ds,
                self.scenario.header.to,
                &events,
                Some(&self.baseline),
                &chain.keep,
            );
            let values = run.map_err(|e| e.to_string()).and_then(|run| {
                let index = KeyIndex::of(&self.keys);
                let (shortfall, price) =
                    yearly(&run, &self.keys, &index).map_err(|e| format!("not cleared: {e}"))?;
                Ok((
                    chain.shortfall.iter().map(|&k| shortfall[k]).collect(),
                    chain.price.iter().map(|&k| price[k]).collect(),
                ))
            });
            Arc::new(ChainRun {
                id: self.shared.next_id.fetch_add(1, Relaxed),
                values,
            })
        };
        let size = self.chains[c].shortfall.len() + self.chains[c].price.len();
        let cell = {
            let Ok(mut runs) = self.shared.runs.lock() else {
                return compute();
            };
            match runs.get(&(c, signature.clone())) {
                Some(cell) => cell.clone(),
                None if self.shared.held.load(Relaxed) + size <= SHARED_VALUES => {
                    self.shared.held.fetch_add(size, Relaxed);
                    runs.entry((c, signature)).or_default().clone()
                }
                None => return compute(),
            }
        };
        cell.get_or_init(compute).clone()
    }

    /// The chains the run clears apart (their goods) and how many runs of each it keeps (one
    /// per distinct set of drawn events that touch the chain, the baseline's included; runs
    /// made once the bound on kept values is reached are not kept): how much work the draws
    /// shared.
    pub fn chain_runs(&self) -> Vec<(Vec<String>, usize)> {
        let runs = self
            .shared
            .runs
            .lock()
            .map(|r| r.keys().map(|k| k.0).collect::<Vec<_>>());
        let runs = runs.unwrap_or_default();
        self.chains
            .iter()
            .enumerate()
            .map(|(c, chain)| {
                let goods = chain
                    .keep
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| **k)
                    .map(|(g, _)| self.model.world.goods[g].clone())
                    .collect();
                (goods, runs.iter().filter(|&&k| k == c).count())
            })
            .collect()
    }

    /// When a drawn event acts, as far as the run can tell.
    fn timing(&self, e: &Event) -> Timing {
        if e.kind.acts_by_quarter() {
            let mut bits = vec![0u64; self.quarters.len().div_ceil(64)];
            for (k, &t) in self.quarters.iter().enumerate() {
                if e.active(t) {
                    bits[k / 64] |= 1 << (k % 64);
                }
            }
            Timing::Quarters(bits)
        } else {
            Timing::Dates(e.start.to_bits(), e.end.map(f64::to_bits))
        }
    }

    /// Runs draw `index` alone (the same numbers whichever thread or shard runs it).
    pub fn run_draw(&self, index: u64) -> DrawResult {
        let (events, record) = draw_events(self.scenario, self.seed, index);
        let failed = |status: String| DrawResult {
            draw: index,
            events: record.clone(),
            status,
            shortfall: Arc::from([]),
            price: Arc::from([]),
        };
        // Drawn events that happened, with their scenario index.
        let happened: Vec<(usize, &Event)> = record
            .iter()
            .enumerate()
            .filter(|(_, r)| r.happened)
            .map(|(i, _)| i)
            .zip(&events)
            .collect();
        let mut runs = Vec::with_capacity(self.chains.len());
        for (c, chain) in self.chains.iter().enumerate() {
            let mine: Vec<&(usize, &Event)> = happened
                .iter()
                .filter(|(i, _)| chain.events.binary_search(i).is_ok())
                .collect();
            let signature: Signature = mine
                .iter()
                .map(|(i, e)| {
                    // Kinds without a figure to scale ignore their drawn magnitude.
                    let magnitude = if e.kind.scalable() {
                        record[*i].magnitude
                    } else {
                        1.0
                    };
                    (*i, self.timing(e), magnitude.to_bits())
                })
                .collect();
            let drawn: Vec<&Event> = mine.iter().map(|(_, e)| *e).collect();
            let run = self.chain_run(c, signature, &drawn);
            if let Err(e) = &run.values {
                return failed(e.clone());
            }
            runs.push(run);
        }
        let (shortfall, price) = self.values(&runs);
        DrawResult {
            draw: index,
            events: record,
            status: "ok".into(),
            shortfall,
            price,
        }
    }

    /// A draw's values from its chains' runs (one per chain, in order): the added shortfall
    /// and the prices, shared with every draw that combines the same runs.
    fn values(&self, runs: &[Arc<ChainRun>]) -> Values {
        use std::sync::atomic::Ordering::Relaxed;
        let ids: Vec<usize> = runs.iter().map(|r| r.id).collect();
        if let Some(values) = self
            .shared
            .results
            .lock()
            .ok()
            .and_then(|r| r.get(&ids).cloned())
        {
            return values;
        }
        let mut shortfall = vec![0.0; self.keys.shortfall.len()];
        let mut price = vec![f64::NAN; self.keys.price.len()];
        for (chain, run) in self.chains.iter().zip(runs) {
            let Ok((s, p)) = &run.values else { continue };
            for (&k, v) in chain.shortfall.iter().zip(s) {
                shortfall[k] = added_shortfall(*v, self.base_shortfall[k], self.base_demand[k]);
            }
            for (&k, v) in chain.price.iter().zip(p) {
                price[k] = *v;
            }
        }
        let size = shortfall.len() + price.len();
        let values: Values = (shortfall.into(), price.into());
        if self.shared.held.load(Relaxed) + size <= SHARED_VALUES
            && let Ok(mut results) = self.shared.results.lock()
        {
            self.shared.held.fetch_add(size, Relaxed);
            results.insert(ids, values.clone());
        }
        values
    }

    /// Runs `draws` (indices) on `threads` threads, calling `progress(done)` after each; the
    /// results come back in the order of `draws` whatever the threads did.
    pub fn run_draws(
        &self,
        draws: &[u64],
        threads: usize,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Vec<DrawResult> {
        let threads = threads.clamp(1, draws.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let mut out: Vec<Option<DrawResult>> = vec![None; draws.len()];
        let results = std::sync::Mutex::new(&mut out);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= draws.len() {
                            break;
                        }
                        let r = self.run_draw(draws[i]);
                        if let Ok(mut res) = results.lock() {
                            res[i] = Some(r);
                        }
                        progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                    }
                });
            }
        });
        out.into_iter().flatten().collect()
    }
}

/// A draw's shortfall beyond the baseline's, 0 when it is no more than the solvers' rounding
/// ([`crate::world::RESIDUE`] of the baseline demand, at least of one unit): at a threshold of
/// 0 rounding would otherwise count as a shortfall in every draw.
fn added_shortfall(draw: f64, baseline: f64, demand: f64) -> f64 {
    let added = draw - baseline;
    if added > crate::world::RESIDUE * demand.max(1.0) {
        added
    } else {
        0.0
    }
}

/// The draws of shard `i` of `n` (0-based): every n-th draw from `i`.
pub fn shard_draws(total: u64, shard: Option<(u64, u64)>) -> Vec<u64> {
    match shard {
        Some((i, n)) => (0..total).filter(|d| d % n == i).collect(),
        None => (0..total).collect(),
    }
}

/// Quantiles and tail probability of one row over the draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Mean.
    pub mean: f64,
    /// Share of draws above the threshold.
    pub p_exceed: f64,
}

/// One region × sector × good × year: the added shortfall over the draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShortfallRow {
    /// Model region.
    pub region: String,
    /// End-use sector (`total` for goods without sectors).
    pub sector: String,
    /// Good.
    pub good: String,
    /// Year.
    pub year: i32,
    /// Over the draws (units per year).
    #[serde(flatten)]
    pub stats: Stats,
}

/// One region × good × year: the mean price over the draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    /// Model region.
    pub region: String,
    /// Good.
    pub good: String,
    /// Year.
    pub year: i32,
    /// Over the draws (currency per unit).
    #[serde(flatten)]
    pub stats: Stats,
}

/// An event and the tail: how often it happened in all draws and in the worst ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TailDriver {
    /// Event id.
    pub event: String,
    /// Share of all draws in which it happened.
    pub share_all: f64,
    /// Share of tail draws in which it happened.
    pub share_tail: f64,
}

/// A risk run's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSummary {
    /// Draws run (ok and failed).
    pub draws: usize,
    /// Draws that failed: (draw, status), to replay with `--replay`.
    pub failed: Vec<(u64, String)>,
    /// Threshold of `p_exceed` (units per year).
    pub threshold: f64,
    /// Rows where some draw adds a shortfall.
    pub shortfall: Vec<ShortfallRow>,
    /// Every priced row.
    pub price: Vec<PriceRow>,
    /// Draws whose total added shortfall (valued at baseline prices) is at or above its 95th
    /// percentile.
    pub tail_draws: Vec<u64>,
    /// Events by how much more often they happen in the tail than overall.
    pub drivers: Vec<TailDriver>,
}

/// Quantile `q` of sorted values (linear between order statistics, type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn stats(values: &mut [f64], threshold: f64) -> Stats {
    values.sort_by(f64::total_cmp);
    let n = values.len().max(1) as f64;
    Stats {
        p5: quantile(values, 0.05),
        p50: quantile(values, 0.5),
        p95: quantile(values, 0.95),
        mean: values.iter().sum::<f64>() / n,
        p_exceed: values.iter().filter(|v| **v > threshold).count() as f64 / n,
    }
}

/// Turns draws (any order, any sharding) into the run's result.
pub fn aggregate(
    keys: &RiskKeys,
    base_prices: &[f64],
    draws: &[DrawResult],
    threshold: f64,
) -> RiskSummary {
    let mut draws: Vec<&DrawResult> = draws.iter().collect();
    draws.sort_by_key(|d| d.draw);
    let ok: Vec<&DrawResult> = draws
        .iter()
        .copied()
        .filter(|d| d.status == "ok" && d.shortfall.len() == keys.shortfall.len())
        .collect();
    let mut shortfall = Vec::new();
    let mut column = Vec::with_capacity(ok.len());
    for (i, (region, sector, good, year)) in keys.shortfall.iter().enumerate() {
        column.clear();
        column.extend(ok.iter().map(|d| d.shortfall[i]));
        if column.iter().all(|v| *v <= 0.0) {
            continue;
        }
        shortfall.push(ShortfallRow {
            region: region.clone(),
            sector: sector.clone(),
            good: good.clone(),
            year: *year,
            stats: stats(&mut column, threshold),
        });
    }
    let mut price = Vec::new();
    for (i, (region, good, year)) in keys.price.iter().enumerate() {
        column.clear();
        column.extend(ok.iter().map(|d| d.price[i]).filter(|p| p.is_finite()));
        if column.is_empty() {
            continue;
        }
        price.push(PriceRow {
            region: region.clone(),
            good: good.clone(),
            year: *year,
            stats: stats(&mut column, f64::INFINITY),
        });
    }
    // The tail: draws whose added shortfall, valued at the baseline's prices, is at or above
    // the 95th percentile.
    let unit_value: Vec<f64> = keys
        .shortfall
        .iter()
        .map(|(r, _, g, y)| {
            keys.price
                .binary_search(&(r.clone(), g.clone(), *y))
                .ok()
                .and_then(|i| base_prices.get(i))
                .copied()
                .filter(|p| p.is_finite())
                .unwrap_or(0.0)
        })
        .collect();
    let value_of = |d: &DrawResult| -> f64 {
        unit_value
            .iter()
            .zip(d.shortfall.iter())
            .map(|(p, s)| s * p)
            .sum()
    };
    let values: Vec<(u64, f64)> = ok.iter().map(|d| (d.draw, value_of(d))).collect();
    let mut sorted: Vec<f64> = values.iter().map(|v| v.1).collect();
    sorted.sort_by(f64::total_cmp);
    let cut = quantile(&sorted, 0.95);
    let tail_draws: Vec<u64> = values
        .iter()
        .filter(|v| v.1 >= cut && v.1 > 0.0)
        .map(|v| v.0)
        .collect();
    let mut drivers: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for d in &ok {
        let in_tail = tail_draws.binary_search(&d.draw).is_ok();
        for e in &d.events {
            let entry = drivers.entry(e.event.as_str()).or_default();
            if e.happened {
                entry.0 += 1.0;
                if in_tail {
                    entry.1 += 1.0;
                }
            }
        }
    }
    let n_ok = ok.len().max(1) as f64;
    let n_tail = tail_draws.len().max(1) as f64;
    let mut drivers: Vec<TailDriver> = drivers
        .into_iter()
        .map(|(e, (all, tail))| TailDriver {
            event: e.to_string(),
            share_all: all / n_ok,
            share_tail: tail / n_tail,
        })
        .collect();
    drivers.sort_by(|a, b| {
        (b.share_tail - b.share_all)
            .total_cmp(&(a.share_tail - a.share_all))
            .then_with(|| a.event.cmp(&b.event))
    });
    RiskSummary {
        draws: draws.len(),
        failed: draws
            .iter()
            .filter(|d| d.status != "ok")
            .map(|d| (d.draw, d.status.clone()))
            .collect(),
        threshold,
        shortfall,
        price,
        tail_draws,
        drivers,
    }
}

/// The baseline's mean price per key of `keys.price` (NaN where it has none).
pub fn base_prices(baseline: &Baseline, keys: &RiskKeys) -> Vec<f64> {
    let index = KeyIndex::of(keys);
    yearly(baseline, keys, &index)
        .map(|(_, p)| p)
        .unwrap_or_else(|_| vec![f64::NAN; keys.price.len()])
}

/// Background disruption risk of one producing region and mined good (see
/// [`background_risk`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackgroundRow {
    /// Model region.
    pub region: String,
    /// Mined good.
    pub good: String,
    /// Mean WGI political-stability estimate of the region's countries (year `wgi_year`).
    pub political_stability: f64,
    /// Chance of a disruption starting in any one year.
    pub annual_probability: f64,
}

/// The background disruption risk of every region × mined good with base-year output: a
/// documented rule, every number a named assumption (`chokepoint data audit`, override
/// them in an exported copy of `data/`). The chance that a disruption starts in a year falls
/// linearly with the region's political stability (WGI `pv`, mean over its countries, year
/// `wgi_year`): `risk_background_p_unstable` at the worst end of the WGI scale (`wgi_worst`),
/// `risk_background_p_stable` at the best (`wgi_best`). A disruption lasts between
/// `risk_background_duration_low` and `_high` years and takes between
/// `risk_background_loss_low` and `_high` of the node's capacity (uniform).
pub fn background_risk(
    ds: &Dataset,
    map: &crate::world::RegionMap,
    world: &crate::scenario::World,
) -> Result<Vec<BackgroundRow>, crate::LookupError> {
    let worst = ds.assumption("wgi_worst")?;
    let best = ds.assumption("wgi_best")?;
    let p_unstable = ds.assumption("risk_background_p_unstable")?;
    let p_stable = ds.assumption("risk_background_p_stable")?;
    let wgi_year = ds.assumption("wgi_year")? as i32;
    let mut rows = Vec::new();
    for (r, region) in map.regions.iter().enumerate() {
        let Some(wr) = world.regions.iter().position(|x| *x == region.id) else {
            continue;
        };
        let values: Vec<f64> = region
            .members
            .iter()
            .filter_map(|c| ds.wgi_political_stability(c, wgi_year))
            .collect();
        if values.is_empty() {
            continue;
        }
        let pv = values.iter().sum::<f64>() / values.len() as f64;
        let instability = ((best - pv) / (best - worst)).clamp(0.0, 1.0);
        let p = p_stable + (p_unstable - p_stable) * instability;
        for good in ds.goods.iter().filter(|g| g.stage_id == "mining") {
            let Some(wg) = world.goods.iter().position(|x| *x == good.good_id) else {
                continue;
            };
            if world.base_output[world.node(wr, wg)] <= 0.0 {
                continue;
            }
            rows.push(BackgroundRow {
                region: map.regions[r].id.clone(),
                good: good.good_id.clone(),
                political_stability: pv,
                annual_probability: p,
            });
        }
    }
    Ok(rows)
}

/// The background risk as scenario events (TOML, to append to a scenario file): for each row
/// and each year from `from` to `to`, a disruption that happens with the row's annual
/// probability, starts anywhere in the year and lasts and bites within the assumed ranges.
pub fn background_events(
    ds: &Dataset,
    rows: &[BackgroundRow],
    from: i32,
    to: i32,
) -> Result<String, crate::LookupError> {
    use std::fmt::Write as _;
    let d_low = ds.assumption("risk_background_duration_low")?;
    let d_high = ds.assumption("risk_background_duration_high")?;
    let l_low = ds.assumption("risk_background_loss_low")?;
    let l_high = ds.assumption("risk_background_loss_high")?;
    let mut text = String::new();
    for r in rows {
        for year in from..=to {
            let _ = write!(
                text,
                "\n[[event]]\nid = \"background_{region}_{good}_{year}\"\nkind = \"disruption\"\n\
                 start = \"{year}\"\nsource = \"background risk (risk_background_* assumptions, WGI pv)\"\n\
                 probability = {p}\nplace = \"{region}\"\ngoods = [\"{good}\"]\nshare = 1.0\n\
                 uncertainty = {{ start = [\"{year}-01-01\", \"{next}-01-01\"], duration = [{d_low}, {d_high}], \
                 magnitude = [{l_low}, {l_high}] }}\n",
                region = r.region,
                good = r.good,
                p = r.annual_probability,
                next = year + 1,
            );
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::added_shortfall;

    #[test]
    fn rounding_is_not_an_added_shortfall() {
        // 1e-9 t against 100 t of demand: rounding.
        assert_eq!(added_shortfall(3.000_000_001, 3.0, 100.0), 0.0);
        // Less than the baseline's: none added.
        assert_eq!(added_shortfall(1.0, 3.0, 100.0), 0.0);
        // Real shortfalls pass whole.
        assert_eq!(added_shortfall(8.0, 3.0, 100.0), 5.0);
        // The cut scales with demand (1e-6 of 1e9 t is 1,000 t) and never falls below 1e-6 t.
        assert_eq!(added_shortfall(500.0, 0.0, 1e9), 0.0);
        assert_eq!(added_shortfall(2_000.0, 0.0, 1e9), 2_000.0);
        assert_eq!(added_shortfall(1e-7, 0.0, 0.0), 0.0);
        assert_eq!(added_shortfall(1e-5, 0.0, 0.0), 1e-5);
    }
}
