//! What a scenario did, against its baseline: the largest price moves and shortfalls, and the
//! seed article's questions answered in numbers where the model has the goods and places they
//! name. Every figure is computed from the two runs; keys are documented in docs/json.md.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Scenario, ScenarioRun};
use crate::world::Baseline;
use crate::world::baseline::PeriodRow;

/// One event as run.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Start (decimal year).
    pub start: f64,
    /// End, if any.
    pub end: Option<f64>,
    /// Probability (risk runs).
    pub probability: f64,
    /// Source.
    pub source: String,
}

/// A good's price in one region: scenario against baseline, at the quarter of largest change.
#[derive(Debug, Clone, Serialize)]
pub struct PriceMove {
    /// Good.
    pub good: String,
    /// Region.
    pub region: String,
    /// Quarter of the largest relative change.
    pub period: String,
    /// Baseline price.
    pub baseline: f64,
    /// Scenario price.
    pub scenario: f64,
    /// scenario / baseline − 1.
    pub change: f64,
}

/// Extra shortfall of a good in a region over the run.
#[derive(Debug, Clone, Serialize)]
pub struct ShortfallLine {
    /// Good.
    pub good: String,
    /// Region.
    pub region: String,
    /// Scenario shortfall minus baseline shortfall, summed over the quarters (model units).
    pub extra: f64,
    /// Quarters with extra shortfall.
    pub quarters: usize,
    /// First and last such quarter.
    pub from: String,
    /// Last such quarter.
    pub to: String,
    /// Extra shortfall as a share of the baseline's demand at base prices over those quarters.
    pub share_of_demand: f64,
}

/// One of the article's questions, answered.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Key (stable).
    pub key: String,
    /// The question.
    pub question: String,
    /// The answer in one line.
    pub answer: String,
    /// The number behind it.
    pub value: f64,
    /// Its unit.
    pub unit: String,
}

/// One run's world path of a good, quarter by quarter.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Path {
    /// Mean price over the regions, weighted by consumption (by production in a quarter
    /// with no consumption); `None` where no region has a price.
    pub price: Vec<Option<f64>>,
    /// World production.
    pub production: Vec<f64>,
    /// World final consumption.
    pub consumption: Vec<f64>,
    /// World shortfall (demand at the base-year price minus consumption).
    pub shortfall: Vec<f64>,
    /// Stock held at the end of the quarter (strategic and private).
    pub inventory: Vec<f64>,
}

/// A good's world path, baseline against scenario: what the dashboard and report charts draw.
#[derive(Debug, Clone, Serialize)]
pub struct GoodSeries {
    /// Good.
    pub good: String,
    /// Quarters (`2025Q1`…), the index of every vector below.
    pub periods: Vec<String>,
    /// The baseline.
    pub baseline: Path,
    /// The scenario.
    pub scenario: Path,
}

/// The world path of every good of a run, in the run's order of goods and quarters.
fn paths(b: &Baseline) -> BTreeMap<String, (Vec<String>, Path)> {
    // (good) → per quarter: (Σ p·w, Σ w, fallback Σ p·q, Σ q, production, consumption,
    // shortfall, inventory)
    type Acc = [f64; 8];
    let mut acc: BTreeMap<&str, BTreeMap<&str, Acc>> = BTreeMap::new();
    for r in &b.rows {
        let a = acc
            .entry(r.good.as_str())
            .or_default()
            .entry(r.period.as_str())
            .or_insert([0.0; 8]);
        if let Some(p) = r.price {
            a[0] += p * r.consumption;
            a[1] += r.consumption;
            a[2] += p * r.production;
            a[3] += r.production;
        }
        a[4] += r.production;
        a[5] += r.consumption;
        a[6] += r.shortfall;
        a[7] += r.inventory;
    }
    acc.into_iter()
        .map(|(good, quarters)| {
            let mut path = Path::default();
            let mut periods = Vec::with_capacity(quarters.len());
            for (period, a) in quarters {
                periods.push(period.to_string());
                path.price.push(if a[1] > 0.0 {
                    Some(a[0] / a[1])
                } else if a[3] > 0.0 {
                    Some(a[2] / a[3])
                } else {
                    None
                });
                path.production.push(a[4]);
                path.consumption.push(a[5]);
                path.shortfall.push(a[6]);
                path.inventory.push(a[7]);
            }
            (good.to_string(), (periods, path))
        })
        .collect()
}

/// Every good's world path, baseline against scenario.
pub fn series(run: &ScenarioRun) -> Vec<GoodSeries> {
    let base = paths(&run.baseline);
    paths(&run.scenario)
        .into_iter()
        .map(|(good, (periods, scenario))| {
            let baseline = base
                .get(&good)
                .filter(|(p, _)| *p == periods)
                .map(|(_, b)| b.clone())
                .unwrap_or_default();
            GoodSeries {
                good,
                periods,
                baseline,
                scenario,
            }
        })
        .collect()
}

/// A scenario run in numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub name: String,
    /// File.
    pub file: String,
    /// Demand path.
    pub demand: String,
    /// Quarters run.
    pub quarters: usize,
    /// Quarters that cleared (baseline, scenario).
    pub cleared: [usize; 2],
    /// Events.
    pub events: Vec<EventLine>,
    /// Largest price changes where the good is made or used (up to 15, three per good).
    pub price_moves: Vec<PriceMove>,
    /// Largest extra shortfalls (up to 15).
    pub shortfalls: Vec<ShortfallLine>,
    /// The article's questions.
    pub answers: Vec<Answer>,
    /// The header's `exposure` consumers traced in the last year (filled by the caller that
    /// has the world model: `chokepoint run`).
    pub exposure: Vec<crate::exposure::Comparison>,
    /// Companies' revenue over the run, baseline and scenario (filled by `chokepoint run`).
    pub companies: Vec<crate::companies::CompanyLine>,
    /// EU-method criticality in the last year, baseline and scenario (filled by `chokepoint
    /// run`; `None` when it cannot be scored).
    pub criticality: Option<crate::criticality::Comparison>,
    /// USGS-method criticality of the USA in the last year, baseline and scenario (filled by
    /// `chokepoint run`; `None` when it cannot be scored).
    #[serde(default)]
    pub criticality_usgs: Option<crate::criticality::usgs::UsgsComparison>,
    /// Every good's world price, production, consumption, shortfall and inventory by quarter,
    /// baseline against scenario (the charts' data).
    pub series: Vec<GoodSeries>,
}

type Key = (String, String, String);

fn index(b: &Baseline) -> BTreeMap<Key, &PeriodRow> {
    b.rows
        .iter()
        .map(|r| ((r.period.clone(), r.region.clone(), r.good.clone()), r))
        .collect()
}

/// Builds the summary of a run.
pub fn summarize(s: &Scenario, run: &ScenarioRun) -> Summary {
    let base = index(&run.baseline);
    let scen = index(&run.scenario);
    let mut moves: BTreeMap<(String, String), PriceMove> = BTreeMap::new();
    let mut short: BTreeMap<(String, String), ShortfallLine> = BTreeMap::new();
    let mut demand: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (k, sr) in &scen {
        let br = base.get(k);
        // Prices only where the good is made or used in both runs: elsewhere a node's price
        // is not pinned by any trade and says nothing.
        let used = |r: &PeriodRow| r.production + r.consumption > 0.0;
        if let (Some(ps), Some(pb)) = (sr.price, br.and_then(|b| b.price))
            && pb > 0.0
            && used(sr)
            && br.is_some_and(|b| used(b))
        {
            let candidate = PriceMove {
                good: k.2.clone(),
                region: k.1.clone(),
                period: k.0.clone(),
                baseline: pb,
                scenario: ps,
                change: ps / pb - 1.0,
            };
            let e = moves
                .entry((k.2.clone(), k.1.clone()))
                .or_insert_with(|| candidate.clone());
            if candidate.change.abs() > e.change.abs() {
                *e = candidate;
            }
        }
        let extra = sr.shortfall - br.map_or(0.0, |b| b.shortfall);
        if extra > 1e-6 * (sr.consumption + sr.shortfall).max(1e-9) && extra > 0.0 {
            let key = (k.2.clone(), k.1.clone());
            let e = short.entry(key.clone()).or_insert(ShortfallLine {
                good: k.2.clone(),
                region: k.1.clone(),
                extra: 0.0,
                quarters: 0,
                from: k.0.clone(),
                to: k.0.clone(),
                share_of_demand: 0.0,
            });
            e.extra += extra;
            e.quarters += 1;
            e.to = k.0.clone();
            *demand.entry(key).or_default() += br.map_or(0.0, |b| b.consumption + b.shortfall);
        }
    }
    let mut price_moves: Vec<PriceMove> = moves.into_values().collect();
    price_moves.sort_by(|a, b| b.change.abs().total_cmp(&a.change.abs()));
    // At most three regions per good, so one good does not fill the table.
    let mut per_good: BTreeMap<String, usize> = BTreeMap::new();
    price_moves.retain(|m| {
        let n = per_good.entry(m.good.clone()).or_default();
        *n += 1;
        *n <= 3
    });
    price_moves.truncate(15);
    let mut shortfalls: Vec<ShortfallLine> = short
        .into_iter()
        .map(|(k, mut v)| {
            let d = demand.get(&k).copied().unwrap_or(0.0);
            v.share_of_demand = if d > 0.0 { v.extra / d } else { 0.0 };
            v
        })
        .collect();
    shortfalls.sort_by(|a, b| b.share_of_demand.total_cmp(&a.share_of_demand));
    shortfalls.truncate(15);
    let cleared = |b: &Baseline| {
        b.periods
            .iter()
            .filter(|p| p.status == chokepoint_equilibrium::SolveStatus::Optimal)
            .count()
    };
    Summary {
        name: s.header.name.clone(),
        file: s.file.clone(),
        demand: s.header.demand.clone(),
        quarters: run.scenario.periods.len(),
        cleared: [cleared(&run.baseline), cleared(&run.scenario)],
        events: s
            .events
            .iter()
            .map(|e| EventLine {
                id: e.id.clone(),
                kind: e.kind.name().to_string(),
                start: e.start,
                end: e.end,
                probability: e.probability,
                source: e.source.clone(),
            })
            .collect(),
        price_moves,
        shortfalls,
        answers: answers(&base, &scen),
        exposure: Vec::new(),
        companies: Vec::new(),
        criticality: None,
        criticality_usgs: None,
        series: series(run),
    }
}

/// Sum of a field over rows matching goods, regions (empty: all) and years.
fn total(
    rows: &BTreeMap<Key, &PeriodRow>,
    goods: &[&str],
    regions: &[&str],
    years: std::ops::RangeInclusive<i32>,
    f: fn(&PeriodRow) -> f64,
) -> f64 {
    rows.iter()
        .filter(|(k, _)| {
            goods.contains(&k.2.as_str())
                && (regions.is_empty() || regions.contains(&k.1.as_str()))
                && k.0[..4].parse::<i32>().is_ok_and(|y| years.contains(&y))
        })
        .map(|(_, r)| f(r))
        .sum()
}

/// Volume-weighted mean price of a good over regions (empty: all; `not`: all but those).
fn mean_price(
    rows: &BTreeMap<Key, &PeriodRow>,
    good: &str,
    regions: &[&str],
    not: bool,
    years: std::ops::RangeInclusive<i32>,
) -> Option<f64> {
    let mut pv = 0.0;
    let mut v = 0.0;
    for (k, r) in rows {
        let inside = regions.contains(&k.1.as_str());
        if k.2 != good
            || inside == not
            || !k.0[..4].parse::<i32>().is_ok_and(|y| years.contains(&y))
        {
            continue;
        }
        if let Some(p) = r.price {
            let w = r.production + r.consumption + r.imports;
            pv += p * w;
            v += w;
        }
    }
    (v > 0.0).then(|| pv / v)
}

fn answers(base: &BTreeMap<Key, &PeriodRow>, scen: &BTreeMap<Key, &PeriodRow>) -> Vec<Answer> {
    let mut out = Vec::new();
    let years = 2025..=2100;
    // Japan's heavy rare-earth shortfall (E1).
    let heavy = ["dy_oxide", "dy_metal", "tb_oxide", "ndfeb_magnet"];
    let quarters: Vec<&Key> = scen
        .keys()
        .filter(|k| k.1 == "JPN" && heavy.contains(&k.2.as_str()))
        .filter(|k| {
            let s = scen[*k].shortfall;
            let b = base.get(*k).map_or(0.0, |r| r.shortfall);
            s - b > 1e-9 * (1.0 + s)
        })
        .collect();
    if scen.keys().any(|k| k.1 == "JPN") {
        let mut periods: Vec<&str> = quarters.iter().map(|k| k.0.as_str()).collect();
        periods.sort_unstable();
        periods.dedup();
        let extra_magnets = total(scen, &["ndfeb_magnet"], &["JPN"], years.clone(), |r| {
            r.shortfall
        }) - total(base, &["ndfeb_magnet"], &["JPN"], years.clone(), |r| {
            r.shortfall
        });
        out.push(Answer {
            key: "japan_heavy_re_shortfall".into(),
            question:
                "How short does Japan run of heavy rare earths and magnets, and for how long?"
                    .into(),
            answer: format!(
                "{extra_magnets:.0} t of NdFeB magnets short over the run, in {} quarter(s){}",
                periods.len(),
                periods.first().map_or(String::new(), |f| format!(
                    " from {f} to {}",
                    periods.last().unwrap_or(f)
                ))
            ),
            value: extra_magnets,
            unit: "t".into(),
        });
    }
    // Price gap China vs the rest (E1, E23).
    for good in ["dy_oxide", "tb_oxide", "ndpr_oxide"] {
        if let (Some(c), Some(r)) = (
            mean_price(scen, good, &["CHN"], false, 2026..=2026),
            mean_price(scen, good, &["CHN"], true, 2026..=2026),
        ) {
            out.push(Answer {
                key: format!("{good}_price_gap_2026"),
                question: format!("What gap opens between China and the rest of the world in {good} prices (2026)?"),
                answer: format!("China {c:.0}, elsewhere {r:.0} per t: the rest pays {:+.0}%", (r / c - 1.0) * 100.0),
                value: r / c - 1.0,
                unit: "fraction".into(),
            });
        }
    }
    // US magnet output under the truce (E23).
    let us_b = total(base, &["ndfeb_magnet"], &["USA"], 2026..=2030, |r| {
        r.production
    });
    let us_s = total(scen, &["ndfeb_magnet"], &["USA"], 2026..=2030, |r| {
        r.production
    });
    if us_b > 0.0 {
        out.push(Answer {
            key: "us_magnet_output_2026_2030".into(),
            question: "How much of their baseline output do US magnet makers lose without Chinese oxides and metals (2026–2030)?".into(),
            answer: format!("{us_s:.0} t against {us_b:.0} t in the baseline ({:+.1}%)", (us_s / us_b - 1.0) * 100.0),
            value: us_s / us_b - 1.0,
            unit: "fraction".into(),
        });
    }
    // DRC cobalt exports and price (E22).
    let cod_x = total(
        scen,
        &["co_mined", "co_refined"],
        &["COD"],
        2026..=2026,
        |r| r.exports,
    );
    let cod_b = total(
        base,
        &["co_mined", "co_refined"],
        &["COD"],
        2026..=2026,
        |r| r.exports,
    );
    if cod_b > 0.0 {
        let pb = mean_price(base, "co_refined", &[], true, 2026..=2026).unwrap_or(0.0);
        let ps = mean_price(scen, "co_refined", &[], true, 2026..=2026).unwrap_or(0.0);
        out.push(Answer {
            key: "drc_cobalt_2026".into(),
            question: "How much cobalt does DR Congo export in 2026 under its quota, and what does cobalt cost?".into(),
            answer: format!(
                "{cod_x:.0} t Co exported (baseline {cod_b:.0} t); refined cobalt {ps:.0} USD/t (baseline {pb:.0}, {:+.0}%)",
                if pb > 0.0 { (ps / pb - 1.0) * 100.0 } else { 0.0 }
            ),
            value: cod_x,
            unit: "t".into(),
        });
    }
    // Copper after Grasberg (E14).
    if let (Some(pb), Some(ps)) = (
        mean_price(base, "cu_cathode", &[], true, 2026..=2026),
        mean_price(scen, "cu_cathode", &[], true, 2026..=2026),
    ) {
        out.push(Answer {
            key: "copper_price_2026".into(),
            question: "What does copper cost in 2026 after Grasberg?".into(),
            answer: format!(
                "{ps:.0} USD/t against {pb:.0} in the baseline ({:+.1}%)",
                (ps / pb - 1.0) * 100.0
            ),
            value: ps,
            unit: "USD/t".into(),
        });
    }
    // Lithium balance in 2026 (E19): shortfall at base prices, in t LCE.
    let li_short = total(scen, &["li_carbonate"], &[], 2026..=2026, |r| r.shortfall);
    let li_dem = total(scen, &["li_carbonate"], &[], 2026..=2026, |r| {
        r.consumption + r.shortfall
    });
    if li_dem > 0.0 {
        out.push(Answer {
            key: "lithium_balance_2026".into(),
            question: "Is lithium in deficit in 2026 (the article: Morgan Stanley 80 kt LCE deficit; others 20 kt deficit to balance)?".into(),
            answer: format!(
                "demand at 2024 prices exceeds what clears by {:.0} kt LCE ({:.1}% of demand)",
                li_short / 1000.0,
                li_short / li_dem * 100.0
            ),
            value: -li_short,
            unit: "t_LCE".into(),
        });
    }
    // HALEU after 2028 (E10).
    let haleu_s = total(scen, &["haleu"], &["USA"], 2028..=2030, |r| r.consumption);
    let haleu_b = total(base, &["haleu"], &["USA"], 2028..=2030, |r| r.consumption);
    if haleu_b > 0.0 || haleu_s > 0.0 {
        out.push(Answer {
            key: "us_haleu_2028_2030".into(),
            question: "How much HALEU does the US get in 2028–2030 once Russian uranium is banned?"
                .into(),
            answer: format!("{haleu_s:.1} t U against {haleu_b:.1} t U in the baseline"),
            value: haleu_s,
            unit: "t".into(),
        });
    }
    out
}
