//! The scenario instruments' finance: price models estimated from known series, a strip of
//! floors over stochastic paths against Black-76 quarter by quarter, a reserve that buys cheap
//! and releases in a shortfall, and project returns.

mod common;

use chokepoint_core::finance::dynamics::{PathModel, draw_factors, estimate_monthly};
use chokepoint_core::finance::instruments::{
    FinanceInputs, FinanceOptions, FinanceReport, irr, value, without_event,
};
use chokepoint_core::finance::{OptionSpec, PriceModel, closed_form};
use chokepoint_core::scenario::{Scenario, run_scenario};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A monthly series from a known log process: y' = a + b·y + σ_m·z.
fn series(b: f64, sigma_m: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mean = 9.0_f64;
    let mut y = mean;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(y.exp());
        let z: f64 = StandardNormal.sample(&mut rng);
        y = mean * (1.0 - b) + b * y + sigma_m * z;
    }
    out
}

#[test]
fn estimates_recover_the_volatility_and_mean_reversion_of_known_series() {
    // A random walk: σ = 0.06 a month → 0.06·√12 = 0.2078 a year; no reversion.
    let d = estimate_monthly(&series(1.0, 0.06, 6000, 1)).unwrap();
    let vol = 0.06 * 12f64.sqrt();
    // sd of a sample sd ≈ σ/√(2n): 0.2078/√12000 = 0.0019; allow 4 of them.
    assert!(
        (d.vol - vol).abs() < 4.0 * vol / (2.0 * 6000f64).sqrt(),
        "{d:?}"
    );
    // An AR(1) with b = 0.95 a month: κ = −12 ln 0.95 = 0.6155 a year, σ = σ_m √(2κ/(1−b²)).
    let b: f64 = 0.95;
    let d = estimate_monthly(&series(b, 0.05, 20_000, 2)).unwrap();
    let kappa = -12.0 * b.ln();
    let sigma = 0.05 * (2.0 * kappa / (1.0 - b * b)).sqrt();
    // The AR coefficient's standard error is √((1 − b²)/n) ≈ 0.0022 → κ within about 12·0.0022/b.
    assert!(
        (d.kappa - kappa).abs() < 4.0 * 12.0 * ((1.0 - b * b) / 20_000.0).sqrt() / b,
        "{d:?} vs κ {kappa}"
    );
    assert!((d.sigma - sigma).abs() < 0.05 * sigma, "{d:?} vs σ {sigma}");
    // Too short or bad data gives no estimate.
    assert!(estimate_monthly(&[1.0, 2.0]).is_none());
    assert!(estimate_monthly(&[1.0, -2.0, 3.0]).is_none());
}

#[test]
fn drawn_factors_have_mean_one_and_the_models_variance() {
    let d = estimate_monthly(&series(0.97, 0.05, 3000, 3)).unwrap();
    let t = [0.25, 1.0, 5.0];
    let n = 40_000;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for model in [PathModel::Gbm, PathModel::MeanReverting] {
        let mut sum = [0.0; 3];
        let mut sum_log2 = [0.0; 3];
        for _ in 0..n {
            let x = draw_factors(model, &d, &t, &mut rng);
            for k in 0..3 {
                sum[k] += x[k];
                sum_log2[k] += x[k].ln().powi(2);
            }
        }
        for k in 0..3 {
            let var = match model {
                PathModel::Gbm => d.vol * d.vol * t[k],
                PathModel::MeanReverting => {
                    d.sigma * d.sigma * (1.0 - (-2.0 * d.kappa * t[k]).exp()) / (2.0 * d.kappa)
                }
            };
            let mean = sum[k] / n as f64;
            // sd of X is √(e^var − 1); the mean within 4 standard errors of 1.
            let se = ((var.exp() - 1.0) / n as f64).sqrt();
            assert!(
                (mean - 1.0).abs() < 4.0 * se,
                "{model:?} t={} mean {mean}",
                t[k]
            );
            // E[(ln X)²] = var + var²/4.
            let m2 = sum_log2[k] / n as f64;
            let want = var + var * var / 4.0;
            assert!(
                (m2 - want).abs() < 0.03 * want,
                "{model:?} t={} {m2} vs {want}",
                t[k]
            );
        }
    }
}

#[test]
fn internal_rates_of_return_solve_known_cash_flows() {
    assert!((irr(&[-100.0, 110.0]).unwrap() - 0.10).abs() < 1e-9);
    assert!((irr(&[-100.0, 0.0, 121.0]).unwrap() - 0.10).abs() < 1e-9);
    // An annuity of 30 for 5 years on 100: IRR ≈ 15.24%.
    let r = irr(&[-100.0, 30.0, 30.0, 30.0, 30.0, 30.0]).unwrap();
    let npv: f64 = (1..=5).map(|k| 30.0 / (1.0 + r).powi(k)).sum::<f64>() - 100.0;
    assert!(npv.abs() < 1e-7 && (r - 0.1524).abs() < 1e-3, "{r}");
    // Never negative cash: no rate.
    assert!(irr(&[10.0, 10.0]).is_none());
}

/// Runs a scenario text on the coarse world and values its instruments.
fn finance(text: &str, draws: usize, counterfactual: bool) -> FinanceReport {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let s = Scenario::load(text, "finance.toml", &mut prepared.world).unwrap();
    let run = run_scenario(&ds, &prepared, &s).unwrap();
    let without: Vec<(usize, _)> = if counterfactual {
        (0..s.events.len())
            .filter(|&i| matches!(s.events[i].kind.name(), "stockpile" | "price_floor"))
            .map(|i| {
                let events = without_event(&s, i);
                (
                    i,
                    prepared
                        .run(&ds, s.header.to, &events, Some(&run.baseline))
                        .unwrap(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    value(
        &ds,
        &prepared.world,
        &FinanceInputs {
            scenario: &s,
            baseline: &run.baseline,
            run: &run.scenario,
            without: &without,
            market_draws: &[],
        },
        &FinanceOptions {
            draws,
            seed: 11,
            projects: Vec::new(),
        },
    )
    .unwrap()
}

#[test]
fn a_floor_over_gbm_paths_costs_the_black76_puts_of_each_quarter() {
    // A floor above the market on US copper mines: each quarter is a put on the covered
    // tonnes with the simulated price as the forward and σ²τ of variance.
    let r = finance(
        r#"
[scenario]
name = "floor"
to = 2026

[[event]]
id = "floor"
kind = "price_floor"
start = "2025-01-01"
source = "test"
good = "cu_mined"
producers = ["USA"]
floor = 8500
"#,
        20_000,
        false,
    );
    let v = &r.instruments[0];
    let gbm = v.draws.iter().find(|d| d.model == "gbm").unwrap();
    let vol = r.dynamics["cu_mined"].vol;
    assert!(vol > 0.05 && vol < 0.6, "copper volatility {vol}");
    let t0 = 2025.0;
    let mut closed = 0.0;
    let mut simulated = 0.0;
    for q in &v.scenario.quarters {
        let (y, k): (f64, f64) = (
            q.period[..4].parse().unwrap(),
            q.period[5..].parse().unwrap(),
        );
        let t = y + (k - 0.5) / 4.0;
        let put = closed_form(
            &OptionSpec {
                forward: q.price,
                strike: 8500.0,
                vol,
                years: t - t0,
                rate: 0.0,
                model: PriceModel::Lognormal,
            },
            true,
        );
        let df = (1.0 + r.public_rate).powf(-(t - t0));
        closed += df * q.volume * put;
        simulated += df * q.volume * (8500.0 - q.price).max(0.0);
    }
    assert!(closed > 0.0);
    assert!(
        (gbm.net_cost.mean - closed).abs() < 4.0 * gbm.std_error,
        "Monte Carlo {} ± {} vs Black-76 strip {closed}",
        gbm.net_cost.mean,
        gbm.std_error
    );
    // On the simulated path itself the floor pays the intrinsic value.
    assert!((v.scenario.net_cost - simulated).abs() < 1e-6 * simulated.max(1.0));
    // Volatility adds time value: the stochastic cost exceeds the path's.
    assert!(gbm.net_cost.mean > v.scenario.net_cost);
    // Producers: revenue with the floor has a higher downside than without.
    assert!(gbm.producer_with.p5 > gbm.producer_market.p5);
}

#[test]
fn a_reserve_buys_when_cheap_and_releases_in_a_shortfall_reducing_it() {
    // A US copper reserve that buys below 9,500 USD/t and releases above 10,000; in 2026 a
    // large Chilean-size loss of mined copper (here: the rest of the world) drives prices up.
    let r = finance(
        r#"
[scenario]
name = "reserve"
to = 2026

[[event]]
id = "reserve"
kind = "stockpile"
start = "2025-01-01"
source = "test"
owner = "USA"
good = "cu_cathode"
capacity = 400000
buy_below = 9500
release_above = 10000
max_buy_per_quarter = 100000
max_release_per_quarter = 200000

[[event]]
id = "shock"
kind = "disruption"
start = "2026-01-01"
end = "2027-01-01"
source = "test"
place = "ROW"
goods = ["cu_mined"]
loss_per_year = 6000000
"#,
        0,
        true,
    );
    let v = r
        .instruments
        .iter()
        .find(|v| v.instrument.event == "reserve")
        .unwrap();
    let q = &v.scenario.quarters;
    let res = v.reserve.as_ref().unwrap();
    // 2025: prices below the buy trigger, it buys; 2026: above the release trigger, it sells.
    let bought_2025: f64 = q[..4].iter().map(|x| x.bought).sum();
    let released_2026: f64 = q[4..].iter().map(|x| x.released).sum();
    assert!(bought_2025 > 0.0, "{q:?}");
    for x in &q[..4] {
        assert!(
            x.bought == 0.0 || x.price <= 9500.0 + 1e-6,
            "bought at {}",
            x.price
        );
        assert_eq!(x.released, 0.0);
    }
    assert!(released_2026 > 0.0, "{q:?}");
    for x in &q[4..] {
        assert!(
            x.released == 0.0 || x.price >= 10000.0 - 1e-6,
            "released at {}",
            x.price
        );
    }
    // The stock carried is what it bought less what it released.
    assert!((res.closing_stock - (res.bought - res.released)).abs() < 1e-6 * res.bought);
    assert!(res.released_in_shortfall > 0.0);
    // Shortfall removed: the run without the reserve has more copper shortfall in 2026.
    let removed: f64 = res
        .shortfall_removed
        .iter()
        .filter(|c| c.good == "cu_cathode")
        .map(|c| c.removed)
        .sum();
    assert!(removed > 0.0, "{:?}", res.shortfall_removed);
    let effect = v.market_effect.as_ref().unwrap();
    assert!(effect.shortfall_change < 0.0, "{effect:?}");
    // Money: it pays for what it buys and is paid for what it sells, at the quarter's price.
    for x in q {
        assert!((x.paid - x.bought * x.price).abs() < 1e-6 * (1.0 + x.paid));
        assert!((x.received - x.released * x.price).abs() < 1e-6 * (1.0 + x.received));
    }
}
