//! Exposure tracing: a hand-computed chain, and conservation on the world model.

mod common;

use std::collections::BTreeMap;

use chokepoint_core::exposure::{Flows, trace};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

/// A mines 100 ore, B 50; A ships 80 ore to B and 20 to C. B's plant makes 65 metal from all
/// its 130 ore (2 ore a unit), C's makes 10 from its 20; C also refines 5 of scrap. B ships 40
/// metal to C, where 55 are consumed.
fn chain() -> Flows {
    let (a, b, c) = (0, 1, 2);
    let (ore, metal) = (0, 1);
    let node = |r: usize, g: usize| r * 2 + g;
    let mut production = vec![0.0; 6];
    production[node(a, ore)] = 100.0;
    production[node(b, ore)] = 50.0;
    production[node(b, metal)] = 65.0;
    production[node(c, metal)] = 15.0;
    let mut consumption = BTreeMap::new();
    consumption.insert((node(c, metal), "x".to_string()), 55.0);
    consumption.insert((node(b, metal), "x".to_string()), 25.0);
    Flows {
        regions: vec!["A".into(), "B".into(), "C".into()],
        goods: vec!["ore".into(), "metal".into()],
        production,
        routes: vec![(a, b, ore, 80.0), (a, c, ore, 20.0), (b, c, metal, 40.0)],
        plants: vec![
            (b, metal, vec![(ore, 2.0)], 65.0),
            (c, metal, vec![(ore, 2.0)], 10.0),
        ],
        consumption,
    }
}

#[test]
fn tracing_a_small_chain_matches_the_hand_computation() {
    let f = chain();
    let t = trace(&f, 2, 1, Some("x"));
    assert_eq!(t.quantity, 55.0);
    let share = |stage: usize, who: &str| {
        t.stages[stage]
            .origins
            .iter()
            .find(|o| o.0 == who)
            .map_or(0.0, |o| o.1)
    };
    // Metal: 40 of B's, 15 made at C (10 from ore, 5 from scrap).
    assert_eq!(t.stages[0].good, "metal");
    close(share(0, "B"), 40.0 / 55.0, "metal from B");
    close(share(0, "C"), 15.0 / 55.0, "metal made at C");
    // Ore: B's metal carries 2 × 40 = 80 ore mixed as B's ore (80 of A's, 50 of B's in 130);
    // C's plant 20 ore of A's; the 5 of scrap replace 10 ore, untraced. 110 in all.
    assert_eq!(t.stages[1].good, "ore");
    close(t.stages[1].quantity, 110.0, "ore in C's metal");
    close(
        share(1, "A"),
        (80.0 * 80.0 / 130.0 + 20.0) / 110.0,
        "ore from A",
    );
    close(share(1, "B"), (80.0 * 50.0 / 130.0) / 110.0, "ore from B");
    close(share(1, "untraced"), 10.0 / 110.0, "scrap");
    for s in &t.stages {
        close(s.origins.iter().map(|o| o.1).sum(), 1.0, "shares sum to 1");
    }
    // B consumes its own metal: all made at B from B's ore mix.
    let tb = trace(&f, 1, 1, None);
    close(tb.stages[0].origins[0].1, 1.0, "B's metal is B's");
    close(tb.stages[1].quantity, 50.0, "25 metal carry 50 ore");
}

#[test]
fn the_sankey_of_a_small_chain_matches_the_hand_computation() {
    let f = chain();
    // Ore at 1, metal at 10 a unit.
    let s = f.sankey(1, &[1.0, 10.0], 2026, 0.0);
    assert_eq!(s.chain, ["metal", "ore"]);
    let link = |from: &str, to: &str| {
        s.links
            .iter()
            .find(|l| l.source == from && l.target == to)
            .map(|l| (l.quantity, l.value))
    };
    // B's plant uses 130 ore from B's pool (50 of B's, 80 of A's); C's 20, all A's.
    assert_eq!(link("ore · B", "metal · B"), Some((50.0, 50.0)));
    assert_eq!(link("ore · A", "metal · B"), Some((80.0, 80.0)));
    assert_eq!(link("ore · A", "metal · C"), Some((20.0, 20.0)));
    // B uses 25 of its own metal; C's 55 are 15 of its own and 40 of B's.
    let close_link = |from: &str, to: &str, q: f64| {
        let (got, value) = link(from, to).unwrap_or_else(|| panic!("{from} → {to} missing"));
        close(got, q, &format!("{from} → {to}"));
        close(value, 10.0 * q, &format!("{from} → {to} value"));
    };
    close_link("metal · B", "used · B", 25.0);
    close_link("metal · B", "used · C", 40.0);
    close_link("metal · C", "used · C", 15.0);
    assert_eq!(s.links.len(), 6, "{:?}", s.links);
    // Every tonne of ore mined goes into metal; every tonne of metal consumed is drawn.
    let ore: f64 = s
        .links
        .iter()
        .filter(|l| l.good == "ore")
        .map(|l| l.quantity)
        .sum();
    close(ore, 150.0, "ore");
    assert_eq!(s.omitted_value, 0.0);
    // A threshold drops the small links and counts their value.
    let cut = f.sankey(1, &[1.0, 10.0], 2026, 0.3);
    assert!(cut.links.iter().all(|l| l.value >= 0.3 * 400.0));
    close(
        cut.omitted_value + cut.links.iter().map(|l| l.value).sum::<f64>(),
        150.0 + 800.0,
        "kept plus omitted is everything",
    );
}

#[test]
#[allow(clippy::needless_range_loop)]
fn traced_origins_conserve_each_regions_production_on_the_world_model() {
    let ds = common::minimal_dataset();
    let map = RegionMap::from_dataset(&ds).unwrap();
    let prepared = WorldModel::prepare(&ds, &map, "steps").unwrap();
    let run = prepared.run(&ds, 2026, &[], None).unwrap();
    let f = Flows::of_year(&run, &prepared.world, prepared.processes(), 2026).unwrap();
    let w = &prepared.world;
    let nr = w.regions.len();
    for good in ["ndpr_oxide", "ndfeb_magnet", "co_refined", "cu_cathode"] {
        let g = w.good(good).unwrap();
        let e = f.embodied(g);
        // Every unit available somewhere is used there or exported: summing what each node
        // keeps (availability less exports) with the node's mix gives back production.
        let mut avail = vec![0.0; nr];
        let mut exports = vec![0.0; nr];
        for r in 0..nr {
            avail[r] = f.production[w.node(r, g)];
        }
        for &(s, t, gg, x) in &f.routes {
            if gg == g {
                avail[t] += x;
                exports[s] += x;
            }
        }
        let mut kept = vec![0.0; nr + 1];
        for r in 0..nr {
            if avail[r] > 0.0 {
                let keep = avail[r] - exports[r];
                for (o, v) in e[w.node(r, g)].iter().enumerate() {
                    kept[o] += keep * v / avail[r];
                }
            }
        }
        let total: f64 = (0..nr).map(|r| f.production[w.node(r, g)]).sum();
        assert!(total > 0.0, "{good}");
        for r in 0..nr {
            let p = f.production[w.node(r, g)];
            assert!(
                (kept[r] - p).abs() < 1e-6 * total,
                "{good} {}: {} vs {p}",
                w.regions[r],
                kept[r]
            );
        }
        // Shares of every stage sum to 1 wherever the good is consumed.
        for r in 0..nr {
            let t = trace(&f, r, g, None);
            if t.quantity > 0.0 {
                for s in &t.stages {
                    let sum: f64 = s.origins.iter().map(|o| o.1).sum();
                    assert!(
                        (sum - 1.0).abs() < 1e-9,
                        "{good} at {}: {} sums to {sum}",
                        w.regions[r],
                        s.good
                    );
                }
            }
        }
    }
    assert!(Flows::of_year(&run, w, prepared.processes(), 2030).is_err());
}
