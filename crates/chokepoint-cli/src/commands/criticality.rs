//! `chokepoint criticality`: supply risk of every material the model has, on the model's flows
//! for a jurisdiction (the EU, the USA, any region or group), before and after a scenario, by
//! the EU JRC method or the USGS 2022-list method.

use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::criticality::usgs::{self, UsgsComparison, UsgsScore, round2};
use chokepoint_core::criticality::{
    MaterialScore, assess, default_jurisdiction, jurisdiction, round1, usgs_by_default,
};
use clap::Args as ClapArgs;
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json, table};

/// Arguments of `chokepoint criticality`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Whose sourcing and import reliance: `EU` (the 27), a model region, a country (its
    /// region) or `group:ID` (default: `EU` for the EU method, `USA` for the USGS method).
    #[arg(long)]
    jurisdiction: Option<String>,
    /// Scoring method: `eu` (JRC 2017 guidelines) or `usgs` (Nassar & Fortier 2021). Default:
    /// `usgs` when the jurisdiction is `USA`, else `eu`.
    #[arg(long, value_enum)]
    method: Option<Method>,
    /// Score the scenario's flows beside the baseline's.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Year scored (default: the scenario's last year, or the first year after the base year).
    #[arg(long)]
    year: Option<i32>,
}

/// A criticality method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Method {
    /// EU JRC method (supply risk and economic importance).
    Eu,
    /// USGS 2022-list method (disruption potential, trade exposure, economic vulnerability).
    Usgs,
}

#[derive(Serialize)]
struct UsgsReport {
    method: Method,
    #[serde(flatten)]
    scores: UsgsComparison,
    critical_before: Vec<String>,
    critical_after: Option<Vec<String>>,
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
    let method = args
        .method
        .unwrap_or(if usgs_by_default(args.jurisdiction.as_deref()) {
            Method::Usgs
        } else {
            Method::Eu
        });
    let name = args
        .jurisdiction
        .clone()
        .unwrap_or_else(|| default_jurisdiction(method == Method::Usgs).to_string());
    let (regions, eu) = jurisdiction(w, &name).map_err(user)?;
    let baseline = prepared
        .run(ds, year, &[], None)
        .map_err(|e| user(e.to_string()))?;
    if method == Method::Usgs {
        let run = match &scenario {
            Some(s) => Some(
                prepared
                    .run(ds, year, &s.events, Some(&baseline))
                    .map_err(|e| user(e.to_string()))?,
            ),
            None => None,
        };
        let scores =
            usgs::compare(ds, &prepared, &baseline, run.as_ref(), year, &name).map_err(user)?;
        return print_usgs(
            UsgsReport {
                method,
                critical_before: usgs_critical(&scores.baseline),
                critical_after: scores.scenario.as_deref().map(usgs_critical),
                scores,
            },
            json,
        );
    }
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
        jurisdiction: name,
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

fn usgs_critical(list: &[UsgsScore]) -> Vec<String> {
    list.iter()
        .filter(|m| m.critical == Some(true))
        .map(|m| m.material.clone())
        .collect()
}

fn yes(c: Option<bool>) -> &'static str {
    match c {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

fn print_usgs(report: UsgsReport, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&report);
    }
    let mut t = table([
        "material",
        "bottleneck",
        "DP",
        "TE",
        "EV",
        "SR (model)",
        "SR (USGS 2021)",
        "on list",
        "SR scenario",
        "on list scenario",
    ]);
    for m in &report.scores.baseline {
        let s = report
            .scores
            .scenario
            .as_ref()
            .and_then(|l| l.iter().find(|x| x.material == m.material));
        let b = m.stages.iter().find(|s| s.stage == m.bottleneck);
        let f = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{:.2}", round2(v)));
        t.add_row(vec![
            m.material.clone(),
            m.bottleneck.clone(),
            f(b.map(|b| b.dp)),
            f(b.map(|b| b.te)),
            f(b.map(|b| b.ev)),
            f(m.sr),
            f(m.sr_published),
            yes(m.critical).into(),
            f(s.and_then(|s| s.sr)),
            s.map_or("–", |s| yes(s.critical)).into(),
        ]);
    }
    outln!(
        "USGS-method supply risk for {} on the model's {} flows (SR = (DP·TE·EV)^{:.3}; TE from \
         the published net import reliance where there is one; EV from model/industry_accounts.csv):\n{t}",
        report.scores.jurisdiction,
        report.scores.year,
        report.scores.exponent
    );
    for m in report.scores.baseline.iter().filter(|m| m.note.is_some()) {
        outln!("{}: {}", m.material, m.note.as_deref().unwrap_or_default());
    }
    outln!(
        "on the list (SR ≥ {:.2}): {}",
        report.scores.threshold,
        report.critical_before.join(", ")
    );
    if let Some(a) = &report.critical_after {
        outln!("on the list under the scenario: {}", a.join(", "));
    }
    Ok(())
}
