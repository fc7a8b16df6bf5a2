//! Clearing one good over 40 regions with every constraint kind, and three goods over 40
//! regions with a two-input plant in each: the reference QP path, the fast path cold (a new
//! solver per market) and warm (period after period, parameters drifting), on the same
//! markets. Results of record: `bench/results/equilibrium.md`.

use chokepoint_equilibrium::{
    DemandStep, ExportShare, FastOptions, FastSolver, Market, Process, Quota, ReferenceOptions,
    Route, SolveStatus, SolverPath, SupplyStep, solve_reference,
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
    bench_reference(bencher, &market(REGIONS, 7));
}

/// Fast path, cold: a new solver (no warm start) for every clearing.
#[divan::bench(sample_count = 50)]
fn fast_cold_40_regions(bencher: divan::Bencher) {
    bench_cold(bencher, &market(REGIONS, 7));
}

/// Fast path, warm: quarter after quarter the same market with demand drifting by up to
/// ±0.5% and costs by ±0.2%, each clearing warm-started from the previous one.
#[divan::bench(sample_count = 50)]
fn fast_warm_40_regions(bencher: divan::Bencher) {
    let periods = quarters(&market(REGIONS, 7), |m, f| {
        for d in &mut m.demand {
            d.intercept *= 1.0 + 0.005 * f;
        }
        for r in &mut m.routes {
            r.cost *= 1.0 + 0.002 * f;
        }
    });
    bench_warm(bencher, &periods);
}

/// Fast path, warm, without quota and licensing (the pure network): the floor of what one
/// clearing costs.
#[divan::bench(sample_count = 50)]
fn fast_warm_40_regions_network_only(bencher: divan::Bencher) {
    let mut base = market(REGIONS, 7);
    base.quotas.clear();
    base.export_shares.clear();
    let periods = quarters(&base, |m, f| {
        for d in &mut m.demand {
            d.intercept *= 1.0 + 0.005 * f;
        }
    });
    bench_warm(bencher, &periods);
}

/// One clearing of `m` on the reference path.
fn bench_reference(bencher: divan::Bencher, m: &Market) {
    let check = solve_reference(m, &ReferenceOptions::default()).expect("valid");
    assert_eq!(check.status, SolveStatus::Optimal);
    bencher.bench(|| solve_reference(divan::black_box(m), &ReferenceOptions::default()));
}

/// One clearing of `m` on the fast path with a new solver (no warm start).
fn bench_cold(bencher: divan::Bencher, m: &Market) {
    let check = FastSolver::new(m, FastOptions::default()).solve(m);
    assert_eq!(check.solver, SolverPath::Fast);
    bencher.bench(|| FastSolver::new(m, FastOptions::default()).solve(divan::black_box(m)));
}

/// Clearings of `periods` in turn, each warm-started from the one before (every one on the
/// fast path).
fn bench_warm(bencher: divan::Bencher, periods: &[Market]) {
    let mut solver = FastSolver::new(&periods[0], FastOptions::default());
    for m in periods {
        assert_eq!(solver.solve(m).solver, SolverPath::Fast);
    }
    let mut t = 0usize;
    bencher.bench_local(|| {
        t = (t + 1) % periods.len();
        solver.solve(divan::black_box(&periods[t]))
    });
}

/// 64 quarters of `base`, each changed by `drift` with a factor f = sin(0.7·t) in [−1, 1].
fn quarters(base: &Market, drift: impl Fn(&mut Market, f64)) -> Vec<Market> {
    (0..64)
        .map(|t| {
            let mut m = base.clone();
            drift(&mut m, (t as f64 * 0.7).sin());
            m
        })
        .collect()
}

/// Three goods over `regions` regions on a plane (every ordered pair a route for each good,
/// cost = 1 + distance): metal (good 0) mined in a third of the regions, dysprosium (good 1)
/// in three, magnets (good 2) demanded everywhere, with a small direct demand for metal and
/// dysprosium in some regions. Every region has a magnet plant taking 0.31 t metal and 0.009 t
/// dysprosium per tonne (NdFeB-like), half of them with a capacity.
fn magnet_market(regions: usize, seed: u64) -> Market {
    let mut rng = Mix(seed);
    let xy: Vec<(f64, f64)> = (0..regions)
        .map(|_| (rng.range(0.0, 30.0), rng.range(0.0, 30.0)))
        .collect();
    let mut m = Market {
        regions: (0..regions).map(|r| format!("R{r}")).collect(),
        goods: vec!["metal".into(), "dy".into(), "magnet".into()],
        ..Market::default()
    };
    for r in 0..regions {
        if r % 3 == 0 {
            m.supply.push(SupplyStep {
                region: r,
                good: 0,
                intercept: rng.range(40.0, 80.0),
                slope: rng.range(0.5, 2.0),
                capacity: None,
            });
        }
        if r % 13 == 1 {
            m.supply.push(SupplyStep {
                region: r,
                good: 1,
                intercept: rng.range(200.0, 400.0),
                slope: rng.range(5.0, 20.0),
                capacity: None,
            });
        }
        if r % 4 == 2 {
            m.demand.push(DemandStep {
                region: r,
                good: (r / 4) % 2,
                intercept: rng.range(150.0, 500.0),
                slope: rng.range(1.0, 5.0),
                capacity: None,
            });
        }
        m.demand.push(DemandStep {
            region: r,
            good: 2,
            intercept: rng.range(120.0, 200.0),
            slope: rng.range(0.2, 1.0),
            capacity: None,
        });
        m.processes.push(Process {
            name: format!("magnets R{r}"),
            region: r,
            output: 2,
            inputs: vec![(0, 0.31), (1, 0.009)],
            cost: rng.range(10.0, 40.0),
            capacity: (r % 2 == 0).then(|| rng.range(20.0, 80.0)),
        });
    }
    for good in 0..3 {
        for a in 0..regions {
            for b in 0..regions {
                if a != b {
                    let (dx, dy) = (xy[a].0 - xy[b].0, xy[a].1 - xy[b].1);
                    m.routes.push(Route {
                        from: a,
                        to: b,
                        good,
                        cost: 1.0 + (dx * dx + dy * dy).sqrt(),
                        tariff: 0.0,
                        capacity: None,
                        banned: false,
                    });
                }
            }
        }
    }
    m
}

/// Reference path on the magnet market (4,680 routes, 40 two-input plants).
#[divan::bench(sample_count = 10)]
fn reference_40_regions_two_input_plants(bencher: divan::Bencher) {
    bench_reference(bencher, &magnet_market(REGIONS, 11));
}

/// Fast path, cold, on the magnet market.
#[divan::bench(sample_count = 20)]
fn fast_cold_40_regions_two_input_plants(bencher: divan::Bencher) {
    bench_cold(bencher, &magnet_market(REGIONS, 11));
}

/// Fast path, warm, quarter after quarter on the magnet market: demand drifting by up to
/// ±2% and the dysprosium mines' costs by up to ±10%.
#[divan::bench(sample_count = 50)]
fn fast_warm_40_regions_two_input_plants(bencher: divan::Bencher) {
    let periods = quarters(&magnet_market(REGIONS, 11), |m, f| {
        for d in &mut m.demand {
            d.intercept *= 1.0 + 0.02 * f;
        }
        for s in m.supply.iter_mut().filter(|s| s.good == 1) {
            s.intercept *= 1.0 + 0.1 * f;
        }
    });
    bench_warm(bencher, &periods);
}
