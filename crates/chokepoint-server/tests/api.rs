//! The API against a server on 127.0.0.1:0: data, validation with located diagnostics, runs
//! as background jobs stored in SQLite (kept across restarts), the OpenAPI document, and the
//! access rules (token, body limit, loopback).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use chokepoint_core::Dataset;
use chokepoint_core::dataset::EMBEDDED_FILES;
use chokepoint_server::{Config, ServeError, bind};
use serde_json::Value;

/// The dataset with the coarse regions (quick runs).
fn minimal() -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in EMBEDDED_FILES {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let minimal = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/model/regions_minimal.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model/regions.csv"), minimal).unwrap();
    Dataset::load_dir(dir.path()).unwrap()
}

fn config(dir: &Path) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        token: None,
        max_runs: 1,
        max_body: 64 * 1024,
        finance_draws: 20,
        max_draws: 8,
        assets_dir: None,
        request_timeout: std::time::Duration::from_secs(120),
    }
}

/// Starts a server on its own runtime thread; its address.
fn start(config: Config) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let (addr, server) = bind(minimal(), config).await.unwrap();
            tx.send(addr).unwrap();
            server.await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// One HTTP/1.1 request: (status, body).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, String) {
    let (status, _, body) = exchange(addr, method, path, body, token);
    (status, body)
}

/// One HTTP/1.1 request: (status, head, body).
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Chunked bodies: join the chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut b = String::new();
        let mut r = rest;
        while let Some((size, tail)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            b.push_str(&tail[..n]);
            r = &tail[n + 2..];
        }
        b
    } else {
        rest.to_string()
    };
    (status, head.to_string(), body)
}

fn json(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = request(addr, method, path, body, None);
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")),
    )
}

const SCENARIO: &str = r#"[scenario]
name = "grasberg"
to = 2025

[[event]]
id = "grasberg"
kind = "disruption"
start = "2025-04-01"
source = "test"
place = "IDN"
goods = ["cu_mined"]
loss_per_year = 270000
"#;

/// Polls `/api/{kind}s/{id}` until its status is neither queued nor running.
fn wait_for(addr: SocketAddr, kind: &str, id: i64) -> Value {
    for _ in 0..1200 {
        let (_, v) = json(addr, "GET", &format!("/api/{kind}s/{id}"), "");
        if v[kind]["status"] != "queued" && v[kind]["status"] != "running" {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{kind} {id} did not finish");
}

#[test]
fn the_api_serves_data_validates_runs_and_keeps_runs_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start(config(dir.path()));
    // The dashboard page and the seed scenario it starts from.
    let (status, page) = request(addr, "GET", "/", "", None);
    assert_eq!(status, 200);
    assert!(
        page.contains("<textarea id=\"editor\"")
            && !page.contains("http://")
            && !page.contains("https://")
    );
    let (status, seed) = request(addr, "GET", "/api/examples/seed", "", None);
    assert_eq!(status, 200);
    assert!(seed.contains("[scenario]") && seed.contains("e22_drc_quota_annual"));
    let (status, v) = json(addr, "GET", "/api/health", "");
    assert_eq!((status, v["status"].as_str()), (200, Some("ok")));
    let (_, v) = json(addr, "GET", "/api/commodities", "");
    assert!(v.as_array().unwrap().iter().any(|c| c["id"] == "cobalt"));
    let (_, v) = json(addr, "GET", "/api/regions", "");
    assert!(v.as_array().unwrap().iter().any(|r| r == "CHN"));
    let (status, v) = json(addr, "GET", "/api/concentration/cobalt", "");
    assert_eq!(status, 200);
    assert!(
        v["countries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["iso3"] == "COD")
    );
    let (status, v) = json(addr, "GET", "/api/concentration/unobtainium", "");
    assert_eq!(status, 404);
    assert!(!v["error"].as_str().unwrap().contains("hint:"), "{v}");
    assert!(!v["hint"].as_str().unwrap().is_empty(), "{v}");
    // Malformed query strings and ids are JSON errors too.
    let (status, v) = json(addr, "GET", "/api/concentration/cobalt?year=soon", "");
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("year"), "{v}");
    assert!(v["hint"].as_str().unwrap().contains("/openapi.json"), "{v}");
    let (status, v) = json(addr, "GET", "/api/runs/abc", "");
    assert_eq!(status, 400);
    assert!(v["hint"].as_str().unwrap().contains("whole numbers"), "{v}");

    // Exposure, criticality and companies on the baseline.
    let (status, v) = json(
        addr,
        "GET",
        "/api/exposure/JPN?good=ndfeb_magnet&year=2025",
        "",
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["baseline"][0]["good"], "ndfeb_magnet");
    assert_eq!(json(addr, "GET", "/api/exposure/JPM?year=2025", "").0, 404);
    let (status, v) = json(addr, "GET", "/api/criticality?year=2025", "");
    assert_eq!(status, 200, "{v}");
    assert!(
        v["baseline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["material"] == "Cobalt")
    );
    assert_eq!(
        json(
            addr,
            "GET",
            "/api/criticality?jurisdiction=USB&year=2025",
            ""
        )
        .0,
        404
    );
    assert_eq!(json(addr, "GET", "/api/criticality?year=2020", "").0, 400);
    // The USA by the USGS method (its default), with the published score beside each.
    let (status, v) = json(
        addr,
        "GET",
        "/api/criticality?jurisdiction=USA&year=2025",
        "",
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["method"], "usgs");
    let dy = v["baseline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material"] == "Dysprosium")
        .unwrap();
    assert!(
        dy["sr"].as_f64().unwrap() > 0.0 && dy["sr_published"] == 0.61,
        "{dy}"
    );
    // The EU has no industry accounts: 422 with the core's hint; an unknown method is a 400.
    let (status, v) = json(
        addr,
        "GET",
        "/api/criticality?jurisdiction=EU&method=usgs&year=2025",
        "",
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["hint"].as_str().unwrap().contains("--method eu"), "{v}");
    let (status, v) = json(addr, "GET", "/api/criticality?method=jrc", "");
    assert_eq!(status, 400, "{v}");
    let (status, v) = json(addr, "GET", "/api/companies?to=2025", "");
    assert_eq!(status, 200, "{v}");
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|c| c["company_id"] == "freeport")
    );

    // Validation: a typo is located, with the nearest kind as a hint.
    let typo = SCENARIO.replace("kind = \"disruption\"", "kind = \"disruptoin\"");
    let (status, v) = json(addr, "POST", "/api/scenarios/validate", &typo);
    assert_eq!((status, v["ok"].as_bool()), (200, Some(false)));
    let d = &v["diagnostics"][0];
    assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(7), Some(8)));
    assert!(d["hint"].as_str().unwrap().contains("disruption"));
    let (_, v) = json(addr, "POST", "/api/scenarios/validate", SCENARIO);
    assert_eq!(v["ok"], true);
    assert_eq!(v["events"][0][1], "disruption");

    // Scenarios are stored; an invalid one is refused.
    let (status, v) = json(addr, "POST", "/api/scenarios", SCENARIO);
    assert_eq!(status, 201);
    let sid = v["id"].as_i64().unwrap();
    let (_, v) = json(addr, "GET", &format!("/api/scenarios/{sid}"), "");
    assert_eq!(v["text"], SCENARIO);
    assert_eq!(json(addr, "POST", "/api/scenarios", &typo).0, 422);

    // A run: queued, then done with its summary and report.
    let (status, v) = json(addr, "POST", "/api/runs", SCENARIO);
    assert_eq!((status, v["status"].as_str()), (202, Some("queued")));
    let id = v["id"].as_i64().unwrap();
    let done = wait_for(addr, "run", id);
    assert_eq!(done["run"]["status"], "done", "{done}");
    assert_eq!(done["summary"]["name"], "grasberg");
    assert_eq!(done["summary"]["cleared"], serde_json::json!([4, 4]));
    let (status, page) = request(addr, "GET", &format!("/api/runs/{id}/report"), "", None);
    assert_eq!(status, 200);
    assert!(page.starts_with("<!doctype html>") && page.contains("grasberg"));
    assert_eq!(json(addr, "GET", "/api/runs/999", "").0, 404);

    // Progress over server-sent events ends with the run's status.
    let (_, v) = json(addr, "POST", "/api/runs", SCENARIO);
    let second = v["id"].as_i64().unwrap();
    let (status, events) = request(addr, "GET", &format!("/api/runs/{second}/events"), "", None);
    assert_eq!(status, 200);
    assert!(events.contains("event: status"), "{events}");
    assert!(events.contains("\"status\":\"done\""), "{events}");
    for line in events
        .lines()
        .filter(|l| l.starts_with("data: {\"done\"") || l.contains("\"total\""))
    {
        let v: Value = serde_json::from_str(line.trim_start_matches("data: ")).unwrap();
        assert!(v["done"].as_u64() <= v["total"].as_u64(), "{line}");
    }
    // Two runs side by side: the same scenario gives the same answers.
    let (status, v) = json(addr, "GET", &format!("/api/compare?a={id}&b={second}"), "");
    assert_eq!(status, 200, "{v}");
    let answers = v["answers"].as_array().unwrap();
    assert!(!answers.is_empty());
    for a in answers {
        assert_eq!(a["a"], a["b"], "{a}");
    }
    assert_eq!(
        json(addr, "GET", &format!("/api/compare?a={id}&b=999"), "").0,
        404
    );

    // The OpenAPI document lists every route.
    let (status, v) = json(addr, "GET", "/openapi.json", "");
    assert_eq!(status, 200);
    for p in [
        "/api/health",
        "/api/runs",
        "/api/runs/{id}",
        "/api/scenarios/validate",
    ] {
        assert!(v["paths"][p].is_object(), "no {p} in the OpenAPI document");
    }

    // Too large a body is refused.
    let big = "#".repeat(70 * 1024);
    assert_eq!(
        request(addr, "POST", "/api/scenarios/validate", &big, None).0,
        413
    );

    // A second server on the same store sees the finished run.
    let again = start(config(dir.path()));
    let (_, v) = json(again, "GET", &format!("/api/runs/{id}"), "");
    assert_eq!(v["run"]["status"], "done");
    assert_eq!(v["summary"]["name"], "grasberg");
}

#[test]
fn a_token_is_required_beyond_loopback_and_then_on_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut open = config(dir.path());
    open.addr = "0.0.0.0:0".parse().unwrap();
    let refused = rt.block_on(async { bind(minimal(), open).await.err() });
    assert!(matches!(refused, Some(ServeError::NoToken(_))));
    let mut guarded = config(dir.path());
    guarded.token = Some("s3cret".into());
    let addr = start(guarded);
    assert_eq!(request(addr, "GET", "/api/health", "", None).0, 401);
    assert_eq!(
        request(addr, "GET", "/api/health", "", Some("wrong")).0,
        401
    );
    assert_eq!(
        request(addr, "GET", "/api/health", "", Some("s3cret")).0,
        200
    );
}

#[test]
fn a_request_past_its_deadline_gets_a_503() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.request_timeout = std::time::Duration::from_millis(1);
    let addr = start(c);
    // Criticality runs a baseline first: far longer than a millisecond.
    let (status, body) = request(addr, "GET", "/api/criticality?year=2025", "", None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--request-timeout"));
}

/// A scenario with a price floor (valued by the finance job) and an uncertain disruption
/// (drawn by the risk job).
const POLICY: &str = r#"[scenario]
name = "floor and outage"
to = 2025

[[event]]
id = "outage"
kind = "disruption"
start = "2025-04-01"
source = "test"
place = "IDN"
goods = ["cu_mined"]
loss_per_year = 270000
probability = 0.5

[[event]]
id = "floor"
kind = "price_floor"
start = "2025-01-01"
source = "test"
good = "ndpr_oxide"
exclude = ["CHN"]
floor = 110000
payer = "USA"
"#;

#[test]
fn the_dashboard_data_risk_and_finance_jobs_and_assets() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start(config(dir.path()));
    // The dashboard's files are embedded; nothing else is served.
    for (name, kind) in [
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("echarts.min.js", "text/javascript"),
        ("world.geo.json", "application/json"),
    ] {
        let (status, head, body) = exchange(addr, "GET", &format!("/assets/{name}"), "", None);
        assert_eq!(status, 200, "{name}");
        assert!(!body.is_empty(), "{name}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-type: {kind}")),
            "{name}: {head}"
        );
    }
    let (status, geo) = json(addr, "GET", "/assets/world.geo.json", "");
    assert_eq!(status, 200);
    assert!(
        geo["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["properties"]["iso3"] == "COD")
    );
    for probe in [
        "/assets/..%2FCargo.toml",
        "/assets/api.rs",
        "/assets/%2Fetc%2Fpasswd",
    ] {
        assert_eq!(request(addr, "GET", probe, "", None).0, 404, "{probe}");
    }
    // Goods, and the stages a commodity has country data for.
    let (_, goods) = json(addr, "GET", "/api/goods", "");
    assert!(
        goods
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "ndfeb_magnet"
                && g["chain"] == "rare_earths"
                && g["input"] == false)
    );
    assert!(
        goods
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "ndpr_oxide" && g["input"] == true)
    );
    let (_, v) = json(addr, "GET", "/api/commodities", "");
    let cobalt = v.as_array().unwrap().iter().find(|c| c["id"] == "cobalt");
    assert!(
        cobalt.unwrap()["stages"]
            .as_array()
            .unwrap()
            .contains(&"mining".into())
    );
    // Every listed stage answers with shares.
    let mut listed = 0;
    for c in v.as_array().unwrap() {
        for stage in c["stages"].as_array().unwrap() {
            let path = format!(
                "/api/concentration/{}?stage={}",
                c["id"].as_str().unwrap(),
                stage.as_str().unwrap()
            );
            let (status, body) = request(addr, "GET", &path, "", None);
            assert_eq!(status, 200, "{path}: {body}");
            listed += 1;
        }
    }
    assert!(listed > 50, "{listed} stages listed");
    // The Sankey of the magnet chain: links from upstream goods, down to use; every link's
    // value is its quantity at a positive price.
    let (status, s) = json(addr, "GET", "/api/sankey/ndfeb_magnet?year=2025", "");
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["chain"][0], "ndfeb_magnet");
    let links = s["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["target"].as_str().unwrap().starts_with("used · "))
    );
    assert!(links.iter().any(|l| l["good"] == "ndpr_oxide"));
    for l in links {
        assert!(l["value"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["quantity"].as_f64().unwrap() > 0.0, "{l}");
    }
    assert_eq!(json(addr, "GET", "/api/sankey/unobtainium", "").0, 404);
    assert_eq!(
        json(addr, "GET", "/api/sankey/ndfeb_magnet?min_share=2", "").0,
        400
    );

    // A risk job: draws out of range are refused; two draws run and are summarised.
    assert_eq!(json(addr, "POST", "/api/risk?draws=0", POLICY).0, 400);
    assert_eq!(json(addr, "POST", "/api/risk?draws=9", POLICY).0, 400);
    assert_eq!(
        json(addr, "POST", "/api/risk?draws=2&to=2020", POLICY).0,
        400
    );
    let typo = POLICY.replace("price_floor", "price_flor");
    assert_eq!(json(addr, "POST", "/api/risk?draws=2", &typo).0, 422);
    let (status, v) = json(addr, "POST", "/api/risk?draws=2&seed=7", POLICY);
    assert_eq!(status, 202, "{v}");
    let risk = v["id"].as_i64().unwrap();
    let (status, events) = request(addr, "GET", &format!("/api/jobs/{risk}/events"), "", None);
    assert_eq!(status, 200);
    assert!(events.contains("\"status\":\"done\""), "{events}");
    let v = wait_for(addr, "job", risk);
    assert_eq!(v["job"]["kind"], "risk");
    assert_eq!(v["job"]["options"]["draws"], 2);
    let summary = &v["result"]["summary"];
    assert_eq!(summary["draws"], 2, "{v}");
    assert_eq!(v["result"]["seed"], 7);
    for row in summary["price"].as_array().unwrap() {
        let (p5, p50, p95) = (
            row["p5"].as_f64().unwrap(),
            row["p50"].as_f64().unwrap(),
            row["p95"].as_f64().unwrap(),
        );
        assert!(p5 <= p50 && p50 <= p95, "{row}");
    }
    // A finance job values the floor.
    let (status, v) = json(addr, "POST", "/api/finance?draws=30", POLICY);
    assert_eq!(status, 202, "{v}");
    let fin = v["id"].as_i64().unwrap();
    let v = wait_for(addr, "job", fin);
    assert_eq!(v["job"]["status"], "done", "{v}");
    let text = v["result"].to_string();
    assert!(text.contains("floor"), "{text}");
    let (_, list) = json(addr, "GET", "/api/jobs", "");
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [fin, risk]);
    assert_eq!(json(addr, "GET", "/api/jobs/999", "").0, 404);

    // A run's summary carries the charts' series: baseline and scenario over the same
    // quarters, and the outage lowers world copper-ore production.
    let (_, v) = json(addr, "POST", "/api/runs", SCENARIO);
    let done = wait_for(addr, "run", v["id"].as_i64().unwrap());
    let series = done["summary"]["series"].as_array().unwrap();
    let cu = series.iter().find(|s| s["good"] == "cu_mined").unwrap();
    assert_eq!(cu["periods"].as_array().unwrap().len(), 4);
    let sum = |k: &str| -> f64 {
        cu[k]["production"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum()
    };
    assert!(sum("scenario") < sum("baseline") - 1e4, "{cu}");

    // The OpenAPI document lists the new routes.
    let (_, doc) = json(addr, "GET", "/openapi.json", "");
    for p in [
        "/api/risk",
        "/api/finance",
        "/api/jobs/{id}/events",
        "/api/sankey/{good}",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "no {p} in the OpenAPI document"
        );
    }
}
