//! Risk runs: draws from the events' declared uncertainty, quantiles against known answers,
//! the same numbers on any number of threads and shards.

mod common;

use chokepoint_core::risk::{RiskRun, aggregate, base_prices, draw_events, quantile, shard_draws};
use chokepoint_core::scenario::{Scenario, run_scenario};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

/// A Grasberg disruption in 2025 that happens with probability `p`.
fn disruption(p: f64, uncertainty: &str) -> String {
    disruption_of(p, 270_000.0, uncertainty)
}

/// A Grasberg disruption in 2025 of `loss` tonnes a year that happens with probability `p`.
fn disruption_of(p: f64, loss: f64, uncertainty: &str) -> String {
    format!(
        r#"
[scenario]
name = "risk test"
to = 2025
seed = 7

[[event]]
id = "grasberg"
kind = "disruption"
start = "2025-01-01"
source = "test"
probability = {p}
place = "IDN"
goods = ["cu_mined"]
loss_per_year = {loss}
{uncertainty}
"#
    )
}

#[test]
fn drawn_starts_durations_and_magnitudes_follow_their_uniform_ranges() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let text = disruption(
        0.3,
        r#"uncertainty = { start = ["2025-01-01", "2026-01-01"], duration = [0.5, 1.5], magnitude = [0.5, 2.0] }"#,
    );
    let s = Scenario::load(&text, "risk.toml", &mut prepared.world).unwrap();
    let n = 4000;
    let mut starts = Vec::new();
    let mut durations = Vec::new();
    let mut magnitudes = Vec::new();
    let mut happened = 0;
    for i in 0..n {
        let (events, rec) = draw_events(&s, 7, i);
        let r = &rec[0];
        happened += usize::from(r.happened);
        assert_eq!(events.len(), usize::from(r.happened));
        starts.push(r.start);
        durations.push(r.end.unwrap() - r.start);
        magnitudes.push(r.magnitude);
    }
    // Bernoulli(0.3): within 4 standard errors (0.029 at n = 4000).
    let share = happened as f64 / n as f64;
    assert!(
        (share - 0.3).abs() < 4.0 * (0.3f64 * 0.7 / n as f64).sqrt(),
        "{share}"
    );
    // Uniform quantiles: q-th of U(a, b) is a + q(b − a); the sample quantile's standard
    // error is sqrt(q(1−q)/n)·(b − a).
    for (values, a, b) in [
        (&mut starts, 2025.0, 2026.0),
        (&mut durations, 0.5, 1.5),
        (&mut magnitudes, 0.5, 2.0),
    ] {
        values.sort_by(f64::total_cmp);
        for q in [0.05, 0.5, 0.95] {
            let expected = a + q * (b - a);
            let se = (q * (1.0 - q) / n as f64).sqrt() * (b - a);
            let got = quantile(values, q);
            assert!(
                (got - expected).abs() < 4.0 * se,
                "q{q}: {got} vs {expected}"
            );
        }
    }
    // The same seed and index give the same draw; another index another.
    assert_eq!(draw_events(&s, 7, 11).1, draw_events(&s, 7, 11).1);
    assert_ne!(draw_events(&s, 7, 11).1, draw_events(&s, 7, 12).1);
    assert_ne!(draw_events(&s, 7, 11).1, draw_events(&s, 8, 11).1);
}

#[test]
fn shortfall_quantiles_match_the_bernoulli_mixture_and_threads_and_shards_agree() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let p = 0.25;
    let s = Scenario::load(&disruption(p, ""), "risk.toml", &mut prepared.world).unwrap();
    // The event for sure: its added shortfall is what a draw where it happens must add.
    let sure_text = disruption(1.0, "");
    let mut world = prepared.world.clone();
    let sure = Scenario::load(&sure_text, "sure.toml", &mut world).unwrap();
    let plain = run_scenario(&ds, &prepared, &sure).unwrap();

    let risk = RiskRun::new(&ds, &prepared, &s, s.header.seed).unwrap();
    let n = 80u64;
    let all: Vec<u64> = (0..n).collect();
    let one = risk.run_draws(&all, 1, &|_| {});
    let two = risk.run_draws(&all, 2, &|_| {});
    assert_eq!(one, two, "1 and 2 threads");
    let shards: Vec<_> = [(0, 3), (1, 3), (2, 3)]
        .iter()
        .flat_map(|&sh| risk.run_draws(&shard_draws(n, Some(sh)), 2, &|_| {}))
        .collect();
    let prices = base_prices(&risk.baseline, &risk.keys);
    let whole = aggregate(&risk.keys, &prices, &one, 1.0);
    assert_eq!(
        whole,
        aggregate(&risk.keys, &prices, &shards, 1.0),
        "shards"
    );
    assert!(whole.failed.is_empty(), "{:?}", whole.failed);

    // Copper shortfall in 2025 added by the disruption, summed over regions and sectors.
    let total = |rows: &[chokepoint_core::world::baseline::SectorRow]| -> f64 {
        rows.iter()
            .filter(|r| r.good == "cu_cathode" && r.period.starts_with("2025"))
            .map(|r| r.shortfall)
            .sum()
    };
    let added_sure = total(&plain.scenario.sector_rows) - total(&plain.baseline.sector_rows);
    assert!(
        added_sure > 1000.0,
        "the disruption leaves copper short: {added_sure}"
    );
    let happened: Vec<bool> = one.iter().map(|d| d.events[0].happened).collect();
    let k = happened.iter().filter(|h| **h).count();
    // Each draw adds either nothing or the plain run's shortfall.
    for (d, &h) in one.iter().zip(&happened) {
        let added: f64 = risk
            .keys
            .shortfall
            .iter()
            .zip(d.shortfall.iter())
            .filter(|((_, _, g, y), _)| g == "cu_cathode" && *y == 2025)
            .map(|(_, v)| v)
            .sum();
        if h {
            assert!(
                (added - added_sure).abs() <= 1e-6 * added_sure,
                "draw {}: {added} vs {added_sure}",
                d.draw
            );
        } else {
            // Without the event a draw is the baseline: no added shortfall anywhere, not even
            // the solvers' rounding (which a threshold of 0 would count).
            assert!(
                d.shortfall.iter().all(|v| *v == 0.0),
                "draw {}: {:?}",
                d.draw,
                d.shortfall
                    .iter()
                    .filter(|v| **v != 0.0)
                    .collect::<Vec<_>>()
            );
        }
    }
    let at_zero = aggregate(&risk.keys, &prices, &one, 0.0);
    for r in at_zero.shortfall.iter().filter(|r| r.stats.p95 == 0.0) {
        assert_eq!(r.stats.p_exceed, 0.0, "{r:?}");
    }
    // Rows: P50 is 0 (p < 0.5), P95 the sure shortfall (k/n > 5%), the mean k/n of it, and
    // the exceedance probability k/n.
    assert!(k > 5 && k < 40, "{k} of {n} happened");
    let rows: Vec<_> = whole
        .shortfall
        .iter()
        .filter(|r| r.good == "cu_cathode" && r.year == 2025 && r.stats.p95 > 1.0)
        .collect();
    assert!(!rows.is_empty());
    for r in rows {
        assert_eq!(r.stats.p50, 0.0, "{r:?}");
        assert!(
            (r.stats.p_exceed - k as f64 / n as f64).abs() < 1e-12,
            "{r:?}"
        );
        let expected_mean = r.stats.p95 * k as f64 / n as f64;
        assert!(
            (r.stats.mean - expected_mean).abs() <= 1e-9 * r.stats.p95,
            "{r:?}"
        );
    }
    // The one event drives the tail: it happened in every tail draw.
    assert_eq!(whole.drivers[0].event, "grasberg");
    assert_eq!(whole.drivers[0].share_tail, 1.0);
}

#[test]
fn the_risk_examples_check_against_the_full_world() {
    let ds = chokepoint_core::Dataset::embedded().unwrap();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/risk");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut world = prepared.world.clone();
        let s = Scenario::load(&text, &path.display().to_string(), &mut world)
            .unwrap_or_else(|e| panic!("{e}"));
        // A risk example draws something.
        assert!(
            s.events
                .iter()
                .any(|e| e.probability < 1.0 || e.uncertainty.magnitude.is_some()),
            "{}",
            path.display()
        );
        assert!(chokepoint_core::risk::unscaled_magnitudes(&s).is_empty());
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn background_risk_follows_political_stability_and_its_events_load() {
    use chokepoint_core::risk::{background_events, background_risk};
    let ds = chokepoint_core::Dataset::embedded().unwrap();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let rows = background_risk(&ds, &map, &prepared.world).unwrap();
    let (p_stable, p_unstable) = (
        ds.assumption("risk_background_p_stable").unwrap(),
        ds.assumption("risk_background_p_unstable").unwrap(),
    );
    let (worst, best) = (
        ds.assumption("wgi_worst").unwrap(),
        ds.assumption("wgi_best").unwrap(),
    );
    assert!(rows.len() > 20, "{} producing nodes", rows.len());
    for r in &rows {
        // The documented rule, recomputed.
        let x = ((best - r.political_stability) / (best - worst)).clamp(0.0, 1.0);
        let p = p_stable + (p_unstable - p_stable) * x;
        assert!((r.annual_probability - p).abs() < 1e-12, "{r:?}");
    }
    // The DR Congo's mines are riskier than Australia's (WGI pv about -1.8 against +0.9).
    let p_of = |region: &str, good: &str| {
        rows.iter()
            .find(|r| r.region == region && r.good == good)
            .map(|r| r.annual_probability)
    };
    let cod = p_of("COD", "co_mined").expect("DR Congo mines cobalt");
    let aus = p_of("AUS", "co_mined").expect("Australia mines cobalt");
    assert!(cod > aus + 0.05, "COD {cod} vs AUS {aus}");
    // As events: one per node and year, which a scenario loads.
    let text = format!(
        "[scenario]\nname = \"background\"\nto = 2026\n{}",
        background_events(&ds, &rows, 2025, 2026).unwrap()
    );
    let s = Scenario::load(&text, "background.toml", &mut prepared.world)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.events.len(), 2 * rows.len());
    // The mean number of disruptions drawn per year is the sum of the annual probabilities.
    let expected: f64 = rows.iter().map(|r| r.annual_probability).sum::<f64>() * 2.0;
    let n = 400;
    let drawn: usize = (0..n).map(|i| draw_events(&s, 1, i).0.len()).sum();
    let mean = drawn as f64 / n as f64;
    let sd = rows
        .iter()
        .map(|r| 2.0 * r.annual_probability * (1.0 - r.annual_probability))
        .sum::<f64>()
        .sqrt();
    assert!(
        (mean - expected).abs() < 4.0 * sd / (n as f64).sqrt(),
        "{mean} vs {expected}"
    );
}

/// Four chains moved by four events: a ban on rare earths (acts by quarter, its end drawn), a
/// lithium disruption (happens or not), a copper demand shift (its start drawn, and its ramp
/// reads the start) and a nickel price floor (a magnitude drawn, which a floor cannot scale).
const SHARING: &str = r#"
[scenario]
name = "sharing test"
to = 2026
seed = 11

[[event]]
id = "ban"
kind = "export_ban"
start = "2025-04-01"
source = "test"
probability = 0.8
origin = "CHN"
destinations = ["JPN"]
goods = ["dy_oxide", "ndfeb_magnet"]
uncertainty = { duration = [0.2, 1.2] }

[[event]]
id = "lithium"
kind = "disruption"
start = "2025-01-01"
end = "2026-01-01"
source = "test"
probability = 0.5
place = "AUS"
goods = ["li_mined"]
share = 0.5

[[event]]
id = "copper"
kind = "demand_shift"
start = "2025-01-01"
source = "test"
goods = ["cu_cathode"]
factor = 1.1
ramp_years = 1.0
uncertainty = { start = ["2025-01-01", "2026-01-01"] }

[[event]]
id = "nickel_floor"
kind = "price_floor"
start = "2025-07-01"
source = "test"
good = "ni_refined"
floor = 20000
uncertainty = { magnitude = [0.5, 1.5] }
"#;

#[test]
fn draws_share_chain_runs_without_changing_a_number() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let s = Scenario::load(SHARING, "sharing.toml", &mut prepared.world).unwrap();
    let risk = RiskRun::new(&ds, &prepared, &s, s.header.seed).unwrap();
    let n = 24u64;
    let all: Vec<u64> = (0..n).collect();
    let shared = risk.run_draws(&all, 2, &|_| {});
    assert!(shared.iter().all(|d| d.status == "ok"));
    // Each draw alone, with nothing shared (a fresh run each time), gives the same numbers
    // to the last bit.
    for d in shared.iter().step_by(3) {
        let alone = RiskRun::new(&ds, &prepared, &s, s.header.seed)
            .unwrap()
            .run_draw(d.draw);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(alone.events, d.events);
        assert_eq!(alone.status, d.status);
        assert!(
            bits(&alone.shortfall) == bits(&d.shortfall),
            "draw {}",
            d.draw
        );
        assert!(bits(&alone.price) == bits(&d.price), "draw {}", d.draw);
    }
    let runs = risk.chain_runs();
    let of = |good: &str| {
        runs.iter()
            .find(|(goods, _)| goods.iter().any(|g| g == good))
            .map(|r| r.1)
            .unwrap()
    };
    let happened = |event: usize| shared.iter().filter(|d| d.events[event].happened).count();
    // The ban's end is drawn from a continuum, but a run only sees the quarters it is in
    // force (2025Q2 and up to four more): at most five runs beside the baseline's.
    assert!(happened(0) > 10, "{}", happened(0));
    assert!(of("dy_oxide") <= 6, "{runs:?}");
    // The disruption happens or not: two runs.
    assert_eq!(of("li_mined"), 2, "{runs:?}");
    // The demand shift's ramp reads its start: one run per draw, and the baseline's.
    assert_eq!(of("cu_cathode"), n as usize + 1, "{runs:?}");
    // The floor has no figure to scale: its drawn magnitude changes nothing, one run beside
    // the baseline's.
    assert_eq!(of("ni_mined"), 2, "{runs:?}");
    // Chains no event touches run once, for the baseline.
    assert_eq!(of("sb_mined"), 1, "{runs:?}");
}

#[test]
fn shortfall_quantiles_converge_to_the_quantiles_of_a_monotone_transform_of_a_uniform() {
    // A Grasberg disruption of m × 270 kt a year, m ~ U(0.2, 1.8). The added copper shortfall
    // S(m) grows with m, so its q-quantile is S at m's q-quantile, 0.2 + 1.6 q: the known
    // answer, from plain runs.
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let text = disruption(1.0, "uncertainty = { magnitude = [0.2, 1.8] }");
    let s = Scenario::load(&text, "sized.toml", &mut prepared.world).unwrap();
    let added = |rows: &[chokepoint_core::world::baseline::SectorRow]| -> f64 {
        rows.iter()
            .filter(|r| r.good == "cu_cathode")
            .map(|r| r.shortfall)
            .sum()
    };
    let plain = |m: f64| -> f64 {
        let mut world = prepared.world.clone();
        let sure =
            Scenario::load(&disruption_of(1.0, 270_000.0 * m, ""), "m.toml", &mut world).unwrap();
        let run = run_scenario(&ds, &prepared, &sure).unwrap();
        added(&run.scenario.sector_rows) - added(&run.baseline.sector_rows)
    };
    let risk = RiskRun::new(&ds, &prepared, &s, s.header.seed).unwrap();
    let n = 400u64;
    let draws = risk.run_draws(&(0..n).collect::<Vec<_>>(), 2, &|_| {});
    let mut totals: Vec<f64> = draws
        .iter()
        .map(|d| {
            risk.keys
                .shortfall
                .iter()
                .zip(d.shortfall.iter())
                .filter(|((_, _, g, _), _)| g == "cu_cathode")
                .map(|(_, v)| v)
                .sum()
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    for q in [0.05, 0.5, 0.95] {
        let m = 0.2 + 1.6 * q;
        // Four standard errors of the sample quantile of m, carried through S.
        let se = 4.0 * (q * (1.0 - q) / n as f64).sqrt() * 1.6;
        let (lo, mid, hi) = (plain(m - se), plain(m), plain(m + se));
        assert!(lo < mid && mid < hi, "S grows with m: {lo} {mid} {hi}");
        let got = quantile(&totals, q);
        assert!(
            lo <= got && got <= hi,
            "q{q}: {got} outside S(m ± 4 se) = [{lo}, {hi}] around {mid}"
        );
    }
    // The mean converges to the mean of S over m, by the trapezoid rule on plain runs.
    let grid: Vec<f64> = (0..=8).map(|k| plain(0.2 + 0.2 * f64::from(k))).collect();
    let mean_s = (grid.iter().sum::<f64>() - 0.5 * (grid[0] + grid[8])) / 8.0;
    let mean = totals.iter().sum::<f64>() / n as f64;
    let spread = grid[8] - grid[0];
    assert!(
        (mean - mean_s).abs() < 0.05 * spread,
        "mean {mean} vs {mean_s} (S from {} to {})",
        grid[0],
        grid[8]
    );
}
