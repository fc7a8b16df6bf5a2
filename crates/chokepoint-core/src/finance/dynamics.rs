//! Stochastic price models around a simulated price path, with parameters estimated from the
//! price history in `data/prices.csv`.
//!
//! A path from the market simulation is the expected price in each quarter (a forward curve).
//! A draw multiplies it by a factor X_k with E[X_k] = 1, common to every region of a good:
//! - geometric Brownian motion: log X_k = σ·W(t_k) − σ²·t_k/2;
//! - mean-reverting (Ornstein–Uhlenbeck on the log price): Y_k = e^{−κΔ}·Y_{k−1} +
//!   σ·√((1 − e^{−2κΔ})/(2κ))·Z, X_k = exp(Y_k − Var(Y_k)/2), Var(Y_k) = σ²(1 − e^{−2κt_k})/(2κ).
//!
//! Estimation from a monthly series of log prices y: GBM σ = sd(Δy)·√12; the OU model from the
//! AR(1) regression y_{m+1} = a + b·y_m + e: κ = −12·ln b and σ = sd(e)·√(2κ/(1 − b²)) (the exact
//! discretisation). A series that does not revert (b ≥ 1) gets κ = 0: the OU model is then GBM.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::Dataset;

/// Which stochastic model a valuation draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathModel {
    /// Geometric Brownian motion around the path.
    Gbm,
    /// Mean-reverting log price around the path.
    MeanReverting,
}

impl PathModel {
    /// Name in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PathModel::Gbm => "gbm",
            PathModel::MeanReverting => "mean_reverting",
        }
    }
}

/// Volatility and mean reversion of one good's price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dynamics {
    /// GBM volatility (a fraction a year).
    pub vol: f64,
    /// OU mean-reversion speed (a year; 0: none).
    pub kappa: f64,
    /// OU volatility of the log price (a year).
    pub sigma: f64,
    /// Monthly observations the estimate rests on (0 when pooled).
    pub observations: usize,
    /// Where it comes from: the series and months, or the pool it was taken from.
    pub source: String,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Estimates both models from monthly prices (oldest first, all > 0); `None` with fewer than
/// three observations.
pub fn estimate_monthly(prices: &[f64]) -> Option<Dynamics> {
    if prices.len() < 3 || prices.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return None;
    }
    let y: Vec<f64> = prices.iter().map(|p| p.ln()).collect();
    let dy: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let vol = sd(&dy) * 12f64.sqrt();
    let (x0, x1) = (&y[..y.len() - 1], &y[1..]);
    let (m0, m1) = (mean(x0), mean(x1));
    let cov: f64 = x0.iter().zip(x1).map(|(a, b)| (a - m0) * (b - m1)).sum();
    let var: f64 = x0.iter().map(|a| (a - m0).powi(2)).sum();
    let b = if var > 0.0 { cov / var } else { 1.0 };
    let (kappa, sigma) = if b > 0.0 && b < 1.0 {
        let a = m1 - b * m0;
        let e: Vec<f64> = x0.iter().zip(x1).map(|(u, v)| v - a - b * u).collect();
        let kappa = -12.0 * b.ln();
        (kappa, sd(&e) * (2.0 * kappa / (1.0 - b * b)).sqrt())
    } else {
        (0.0, vol)
    };
    Some(Dynamics {
        vol,
        kappa,
        sigma,
        observations: prices.len(),
        source: String::new(),
    })
}

/// The monthly nominal series of a commodity with the most observations, its last
/// `window_months` months (periods `YYYY-MM`).
fn monthly_series(
    ds: &Dataset,
    commodity: &str,
    window_months: usize,
) -> Option<(String, Vec<f64>, String, String)> {
    let mut by_series: std::collections::BTreeMap<&str, Vec<(&str, f64)>> = Default::default();
    for r in &ds.prices {
        if r.commodity_id == commodity && r.basis == "nominal" && r.period.len() == 7 {
            if let Some(v) = r.value {
                by_series.entry(&r.series).or_default().push((&r.period, v));
            }
        }
    }
    let (series, mut obs) = by_series.into_iter().max_by_key(|(_, v)| v.len())?;
    obs.sort_by(|a, b| a.0.cmp(b.0));
    let from = obs.len().saturating_sub(window_months);
    let obs = &obs[from..];
    Some((
        series.to_string(),
        obs.iter().map(|o| o.1).collect(),
        obs.first()?.0.to_string(),
        obs.last()?.0.to_string(),
    ))
}

/// The dynamics of each commodity in `commodities` (a good's `commodity_id`): estimated from
/// its longest monthly series over the window of assumption `finance_vol_window_years`, or,
/// with fewer than `finance_min_history_months` months, the median of the estimates of every
/// commodity that has enough (rare earths, cobalt and lithium have no monthly series).
pub fn dynamics_for(
    ds: &Dataset,
    commodities: &[&str],
) -> Result<std::collections::BTreeMap<String, Dynamics>, crate::LookupError> {
    let window = (ds.assumption("finance_vol_window_years")? * 12.0).round() as usize;
    let min_months = ds.assumption("finance_min_history_months")?.round() as usize;
    let mut all: std::collections::BTreeSet<&str> = ds
        .prices
        .iter()
        .filter(|r| r.period.len() == 7)
        .map(|r| r.commodity_id.as_str())
        .collect();
    all.extend(commodities.iter().copied());
    let mut estimated = std::collections::BTreeMap::new();
    for c in &all {
        if let Some((series, p, from, to)) = monthly_series(ds, c, window)
            && p.len() >= min_months
            && let Some(mut d) = estimate_monthly(&p)
        {
            d.source = format!("prices.csv {c}/{series}, monthly nominal {from} to {to}");
            estimated.insert(c.to_string(), d);
        }
    }
    let pooled = |f: fn(&Dynamics) -> f64| {
        let mut v: Vec<f64> = estimated.values().map(f).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    let pool = Dynamics {
        vol: pooled(|d| d.vol),
        kappa: pooled(|d| d.kappa),
        sigma: pooled(|d| d.sigma),
        observations: 0,
        source: format!(
            "no monthly series of {min_months}+ months: median of the {} estimated ({})",
            estimated.len(),
            estimated.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    Ok(commodities
        .iter()
        .map(|c| {
            (
                c.to_string(),
                estimated.get(*c).cloned().unwrap_or_else(|| pool.clone()),
            )
        })
        .collect())
}

/// One draw of the factors X_k at times `t` (years after the valuation date, increasing).
pub fn draw_factors<R: Rng>(model: PathModel, d: &Dynamics, t: &[f64], rng: &mut R) -> Vec<f64> {
    let mut out = Vec::with_capacity(t.len());
    let mut prev_t = 0.0;
    let mut y = 0.0;
    for &tk in t {
        let dt = (tk - prev_t).max(0.0);
        prev_t = tk;
        let z: f64 = rng.sample(StandardNormal);
        let (level, var) = match model {
            PathModel::Gbm => {
                y += d.vol * dt.sqrt() * z;
                (y, d.vol * d.vol * tk)
            }
            PathModel::MeanReverting if d.kappa > 0.0 => {
                let k = d.kappa;
                let decay = (-k * dt).exp();
                y = y * decay + d.sigma * ((1.0 - decay * decay) / (2.0 * k)).sqrt() * z;
                (
                    y,
                    d.sigma * d.sigma * (1.0 - (-2.0 * k * tk).exp()) / (2.0 * k),
                )
            }
            PathModel::MeanReverting => {
                y += d.sigma * dt.sqrt() * z;
                (y, d.sigma * d.sigma * tk)
            }
        };
        out.push((level - var / 2.0).exp());
    }
    out
}
