//! Risk and finance runs as background jobs: submitted with a scenario, queued behind the run
//! limit, followed by server-sent events, their results stored in SQLite.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chokepoint_core::scenario::Scenario;
use chokepoint_core::world::baseline::WorldModel;
use serde::{Deserialize, Serialize};

use crate::State;
use crate::api::{
    Created, P, Q, Shared, checked, exists, fail, internal, invalid, progress_stream, with_stored,
};
use crate::store::JobRecord;

/// Query of `POST /api/risk`.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskParams {
    /// Draws (at least 1, at most the server's `--max-draws`).
    pub draws: u64,
    /// Seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Shortfall threshold for the exceedance probability (model units; default 0).
    pub threshold: Option<f64>,
    /// Last year (default: the scenario's `to`).
    pub to: Option<i32>,
}

/// Query of `POST /api/finance`.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FinanceParams {
    /// Stochastic price paths per model (default: the server's `--finance-draws`).
    pub draws: Option<usize>,
    /// Seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Last year (default: the scenario's `to`).
    pub to: Option<i32>,
}

/// A job with its result once done.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobOut {
    /// The job.
    pub job: JobRecord,
    /// Its result once done: a risk summary (as `chokepoint risk --json`) or a finance report
    /// (as `chokepoint finance --json`).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// What a job does once it runs.
enum Work {
    Risk(RiskParams),
    Finance(FinanceParams),
}

async fn submit(state: Shared, body: String, work: Work) -> Response {
    let (mut scenario, model) = match checked(&state, body.clone(), true).await {
        Ok(Ok(x)) => x,
        Ok(Err(d)) => return invalid(d),
        Err(r) => return r,
    };
    let (kind, options, to) = match &work {
        Work::Risk(p) => {
            if p.draws == 0 || p.draws > state.max_draws {
                return fail(
                    StatusCode::BAD_REQUEST,
                    format!("draws = {} is out of range", p.draws),
                    format!(
                        "ask for 1 to {} draws (the server's --max-draws)",
                        state.max_draws
                    ),
                );
            }
            ("risk", serde_json::to_value(p), p.to)
        }
        Work::Finance(p) => {
            if p.draws == Some(0) {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "draws = 0",
                    "ask for at least one price path per model",
                );
            }
            ("finance", serde_json::to_value(p), p.to)
        }
    };
    if let Some(to) = to {
        if to <= state.base_year {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("to = {to} is not after the base year {}", state.base_year),
                format!("runs start in {}", state.base_year + 1),
            );
        }
        scenario.header.to = to;
    }
    let options = match options {
        Ok(o) => o,
        Err(e) => return internal(e),
    };
    let id = match state
        .store
        .add_job(kind, &scenario.header.name, &body, &options)
    {
        Ok(id) => id,
        Err(e) => return internal(e),
    };
    let s = state.clone();
    tokio::spawn(async move {
        let Ok(_permit) = s.runs.acquire().await else {
            return;
        };
        if s.store.set_job(id, "running", None, None).is_err() {
            return;
        }
        let worker = s.clone();
        let outcome = tokio::task::spawn_blocking(move || match work {
            Work::Risk(p) => risk(&worker, id, &model, &scenario, &p),
            Work::Finance(p) => finance(&worker, id, &model, &scenario, &p),
        })
        .await
        .unwrap_or_else(|e| Err(format!("the job stopped: {e}")));
        let _ = match outcome {
            Ok(result) => s.store.set_job(id, "done", Some(&result), None),
            Err(e) => s.store.set_job(id, "failed", None, Some(&e)),
        };
        if let Ok(mut p) = s.job_progress.lock() {
            p.remove(&id);
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(Created {
            id,
            status: "queued".into(),
        }),
    )
        .into_response()
}

fn report(state: &State, id: i64, what: &str, done: usize, total: usize) {
    if let Ok(mut p) = state.job_progress.lock() {
        p.insert(id, (what.to_string(), done, total));
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Runs the draws of a risk job; the summary as JSON.
fn risk(
    state: &State,
    id: i64,
    model: &WorldModel,
    scenario: &Scenario,
    p: &RiskParams,
) -> Result<String, String> {
    use chokepoint_core::risk::{RiskRun, aggregate, base_prices};
    let seed = p.seed.unwrap_or(scenario.header.seed);
    report(state, id, "baseline", 0, 1);
    let run = RiskRun::new(&state.ds, model, scenario, seed).map_err(|e| e.to_string())?;
    let draws: Vec<u64> = (0..p.draws).collect();
    let total = draws.len();
    report(state, id, "draws", 0, total);
    let results = run.run_draws(&draws, threads(), &|done| {
        report(state, id, "draws", done, total);
    });
    let prices = base_prices(&run.baseline, &run.keys);
    let summary = aggregate(&run.keys, &prices, &results, p.threshold.unwrap_or(0.0));
    serde_json::to_string(&serde_json::json!({
        "scenario": scenario.header.name,
        "seed": seed,
        "to": scenario.header.to,
        "summary": summary,
    }))
    .map_err(|e| e.to_string())
}

/// Runs a scenario and values its policies; the finance report as JSON.
fn finance(
    state: &State,
    id: i64,
    model: &WorldModel,
    scenario: &Scenario,
    p: &FinanceParams,
) -> Result<String, String> {
    let run = chokepoint_core::scenario::run_scenario_with_progress(
        &state.ds,
        model,
        scenario,
        &mut |which, done, total| report(state, id, which, done, total),
    )
    .map_err(|e| e.to_string())?;
    report(state, id, "valuation", 0, 1);
    let valued = chokepoint_core::scenario::run::value_policies(
        &state.ds,
        model,
        scenario,
        &run,
        p.draws.unwrap_or(state.finance_draws),
        p.seed.unwrap_or(scenario.header.seed),
    )?;
    serde_json::to_string(&valued).map_err(|e| e.to_string())
}

#[utoipa::path(
    post,
    path = "/api/risk",
    params(RiskParams),
    request_body(content = String, content_type = "text/plain", description = "The scenario file (TOML)"),
    responses((status = 202, body = Created, description = "Queued; follow GET /api/jobs/{id}/events"),
        (status = 400, body = crate::api::ApiError), (status = 422, body = crate::api::Validation))
)]
pub(crate) async fn submit_risk(
    Extract(state): Extract<Shared>,
    Q(p): Q<RiskParams>,
    body: String,
) -> Response {
    submit(state, body, Work::Risk(p)).await
}

#[utoipa::path(
    post,
    path = "/api/finance",
    params(FinanceParams),
    request_body(content = String, content_type = "text/plain", description = "The scenario file (TOML)"),
    responses((status = 202, body = Created, description = "Queued; follow GET /api/jobs/{id}/events"),
        (status = 400, body = crate::api::ApiError), (status = 422, body = crate::api::Validation))
)]
pub(crate) async fn submit_finance(
    Extract(state): Extract<Shared>,
    Q(p): Q<FinanceParams>,
    body: String,
) -> Response {
    submit(state, body, Work::Finance(p)).await
}

#[utoipa::path(get, path = "/api/jobs", responses((status = 200, body = [JobRecord])))]
pub(crate) async fn list_jobs(Extract(state): Extract<Shared>) -> Response {
    match state.store.jobs() {
        Ok(v) => Json(v).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(
    get,
    path = "/api/jobs/{id}",
    params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = crate::api::ApiError))
)]
pub(crate) async fn get_job(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    match exists(state.store.job(id), "job", id) {
        Ok((job, result)) => with_stored("job", &job, "result", result),
        Err(r) => *r,
    }
}

#[utoipa::path(
    get,
    path = "/api/jobs/{id}/events",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/event-stream",
        description = "Server-sent events: `progress` ({run, done, total}: the stage and its steps) while it runs, then one `status` ({status, error}) when it ends"),
        (status = 404, body = crate::api::ApiError))
)]
pub(crate) async fn job_events(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    progress_stream(state, id, crate::store::Kind::Job)
}
