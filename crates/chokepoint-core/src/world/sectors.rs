//! End-use sectors: a good's final demand in each region split into sector demands
//! (`model/end_uses.csv`), each with its own elasticity and growth path.
//!
//! The split is made on the calibrated market, so the base year is unchanged: at the base
//! price p0 a node's calibrated demand takes q0; sector s with share w and elasticity ε gets
//! the linear demand through (p0, w·q0) with elasticity ε there, q = w·q0·(1 − ε(p − p0)/p0),
//! so the sectors together take q0 at p0 and the node still clears at the base price.

use chokepoint_equilibrium::{DemandStep, Market};

use crate::dataset::Dataset;
use crate::dataset::tables::DemandOverride;

use super::baseline::{BaselineError, demand_path, iea_points};
use super::path::Path;

/// One sector's demand for one good.
#[derive(Debug, Clone)]
pub(crate) struct Sector {
    /// Good (index into the base year's goods).
    pub good: usize,
    /// Sector id of `sectors.csv`.
    pub id: String,
    /// Share of the good's base-year final consumption.
    pub share: f64,
    /// Price elasticity at the base price (absolute value).
    pub elasticity: f64,
    /// Growth index relative to the base year.
    pub path: Path,
}

/// What drives a demand step's growth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DemandKey {
    /// The good's total demand path (goods without end-use sectors).
    Good(usize),
    /// A sector of `Model::sectors`.
    Sector(usize),
}

/// Share of `sector` in a commodity's total IEA demand at `base_year` (both interpolated
/// along the IEA scenario the demand path builds on), so that the sectors' shares times their
/// growth indices add up to the total's index in every year.
fn iea_share(
    ds: &Dataset,
    commodity: &str,
    sector: &str,
    scenario: &str,
    base_year: f64,
) -> Option<f64> {
    let iea = ds
        .demand_overrides
        .iter()
        .find(|o| o.scenario == scenario)
        .map_or(scenario, |o| o.base_scenario.as_str());
    let total = iea_points(ds, commodity, "total", iea);
    let own = iea_points(ds, commodity, sector, iea);
    if total.points.is_empty() || own.points.is_empty() {
        return None;
    }
    let t = total.value(base_year);
    (t > 0.0).then(|| own.value(base_year) / t)
}

/// A sector's growth along a demand path: its IEA path with the path's sector changes
/// (`model/demand_overrides.csv`), scaled by the ratio of the commodity's total with and
/// without the path's total changes (so a total level, like the seed's 42 Mt of copper in
/// 2040, moves every sector in proportion).
fn sector_path(ds: &Dataset, commodity: &str, sector: &str, scenario: &str) -> Option<Path> {
    let iea = ds
        .demand_overrides
        .iter()
        .find(|o| o.scenario == scenario)
        .map_or(scenario, |o| o.base_scenario.as_str());
    let mut own = iea_points(ds, commodity, sector, iea);
    let rules: Vec<&DemandOverride> = ds
        .demand_overrides
        .iter()
        .filter(|o| o.scenario == scenario && o.commodity_id == commodity && o.sector_id == sector)
        .collect();
    own.apply(&rules);
    if own.points.len() < 2 {
        return None;
    }
    let with = demand_path(ds, commodity, scenario, true)?;
    let without = demand_path(ds, commodity, scenario, false)?;
    let mut years: Vec<f64> = own.points.iter().chain(&with.points).map(|p| p.0).collect();
    years.sort_by(f64::total_cmp);
    years.dedup();
    Some(Path {
        points: years
            .into_iter()
            .map(|y| {
                let w = without.value(y);
                let ratio = if w > 0.0 { with.value(y) / w } else { 1.0 };
                (y, own.value(y) * ratio)
            })
            .collect(),
    })
}

/// The sectors of every base-year good that has rows in `model/end_uses.csv`. Numeric shares
/// are taken as given; `iea:` shares are the IEA base-year shares, rescaled to fill what the
/// numeric ones leave. `good_paths` are the goods' total paths (for `growth = good`).
pub(crate) fn sectors(
    ds: &Dataset,
    goods: &[String],
    scenario: &str,
    base_year: f64,
    good_paths: &[Path],
    notes: &mut Vec<String>,
) -> Result<Vec<Sector>, BaselineError> {
    let mut out = Vec::new();
    for (g, good) in goods.iter().enumerate() {
        let rows: Vec<_> = ds.end_uses.iter().filter(|e| &e.good_id == good).collect();
        if rows.is_empty() {
            continue;
        }
        let mut fixed = 0.0;
        let mut iea = 0.0;
        let mut shares = Vec::new();
        for e in &rows {
            let share = match e.share.strip_prefix("iea:") {
                Some(commodity) => {
                    let v = iea_share(ds, commodity, &e.sector_id, scenario, base_year)
                        .ok_or_else(|| {
                            BaselineError::Options(format!(
                                "model/end_uses.csv:{}: no IEA base-year demand of {commodity} for \
                             sector {}",
                                e.line, e.sector_id
                            ))
                        })?;
                    iea += v;
                    (v, true)
                }
                None => {
                    let v: f64 = e.share.trim().parse().unwrap_or(0.0);
                    fixed += v;
                    (v, false)
                }
            };
            shares.push(share);
        }
        if fixed > 1.0 + 1e-9 || (iea == 0.0 && (fixed - 1.0).abs() > 1e-6) {
            return Err(BaselineError::Options(format!(
                "model/end_uses.csv: the sector shares of {good} sum to {fixed}, not 1"
            )));
        }
        for (e, (share, from_iea)) in rows.iter().zip(shares) {
            let share = if from_iea {
                share / iea * (1.0 - fixed)
            } else {
                share
            };
            let path = if let Some(commodity) = e.growth.strip_prefix("iea:") {
                match sector_path(ds, commodity, &e.sector_id, scenario) {
                    Some(p) => p.relative_to(base_year),
                    None => {
                        notes.push(format!(
                            "{good}/{}: no IEA path for {commodity}; follows the good's total",
                            e.sector_id
                        ));
                        good_paths[g].clone()
                    }
                }
            } else if e.growth == "good" {
                good_paths[g].clone()
            } else {
                Path { points: Vec::new() }
            };
            out.push(Sector {
                good: g,
                id: e.sector_id.clone(),
                share,
                elasticity: e.elasticity,
                path,
            });
        }
    }
    Ok(out)
}

/// Splits the calibrated demand of every good with sectors into sector demands. Returns the
/// market, what drives each demand step, and each step's annual demand at its base price.
pub(crate) fn split_demand(
    market: &Market,
    prices: &[f64],
    sectors: &[Sector],
) -> (Market, Vec<DemandKey>, Vec<f64>) {
    let mut out = market.clone();
    out.demand.clear();
    let mut keys = Vec::new();
    let mut base = Vec::new();
    for d in &market.demand {
        let p0 = prices[market.node(d.region, d.good)];
        let q0 = if d.slope > 0.0 {
            ((d.intercept - p0) / d.slope).max(0.0)
        } else {
            d.capacity.unwrap_or(0.0)
        };
        let mine: Vec<usize> = (0..sectors.len())
            .filter(|&s| sectors[s].good == d.good && sectors[s].share > 0.0)
            .collect();
        if mine.is_empty() || q0 <= 0.0 || p0 <= 0.0 || d.slope <= 0.0 {
            out.demand.push(d.clone());
            keys.push(DemandKey::Good(d.good));
            base.push(q0);
            continue;
        }
        for s in mine {
            let (w, e) = (sectors[s].share, sectors[s].elasticity);
            out.demand.push(DemandStep {
                region: d.region,
                good: d.good,
                intercept: p0 * (1.0 + 1.0 / e),
                slope: p0 / (e * w * q0),
                capacity: d.capacity.map(|c| c * w),
            });
            keys.push(DemandKey::Sector(s));
            base.push(w * q0);
        }
    }
    (out, keys, base)
}
