//! `chokepoint criticality`: EU-method supply risk of every material the model has, on the
//! model's flows for a jurisdiction (the EU, the USA, any region or group), before and after a
//! scenario.

use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::criticality::{MaterialScore, assess, jurisdiction, round1};
use clap::Args as ClapArgs;
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json, table};

/// Arguments of `chokepoint criticality`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Whose sourcing and import reliance: `EU` (the 27), a model region, a country (its
    /// region) or `group:ID`.
    #[arg(long, default_value = "EU")]
    jurisdiction: String,
    /// Score the scenario's flows beside the baseline's.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Year scored (default: the scenario's last year, or the first year after the base year).
    #[arg(long)]
    year: Option<i32>,
}

#[derive(Serialize)]
struct Report {
    jurisdiction: String,
    year: i32,
    baseline: Vec<MaterialScore>,
    scenario: Option<Vec<MaterialScore>>,
    critical_before: Vec<String>,
    critical_after: Option<Vec<String>>,
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let user = |e: String| CliError::User(e);
    let (scenario, prepared, base_year) = super::run::load_optional(ds, args.scenario.as_deref())?;
    let year = super::run::year_to_use(args.year, scenario.as_ref(), base_year)?;
    let w = &prepared.world;
    let (regions, eu) = jurisdiction(w, &args.jurisdiction).map_err(user)?;
    let baseline = prepared
        .run(ds, year, &[], None)
        .map_err(|e| user(e.to_string()))?;
    let before = assess(ds, w, &baseline, year, &regions, eu).map_err(user)?;
    let after = match &scenario {
        Some(s) => {
            let run = prepared
                .run(ds, year, &s.events, Some(&baseline))
                .map_err(|e| user(e.to_string()))?;
            Some(assess(ds, w, &run, year, &regions, eu).map_err(user)?)
        }
        None => None,
    };
    let critical = |list: &[MaterialScore]| -> Vec<String> {
        list.iter()
            .filter(|m| m.critical == Some(true))
            .map(|m| m.material.clone())
            .collect()
    };
    let report = Report {
        jurisdiction: args.jurisdiction.clone(),
        year,
        critical_before: critical(&before),
        critical_after: after.as_deref().map(critical),
        baseline: before,
        scenario: after,
    };
    if json {
        return print_json(&report);
    }
    let mut t = table([
        "material",
        "bottleneck",
        "SR (model)",
        "SR (EU 2023)",
        "EI (EU 2023)",
        "critical",
        "SR scenario",
        "critical scenario",
        "top source (baseline → scenario)",
    ]);
    let published = |m: &MaterialScore| {
        m.stages
            .iter()
            .filter_map(|s| s.sr_published)
            .fold(f64::NAN, f64::max)
    };
    let top = |m: &MaterialScore| {
        m.stages
            .iter()
            .find(|s| s.stage == m.bottleneck)
            .and_then(|s| s.sourcing.first())
            .map_or_else(String::new, |(r, x)| format!("{r} {:.0}%", x * 100.0))
    };
    let yes = |c: Option<bool>| match c {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    };
    for m in &report.baseline {
        let s = report
            .scenario
            .as_ref()
            .and_then(|l| l.iter().find(|x| x.material == m.material));
        t.add_row(vec![
            m.material.clone(),
            m.bottleneck.clone(),
            format!("{:.1}", round1(m.sr)),
            format!("{:.1}", round1(published(m))),
            m.ei.map_or_else(|| "–".into(), |e| format!("{e:.1}")),
            yes(m.critical).into(),
            s.map_or_else(|| "–".into(), |s| format!("{:.1}", round1(s.sr))),
            s.map_or("–", |s| yes(s.critical)).into(),
            match s {
                Some(s) => format!("{} → {}", top(m), top(s)),
                None => top(m),
            },
        ]);
    }
    outln!(
        "EU-method supply risk for {} on the model's {year} flows (EI and the recycling and substitution inputs: EU 2023 values, model/criticality_eu.csv):\n{t}",
        report.jurisdiction
    );
    outln!("critical: {}", report.critical_before.join(", "));
    if let Some(a) = &report.critical_after {
        outln!("critical under the scenario: {}", a.join(", "));
    }
    Ok(())
}
