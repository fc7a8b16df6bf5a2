//! `chokepoint serve`: the HTTP API over the engine (see docs/api.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_server::{Config, bind};
use clap::Args as ClapArgs;

use crate::CliError;

/// Arguments of `chokepoint serve`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Address to listen on (loopback unless a token is given).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Where runs and scenarios are stored (SQLite, created if missing).
    #[arg(long, value_name = "DIR", default_value = "chokepoint-data")]
    data_dir: PathBuf,
    /// Access token: required to listen beyond loopback, then on every request.
    #[arg(long, env = "CHOKEPOINT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Runs at once (more wait in a queue; default: every core).
    #[arg(long)]
    max_runs: Option<usize>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// Stochastic price paths per model in each run's report.
    #[arg(long, default_value_t = 1000)]
    finance_draws: usize,
    /// Longest a request may take to answer, in seconds (runs go on in the background).
    #[arg(long, default_value_t = 120.0)]
    request_timeout: f64,
    /// Most draws one risk job may ask for.
    #[arg(long, default_value_t = 10_000)]
    max_draws: u64,
    /// Serve the dashboard's files from this directory instead of the embedded copies (for
    /// working on the dashboard without rebuilding; only the dashboard's own file names are
    /// read).
    #[arg(long, value_name = "DIR", hide = true)]
    assets_dir: Option<PathBuf>,
}

pub(crate) fn run(ds: Dataset, args: &Args) -> Result<(), CliError> {
    let config = Config {
        addr: args.addr,
        data_dir: args.data_dir.clone(),
        token: args.token.clone(),
        max_runs: args.max_runs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        max_body: args.max_body,
        finance_draws: args.finance_draws,
        max_draws: args.max_draws,
        assets_dir: args.assets_dir.clone(),
        request_timeout: std::time::Duration::try_from_secs_f64(args.request_timeout).map_err(
            |_| CliError::User("--request-timeout must be a positive number of seconds".into()),
        )?,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (addr, server) = bind(ds, config)
            .await
            .map_err(|e| CliError::User(e.to_string()))?;
        eprintln!(
            "chokepoint: listening on http://{addr} (API under /api, OpenAPI at /openapi.json)"
        );
        server.await.map_err(|e| CliError::User(e.to_string()))
    })
}
