//! `chokepoint solve FILE` end to end: the example markets and their known answers, the JSON
//! report's keys, and located errors with exit code 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TOL: f64 = 1e-6;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/markets")
        .join(name)
}

fn chokepoint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chokepoint"))
        .args(args)
        .env_remove("CHOKEPOINT_DATA")
        .output()
        .expect("the binary runs")
}

fn solve_json(file: &Path) -> Value {
    let out = chokepoint(&["solve", &file.to_string_lossy(), "--json"]);
    assert!(
        out.status.success(),
        "solve {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(v: &Value, expected: f64, what: &str) {
    let got = num(v);
    assert!(
        (got - expected).abs() <= TOL * expected.abs().max(1.0),
        "{what}: got {got}, expected {expected}"
    );
}

/// The entry of `list` whose keys have the given values.
fn find<'a>(list: &'a Value, keys: &[(&str, &str)]) -> &'a Value {
    list.as_array()
        .expect("an array")
        .iter()
        .find(|e| keys.iter().all(|(k, v)| e[*k] == *v))
        .unwrap_or_else(|| panic!("no {keys:?} in {list}"))
}

#[test]
fn two_regions_clear_at_the_known_prices() {
    // A: demand p = 20 − q, supply p = 2 + q; B: demand p = 30 − q, supply p = 8 + q;
    // A → B at 2: p_A = 14, p_B = 16, flow 6.
    let v = solve_json(&example("two-regions.toml"));
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["solver"], "fast");
    let a = find(&v["regions"], &[("id", "A")]);
    let b = find(&v["regions"], &[("id", "B")]);
    close(&a["price"], 14.0, "price A");
    close(&b["price"], 16.0, "price B");
    close(&a["supply"], 12.0, "supply A");
    close(&a["demand"], 6.0, "demand A");
    close(&b["supply"], 8.0, "supply B");
    close(&b["demand"], 14.0, "demand B");
    let flow = find(&v["flows"], &[("from", "A"), ("to", "B")]);
    close(&flow["quantity"], 6.0, "flow A → B");
    close(&flow["price_gap"], 2.0, "price gap");
    // One good: no `good` keys.
    assert!(a.get("good").is_none() && flow.get("good").is_none());
    // Welfare: CS = ½·6² + ½·14² = 116, PS = ½·12² + ½·8² = 104.
    close(&v["welfare"]["consumer_surplus"], 116.0, "consumer surplus");
    close(&v["welfare"]["producer_surplus"], 104.0, "producer surplus");
    close(&v["welfare"]["total"], 220.0, "total");

    // The human form carries the same numbers.
    let out = chokepoint(&["solve", &example("two-regions.toml").to_string_lossy()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["optimal", "14.00", "16.00", "6.00", "welfare"] {
        assert!(text.contains(word), "no {word} in\n{text}");
    }
}

#[test]
fn json_market_files_give_the_same_answer() {
    let toml = solve_json(&example("two-regions.toml"));
    let json = solve_json(&example("two-regions.json"));
    for (t, j) in toml["regions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(json["regions"].as_array().unwrap())
    {
        close(&j["price"], num(&t["price"]), "price");
    }
}

#[test]
fn processing_clears_at_the_known_prices() {
    // examples/markets/smelter.toml: the smelter's capacity binds at 8 metal from 16 ore;
    // ore 26 at the mine, 27 at the works; metal 84; capacity rent 25 per unit.
    let v = solve_json(&example("smelter.toml"));
    assert_eq!(v["status"], "optimal");
    let node = |id: &str, good: &str| find(&v["regions"], &[("id", id), ("good", good)]).clone();
    close(&node("mine", "ore")["price"], 26.0, "ore at the mine");
    close(&node("mine", "ore")["supply"], 16.0, "ore mined");
    close(&node("works", "ore")["price"], 27.0, "ore at the works");
    close(&node("works", "ore")["process_input"], 16.0, "ore smelted");
    close(&node("works", "metal")["price"], 84.0, "metal");
    close(&node("works", "metal")["process_output"], 8.0, "metal made");
    close(&node("works", "metal")["demand"], 8.0, "metal bought");
    // Nothing touches metal at the mine: it has no price.
    assert!(node("mine", "metal")["price"].is_null());
    let flow = find(
        &v["flows"],
        &[("from", "mine"), ("to", "works"), ("good", "ore")],
    );
    close(&flow["quantity"], 16.0, "ore shipped");
    let smelter = find(&v["processes"], &[("name", "smelter")]);
    assert_eq!(smelter["region"], "works");
    assert_eq!(smelter["output"], "metal");
    close(&smelter["activity"], 8.0, "activity");
    close(&smelter["margin"], 25.0, "margin");
    let cap = find(&v["constraints"], &[("kind", "process_capacity")]);
    close(&cap["shadow_price"], 25.0, "capacity shadow price");
    assert_eq!(cap["binding"], true);
}

#[test]
fn the_complete_example_clears_and_balances() {
    let v = solve_json(&example("magnets.toml"));
    assert_eq!(v["status"], "optimal", "{v}");
    assert_eq!(v["goods"], serde_json::json!(["oxide", "magnet"]));
    assert_eq!(v["regions"].as_array().unwrap().len(), 4 * 2);
    // Every node balances: supply + imports + output = demand + exports + input.
    for r in v["regions"].as_array().unwrap() {
        let inflow = num(&r["supply"]) + num(&r["imports"]) + num(&r["process_output"]);
        let outflow = num(&r["demand"]) + num(&r["exports"]) + num(&r["process_input"]);
        assert!((inflow - outflow).abs() < 1e-5, "unbalanced {r}");
    }
    // The ban holds; the fixed demand is met.
    let banned = find(&v["flows"], &[("from", "south"), ("to", "north")]);
    assert_eq!(banned["banned"], true);
    close(&banned["quantity"], 0.0, "banned flow");
    let west = find(&v["regions"], &[("id", "west"), ("good", "oxide")]);
    assert!(num(&west["demand"]) >= 5.0 - TOL);
    // Constraints of every kind are reported with shadow prices ≥ 0.
    let kinds: Vec<&str> = v["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "route_capacity",
        "quota",
        "export_share",
        "process_capacity",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    for c in v["constraints"].as_array().unwrap() {
        assert!(num(&c["shadow_price"]) >= -TOL, "{c}");
    }
}

#[test]
fn the_json_report_has_the_documented_keys() {
    let v = solve_json(&example("smelter.toml"));
    for key in [
        "status",
        "message",
        "solver",
        "iterations",
        "max_violation",
        "goods",
        "regions",
        "flows",
        "processes",
        "constraints",
        "welfare",
    ] {
        assert!(v.get(key).is_some(), "no `{key}` in {v}");
    }
    let region = &v["regions"][0];
    for key in [
        "id",
        "good",
        "price",
        "supply",
        "demand",
        "imports",
        "exports",
        "process_output",
        "process_input",
    ] {
        assert!(region.get(key).is_some(), "no regions[].{key}");
    }
    let flow = &v["flows"][0];
    for key in [
        "from",
        "to",
        "good",
        "quantity",
        "cost",
        "tariff",
        "price_gap",
        "banned",
    ] {
        assert!(flow.get(key).is_some(), "no flows[].{key}");
    }
    for key in ["name", "region", "output", "activity", "margin"] {
        assert!(v["processes"][0].get(key).is_some(), "no processes[].{key}");
    }
    for key in [
        "kind",
        "index",
        "name",
        "shadow_price",
        "quantity",
        "limit",
        "rent",
        "binding",
    ] {
        assert!(
            v["constraints"][0].get(key).is_some(),
            "no constraints[].{key}"
        );
    }
    for key in [
        "consumer_surplus",
        "producer_surplus",
        "processing_surplus",
        "transport_cost",
        "tariff_revenue",
        "constraint_rent",
        "fixed_demand_payments",
        "total",
    ] {
        assert!(v["welfare"].get(key).is_some(), "no welfare.{key}");
    }
}

const TYPO: &str = "[[region]]
id = \"A\"
demand = { intercept = 20.0, slope = 1.0 }
supply = { intercept = 2.0, slope = 1.0 }

[[region]]
id = \"B\"
demand = { intercept = 30.0, slope = 1.0 }
supply = { intercept = 8.0, slope = -1.0 }

[[route]]
from = \"A\"
to = \"Bee\"
cost = 2.0
";

#[test]
fn a_typo_is_located_with_a_suggestion_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, TYPO).unwrap();
    let name = file.to_string_lossy().into_owned();

    let out = chokepoint(&["solve", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    // Both problems, at once, each at file:line:col with a hint.
    assert!(
        err.contains(&format!("{name}:13:6: error: unknown region `Bee`")),
        "{err}"
    );
    assert!(err.contains("did you mean `B`?"), "{err}");
    assert!(
        err.contains(&format!("{name}:9:37: error: `slope` must be a number ≥ 0")),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    let out = chokepoint(&["solve", &name, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert_eq!(v["error"], "invalid_market");
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 2, "{v}");
    let d = &diags[1];
    assert_eq!(d["file"], name.as_str());
    assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(13), Some(6)));
    assert!(d["message"].as_str().unwrap().contains("Bee"));
    assert!(d["hint"].as_str().unwrap().contains("did you mean `B`?"));
}

#[test]
fn solve_needs_no_dataset_and_refuses_missing_files() {
    // A broken --data folder does not matter: no dataset is loaded.
    let out = chokepoint(&[
        "--data",
        "/nonexistent/chokepoint-data",
        "solve",
        &example("two-regions.toml").to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = chokepoint(&["solve", "/nonexistent/market.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read market file"));
}

#[test]
fn a_market_that_cannot_clear_is_an_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.toml");
    // Ten units must be delivered where nothing is supplied.
    std::fs::write(&file, "[[region]]\nid = \"A\"\nfixed_demand = 10.0\n").unwrap();
    let v = solve_json(&file);
    assert_eq!(v["status"], "infeasible");
    assert!(v["message"].is_string());
    assert_eq!(v["regions"], serde_json::json!([]));
    assert_eq!(v["flows"], serde_json::json!([]));
    assert!(v["welfare"].is_null());
}
