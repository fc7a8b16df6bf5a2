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
