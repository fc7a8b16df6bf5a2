//! Criticality scores: the EU JRC method (European Commission 2017, *Methodology for
//! establishing the EU list of critical raw materials – Guidelines*, doi:10.2873/769526; used for
//! the 2020 and 2023 lists and in Regulation (EU) 2024/1252, Annex II). The formulas are pure
//! functions of their inputs; docs/criticality-method.md gives their sources, the open questions,
//! and the worked example the tests reproduce.
//!
//! - Governance: WGI scaled to 0 (best) … `wgi_scaled_max` (worst): `max·(best − w)/(best − worst)`
//!   (with the assumptions' −2.5 … 2.5 and 10, that is 2·(2.5 − w)).
//! - Concentration: HHI_WGI,t = Σ_c S_c² · WGI_scaled_c · t_c, shares as fractions (0–10 × t).
//! - Import reliance: IR = (M − X)/(DP + M − X), clipped to 0–1.
//! - Substitution index: SI = Σ_a Share_a · (Σ_i SPP_{i,a}·SubShare_{i,a} + (1 − Σ_i SubShare_{i,a})).
//! - Supply risk of a stage: SR = [HHI_GS·IR/2 + HHI_EUs·(1 − IR/2)]·(1 − EoL-RIR)·SI_SR, with one
//!   scope alone when the other is missing; the material's SR is the larger stage's.
//! - Economic importance: EI = 10·Σ_s A_s·Q_s / Q_max · SI_EI.
//! - Critical: SR and EI rounded to one decimal, SR ≥ `eu_sr_threshold` and EI ≥ `eu_ei_threshold`.

use serde::Serialize;

pub mod usgs;

/// WGI estimate `w` on the EU's 0 (best) … `scaled_max` (worst) scale.
pub fn wgi_scaled(w: f64, best: f64, worst: f64, scaled_max: f64) -> f64 {
    scaled_max * (best - w) / (best - worst)
}

/// One supplier in a concentration index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Supplier {
    /// Share of supply (fraction).
    pub share: f64,
    /// Scaled governance (0 best … 10 worst).
    pub wgi_scaled: f64,
    /// Trade-restriction factor (1: none).
    pub trade: f64,
}

/// HHI_WGI,t = Σ S² · WGI_scaled · t.
pub fn hhi_wgi_t(suppliers: &[Supplier]) -> f64 {
    suppliers
        .iter()
        .map(|s| s.share * s.share * s.wgi_scaled * s.trade)
        .sum()
}

/// Import reliance (M − X)/(DP + M − X), clipped to 0–1 (0 when nothing is used).
pub fn import_reliance(production: f64, imports: f64, exports: f64) -> f64 {
    let use_ = production + imports - exports;
    if use_ <= 0.0 {
        return 0.0;
    }
    ((imports - exports) / use_).clamp(0.0, 1.0)
}

/// One application of a material with its substitutes: (share of use, [(substitute's share
/// of the application, its performance parameter SPP)]).
pub type Application<'a> = (f64, &'a [(f64, f64)]);

/// Substitution index: the part of each application without a substitute counts 1.
pub fn substitution_index(applications: &[Application<'_>]) -> f64 {
    applications
        .iter()
        .map(|(share, subs)| {
            let covered: f64 = subs.iter().map(|s| s.0).sum();
            let with: f64 = subs.iter().map(|s| s.0 * s.1).sum();
            share * (with + (1.0 - covered))
        })
        .sum()
}

/// Supply risk of one stage. `hhi_gs` and `hhi_eus` are the global and EU-sourcing
/// concentrations (either may be missing: the other alone is used); `None` when both are.
pub fn supply_risk_stage(
    hhi_gs: Option<f64>,
    hhi_eus: Option<f64>,
    ir: f64,
    eol_rir: f64,
    si_sr: f64,
) -> Option<f64> {
    let core = match (hhi_gs, hhi_eus) {
        (Some(g), Some(e)) => g * ir / 2.0 + e * (1.0 - ir / 2.0),
        (Some(g), None) => g,
        (None, Some(e)) => e,
        (None, None) => return None,
    };
    Some(core * (1.0 - eol_rir) * si_sr)
}

/// Economic importance: 10·Σ A_s·Q_s / Q_max · SI_EI; `uses` are (end-use share, sector value
/// added), `q_max` the value added of the largest manufacturing sector (same unit).
pub fn economic_importance(uses: &[(f64, f64)], q_max: f64, si_ei: f64) -> f64 {
    10.0 * uses.iter().map(|(a, q)| a * q).sum::<f64>() / q_max * si_ei
}

/// Rounded to one decimal, as the EU reports and compares.
pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// An EU assessment of one material.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EuScore {
    /// Supply risk (the bottleneck stage's, unrounded).
    pub sr: f64,
    /// The stage it comes from.
    pub bottleneck: String,
    /// Economic importance (unrounded).
    pub ei: f64,
    /// Both thresholds met on the rounded values.
    pub critical: bool,
}

/// The material's score from its stages' supply risks (name, SR) and its EI.
pub fn eu_score(
    stages: &[(&str, f64)],
    ei: f64,
    sr_threshold: f64,
    ei_threshold: f64,
) -> Option<EuScore> {
    let (name, sr) = stages.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(EuScore {
        sr,
        bottleneck: name.to_string(),
        ei,
        critical: round1(sr) >= sr_threshold && round1(ei) >= ei_threshold,
    })
}

/// One stage of a material scored on the model's flows.
#[derive(Debug, Clone, Serialize)]
pub struct StageScore {
    /// `extraction` or `processing`.
    pub stage: String,
    /// The model good standing for the stage.
    pub good: String,
    /// HHI_WGI,t of global supply (model regions).
    pub hhi_gs: f64,
    /// HHI_WGI,t of the jurisdiction's sourcing (its own output and imports by origin).
    pub hhi_sourcing: f64,
    /// Import reliance of the jurisdiction.
    pub ir: f64,
    /// Supply risk of the stage (with the table's EoL-RIR and SI_SR and its scope basis).
    pub sr: f64,
    /// The EU 2023 value, for comparison.
    pub sr_published: Option<f64>,
    /// The jurisdiction's sourcing shares by origin region, largest first.
    pub sourcing: Vec<(String, f64)>,
    /// The quantity sourced in the year (own output plus imports, model unit): small volumes
    /// spread over many origins make a low concentration.
    pub sourced: f64,
}

/// One material scored.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialScore {
    /// EU material name.
    pub material: String,
    /// Chokepoint commodity.
    pub commodity: String,
    /// Its stages.
    pub stages: Vec<StageScore>,
    /// Supply risk (the bottleneck stage's).
    pub sr: f64,
    /// The bottleneck stage.
    pub bottleneck: String,
    /// Economic importance: the EU 2023 value (not recomputed: no sector value-added table).
    pub ei: Option<f64>,
    /// Critical on the rounded scores (`None` without an EI).
    pub critical: Option<bool>,
}

/// Scores every material of `model/criticality_eu.csv` that the model has a good for, on the
/// flows of `year` of `run`, for the jurisdiction `regions` (model regions, e.g. those of
/// `group:eu27`). A region's output (and what it ships) is split over its countries by their
/// base-year shares of the good's output; each country carries its WGI (`wgi_year`) and its
/// trade factor from `model/criticality_trade.csv` (scope `eu` for the sourcing term when
/// `eu_scope`). Regions without country data are one supplier at their countries' mean WGI.
pub fn assess(
    ds: &crate::Dataset,
    w: &crate::scenario::World,
    run: &crate::world::Baseline,
    year: i32,
    regions: &[usize],
    eu_scope: bool,
) -> Result<Vec<MaterialScore>, String> {
    let a = |id: &str| ds.assumption(id).map_err(|e| e.to_string());
    let (best, worst, max) = (a("wgi_best")?, a("wgi_worst")?, a("wgi_scaled_max")?);
    let (sr_t, ei_t) = (a("eu_sr_threshold")?, a("eu_ei_threshold")?);
    let producers = Producers::new(ds, w, a("wgi_year")? as i32)?;
    let nr = w.regions.len();
    // The year's production per node and flows per (from, to, good).
    let year_flows = crate::exposure::Flows::of_year(run, w, &[], year)?;
    let production = &year_flows.production;
    let trade_of = |commodity: &str, stage: &str, iso3: Option<&str>, scope: &str| -> f64 {
        let Some(iso3) = iso3 else { return 1.0 };
        ds.criticality_trade
            .iter()
            .find(|t| {
                t.commodity_id == commodity
                    && t.stage == stage
                    && t.scope == scope
                    && t.iso3 == iso3
            })
            .map_or(1.0, |t| t.t)
    };
    let mut out: Vec<MaterialScore> = Vec::new();
    for row in &ds.criticality_eu {
        let Some(g) = stage_good(ds, w, &row.commodity_id, &row.stage) else {
            continue;
        };
        let split = producers.split(g);
        let suppliers = |q: &[f64], scope: &str| -> Vec<Supplier> {
            producers
                .suppliers(q, &split)
                .into_iter()
                .map(|s| Supplier {
                    share: s.share,
                    wgi_scaled: wgi_scaled(s.wgi, best, worst, max),
                    trade: trade_of(&row.commodity_id, &row.stage, s.iso3, scope),
                })
                .collect()
        };
        let output: Vec<f64> = (0..nr).map(|r| production[w.node(r, g)]).collect();
        let total: f64 = output.iter().sum();
        if total <= 0.0 {
            continue;
        }
        let gs = suppliers(&output, "global");
        let src = Sourcing::of(&year_flows, w, regions, g);
        let sourced_total: f64 = src.sourced.iter().sum();
        let scope = if eu_scope { "eu" } else { "global" };
        let js = suppliers(&src.sourced, scope);
        let (hhi_gs, hhi_js) = (hhi_wgi_t(&gs), hhi_wgi_t(&js));
        let ir = import_reliance(src.own, src.imports, src.exports);
        let (use_gs, use_js) = match row.basis.as_str() {
            "GSonly" => (true, false),
            "EUonly" => (false, true),
            _ => (true, true),
        };
        let sr = supply_risk_stage(
            use_gs.then_some(hhi_gs),
            (use_js && sourced_total > 0.0).then_some(hhi_js),
            ir,
            row.eol_rir_pct.unwrap_or(0.0) / 100.0,
            row.si_sr.unwrap_or(1.0),
        )
        .unwrap_or(0.0);
        let stage = StageScore {
            stage: row.stage.clone(),
            good: w.goods[g].clone(),
            hhi_gs,
            hhi_sourcing: hhi_js,
            ir,
            sr,
            sr_published: row.sr_published,
            sourcing: src.shares(w),
            sourced: sourced_total,
        };
        match out.iter_mut().find(|m| m.material == row.material) {
            Some(m) => m.stages.push(stage),
            None => out.push(MaterialScore {
                material: row.material.clone(),
                commodity: row.commodity_id.clone(),
                stages: vec![stage],
                sr: 0.0,
                bottleneck: String::new(),
                ei: row.ei_published,
                critical: None,
            }),
        }
    }
    for m in &mut out {
        let stages: Vec<(&str, f64)> = m.stages.iter().map(|s| (s.stage.as_str(), s.sr)).collect();
        if let Some(score) = eu_score(&stages, m.ei.unwrap_or(0.0), sr_t, ei_t) {
            m.sr = score.sr;
            m.bottleneck = score.bottleneck;
            m.critical = m.ei.map(|_| score.critical);
        }
    }
    Ok(out)
}

/// The model good standing for a commodity's assessed stage (`extraction`: its mining good;
/// `processing`: its refining or chemical good), the parent commodity's when it has none.
pub(crate) fn stage_good(
    ds: &crate::Dataset,
    w: &crate::scenario::World,
    commodity: &str,
    stage: &str,
) -> Option<usize> {
    let fits = |s: &str| match stage {
        "extraction" => s == "mining",
        _ => s == "refining" || s == "chemical",
    };
    let find = |c: &str| {
        ds.goods
            .iter()
            .filter(|g| g.commodity_id == c && fits(&g.stage_id))
            .find_map(|g| w.good(&g.good_id))
    };
    find(commodity).or_else(|| {
        let parent = ds
            .commodities
            .iter()
            .find(|c| c.commodity_id == commodity)
            .and_then(|c| c.parent.as_deref())?;
        find(parent)
    })
}

/// A producing country (or a region without country data) in a concentration index.
pub(crate) struct Producer<'a> {
    /// Share of the quantity (fraction).
    pub share: f64,
    /// WGI estimate, unscaled (the region's mean where the country has none).
    pub wgi: f64,
    /// The country, when known (a region of one country is that country).
    pub iso3: Option<&'a str>,
    /// The model region it is in.
    pub region: usize,
}

/// The countries behind the model's regions: who belongs where, their governance, and how a
/// region's output of a good splits over them.
pub(crate) struct Producers<'a> {
    ds: &'a crate::Dataset,
    w: &'a crate::scenario::World,
    members: Vec<Vec<&'a str>>,
    /// Mean WGI estimate of each region's countries.
    governance: Vec<f64>,
    wgi_year: i32,
}

impl<'a> Producers<'a> {
    /// Members and governance of every region (WGI of `wgi_year`); a region none of whose
    /// countries has a WGI estimate is an error.
    pub(crate) fn new(
        ds: &'a crate::Dataset,
        w: &'a crate::scenario::World,
        wgi_year: i32,
    ) -> Result<Self, String> {
        let mut members: Vec<Vec<&str>> = vec![Vec::new(); w.regions.len()];
        for c in &ds.countries {
            if let Some([r]) = w.place(&c.iso3).as_deref() {
                members[*r].push(c.iso3.as_str());
            }
        }
        let governance = members
            .iter()
            .enumerate()
            .map(|(r, m)| {
                let v: Vec<f64> = m.iter().filter_map(|c| ds.wgi_mean(c, wgi_year)).collect();
                if v.is_empty() {
                    return Err(format!(
                        "governance.csv: no WGI estimate in {wgi_year} for any country of region {}",
                        w.regions[r]
                    ));
                }
                Ok(v.iter().sum::<f64>() / v.len() as f64)
            })
            .collect::<Result<_, String>>()?;
        Ok(Producers {
            ds,
            w,
            members,
            governance,
            wgi_year,
        })
    }

    /// Each region's output of `g` split over its countries by their base-year shares of the
    /// good's output (`model/base_year.csv` `output` = commodity/stage/year/source); regions
    /// without country data get an empty list and stay one supplier.
    pub(crate) fn split(&self, g: usize) -> Vec<Vec<(String, f64)>> {
        let (ds, w) = (self.ds, self.w);
        let mut out: Vec<Vec<(String, f64)>> = vec![Vec::new(); w.regions.len()];
        let spec = ds.base_year.iter().find(|b| b.good_id == w.goods[g]);
        let parts: Vec<&str> = spec.map_or(Vec::new(), |b| b.output.split('/').collect());
        if let [c, st, y, src] = parts.as_slice()
            && let Ok(conc) = crate::metrics::concentration::concentration(
                ds,
                &crate::metrics::concentration::ConcentrationQuery {
                    commodity: c.to_string(),
                    stage: Some(st.to_string()),
                    year: y.parse().ok(),
                    source: Some(src.to_string()),
                    metric: crate::dataset::tables::Metric::Production,
                },
            )
        {
            for cs in &conc.countries {
                if let (Some(share), Some([r])) = (cs.share, w.place(&cs.iso3).as_deref()) {
                    out[*r].push((cs.iso3.clone(), share));
                }
            }
        }
        for v in &mut out {
            let sum: f64 = v.iter().map(|x| x.1).sum();
            if sum > 0.0 {
                v.iter_mut().for_each(|x| x.1 /= sum);
            } else {
                v.clear();
            }
        }
        out
    }

    /// The suppliers of a quantity given per region (`q`), at country level where `split`
    /// (from [`Producers::split`]) knows the countries.
    pub(crate) fn suppliers<'s>(
        &'s self,
        q: &[f64],
        split: &'s [Vec<(String, f64)>],
    ) -> Vec<Producer<'s>> {
        let total: f64 = q.iter().sum();
        let mut v = Vec::new();
        if total <= 0.0 {
            return v;
        }
        for (r, &x) in q.iter().enumerate() {
            if x <= 0.0 {
                continue;
            }
            if split[r].is_empty() {
                v.push(Producer {
                    share: x / total,
                    wgi: self.governance[r],
                    iso3: match self.members[r].as_slice() {
                        [one] => Some(one),
                        _ => None,
                    },
                    region: r,
                });
            } else {
                for (iso3, wt) in &split[r] {
                    v.push(Producer {
                        share: x / total * wt,
                        wgi: self
                            .ds
                            .wgi_mean(iso3, self.wgi_year)
                            .unwrap_or(self.governance[r]),
                        iso3: Some(iso3),
                        region: r,
                    });
                }
            }
        }
        v
    }
}

/// What a jurisdiction sourced of one good in a year: its own output and its imports by
/// origin region, and its trade across its border.
pub(crate) struct Sourcing {
    /// Quantity by origin region (the jurisdiction's own regions: their output).
    pub sourced: Vec<f64>,
    /// The jurisdiction's output.
    pub own: f64,
    /// Imports from outside.
    pub imports: f64,
    /// Exports to outside.
    pub exports: f64,
}

impl Sourcing {
    /// The sourcing of good `g` by `regions` in a year's flows; flows at the solvers'
    /// rounding (≤ `RESIDUE` × world output) are not sourcing.
    pub(crate) fn of(
        f: &crate::exposure::Flows,
        w: &crate::scenario::World,
        regions: &[usize],
        g: usize,
    ) -> Sourcing {
        let nr = w.regions.len();
        let inside = |r: usize| regions.contains(&r);
        let total: f64 = (0..nr).map(|r| f.production[w.node(r, g)]).sum();
        let mut s = Sourcing {
            sourced: vec![0.0; nr],
            own: 0.0,
            imports: 0.0,
            exports: 0.0,
        };
        for &r in regions {
            s.sourced[r] += f.production[w.node(r, g)];
            s.own += f.production[w.node(r, g)];
        }
        for &(from, to, gg, x) in &f.routes {
            if gg != g || inside(from) == inside(to) || x <= crate::world::RESIDUE * total {
                continue;
            }
            if inside(to) {
                s.sourced[from] += x;
                s.imports += x;
            } else {
                s.exports += x;
            }
        }
        s
    }

    /// Sourcing shares by origin region name, largest first.
    pub(crate) fn shares(&self, w: &crate::scenario::World) -> Vec<(String, f64)> {
        let total: f64 = self.sourced.iter().sum();
        let mut v: Vec<(String, f64)> = (0..self.sourced.len())
            .filter(|&r| self.sourced[r] > 0.0)
            .map(|r| (w.regions[r].clone(), self.sourced[r] / total))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }
}

/// The EU-method scores of a scenario run against its baseline, for the run report.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Jurisdiction (`EU`).
    pub jurisdiction: String,
    /// Year scored.
    pub year: i32,
    /// Baseline scores.
    pub baseline: Vec<MaterialScore>,
    /// Scenario scores (same materials).
    pub scenario: Vec<MaterialScore>,
}

/// Whether a jurisdiction is scored by the USGS method unless told otherwise: the USA is,
/// any other (or none given) by the EU method.
pub fn usgs_by_default(jurisdiction: Option<&str>) -> bool {
    jurisdiction.is_some_and(|j| j.eq_ignore_ascii_case(default_jurisdiction(true)))
}

/// The jurisdiction a method scores unless told otherwise: the USA for the USGS method, the
/// EU for the EU method.
pub fn default_jurisdiction(usgs: bool) -> &'static str {
    if usgs { "USA" } else { "EU" }
}

/// The regions of a jurisdiction and whether it is the EU (whose sourcing takes the `eu`-scope
/// trade factors): `EU` (any case) is the 27 (`group:eu27`), anything else a place of the world.
pub fn jurisdiction(w: &crate::scenario::World, name: &str) -> Result<(Vec<usize>, bool), String> {
    let eu = name.eq_ignore_ascii_case("EU");
    let place = if eu { "group:eu27" } else { name };
    w.place(place).map(|r| (r, eu)).ok_or_else(|| {
        crate::LookupError::unknown("jurisdiction", place, w.place_names()).to_string()
    })
}

/// Scores the EU's materials in `year` of both runs of a scenario.
pub fn compare_eu(
    ds: &crate::Dataset,
    w: &crate::scenario::World,
    run: &crate::scenario::ScenarioRun,
    year: i32,
) -> Result<Comparison, String> {
    let (eu, _) = jurisdiction(w, "EU")?;
    Ok(Comparison {
        jurisdiction: "EU".into(),
        year,
        baseline: assess(ds, w, &run.baseline, year, &eu, true)?,
        scenario: assess(ds, w, &run.scenario, year, &eu, true)?,
    })
}
