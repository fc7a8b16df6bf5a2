//! The embedded dataset: it loads, it is valid, it keeps withheld values withheld, it agrees
//! with USGS MCS 2025 table 5, and a broken copy is reported with file:line:col and a hint.

mod common;

use std::path::Path;

use chokepoint_core::dataset::EMBEDDED_FILES;
use chokepoint_core::dataset::tables::{EntityKind, Metric};
use chokepoint_core::dataset::value::{Figure, Status};
use chokepoint_core::metrics::concentration::{
    ConcentrationError, ConcentrationQuery, concentration,
};
use chokepoint_core::metrics::t5::{T5Outcome, USGS_WORLD_SOURCE, t5_crosscheck};
use chokepoint_core::{Dataset, LookupError};

fn ds() -> Dataset {
    match Dataset::embedded() {
        Ok(ds) => ds,
        Err(e) => panic!("embedded dataset is invalid:\n{e}"),
    }
}

fn query(commodity: &str, stage: &str, year: i32, source: &str) -> ConcentrationQuery {
    ConcentrationQuery {
        commodity: commodity.into(),
        stage: Some(stage.into()),
        year: Some(year),
        source: Some(source.into()),
        metric: Metric::Production,
    }
}

#[test]
fn embedded_dataset_is_valid_and_covers_the_seed_commodities() {
    let ds = ds();
    for id in [
        "rare_earths",
        "nd",
        "pr",
        "dy",
        "tb",
        "sm",
        "cobalt",
        "lithium",
        "copper",
        "nickel",
        "tungsten",
        "antimony",
        "silver",
        "uranium",
        "gallium",
        "germanium",
        "graphite",
        "manganese",
        "pgm",
    ] {
        assert!(ds.commodity(id).is_ok(), "commodity {id} missing");
    }
    for group in ["g7", "eu27", "oecd", "minerals_meeting_2026_01"] {
        assert!(
            ds.group_members().contains_key(group),
            "group {group} missing"
        );
    }
    let groups = ds.group_members();
    assert_eq!(groups["g7"].1.len(), 7);
    assert_eq!(groups["eu27"].1.len(), 27);
    // G7 + the other 20 EU members (FRA, DEU, ITA are in both) + AUS, IND, KOR, MEX.
    assert_eq!(groups["minerals_meeting_2026_01"].1.len(), 7 + 24 + 4);
    for sector in [
        "aerospace",
        "defence",
        "electronics",
        "solar_pv",
        "storage_batteries",
        "ev_batteries",
        "grid",
        "nuclear",
    ] {
        assert!(
            ds.sectors.iter().any(|s| s.sector_id == sector),
            "sector {sector} missing"
        );
    }
}

#[test]
fn every_supply_row_has_a_resolvable_source() {
    let ds = ds();
    for r in &ds.supply {
        let cited = ds.cite(&r.source_id);
        assert_ne!(cited, r.source_id, "row {} has no citation", r.line);
    }
}

#[test]
fn concentration_agrees_with_usgs_table_5_for_every_row() {
    let ds = ds();
    let checks = t5_crosscheck(&ds);
    assert_eq!(checks.len(), 31, "table 5 has 31 rows");
    let differing: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.outcome {
            T5Outcome::Disagrees(why) => Some(format!("{}: {why}", c.critical_mineral)),
            _ => None,
        })
        .collect();
    assert!(differing.is_empty(), "differences: {differing:#?}");
    let agreeing = checks
        .iter()
        .filter(|c| c.outcome == T5Outcome::Agrees)
        .count();
    // Germanium, scandium and yttrium are NA in table 5; everything else must agree.
    assert_eq!(agreeing, 28);
}

#[test]
fn cobalt_2024_is_drc_at_76_percent() {
    let ds = ds();
    let c = concentration(&ds, &query("cobalt", "mining", 2024, USGS_WORLD_SOURCE)).unwrap();
    let (leader, share) = c.top1.clone().unwrap();
    assert_eq!(leader, "COD");
    // 220,000 t of 290,000 t (USGS MCS 2025).
    assert!((share - 220_000.0 / 290_000.0).abs() < 1e-12);
    assert_eq!(c.world_basis, "published");
    assert!((c.world_total - 290_000.0).abs() < 1e-9);
    // HHI is the sum of squared percent shares of the named countries.
    let expected: f64 = c
        .countries
        .iter()
        .filter_map(|x| x.share)
        .map(|s| (100.0 * s).powi(2))
        .sum();
    assert!((c.hhi - expected).abs() < 1e-6);
    assert!(c.hhi > 5_700.0, "DRC alone contributes 75.9² ≈ 5,755");
    assert!(c.hhi_wgi > 0.0 && c.hhi_wgi <= 10.0);
}

#[test]
fn wgi_weighted_hhi_follows_the_eu_formula() {
    let ds = ds();
    let c = concentration(&ds, &query("cobalt", "mining", 2024, USGS_WORLD_SOURCE)).unwrap();
    let year = ds.assumption("wgi_year").unwrap() as i32;
    let expected: f64 = c
        .countries
        .iter()
        .filter_map(|x| {
            let w = ds.wgi_mean(&x.iso3, year)?;
            let s = x.share?;
            Some(s * s * 10.0 * (2.5 - w) / 5.0)
        })
        .sum();
    assert!((c.hhi_wgi - expected).abs() < 1e-12);
    // DR Congo's governance is among the world's weakest: its scaled WGI is above 7.
    let drc = c.countries.iter().find(|x| x.iso3 == "COD").unwrap();
    assert!(drc.wgi_scaled.unwrap() > 7.0);
}

#[test]
fn withheld_values_stay_withheld() {
    let ds = ds();
    let ge: Vec<_> = ds
        .supply_of("germanium")
        .filter(|r| r.metric == Metric::Production)
        .collect();
    assert!(!ge.is_empty(), "germanium rows are carried");
    assert!(
        ge.iter()
            .all(|r| r.status == Status::Withheld && r.value.is_none())
    );
    match concentration(&ds, &ConcentrationQuery::production("germanium")) {
        Err(ConcentrationError::NoTotal { status, .. }) => assert_eq!(status, "withheld"),
        other => panic!("germanium must not yield shares: {other:?}"),
    }
    // The US lithium row of MCS 2025 is W, and the world total excludes it.
    let us_li = ds
        .supply
        .iter()
        .find(|r| {
            r.commodity_id == "lithium"
                && r.entity == "USA"
                && r.year == 2024
                && r.source_id == USGS_WORLD_SOURCE
                && r.metric == Metric::Production
        })
        .expect("US lithium row");
    assert_eq!(us_li.figure(), Figure::Withheld);
    let li = concentration(&ds, &query("lithium", "mining", 2024, USGS_WORLD_SOURCE)).unwrap();
    assert!(li.withheld.contains(&"USA".to_string()));
    assert!(li.notes.iter().any(|n| n.contains("USA")));
}

#[test]
fn bounds_are_kept_as_bounds() {
    let ds = ds();
    let bounded: Vec<_> = ds
        .import_reliance
        .iter()
        .filter(|r| matches!(r.status, Status::Gt | Status::Lt))
        .collect();
    assert!(!bounded.is_empty());
    for r in bounded {
        assert!(r.raw_value.starts_with('>') || r.raw_value.starts_with('<'));
        let bound: f64 = r.raw_value[1..].replace(',', "").trim().parse().unwrap();
        assert_eq!(r.value, Some(bound));
    }
}

#[test]
fn residual_rows_count_in_the_total_but_not_as_a_producer() {
    let ds = ds();
    let c = concentration(&ds, &query("copper", "mining", 2024, USGS_WORLD_SOURCE)).unwrap();
    assert!(c.residual_share > 0.0);
    let named: f64 = c.countries.iter().filter_map(|x| x.share).sum();
    // Named countries plus the residual account for the published (rounded) world total.
    assert!((named + c.residual_share - 1.0).abs() < 0.02);
    assert!(c.countries.iter().all(|x| x.iso3 != "OTHER"));
}

#[test]
fn iea_top3_share_matches_the_iea_published_share() {
    let ds = ds();
    let mut compared = 0;
    let mut differing = Vec::new();
    for r in ds
        .supply
        .iter()
        .filter(|r| r.metric == Metric::Top3Share && r.year == 2023)
    {
        let q = query(&r.commodity_id, &r.stage_id, r.year, &r.source_id);
        let c = concentration(&ds, &q).unwrap();
        let published = c.published_top3_share.expect("published share carried");
        // The three largest producers hold at least as much as any three the IEA named.
        assert!(
            c.top3_share >= published - 0.005,
            "{} {}: computed {} below IEA {}",
            r.commodity_id,
            r.stage_id,
            c.top3_share,
            published
        );
        if (c.top3_share - published).abs() >= 0.005 {
            differing.push(format!("{}/{}", r.commodity_id, r.stage_id));
        }
        compared += 1;
    }
    assert!(compared >= 8, "only {compared} IEA stages compared");
    // IEA's battery-grade graphite "top 3" adds China, Japan and the United States although
    // Germany (28.2 kt) out-produces the United States (16.5 kt): the one known difference.
    assert_eq!(differing, vec!["graphite/battery_grade".to_string()]);
}

#[test]
fn unknown_names_suggest_the_nearest() {
    let ds = ds();
    match concentration(&ds, &ConcentrationQuery::production("cobalot")) {
        Err(ConcentrationError::Lookup(LookupError::Unknown { suggestions, .. })) => {
            assert_eq!(suggestions[0], "cobalt")
        }
        other => panic!("expected an unknown-commodity error, got {other:?}"),
    }
    let q = ConcentrationQuery {
        stage: Some("minning".into()),
        ..ConcentrationQuery::production("cobalt")
    };
    let err = concentration(&ds, &q).unwrap_err().to_string();
    assert!(err.contains("did you mean 'mining'"), "{err}");
    let q = ConcentrationQuery {
        year: Some(1990),
        ..ConcentrationQuery::production("cobalt")
    };
    let err = concentration(&ds, &q).unwrap_err().to_string();
    assert!(
        err.contains("unknown year '1990'") && err.contains("2024"),
        "{err}"
    );
    // Names and USGS spellings resolve.
    assert_eq!(
        ds.commodity("Rare earths").unwrap().commodity_id,
        "rare_earths"
    );
    assert_eq!(ds.resolve_country("Congo (Kinshasa)").unwrap().iso3, "COD");
    assert_eq!(ds.resolve_country("Burma").unwrap().iso3, "MMR");
}

#[test]
fn countries_are_iso_and_supply_entities_match_their_kind() {
    let ds = ds();
    for c in &ds.countries {
        assert!(
            c.iso3.len() == 3 && c.iso3.chars().all(|ch| ch.is_ascii_uppercase()),
            "{}",
            c.iso3
        );
    }
    for r in &ds.supply {
        if r.entity_kind == EntityKind::Country {
            assert!(ds.country(&r.entity).is_some(), "line {}", r.line);
        }
    }
}

// --- A user's edited copy ----------------------------------------------------------------------

/// Replaces the `field`-th cell of the first data row whose first cell is `first` and that
/// contains `containing`; returns the 1-based line number.
fn edit_cell(path: &Path, containing: &str, field: usize, new: &str) -> u32 {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let idx = lines
        .iter()
        .position(|l| l.contains(containing) && !l.contains('"'))
        .expect("a row to edit");
    let mut cells: Vec<String> = lines[idx].split(',').map(str::to_string).collect();
    cells[field] = new.to_string();
    lines[idx] = cells.join(",");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    idx as u32 + 1
}

#[test]
fn an_exported_copy_loads_like_the_embedded_one() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let copy = Dataset::load_dir(dir.path()).unwrap();
    let embedded = ds();
    assert_eq!(copy.supply.len(), embedded.supply.len());
    assert_eq!(copy.prices.len(), embedded.prices.len());
}

#[test]
fn broken_copy_reports_every_problem_with_place_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let supply = dir.path().join("supply.csv");
    // A withheld marker typed into the value column of a cobalt row (column 8).
    let line_w = edit_cell(&supply, "cobalt,mining,COD,country,2024", 7, "W");
    // An unknown commodity on a copper row (column 1).
    let line_c = edit_cell(&supply, "copper,mining,CHL,country,2024", 0, "coper");
    let err = Dataset::load_dir(dir.path()).unwrap_err();
    let shown = supply.display().to_string();
    let at = |line: u32, col: u32| {
        err.diagnostics
            .iter()
            .find(|d| d.location.file == shown && d.location.line == line && d.location.col == col)
    };
    // Column 8 starts after the first seven cells: count their characters.
    let text = std::fs::read_to_string(&supply).unwrap();
    let row_w = text.lines().nth(line_w as usize - 1).unwrap();
    let col_w = row_w
        .split(',')
        .take(7)
        .map(|c| c.chars().count() + 1)
        .sum::<usize>() as u32
        + 1;
    let d = at(line_w, col_w).unwrap_or_else(|| panic!("no diagnostic at value: {err}"));
    assert!(d.message.contains("'W'"), "{}", d.message);
    assert!(d.hint.contains("status"), "{}", d.hint);
    let d = at(line_c, 1).unwrap_or_else(|| panic!("no diagnostic at commodity: {err}"));
    assert!(
        d.message.contains("unknown commodity 'coper'"),
        "{}",
        d.message
    );
    assert!(d.hint.contains("copper"), "{}", d.hint);
    // The display form is file:line:col: error: ... / hint: ...
    let text = err.to_string();
    assert!(
        text.contains(&format!("{shown}:{line_c}:1: error:")),
        "{text}"
    );
}

#[test]
fn status_and_value_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let supply = dir.path().join("supply.csv");
    // A withheld status with a number is refused: a withheld figure is never a number.
    let text = std::fs::read_to_string(&supply).unwrap();
    let (idx, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(",withheld,") && !l.contains('"'))
        .expect("a withheld row");
    let cells: Vec<&str> = line.split(',').collect();
    let mut fixed: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
    fixed[7] = "0".into();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[idx] = fixed.join(",");
    std::fs::write(&supply, lines.join("\n") + "\n").unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err();
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.location.line == idx as u32 + 1
                && d.message
                    .contains("status 'withheld' must have an empty value")),
        "{err}"
    );
}

#[test]
fn wrong_header_and_missing_table_are_located() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let units = dir.path().join("units.csv");
    let text = std::fs::read_to_string(&units).unwrap();
    std::fs::write(&units, text.replacen("to_base", "factor", 1)).unwrap();
    std::fs::remove_file(dir.path().join("groups.csv")).unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("groups.csv:1:1: error: cannot read table groups.csv"),
        "{text}"
    );
    // Fix the missing table: the header problem is then reported at line 1, column 3.
    std::fs::write(
        dir.path().join("groups.csv"),
        EMBEDDED_FILES
            .iter()
            .find(|(f, _)| *f == "groups.csv")
            .unwrap()
            .1,
    )
    .unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!((d.location.line, d.location.col), (1, 16));
    assert!(
        d.message.contains("'factor', expected 'to_base'"),
        "{}",
        d.message
    );
}

#[test]
fn uranium_mining_is_read_from_the_wna_facts_as_one_source() {
    let ds = ds();
    let c = concentration(&ds, &ConcentrationQuery::production("uranium")).unwrap();
    assert_eq!(c.source_id, "supplementary_facts");
    assert_eq!(c.year, 2024);
    // WNA 2024: Kazakhstan 23,270 t U of 60,213 t U.
    let (leader, share) = c.top1.clone().unwrap();
    assert_eq!(leader, "KAZ");
    assert!((share - 23_270.0 / 60_213.0).abs() < 1e-12);
    assert!(c.countries.len() >= 12);
}
