//! The USGS supply-risk method behind the 2022 US list of critical minerals (Nassar et al.
//! 2020, *Sci. Adv.* 6:eaay8647; Nassar & Fortier 2021, USGS OFR 2021-1045), scored on the
//! model's flows. `docs/criticality-method.md` §3 gives the sources, what could not be
//! verified, and the choices made where the published text was out of reach.
//!
//! - Disruption potential: DP = Σ_c s_c² · g_c, production shares s as fractions and g_c the
//!   country's governance risk, its WGI estimate scaled to 0 (best) … 1 (worst). DP ∈ [0, 1].
//! - Trade exposure: TE = net import reliance, clipped to 0–1 (net exporters score 0). For a
//!   jurisdiction with a published net import reliance (`import_reliance.csv`) it is that value,
//!   moved by the model's change against the reference run; elsewhere the model's own.
//! - Economic vulnerability: EV_raw = Σ_j (VA_j / GDP) · (E_j / OP_j), with E_j what industry j
//!   spends on the material, VA_j its value added and OP_j its gross operating surplus
//!   (`model/industry_accounts.csv`); EV maps EV_raw onto 0–1 on a log scale between two named
//!   assumptions.
//! - Supply risk: SR = (DP · TE · EV)^(1/3), the geometric mean (the exponent is the named
//!   assumption `usgs_sr_exponent`: 1 gives the plain product); the material's SR is its
//!   larger stage's; on the list when SR, rounded to two decimals, is at least
//!   `usgs_sr_threshold`.

use std::collections::HashMap;

use serde::Serialize;

use super::{Producers, Sourcing, import_reliance, stage_good};

/// A country's governance risk: its WGI estimate on 0 (`best`) … 1 (`worst`), clipped.
pub fn governance_risk(wgi: f64, best: f64, worst: f64) -> f64 {
    ((best - wgi) / (best - worst)).clamp(0.0, 1.0)
}

/// Disruption potential Σ s² · g over (share, governance risk) pairs.
pub fn disruption_potential(producers: &[(f64, f64)]) -> f64 {
    producers.iter().map(|(s, g)| s * s * g).sum()
}

/// Trade exposure: net import reliance (a fraction) clipped to 0–1.
pub fn trade_exposure(nir: f64) -> f64 {
    nir.clamp(0.0, 1.0)
}

/// One using industry in economic vulnerability: value added, gross operating surplus and its
/// spending on the material, all in the same currency unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndustryUse {
    /// Value added.
    pub value_added: f64,
    /// Gross operating surplus (the profit a price rise eats into).
    pub operating_surplus: f64,
    /// Spending on the material.
    pub expenditure: f64,
}

/// EV_raw = Σ_j (VA_j / GDP) · (E_j / OP_j); industries without a positive surplus are skipped.
pub fn economic_vulnerability_raw(uses: &[IndustryUse], gdp: f64) -> f64 {
    uses.iter()
        .filter(|u| u.operating_surplus > 0.0)
        .map(|u| u.value_added / gdp * u.expenditure / u.operating_surplus)
        .sum()
}

/// EV_raw on 0–1: log10 scale from `floor` (0) to `cap` (1), clipped; 0 for no spending.
pub fn ev_scaled(raw: f64, floor: f64, cap: f64) -> f64 {
    if raw <= 0.0 {
        return 0.0;
    }
    ((raw.log10() - floor.log10()) / (cap.log10() - floor.log10())).clamp(0.0, 1.0)
}

/// Supply risk (DP·TE·EV)^exponent: 1/3 is the geometric mean (`usgs_sr_exponent`), 1 the
/// plain product.
pub fn supply_risk(dp: f64, te: f64, ev: f64, exponent: f64) -> f64 {
    (dp * te * ev).max(0.0).powf(exponent)
}

/// Rounded to two decimals, as the USGS reports and compares.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// One stage of a material scored with the USGS method.
#[derive(Debug, Clone, Serialize)]
pub struct UsgsStage {
    /// `extraction` or `processing`.
    pub stage: String,
    /// The model good standing for it.
    pub good: String,
    /// Disruption potential.
    pub dp: f64,
    /// The jurisdiction's net import reliance in the model's flows.
    pub nir_model: f64,
    /// Trade exposure used.
    pub te: f64,
    /// What the jurisdiction's industries spend on the good (USD), by industry.
    pub expenditure: Vec<(String, f64)>,
    /// Share of the spending in sectors no industry of the accounts stands for (left out).
    pub unmapped_share: f64,
    /// EV_raw.
    pub ev_raw: f64,
    /// EV on 0–1.
    pub ev: f64,
    /// Supply risk of the stage; `None` when the jurisdiction's sectors buy none of the good
    /// in the model (no economic vulnerability to measure).
    pub sr: Option<f64>,
    /// Largest producing country (or model region, where its countries are not known) and its
    /// share of world output.
    pub top_producer: Option<(String, f64)>,
}

/// One material scored with the USGS method.
#[derive(Debug, Clone, Serialize)]
pub struct UsgsScore {
    /// USGS material name.
    pub material: String,
    /// Chokepoint commodity whose goods stand for it.
    pub commodity: String,
    /// Its stages.
    pub stages: Vec<UsgsStage>,
    /// Supply risk (the larger stage's); `None` when no stage could be scored.
    pub sr: Option<f64>,
    /// That stage.
    pub bottleneck: String,
    /// Published net import reliance of the jurisdiction (fraction), when there is one.
    pub nir_published: Option<f64>,
    /// `published` (TE is the published NIR moved by the model's change) or `model`.
    pub te_basis: String,
    /// The published 2022-list score, for comparison.
    pub sr_published: Option<f64>,
    /// On the list: SR rounded to two decimals ≥ `usgs_sr_threshold` (`None` unscored).
    pub critical: Option<bool>,
    /// Why the material is not scored, when it is not.
    pub note: Option<String>,
}

/// Scores every material of `model/criticality_usgs.csv` on the flows of `year` of `run` for
/// the jurisdiction `name` (a country, model region or group). `plants` are the world model's
/// processes (to trace a material into the goods the sectors buy); `reference` is the run
/// whose net import reliance the published one stands for (the baseline when `run` is a
/// scenario; `None` when `run` is itself the baseline).
pub fn assess(
    ds: &crate::Dataset,
    w: &crate::scenario::World,
    plants: &[chokepoint_equilibrium::Process],
    run: &crate::world::Baseline,
    reference: Option<&crate::world::Baseline>,
    year: i32,
    name: &str,
) -> Result<Vec<UsgsScore>, String> {
    let a = |id: &str| ds.assumption(id).map_err(|e| e.to_string());
    let (best, worst) = (a("wgi_best")?, a("wgi_worst")?);
    let (floor, cap) = (a("usgs_ev_floor")?, a("usgs_ev_cap")?);
    let threshold = a("usgs_sr_threshold")?;
    let exponent = a("usgs_sr_exponent")?;
    let (regions, _) = super::jurisdiction(w, name)?;
    let accounts: Vec<&crate::dataset::tables::IndustryAccount> = ds
        .industry_accounts
        .iter()
        .filter(|x| x.region.eq_ignore_ascii_case(name))
        .collect();
    // In USD (units are checked on loading to have USD as their base).
    let usd = |v: f64, unit: &str| ds.to_base(v, unit).map_or(v, |x| x.0);
    let gdp = accounts
        .iter()
        .find(|x| x.industry == "total")
        .map(|x| usd(x.value_added, &x.unit))
        .ok_or_else(|| {
            format!(
                "model/industry_accounts.csv has no accounts for {name} (a `total` row and \
                 rows by industry): the USGS method's economic vulnerability needs them\n  \
                 hint: add rows with region `{name}`, or score with --method eu"
            )
        })?;
    let industries: Vec<(&str, Vec<&str>, f64, f64)> = accounts
        .iter()
        .filter(|x| x.industry != "total")
        .map(|x| {
            (
                x.industry.as_str(),
                x.sectors.split(';').map(str::trim).collect(),
                usd(x.value_added, &x.unit),
                usd(x.operating_surplus.unwrap_or(0.0), &x.unit),
            )
        })
        .collect();
    let producers = Producers::new(ds, w, a("wgi_year")? as i32)?;
    let flows = crate::exposure::Flows::of_year(run, w, plants, year)?;
    let ref_flows = match reference {
        Some(r) => Some(crate::exposure::Flows::of_year(r, w, plants, year)?),
        None => None,
    };
    let prices = year_prices(run, w, year);
    let nr = w.regions.len();
    let mut out: Vec<UsgsScore> = Vec::new();
    for row in &ds.criticality_usgs {
        let nir_published = ds
            .import_reliance
            .iter()
            .filter(|x| {
                x.commodity_id == row.nir_commodity_id
                    && x.importer.eq_ignore_ascii_case(name)
                    && x.year <= year
            })
            .filter_map(|x| x.value.map(|v| (x.year, v / 100.0)))
            .max_by_key(|x| x.0)
            .map(|x| x.1);
        let mut stages = Vec::new();
        for stage in ["extraction", "processing"] {
            let Some(g) = stage_good(ds, w, &row.commodity_id, stage) else {
                continue;
            };
            let output: Vec<f64> = (0..nr).map(|r| flows.production[w.node(r, g)]).collect();
            let total: f64 = output.iter().sum();
            if total <= 0.0 {
                continue;
            }
            let split = producers.split(g);
            let suppliers = producers.suppliers(&output, &split);
            let pairs: Vec<(f64, f64)> = suppliers
                .iter()
                .map(|s| (s.share, governance_risk(s.wgi, best, worst)))
                .collect();
            let dp = disruption_potential(&pairs);
            let top_producer = suppliers
                .iter()
                .max_by(|a, b| a.share.total_cmp(&b.share))
                .map(|s| {
                    let name = s.iso3.unwrap_or(&w.regions[s.region]);
                    (name.to_string(), s.share)
                });
            let nir = |f: &crate::exposure::Flows| {
                let s = Sourcing::of(f, w, &regions, g);
                import_reliance(s.own, s.imports, s.exports)
            };
            let nir_model = nir(&flows);
            let te = match nir_published {
                Some(p) => {
                    let moved = ref_flows.as_ref().map_or(0.0, |f| nir_model - nir(f));
                    trade_exposure(p + moved)
                }
                None => trade_exposure(nir_model),
            };
            // Spending: each sector's purchases in the jurisdiction, times the units of the
            // good in a unit of what it buys, times the good's price there.
            let content = flows.content(g);
            let mut by_sector: HashMap<&str, f64> = HashMap::new();
            for ((node, sector), q) in &flows.consumption {
                let (r, bought) = (node / w.goods.len(), node % w.goods.len());
                if !regions.contains(&r) || content[bought] <= 0.0 {
                    continue;
                }
                *by_sector.entry(sector.as_str()).or_insert(0.0) +=
                    q * content[bought] * prices.at(r, g);
            }
            let spent: f64 = by_sector.values().sum();
            let mut expenditure = Vec::new();
            let mut uses = Vec::new();
            let mut mapped = 0.0;
            for (industry, sectors, va, os) in &industries {
                let e: f64 = sectors
                    .iter()
                    .filter_map(|s| by_sector.get(s).copied())
                    .sum();
                mapped += e;
                expenditure.push((industry.to_string(), e));
                uses.push(IndustryUse {
                    value_added: *va,
                    operating_surplus: *os,
                    expenditure: e,
                });
            }
            let ev_raw = economic_vulnerability_raw(&uses, gdp);
            let ev = ev_scaled(ev_raw, floor, cap);
            stages.push(UsgsStage {
                stage: stage.to_string(),
                good: w.goods[g].clone(),
                dp,
                nir_model,
                te,
                expenditure,
                unmapped_share: if spent > 0.0 {
                    (1.0 - mapped / spent).max(0.0)
                } else {
                    0.0
                },
                ev_raw,
                ev,
                sr: (spent > 0.0).then(|| supply_risk(dp, te, ev, exponent)),
                top_producer,
            });
        }
        if stages.is_empty() {
            out.push(UsgsScore {
                material: row.material.clone(),
                commodity: row.commodity_id.clone(),
                stages,
                sr: None,
                bottleneck: String::new(),
                nir_published,
                te_basis: String::new(),
                sr_published: row.sr_published,
                critical: None,
                note: Some(format!(
                    "not scored: the world model has no good of {} with output in {year}",
                    row.commodity_id
                )),
            });
            continue;
        }
        let top = stages
            .iter()
            .filter_map(|s| s.sr.map(|v| (v, s.stage.clone())))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let note = top.is_none().then(|| {
            format!(
                "not scored: the model places no consumption of {} (or of goods made from it) \
                 in {name}'s sectors in {year}, so there is no spending to weigh (see the good's \
                 consumption rule in model/base_year.csv)",
                stages
                    .iter()
                    .map(|s| s.good.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        });
        let (sr, bottleneck) = match top {
            Some((v, st)) => (Some(v), st),
            None => (None, String::new()),
        };
        out.push(UsgsScore {
            material: row.material.clone(),
            commodity: row.commodity_id.clone(),
            stages,
            sr,
            bottleneck,
            nir_published,
            te_basis: if nir_published.is_some() {
                "published"
            } else {
                "model"
            }
            .into(),
            sr_published: row.sr_published,
            critical: sr.map(|v| round2(v) >= threshold),
            note,
        });
    }
    Ok(out)
}

/// Each node's mean price over a year's quarters, with each good's mean over the regions that
/// have one standing in for a region without.
struct YearPrices {
    node: Vec<Option<f64>>,
    world: Vec<f64>,
    goods: usize,
}

impl YearPrices {
    fn at(&self, r: usize, g: usize) -> f64 {
        self.node[r * self.goods + g].unwrap_or(self.world[g])
    }
}

fn year_prices(run: &crate::world::Baseline, w: &crate::scenario::World, year: i32) -> YearPrices {
    let prefix = format!("{year}Q");
    let (nr, ng) = (w.regions.len(), w.goods.len());
    let mut sum = vec![(0.0, 0usize); nr * ng];
    for row in run.rows.iter().filter(|r| r.period.starts_with(&prefix)) {
        if let (Some(r), Some(g), Some(p)) = (w.region(&row.region), w.good(&row.good), row.price) {
            let s = &mut sum[r * ng + g];
            s.0 += p;
            s.1 += 1;
        }
    }
    let node: Vec<Option<f64>> = sum
        .iter()
        .map(|&(s, n)| (n > 0).then(|| s / n as f64))
        .collect();
    let world = (0..ng)
        .map(|g| {
            let v: Vec<f64> = (0..nr).filter_map(|r| node[r * ng + g]).collect();
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        })
        .collect();
    YearPrices {
        node,
        world,
        goods: ng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_governed_monopoly_and_a_spread_of_poorly_governed_producers() {
        // WGI 2.5 is the best (risk 0), -2.5 the worst (risk 1), 0 the middle.
        assert_eq!(governance_risk(2.5, 2.5, -2.5), 0.0);
        assert_eq!(governance_risk(-2.5, 2.5, -2.5), 1.0);
        assert!((governance_risk(0.0, 2.5, -2.5) - 0.5).abs() < 1e-12);
        assert_eq!(governance_risk(3.0, 2.5, -2.5), 0.0);
        // A monopoly at the worst governance: DP = 1.
        assert_eq!(disruption_potential(&[(1.0, 1.0)]), 1.0);
        // Four equal producers at risk 0.8: 4 · 0.25² · 0.8 = 0.2.
        let four = [(0.25, 0.8); 4];
        assert!((disruption_potential(&four) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn vulnerability_weighs_margin_eaten_by_value_added() {
        // Industry A: VA 100 of GDP 1000, spends 2 of a surplus 40 → 0.1 · 0.05 = 0.005.
        // Industry B: VA 50, spends 1 of 10 → 0.05 · 0.1 = 0.005. Sum 0.01.
        let uses = [
            IndustryUse {
                value_added: 100.0,
                operating_surplus: 40.0,
                expenditure: 2.0,
            },
            IndustryUse {
                value_added: 50.0,
                operating_surplus: 10.0,
                expenditure: 1.0,
            },
            IndustryUse {
                value_added: 10.0,
                operating_surplus: 0.0,
                expenditure: 5.0,
            },
        ];
        assert!((economic_vulnerability_raw(&uses, 1000.0) - 0.01).abs() < 1e-15);
        // Log scale: the floor is 0, the cap 1, the geometric midpoint 1/2.
        assert_eq!(ev_scaled(1e-6, 1e-6, 1e-2), 0.0);
        assert_eq!(ev_scaled(1e-2, 1e-6, 1e-2), 1.0);
        assert!((ev_scaled(1e-4, 1e-6, 1e-2) - 0.5).abs() < 1e-12);
        assert_eq!(ev_scaled(1.0, 1e-6, 1e-2), 1.0);
        assert_eq!(ev_scaled(0.0, 1e-6, 1e-2), 0.0);
    }

    #[test]
    fn supply_risk_is_the_geometric_mean_or_the_product() {
        let third = 1.0 / 3.0;
        assert!((supply_risk(0.5, 0.5, 0.5, third) - 0.5).abs() < 1e-12);
        // 0.8 · 0.5 · 0.2 = 0.08 → 0.08^(1/3) ≈ 0.4309; the product is 0.08 itself.
        assert!((supply_risk(0.8, 0.5, 0.2, third) - 0.08_f64.cbrt()).abs() < 1e-12);
        assert!((supply_risk(0.8, 0.5, 0.2, 1.0) - 0.08).abs() < 1e-15);
        // A net exporter scores 0 whatever else.
        assert_eq!(supply_risk(0.9, trade_exposure(-0.3), 0.9, third), 0.0);
        assert_eq!(round2(0.39999), 0.4);
    }
}

/// The USGS-method scores of a baseline and, when given, a scenario run beside it.
#[derive(Debug, Clone, Serialize)]
pub struct UsgsComparison {
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Year scored.
    pub year: i32,
    /// Baseline scores.
    pub baseline: Vec<UsgsScore>,
    /// Scenario scores (same materials), trade exposure moved against the baseline.
    pub scenario: Option<Vec<UsgsScore>>,
    /// The list threshold used (`usgs_sr_threshold`).
    pub threshold: f64,
    /// The aggregation exponent used (`usgs_sr_exponent`).
    pub exponent: f64,
}

/// Scores the materials of jurisdiction `name` in `year` of `baseline` and of `scenario` (a
/// run beside that baseline) when given.
pub fn compare(
    ds: &crate::Dataset,
    prepared: &crate::world::baseline::WorldModel,
    baseline: &crate::world::Baseline,
    scenario: Option<&crate::world::Baseline>,
    year: i32,
    name: &str,
) -> Result<UsgsComparison, String> {
    let (w, plants) = (&prepared.world, prepared.processes());
    let a = |id: &str| ds.assumption(id).map_err(|e| e.to_string());
    Ok(UsgsComparison {
        jurisdiction: name.to_string(),
        year,
        baseline: assess(ds, w, plants, baseline, None, year, name)?,
        scenario: match scenario {
            Some(run) => Some(assess(ds, w, plants, run, Some(baseline), year, name)?),
            None => None,
        },
        threshold: a("usgs_sr_threshold")?,
        exponent: a("usgs_sr_exponent")?,
    })
}
