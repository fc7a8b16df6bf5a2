//! Floors, calls and collars: Monte Carlo against closed forms (Black-76, Bachelier).

use chokepoint_core::finance::{
    OptionSpec, PriceModel, closed_form, collar_cost, floor_value, monte_carlo,
};

/// NdPr oxide around the Pentagon–MP Materials floor (US$110/kg, public record): a forward of
/// 100 a kg, 40% volatility, delivery in two years, 4% a year.
fn ndpr(model: PriceModel) -> OptionSpec {
    OptionSpec {
        forward: 100.0,
        strike: 110.0,
        vol: match model {
            PriceModel::Lognormal => 0.4,
            PriceModel::Normal => 40.0,
        },
        years: 2.0,
        rate: 0.04,
        model,
    }
}

#[test]
fn black76_and_bachelier_match_textbook_values() {
    // At the money, Black-76: put = call = df·F·(2N(σ√T/2) − 1); Bachelier: df·σ√T/√(2π).
    let mut s = ndpr(PriceModel::Lognormal);
    s.strike = s.forward;
    let df = (-0.08f64).exp();
    let half = 0.5 * 0.4 * 2f64.sqrt();
    let expected = df * 100.0 * (2.0 * chokepoint_core::finance::norm_cdf(half) - 1.0);
    assert!((closed_form(&s, true) - expected).abs() < 1e-10);
    assert!((closed_form(&s, false) - expected).abs() < 1e-10);
    let mut n = ndpr(PriceModel::Normal);
    n.strike = n.forward;
    let expected = df * 40.0 * 2f64.sqrt() / (2.0 * std::f64::consts::PI).sqrt();
    assert!((closed_form(&n, true) - expected).abs() < 1e-10);
    // A published figure: Hull's Black-76 example (F = 20, K = 20, σ = 25%, T = 4/12, r = 9%)
    // values the put at 1.12, to the cent (Options, Futures and Other Derivatives, the
    // chapter on futures options).
    let hull = OptionSpec {
        forward: 20.0,
        strike: 20.0,
        vol: 0.25,
        years: 4.0 / 12.0,
        rate: 0.09,
        model: PriceModel::Lognormal,
    };
    assert!(
        (closed_form(&hull, true) - 1.12).abs() < 5e-3,
        "{}",
        closed_form(&hull, true)
    );
    // The standard normal distribution function at known points.
    assert!((chokepoint_core::finance::norm_cdf(1.96) - 0.975_002_104_851_780).abs() < 1e-12);
    assert!((chokepoint_core::finance::norm_cdf(0.0) - 0.5).abs() < 1e-15);
}

#[test]
fn monte_carlo_puts_and_calls_land_within_three_standard_errors() {
    for model in [PriceModel::Lognormal, PriceModel::Normal] {
        for strike in [80.0, 100.0, 110.0, 130.0] {
            let mut s = ndpr(model);
            s.strike = strike;
            let put = floor_value(&s, 200_000, 11);
            let exact = closed_form(&s, true);
            assert!(
                (put.value - exact).abs() < 3.0 * put.std_error,
                "{model:?} put K={strike}: {} ± {} vs {exact}",
                put.value,
                put.std_error
            );
            let call = monte_carlo(&s, 200_000, 12, |x| (x - strike).max(0.0));
            let exact = closed_form(&s, false);
            assert!(
                (call.value - exact).abs() < 3.0 * call.std_error,
                "{model:?} call K={strike}: {} ± {} vs {exact}",
                call.value,
                call.std_error
            );
        }
    }
}

#[test]
fn put_call_parity_holds_in_closed_form_and_path_by_path() {
    for model in [PriceModel::Lognormal, PriceModel::Normal] {
        let s = ndpr(model);
        let df = (-s.rate * s.years).exp();
        // C − P = df·(F − K).
        let parity = closed_form(&s, false) - closed_form(&s, true);
        assert!(
            (parity - df * (s.forward - s.strike)).abs() < 1e-9,
            "{model:?}"
        );
        // On the same draws, call − put is the discounted forward contract, whose Monte Carlo
        // mean is df·(mean S_T − K): within 3 standard errors of df·(F − K).
        let k = s.strike;
        let forward = monte_carlo(&s, 200_000, 5, |x| (x - k).max(0.0) - (k - x).max(0.0));
        assert!(
            (forward.value - df * (s.forward - k)).abs() < 3.0 * forward.std_error,
            "{model:?}: {forward:?}"
        );
    }
}

#[test]
fn a_collar_costs_the_put_less_a_share_of_the_call() {
    // Australia's proposed reserve: a floor, and above a ceiling the state takes a share.
    for model in [PriceModel::Lognormal, PriceModel::Normal] {
        let s = ndpr(model);
        let (ceiling, share) = (150.0, 0.5);
        let mut call = s;
        call.strike = ceiling;
        let exact = closed_form(&s, true) - share * closed_form(&call, false);
        let mc = collar_cost(&s, ceiling, share, 200_000, 3);
        assert!(
            (mc.value - exact).abs() < 3.0 * mc.std_error,
            "{model:?}: {mc:?} vs {exact}"
        );
        // Cheaper than the floor alone.
        assert!(exact < closed_form(&s, true));
    }
}

#[test]
fn bad_inputs_are_named() {
    let mut s = ndpr(PriceModel::Lognormal);
    s.forward = 0.0;
    assert!(s.validate().unwrap_err().contains("--model normal"));
    s = ndpr(PriceModel::Normal);
    s.vol = -1.0;
    assert!(s.validate().unwrap_err().contains("negative"));
    s.vol = f64::NAN;
    assert!(s.validate().is_err());
}
