//! `chokepoint serve`: the Chokepoint engine over HTTP. A JSON API for the data, scenario
//! validation with located diagnostics, and scenario runs as background jobs stored in SQLite,
//! with an OpenAPI document generated from the handlers at `/openapi.json`.
//!
//! Safety: the server binds to loopback unless given an access token, and then asks for it on
//! every request (`Authorization: Bearer TOKEN`). Request bodies are limited in size; runs are
//! limited in number (queued beyond); no request names a file.

mod api;
mod jobs;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chokepoint_core::Dataset;
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

pub use api::ApiDoc;
use store::Store;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind.
    pub addr: SocketAddr,
    /// Where the SQLite store lives.
    pub data_dir: PathBuf,
    /// Access token (required to bind beyond loopback; then required on every request).
    pub token: Option<String>,
    /// Runs at once (more are queued).
    pub max_runs: usize,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Stochastic price paths per model in a run's report.
    pub finance_draws: usize,
    /// Most draws one risk job may ask for.
    pub max_draws: u64,
    /// Serve the dashboard's files from this directory instead of the embedded copies (only
    /// the dashboard's own file names are read).
    pub assets_dir: Option<PathBuf>,
    /// Longest a request may take to answer (runs go on in the background; event streams,
    /// once answered, are not cut).
    pub request_timeout: std::time::Duration,
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding beyond loopback needs a token.
    #[error(
        "refusing to bind to {0} without an access token (hint: pass --token or set CHOKEPOINT_TOKEN, or bind to 127.0.0.1)"
    )]
    NoToken(SocketAddr),
    /// The store cannot open.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The address cannot be bound.
    #[error("cannot bind {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The server stopped with an error.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// What every handler shares.
pub(crate) struct State {
    pub(crate) ds: Arc<Dataset>,
    pub(crate) store: Store,
    pub(crate) models: Mutex<HashMap<String, ModelCell>>,
    pub(crate) runs: tokio::sync::Semaphore,
    pub(crate) token: Option<String>,
    pub(crate) finance_draws: usize,
    pub(crate) max_draws: u64,
    pub(crate) assets_dir: Option<PathBuf>,
    /// The dataset's base year (runs start the year after).
    pub(crate) base_year: i32,
    /// Progress of the runs in flight: run id → (which run, quarters done, quarters in all).
    pub(crate) progress: Mutex<Progress>,
    /// `/api/commodities`, made on first request.
    pub(crate) commodities: std::sync::OnceLock<Vec<api::CommodityOut>>,
    /// Progress of the risk and finance jobs in flight: job id → (stage, done, total).
    pub(crate) job_progress: Mutex<Progress>,
}

/// A demand path's world model, prepared at most once.
pub(crate) type ModelCell = Arc<std::sync::OnceLock<Result<Arc<WorldModel>, String>>>;

/// Id → (what is running, steps done, steps in all).
pub(crate) type Progress = HashMap<i64, (String, usize, usize)>;

impl State {
    /// The world model of a demand path, prepared once and then shared: concurrent requests
    /// for a path not yet prepared wait for the one preparation instead of each starting
    /// their own.
    pub(crate) fn model(&self, demand: &str) -> Result<Arc<WorldModel>, String> {
        let cell = self
            .models
            .lock()
            .map_err(|_| "model cache lock poisoned".to_string())?
            .entry(demand.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let map = RegionMap::from_dataset(&self.ds).map_err(|e| format!("{e:?}"))?;
            WorldModel::prepare(&self.ds, &map, demand)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
    }
}

/// Binds the server and returns the bound address and the future that serves until it fails.
pub async fn bind(
    ds: Dataset,
    config: Config,
) -> Result<
    (
        SocketAddr,
        impl std::future::Future<Output = Result<(), ServeError>>,
    ),
    ServeError,
> {
    if !config.addr.ip().is_loopback() && config.token.is_none() {
        return Err(ServeError::NoToken(config.addr));
    }
    let store = Store::open(&config.data_dir)?;
    let base_year = ds.assumption("default_year").map_err(|e| {
        ServeError::Io(std::io::Error::other(format!(
            "the dataset has no base year: {e}"
        )))
    })? as i32;
    let state = Arc::new(State {
        max_draws: config.max_draws,
        assets_dir: config.assets_dir.clone(),
        base_year,
        ds: Arc::new(ds),
        store,
        models: Mutex::new(HashMap::new()),
        runs: tokio::sync::Semaphore::new(config.max_runs.max(1)),
        token: config.token.clone(),
        finance_draws: config.finance_draws,
        progress: Mutex::new(HashMap::new()),
        job_progress: Mutex::new(HashMap::new()),
        commodities: std::sync::OnceLock::new(),
    });
    let app = api::router(state, config.max_body, config.request_timeout);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServeError::Bind(config.addr, e))?;
    let addr = listener.local_addr()?;
    Ok((addr, async move {
        axum::serve(listener, app).await?;
        Ok(())
    }))
}
