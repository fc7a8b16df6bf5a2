//! `chokepoint finance FILE`: the price floors, collars, offtakes and reserves of a scenario,
//! valued on the simulated paths and over stochastic price paths; and `chokepoint finance
//! floor`: one price floor on one unit, by Monte Carlo against a price model, with its closed
//! form.

use std::path::{Path, PathBuf};

use chokepoint_core::Dataset;
use chokepoint_core::finance::instruments::{
    FinanceInputs, FinanceOptions, FinanceReport, instruments, value, without_event,
};
use chokepoint_core::finance::{OptionSpec, PriceModel, closed_form, floor_value};
use chokepoint_core::risk::draw_events;
use chokepoint_core::scenario::Event;
use chokepoint_core::world::Baseline;
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json, table};

/// Arguments of `chokepoint finance`.
#[derive(Debug, ClapArgs)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<FinanceCommand>,
    /// The scenario file whose price floors, collars, offtakes and stockpiles are valued.
    file: Option<PathBuf>,
    /// Stochastic price paths per model (GBM and mean-reverting).
    #[arg(long, default_value_t = 2000)]
    draws: usize,
    /// Risk draws of the market simulation to value the instruments on as well (each a full
    /// run of the scenario with its uncertain events drawn; slow).
    #[arg(long, default_value_t = 0)]
    market_draws: u64,
    /// Seed of the paths (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Value this pipeline project (repeatable; default: every project an instrument covers).
    #[arg(long = "project", value_name = "ID")]
    projects: Vec<String>,
    /// Skip the runs without each instrument (no market effect, no shortfall removed).
    #[arg(long)]
    no_counterfactual: bool,
    /// Threads for the runs (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Run to this year instead of the scenario's `to`.
    #[arg(long)]
    to: Option<i32>,
    /// Write finance.json, finance.html, finance_instruments.csv, finance_years.csv,
    /// finance_quarters.csv and finance_projects.csv to DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `chokepoint finance floor`.
#[derive(Debug, Subcommand)]
pub(crate) enum FinanceCommand {
    /// Value a price floor (a put) on one unit: Monte Carlo and the closed form (Black-76 for
    /// the lognormal model, Bachelier for the normal one).
    Floor(FloorArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Model {
    Lognormal,
    Normal,
}

/// Arguments of `chokepoint finance floor`.
#[derive(Debug, ClapArgs)]
pub(crate) struct FloorArgs {
    /// Forward price of the unit at delivery.
    #[arg(long)]
    forward: f64,
    /// The floor (strike).
    #[arg(long)]
    strike: f64,
    /// Volatility: a fraction a year (lognormal) or currency a year (normal).
    #[arg(long)]
    vol: f64,
    /// Years to delivery.
    #[arg(long)]
    years: f64,
    /// Continuous discount rate a year.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Monte Carlo draws.
    #[arg(long, default_value_t = 100_000)]
    draws: u64,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Price model.
    #[arg(long, value_enum, default_value = "lognormal")]
    model: Model,
}

#[derive(Serialize)]
struct FloorReport {
    value: f64,
    std_error: f64,
    closed_form: f64,
    model: PriceModel,
    draws: u64,
}

/// The one-floor calculator, when that is what was asked (it needs no dataset).
pub(crate) fn calculator(args: &Args) -> Option<&FinanceCommand> {
    args.command.as_ref()
}

pub(crate) fn floor(cmd: &FinanceCommand, json: bool) -> Result<(), CliError> {
    let FinanceCommand::Floor(a) = cmd;
    let spec = OptionSpec {
        forward: a.forward,
        strike: a.strike,
        vol: a.vol,
        years: a.years,
        rate: a.rate,
        model: match a.model {
            Model::Lognormal => PriceModel::Lognormal,
            Model::Normal => PriceModel::Normal,
        },
    };
    spec.validate().map_err(CliError::User)?;
    if a.draws < 2 {
        return Err(CliError::User("--draws must be at least 2".into()));
    }
    let mc = floor_value(&spec, a.draws, a.seed);
    let report = FloorReport {
        value: mc.value,
        std_error: mc.std_error,
        closed_form: closed_form(&spec, true),
        model: spec.model,
        draws: a.draws,
    };
    if json {
        return print_json(&report);
    }
    let name = match spec.model {
        PriceModel::Lognormal => "Black-76",
        PriceModel::Normal => "Bachelier",
    };
    outln!(
        "Floor at {} on one unit (forward {}, {} years): Monte Carlo {:.6} ± {:.6} ({} draws); {name} {:.6}",
        a.strike,
        a.forward,
        a.years,
        report.value,
        report.std_error,
        a.draws,
        report.closed_form
    );
    Ok(())
}

/// Runs `jobs` on up to `threads` threads, in order of the jobs, calling `tick` after each.
fn parallel<T: Send>(
    jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> Vec<T> {
    let n = jobs.len();
    let queue = std::sync::Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let out = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    let job = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some((i, f)) = job else { break };
                    let r = f();
                    if let Ok(mut o) = out.lock() {
                        o[i] = Some(r);
                    }
                    tick();
                }
            });
        }
    });
    out.into_inner()
        .map(|v| v.into_iter().flatten().collect())
        .unwrap_or_default()
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    if let Some(cmd) = &args.command {
        return floor(cmd, json);
    }
    let file = args.file.as_deref().ok_or_else(|| {
        CliError::User(
            "finance needs a scenario file or `floor` (hint: chokepoint finance FILE, or chokepoint finance floor --help)"
                .into(),
        )
    })?;
    let (mut s, prepared) = super::run::load(ds, file)?;
    if let Some(to) = args.to {
        s.header.to = to;
    }
    let list = instruments(&s, &prepared.world);
    let seed = args.seed.unwrap_or(s.header.seed);
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let counterfactuals: Vec<usize> = if args.no_counterfactual {
        Vec::new()
    } else {
        list.iter().map(|i| i.index).collect()
    };
    let total = 2 + counterfactuals.len() as u64 + args.market_draws;
    let bar = progress_bar(json, total);
    let tick = || bar.as_ref().map_or((), |b| b.inc(1));
    let to = s.header.to;
    let baseline = prepared
        .run(ds, to, &[], None)
        .map_err(|e| CliError::User(e.to_string()))?;
    tick();
    type Job<'a> =
        Box<dyn FnOnce() -> Result<(Option<usize>, Baseline, Vec<Event>), String> + Send + 'a>;
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let (p, b, sc) = (&prepared, &baseline, &s);
    jobs.push(Box::new(move || {
        p.run(ds, to, &sc.events, Some(b))
            .map(|r| (None, r, Vec::new()))
            .map_err(|e| e.to_string())
    }));
    for &i in &counterfactuals {
        jobs.push(Box::new(move || {
            let events = without_event(sc, i);
            p.run(ds, to, &events, Some(b))
                .map(|r| (Some(i), r, Vec::new()))
                .map_err(|e| e.to_string())
        }));
    }
    for d in 0..args.market_draws {
        jobs.push(Box::new(move || {
            let (events, _) = draw_events(sc, seed, d);
            p.run(ds, to, &events, Some(b))
                .map(|r| (None, r, events))
                .map_err(|e| format!("risk draw {d}: {e}"))
        }));
    }
    let mut results = parallel(jobs, threads, &tick).into_iter();
    let (_, run, _) = results
        .next()
        .ok_or_else(|| CliError::User("the scenario run did not finish".into()))?
        .map_err(CliError::User)?;
    let mut without = Vec::new();
    let mut market = Vec::new();
    for r in results {
        match r.map_err(CliError::User)? {
            (Some(i), b, _) => without.push((i, b)),
            (None, b, events) => market.push((b, events)),
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = value(
        ds,
        &prepared.world,
        &FinanceInputs {
            scenario: &s,
            baseline: &baseline,
            run: &run,
            without: &without,
            market_draws: &market,
        },
        &FinanceOptions {
            draws: args.draws,
            seed,
            projects: args.projects.clone(),
        },
    )
    .map_err(CliError::User)?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &report)?;
    }
    if json {
        return print_json(&report);
    }
    print_report(&report);
    if let Some(dir) = &args.out {
        outln!("wrote {}", dir.display());
    }
    Ok(())
}

fn progress_bar(json: bool, total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("     runs [{bar:30}] {pos}/{len}  ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    Some(bar)
}

fn m(v: f64) -> String {
    crate::output::qty(v / 1e6)
}

fn print_report(r: &FinanceReport) {
    outln!(
        "{}: {} to {}, money in USD m, present values at {:.1}% a year",
        r.scenario,
        r.from,
        r.to,
        r.public_rate * 100.0
    );
    if r.instruments.is_empty() {
        outln!("The scenario has no price floor, collar, offtake or stockpile.");
        return;
    }
    let mut t = table([
        "event",
        "kind",
        "good",
        "scenario path",
        "baseline path",
        "GBM mean",
        "GBM P95",
        "GBM worst",
        "mean-rev. P95",
        "risk draws mean",
    ]);
    for v in &r.instruments {
        let d = |model: &str, f: fn(&chokepoint_core::finance::instruments::DrawValue) -> f64| {
            v.draws
                .iter()
                .find(|d| d.model == model)
                .map_or_else(|| "–".into(), |d| m(f(d)))
        };
        t.add_row(vec![
            v.instrument.event.clone(),
            v.instrument.kind.clone(),
            v.instrument.good.clone(),
            m(v.scenario.net_cost),
            m(v.baseline.net_cost),
            d("gbm", |d| d.net_cost.mean),
            d("gbm", |d| d.net_cost.p95),
            d("gbm", |d| d.net_cost.max),
            d("mean_reverting", |d| d.net_cost.p95),
            d("market", |d| d.net_cost.mean),
        ]);
    }
    outln!("Net fiscal cost (what the state pays less what it receives):\n{t}");
    for v in &r.instruments {
        if let Some(res) = &v.reserve {
            outln!(
                "Reserve {}: bought {}, released {} ({} in shortfall quarters), holds {} at the end.",
                v.instrument.event,
                crate::output::qty(res.bought),
                crate::output::qty(res.released),
                crate::output::qty(res.released_in_shortfall),
                crate::output::qty(res.closing_stock)
            );
            for c in res.shortfall_removed.iter().take(5) {
                outln!(
                    "  shortfall removed: {} {} {}: {}",
                    c.region,
                    c.sector,
                    c.good,
                    crate::output::qty(c.removed)
                );
            }
        }
        if let Some(e) = &v.market_effect
            && v.reserve.is_none()
        {
            outln!(
                "{}: covered output {:+} units, price {:+.1}%, producers' revenue {:+} USD m against the run without it.",
                v.instrument.event,
                crate::output::qty(e.covered_output_change),
                e.price_change * 100.0,
                m(e.producer_market_change)
            );
        }
    }
    if !r.projects.is_empty() {
        let mut t = table([
            "project",
            "capex",
            "NPV without",
            "NPV with",
            "IRR without",
            "IRR with",
        ]);
        let pct = |v: Option<f64>| v.map_or_else(|| "–".into(), |x| format!("{:.1}%", x * 100.0));
        for p in &r.projects {
            t.add_row(vec![
                p.project.clone(),
                m(p.capex),
                m(p.npv_without),
                m(p.npv_with),
                pct(p.irr_without),
                pct(p.irr_with),
            ]);
        }
        outln!("Projects (NPV at {:.0}%):\n{t}", r.project_rate * 100.0);
    }
    for n in &r.notes {
        outln!("note: {n}");
    }
}

fn write_outputs(dir: &Path, r: &FinanceReport) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(r).map_err(|e| CliError::Other(e.into()))?;
    std::fs::write(dir.join("finance.json"), text)?;
    std::fs::write(
        dir.join("finance.html"),
        chokepoint_core::scenario::report::finance_page(r),
    )?;
    let mut w = csv::Writer::from_path(dir.join("finance_instruments.csv"))?;
    w.write_record([
        "event",
        "kind",
        "good",
        "path",
        "draws",
        "net_cost_mean",
        "net_cost_p5",
        "net_cost_p50",
        "net_cost_p95",
        "net_cost_max",
        "std_error",
    ])?;
    for v in &r.instruments {
        let i = &v.instrument;
        for (path, p) in [("scenario", &v.scenario), ("baseline", &v.baseline)] {
            let c = p.net_cost.to_string();
            w.write_record([
                &i.event, &i.kind, &i.good, path, "1", &c, &c, &c, &c, &c, "0",
            ])?;
        }
        for d in &v.draws {
            let n = &d.net_cost;
            w.write_record([
                i.event.clone(),
                i.kind.clone(),
                i.good.clone(),
                d.model.clone(),
                d.draws.to_string(),
                n.mean.to_string(),
                n.p5.to_string(),
                n.p50.to_string(),
                n.p95.to_string(),
                n.max.to_string(),
                d.std_error.to_string(),
            ])?;
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("finance_years.csv"))?;
    w.write_record([
        "event", "path", "year", "paid", "received", "volume", "bought", "released",
    ])?;
    for v in &r.instruments {
        let paths = [
            ("scenario", &v.scenario.years),
            ("baseline", &v.baseline.years),
        ]
        .into_iter()
        .chain(v.draws.iter().map(|d| (d.model.as_str(), &d.years)));
        for (path, years) in paths {
            for y in years {
                w.write_record([
                    v.instrument.event.clone(),
                    path.to_string(),
                    y.year.to_string(),
                    y.paid.to_string(),
                    y.received.to_string(),
                    y.volume.to_string(),
                    y.bought.to_string(),
                    y.released.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("finance_quarters.csv"))?;
    w.write_record([
        "event",
        "path",
        "period",
        "volume",
        "price",
        "paid",
        "received",
        "producer_market",
        "bought",
        "released",
    ])?;
    for v in &r.instruments {
        for (path, p) in [("scenario", &v.scenario), ("baseline", &v.baseline)] {
            for q in &p.quarters {
                w.write_record([
                    v.instrument.event.clone(),
                    path.to_string(),
                    q.period.clone(),
                    q.volume.to_string(),
                    q.price.to_string(),
                    q.paid.to_string(),
                    q.received.to_string(),
                    q.producer_market.to_string(),
                    q.bought.to_string(),
                    q.released.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("finance_projects.csv"))?;
    w.write_record(["project", "year", "cash_without", "cash_with"])?;
    for p in &r.projects {
        for (y, a, b) in &p.years {
            w.write_record([
                p.project.clone(),
                y.to_string(),
                a.to_string(),
                b.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}
