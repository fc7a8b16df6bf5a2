//! `chokepoint`: critical-mineral supply chains, computable.
//!
//! A thin adapter over `chokepoint-core` and `chokepoint-equilibrium`: parses arguments, loads
//! the dataset (embedded, or `--data DIR`) when the command needs it, runs one command and
//! prints a table, or JSON with `--json`. Data goes to stdout, diagnostics to stderr.

mod commands;
mod output;
mod parquet_out;

use std::path::PathBuf;
use std::process::ExitCode;

use chokepoint_core::{Dataset, DatasetError};
use chokepoint_equilibrium::FileError;
use clap::{Parser, Subcommand};

/// Critical-mineral supply chains, computable: who mines and refines what, how concentrated it
/// is, and (as the engine grows) what bans, quotas and floors do to it.
#[derive(Debug, Parser)]
#[command(name = "chokepoint", version, about, long_about = None)]
struct Cli {
    /// Load the dataset from this folder (an edited copy of `data/`, see `data export`)
    /// instead of the embedded default.
    #[arg(long, global = true, value_name = "DIR", env = "CHOKEPOINT_DATA")]
    data: Option<PathBuf>,
    /// Print JSON (stable keys, documented in docs/json.md) instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job on the default data: concentration of every seed commodity at every stage.
    Overview {
        /// Data year (default: the `default_year` assumption, 2024).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Explore the dataset: list, show, audit, export.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Shares by country, top-1 and top-3 share, HHI and WGI-weighted HHI of one commodity.
    Concentration(commands::concentration::Args),
    /// The baseline: the calibrated base year run quarter by quarter to 2040 (IEA demand
    /// scenario, IEA supply projections).
    Baseline(commands::baseline::Args),
    /// The world model's structure: model regions, chains of goods, base-year output by region.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Clear a market written by hand (TOML or JSON, see docs/market-file.md): prices, flows,
    /// processing, shadow prices and the welfare account. Uses no dataset.
    Solve {
        /// The market file (`.toml`, or `.json`).
        file: PathBuf,
    },
    /// Check a scenario file: every problem at once, located at file:line:col with a hint.
    Check {
        /// The scenario file (TOML, see docs/scenarios.md).
        file: PathBuf,
    },
    /// Run a scenario against the baseline: who runs short, prices, trade (see docs/scenarios.md).
    Run(commands::run::Args),
    /// Monte Carlo over a scenario's uncertain events: shortfall and price quantiles, tail
    /// drivers; `risk merge` combines shards (see docs/risk.md).
    Risk(commands::risk::Args),
    /// Where a region's (a sector's) inputs were mined, refined and made: proportional tracing
    /// through the cleared flows, baseline and scenario.
    Exposure(commands::exposure::Args),
    /// EU-method criticality of the model's materials for a jurisdiction, before and after a
    /// scenario.
    Criticality(commands::criticality::Args),
    /// Listed companies' volume and revenue from the assets they own, baseline and scenario.
    Companies(commands::companies::Args),
    /// The HTTP API: data, scenario validation, runs as background jobs stored in SQLite
    /// (see docs/api.md).
    Serve(commands::serve::Args),
    /// Money: what a scenario's price floors, collars, offtakes and reserves cost and earn
    /// (`finance FILE`), and one floor by Monte Carlo against its closed form (`finance floor`).
    Finance(commands::finance::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::print_error(&err, cli.json);
            ExitCode::from(err.exit_code())
        }
    }
}

/// Errors the CLI reports, with their exit codes.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The dataset is invalid (exit 2).
    Dataset(DatasetError),
    /// A market file is invalid (exit 1).
    Market(FileError),
    /// A scenario file is invalid (exit 1).
    Scenario(chokepoint_core::scenario::ScenarioError),
    /// The user asked for something unknown or impossible (exit 1).
    User(String),
    /// Anything else (exit 3).
    Other(anyhow::Error),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::User(_) | CliError::Market(_) | CliError::Scenario(_) => 1,
            CliError::Dataset(_) => 2,
            CliError::Other(_) => 3,
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Other(anyhow::Error::new(e))
    }
}

fn load(cli: &Cli) -> Result<Dataset, CliError> {
    match &cli.data {
        Some(dir) => Dataset::load_dir(dir),
        None => Dataset::embedded(),
    }
    .map_err(CliError::Dataset)
}

fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        // `data export` must work even when the user's folder is broken: it only needs the
        // embedded tables.
        Command::Data(commands::data::DataCommand::Export(args)) => {
            return commands::data::export(args, cli.json);
        }
        // A market file carries everything it needs: no dataset is loaded.
        Command::Solve { file } => return commands::solve::run(file, cli.json),
        // Option values need no dataset.
        Command::Finance(args) => {
            if let Some(cmd) = commands::finance::calculator(args) {
                return commands::finance::floor(cmd, cli.json);
            }
        }
        _ => {}
    }
    let ds = load(cli)?;
    match &cli.command {
        Command::Overview { year } => commands::overview::run(&ds, *year, cli.json),
        Command::Data(cmd) => commands::data::run(&ds, cmd, cli.json),
        Command::Concentration(args) => commands::concentration::run(&ds, args, cli.json),
        Command::Model(cmd) => commands::model::run(&ds, cmd, cli.json),
        Command::Baseline(args) => commands::baseline::run(&ds, args, cli.json),
        Command::Solve { file } => commands::solve::run(file, cli.json),
        Command::Check { file } => commands::run::check(&ds, file, cli.json),
        Command::Run(args) => commands::run::run(&ds, args, cli.json),
        Command::Risk(args) => commands::risk::run(&ds, args, cli.json),
        Command::Exposure(args) => commands::exposure::run(&ds, args, cli.json),
        Command::Criticality(args) => commands::criticality::run(&ds, args, cli.json),
        Command::Companies(args) => commands::companies::run(&ds, args, cli.json),
        Command::Serve(args) => commands::serve::run(ds, args),
        Command::Finance(args) => commands::finance::run(&ds, args, cli.json),
    }
}
