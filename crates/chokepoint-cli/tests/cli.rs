//! The `chokepoint` binary end to end: commands, JSON keys, errors and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn chokepoint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chokepoint"))
        .args(args)
        .env_remove("CHOKEPOINT_DATA")
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = chokepoint(&all);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn overview_covers_the_seed_commodities() {
    let v = json(&["overview"]);
    let lines = v["lines"].as_array().unwrap();
    let cobalt = lines
        .iter()
        .find(|l| l["commodity"] == "cobalt" && l["stage"] == "mining")
        .expect("cobalt mining line");
    assert_eq!(cobalt["leader"], "COD");
    assert!(cobalt["leader_share"].as_f64().unwrap() > 0.6);
    assert!(cobalt["hhi"].as_f64().unwrap() > 4000.0);
    let ge = lines
        .iter()
        .find(|l| l["commodity"] == "germanium")
        .unwrap();
    assert!(ge["error"].as_str().unwrap().contains("withheld"));
    // The human form is a table with the same content.
    let out = chokepoint(&["overview"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cobalt") && text.contains("COD"));
}

#[test]
fn concentration_json_has_documented_keys() {
    let v = json(&[
        "concentration",
        "cobalt",
        "--year",
        "2024",
        "--source",
        "usgs_mcs2025_world",
    ]);
    for key in [
        "commodity",
        "stage",
        "year",
        "metric",
        "source_id",
        "source",
        "unit",
        "world_total",
        "world_basis",
        "countries",
        "residual_share",
        "top1",
        "top3_share",
        "hhi",
        "hhi_wgi",
        "wgi_year",
        "withheld",
        "notes",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["top1"][0], "COD");
    assert_eq!(v["world_total"].as_f64(), Some(290_000.0));
    assert_eq!(v["countries"][0]["iso3"], "COD");
    assert_eq!(v["countries"][0]["quantity"]["status"], "exact");
}

#[test]
fn unknown_names_fail_with_suggestions_and_exit_1() {
    let out = chokepoint(&["concentration", "cobalot"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown commodity 'cobalot'"), "{err}");
    assert!(err.contains("did you mean 'cobalt'"), "{err}");
    let out = chokepoint(&["data", "show", "cobalt", "--stage", "refning"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did you mean 'refining'"));
    let out = chokepoint(&["data", "show", "tin", "--country", "Chnia"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown country 'Chnia'"),
        "{}",
        stderr(&out)
    );
    let v = json(&[
        "data",
        "show",
        "tin",
        "--country",
        "Burma",
        "--year",
        "2024",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["entity"] == "MMR"));
    let out = chokepoint(&["concentration", "cobalt", "--json", "--year", "1900"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(stderr(&out).trim()).expect("JSON error on stderr");
    assert_eq!(v["error"], "invalid_request");
}

#[test]
fn data_list_show_and_audit() {
    let v = json(&["data", "list"]);
    let ids: Vec<&str> = v["commodities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in ["rare_earths", "cobalt", "uranium", "silver", "gallium"] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "g7")
    );
    assert!(v["sectors"].as_array().unwrap().len() >= 10);

    let v = json(&[
        "data", "show", "cobalt", "--stage", "mining", "--year", "2024",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["entity"] == "COD"));
    assert!(rows.iter().all(|r| r["source_id"].is_string()));
    assert!(!v["sources"].as_object().unwrap().is_empty());

    let v = json(&["data", "audit"]);
    let ids: Vec<&str> = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    for id in [
        "wgi_worst",
        "wgi_best",
        "hhi_scale",
        "other_countries_in_hhi",
        "usgs_ev_floor",
        // A model-table row that is a named assumption: US value added of computers and
        // electronics (model/industry_accounts.csv line 3).
        "model/industry_accounts.csv:3 value_added",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(v["gap_counts"]["withheld"].as_u64().unwrap() > 0);
    assert!(
        v["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "withheld" && g["commodity"] == "germanium")
    );
    assert!(
        v["t5_crosscheck"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["outcome"] != "disagrees")
    );
}

fn export(dir: &Path) {
    let out = chokepoint(&["data", "export", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_edited_copy_is_used_and_a_broken_one_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-data");
    export(&dir);
    let d = dir.to_str().unwrap();
    // Exporting again does not overwrite what the user has.
    let out = chokepoint(&["data", "export", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing was written"));

    let out = chokepoint(&["--data", d, "concentration", "cobalt"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Break one cell: the error names the file, line and column and the run exits 2.
    let groups = dir.join("groups.csv");
    let text = std::fs::read_to_string(&groups).unwrap();
    let broken = text.replacen(",USA,", ",USQ,", 1);
    assert_ne!(broken, text);
    std::fs::write(&groups, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains(",USQ,")).unwrap() + 1;
    let out = chokepoint(&["--data", d, "overview"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:{line}:", groups.display())),
        "{err}"
    );
    assert!(
        err.contains("unknown country 'USQ'") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn model_regions_chains_and_production() {
    let v = json(&["model", "regions"]);
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 30);
    let members: usize = regions
        .iter()
        .map(|r| r["members"].as_array().unwrap().len())
        .sum();
    assert!(members >= 249, "every country in a region");

    let v = json(&["model", "chains", "--chain", "uranium"]);
    let chain = &v[0];
    assert_eq!(chain["chain"], "uranium");
    assert!(
        chain["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["output_good"] == "leu" && i["input_good"] == "swu")
    );
    let out = chokepoint(&["model", "chains", "--chain", "uranum"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean 'uranium'"),
        "{}",
        stderr(&out)
    );

    let v = json(&[
        "model",
        "production",
        "cobalt",
        "--year",
        "2024",
        "--source",
        "usgs_mcs2025_world",
    ]);
    let cod = v["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "COD")
        .unwrap();
    assert!((cod["share"].as_f64().unwrap() - 220_000.0 / 290_000.0).abs() < 1e-12);
}

#[test]
fn the_base_year_is_calibrated_and_cleared() {
    let v = json(&["model", "base-year"]);
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["regions"], 30);
    let goods = v["goods"].as_array().unwrap();
    assert!(goods.len() >= 10);
    for g in goods {
        assert!(
            g["max_share_error"].as_f64().unwrap() < 0.01,
            "{}: production shares off by more than 1 pp",
            g["good"]
        );
        assert!(g["min_price"].as_f64().unwrap() > 0.0);
    }
    let cu = goods.iter().find(|g| g["good"] == "cu_mined").unwrap();
    assert!(
        cu["secondary"].as_f64().unwrap() > 3.0e6,
        "scrap fills the copper gap"
    );
}

#[test]
fn the_baseline_runs_and_writes_its_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let v = json(&["baseline", "--to", "2025", "--out", out.to_str().unwrap()]);
    assert_eq!(v["quarters"], 4);
    assert_eq!(v["optimal_quarters"], 4);
    assert!(v["max_violation"].as_f64().unwrap() < 1e-6);
    let rows = std::fs::read_to_string(out.join("baseline.csv")).unwrap();
    let header = rows.lines().next().unwrap();
    assert_eq!(
        header,
        "period,region,good,price,production,consumption,imports,exports,stock_change,inventory,shortfall"
    );
    assert!(
        rows.lines()
            .any(|l| l.starts_with("2025Q4,CHN,cu_cathode,"))
    );
    let periods = std::fs::read_to_string(out.join("periods.csv")).unwrap();
    assert_eq!(periods.lines().count(), 1 + 4);
    // The Parquet table holds the same rows, with the documented columns.
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let reader =
        SerializedFileReader::new(std::fs::File::open(out.join("baseline.parquet")).unwrap())
            .unwrap();
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows() as usize, rows.lines().count() - 1);
    let columns: Vec<&str> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(columns, header.split(',').collect::<Vec<_>>());
    let first = reader.get_row_iter(None).unwrap().next().unwrap().unwrap();
    let csv_first = rows.lines().nth(1).unwrap();
    assert!(
        csv_first.starts_with(&format!(
            "{},{},",
            first.get_string(0).unwrap(),
            first.get_string(1).unwrap()
        )),
        "{first:?} vs {csv_first}"
    );
    let out = chokepoint(&["baseline", "--to", "2025", "--scenario", "nzee"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean 'nze'"),
        "{}",
        stderr(&out)
    );
}

/// A copy of the embedded data with the coarse regions, for quick world-model runs.
fn minimal_data(dir: &Path) -> String {
    let data = dir.join("data");
    assert!(
        chokepoint(&["data", "export", data.to_str().unwrap()])
            .status
            .success()
    );
    let minimal = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/model/regions_minimal.csv"),
    )
    .unwrap();
    std::fs::write(data.join("model/regions.csv"), minimal).unwrap();
    data.to_str().unwrap().to_string()
}

#[test]
fn a_scenario_runs_and_writes_its_summary_and_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let out = tmp.path().join("run");
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/examples/export_quota.toml");
    let v = json(&[
        "--data",
        &data,
        "run",
        file.to_str().unwrap(),
        "--to",
        "2026",
        "--out",
        out.to_str().unwrap(),
    ]);
    for key in [
        "name",
        "file",
        "demand",
        "quarters",
        "cleared",
        "events",
        "price_moves",
        "shortfalls",
        "answers",
    ] {
        assert!(v.get(key).is_some(), "summary without {key}");
    }
    assert_eq!(v["quarters"], 8);
    assert_eq!(v["events"][0]["kind"], "export_quota");
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(on_disk, v, "summary.json is what --json prints");
    // The quota binds: DR Congo exports less cobalt in 2026 than in the baseline, and the
    // results table tells the two runs apart.
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(results.starts_with("run,period,region,good,price"));
    let exports = |run: &str| -> f64 {
        results
            .lines()
            .filter(|l| l.starts_with(&format!("{run},2026")) && l.contains(",COD,co_"))
            .map(|l| l.split(',').nth(8).unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let cap = 96_600.0 * 0.8;
    assert!(
        exports("scenario") <= cap * (1.0 + 1e-6),
        "{}",
        exports("scenario")
    );
    assert!(exports("baseline") > cap);
    let flows = std::fs::read_to_string(out.join("flows.csv")).unwrap();
    assert!(flows.starts_with("run,period,from,to,good,flow"));
    assert!(
        flows
            .lines()
            .any(|l| l.starts_with("scenario,2026") && l.contains(",COD,"))
    );
    for f in ["results.parquet", "sectors.csv", "periods.csv"] {
        assert!(out.join(f).exists(), "{f}");
    }
    // The report is one page, readable offline: charts inline, nothing fetched.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<svg") && page.contains("export_quota_example"));
    assert!(page.contains("Named assumptions"));
    for external in ["<script", "src=\"http", "href=\"http", "@import"] {
        assert!(!page.contains(external), "the report refers to {external}");
    }
}

#[test]
fn a_bad_scenario_is_refused_with_located_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "[scenario]\nname = \"bad\"\nto = 2030\n\n[[event]]\nid = \"x\"\nkind = \"export_ban\"\nstart = \"2026\"\nsource = \"x\"\norigin = \"CHINA\"\ngoods = [\"dy_oxyde\"]\n",
    )
    .unwrap();
    let out = chokepoint(&["check", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(out.stderr.as_slice()).expect("JSON on stderr");
    assert_eq!(v["error"], "invalid_scenario");
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{v}");
    assert_eq!(d[0]["location"]["line"], 10);
    assert!(d[1]["hint"].as_str().unwrap().contains("dy_oxide"), "{v}");
    // The seed scenario itself is fine.
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/2026-01-critical-minerals.toml");
    let out = chokepoint(&["check", seed.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_seed_scenario_runs_end_to_end_and_answers_the_articles_questions() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let out = tmp.path().join("seed");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/2026-01-critical-minerals.toml");
    let run = chokepoint(&[
        "--data",
        &data,
        "run",
        seed.to_str().unwrap(),
        "--to",
        "2026",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("The article's questions"), "{text}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["cleared"], serde_json::json!([8, 8]));
    assert_eq!(v["events"].as_array().unwrap().len(), 24);
    let answer = |key: &str| -> f64 {
        v["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("no answer {key}"))["value"]
            .as_f64()
            .unwrap()
    };
    assert!(
        answer("japan_heavy_re_shortfall") > 0.0,
        "Japan runs short of magnets (E1)"
    );
    // The quota's limit, to the solvers' relative rounding (1e-9).
    assert!(
        answer("drc_cobalt_2026") <= (18_125.0 * 0.8 + 3.0 * 96_600.0 / 4.0 * 0.8) * (1.0 + 1e-9)
    );
    assert!(answer("copper_price_2026") > 0.0);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("The questions, answered") && page.contains("e22_drc_quota_annual"));
    assert!(page.contains("By end-use sector"));
    // The header's consumers traced (French aerospace, Japanese motor makers, US defence).
    assert!(page.contains("Where the inputs come from") && page.contains("FRA aerospace"));
    let exposure = v["exposure"].as_array().unwrap();
    assert_eq!(exposure.len(), 3);
    for c in exposure {
        assert!(c["error"].is_null(), "{c}");
        assert!(!c["baseline"].as_array().unwrap().is_empty(), "{c}");
    }
    // EU-method criticality before and after.
    assert!(page.contains("Criticality (EU method"));
    assert!(!v["criticality"]["scenario"].as_array().unwrap().is_empty());
    // USGS-method criticality of the USA before and after: the seed's Chinese export controls
    // (E1, E2, E11) move at least one scored material's trade exposure or vulnerability.
    assert!(page.contains("Criticality (USGS method, USA"));
    let usgs = &v["criticality_usgs"];
    let scored = |side: &str| -> Vec<(String, f64, f64)> {
        usgs[side]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sr"].is_f64())
            .flat_map(|m| {
                m["stages"].as_array().unwrap().iter().map(move |s| {
                    (
                        format!("{} {}", m["material"], s["stage"]),
                        s["te"].as_f64().unwrap(),
                        s["ev"].as_f64().unwrap(),
                    )
                })
            })
            .collect()
    };
    let (before, after) = (scored("baseline"), scored("scenario"));
    assert!(before.len() >= 8, "{usgs}");
    assert!(
        before
            .iter()
            .zip(&after)
            .any(|(b, a)| (b.1 - a.1).abs() > 1e-6 || (b.2 - a.2).abs() > 1e-6),
        "{before:?} vs {after:?}"
    );
    // Company exposure: the seed's five named companies are in the report.
    assert!(page.contains("<h2>Companies</h2>"));
    for c in ["MP Materials", "Centrus", "Freeport", "Albemarle", "SQM"] {
        assert!(page.contains(c), "no {c} in the report");
    }
    assert!(!v["companies"].as_array().unwrap().is_empty());
    // What the policies cost (E6–E8): every floor, collar, offtake and reserve is valued.
    assert!(page.contains("What the policies cost"));
    for id in [
        "e6_g7_floor",
        "e7_australia_collar",
        "e7_australia_reserve",
        "e8_mp_offtake",
    ] {
        assert!(page.contains(id), "no {id} in the policies section");
    }
}

#[test]
fn finance_values_a_scenarios_instruments_and_writes_its_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let out = tmp.path().join("fin");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/2026-01-critical-minerals.toml");
    let run = chokepoint(&[
        "--data",
        &data,
        "--json",
        "finance",
        seed.to_str().unwrap(),
        "--to",
        "2026",
        "--draws",
        "300",
        "--market-draws",
        "3",
        "--no-counterfactual",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let v: Value = serde_json::from_slice(&run.stdout).unwrap();
    let ins = v["instruments"].as_array().unwrap();
    let kinds: Vec<&str> = ins
        .iter()
        .map(|i| i["instrument"]["kind"].as_str().unwrap())
        .collect();
    for k in ["price_floor", "price_collar", "stockpile", "offtake"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    for i in ins {
        // Paid and received add up over the years to the path's totals.
        let s = &i["scenario"];
        let years: f64 = s["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["paid"].as_f64().unwrap())
            .sum();
        let paid = s["paid"].as_f64().unwrap();
        assert!((years - paid).abs() <= 1e-6 * paid.abs().max(1.0), "{i}");
        let d = i["draws"].as_array().unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0]["draws"], 300);
        assert_eq!(
            (d[2]["model"].as_str(), d[2]["draws"].as_u64()),
            (Some("market"), Some(3))
        );
        let c = &d[0]["net_cost"];
        assert!(c["p5"].as_f64() <= c["p50"].as_f64() && c["p50"].as_f64() <= c["p95"].as_f64());
    }
    // The same numbers again with the same seed.
    let again = chokepoint(&[
        "--data",
        &data,
        "--json",
        "finance",
        seed.to_str().unwrap(),
        "--to",
        "2026",
        "--draws",
        "300",
        "--market-draws",
        "3",
        "--threads",
        "1",
        "--no-counterfactual",
    ]);
    // Same seed, other thread count: the same numbers.
    assert_eq!(run.stdout, again.stdout);
    for f in [
        "finance.json",
        "finance.html",
        "finance_instruments.csv",
        "finance_years.csv",
        "finance_quarters.csv",
        "finance_projects.csv",
    ] {
        assert!(out.join(f).exists(), "no {f}");
    }
    let page = std::fs::read_to_string(out.join("finance.html")).unwrap();
    assert!(page.contains("What the policies cost") && page.contains("e8_mp_offtake"));
    // An unknown project is a clear error.
    let bad = chokepoint(&[
        "--data",
        &data,
        "finance",
        seed.to_str().unwrap(),
        "--to",
        "2025",
        "--draws",
        "0",
        "--no-counterfactual",
        "--project",
        "lynas_ndpr_expansoin",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("lynas_ndpr_expansion"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn risk_shards_merge_into_exactly_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Two uncertain events of 2026: a Grasberg disruption, the DR Congo cobalt quota.
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/risk/copper-cobalt-2026.toml"
    );
    let dir = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["risk", file, "--draws", "6"];
        args.extend_from_slice(extra);
        let out = chokepoint(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["--threads", "2", "--out", &dir("whole")]);
    run(&["--threads", "1", "--shard", "0/2", "--out", &dir("s0")]);
    run(&["--threads", "2", "--shard", "1/2", "--out", &dir("s1")]);
    let out = chokepoint(&[
        "risk",
        "merge",
        &dir("s0"),
        &dir("s1"),
        "--out",
        &dir("merged"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "risk.json",
        "risk_shortfall.csv",
        "risk_prices.csv",
        "risk_drivers.csv",
    ] {
        let a = std::fs::read(Path::new(&dir("whole")).join(f)).unwrap();
        let b = std::fs::read(Path::new(&dir("merged")).join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the whole run and the merged shards"
        );
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(Path::new(&dir("whole")).join("risk.json")).unwrap())
            .unwrap();
    assert_eq!(summary["draws"], 6);
    assert!(
        summary["shortfall"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "some draw leaves someone short"
    );
    let html = std::fs::read_to_string(Path::new(&dir("whole")).join("risk.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("What drives the tail")
            && html.contains("Exceedance")
    );
    // A shard alone is not the whole run.
    let out = chokepoint(&["risk", "merge", &dir("s0")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("draws missing"));
    // Bad shard syntax is a clear error.
    let out = chokepoint(&["risk", file, "--shard", "2/2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 ≤ I < N"));
    // Background risk adds an event per producing region, mined good and year.
    let replay = json(&["risk", file, "--background", "--replay", "1"]);
    let events = replay["events"].as_array().unwrap();
    assert!(events.len() > 40, "{} events", events.len());
    assert!(events.iter().any(|e| {
        e["event"]
            .as_str()
            .is_some_and(|id| id.starts_with("background_COD_co_mined_"))
    }));
    // One draw replays alone, with what it drew.
    let replay = json(&["risk", file, "--replay", "4"]);
    assert_eq!(replay["draw"], 4);
    assert_eq!(replay["events"].as_array().map(Vec::len), Some(2));
}

#[test]
fn finance_floor_lands_within_three_standard_errors_of_its_closed_form() {
    for model in ["lognormal", "normal"] {
        let vol = if model == "lognormal" { "0.4" } else { "40" };
        let v = json(&[
            "finance",
            "floor",
            "--forward",
            "100",
            "--strike",
            "110",
            "--vol",
            vol,
            "--years",
            "2",
            "--rate",
            "0.04",
            "--draws",
            "50000",
            "--model",
            model,
        ]);
        let (value, se, exact) = (
            v["value"].as_f64().unwrap(),
            v["std_error"].as_f64().unwrap(),
            v["closed_form"].as_f64().unwrap(),
        );
        assert!(se > 0.0 && (value - exact).abs() < 3.0 * se, "{model}: {v}");
    }
    let out = chokepoint(&[
        "finance",
        "floor",
        "--forward=-1",
        "--strike",
        "1",
        "--vol",
        "0.2",
        "--years",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model normal"));
}

#[test]
fn exposure_traces_a_consumer_through_its_chain_and_refuses_unknown_names() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let v = json(&[
        "--data",
        &data,
        "exposure",
        "JPN",
        "--good",
        "ndfeb_magnet",
        "--year",
        "2025",
    ]);
    let t = &v["baseline"][0];
    assert_eq!(t["good"], "ndfeb_magnet");
    assert!(t["quantity"].as_f64().unwrap() > 0.0);
    let stages: Vec<&str> = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["good"].as_str().unwrap())
        .collect();
    for g in ["ndfeb_magnet", "ndpr_oxide", "ree_concentrate"] {
        assert!(stages.contains(&g), "{stages:?}");
    }
    for s in t["stages"].as_array().unwrap() {
        let sum: f64 = s["origins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o[1].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-9, "{s}");
    }
    let bad = chokepoint(&["--data", &data, "exposure", "JPM", "--year", "2025"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("JPN"), "{}", stderr(&bad));
    let bad = chokepoint(&[
        "--data", &data, "exposure", "JPN", "--sector", "aerospac", "--year", "2025",
    ]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("aerospace"), "{}", stderr(&bad));
}

#[test]
fn criticality_scores_the_eu_and_refuses_an_unknown_jurisdiction() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let v = json(&["--data", &data, "criticality", "--year", "2025"]);
    let list = v["baseline"].as_array().unwrap();
    assert!(list.len() >= 10, "{v}");
    let cobalt = list.iter().find(|m| m["material"] == "Cobalt").unwrap();
    assert!(cobalt["sr"].as_f64().unwrap() > 0.0);
    assert_eq!(cobalt["ei"].as_f64(), Some(6.8));
    let critical: Vec<&str> = v["critical_before"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        critical.contains(&"Cobalt") && !critical.contains(&"Copper"),
        "{critical:?}"
    );
    assert!(v["scenario"].is_null());
    let usa = json(&[
        "--data",
        &data,
        "criticality",
        "--jurisdiction",
        "USA",
        "--year",
        "2025",
    ]);
    assert_eq!(usa["jurisdiction"], "USA");
    // USA defaults to the USGS method: DP, TE, EV per stage and the published score beside.
    assert_eq!(usa["method"], "usgs");
    let scored: Vec<&serde_json::Value> = usa["baseline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sr"].is_f64())
        .collect();
    assert!(scored.len() >= 8, "{usa}");
    for m in &scored {
        let sr = m["sr"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&sr), "{m}");
        assert!(m["stages"][0]["dp"].is_f64() && m["stages"][0]["ev"].is_f64());
    }
    // The EU method for the USA on request.
    let eu_method = json(&[
        "--data",
        &data,
        "criticality",
        "--jurisdiction",
        "USA",
        "--method",
        "eu",
        "--year",
        "2025",
    ]);
    assert!(eu_method["baseline"][0]["stages"][0]["hhi_gs"].is_f64());
    // No industry accounts for the EU: a clear error with a hint, not a panic.
    let bad = chokepoint(&[
        "--data",
        &data,
        "criticality",
        "--jurisdiction",
        "EU",
        "--method",
        "usgs",
        "--year",
        "2025",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("industry_accounts.csv") && stderr(&bad).contains("hint"),
        "{}",
        stderr(&bad)
    );
    let bad = chokepoint(&["--data", &data, "criticality", "--jurisdiction", "USB"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("USA"), "{}", stderr(&bad));
}

/// A free loopback port (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request to a local port: (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    Some((status, out.split_once("\r\n\r\n")?.1.to_string()))
}

fn serve(data: &str, store: &Path, port: u16) -> std::process::Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chokepoint"))
        .args(["--data", data, "serve", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(store)
        .args(["--finance-draws", "10", "--max-runs", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        if http(port, "GET", "/api/health", "").is_some() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

#[test]
fn a_killed_server_keeps_every_completed_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = minimal_data(tmp.path());
    let store = tmp.path().join("store");
    let port = free_port();
    let mut server = serve(&data, &store, port);
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/risk/copper-cobalt-2026.toml"
    ))
    .unwrap();
    let ids: Vec<i64> = (0..4)
        .map(|_| {
            let (status, body) = http(port, "POST", "/api/runs", &scenario).unwrap();
            assert_eq!(status, 202, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    // A risk job far too long to finish before the kill.
    let (status, body) = http(port, "POST", "/api/risk?draws=5000", &scenario).unwrap();
    assert_eq!(status, 202, "{body}");
    let job = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    // Wait for the first to complete, then kill the server mid-queue.
    for _ in 0..600 {
        let (_, body) = http(port, "GET", &format!("/api/runs/{}", ids[0]), "").unwrap();
        if body.contains("\"status\":\"done\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, before) = http(port, "GET", &format!("/api/runs/{}", ids[0]), "").unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let mut server = serve(&data, &store, port);
    let (_, list) = http(port, "GET", "/api/runs", "").unwrap();
    let runs: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 4);
    for r in runs.as_array().unwrap() {
        let s = r["status"].as_str().unwrap();
        assert!(s == "done" || s == "interrupted", "{r}");
    }
    // The unfinished job is marked as such, with its options kept.
    let (_, body) = http(port, "GET", &format!("/api/jobs/{job}"), "").unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["job"]["status"], "interrupted", "{v}");
    assert_eq!(v["job"]["options"]["draws"], 5000);
    assert!(v["result"].is_null());
    // The completed run is intact: the same summary as before the kill.
    let (_, after) = http(port, "GET", &format!("/api/runs/{}", ids[0]), "").unwrap();
    let (b, a): (Value, Value) = (
        serde_json::from_str(&before).unwrap(),
        serde_json::from_str(&after).unwrap(),
    );
    assert_eq!(b["run"]["status"], "done");
    assert_eq!(a["summary"], b["summary"]);
    let (status, page) = http(port, "GET", &format!("/api/runs/{}/report", ids[0]), "").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("</html>"));
    server.kill().unwrap();
    server.wait().unwrap();
}
