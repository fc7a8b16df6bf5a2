//! Scenario files: located errors, and every event kind's effect on a small market whose
//! equilibrium is known in closed form.
//!
//! The market: region A supplies q = p − 10; regions B and C each demand q = 100 − p; routes
//! A→B, A→C, B→C and C→B cost 5. Without events p_A = 200/3, p_B = p_C = p_A + 5.

use chokepoint_core::scenario::events::EventState;
use chokepoint_core::scenario::{Quarter, Scenario, World, parse_scenario};
use chokepoint_equilibrium::{DemandStep, Market, Route, Solution, SolveStatus, SupplyStep, solve};

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
/// Mid-2026, when the test events are in force.
const T: f64 = 2026.375;

fn world() -> World {
    let mut w = World::new(&["A", "B", "C"], &["g", "h"], &[100.0, 100.0]);
    let b = w.node(B, 0);
    w.base_consumption[b] = 100.0;
    let a = w.node(A, 0);
    w.base_output[a] = 200.0;
    w
}

fn market() -> Market {
    let mut m = Market {
        regions: vec!["A".into(), "B".into(), "C".into()],
        goods: vec!["g".into(), "h".into()],
        ..Market::default()
    };
    for good in 0..2 {
        m.supply.push(SupplyStep {
            region: A,
            good,
            intercept: 10.0,
            slope: 1.0,
            capacity: None,
        });
        for region in [B, C] {
            m.demand.push(DemandStep {
                region,
                good,
                intercept: 100.0,
                slope: 1.0,
                capacity: None,
            });
        }
        for (from, to) in [(A, B), (A, C), (B, C), (C, B)] {
            m.routes.push(Route {
                from,
                to,
                good,
                cost: 5.0,
                tariff: 0.0,
                capacity: None,
                banned: false,
            });
        }
    }
    m
}

fn route(m: &Market, from: usize, to: usize, good: usize) -> usize {
    m.routes
        .iter()
        .position(|r| r.from == from && r.to == to && r.good == good)
        .unwrap()
}

fn load(events: &str, w: &mut World) -> Scenario {
    let text = format!("[scenario]\nname = \"test\"\nto = 2030\n\n{events}");
    match Scenario::load(&text, "test.toml", w) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Applies every event at `t` (with an optional baseline solution) and clears the market.
fn run_at(
    s: &Scenario,
    w: &World,
    t: f64,
    base: Option<&Solution>,
    states: &mut Vec<EventState>,
) -> (Market, Solution) {
    if states.is_empty() {
        *states = s.events.iter().map(|e| e.kind.initial_state()).collect();
    }
    let mut m = market();
    let q = Quarter {
        t,
        length: 0.25,
        baseline_flows: base.map(|b| b.flows.as_slice()),
        baseline_prices: base.map(|b| b.prices.as_slice()),
    };
    for (e, st) in s.events.iter().zip(states.iter_mut()) {
        e.kind.apply(e, w, &q, &mut m, st);
    }
    let sol = solve(&m).unwrap();
    assert_eq!(sol.status, SolveStatus::Optimal);
    for (e, st) in s.events.iter().zip(states.iter_mut()) {
        e.kind.after(&m, &sol, st);
    }
    (m, sol)
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
        "{what}: got {a}, expected {b}"
    );
}

fn baseline() -> Solution {
    solve(&market()).unwrap()
}

#[test]
fn without_events_the_market_clears_at_the_closed_form() {
    let m = market();
    let sol = baseline();
    close(sol.prices[m.node(A, 0)], 200.0 / 3.0, "p_A");
    close(sol.prices[m.node(B, 0)], 200.0 / 3.0 + 5.0, "p_B");
}

#[test]
fn an_export_ban_stops_the_flow_and_trade_reroutes_through_a_third_region() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "ban"
kind = "export_ban"
start = "2026"
source = "test"
origin = "A"
destinations = ["B"]
goods = ["g"]
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    close(sol.flows[route(&m, A, B, 0)], 0.0, "A→B");
    assert!(sol.flows[route(&m, C, B, 0)] > 1.0, "B is served through C");
    // p_A − 10 = (100 − p_A − 10) + (100 − p_A − 5): p_A = 65, p_B = 75.
    close(sol.prices[m.node(A, 0)], 65.0, "p_A");
    close(sol.prices[m.node(B, 0)], 75.0, "p_B");
    // Before the start nothing changes.
    let (_, before) = run_at(&s, &w, 2025.875, None, &mut Vec::new());
    close(before.prices[m.node(A, 0)], 200.0 / 3.0, "p_A before");
}

#[test]
fn an_import_ban_and_a_coalition_close_every_route_into_the_group() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "club"
kind = "coalition"
start = "2026"
source = "test"
name = "club"
members = ["B", "C"]

[[event]]
id = "ban"
kind = "export_ban"
start = "2026"
source = "test"
origin = "A"
destinations = ["club"]
goods = ["g"]

[[event]]
id = "no_h_into_b"
kind = "import_ban"
start = "2026"
source = "test"
importer = "B"
goods = ["h"]
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    close(
        sol.flows[route(&m, A, B, 0)] + sol.flows[route(&m, A, C, 0)],
        0.0,
        "A's exports of g",
    );
    close(
        sol.flows[route(&m, A, B, 1)] + sol.flows[route(&m, C, B, 1)],
        0.0,
        "h into B",
    );
    assert!(sol.flows[route(&m, A, C, 1)] > 1.0, "h still goes to C");
}

#[test]
fn stage_selective_control_blocks_one_good_and_lets_the_other_pass() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "truce"
kind = "stage_selective_control"
start = "2026"
source = "test"
origin = "A"
destinations = ["B", "C"]
blocked = ["h"]
allowed = ["g"]
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    close(
        sol.flows[route(&m, A, B, 1)] + sol.flows[route(&m, A, C, 1)],
        0.0,
        "h exports",
    );
    close(
        sol.flows[route(&m, A, B, 0)],
        200.0 / 3.0 - 10.0 - (100.0 - 200.0 / 3.0 - 5.0),
        "g to B",
    );
}

#[test]
fn an_export_quota_binds_at_its_limit_less_the_administrative_delay() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "quota"
kind = "export_quota"
start = "2026"
source = "test"
origin = "A"
goods = ["g"]
limit_per_year = 100
admin_delay = 0.2
allocation = { first = 0.6, second = 0.4 }
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    let exported = sol.flows[route(&m, A, B, 0)] + sol.flows[route(&m, A, C, 0)];
    // 100 a year is 25 a quarter, 20 after the delay; A sells 20 at p = 30, B and C get 10 at 90.
    close(exported, 20.0, "exports");
    close(sol.prices[m.node(A, 0)], 30.0, "p_A");
    close(sol.prices[m.node(B, 0)], 90.0, "p_B");
}

#[test]
fn export_licensing_caps_exports_at_the_licensed_share_and_decays_with_renewals() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "licences"
kind = "export_licensing"
start = "2026"
source = "test"
origin = "A"
goods = ["g"]
licensed_share = 0.5
exporters = 11
licence_months = 6
renewal_probability = 0.5
"#,
        &mut w,
    );
    let base = baseline();
    let base_exports = 2.0 * (100.0 - 200.0 / 3.0 - 5.0);
    let exports = |t: f64| {
        let (m, sol) = run_at(&s, &w, t, Some(&base), &mut Vec::new());
        sol.flows[route(&m, A, B, 0)] + sol.flows[route(&m, A, C, 0)]
    };
    close(exports(2026.125), 0.5 * base_exports, "first licence");
    // One renewal due after six months: expected share 0.5 × 0.5.
    close(exports(2026.625), 0.25 * base_exports, "after one renewal");
}

#[test]
fn end_use_screening_removes_the_expected_denied_share() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "screen"
kind = "end_use_screening"
start = "2026"
source = "test"
origin = "A"
goods = ["g"]
sectors = ["defence"]
denial_probability = 0.5
share_of_trade = 0.5
"#,
        &mut w,
    );
    let base = baseline();
    let base_exports = 2.0 * (100.0 - 200.0 / 3.0 - 5.0);
    let (m, sol) = run_at(&s, &w, T, Some(&base), &mut Vec::new());
    let exported = sol.flows[route(&m, A, B, 0)] + sol.flows[route(&m, A, C, 0)];
    close(exported, 0.75 * base_exports, "exports");
}

#[test]
fn a_tariff_announcement_builds_stocks_before_it_takes_effect_and_they_are_sold_after() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "tariff"
kind = "tariff"
start = "2026-04-01"
source = "test"
importer = "B"
goods = ["g"]
rate = 0.1
announced = "2026-01-01"
prebuy_quarters = 1
release_quarters = 1
"#,
        &mut w,
    );
    let mut states = Vec::new();
    // 2026Q1: announced, not in force: B buys a quarter of its base consumption (25) ahead.
    let (m, sol) = run_at(&s, &w, 2026.125, None, &mut states);
    let stock_step = m.demand.len() - 1;
    close(sol.demand[stock_step], 25.0, "stock bought");
    close(states[0].stocks[0], 25.0, "stock held");
    // 2026Q2: in force on every route into B (10 per unit): p_B = p_A + 15, and the stock
    // comes back onto B's market.
    let (m, sol) = run_at(&s, &w, 2026.375, None, &mut states);
    let release = m.supply.len() - 1;
    close(sol.supply[release], 25.0, "stock sold");
    close(
        sol.prices[m.node(B, 0)] - sol.prices[m.node(A, 0)],
        15.0,
        "tariff wedge",
    );
    close(states[0].stocks[0], 0.0, "stock after");
}

#[test]
fn a_disruption_halves_the_supply_curve() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "mudrush"
kind = "disruption"
start = "2026"
end = "2027"
source = "test"
place = "A"
goods = ["g"]
share = 0.5
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    // (p − 10)/2 = 190 − 2p: p_A = 78.
    close(sol.prices[m.node(A, 0)], 78.0, "p_A");
    let (_, after) = run_at(&s, &w, 2027.125, None, &mut Vec::new());
    close(after.prices[m.node(A, 0)], 200.0 / 3.0, "p_A after the end");
}

#[test]
fn a_demand_shift_multiplies_demand_at_every_price() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "boom"
kind = "demand_shift"
start = "2026"
source = "test"
goods = ["g"]
places = ["B"]
factor = 2.0
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    let p_b = sol.prices[m.node(B, 0)];
    close(
        sol.node_demand(&m)[m.node(B, 0)],
        2.0 * (100.0 - p_b),
        "B's demand",
    );
}

#[test]
fn a_stockpile_buys_below_its_trigger_and_carries_its_stock() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "reserve"
kind = "stockpile"
start = "2026"
source = "test"
owner = "B"
good = "g"
capacity = 15
initial = 0
buy_below = 200
release_above = 300
max_buy_per_quarter = 10
max_release_per_quarter = 10
"#,
        &mut w,
    );
    let mut states = Vec::new();
    run_at(&s, &w, 2026.125, None, &mut states);
    close(states[0].stock, 10.0, "after one quarter");
    run_at(&s, &w, 2026.375, None, &mut states);
    close(states[0].stock, 15.0, "full");
}

#[test]
fn a_price_floor_keeps_supply_at_the_floor_quantity_when_prices_fall() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "floor"
kind = "price_floor"
start = "2026"
source = "test"
good = "g"
producers = ["A"]
floor = 80
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    // A supplies q(80) = 70 whatever the price: 190 − 2 p_A = 70, p_A = 60.
    close(sol.node_production(&m)[m.node(A, 0)], 70.0, "supply");
    close(sol.prices[m.node(A, 0)], 60.0, "p_A");
}

#[test]
fn a_collar_flattens_supply_above_its_ceiling_and_an_offtake_acts_as_a_floor_on_its_volume() {
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "collar"
kind = "price_collar"
start = "2026"
source = "test"
good = "g"
producers = ["A"]
floor = 20
ceiling = 50
upside_share = 0.5
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    // 40 + (p − 50)/2 = 190 − 2p: p_A = 70.
    close(sol.prices[m.node(A, 0)], 70.0, "p_A under the collar");
    let mut w = world();
    let s = load(
        r#"[[event]]
id = "offtake"
kind = "offtake"
start = "2026"
source = "test"
buyer = "B"
seller = "A"
good = "g"
volume_per_year = 400
floor = 80
"#,
        &mut w,
    );
    let (m, sol) = run_at(&s, &w, T, None, &mut Vec::new());
    close(
        sol.prices[m.node(A, 0)],
        60.0,
        "p_A with the offtake (100 a quarter covers q(80) = 70)",
    );
}

#[test]
fn project_and_deposit_ban_events_change_the_pipeline() {
    use chokepoint_core::dataset::tables::Project;
    let ds = chokepoint_core::Dataset::embedded().unwrap();
    let mut projects: Vec<Project> = ds.projects.clone();
    let mut w = world();
    for (i, p) in projects.iter().enumerate() {
        w.projects.insert(p.project_id.clone(), i);
    }
    let s = load(
        r#"[[event]]
id = "lift"
kind = "deposit_ban"
start = "2026"
source = "test"
project = "twin_metals"
banned = false
probability_if_lifted = 0.5
first_output = "2031"

[[event]]
id = "doe"
kind = "project"
start = "2026"
source = "test"
project = "us_haleu_doe"
project_probability = 0.9
capacity = 10
"#,
        &mut w,
    );
    for e in &s.events {
        e.kind.projects(e, 2025.5, &w, &mut projects);
    }
    let twin = w.projects["twin_metals"];
    assert_eq!(
        projects[twin].probability, 0.0,
        "before the event the ban holds"
    );
    for e in &s.events {
        e.kind.projects(e, 2026.5, &w, &mut projects);
    }
    assert_eq!(projects[twin].probability, 0.5);
    assert_eq!(projects[twin].start, 2031.0);
    let doe = w.projects["us_haleu_doe"];
    assert_eq!(
        (projects[doe].probability, projects[doe].capacity),
        (0.9, 10.0)
    );
}

#[test]
fn bad_files_are_rejected_with_every_problem_located() {
    let mut w = world();
    let text = r#"[scenario]
name = "bad"
to = 2030

[[event]]
id = "a"
kind = "export_bann"
start = "2026"
source = "x"

[[event]]
id = "b"
kind = "export_ban"
start = "2026-13"
source = "x"
origin = "AA"
goods = ["gg"]

[[event]]
id = "c"
kind = "export_quota"
start = "2027"
end = "2026"
source = "x"
origin = "A"
goods = ["g"]
limit_per_year = 10
admin_delay = 1.5

[[event]]
id = "d"
kind = "export_quota"
start = "2026"
source = "x"
origin = "A"
goods = ["g"]
limit_per_year = 10

[[event]]
id = "d"
kind = "disruption"
start = "2026"
source = "x"
place = "A"
goods = ["g"]
share = 0.5
colour = "red"
"#;
    let err = Scenario::load(text, "bad.toml", &mut w).unwrap_err();
    let at = |line: u32, col: u32, needle: &str| {
        assert!(
            err.diagnostics.iter().any(|d| d.location.line == line
                && d.location.col == col
                && d.message.contains(needle)),
            "no `{needle}` at {line}:{col} in\n{err}"
        );
    };
    at(7, 8, "unknown event kind `export_bann`");
    assert!(err.to_string().contains("did you mean `export_ban`"));
    at(14, 9, "month 13");
    at(16, 10, "unknown place `AA`");
    at(17, 10, "unknown good `gg`");
    at(23, 7, "ends before it starts");
    at(28, 15, "admin_delay 1.5 is outside 0–1");
    at(47, 1, "unknown field `colour`");
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.message.contains("`d` is used twice"))
    );
    assert!(
        err.diagnostics
            .iter()
            .all(|d| d.location.file == "bad.toml")
    );
    // A syntax error is reported alone, located.
    let err = parse_scenario("[scenario\nname = 1", "x.toml").unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(err.diagnostics[0].location.line, 1);
}

#[test]
fn overlapping_quotas_on_the_same_origin_and_good_contradict() {
    let mut w = world();
    let text = r#"[scenario]
name = "overlap"
to = 2030

[[event]]
id = "q1"
kind = "export_quota"
start = "2026"
end = "2027"
source = "x"
origin = "A"
goods = ["g"]
limit_per_year = 10

[[event]]
id = "q2"
kind = "export_quota"
start = "2026-06"
source = "x"
origin = "A"
goods = ["g"]
limit_per_year = 20
"#;
    let err = Scenario::load(text, "o.toml", &mut w).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    assert!(err.diagnostics[0].message.contains("same origin and good"));
    assert_eq!(err.diagnostics[0].location.line, 15);
}

#[test]
fn docs_scenarios_md_documents_every_kind_and_every_key() {
    let doc = include_str!("../../../docs/scenarios.md");
    for kind in chokepoint_core::scenario::events::KINDS {
        let heading = format!("### `{kind}`");
        let at = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let section = &doc[at + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        // The keys a kind accepts, as its reader lists them when it meets an unknown one.
        let text = format!(
            "[scenario]\nname = \"x\"\nto = 2030\n[[event]]\nid = \"x\"\nkind = \"{kind}\"\nstart = \"2026\"\nsource = \"x\"\nzz_unknown = 1\n"
        );
        let err = parse_scenario(&text, "x.toml").unwrap_err();
        let message = &err
            .diagnostics
            .iter()
            .find(|d| d.message.contains("unknown field `zz_unknown`"))
            .unwrap_or_else(|| panic!("{kind}: {err}"))
            .message;
        let expected = &message[message.find("expected").unwrap()..];
        let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(!keys.is_empty(), "{kind}: {message}");
        for key in keys {
            assert!(
                section.contains(&format!("| `{key}` |")),
                "docs/scenarios.md, {heading}: key `{key}` is not documented"
            );
        }
    }
}
