//! `chokepoint finance floor`: one price floor on one unit, by Monte Carlo against a price
//! model, with its closed form.

use chokepoint_core::finance::{OptionSpec, PriceModel, closed_form, floor_value};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json};

/// `chokepoint finance …`.
#[derive(Debug, Subcommand)]
pub(crate) enum FinanceCommand {
    /// Value a price floor (a put) on one unit: Monte Carlo and the closed form (Black-76 for
    /// the lognormal model, Bachelier for the normal one).
    Floor(FloorArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Model {
    Lognormal,
    Normal,
}

/// Arguments of `chokepoint finance floor`.
#[derive(Debug, ClapArgs)]
pub(crate) struct FloorArgs {
    /// Forward price of the unit at delivery.
    #[arg(long)]
    forward: f64,
    /// The floor (strike).
    #[arg(long)]
    strike: f64,
    /// Volatility: a fraction a year (lognormal) or currency a year (normal).
    #[arg(long)]
    vol: f64,
    /// Years to delivery.
    #[arg(long)]
    years: f64,
    /// Continuous discount rate a year.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Monte Carlo draws.
    #[arg(long, default_value_t = 100_000)]
    draws: u64,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Price model.
    #[arg(long, value_enum, default_value = "lognormal")]
    model: Model,
}

#[derive(Serialize)]
struct FloorReport {
    value: f64,
    std_error: f64,
    closed_form: f64,
    model: PriceModel,
    draws: u64,
}

pub(crate) fn run(cmd: &FinanceCommand, json: bool) -> Result<(), CliError> {
    let FinanceCommand::Floor(a) = cmd;
    let spec = OptionSpec {
        forward: a.forward,
        strike: a.strike,
        vol: a.vol,
        years: a.years,
        rate: a.rate,
        model: match a.model {
            Model::Lognormal => PriceModel::Lognormal,
            Model::Normal => PriceModel::Normal,
        },
    };
    spec.validate().map_err(CliError::User)?;
    if a.draws < 2 {
        return Err(CliError::User("--draws must be at least 2".into()));
    }
    let mc = floor_value(&spec, a.draws, a.seed);
    let report = FloorReport {
        value: mc.value,
        std_error: mc.std_error,
        closed_form: closed_form(&spec, true),
        model: spec.model,
        draws: a.draws,
    };
    if json {
        return print_json(&report);
    }
    let name = match spec.model {
        PriceModel::Lognormal => "Black-76",
        PriceModel::Normal => "Bachelier",
    };
    outln!(
        "Floor at {} on one unit (forward {}, {} years): Monte Carlo {:.6} ± {:.6} ({} draws); {name} {:.6}",
        a.strike,
        a.forward,
        a.years,
        report.value,
        report.std_error,
        a.draws,
        report.closed_form
    );
    Ok(())
}
