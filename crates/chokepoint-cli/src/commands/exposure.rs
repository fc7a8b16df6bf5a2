//! `chokepoint exposure REGION`: where a region's (a sector's) inputs were mined, refined and
//! made, traced through the cleared flows of the baseline and, with a scenario, of the scenario.

use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::exposure::{Flows, Trace, query};
use clap::Args as ClapArgs;
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, pct, print_json, qty};

/// Arguments of `chokepoint exposure`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// The consumer's region (a model region, or a country: its region).
    region: String,
    /// One end-use sector (default: all final consumption).
    #[arg(long)]
    sector: Option<String>,
    /// One good (default: every good the consumer uses).
    #[arg(long)]
    good: Option<String>,
    /// Trace the scenario's flows beside the baseline's.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Year traced (default: the scenario's last year, or the first year after the base year).
    #[arg(long)]
    year: Option<i32>,
}

#[derive(Serialize)]
struct Report {
    region: String,
    sector: Option<String>,
    year: i32,
    baseline: Vec<Trace>,
    scenario: Option<Vec<Trace>>,
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let user = |e: String| CliError::User(e);
    let (scenario, prepared, base_year) = super::run::load_optional(ds, args.scenario.as_deref())?;
    let year = super::run::year_to_use(args.year, scenario.as_ref(), base_year)?;
    let w = &prepared.world;
    let baseline = prepared
        .run(ds, year, &[], None)
        .map_err(|e| user(e.to_string()))?;
    let trace = |run: &chokepoint_core::world::Baseline| -> Result<Vec<Trace>, CliError> {
        let f = Flows::of_year(run, w, prepared.processes(), year).map_err(user)?;
        query(
            &f,
            w,
            &args.region,
            args.sector.as_deref(),
            args.good.as_deref(),
        )
        .map_err(user)
    };
    let base = trace(&baseline)?;
    let scen = match &scenario {
        Some(s) => {
            let run = prepared
                .run(ds, year, &s.events, Some(&baseline))
                .map_err(|e| user(e.to_string()))?;
            Some(trace(&run)?)
        }
        None => None,
    };
    let report = Report {
        region: args.region.clone(),
        sector: args.sector.clone(),
        year,
        baseline: base,
        scenario: scen,
    };
    if json {
        return print_json(&report);
    }
    print_report(&report);
    Ok(())
}

fn origins(o: &[(String, f64)]) -> String {
    let mut parts: Vec<String> = o
        .iter()
        .take(5)
        .map(|(r, s)| format!("{r} {}", pct(*s)))
        .collect();
    if o.len() > 5 {
        parts.push(format!("{} more", o.len() - 5));
    }
    parts.join(", ")
}

fn print_report(r: &Report) {
    let who = match &r.sector {
        Some(s) => format!("{} {s}", r.region),
        None => r.region.clone(),
    };
    if r.baseline.is_empty() {
        outln!("{who} consumes nothing in {}.", r.year);
        return;
    }
    for (k, t) in r.baseline.iter().enumerate() {
        outln!(
            "{who}: {} {} consumed in {} — where it came from, stage by stage:",
            qty(t.quantity),
            t.good,
            r.year
        );
        let s = r.scenario.as_ref().and_then(|s| s.get(k));
        for (i, stage) in t.stages.iter().enumerate() {
            outln!(
                "  {:<16} {:>12}  baseline: {}",
                stage.good,
                qty(stage.quantity),
                origins(&stage.origins)
            );
            if let Some(st) = s.and_then(|s| s.stages.get(i)) {
                outln!(
                    "  {:<16} {:>12}  scenario: {}",
                    "",
                    qty(st.quantity),
                    origins(&st.origins)
                );
            }
        }
    }
}
