//! The audit: every named assumption, every figure taken from a secondary source, and every gap
//! in the data (withheld, missing, bounded or textual values; commodities, stages and sectors
//! without data; producers without governance figures).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::dataset::Dataset;
use crate::dataset::value::Status;
use crate::metrics::t5::{T5Check, t5_crosscheck};

/// A named assumption as the engine uses it.
#[derive(Debug, Clone, Serialize)]
pub struct AssumptionEntry {
    /// Id the engine reads.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Value, if numeric.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// What it applies to.
    pub applies_to: String,
    /// Why.
    pub rationale: String,
    /// Published reference.
    pub reference: String,
}

/// A supply figure that comes from the supplementary facts rather than a statistical table.
#[derive(Debug, Clone, Serialize)]
pub struct SecondaryFigure {
    /// Commodity id.
    pub commodity: String,
    /// Stage id.
    pub stage: String,
    /// Entity.
    pub entity: String,
    /// Year.
    pub year: i32,
    /// Metric.
    pub metric: String,
    /// Value.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// `fact:SFnnn`.
    pub source_id: String,
    /// Citation.
    pub source: String,
}

/// One gap in the data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    /// Kind: `withheld`, `na`, `lt`, `gt`, `text`, `no_supply_data`, `no_stage_data`,
    /// `no_demand_data`, `no_wgi`.
    pub kind: String,
    /// Table file.
    pub table: String,
    /// Commodity id (empty when not about one).
    pub commodity: String,
    /// Stage, sector or series.
    pub detail: String,
    /// Entity (country) when about one.
    pub entity: String,
    /// Year or period.
    pub period: String,
    /// The source's original cell, when there was one.
    pub raw_value: String,
    /// Line in the table (0 when not about one row).
    pub line: u32,
}

/// Everything a reviewer needs to judge the dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Where the dataset came from.
    pub origin: String,
    /// Every named assumption.
    pub assumptions: Vec<AssumptionEntry>,
    /// Supply figures taken from secondary sources.
    pub secondary_figures: Vec<SecondaryFigure>,
    /// Every gap.
    pub gaps: Vec<Gap>,
    /// Number of gaps by kind.
    pub gap_counts: BTreeMap<String, usize>,
    /// The USGS table-5 cross-check.
    pub t5_crosscheck: Vec<T5Check>,
}

fn status_gap(status: Status) -> Option<&'static str> {
    match status {
        Status::Reported | Status::Estimated | Status::Zero => None,
        s => Some(s.as_str()),
    }
}

/// Builds the audit of a dataset.
pub fn audit(ds: &Dataset) -> Audit {
    let mut gaps = Vec::new();
    let row_gap = |kind: &str, table: &str, commodity: &str, detail: &str| Gap {
        kind: kind.to_string(),
        table: table.to_string(),
        commodity: commodity.to_string(),
        detail: detail.to_string(),
        entity: String::new(),
        period: String::new(),
        raw_value: String::new(),
        line: 0,
    };
    use crate::dataset::tables::*;
    for r in &ds.supply {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                entity: r.entity.clone(),
                period: r.year.to_string(),
                raw_value: r.raw_value.clone(),
                line: r.line,
                ..row_gap(
                    kind,
                    SupplyRow::FILE,
                    &r.commodity_id,
                    &format!("{} {}", r.stage_id, r.metric.as_str()),
                )
            });
        }
    }
    for r in &ds.demand {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                period: r.year.to_string(),
                line: r.line,
                ..row_gap(kind, DemandRow::FILE, &r.commodity_id, &r.sector_id)
            });
        }
    }
    for r in &ds.prices {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                period: r.period.clone(),
                raw_value: r.raw_value.clone(),
                line: r.line,
                ..row_gap(kind, PriceRow::FILE, &r.commodity_id, &r.series)
            });
        }
    }
    for r in &ds.us_salient {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                entity: "USA".to_string(),
                period: r.year.to_string(),
                raw_value: r.raw_value.clone(),
                line: r.line,
                ..row_gap(kind, SalientRow::FILE, &r.commodity_id, &r.series)
            });
        }
    }
    for r in &ds.import_reliance {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                entity: r.importer.clone(),
                period: r.year.to_string(),
                raw_value: r.raw_value.clone(),
                line: r.line,
                ..row_gap(
                    kind,
                    ImportRelianceRow::FILE,
                    &r.commodity_id,
                    "net import reliance",
                )
            });
        }
    }
    for r in &ds.usgs_t5 {
        if let Some(kind) = status_gap(r.status) {
            gaps.push(Gap {
                period: r.year.to_string(),
                raw_value: r.raw_leading_pct.clone(),
                line: r.line,
                ..row_gap(kind, T5Row::FILE, &r.commodity_id, &r.critical_mineral)
            });
        }
    }

    // Commodities and stages without supply data.
    let with_data: BTreeSet<(&str, &str)> = ds
        .supply
        .iter()
        .filter(|r| r.status.has_value())
        .map(|r| (r.commodity_id.as_str(), r.stage_id.as_str()))
        .collect();
    let commodities_with_data: BTreeSet<&str> = with_data.iter().map(|(c, _)| *c).collect();
    for c in &ds.commodities {
        if !commodities_with_data.contains(c.commodity_id.as_str()) {
            gaps.push(row_gap(
                "no_supply_data",
                SupplyRow::FILE,
                &c.commodity_id,
                "",
            ));
        }
    }
    for s in &ds.stages {
        if commodities_with_data.contains(s.commodity_id.as_str())
            && !with_data.contains(&(s.commodity_id.as_str(), s.stage_id.as_str()))
        {
            gaps.push(row_gap(
                "no_stage_data",
                SupplyRow::FILE,
                &s.commodity_id,
                &s.stage_id,
            ));
        }
    }
    // Sectors without demand data.
    let sectors_with_data: BTreeSet<&str> =
        ds.demand.iter().map(|r| r.sector_id.as_str()).collect();
    for s in &ds.sectors {
        if !sectors_with_data.contains(s.sector_id.as_str()) {
            gaps.push(row_gap("no_demand_data", DemandRow::FILE, "", &s.sector_id));
        }
    }
    // Producers without governance figures.
    if let Ok(year) = ds.assumption("wgi_year") {
        let producers: BTreeSet<&str> = ds
            .supply
            .iter()
            .filter(|r| r.entity_kind == EntityKind::Country)
            .map(|r| r.entity.as_str())
            .collect();
        for p in producers {
            if ds.wgi_mean(p, year as i32).is_none() {
                gaps.push(Gap {
                    entity: p.to_string(),
                    period: (year as i32).to_string(),
                    ..row_gap("no_wgi", GovernanceRow::FILE, "", "WGI mean")
                });
            }
        }
    }
    gaps.sort();
    let mut gap_counts = BTreeMap::new();
    for g in &gaps {
        *gap_counts.entry(g.kind.clone()).or_insert(0) += 1;
    }

    let mut assumptions: Vec<AssumptionEntry> = ds
        .assumptions
        .iter()
        .map(|a| AssumptionEntry {
            id: a.assumption_id.clone(),
            name: a.name.clone(),
            value: a.value,
            unit: a.unit.clone(),
            applies_to: a.applies_to.clone(),
            rationale: a.rationale.clone(),
            reference: a.reference.clone(),
        })
        .collect();
    // Model-table rows that are named assumptions rather than published figures.
    for x in ds
        .industry_accounts
        .iter()
        .filter(|x| x.source == "chokepoint_assumption")
    {
        for (column, value) in [
            ("value_added", Some(x.value_added)),
            ("operating_surplus", x.operating_surplus),
        ] {
            assumptions.push(AssumptionEntry {
                id: format!("{}:{} {column}", IndustryAccount::FILE, x.line),
                name: format!("{} {}, {} {}", x.region, x.industry, column, x.year),
                value,
                unit: x.unit.clone(),
                applies_to: "chokepoint criticality (USGS method: economic vulnerability)".into(),
                rationale: x.note.clone(),
                reference: "model/criticality_usgs.md".into(),
            });
        }
    }
    let secondary_figures = ds
        .supply
        .iter()
        .filter(|r| r.source_id.starts_with("fact:"))
        .map(|r| SecondaryFigure {
            commodity: r.commodity_id.clone(),
            stage: r.stage_id.clone(),
            entity: r.entity.clone(),
            year: r.year,
            metric: r.metric.as_str().to_string(),
            value: r.value,
            unit: r.unit.clone(),
            source_id: r.source_id.clone(),
            source: ds.cite(&r.source_id),
        })
        .collect();
    Audit {
        origin: ds.origin.to_string(),
        assumptions,
        secondary_figures,
        gaps,
        gap_counts,
        t5_crosscheck: t5_crosscheck(ds),
    }
}
