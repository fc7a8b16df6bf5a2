//! The world model's structure: model regions from data rules, chains of goods, and base-year
//! output by model region.

mod common;

use std::path::Path;

use chokepoint_core::Dataset;
use chokepoint_core::dataset::tables::Metric;
use chokepoint_core::metrics::concentration::{ConcentrationQuery, concentration};
use chokepoint_core::metrics::t5::USGS_WORLD_SOURCE;
use chokepoint_core::world::{RegionMap, production_by_region};

fn ds() -> Dataset {
    Dataset::embedded().unwrap_or_else(|e| panic!("embedded dataset is invalid:\n{e}"))
}

#[test]
fn every_country_is_in_exactly_one_model_region() {
    let ds = ds();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let ids: Vec<&str> = map.regions.iter().map(|r| r.id.as_str()).collect();
    for id in [
        "CHN", "USA", "JPN", "KOR", "TWN", "IND", "DEU", "FRA", "ITA", "GBR", "EUR", "CAN", "MEX",
        "BRA", "CHL", "ARG", "BOL", "PER", "AUS", "IDN", "PHL", "COD", "ZAF", "RUS", "KAZ", "MMR",
        "VNM", "MYS", "GRL", "ROW",
    ] {
        assert!(ids.contains(&id), "model region {id} missing");
    }
    let total: usize = map.regions.iter().map(|r| r.members.len()).sum();
    assert_eq!(total, ds.countries.len(), "each country counted once");
    for c in &ds.countries {
        assert!(map.region_of(&c.iso3).is_some(), "{} unassigned", c.iso3);
    }
    let eur = map.regions.iter().find(|r| r.id == "EUR").unwrap();
    assert_eq!(
        eur.members.len(),
        24,
        "rest of EU = EU27 minus DEU, FRA, ITA"
    );
    assert!(!eur.members.contains(&"DEU".to_string()));
    assert_eq!(map.rest().map(|r| map.regions[r].id.as_str()), Some("ROW"));
}

#[test]
fn regional_output_adds_up_the_member_countries() {
    let ds = ds();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let q = ConcentrationQuery {
        commodity: "cobalt".into(),
        stage: Some("mining".into()),
        year: Some(2024),
        source: Some(USGS_WORLD_SOURCE.into()),
        metric: Metric::Production,
    };
    let by_region = production_by_region(&ds, &map, &q).unwrap();
    let by_country = concentration(&ds, &q).unwrap();
    let cod = by_region
        .regions
        .iter()
        .find(|r| r.region == "COD")
        .unwrap();
    assert!((cod.share - by_country.top1.unwrap().1).abs() < 1e-12);
    // Every tonne of the source is in some region: countries plus the residual.
    let named: f64 = by_country.countries.iter().filter_map(|c| c.share).sum();
    let regional: f64 = by_region.regions.iter().map(|r| r.share).sum();
    assert!((regional - (named + by_country.residual_share)).abs() < 1e-12);
    // The residual ("Other countries") belongs to the rest of the world.
    let row = by_region
        .regions
        .iter()
        .find(|r| r.region == "ROW")
        .unwrap();
    assert!(row.quantity >= by_country.residual_share * by_country.world_total);
}

#[test]
fn merging_regions_is_an_edit_of_the_data() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let minimal = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/model/regions_minimal.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model/regions.csv"), minimal).unwrap();
    let ds = Dataset::load_dir(dir.path()).unwrap();
    let map = RegionMap::from_dataset(&ds).unwrap();
    assert!(map.regions.len() < 15);
    let q = ConcentrationQuery::production("rare_earths");
    let coarse = production_by_region(&ds, &map, &q).unwrap();
    let fine = production_by_region(
        &self::ds(),
        &RegionMap::from_dataset(&self::ds()).unwrap(),
        &q,
    )
    .unwrap();
    let total = |p: &chokepoint_core::world::RegionalProduction| {
        p.regions.iter().map(|r| r.quantity).sum::<f64>()
    };
    assert!((total(&coarse) - total(&fine)).abs() < 1e-6 * total(&fine));
}

#[test]
fn broken_region_rules_are_located() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    // Before the rest-of-world row: Japan named a second time, and a typo in an ISO code.
    let path = dir.path().join("model/regions.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rest = lines.iter().position(|l| l.contains(",*,")).unwrap();
    lines.insert(rest, "JP2,Japan again,JPN,".into());
    lines.insert(rest + 1, "TYP,Typo,CHM,".into());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err();
    let shown = path.display().to_string();
    let at = |line: usize| {
        err.diagnostics
            .iter()
            .find(|d| d.location.file == shown && d.location.line as usize == line)
            .unwrap_or_else(|| panic!("no diagnostic on line {line}: {err}"))
    };
    // Line numbers are 1-based and the header is line 1.
    let dup = at(rest + 1);
    assert!(
        dup.message.contains("JPN is already in region JPN"),
        "{}",
        dup.message
    );
    assert_eq!(
        dup.location.col,
        "JP2,Japan again,".chars().count() as u32 + 1
    );
    let typo = at(rest + 2);
    assert!(
        typo.message.contains("unknown country 'CHM'"),
        "{}",
        typo.message
    );
    assert!(typo.hint.contains("CHN"), "{}", typo.hint);
}

#[test]
fn a_region_file_without_rest_of_world_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let path = dir.path().join("model/regions.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(",*,")).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("countries are in no region"), "{err}");
    assert!(err.contains("'*'"), "{err}");
}

#[test]
fn the_chains_form_an_acyclic_graph_of_known_goods() {
    let ds = ds();
    assert!(ds.goods.len() >= 20, "only {} goods", ds.goods.len());
    assert!(!ds.inputs.is_empty());
    for chain in [
        "rare_earths",
        "cobalt",
        "lithium",
        "copper",
        "uranium",
        "tungsten",
    ] {
        assert!(
            ds.goods.iter().any(|g| g.chain == chain),
            "chain {chain} has no goods"
        );
    }
    // Every coefficient has a source.
    for i in &ds.inputs {
        assert!(!i.source.trim().is_empty(), "line {} has no source", i.line);
    }
}

#[test]
fn a_cycle_of_inputs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    common::export_to(dir.path());
    let ds = ds();
    let link = &ds.inputs[0];
    let path = dir.path().join("model/inputs.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "{},{},1,t/t,test,low,closes a cycle\n",
        link.input_good, link.output_good
    ));
    std::fs::write(&path, text).unwrap();
    let err = Dataset::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("form a cycle"), "{err}");
}
