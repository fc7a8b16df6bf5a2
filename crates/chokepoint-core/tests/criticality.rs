//! The EU criticality formulas against the worked example of docs/criticality-method.md §5.1
//! (built from the 2017 Guidelines' definitions) and the 2023 list rule on published scores.

mod common;

use chokepoint_core::Dataset;
use chokepoint_core::criticality::{
    Supplier, economic_importance, eu_score, hhi_wgi_t, import_reliance, round1,
    substitution_index, supply_risk_stage, wgi_scaled,
};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

#[test]
fn the_worked_example_gives_its_supply_risk_and_economic_importance() {
    let ds = Dataset::embedded().unwrap();
    let a = |id: &str| ds.assumption(id).unwrap();
    let scale = |w: f64| wgi_scaled(w, a("wgi_best"), a("wgi_worst"), a("wgi_scaled_max"));
    // Countries A, B, C (third countries), D (EU member).
    let (wa, wb, wc, wd) = (scale(-0.5), scale(1.0), scale(-1.0), scale(1.2));
    close(wa, 6.0);
    close(wb, 3.0);
    close(wc, 7.0);
    close(wd, 2.6);
    let s = |share, wgi_scaled, trade| Supplier {
        share,
        wgi_scaled,
        trade,
    };
    let gs = hhi_wgi_t(&[s(0.7, wa, 1.1), s(0.2, wb, 1.0), s(0.1, wc, 1.0)]);
    close(gs, 3.424);
    let eus = hhi_wgi_t(&[s(0.3, wd, 1.0), s(0.4, wa, 1.1), s(0.3, wb, 1.0)]);
    close(eus, 1.56);
    let ir = import_reliance(300.0, 700.0, 0.0);
    close(ir, 0.7);
    let si_sr = substitution_index(&[(0.6, &[(0.25, 0.8)]), (0.4, &[])]);
    close(si_sr, 0.97);
    let si_ei = substitution_index(&[(0.6, &[(0.25, 0.9)]), (0.4, &[])]);
    close(si_ei, 0.985);
    let sr_p = supply_risk_stage(Some(gs), Some(eus), ir, 0.1, si_sr).unwrap();
    close(sr_p, 1.9314252);
    // Extraction: global supply only.
    let gs_e = hhi_wgi_t(&[s(0.4, wa, 1.0), s(0.3, wb, 1.0), s(0.3, wc, 1.0)]);
    close(gs_e, 1.86);
    let sr_e = supply_risk_stage(Some(gs_e), None, ir, 0.1, si_sr).unwrap();
    close(sr_e, 1.62378);
    assert!(supply_risk_stage(None, None, ir, 0.1, si_sr).is_none());
    // EI: the same in money and in shares of the economy (the normalisation cancels).
    let ei = economic_importance(&[(0.6, 200.0), (0.4, 80.0)], 250.0, si_ei);
    close(ei, 5.9888);
    close(
        economic_importance(&[(0.6, 0.02), (0.4, 0.008)], 0.025, si_ei),
        ei,
    );
    let score = eu_score(
        &[("extraction", sr_e), ("processing", sr_p)],
        ei,
        a("eu_sr_threshold"),
        a("eu_ei_threshold"),
    )
    .unwrap();
    assert_eq!(score.bottleneck, "processing");
    assert_eq!((round1(score.sr), round1(score.ei)), (1.9, 6.0));
    assert!(score.critical);
    // Import reliance is clipped: a net exporter relies on nobody.
    close(import_reliance(100.0, 10.0, 50.0), 0.0);
    close(import_reliance(0.0, 10.0, 0.0), 1.0);
}

#[test]
fn the_threshold_rule_on_published_2023_scores_gives_the_published_verdicts() {
    // EU 2023 assessment (Grohol & Veeh 2023, doi:10.2873/725585, as transcribed in
    // docs/criticality-method.md §3.1): (material, SR, EI, on the CRMA Annex II critical list).
    // Kaolin sits on the EI threshold (2.8) with SR 0.8: not critical.
    let ds = Dataset::embedded().unwrap();
    let (sr_t, ei_t) = (
        ds.assumption("eu_sr_threshold").unwrap(),
        ds.assumption("eu_ei_threshold").unwrap(),
    );
    let published = [
        ("antimony", 1.8, 5.4, true),
        ("cobalt", 2.8, 6.8, true),
        ("copper", 0.1, 4.0, false),
        ("gallium", 3.9, 3.7, true),
        ("lithium", 1.9, 3.9, true),
        ("nickel", 0.5, 5.7, false),
        ("tungsten", 1.2, 8.7, true),
        ("dysprosium", 5.6, 7.8, true),
        ("kaolin", 0.8, 2.8, false),
    ];
    for (m, sr, ei, critical) in published {
        let s = eu_score(&[("stage", sr)], ei, sr_t, ei_t).unwrap();
        assert_eq!(s.critical, critical, "{m}");
    }
}

#[test]
fn a_chinese_ban_moves_eu_sourcing_and_the_model_scores_follow_the_formula() {
    use chokepoint_core::criticality::assess;
    use chokepoint_core::scenario::{Scenario, run_scenario};
    use chokepoint_core::world::RegionMap;
    use chokepoint_core::world::baseline::WorldModel;

    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let mut prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let text = r#"
[scenario]
name = "ban"
to = 2026

[[event]]
id = "ban"
kind = "export_ban"
start = "2026-01-01"
source = "test"
origin = "CHN"
destinations = ["group:eu27"]
goods = ["apt", "tb_oxide"]
"#;
    let s = Scenario::load(text, "ban.toml", &mut prepared.world).unwrap();
    let run = run_scenario(&ds, &prepared, &s).unwrap();
    let w = &prepared.world;
    let eu = w.place("group:eu27").unwrap();
    let before = assess(&ds, w, &run.baseline, 2026, &eu, true).unwrap();
    let after = assess(&ds, w, &run.scenario, 2026, &eu, true).unwrap();
    let stage = |list: &[chokepoint_core::criticality::MaterialScore], m: &str, st: &str| {
        list.iter()
            .find(|x| x.material == m)
            .and_then(|x| x.stages.iter().find(|s| s.stage == st))
            .cloned()
            .unwrap()
    };
    let china = |s: &chokepoint_core::criticality::StageScore| {
        s.sourcing
            .iter()
            .find(|o| o.0 == "CHN")
            .map_or(0.0, |o| o.1)
    };
    for m in ["Tungsten", "Terbium"] {
        let (b, a) = (
            stage(&before, m, "processing"),
            stage(&after, m, "processing"),
        );
        assert!(
            china(&b) > 0.0,
            "{m}: the EU buys Chinese {} in the baseline",
            b.good
        );
        assert_eq!(china(&a), 0.0, "{m}: none under the ban");
        for s in [&b, &a] {
            let sum: f64 = s.sourcing.iter().map(|o| o.1).sum();
            assert!((sum - 1.0).abs() < 1e-9);
            assert!((0.0..=1.0).contains(&s.ir));
        }
    }
    // Every material's SR is its largest stage's, and its verdict the rounded thresholds'.
    for m in &before {
        let max = m
            .stages
            .iter()
            .map(|s| s.sr)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(m.sr, max, "{}", m.material);
        if let Some(ei) = m.ei {
            assert_eq!(m.critical, Some(round1(m.sr) >= 1.0 && round1(ei) >= 2.8));
        }
    }
}
