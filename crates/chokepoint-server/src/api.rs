//! The JSON API: routes, handlers and the OpenAPI document generated from them.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as Extract};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chokepoint_core::diagnostic::Diagnostic;
use chokepoint_core::scenario::{Scenario, demand_path_of};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::State;
use crate::store::{Kind, RunRecord, ScenarioRecord};

pub(crate) type Shared = Arc<State>;

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chokepoint API",
        description = "Critical-mineral supply chains, computable"
    ),
    paths(
        health,
        commodities,
        regions,
        concentration,
        validate,
        save_scenario,
        list_scenarios,
        get_scenario,
        submit_run,
        list_runs,
        get_run,
        run_report,
        run_events,
        compare,
        seed,
        exposure,
        criticality,
        companies,
        goods,
        sankey,
        crate::jobs::submit_risk,
        crate::jobs::submit_finance,
        crate::jobs::list_jobs,
        crate::jobs::get_job,
        crate::jobs::job_events
    ),
    components(schemas(
        Health,
        ApiError,
        DiagnosticOut,
        Validation,
        Created,
        CommodityOut,
        RunOut,
        RunRecord,
        ScenarioRecord,
        Comparison,
        AnswerPair,
        GoodOut,
        crate::store::JobRecord,
        crate::jobs::JobOut
    ))
)]
pub struct ApiDoc;

/// An error: what is wrong and how to fix it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// What is wrong.
    pub error: String,
    /// How to fix it.
    pub hint: String,
}

pub(crate) fn fail(
    status: StatusCode,
    error: impl Into<String>,
    hint: impl Into<String>,
) -> Response {
    // The core's messages carry their own hint after "\n  hint: ": it is more specific than
    // the route's, so it wins.
    let error = error.into();
    let (error, hint) = match error.split_once("\n  hint: ") {
        Some((e, h)) => (e.to_string(), h.trim().to_string()),
        None => (error, hint.into()),
    };
    (status, Json(ApiError { error, hint })).into_response()
}

/// `{what: record, field: stored}`: a record with the JSON text it was stored with, passed
/// through as it is (the store only ever holds JSON the server wrote; no parse and re-encode
/// of a large summary on every read).
pub(crate) fn with_stored<T: Serialize>(
    what: &str,
    record: &T,
    field: &str,
    stored: Option<String>,
) -> Response {
    let record = match serde_json::to_string(record) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let body = format!(
        "{{\"{what}\":{record},\"{field}\":{}}}",
        stored.as_deref().unwrap_or("null")
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A stored `what`, or the response that says it is missing (404) or unreadable (500).
pub(crate) fn exists<T>(
    got: Result<Option<T>, crate::store::StoreError>,
    what: &str,
    id: i64,
) -> Result<T, Box<Response>> {
    match got {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Box::new(fail(
            StatusCode::NOT_FOUND,
            format!("no {what} {id}"),
            format!("GET /api/{what}s lists them"),
        ))),
        Err(e) => Err(Box::new(internal(e))),
    }
}

/// The query string, deserialised; a malformed one gets a 400 `{error, hint}` (not axum's
/// plain text).
pub(crate) struct Q<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Q<T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Q(v)),
            Err(e) => Err(fail(
                StatusCode::BAD_REQUEST,
                e.body_text(),
                "/openapi.json lists each route's query parameters and their types",
            )),
        }
    }
}

/// A path parameter, deserialised; a malformed one (`/api/runs/abc`) gets a 400
/// `{error, hint}`.
pub(crate) struct P<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for P<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(P(v)),
            Err(e) => Err(fail(
                StatusCode::BAD_REQUEST,
                e.body_text(),
                "ids are whole numbers; /openapi.json lists each route",
            )),
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        e.to_string(),
        "see the server's log",
    )
}

pub(crate) fn router(state: Shared, max_body: usize, timeout: std::time::Duration) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/commodities", get(commodities))
        .route("/api/regions", get(regions))
        .route("/api/concentration/{commodity}", get(concentration))
        .route("/api/scenarios/validate", post(validate))
        .route("/api/scenarios", post(save_scenario).get(list_scenarios))
        .route("/api/scenarios/{id}", get(get_scenario))
        .route("/api/runs", post(submit_run).get(list_runs))
        .route("/api/runs/{id}", get(get_run))
        .route("/api/runs/{id}/report", get(run_report))
        .route("/api/runs/{id}/events", get(run_events))
        .route("/api/compare", get(compare))
        .route("/api/exposure/{region}", get(exposure))
        .route("/api/criticality", get(criticality))
        .route("/api/companies", get(companies))
        .route("/api/goods", get(goods))
        .route("/api/sankey/{good}", get(sankey))
        .route("/api/risk", post(crate::jobs::submit_risk))
        .route("/api/finance", post(crate::jobs::submit_finance))
        .route("/api/jobs", get(crate::jobs::list_jobs))
        .route("/api/jobs/{id}", get(crate::jobs::get_job))
        .route("/api/jobs/{id}/events", get(crate::jobs::job_events))
        .route("/openapi.json", get(openapi))
        .route("/", get(dashboard))
        .route("/assets/{name}", get(asset))
        .route("/api/examples/seed", get(seed))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth))
        .layer(axum::middleware::from_fn_with_state(timeout, deadline))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// A request that takes longer than the deadline gets a 503 (its work, if any, finishes in the
/// background).
async fn deadline(
    Extract(timeout): Extract<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => fail(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s", timeout.as_secs_f64()),
            "retry later, or start the server with a longer --request-timeout",
        ),
    }
}

/// With a token, every request must carry it.
async fn auth(Extract(state): Extract<Shared>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return fail(
                StatusCode::UNAUTHORIZED,
                "missing or wrong access token",
                "send Authorization: Bearer TOKEN",
            );
        }
    }
    next.run(req).await
}

/// The dashboard's files, embedded in the binary (no CDN, works offline): (name, content
/// type, bytes). A request names one of these or gets a 404: no request reaches the file
/// system, but with `--assets-dir`, where only these names are read.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/echarts.min.js"),
    ),
    (
        "world.geo.json",
        "application/json",
        include_bytes!("../assets/vendor/world.geo.json"),
    ),
    (
        "LICENSES.md",
        "text/markdown; charset=utf-8",
        include_bytes!("../assets/vendor/LICENSES.md"),
    ),
];

fn serve_asset(state: &State, name: &str) -> Response {
    let Some(&(file, kind, bytes)) = ASSETS.iter().find(|a| a.0 == name) else {
        return fail(
            StatusCode::NOT_FOUND,
            format!("no asset {name}"),
            "the dashboard is at /",
        );
    };
    if let Some(dir) = &state.assets_dir {
        let path =
            if file.ends_with(".min.js") || file.ends_with(".geo.json") || file == "LICENSES.md" {
                dir.join("vendor").join(file)
            } else {
                dir.join(file)
            };
        return match std::fs::read(&path) {
            Ok(b) => ([(header::CONTENT_TYPE, kind)], b).into_response(),
            Err(e) => internal(format!("{}: {e}", path.display())),
        };
    }
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response()
}

/// The dashboard page.
async fn dashboard(Extract(state): Extract<Shared>) -> Response {
    serve_asset(&state, "index.html")
}

/// A file of the dashboard.
async fn asset(Extract(state): Extract<Shared>, P(name): P<String>) -> Response {
    serve_asset(&state, &name)
}

#[utoipa::path(get, path = "/api/examples/seed", responses((status = 200, content_type = "text/plain", description = "The seed scenario file (TOML): a starting point for the editor")))]
async fn seed() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        include_str!("../../../scenarios/2026-01-critical-minerals.toml"),
    )
        .into_response()
}

async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => internal(e),
    }
}

/// Liveness and version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Server version.
    pub version: String,
}

#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// A commodity of the dataset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommodityOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Parent commodity (rare-earth elements: `rare_earths`).
    pub parent: Option<String>,
    /// Stages whose country shares of production can be computed in the default year (each
    /// answers `/api/concentration/{id}?stage=`).
    pub stages: Vec<String>,
}

#[utoipa::path(get, path = "/api/commodities", responses((status = 200, body = [CommodityOut])))]
async fn commodities(Extract(state): Extract<Shared>) -> Response {
    // The dataset does not change while the server runs: the list is made once.
    Json(state.commodities.get_or_init(|| commodity_list(&state.ds))).into_response()
}

/// Every commodity with the stages whose country shares can be computed.
fn commodity_list(ds: &chokepoint_core::Dataset) -> Vec<CommodityOut> {
    use chokepoint_core::metrics::concentration::{ConcentrationQuery, concentration};
    ds.commodities
        .iter()
        .map(|c| {
            let mut stages: Vec<String> = Vec::new();
            for r in ds.supply.iter().filter(|r| {
                r.commodity_id == c.commodity_id
                    && r.entity_kind == chokepoint_core::dataset::tables::EntityKind::Country
            }) {
                if !stages.contains(&r.stage_id) {
                    stages.push(r.stage_id.clone());
                }
            }
            // Only stages whose shares can be computed (a withheld world total cannot).
            stages.retain(|stage| {
                let mut q = ConcentrationQuery::production(&c.commodity_id);
                q.stage = Some(stage.clone());
                concentration(ds, &q).is_ok()
            });
            CommodityOut {
                id: c.commodity_id.clone(),
                name: c.name.clone(),
                parent: c.parent.clone(),
                stages,
            }
        })
        .collect()
}

#[utoipa::path(get, path = "/api/regions", responses((status = 200, body = [String], description = "The model regions")))]
async fn regions(Extract(state): Extract<Shared>) -> Response {
    let s = state.clone();
    match tokio::task::spawn_blocking(move || s.model("steps")).await {
        Ok(Ok(m)) => Json(m.world.regions.clone()).into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// Query of `/api/concentration/{commodity}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConcentrationParams {
    /// Stage (default: mining, else the most upstream with data).
    pub stage: Option<String>,
    /// Year (default: the dataset's default year).
    pub year: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/api/concentration/{commodity}",
    params(("commodity" = String, Path, description = "Commodity id or name"), ConcentrationParams),
    responses(
        (status = 200, description = "Country shares, HHI and governance-weighted HHI (as `chokepoint concentration --json`)"),
        (status = 404, body = ApiError)
    )
)]
async fn concentration(
    Extract(state): Extract<Shared>,
    P(commodity): P<String>,
    Q(q): Q<ConcentrationParams>,
) -> Response {
    use chokepoint_core::metrics::concentration::{ConcentrationQuery, concentration};
    let mut query = ConcentrationQuery::production(&commodity);
    query.stage = q.stage;
    query.year = q.year;
    match concentration(&state.ds, &query) {
        Ok(c) => Json(c).into_response(),
        Err(e) => fail(
            StatusCode::NOT_FOUND,
            e.to_string(),
            "GET /api/commodities lists the commodities",
        ),
    }
}

/// A located problem in a scenario.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiagnosticOut {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl From<&Diagnostic> for DiagnosticOut {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticOut {
            line: d.location.line,
            col: d.location.col,
            message: d.message.clone(),
            hint: d.hint.clone(),
        }
    }
}

/// The outcome of checking a scenario.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Validation {
    /// No problem found.
    pub ok: bool,
    /// Scenario name (when it parsed).
    pub name: Option<String>,
    /// Events (id, kind).
    pub events: Vec<(String, String)>,
    /// Every problem, located.
    pub diagnostics: Vec<DiagnosticOut>,
}

/// A scenario checked against its world model (which then knows its coalitions), or its
/// located problems.
type Checked =
    Result<(Scenario, Arc<chokepoint_core::world::baseline::WorldModel>), Vec<DiagnosticOut>>;

/// Checks a scenario text against the world of its demand path. With `for_runs`, the world
/// model is copied to carry the scenario's coalitions (a run needs it); a check alone copies
/// only the small `World` and hands back the shared model.
fn check(state: &State, text: &str, for_runs: bool) -> Result<Checked, String> {
    let model = state.model(&demand_path_of(text))?;
    let mut world = model.world.clone();
    match Scenario::load(text, "scenario.toml", &mut world) {
        Ok(s) if for_runs => {
            let mut prepared = (*model).clone();
            prepared.world = world;
            Ok(Ok((s, Arc::new(prepared))))
        }
        Ok(s) => Ok(Ok((s, model))),
        Err(e) => Ok(Err(e.diagnostics.iter().map(DiagnosticOut::from).collect())),
    }
}

/// [`check`] off the async threads.
pub(crate) async fn checked(
    state: &Shared,
    text: String,
    for_runs: bool,
) -> Result<Checked, Response> {
    let s = state.clone();
    match tokio::task::spawn_blocking(move || check(&s, &text, for_runs)).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

#[utoipa::path(
    post,
    path = "/api/scenarios/validate",
    request_body(content = String, content_type = "text/plain", description = "The scenario file (TOML)"),
    responses((status = 200, body = Validation, description = "`ok` false with located diagnostics when it has problems"))
)]
async fn validate(Extract(state): Extract<Shared>, body: String) -> Response {
    match checked(&state, body, false).await {
        Ok(Ok((s, _))) => Json(Validation {
            ok: true,
            name: Some(s.header.name.clone()),
            events: s
                .events
                .iter()
                .map(|e| (e.id.clone(), e.kind.name().to_string()))
                .collect(),
            diagnostics: Vec::new(),
        })
        .into_response(),
        Ok(Err(d)) => Json(Validation {
            ok: false,
            name: None,
            events: Vec::new(),
            diagnostics: d,
        })
        .into_response(),
        Err(r) => r,
    }
}

/// Something created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// Its id.
    pub id: i64,
    /// Its status (`queued` for runs, `saved` for scenarios).
    pub status: String,
}

pub(crate) fn invalid(d: Vec<DiagnosticOut>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(Validation {
            ok: false,
            name: None,
            events: Vec::new(),
            diagnostics: d,
        }),
    )
        .into_response()
}

#[utoipa::path(
    post,
    path = "/api/scenarios",
    request_body(content = String, content_type = "text/plain"),
    responses((status = 201, body = Created), (status = 422, body = Validation))
)]
async fn save_scenario(Extract(state): Extract<Shared>, body: String) -> Response {
    match checked(&state, body.clone(), false).await {
        Ok(Ok((s, _))) => match state.store.add_scenario(&s.header.name, &body) {
            Ok(id) => (
                StatusCode::CREATED,
                Json(Created {
                    id,
                    status: "saved".into(),
                }),
            )
                .into_response(),
            Err(e) => internal(e),
        },
        Ok(Err(d)) => invalid(d),
        Err(r) => r,
    }
}

#[utoipa::path(get, path = "/api/scenarios", responses((status = 200, body = [ScenarioRecord])))]
async fn list_scenarios(Extract(state): Extract<Shared>) -> Response {
    match state.store.scenarios() {
        Ok(v) => Json(v).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(
    get,
    path = "/api/scenarios/{id}",
    params(("id" = i64, Path)),
    responses((status = 200, body = ScenarioRecord), (status = 404, body = ApiError))
)]
async fn get_scenario(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    match state.store.scenario(id) {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => fail(
            StatusCode::NOT_FOUND,
            format!("no scenario {id}"),
            "GET /api/scenarios lists them",
        ),
        Err(e) => internal(e),
    }
}

#[utoipa::path(
    post,
    path = "/api/runs",
    request_body(content = String, content_type = "text/plain", description = "The scenario file (TOML)"),
    responses((status = 202, body = Created, description = "Queued; poll GET /api/runs/{id}"), (status = 422, body = Validation))
)]
async fn submit_run(Extract(state): Extract<Shared>, body: String) -> Response {
    let (scenario, model) = match checked(&state, body.clone(), true).await {
        Ok(Ok(x)) => x,
        Ok(Err(d)) => return invalid(d),
        Err(r) => return r,
    };
    let id = match state.store.add_run(&scenario.header.name, &body) {
        Ok(id) => id,
        Err(e) => return internal(e),
    };
    let s = state.clone();
    tokio::spawn(async move {
        let Ok(_permit) = s.runs.acquire().await else {
            return;
        };
        if s.store.start_run(id).is_err() {
            return;
        }
        let worker = s.clone();
        let outcome = tokio::task::spawn_blocking(move || execute(&worker, id, &model, &scenario))
            .await
            .unwrap_or_else(|e| Err(format!("the run stopped: {e}")));
        let _ = match outcome {
            Ok((summary, report)) => s.store.finish_run(id, &summary, &report),
            Err(e) => s.store.fail_run(id, &e),
        };
        if let Ok(mut p) = s.progress.lock() {
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

/// Runs a scenario: (summary JSON, report HTML).
fn execute(
    state: &State,
    id: i64,
    model: &chokepoint_core::world::baseline::WorldModel,
    s: &Scenario,
) -> Result<(String, String), String> {
    use chokepoint_core::scenario::run::{full_summary, report_page};
    let run = chokepoint_core::scenario::run_scenario_with_progress(
        &state.ds,
        model,
        s,
        &mut |which, done, total| {
            if let Ok(mut p) = state.progress.lock() {
                p.insert(id, (which.to_string(), done, total));
            }
        },
    )
    .map_err(|e| e.to_string())?;
    let summary = full_summary(&state.ds, model, s, &run);
    let page = report_page(&state.ds, model, s, &run, &summary, state.finance_draws)?;
    let json = serde_json::to_string(&summary).map_err(|e| e.to_string())?;
    Ok((json, page))
}

#[utoipa::path(get, path = "/api/runs", responses((status = 200, body = [RunRecord])))]
async fn list_runs(Extract(state): Extract<Shared>) -> Response {
    match state.store.runs() {
        Ok(v) => Json(v).into_response(),
        Err(e) => internal(e),
    }
}

/// A run with its summary once done.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunOut {
    /// The run.
    pub run: RunRecord,
    /// Its summary (as `chokepoint run --json`), once done.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
}

#[utoipa::path(
    get,
    path = "/api/runs/{id}",
    params(("id" = i64, Path)),
    responses((status = 200, body = RunOut), (status = 404, body = ApiError))
)]
async fn get_run(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    match exists(state.store.run(id), "run", id) {
        Ok((run, summary)) => with_stored("run", &run, "summary", summary),
        Err(r) => *r,
    }
}

#[utoipa::path(
    get,
    path = "/api/runs/{id}/report",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/html", description = "The run report"), (status = 404, body = ApiError))
)]
async fn run_report(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    match state.store.report(id) {
        Ok(Some(page)) => Html(Body::from(page)).into_response(),
        Ok(None) => fail(
            StatusCode::NOT_FOUND,
            format!("run {id} has no report"),
            "a run has a report once its status is done",
        ),
        Err(e) => internal(e),
    }
}

/// How often a progress stream looks at a run (a display cadence, not a model quantity).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

#[utoipa::path(
    get,
    path = "/api/runs/{id}/events",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/event-stream",
        description = "Server-sent events: `progress` ({run, done, total}) while it runs, then one `status` ({status, error}) when it ends"),
        (status = 404, body = ApiError))
)]
async fn run_events(Extract(state): Extract<Shared>, P(id): P<i64>) -> Response {
    progress_stream(state, id, Kind::Run)
}

/// Server-sent events of a run or job: `progress` ({run, done, total}) while it runs, then one
/// `status` ({status, error}) when it ends.
/// A 404 when there is no such run or job.
pub(crate) fn progress_stream(state: Shared, id: i64, kind: Kind) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    if let Err(r) = exists(state.store.status(kind, id), kind.name(), id) {
        return *r;
    }
    fn progress_of(s: &State, kind: Kind) -> &std::sync::Mutex<crate::Progress> {
        match kind {
            Kind::Run => &s.progress,
            Kind::Job => &s.job_progress,
        }
    }
    // (state, last progress sent, finished)
    let stream = futures_util::stream::unfold(
        (state, None::<(String, usize, usize)>, false),
        move |(state, last, ended)| async move {
            if ended {
                return None;
            }
            loop {
                let Some((status, error)) = state.store.status(kind, id).ok().flatten() else {
                    let e = Event::default()
                        .event("status")
                        .data("{\"status\":\"gone\"}");
                    return Some((Ok::<_, std::convert::Infallible>(e), (state, last, true)));
                };
                if status != "queued" && status != "running" {
                    let data = serde_json::json!({"status": status, "error": error});
                    let e = Event::default().event("status").data(data.to_string());
                    return Some((Ok(e), (state, last, true)));
                }
                let now = progress_of(&state, kind)
                    .lock()
                    .ok()
                    .and_then(|p| p.get(&id).cloned());
                if now.is_some() && now != last {
                    let (which, done, total) = now.clone().unwrap_or_default();
                    let data = serde_json::json!({"run": which, "done": done, "total": total});
                    let e = Event::default().event("progress").data(data.to_string());
                    return Some((Ok(e), (state, now, false)));
                }
                tokio::time::sleep(PROGRESS_EVERY).await;
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Query of `/api/compare`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// First run.
    pub a: i64,
    /// Second run.
    pub b: i64,
}

/// One of the article's questions in two runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnswerPair {
    /// Key.
    pub key: String,
    /// The question.
    pub question: String,
    /// Value in run a.
    pub a: Option<f64>,
    /// Value in run b.
    pub b: Option<f64>,
    /// Unit.
    pub unit: String,
}

/// Two finished runs side by side.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// Run a.
    pub a: RunRecord,
    /// Run b.
    pub b: RunRecord,
    /// The article's questions answered in each.
    pub answers: Vec<AnswerPair>,
}

#[utoipa::path(
    get,
    path = "/api/compare",
    params(CompareParams),
    responses((status = 200, body = Comparison), (status = 404, body = ApiError), (status = 409, body = ApiError))
)]
async fn compare(Extract(state): Extract<Shared>, Q(q): Q<CompareParams>) -> Response {
    let get = |id: i64| -> Result<(RunRecord, serde_json::Value), Box<Response>> {
        match state.store.run(id) {
            Ok(Some((r, Some(s)))) => Ok((
                r,
                serde_json::from_str(&s).map_err(|e| Box::new(internal(e)))?,
            )),
            Ok(Some((r, None))) => Err(Box::new(fail(
                StatusCode::CONFLICT,
                format!("run {id} is {}", r.status),
                "compare runs whose status is done",
            ))),
            Ok(None) => Err(Box::new(fail(
                StatusCode::NOT_FOUND,
                format!("no run {id}"),
                "GET /api/runs lists them",
            ))),
            Err(e) => Err(Box::new(internal(e))),
        }
    };
    let ((ra, sa), (rb, sb)) = match (get(q.a), get(q.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return *e,
    };
    let list = |s: &serde_json::Value| -> Vec<serde_json::Value> {
        s["answers"].as_array().cloned().unwrap_or_default()
    };
    let (la, lb) = (list(&sa), list(&sb));
    let mut keys: Vec<&serde_json::Value> = la.iter().chain(&lb).collect();
    keys.dedup_by(|x, y| x["key"] == y["key"]);
    let mut answers: Vec<AnswerPair> = Vec::new();
    for k in keys {
        let key = k["key"].as_str().unwrap_or_default().to_string();
        if answers.iter().any(|x| x.key == key) {
            continue;
        }
        let find = |l: &[serde_json::Value]| {
            l.iter()
                .find(|x| x["key"] == key.as_str())
                .and_then(|x| x["value"].as_f64())
        };
        answers.push(AnswerPair {
            question: k["question"].as_str().unwrap_or_default().to_string(),
            unit: k["unit"].as_str().unwrap_or_default().to_string(),
            a: find(&la),
            b: find(&lb),
            key,
        });
    }
    Json(Comparison {
        a: ra,
        b: rb,
        answers,
    })
    .into_response()
}

/// The baseline of the default demand path through `year` (first year after the base year by
/// default), computed off the async threads; (model, run, year).
async fn baseline_to(
    state: &Shared,
    year: Option<i32>,
) -> Result<
    (
        Arc<chokepoint_core::world::baseline::WorldModel>,
        chokepoint_core::world::Baseline,
        i32,
    ),
    Box<Response>,
> {
    let s = state.clone();
    let out = tokio::task::spawn_blocking(move || -> Result<_, (StatusCode, String, String)> {
        let base = s.ds.assumption("default_year").map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
                String::new(),
            )
        })? as i32;
        let year = year.unwrap_or(base + 1);
        if year <= base {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("year {year} is not after the base year {base}"),
                format!("runs start in {}", base + 1),
            ));
        }
        let model = s
            .model("steps")
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e, String::new()))?;
        let run = model
            .run(&s.ds, year, &[], None)
            .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string(), String::new()))?;
        Ok((model, run, year))
    })
    .await;
    match out {
        Ok(Ok(x)) => Ok(x),
        Ok(Err((status, e, hint))) => Err(Box::new(fail(status, e, hint))),
        Err(e) => Err(Box::new(internal(e))),
    }
}

/// Query of `/api/exposure/{region}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExposureParams {
    /// One end-use sector (default: all final consumption).
    pub sector: Option<String>,
    /// One good (default: every good the consumer uses).
    pub good: Option<String>,
    /// Year traced in the baseline (default: the first year after the base year).
    pub year: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/api/exposure/{region}",
    params(("region" = String, Path, description = "Model region or country"), ExposureParams),
    responses((status = 200, description = "Traces as `chokepoint exposure --json` lists them (baseline)"), (status = 404, body = ApiError))
)]
async fn exposure(
    Extract(state): Extract<Shared>,
    P(region): P<String>,
    Q(q): Q<ExposureParams>,
) -> Response {
    use chokepoint_core::exposure::{Flows, query};
    let (model, run, year) = match baseline_to(&state, q.year).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let traced = Flows::of_year(&run, &model.world, model.processes(), year).and_then(|f| {
        query(
            &f,
            &model.world,
            &region,
            q.sector.as_deref(),
            q.good.as_deref(),
        )
    });
    match traced {
        Ok(t) => Json(
            serde_json::json!({"region": region, "sector": q.sector, "year": year, "baseline": t}),
        )
        .into_response(),
        Err(e) => fail(
            StatusCode::NOT_FOUND,
            e,
            "GET /api/regions lists the regions",
        ),
    }
}

/// Query of `/api/criticality`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CriticalityParams {
    /// `EU` (default), a model region, a country or `group:ID`.
    pub jurisdiction: Option<String>,
    /// Year scored in the baseline (default: the first year after the base year).
    pub year: Option<i32>,
    /// `eu` or `usgs` (default: `usgs` for the USA, else `eu`).
    pub method: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/criticality",
    params(CriticalityParams),
    responses((status = 200, description = "EU- or USGS-method scores as `chokepoint criticality --json` lists them (baseline)"), (status = 400, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError))
)]
async fn criticality(Extract(state): Extract<Shared>, Q(q): Q<CriticalityParams>) -> Response {
    use chokepoint_core::criticality::{default_jurisdiction, usgs_by_default};
    let usgs = match q.method.as_deref() {
        None => usgs_by_default(q.jurisdiction.as_deref()),
        Some(m) if m.eq_ignore_ascii_case("usgs") => true,
        Some(m) if m.eq_ignore_ascii_case("eu") => false,
        Some(m) => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("unknown method '{m}'"),
                "method=eu or method=usgs",
            );
        }
    };
    let (model, run, year) = match baseline_to(&state, q.year).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let name = q
        .jurisdiction
        .unwrap_or_else(|| default_jurisdiction(usgs).into());
    let (regions, eu) = match chokepoint_core::criticality::jurisdiction(&model.world, &name) {
        Ok(x) => x,
        Err(e) => {
            return fail(
                StatusCode::NOT_FOUND,
                e,
                "EU, a model region, a country or group:ID",
            );
        }
    };
    if usgs {
        let plants = model.processes();
        return match chokepoint_core::criticality::usgs::assess(
            &state.ds,
            &model.world,
            plants,
            &run,
            None,
            year,
            &name,
        ) {
            Ok(list) => Json(serde_json::json!({
                "method": "usgs", "jurisdiction": name, "year": year, "baseline": list
            }))
            .into_response(),
            Err(e) => fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                e,
                "a jurisdiction with rows in model/industry_accounts.csv (USA)",
            ),
        };
    }
    match chokepoint_core::criticality::assess(&state.ds, &model.world, &run, year, &regions, eu) {
        Ok(list) => Json(
            serde_json::json!({"method": "eu", "jurisdiction": name, "year": year, "baseline": list}),
        )
        .into_response(),
        Err(e) => internal(e),
    }
}

/// Query of `/api/companies`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompaniesParams {
    /// Last year of the baseline (default: the first year after the base year).
    pub to: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/api/companies",
    params(CompaniesParams),
    responses((status = 200, description = "Companies' baseline revenue from their assets, as `chokepoint companies --json`"))
)]
async fn companies(Extract(state): Extract<Shared>, Q(q): Q<CompaniesParams>) -> Response {
    let (model, run, _) = match baseline_to(&state, q.to).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    Json(chokepoint_core::companies::companies(
        &state.ds,
        &model.world,
        &run,
        &run,
    ))
    .into_response()
}

/// A good of the world model.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GoodOut {
    /// Id (`ndfeb_magnet`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Commodity.
    pub commodity: String,
    /// Stage.
    pub stage: String,
    /// Unit of quantities.
    pub unit: String,
    /// Chain (`rare_earths`).
    pub chain: String,
    /// An input of some plant (false: a chain's final good, the end of a Sankey).
    pub input: bool,
}

#[utoipa::path(get, path = "/api/goods", responses((status = 200, body = [GoodOut], description = "The world model's goods (those of the dataset's chains that the model calibrates)")))]
async fn goods(Extract(state): Extract<Shared>) -> Response {
    let s = state.clone();
    let model = match tokio::task::spawn_blocking(move || s.model("steps")).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let inputs: Vec<usize> = model
        .processes()
        .iter()
        .flat_map(|p| p.inputs.iter().map(|&(g, _)| g))
        .collect();
    Json(
        model
            .world
            .goods
            .iter()
            .enumerate()
            .filter_map(|(k, id)| {
                let g = state.ds.goods.iter().find(|g| &g.good_id == id)?;
                Some(GoodOut {
                    id: g.good_id.clone(),
                    name: g.name.clone(),
                    commodity: g.commodity_id.clone(),
                    stage: g.stage_id.clone(),
                    unit: g.unit.clone(),
                    chain: g.chain.clone(),
                    input: inputs.contains(&k),
                })
            })
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// Query of `/api/sankey/{good}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SankeyParams {
    /// Year of the baseline (default: the first year after the base year).
    pub year: Option<i32>,
    /// Links smaller than this share of the largest are left out (summed in `omitted_value`;
    /// default 0.002, a display choice).
    pub min_share: Option<f64>,
}

/// Default share of the largest link below which a Sankey leaves links out: a display choice
/// (smaller links are thinner than a pixel on a dashboard-sized chart).
const SANKEY_MIN_SHARE: f64 = 0.002;

#[utoipa::path(
    get,
    path = "/api/sankey/{good}",
    params(("good" = String, Path, description = "The chain's final good (GET /api/goods)"), SankeyParams),
    responses((status = 200, description = "Nodes (good · region) and links valued in USD: from where each good was made to where the next was made from it, and to where the final good was used"), (status = 404, body = ApiError))
)]
async fn sankey(
    Extract(state): Extract<Shared>,
    P(good): P<String>,
    Q(q): Q<SankeyParams>,
) -> Response {
    let (model, run, year) = match baseline_to(&state, q.year).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let share = q.min_share.unwrap_or(SANKEY_MIN_SHARE);
    if !(0.0..=1.0).contains(&share) {
        return fail(
            StatusCode::BAD_REQUEST,
            format!("min_share = {share} is not between 0 and 1"),
            "a share of the largest link, e.g. 0.002",
        );
    }
    match chokepoint_core::exposure::sankey(
        &run,
        &model.world,
        model.processes(),
        year,
        &good,
        share,
    ) {
        Ok(s) => Json(s).into_response(),
        Err(e) => fail(StatusCode::NOT_FOUND, e, "GET /api/goods lists the goods"),
    }
}
