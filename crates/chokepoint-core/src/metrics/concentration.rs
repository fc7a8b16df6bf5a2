//! Supply concentration: shares by country, top-1 and top-3 share, HHI and the WGI-weighted HHI
//! of the EU JRC 2017 criticality method.
//!
//! Shares are of the world total the source publishes (USGS "World total (rounded)", IEA
//! "Total"), the same denominator USGS uses for its table 5; where a source gives no world row
//! the total is the sum of its rows. Residual rows ("Other countries", "Rest of world") count
//! toward the total but are not one producer (assumption `other_countries_in_hhi`).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::dataset::tables::{EntityKind, Metric, SupplyRow};
use crate::dataset::value::Figure;
use crate::dataset::{Dataset, LookupError};

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcentrationQuery {
    /// Commodity id or name.
    pub commodity: String,
    /// Stage id or name; default: mining if it has data, else the most upstream stage with data.
    pub stage: Option<String>,
    /// Data year; default: assumption `default_year` when it has data, else the latest
    /// non-projected year.
    pub year: Option<i32>,
    /// Source id; default: the highest-priority source with data for the stage and year.
    pub source: Option<String>,
    /// Production (default), capacity or reserves.
    pub metric: Metric,
}

impl ConcentrationQuery {
    /// Production concentration of a commodity with every other choice left to the defaults.
    pub fn production(commodity: &str) -> Self {
        Self {
            commodity: commodity.to_string(),
            stage: None,
            year: None,
            source: None,
            metric: Metric::Production,
        }
    }
}

/// One country's part of the total.
#[derive(Debug, Clone, Serialize)]
pub struct CountryShare {
    /// ISO alpha-3 code.
    pub iso3: String,
    /// Country name.
    pub name: String,
    /// Quantity in `Concentration::unit`, with its status.
    pub quantity: Figure,
    /// Share of the world total (fraction 0–1); absent when the quantity is not a number.
    pub share: Option<f64>,
    /// WGI mean rescaled to 0–10 (10 = worst governance); absent when WGI has no figure.
    pub wgi_scaled: Option<f64>,
}

/// The concentration of one commodity, stage, year and metric in one source.
#[derive(Debug, Clone, Serialize)]
pub struct Concentration {
    /// Commodity id.
    pub commodity: String,
    /// Commodity name.
    pub commodity_name: String,
    /// Stage id.
    pub stage: String,
    /// Data year.
    pub year: i32,
    /// Production, capacity or reserves.
    pub metric: Metric,
    /// Source id of the figures.
    pub source_id: String,
    /// Readable citation of the source.
    pub source: String,
    /// Base unit of the quantities (e.g. `t`).
    pub unit: String,
    /// World total in `unit`.
    pub world_total: f64,
    /// `published` (the source's world row) or `sum_of_rows`.
    pub world_basis: &'static str,
    /// Countries, largest share first; withheld and missing figures last.
    pub countries: Vec<CountryShare>,
    /// Share of the residual rows ("Other countries", "Rest of world").
    pub residual_share: f64,
    /// Largest producer and its share.
    pub top1: Option<(String, f64)>,
    /// Combined share of the three largest producers (fraction).
    pub top3_share: f64,
    /// Top-3 share as the source itself published it, when it did (IEA).
    pub published_top3_share: Option<f64>,
    /// Herfindahl–Hirschman index on the `hhi_scale` (10,000 = one producer).
    pub hhi: f64,
    /// EU JRC 2017 WGI-weighted HHI: Σ s²·WGI_scaled with shares as fractions (0–10).
    pub hhi_wgi: f64,
    /// WGI year used.
    pub wgi_year: i32,
    /// Countries whose figure is withheld or missing (their share is unknown).
    pub withheld: Vec<String>,
    /// Countries without a WGI figure (left out of `hhi_wgi`).
    pub missing_wgi: Vec<String>,
    /// Remarks a reader needs (what was assumed, what is incomplete).
    pub notes: Vec<String>,
}

/// Why a concentration cannot be computed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConcentrationError {
    /// A name the dataset does not know.
    #[error("{0}")]
    Lookup(#[from] LookupError),
    /// No figures for this selection.
    #[error("no {metric} figures for {commodity}{stage}{year}\n  hint: {hint}")]
    NoData {
        /// Commodity id.
        commodity: String,
        /// `" at stage X"` or empty.
        stage: String,
        /// `" in YYYY"` or empty.
        year: String,
        /// Metric name.
        metric: &'static str,
        /// What is available instead.
        hint: String,
    },
    /// The source gives no usable world total (e.g. every figure withheld).
    #[error(
        "{commodity} {stage} {year}: the world total is {status} in {source_id}, so shares \
         cannot be computed\n  hint: `chokepoint data show {commodity}` lists what the source gives"
    )]
    NoTotal {
        /// Commodity id.
        commodity: String,
        /// Stage id.
        stage: String,
        /// Year.
        year: i32,
        /// Source id.
        source_id: String,
        /// `withheld` or `not available`.
        status: &'static str,
    },
}

/// The source a row belongs to for selection: every supplementary fact (`fact:SFnnn`) belongs
/// to the one `supplementary_facts` source, so a table of facts (e.g. uranium mine output by
/// country) is read as one source.
pub fn source_family(source_id: &str) -> &str {
    if source_id.starts_with("fact:") {
        FACTS_SOURCE
    } else {
        source_id
    }
}

/// Source id of the supplementary facts table.
pub const FACTS_SOURCE: &str = "supplementary_facts";

fn is_projection(r: &SupplyRow) -> bool {
    r.case == crate::dataset::tables::Case::ProjectionBaseCase
}

/// Computes the concentration for a query.
pub fn concentration(
    ds: &Dataset,
    q: &ConcentrationQuery,
) -> Result<Concentration, ConcentrationError> {
    let commodity = ds.commodity(&q.commodity)?;
    let cid = commodity.commodity_id.as_str();
    let metric_rows: Vec<&SupplyRow> = ds
        .supply_of(cid)
        .filter(|r| {
            // The IEA's own top-3 share rides along with production, for comparison.
            let wanted = r.metric == q.metric
                || (q.metric == Metric::Production && r.metric == Metric::Top3Share);
            wanted && r.entity_kind != EntityKind::Group
        })
        .collect();
    let no_data = |stage: String, year: String, hint: String| ConcentrationError::NoData {
        commodity: cid.to_string(),
        stage,
        year,
        metric: q.metric.as_str(),
        hint,
    };
    if metric_rows.is_empty() {
        let gaps: Vec<&str> = ds
            .stages_of(cid)
            .iter()
            .map(|s| s.stage_id.as_str())
            .collect();
        return Err(no_data(
            String::new(),
            String::new(),
            format!(
                "the dataset has no {} rows for {cid} (stages known: {}); `chokepoint data \
                 audit` lists every gap",
                q.metric.as_str(),
                gaps.join(", ")
            ),
        ));
    }

    // Stage.
    let stage_id = match &q.stage {
        Some(s) => ds.stage(cid, s)?.stage_id.clone(),
        None => {
            let with_data: BTreeSet<&str> =
                metric_rows.iter().map(|r| r.stage_id.as_str()).collect();
            let stages = ds.stages_of(cid);
            stages
                .iter()
                .find(|s| s.stage_id == "mining" && with_data.contains("mining"))
                .or_else(|| {
                    stages
                        .iter()
                        .find(|s| with_data.contains(s.stage_id.as_str()))
                })
                .map(|s| s.stage_id.clone())
                .unwrap_or_else(|| metric_rows[0].stage_id.clone())
        }
    };
    let stage_rows: Vec<&SupplyRow> = metric_rows
        .iter()
        .copied()
        .filter(|r| r.stage_id == stage_id)
        .collect();
    if stage_rows.is_empty() {
        let have: BTreeSet<&str> = metric_rows.iter().map(|r| r.stage_id.as_str()).collect();
        return Err(no_data(
            format!(" at stage {stage_id}"),
            String::new(),
            format!(
                "stages with {} data: {}",
                q.metric.as_str(),
                have.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }

    // Year.
    let years: BTreeSet<i32> = stage_rows.iter().map(|r| r.year).collect();
    let year = match q.year {
        Some(y) if years.contains(&y) => y,
        Some(y) => {
            let list: Vec<String> = years.iter().map(i32::to_string).collect();
            return Err(LookupError::unknown(
                "year",
                &y.to_string(),
                list.iter().map(String::as_str),
            )
            .into());
        }
        None => {
            let default = ds.assumption("default_year")? as i32;
            if years.contains(&default) {
                default
            } else {
                stage_rows
                    .iter()
                    .filter(|r| !is_projection(r))
                    .map(|r| r.year)
                    .max()
                    .unwrap_or(*years.iter().next_back().unwrap_or(&default))
            }
        }
    };
    let year_rows: Vec<&SupplyRow> = stage_rows
        .iter()
        .copied()
        .filter(|r| r.year == year)
        .collect();

    // Source.
    let sources: BTreeSet<&str> = year_rows
        .iter()
        .map(|r| source_family(&r.source_id))
        .collect();
    let source_id = match &q.source {
        Some(s) if sources.contains(s.as_str()) => s.clone(),
        Some(s) => {
            return Err(LookupError::unknown("source", s, sources.iter().copied()).into());
        }
        None => sources
            .iter()
            .max_by_key(|s| {
                (
                    ds.source(s).map_or(i32::MIN, |x| x.priority),
                    std::cmp::Reverse(**s),
                )
            })
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    let rows: Vec<&SupplyRow> = year_rows
        .into_iter()
        .filter(|r| source_family(&r.source_id) == source_id)
        .collect();
    compute(
        ds,
        commodity.name.as_str(),
        cid,
        &stage_id,
        year,
        q.metric,
        &source_id,
        &rows,
    )
}

#[allow(clippy::too_many_arguments)]
fn compute(
    ds: &Dataset,
    commodity_name: &str,
    cid: &str,
    stage_id: &str,
    year: i32,
    metric: Metric,
    source_id: &str,
    rows: &[&SupplyRow],
) -> Result<Concentration, ConcentrationError> {
    let mut unit = String::new();
    let mut to_base = |r: &SupplyRow| -> Figure {
        let (factor, base) = ds.unit(&r.unit).map_or((1.0, r.unit.as_str()), |u| {
            (u.to_base, u.base_unit.as_str())
        });
        if unit.is_empty() {
            unit = base.to_string();
        }
        match r.figure() {
            Figure::Exact(v) => Figure::Exact(v * factor),
            Figure::AtMost(v) => Figure::AtMost(v * factor),
            Figure::AtLeast(v) => Figure::AtLeast(v * factor),
            other => other,
        }
    };
    let mut notes = Vec::new();
    let mut world: Option<Figure> = None;
    let mut residual = 0.0;
    let mut published_top3 = None;
    let mut country_figs: Vec<(&SupplyRow, Figure)> = Vec::new();
    for r in rows {
        match r.entity_kind {
            EntityKind::World if r.metric == Metric::Top3Share => published_top3 = r.value,
            EntityKind::World => world = Some(to_base(r)),
            EntityKind::Other | EntityKind::Row => {
                if let Some(v) = to_base(r).exact() {
                    residual += v;
                }
            }
            EntityKind::Country => {
                let f = to_base(r);
                country_figs.push((r, f));
            }
            EntityKind::Group | EntityKind::Company => {}
        }
    }
    let sum_exact: f64 = country_figs
        .iter()
        .filter_map(|(_, f)| f.exact())
        .sum::<f64>()
        + residual;
    let (world_total, world_basis) = match world {
        Some(Figure::Exact(v)) if v > 0.0 => (v, "published"),
        Some(Figure::Withheld) => {
            return Err(ConcentrationError::NoTotal {
                commodity: cid.to_string(),
                stage: stage_id.to_string(),
                year,
                source_id: source_id.to_string(),
                status: "withheld",
            });
        }
        Some(_) | None if sum_exact > 0.0 => {
            notes.push("the source gives no world total: shares are of the sum of its rows".into());
            (sum_exact, "sum_of_rows")
        }
        _ => {
            return Err(ConcentrationError::NoTotal {
                commodity: cid.to_string(),
                stage: stage_id.to_string(),
                year,
                source_id: source_id.to_string(),
                status: "not available",
            });
        }
    };

    let wgi_year = ds.assumption("wgi_year")? as i32;
    let worst = ds.assumption("wgi_worst")?;
    let best = ds.assumption("wgi_best")?;
    let scaled_max = ds.assumption("wgi_scaled_max")?;
    let hhi_scale = ds.assumption("hhi_scale")?;
    let residual_is_producer = ds.assumption("other_countries_in_hhi")? != 0.0;

    let mut countries: Vec<CountryShare> = country_figs
        .into_iter()
        .map(|(r, quantity)| {
            let wgi = ds
                .wgi_mean(&r.entity, wgi_year)
                .map(|w| scaled_max * (best - w) / (best - worst));
            CountryShare {
                iso3: r.entity.clone(),
                name: ds.entity_name(&r.entity).to_string(),
                share: quantity.exact().map(|v| v / world_total),
                quantity,
                wgi_scaled: wgi,
            }
        })
        .collect();
    countries.sort_by(|a, b| {
        b.share
            .unwrap_or(-1.0)
            .total_cmp(&a.share.unwrap_or(-1.0))
            .then_with(|| a.iso3.cmp(&b.iso3))
    });

    let shares: Vec<f64> = countries.iter().filter_map(|c| c.share).collect();
    let residual_share = residual / world_total;
    let mut hhi_shares = shares.clone();
    if residual_is_producer && residual_share > 0.0 {
        hhi_shares.push(residual_share);
    }
    let hhi = hhi_shares.iter().map(|s| s * s).sum::<f64>() * hhi_scale;
    let hhi_wgi = countries
        .iter()
        .filter_map(|c| Some(c.share? * c.share? * c.wgi_scaled?))
        .sum::<f64>();
    let top3_share = shares.iter().take(3).sum::<f64>();
    let top1 = countries
        .first()
        .and_then(|c| c.share.map(|s| (c.iso3.clone(), s)));
    let withheld: Vec<String> = countries
        .iter()
        .filter(|c| c.share.is_none())
        .map(|c| c.iso3.clone())
        .collect();
    let missing_wgi: Vec<String> = countries
        .iter()
        .filter(|c| c.share.is_some() && c.wgi_scaled.is_none())
        .map(|c| c.iso3.clone())
        .collect();
    if !withheld.is_empty() {
        notes.push(format!(
            "figures not given for {}: their shares are unknown, so HHI is a lower bound",
            withheld.join(", ")
        ));
    }
    if residual_share > 0.0 && !residual_is_producer {
        notes.push(format!(
            "{:.1}% of the total is a residual of unnamed producers, left out of HHI \
             (assumption other_countries_in_hhi)",
            residual_share * 100.0
        ));
    }
    if !missing_wgi.is_empty() {
        notes.push(format!(
            "no WGI {wgi_year} figure for {}: left out of the WGI-weighted HHI",
            missing_wgi.join(", ")
        ));
    }
    Ok(Concentration {
        commodity: cid.to_string(),
        commodity_name: commodity_name.to_string(),
        stage: stage_id.to_string(),
        year,
        metric,
        source_id: source_id.to_string(),
        source: ds.cite(source_id),
        unit,
        world_total,
        world_basis,
        countries,
        residual_share,
        top1,
        top3_share,
        published_top3_share: published_top3,
        hhi,
        hhi_wgi,
        wgi_year,
        withheld,
        missing_wgi,
        notes,
    })
}
