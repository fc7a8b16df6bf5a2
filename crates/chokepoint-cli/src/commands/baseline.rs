//! `chokepoint baseline [--to YEAR] [--scenario S] [--out DIR]`: the calibrated base year run
//! quarter by quarter, demand along an IEA scenario, capacity along the IEA supply projections.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::world::{BaselineOptions, RegionMap, run_baseline};
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json, qty, table};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Last year to run (through Q4).
    #[arg(long, default_value_t = 2040)]
    to: i32,
    /// Demand path: an IEA scenario, steps (Stated Policies), aps (Announced Pledges) or nze
    /// (Net Zero), or seed (the seed article's copper and storage-lithium figures on STEPS,
    /// data/model/demand_overrides.csv).
    #[arg(long, default_value = "steps")]
    scenario: String,
    /// Write every quarter, region and good to DIR/baseline.csv and DIR/baseline.parquet,
    /// every quarter, region, good and end-use sector to DIR/sectors.csv, every bilateral
    /// flow to DIR/flows.csv, and the solve
    /// status of every quarter to DIR/periods.csv.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct YearGood {
    year: String,
    good: String,
    /// Volume-weighted mean price over regions and quarters.
    price: f64,
    production: f64,
    consumption: f64,
    shortfall: f64,
}

#[derive(Serialize)]
struct Summary {
    scenario: String,
    quarters: usize,
    optimal_quarters: usize,
    max_violation: f64,
    years: Vec<YearGood>,
    files: Vec<String>,
    notes: Vec<String>,
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let map =
        RegionMap::from_dataset(ds).map_err(|e| CliError::User(format!("model regions: {e:?}")))?;
    let options = BaselineOptions {
        to_year: args.to,
        scenario: args.scenario.clone(),
    };
    let b = run_baseline(ds, &map, &options).map_err(|e| CliError::User(e.to_string()))?;
    let mut files = Vec::new();
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("baseline.csv");
        write_csv(&path, &b.rows)?;
        files.push(path.display().to_string());
        let path = dir.join("baseline.parquet");
        crate::parquet_out::write_baseline(&path, &b.rows)
            .map_err(|e| CliError::Other(anyhow::Error::new(e)))?;
        files.push(path.display().to_string());
        for (name, written) in [
            (
                "sectors.csv",
                write_csv(&dir.join("sectors.csv"), &b.sector_rows),
            ),
            (
                "periods.csv",
                write_csv(&dir.join("periods.csv"), &b.periods),
            ),
        ] {
            written?;
            files.push(dir.join(name).display().to_string());
        }
    }
    let mut acc: BTreeMap<(String, String), [f64; 5]> = BTreeMap::new();
    for r in &b.rows {
        let e = acc
            .entry((r.period[..4].to_string(), r.good.clone()))
            .or_default();
        e[1] += r.production;
        e[2] += r.consumption;
        e[3] += r.shortfall;
        if let Some(p) = r.price {
            let v = r.production + r.consumption;
            e[0] += p * v;
            e[4] += v;
        }
    }
    let years: Vec<YearGood> = acc
        .into_iter()
        .map(|((year, good), e)| YearGood {
            year,
            good,
            price: if e[4] > 0.0 { e[0] / e[4] } else { 0.0 },
            production: e[1],
            consumption: e[2],
            shortfall: e[3],
        })
        .collect();
    let summary = Summary {
        scenario: b.scenario.clone(),
        quarters: b.periods.len(),
        optimal_quarters: b
            .periods
            .iter()
            .filter(|p| p.status == chokepoint_equilibrium::SolveStatus::Optimal)
            .count(),
        max_violation: b
            .periods
            .iter()
            .map(|p| p.max_violation)
            .fold(0.0, f64::max),
        years,
        files,
        notes: b.notes.clone(),
    };
    if json {
        return print_json(&summary);
    }
    outln!(
        "baseline ({}): {} quarters, {} cleared, max violation {:.1e}",
        summary.scenario,
        summary.quarters,
        summary.optimal_quarters,
        summary.max_violation
    );
    let mut t = table([
        "year",
        "good",
        "price",
        "production",
        "consumption",
        "shortfall",
    ]);
    for y in summary
        .years
        .iter()
        .filter(|y| y.year.ends_with('0') || y.year.ends_with('5'))
    {
        t.add_row(vec![
            y.year.clone(),
            y.good.clone(),
            qty(y.price),
            qty(y.production),
            qty(y.consumption),
            qty(y.shortfall),
        ]);
    }
    outln!("{t}");
    outln!(
        "(years ending in 0 and 5; every year with --json, every quarter and region with --out DIR)"
    );
    for f in &summary.files {
        outln!("wrote {f}");
    }
    for n in &summary.notes {
        outln!("note: {n}");
    }
    Ok(())
}

/// Writes rows as CSV with a header from their field names.
fn write_csv<T: Serialize>(path: &std::path::Path, rows: &[T]) -> Result<(), CliError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| CliError::Other(e.into()))?;
    for r in rows {
        w.serialize(r).map_err(|e| CliError::Other(e.into()))?;
    }
    w.flush()?;
    Ok(())
}
