//! Clearing one good over 40 regions with every constraint kind: the reference QP path, the
//! fast path cold (a new solver per market) and warm (period after period, parameters
//! drifting), on the same markets. Results of record: `bench/results/equilibrium.md`.

use chokepoint_equilibrium::{
    DemandStep, ExportShare, FastOptions, FastSolver, Market, Quota, ReferenceOptions, Route,
    SolveStatus, SolverPath, SupplyStep, solve_reference,
};

fn main() {
    divan::main();
}

/// A small deterministic generator (SplitMix64), so the benchmark needs no RNG crate.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// 40 regions on a plane (transport cost = distance), every ordered pair a route; linear
/// supply and demand, some capacities, stockpile steps, tariffs, route capacities, bans, an
/// export quota from region 0 to a coalition and an export-licensing share cap on region 1.
fn market(regions: usize, seed: u64) -> Market {
    let mut rng = Mix(seed);
    let xy: Vec<(f64, f64)> = (0..regions)
        .map(|_| (rng.range(0.0, 30.0), rng.range(0.0, 30.0)))
        .collect();
    let mut m = Market {
        regions: (0..regions).map(|r| format!("R{r}")).collect(),
        goods: vec!["g".into()],
        ..Market::default()
    };
    for r in 0..regions {
        m.supply.push(SupplyStep {
            region: r,
            good: 0,
            intercept: rng.range(5.0, 45.0),
            slope: rng.range(0.2, 3.0),
            capacity: (rng.next() < 0.3).then(|| rng.range(10.0, 60.0)),
        });
        if rng.next() < 0.15 {
            m.supply.push(SupplyStep {
                region: r,
                good: 0,
                intercept: rng.range(70.0, 90.0),
                slope: 0.0,
                capacity: Some(rng.range(5.0, 20.0)),
            });
        }
        m.demand.push(DemandStep {
            region: r,
            good: 0,
            intercept: rng.range(80.0, 150.0),
            slope: rng.range(0.2, 3.0),
            capacity: None,
        });
        if rng.next() < 0.15 {
            m.demand.push(DemandStep {
                region: r,
                good: 0,
                intercept: rng.range(30.0, 50.0),
                slope: 0.0,
                capacity: Some(rng.range(5.0, 20.0)),
            });
        }
    }
    for a in 0..regions {
        for b in 0..regions {
            if a == b {
                continue;
            }
            let (dx, dy) = (xy[a].0 - xy[b].0, xy[a].1 - xy[b].1);
            m.routes.push(Route {
                from: a,
                to: b,
                good: 0,
                cost: 1.0 + (dx * dx + dy * dy).sqrt(),
                tariff: if rng.next() < 0.1 {
                    rng.range(1.0, 5.0)
                } else {
                    0.0
                },
                capacity: (rng.next() < 0.1).then(|| rng.range(5.0, 30.0)),
                banned: rng.next() < 0.02,
            });
        }
    }
    let coalition: Vec<usize> = m
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.from == 0 && r.to % 3 == 0)
        .map(|(i, _)| i)
        .collect();
    m.quotas.push(Quota {
        name: "quota R0 → coalition".into(),
        routes: coalition,
        limit: 5.0,
    });
    let licensed: Vec<usize> = m
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.from == 1)
        .map(|(i, _)| i)
        .collect();
    m.export_shares.push(ExportShare {
        name: "licensing R1".into(),
        region: 1,
        good: 0,
        routes: licensed,
        share: 0.2,
    });
    m
}

const REGIONS: usize = 40;

/// Reference path: one clearing with Clarabel.
#[divan::bench(sample_count = 20)]
fn reference_40_regions(bencher: divan::Bencher) {
    let m = market(REGIONS, 7);
    let check = solve_reference(&m, &ReferenceOptions::default()).expect("valid");
    assert_eq!(check.status, SolveStatus::Optimal);
    bencher.bench(|| solve_reference(divan::black_box(&m), &ReferenceOptions::default()));
}

/// Fast path, cold: a new solver (no warm start) for every clearing.
#[divan::bench(sample_count = 50)]
fn fast_cold_40_regions(bencher: divan::Bencher) {
    let m = market(REGIONS, 7);
    let check = FastSolver::new(&m, FastOptions::default()).solve(&m);
    assert_eq!(check.solver, SolverPath::Fast);
    bencher.bench(|| FastSolver::new(&m, FastOptions::default()).solve(divan::black_box(&m)));
}

/// Fast path, warm: quarter after quarter the same market with demand drifting by up to
/// ±0.5% and costs by ±0.2%, each clearing warm-started from the previous one.
#[divan::bench(sample_count = 50)]
fn fast_warm_40_regions(bencher: divan::Bencher) {
    let base = market(REGIONS, 7);
    let periods: Vec<Market> = (0..64)
        .map(|t| {
            let mut m = base.clone();
            let f = (t as f64 * 0.7).sin();
            for d in &mut m.demand {
                d.intercept *= 1.0 + 0.005 * f;
            }
            for r in &mut m.routes {
                r.cost *= 1.0 + 0.002 * f;
            }
            m
        })
        .collect();
    let mut solver = FastSolver::new(&base, FastOptions::default());
    for m in &periods {
        assert_eq!(solver.solve(m).solver, SolverPath::Fast);
    }
    let mut t = 0usize;
    bencher.bench_local(|| {
        t = (t + 1) % periods.len();
        solver.solve(divan::black_box(&periods[t]))
    });
}

/// Fast path, warm, without quota and licensing (the pure network): the floor of what one
/// clearing costs.
#[divan::bench(sample_count = 50)]
fn fast_warm_40_regions_network_only(bencher: divan::Bencher) {
    let mut base = market(REGIONS, 7);
    base.quotas.clear();
    base.export_shares.clear();
    let periods: Vec<Market> = (0..64)
        .map(|t| {
            let mut m = base.clone();
            let f = (t as f64 * 0.7).sin();
            for d in &mut m.demand {
                d.intercept *= 1.0 + 0.005 * f;
            }
            m
        })
        .collect();
    let mut solver = FastSolver::new(&base, FastOptions::default());
    let mut t = 0usize;
    bencher.bench_local(|| {
        t = (t + 1) % periods.len();
        solver.solve(divan::black_box(&periods[t]))
    });
}
