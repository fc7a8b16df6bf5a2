//! Company exposure: each listed company's volume and revenue in the baseline and a scenario,
//! from the assets it owns (`model/companies.csv`).
//!
//! An asset makes a fixed share of its node's output: its attributable capacity over the node's
//! base-year output (at most 1). Its volume in a quarter is that share of the node's production,
//! its revenue the volume at the node's price. Assets not yet producing (`basis = project`) and
//! assets at nodes without base-year output are listed but not counted (the finance report
//! values pipeline projects).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Dataset;
use crate::scenario::World;
use crate::world::Baseline;

/// One asset's figures.
#[derive(Debug, Clone, Serialize)]
pub struct AssetLine {
    /// Asset.
    pub asset: String,
    /// Good.
    pub good: String,
    /// Model region.
    pub region: String,
    /// Share of the node's output it makes (`None`: not counted).
    pub share: Option<f64>,
    /// Why it is not counted.
    pub skipped: Option<String>,
    /// Volume over the run (model units), baseline.
    pub baseline_volume: f64,
    /// Scenario.
    pub scenario_volume: f64,
    /// Revenue over the run (USD), baseline.
    pub baseline_revenue: f64,
    /// Scenario.
    pub scenario_revenue: f64,
}

/// One company's figures.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyLine {
    /// Id.
    pub company_id: String,
    /// Name.
    pub company: String,
    /// Ticker.
    pub ticker: String,
    /// Revenue over the run (USD), baseline.
    pub baseline_revenue: f64,
    /// Scenario.
    pub scenario_revenue: f64,
    /// scenario / baseline − 1.
    pub change: f64,
    /// Revenue by year: (year, baseline, scenario).
    pub years: Vec<(i32, f64, f64)>,
    /// Assets.
    pub assets: Vec<AssetLine>,
}

/// Per node and year: (production, revenue) of a run.
fn by_node_year(run: &Baseline, w: &World) -> BTreeMap<(usize, i32), (f64, f64)> {
    let mut out = BTreeMap::new();
    for r in &run.rows {
        let (Some(ri), Some(g)) = (w.region(&r.region), w.good(&r.good)) else {
            continue;
        };
        let Some(year) = r.period.get(..4).and_then(|y| y.parse::<i32>().ok()) else {
            continue;
        };
        let e: &mut (f64, f64) = out.entry((w.node(ri, g), year)).or_default();
        e.0 += r.production;
        e.1 += r.production * r.price.unwrap_or(0.0);
    }
    out
}

/// Every company of the dataset in the two runs (pass the baseline twice for the baseline
/// alone).
pub fn companies(
    ds: &Dataset,
    w: &World,
    baseline: &Baseline,
    scenario: &Baseline,
) -> Vec<CompanyLine> {
    let (b, s) = (by_node_year(baseline, w), by_node_year(scenario, w));
    let years: Vec<i32> = b
        .keys()
        .map(|k| k.1)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out: Vec<CompanyLine> = Vec::new();
    for a in &ds.companies {
        let region = w.place(&a.region_id).and_then(|r| r.first().copied());
        let good = w.good(&a.good_id);
        let mut line = AssetLine {
            asset: a.asset.clone(),
            good: a.good_id.clone(),
            region: region.map_or_else(|| a.region_id.clone(), |r| w.regions[r].clone()),
            share: None,
            skipped: None,
            baseline_volume: 0.0,
            scenario_volume: 0.0,
            baseline_revenue: 0.0,
            scenario_revenue: 0.0,
        };
        let mut per_year = Vec::new();
        match (region, good) {
            _ if a.basis == "project" => line.skipped = Some("a project, not yet producing".into()),
            (Some(r), Some(g)) if w.base_output[w.node(r, g)] > 0.0 => {
                let node = w.node(r, g);
                let share = (a.capacity / w.base_output[node]).min(1.0);
                line.share = Some(share);
                for &y in &years {
                    let (bv, br) = b.get(&(node, y)).copied().unwrap_or_default();
                    let (sv, sr) = s.get(&(node, y)).copied().unwrap_or_default();
                    line.baseline_volume += share * bv;
                    line.scenario_volume += share * sv;
                    line.baseline_revenue += share * br;
                    line.scenario_revenue += share * sr;
                    per_year.push((y, share * br, share * sr));
                }
            }
            _ => line.skipped = Some("no base-year output where it stands".into()),
        }
        let company = match out.iter_mut().position(|c| c.company_id == a.company_id) {
            Some(i) => &mut out[i],
            None => {
                out.push(CompanyLine {
                    company_id: a.company_id.clone(),
                    company: a.company.clone(),
                    ticker: a.ticker.clone(),
                    baseline_revenue: 0.0,
                    scenario_revenue: 0.0,
                    change: 0.0,
                    years: years.iter().map(|&y| (y, 0.0, 0.0)).collect(),
                    assets: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        company.baseline_revenue += line.baseline_revenue;
        company.scenario_revenue += line.scenario_revenue;
        for (slot, (_, br, sr)) in company.years.iter_mut().zip(per_year) {
            slot.1 += br;
            slot.2 += sr;
        }
        company.assets.push(line);
    }
    for c in &mut out {
        c.change = if c.baseline_revenue > 0.0 {
            c.scenario_revenue / c.baseline_revenue - 1.0
        } else {
            0.0
        };
    }
    out
}
