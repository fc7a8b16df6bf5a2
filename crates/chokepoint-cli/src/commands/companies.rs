//! `chokepoint companies`: each listed company's volume and revenue from the assets it owns,
//! in the baseline and, with a scenario, in the scenario.

use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::companies::companies;
use clap::Args as ClapArgs;

use crate::CliError;
use crate::output::{outln, print_json, table};

/// Arguments of `chokepoint companies`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Compare with this scenario's run.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Run to this year (default: the scenario's `to`, or the first year after the base year).
    #[arg(long)]
    to: Option<i32>,
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let user = |e: String| CliError::User(e);
    let (scenario, prepared, base_year) = super::run::load_optional(ds, args.scenario.as_deref())?;
    let to = args
        .to
        .or(scenario.as_ref().map(|s| s.header.to))
        .unwrap_or(base_year + 1);
    let baseline = prepared
        .run(ds, to, &[], None)
        .map_err(|e| user(e.to_string()))?;
    let scen = match &scenario {
        Some(s) => Some(
            prepared
                .run(ds, to, &s.events, Some(&baseline))
                .map_err(|e| user(e.to_string()))?,
        ),
        None => None,
    };
    let lines = companies(
        ds,
        &prepared.world,
        &baseline,
        scen.as_ref().unwrap_or(&baseline),
    );
    if json {
        return print_json(&lines);
    }
    let mut t = table([
        "company",
        "ticker",
        "baseline revenue (USD m)",
        "scenario (USD m)",
        "change",
    ]);
    for c in &lines {
        t.add_row(vec![
            c.company.clone(),
            c.ticker.clone(),
            crate::output::qty(c.baseline_revenue / 1e6),
            crate::output::qty(c.scenario_revenue / 1e6),
            format!("{:+.1}%", c.change * 100.0),
        ]);
    }
    outln!(
        "Revenue from the assets in model/companies.csv, {} to {to}{}:\n{t}",
        base_year + 1,
        if scen.is_some() {
            ", baseline against scenario"
        } else {
            " (baseline)"
        }
    );
    Ok(())
}
