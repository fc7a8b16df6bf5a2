//! The base year of the world model, assembled from the dataset by the rules of
//! `model/base_year.csv`, ready for calibration (`chokepoint_equilibrium::calibrate`).
//!
//! Per good: base output by model region from a supply table (primary supply, or processing
//! capacity when the good's inputs are also in the base year); processing input use from the
//! input coefficients; world final consumption = output − processing use (secondary supply
//! fills a deficit where the row says `fill`); consumption placed by the row's rule; a
//! reference price; elasticities; routes between every pair of model regions at a cost share
//! of the price (assumption `model_transport_cost_share`).

use std::collections::HashMap;

use chokepoint_equilibrium::{BaseNode, BaseYear, Process, Route};

use crate::dataset::Dataset;
use crate::dataset::tables::{BaseYearSpec, Metric};
use crate::metrics::concentration::{ConcentrationQuery, FACTS_SOURCE};

use super::{RegionMap, production_by_region};

/// Where a good's final consumption goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumptionRule {
    /// In proportion to each region's output of the good.
    WhereProduced,
    /// Percent shares of named region sets (a set split by output within it); `None` is `*`,
    /// every region not named elsewhere.
    Shares(Vec<(Option<Vec<String>>, f64)>),
}

/// Where a good's base output comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpec {
    /// A supply table of the dataset: `COMMODITY/STAGE/YEAR/SOURCE` (production), or with a
    /// fifth part `/capacity` for a capacity table (conversion, enrichment).
    Supply {
        /// Commodity id.
        commodity: String,
        /// Stage id.
        stage: String,
        /// Data year.
        year: i32,
        /// Source id.
        source: String,
        /// Production or capacity.
        metric: Metric,
    },
    /// Rows of `model/plants.csv` (plant capacities by model region, each sourced): the
    /// good's own (`plants`) or another good's (`plants:GOOD`, e.g. LEU made at the
    /// enrichment plants).
    Plants(Option<String>),
}

/// Parses `COMMODITY/STAGE/YEAR/SOURCE[/capacity]` or `plants`.
pub fn parse_output(spec: &str) -> Result<OutputSpec, String> {
    match spec.trim() {
        "plants" => return Ok(OutputSpec::Plants(None)),
        other => {
            if let Some(good) = other.strip_prefix("plants:") {
                return Ok(OutputSpec::Plants(Some(good.trim().to_string())));
            }
        }
    }
    let parts: Vec<&str> = spec.split('/').map(str::trim).collect();
    let (c, s, y, src, metric) = match parts[..] {
        [c, s, y, src] => (c, s, y, src, Metric::Production),
        [c, s, y, src, "capacity"] => (c, s, y, src, Metric::Capacity),
        [.., m] if parts.len() == 5 => {
            return Err(format!(
                "metric '{m}' is not 'capacity' (leave it out for production)"
            ));
        }
        _ => {
            return Err(format!(
                "'{spec}' is not COMMODITY/STAGE/YEAR/SOURCE[/capacity] or plants (e.g. \
                 copper/mining/2024/usgs_mcs2025_world)"
            ));
        }
    };
    let year = y
        .parse::<i32>()
        .map_err(|_| format!("year '{y}' is not a whole number"))?;
    Ok(OutputSpec::Supply {
        commodity: c.to_string(),
        stage: s.to_string(),
        year,
        source: src.to_string(),
        metric,
    })
}

/// Parses `where_produced` or `shares:CHN=58;DEU+FRA=10;*=32` (percent, summing to 100).
pub fn parse_consumption(rule: &str) -> Result<ConsumptionRule, String> {
    let rule = rule.trim();
    if rule == "where_produced" {
        return Ok(ConsumptionRule::WhereProduced);
    }
    let Some(body) = rule.strip_prefix("shares:") else {
        return Err(format!(
            "'{rule}' is neither 'where_produced' nor 'shares:REGION=PCT;...;*=PCT'"
        ));
    };
    let mut shares = Vec::new();
    let mut total = 0.0;
    for item in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (who, pct) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not REGION=PCT"))?;
        let pct: f64 = pct
            .trim()
            .parse()
            .map_err(|_| format!("share '{pct}' of '{who}' is not a number"))?;
        if !(pct.is_finite() && pct >= 0.0) {
            return Err(format!("share {pct} of '{who}' must be ≥ 0"));
        }
        total += pct;
        let who = who.trim();
        shares.push((
            (who != "*").then(|| who.split('+').map(|r| r.trim().to_string()).collect()),
            pct,
        ));
    }
    if (total - 100.0).abs() > 1e-6 {
        return Err(format!("shares sum to {total}, not 100"));
    }
    Ok(ConsumptionRule::Shares(shares))
}

/// A base year assembled from the data, and what was added to balance it.
#[derive(Debug, Clone)]
pub struct BaseYearBuild {
    /// The base year, ready for calibration.
    pub base: BaseYear,
    /// Secondary supply added per good (units), where output did not cover processing use.
    pub secondary: Vec<(String, f64)>,
    /// Remarks (e.g. goods whose inputs are not in the base year).
    pub notes: Vec<String>,
}

/// Why a base year cannot be assembled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BaseYearError {
    /// A row of `model/base_year.csv` cannot be used.
    #[error("model/base_year.csv:{line}: {message}\n  hint: {hint}")]
    Spec {
        /// Line of the row.
        line: u32,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The model regions are not valid.
    #[error("model regions: {0}")]
    Regions(String),
}

/// Assembles the base year of every good listed in `model/base_year.csv`.
// Goods × regions matrices are indexed side by side throughout.
#[allow(clippy::needless_range_loop)]
pub fn build_base_year(ds: &Dataset, map: &RegionMap) -> Result<BaseYearBuild, BaseYearError> {
    let nr = map.regions.len();
    let specs: Vec<&BaseYearSpec> = ds.base_year.iter().collect();
    let ng = specs.len();
    let index: HashMap<&str, usize> = specs
        .iter()
        .enumerate()
        .map(|(g, s)| (s.good_id.as_str(), g))
        .collect();
    let spec_err = |s: &BaseYearSpec, message: String, hint: &str| BaseYearError::Spec {
        line: s.line,
        message,
        hint: hint.to_string(),
    };
    let transport_share = ds
        .assumption("model_transport_cost_share")
        .map_err(|e| BaseYearError::Regions(e.to_string()))?;

    // Output by model region.
    let mut output = vec![vec![0.0; nr]; ng];
    for (g, s) in specs.iter().enumerate() {
        let spec = parse_output(&s.output).map_err(|m| {
            spec_err(
                s,
                m,
                "write the output as COMMODITY/STAGE/YEAR/SOURCE[/capacity] or plants",
            )
        })?;
        match spec {
            OutputSpec::Plants(of) => {
                let of = of.as_deref().unwrap_or(&s.good_id);
                let plants: Vec<_> = ds.plants.iter().filter(|p| p.good_id == of).collect();
                if plants.is_empty() {
                    return Err(spec_err(
                        s,
                        format!("model/plants.csv has no row for {of}"),
                        "add the good's plant capacities to model/plants.csv",
                    ));
                }
                for p in plants {
                    let r = map.resolve(&p.region_id).ok_or_else(|| {
                        spec_err(
                            s,
                            format!(
                                "plant place '{}' is neither a model region nor a country",
                                p.region_id
                            ),
                            "use region ids of model/regions.csv or ISO3 country codes",
                        )
                    })?;
                    output[g][r] += p.capacity * s.output_factor;
                }
            }
            OutputSpec::Supply {
                commodity,
                stage,
                year,
                source,
                metric,
            } => {
                let query = ConcentrationQuery {
                    commodity,
                    stage: Some(stage),
                    year: Some(year),
                    source: Some(source),
                    metric,
                };
                let by_region = production_by_region(ds, map, &query).map_err(|e| {
                    spec_err(
                        s,
                        e.to_string().lines().next().unwrap_or_default().to_string(),
                        "`chokepoint data show COMMODITY` lists the stages, years and sources \
                         with data",
                    )
                })?;
                for (r, share) in by_region.regions.iter().enumerate() {
                    output[g][r] = share.quantity * s.output_factor;
                }
            }
        }
    }

    // Processing: a good whose inputs are all in the base year is made by processes with its
    // base output as capacity; otherwise its output is primary supply.
    let mut notes = Vec::new();
    let mut processes = Vec::new();
    let mut processed = vec![false; ng];
    for (g, s) in specs.iter().enumerate() {
        let links: Vec<_> = ds
            .inputs
            .iter()
            .filter(|i| i.output_good == s.good_id)
            .collect();
        if links.is_empty() {
            continue;
        }
        let inputs: Option<Vec<(usize, f64)>> = links
            .iter()
            .map(|i| {
                index
                    .get(i.input_good.as_str())
                    .map(|&k| (k, i.coefficient))
            })
            .collect();
        let Some(inputs) = inputs else {
            notes.push(format!(
                "{}: its inputs are not all in the base year; calibrated as primary supply",
                s.good_id
            ));
            continue;
        };
        processed[g] = true;
        for r in 0..nr {
            if output[g][r] > 0.0 {
                processes.push(Process {
                    name: format!("{} in {}", s.good_id, map.regions[r].id),
                    region: r,
                    output: g,
                    inputs: inputs.clone(),
                    cost: 0.0,
                    capacity: Some(output[g][r]),
                });
            }
        }
    }
    let mut production = vec![vec![0.0; nr]; ng];
    for g in 0..ng {
        if !processed[g] {
            production[g] = output[g].clone();
        }
    }
    let mut input_use = vec![vec![0.0; nr]; ng];
    for p in &processes {
        let cap = p.capacity.unwrap_or(0.0);
        for &(k, c) in &p.inputs {
            input_use[k][p.region] += c * cap;
        }
    }

    // World final consumption, secondary supply where the row allows it.
    let mut secondary = Vec::new();
    let mut final_use = vec![0.0; ng];
    for (g, s) in specs.iter().enumerate() {
        let made: f64 = output[g].iter().sum();
        let used: f64 = input_use[g].iter().sum();
        let mut f = made - used;
        if f < -1e-9 * made.max(used).max(1.0) {
            if s.secondary.trim() != "fill" {
                return Err(spec_err(
                    s,
                    format!(
                        "processing uses {used:.0} of {} but only {made:.0} is produced",
                        s.good_id
                    ),
                    "set secondary = fill to let secondary supply cover the gap, or check the \
                     output years and sources of this good and its users",
                ));
            }
            let gap = -f;
            for r in 0..nr {
                production[g][r] += gap * input_use[g][r] / used;
            }
            secondary.push((s.good_id.clone(), gap));
            f = 0.0;
        }
        final_use[g] = f.max(0.0);
    }

    // Consumption by region.
    let mut consumption = vec![vec![0.0; nr]; ng];
    for (g, s) in specs.iter().enumerate() {
        let rule = parse_consumption(&s.consumption)
            .map_err(|m| spec_err(s, m, "see data/SCHEMA.md, model/base_year.csv"))?;
        // Split proxies: each region's output of the good (processing output for processed
        // goods, primary supply including any secondary supply otherwise).
        let weight: &[f64] = if processed[g] {
            &output[g]
        } else {
            &production[g]
        };
        let spread = |regions: &[usize], amount: f64, out: &mut [f64]| {
            let total: f64 = regions.iter().map(|&r| weight[r]).sum();
            for &r in regions {
                out[r] += if total > 0.0 {
                    amount * weight[r] / total
                } else {
                    amount / regions.len() as f64
                };
            }
        };
        match rule {
            ConsumptionRule::WhereProduced => {
                let all: Vec<usize> = (0..nr).collect();
                spread(&all, final_use[g], &mut consumption[g]);
            }
            ConsumptionRule::Shares(shares) => {
                let mut named: Vec<usize> = Vec::new();
                let mut sets: Vec<(Option<Vec<usize>>, f64)> = Vec::new();
                for (who, pct) in shares {
                    let set = match who {
                        None => None,
                        Some(ids) => {
                            let mut set = Vec::new();
                            for id in ids {
                                let r = map.resolve(&id).ok_or_else(|| {
                                    spec_err(
                                        s,
                                        format!("'{id}' is neither a model region nor a country"),
                                        "use region ids of model/regions.csv or ISO3 country codes",
                                    )
                                })?;
                                set.push(r);
                            }
                            named.extend(&set);
                            Some(set)
                        }
                    };
                    sets.push((set, pct));
                }
                for (set, pct) in sets {
                    let regions =
                        set.unwrap_or_else(|| (0..nr).filter(|r| !named.contains(r)).collect());
                    spread(&regions, final_use[g] * pct / 100.0, &mut consumption[g]);
                }
            }
        }
    }

    let mut nodes = Vec::new();
    for (g, s) in specs.iter().enumerate() {
        for r in 0..nr {
            if production[g][r] > 0.0 || consumption[g][r] > 0.0 {
                nodes.push(BaseNode {
                    region: r,
                    good: g,
                    production: production[g][r],
                    consumption: consumption[g][r],
                    supply_elasticity: s.supply_elasticity,
                    demand_elasticity: s.demand_elasticity,
                });
            }
        }
    }
    let mut routes = Vec::new();
    for (g, s) in specs.iter().enumerate() {
        for from in 0..nr {
            for to in 0..nr {
                if from != to {
                    routes.push(Route {
                        from,
                        to,
                        good: g,
                        cost: transport_share * s.price,
                        tariff: 0.0,
                        capacity: None,
                        banned: false,
                    });
                }
            }
        }
    }
    Ok(BaseYearBuild {
        base: BaseYear {
            regions: map.regions.iter().map(|r| r.id.clone()).collect(),
            goods: specs.iter().map(|s| s.good_id.clone()).collect(),
            prices: specs.iter().map(|s| s.price).collect(),
            nodes,
            routes,
            processes,
        },
        secondary,
        notes,
    })
}

/// Whether a source id in an output spec is known (a source of `sources.csv` or the facts).
pub(crate) fn known_source(ds: &Dataset, id: &str) -> bool {
    id == FACTS_SOURCE || ds.source(id).is_some()
}
