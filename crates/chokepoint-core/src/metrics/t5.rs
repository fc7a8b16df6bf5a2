//! Cross-check of the concentration figures against USGS MCS 2025 table 5, which publishes the
//! leading producing country of 31 critical minerals and its percent of world production.

use serde::Serialize;

use crate::dataset::Dataset;
use crate::dataset::tables::Metric;

use super::concentration::{ConcentrationQuery, concentration};

/// The source whose country tables table 5 summarises.
pub const USGS_WORLD_SOURCE: &str = "usgs_mcs2025_world";

/// How one table-5 row compares with the dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum T5Outcome {
    /// Same leading country, same rounded percent, same world total.
    Agrees,
    /// Neither USGS nor the dataset has figures (e.g. withheld germanium).
    BothUnavailable,
    /// Something differs; the text says what.
    Disagrees(String),
}

/// One row of the cross-check.
#[derive(Debug, Clone, Serialize)]
pub struct T5Check {
    /// USGS name of the mineral.
    pub critical_mineral: String,
    /// Commodity id it maps to.
    pub commodity: String,
    /// Stage id it maps to.
    pub stage: String,
    /// Leading country per USGS.
    pub usgs_leading: String,
    /// Its percent of world production per USGS.
    pub usgs_pct: Option<f64>,
    /// Leading country per the dataset.
    pub leading: Option<String>,
    /// Its percent per the dataset (unrounded).
    pub pct: Option<f64>,
    /// The comparison.
    pub outcome: T5Outcome,
}

/// Compares every row of table 5 with the concentration computed from the country tables.
pub fn t5_crosscheck(ds: &Dataset) -> Vec<T5Check> {
    ds.usgs_t5
        .iter()
        .map(|row| {
            let query = ConcentrationQuery {
                commodity: row.commodity_id.clone(),
                stage: Some(row.stage_id.clone()),
                year: Some(row.year),
                source: Some(USGS_WORLD_SOURCE.to_string()),
                metric: Metric::Production,
            };
            let result = if row.commodity_id.is_empty() {
                None
            } else {
                concentration(ds, &query).ok()
            };
            let leading = result.as_ref().and_then(|c| c.top1.clone());
            let outcome = match (row.leading_pct, &leading, &result) {
                (None, None, _) => T5Outcome::BothUnavailable,
                (None, Some((iso, _)), _) => T5Outcome::Disagrees(format!(
                    "USGS gives no leading share but the dataset finds {iso}"
                )),
                (Some(_), None, _) | (Some(_), _, None) => T5Outcome::Disagrees(
                    "USGS gives a leading share but the dataset cannot compute one".into(),
                ),
                (Some(pct), Some((iso, share)), Some(c)) => {
                    let mut problems = Vec::new();
                    if *iso != row.leading_entity {
                        problems.push(format!("leader {iso} vs USGS {}", row.leading_entity));
                    }
                    // USGS rounds to whole percent: agree when the unrounded share rounds to it.
                    if (share * 100.0 - pct).abs() > 0.5 + 1e-9 {
                        problems.push(format!("share {:.2}% vs USGS {pct}%", share * 100.0));
                    }
                    if let Some(world) = row
                        .world_prod
                        .and_then(|w| ds.to_base(w, &row.unit).map(|(v, _)| v))
                        && (c.world_total - world).abs() > 1e-6 * world.max(1.0)
                    {
                        problems.push(format!("world total {} vs USGS {world}", c.world_total));
                    }
                    if problems.is_empty() {
                        T5Outcome::Agrees
                    } else {
                        T5Outcome::Disagrees(problems.join("; "))
                    }
                }
            };
            T5Check {
                critical_mineral: row.critical_mineral.clone(),
                commodity: row.commodity_id.clone(),
                stage: row.stage_id.clone(),
                usgs_leading: row.leading_entity.clone(),
                usgs_pct: row.leading_pct,
                leading: leading.as_ref().map(|(iso, _)| iso.clone()),
                pct: leading.as_ref().map(|(_, s)| s * 100.0),
                outcome,
            }
        })
        .collect()
}
