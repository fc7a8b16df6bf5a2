//! Money: what price floors, collars and offtakes are worth, by Monte Carlo against a
//! stochastic price model, with the closed forms that check it.
//!
//! A price floor at strike K on one unit delivered at T is a put: the state pays
//! max(K − S_T, 0). A collar pays the floor and takes back a share of the excess above a
//! ceiling: the state's net cost is put(K_floor) − share × call(K_ceiling). Prices follow a
//! forward F with volatility σ, either lognormal (geometric Brownian motion: Black-76, σ a
//! fraction a year) or normal (arithmetic: Bachelier, σ in currency a year); payments are
//! discounted at the continuous rate r.

pub mod dynamics;
pub mod instruments;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// How the price at T is distributed around the forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceModel {
    /// S_T = F·exp(σ√T·Z − σ²T/2): geometric Brownian motion (Black-76).
    Lognormal,
    /// S_T = F + σ√T·Z: arithmetic Brownian motion (Bachelier).
    Normal,
}

/// One option on one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionSpec {
    /// Forward price of the unit at T.
    pub forward: f64,
    /// Strike.
    pub strike: f64,
    /// Volatility (a fraction a year for the lognormal model, currency a year for the normal).
    pub vol: f64,
    /// Years to delivery.
    pub years: f64,
    /// Continuous discount rate a year.
    pub rate: f64,
    /// Price model.
    pub model: PriceModel,
}

impl OptionSpec {
    /// Checks the inputs: a clear message for each that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        let finite = [self.forward, self.strike, self.vol, self.years, self.rate]
            .iter()
            .all(|v| v.is_finite());
        if !finite {
            return Err("every input must be a finite number".into());
        }
        if self.vol < 0.0 {
            return Err(format!("volatility {} is negative", self.vol));
        }
        if self.years < 0.0 {
            return Err(format!("years {} is negative", self.years));
        }
        if self.model == PriceModel::Lognormal && (self.forward <= 0.0 || self.strike <= 0.0) {
            return Err("the lognormal model needs a positive forward and strike (hint: --model normal for prices that may be zero or negative)".into());
        }
        Ok(())
    }

    fn discount(&self) -> f64 {
        (-self.rate * self.years).exp()
    }
}

/// Standard normal distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Closed-form value of a put (`put = true`) or a call: Black-76 for the lognormal model,
/// Bachelier for the normal one.
pub fn closed_form(spec: &OptionSpec, put: bool) -> f64 {
    let OptionSpec {
        forward: f,
        strike: k,
        vol,
        years: t,
        ..
    } = *spec;
    let s = vol * t.sqrt();
    let df = spec.discount();
    if s <= 0.0 {
        let intrinsic = if put { k - f } else { f - k };
        return df * intrinsic.max(0.0);
    }
    match spec.model {
        PriceModel::Lognormal => {
            let d1 = ((f / k).ln() + 0.5 * s * s) / s;
            let d2 = d1 - s;
            if put {
                df * (k * norm_cdf(-d2) - f * norm_cdf(-d1))
            } else {
                df * (f * norm_cdf(d1) - k * norm_cdf(d2))
            }
        }
        PriceModel::Normal => {
            let d = (f - k) / s;
            let (sign, x) = if put { (-1.0, -d) } else { (1.0, d) };
            df * (sign * (f - k) * norm_cdf(x) + s * norm_pdf(d))
        }
    }
}

/// A Monte Carlo value and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean discounted payoff.
    pub value: f64,
    /// Standard error of the mean.
    pub std_error: f64,
}

/// The price at T for a standard normal draw `z`.
pub fn terminal_price(spec: &OptionSpec, z: f64) -> f64 {
    let s = spec.vol * spec.years.sqrt();
    match spec.model {
        PriceModel::Lognormal => spec.forward * (s * z - 0.5 * s * s).exp(),
        PriceModel::Normal => spec.forward + s * z,
    }
}

/// Monte Carlo value of the discounted payoff `payoff(S_T)` over `draws` draws from the
/// seed's stream (the same numbers for the same seed).
pub fn monte_carlo(
    spec: &OptionSpec,
    draws: u64,
    seed: u64,
    payoff: impl Fn(f64) -> f64,
) -> Estimate {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let df = spec.discount();
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for _ in 0..draws {
        let z: f64 = StandardNormal.sample(&mut rng);
        let x = df * payoff(terminal_price(spec, z));
        sum += x;
        sum_sq += x * x;
    }
    let n = draws.max(1) as f64;
    let mean = sum / n;
    let var = (sum_sq / n - mean * mean).max(0.0) * n / (n - 1.0).max(1.0);
    Estimate {
        value: mean,
        std_error: (var / n).sqrt(),
    }
}

/// A price floor on one unit: the put, by Monte Carlo.
pub fn floor_value(spec: &OptionSpec, draws: u64, seed: u64) -> Estimate {
    let k = spec.strike;
    monte_carlo(spec, draws, seed, |s| (k - s).max(0.0))
}

/// The state's net cost of a collar on one unit: it pays the floor's shortfall below
/// `spec.strike` and takes `share` of the excess above `ceiling`, by Monte Carlo.
pub fn collar_cost(spec: &OptionSpec, ceiling: f64, share: f64, draws: u64, seed: u64) -> Estimate {
    let k = spec.strike;
    monte_carlo(spec, draws, seed, |s| {
        (k - s).max(0.0) - share * (s - ceiling).max(0.0)
    })
}
