//! The world model's structure: model regions (countries aggregated by data rules), the goods
//! of each chain and their input coefficients, and base-year quantities by model region.

pub mod base;
pub mod baseline;
mod path;
pub mod regions;
mod sectors;

use serde::Serialize;

use crate::dataset::Dataset;
use crate::dataset::value::Figure;
use crate::metrics::concentration::{ConcentrationError, ConcentrationQuery, concentration};

pub use base::{BaseYearBuild, BaseYearError, build_base_year};
pub use baseline::{Baseline, BaselineError, BaselineOptions, quarter_market_at, run_baseline};
pub use regions::{Region, RegionMap, RuleError};

/// One model region's part of a commodity's output.
#[derive(Debug, Clone, Serialize)]
pub struct RegionShare {
    /// Region id.
    pub region: String,
    /// Quantity in the base unit, from member countries with figures (and, for the rest
    /// region, the source's residual row).
    pub quantity: f64,
    /// Share of the world total (fraction).
    pub share: f64,
    /// Member countries whose figure is withheld or missing.
    pub withheld: Vec<String>,
}

/// Output of one commodity and stage by model region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionalProduction {
    /// Commodity id.
    pub commodity: String,
    /// Stage id.
    pub stage: String,
    /// Data year.
    pub year: i32,
    /// Source id.
    pub source_id: String,
    /// Base unit.
    pub unit: String,
    /// World total (the source's, as in the concentration metrics).
    pub world_total: f64,
    /// Every model region, in map order (zero where nothing is produced).
    pub regions: Vec<RegionShare>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// Aggregates a commodity's output by country (selected as by `concentration`) into model
/// regions. The source's residual row ("Other countries", "Rest of world") goes to the rest
/// region (`*`), since it is made of countries the source does not name.
pub fn production_by_region(
    ds: &Dataset,
    map: &RegionMap,
    query: &ConcentrationQuery,
) -> Result<RegionalProduction, ConcentrationError> {
    let c = concentration(ds, query)?;
    let mut regions: Vec<RegionShare> = map
        .regions
        .iter()
        .map(|r| RegionShare {
            region: r.id.clone(),
            quantity: 0.0,
            share: 0.0,
            withheld: Vec::new(),
        })
        .collect();
    let mut notes = Vec::new();
    for country in &c.countries {
        let Some(r) = map.region_of(&country.iso3) else {
            notes.push(format!("{} is in no model region", country.iso3));
            continue;
        };
        match country.quantity {
            Figure::Exact(v) => regions[r].quantity += v,
            _ => regions[r].withheld.push(country.iso3.clone()),
        }
    }
    let residual = c.residual_share * c.world_total;
    if residual > 0.0 {
        match map.rest() {
            Some(r) => regions[r].quantity += residual,
            None => notes.push(format!(
                "the source's residual ({:.1}% of the total) has no rest-of-world region",
                c.residual_share * 100.0
            )),
        }
    }
    for r in &mut regions {
        r.share = r.quantity / c.world_total;
    }
    notes.extend(c.notes.iter().cloned());
    Ok(RegionalProduction {
        commodity: c.commodity,
        stage: c.stage,
        year: c.year,
        source_id: c.source_id,
        unit: c.unit,
        world_total: c.world_total,
        regions,
        notes,
    })
}

/// Relative size below which a quantity in a cleared run is the solvers' rounding, not a flow:
/// the equilibrium is checked to 1e-9 relative violation, and quantities summed over quarters,
/// sectors or routes carry about 1e-7 of the good's total.
pub const RESIDUE: f64 = 1e-6;
