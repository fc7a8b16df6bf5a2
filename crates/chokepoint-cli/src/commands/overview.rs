//! `chokepoint overview`: the main job until the scenario engine lands — how concentrated the
//! supply of every commodity the seed article names is, stage by stage.

use std::collections::BTreeSet;

use chokepoint_core::Dataset;
use chokepoint_core::dataset::tables::Metric;
use chokepoint_core::metrics::concentration::{ConcentrationQuery, concentration};
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, pct, print_json, table};

/// The commodities the seed article (January 2026) names, in its order of appearance.
const SEED_COMMODITIES: &[&str] = &[
    "rare_earths",
    "magnet_ree",
    "silver",
    "tungsten",
    "antimony",
    "cobalt",
    "copper",
    "nickel",
    "uranium",
    "lithium",
    "gallium",
    "germanium",
    "graphite",
    "manganese",
    "platinum",
    "palladium",
];

#[derive(Serialize)]
struct Line {
    commodity: String,
    stage: String,
    year: Option<i32>,
    source_id: Option<String>,
    leader: Option<String>,
    leader_share: Option<f64>,
    top3_share: Option<f64>,
    hhi: Option<f64>,
    hhi_wgi: Option<f64>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Overview {
    dataset: String,
    lines: Vec<Line>,
}

pub(crate) fn run(ds: &Dataset, year: Option<i32>, json: bool) -> Result<(), CliError> {
    let mut lines = Vec::new();
    for &cid in SEED_COMMODITIES {
        let commodity = ds
            .commodity(cid)
            .map_err(|e| CliError::User(e.to_string()))?;
        let stages_with_rows: BTreeSet<&str> = ds
            .supply_of(&commodity.commodity_id)
            .filter(|r| r.metric == Metric::Production)
            .map(|r| r.stage_id.as_str())
            .collect();
        let stages: Vec<String> = ds
            .stages_of(&commodity.commodity_id)
            .iter()
            .filter(|s| stages_with_rows.contains(s.stage_id.as_str()))
            .map(|s| s.stage_id.clone())
            .collect();
        if stages.is_empty() {
            lines.push(Line {
                commodity: cid.to_string(),
                stage: "—".into(),
                year: None,
                source_id: None,
                leader: None,
                leader_share: None,
                top3_share: None,
                hhi: None,
                hhi_wgi: None,
                error: Some("no production data by country".into()),
            });
        }
        for stage in stages {
            let q = ConcentrationQuery {
                stage: Some(stage.clone()),
                year,
                ..ConcentrationQuery::production(cid)
            };
            lines.push(match concentration(ds, &q) {
                Ok(c) => Line {
                    commodity: cid.to_string(),
                    stage,
                    year: Some(c.year),
                    source_id: Some(c.source_id.clone()),
                    leader: c.top1.as_ref().map(|t| t.0.clone()),
                    leader_share: c.top1.as_ref().map(|t| t.1),
                    top3_share: Some(c.top3_share),
                    hhi: Some(c.hhi),
                    hhi_wgi: Some(c.hhi_wgi),
                    error: None,
                },
                Err(e) => Line {
                    commodity: cid.to_string(),
                    stage,
                    year,
                    source_id: None,
                    leader: None,
                    leader_share: None,
                    top3_share: None,
                    hhi: None,
                    hhi_wgi: None,
                    error: Some(e.to_string().lines().next().unwrap_or_default().to_string()),
                },
            });
        }
    }
    let out = Overview {
        dataset: ds.origin.to_string(),
        lines,
    };
    if json {
        return print_json(&out);
    }
    outln!(
        "Chokepoint — supply concentration of the seed commodities ({})",
        out.dataset
    );
    let mut t = table([
        "commodity",
        "stage",
        "year",
        "leader",
        "share",
        "top-3",
        "HHI",
        "WGI-HHI",
        "source",
    ]);
    for l in &out.lines {
        match &l.error {
            None => t.add_row(vec![
                l.commodity.clone(),
                l.stage.clone(),
                l.year.map_or(String::new(), |y| y.to_string()),
                l.leader.clone().unwrap_or_default(),
                l.leader_share.map_or(String::new(), pct),
                l.top3_share.map_or(String::new(), pct),
                l.hhi.map_or(String::new(), |h| format!("{h:.0}")),
                l.hhi_wgi.map_or(String::new(), |h| format!("{h:.2}")),
                l.source_id.clone().unwrap_or_default(),
            ]),
            Some(_) => t.add_row(vec![
                l.commodity.clone(),
                l.stage.clone(),
                l.year.map_or(String::new(), |y| y.to_string()),
                "(see below)".to_string(),
            ]),
        };
    }
    outln!("{t}");
    for l in out.lines.iter().filter(|l| l.error.is_some()) {
        outln!(
            "{} {}: {}",
            l.commodity,
            l.stage,
            l.error.as_deref().unwrap_or_default()
        );
    }
    outln!(
        "HHI on 0–10,000; WGI-HHI is the EU JRC 2017 governance-weighted HHI (0–10). \
         Details: `chokepoint concentration COMMODITY --stage S`; gaps: `chokepoint data audit`."
    );
    Ok(())
}
