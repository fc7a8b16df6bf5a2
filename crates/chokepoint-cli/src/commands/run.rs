//! `chokepoint check FILE` and `chokepoint run FILE`: scenarios.

use std::path::{Path, PathBuf};

use chokepoint_core::Dataset;
use chokepoint_core::scenario::summary::Summary;
use chokepoint_core::scenario::{Scenario, demand_path_of, run_scenario_with_progress};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;
use clap::Args as ClapArgs;
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, print_json, qty, table};

/// Arguments of `chokepoint run`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// The scenario file (TOML, see docs/scenarios.md).
    file: PathBuf,
    /// Write report.html, summary.json, results.csv, results.parquet, sectors.csv, flows.csv
    /// and periods.csv to DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run to this year instead of the scenario's `to`.
    #[arg(long)]
    to: Option<i32>,
    /// Stochastic price paths per model for the report's "what the policies cost" section
    /// (0: simulated paths only; `chokepoint finance FILE` gives the full valuation).
    #[arg(long, default_value_t = 1000)]
    finance_draws: usize,
}

/// Reads a scenario and checks it against the world model it runs on.
pub(crate) fn load(ds: &Dataset, file: &Path) -> Result<(Scenario, WorldModel), CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::User(format!("cannot read {}: {e}", file.display())))?;
    let name = file.display().to_string();
    let map =
        RegionMap::from_dataset(ds).map_err(|e| CliError::User(format!("model regions: {e:?}")))?;
    let mut prepared = WorldModel::prepare(ds, &map, &demand_path_of(&text))
        .map_err(|e| CliError::User(e.to_string()))?;
    let scenario = Scenario::load(&text, &name, &mut prepared.world).map_err(CliError::Scenario)?;
    Ok((scenario, prepared))
}

/// A scenario and its world model when a file is given, else the world model on the default
/// demand path; with the dataset's base year.
pub(crate) fn load_optional(
    ds: &Dataset,
    file: Option<&Path>,
) -> Result<(Option<Scenario>, WorldModel, i32), CliError> {
    let user = |e: String| CliError::User(e);
    let (scenario, prepared) = match file {
        Some(file) => {
            let (s, p) = load(ds, file)?;
            (Some(s), p)
        }
        None => {
            let map =
                RegionMap::from_dataset(ds).map_err(|e| user(format!("model regions: {e:?}")))?;
            let p = WorldModel::prepare(ds, &map, "steps").map_err(|e| user(e.to_string()))?;
            (None, p)
        }
    };
    let base_year = ds
        .assumption("default_year")
        .map_err(|e| user(e.to_string()))? as i32;
    Ok((scenario, prepared, base_year))
}

/// The year a command looks at: `--year`, else the scenario's last year, else the first year
/// after the base year; a year not after the base year is refused.
pub(crate) fn year_to_use(
    year: Option<i32>,
    scenario: Option<&Scenario>,
    base_year: i32,
) -> Result<i32, CliError> {
    let year = year
        .or(scenario.map(|s| s.header.to))
        .unwrap_or(base_year + 1);
    if year <= base_year {
        return Err(CliError::User(format!(
            "--year {year} is not after the base year {base_year} (the runs start in {})",
            base_year + 1
        )));
    }
    Ok(year)
}

#[derive(Serialize)]
struct CheckReport<'a> {
    ok: bool,
    file: String,
    name: &'a str,
    events: Vec<(&'a str, &'static str)>,
}

pub(crate) fn check(ds: &Dataset, file: &Path, json: bool) -> Result<(), CliError> {
    let (s, _) = load(ds, file)?;
    let report = CheckReport {
        ok: true,
        file: file.display().to_string(),
        name: &s.header.name,
        events: s
            .events
            .iter()
            .map(|e| (e.id.as_str(), e.kind.name()))
            .collect(),
    };
    if json {
        return print_json(&report);
    }
    outln!(
        "ok: {} — \"{}\", {} events",
        report.file,
        report.name,
        report.events.len()
    );
    Ok(())
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let (mut s, prepared) = load(ds, &args.file)?;
    if let Some(to) = args.to {
        s.header.to = to;
    }
    let run = with_progress(json, |progress| {
        run_scenario_with_progress(ds, &prepared, &s, progress)
    })
    .map_err(|e| CliError::User(e.to_string()))?;
    let summary = chokepoint_core::scenario::run::full_summary(ds, &prepared, &s, &run);
    if let Some(dir) = &args.out {
        write_outputs(dir, &run, &summary)?;
        let page = chokepoint_core::scenario::run::report_page(
            ds,
            &prepared,
            &s,
            &run,
            &summary,
            args.finance_draws,
        )
        .map_err(CliError::User)?;
        std::fs::write(dir.join("report.html"), page)?;
    }
    if json {
        return print_json(&summary);
    }
    print_summary(&summary);
    if let Some(dir) = &args.out {
        outln!("wrote {}", dir.display());
    }
    Ok(())
}

/// Writes the rows of several runs as one CSV with a leading `run` column.
fn write_csv<T: Serialize>(path: &Path, runs: &[(&str, &[T])]) -> Result<(), CliError> {
    let mut out = String::new();
    for (run, rows) in runs {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in *rows {
            w.serialize(row).map_err(|e| CliError::Other(e.into()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CliError::Other(anyhow::anyhow!("{e}")))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if out.is_empty() {
            out.push_str(&format!("run,{header}\n"));
        }
        for line in lines {
            out.push_str(&format!("{run},{line}\n"));
        }
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn write_outputs(
    dir: &Path,
    run: &chokepoint_core::scenario::ScenarioRun,
    summary: &Summary,
) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)?;
    let (b, s) = (&run.baseline, &run.scenario);
    write_csv(
        &dir.join("results.csv"),
        &[("baseline", &b.rows[..]), ("scenario", &s.rows[..])],
    )?;
    crate::parquet_out::write_runs(
        &dir.join("results.parquet"),
        &[("baseline", &b.rows[..]), ("scenario", &s.rows[..])],
    )
    .map_err(|e| CliError::Other(anyhow::Error::new(e)))?;
    write_csv(
        &dir.join("sectors.csv"),
        &[
            ("baseline", &b.sector_rows[..]),
            ("scenario", &s.sector_rows[..]),
        ],
    )?;
    write_csv(
        &dir.join("periods.csv"),
        &[("baseline", &b.periods[..]), ("scenario", &s.periods[..])],
    )?;
    let (bf, sf) = (b.flow_rows(), s.flow_rows());
    write_csv(
        &dir.join("flows.csv"),
        &[("baseline", &bf[..]), ("scenario", &sf[..])],
    )?;
    let text = serde_json::to_string_pretty(summary).map_err(|e| CliError::Other(e.into()))?;
    std::fs::write(dir.join("summary.json"), text)?;
    Ok(())
}

fn print_summary(s: &Summary) {
    outln!(
        "{} ({} quarters, demand path {}): baseline cleared {}/{}, scenario {}/{}",
        s.name,
        s.quarters,
        s.demand,
        s.cleared[0],
        s.quarters,
        s.cleared[1],
        s.quarters
    );
    outln!();
    outln!("The article's questions:");
    for a in &s.answers {
        outln!("- {}\n  {}", a.question, a.answer);
    }
    outln!();
    let mut t = table([
        "good",
        "region",
        "quarter",
        "baseline price",
        "scenario price",
        "change",
    ]);
    for m in &s.price_moves {
        t.add_row(vec![
            m.good.clone(),
            m.region.clone(),
            m.period.clone(),
            qty(m.baseline),
            qty(m.scenario),
            format!("{:+.1}%", m.change * 100.0),
        ]);
    }
    outln!("Largest price changes:\n{t}");
    let mut t = table([
        "good",
        "region",
        "extra shortfall",
        "share of demand",
        "quarters",
        "from",
        "to",
    ]);
    for l in &s.shortfalls {
        t.add_row(vec![
            l.good.clone(),
            l.region.clone(),
            qty(l.extra),
            format!("{:.1}%", l.share_of_demand * 100.0),
            l.quarters.to_string(),
            l.from.clone(),
            l.to.clone(),
        ]);
    }
    outln!("Who runs short (against the baseline):\n{t}");
}

/// Runs `work` with a progress bar on a terminal (rate and time left); quiet with `--json` or
/// when stderr is not a terminal.
fn with_progress<T>(json: bool, work: impl FnOnce(&mut dyn FnMut(&str, usize, usize)) -> T) -> T {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return work(&mut |_, _, _| {});
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>9} [{bar:30}] {pos}/{len} quarters  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut current = String::new();
    let out = work(&mut |run, done, total| {
        if run != current {
            current = run.to_string();
            bar.reset();
            bar.set_length(total as u64);
            bar.set_message(current.clone());
        }
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    out
}
