//! `chokepoint risk FILE`: Monte Carlo over a scenario's uncertain events, and
//! `chokepoint risk merge DIR…`: shards' partial results into the whole run's.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_core::Dataset;
use chokepoint_core::risk::{
    DrawResult, DrawnEvent, RiskKeys, RiskRun, RiskSummary, Stats, aggregate, background_events,
    background_risk, base_prices, shard_draws, unscaled_magnitudes,
};
use chokepoint_core::world::RegionMap;
use chokepoint_core::world::baseline::WorldModel;
use clap::{Args as ClapArgs, Subcommand};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;
use serde::{Deserialize, Serialize};

use crate::CliError;
use crate::output::{outln, print_json, qty, table};

/// Arguments of `chokepoint risk`.
#[derive(Debug, ClapArgs)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    merge: Option<RiskCommand>,
    /// The scenario file (TOML, see docs/scenarios.md): its events' `probability` and
    /// `uncertainty` say what is drawn.
    file: Option<PathBuf>,
    /// Draws to run (all shards together).
    #[arg(long, default_value_t = 1000)]
    draws: u64,
    /// Seed of the draws (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Run only shard I of N (0-based, `--shard 0/4`): every N-th draw from I. Merge the
    /// shards' folders with `chokepoint risk merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Shortfall (units per year) whose exceedance probability is reported.
    #[arg(long, default_value_t = 0.0)]
    threshold: f64,
    /// Run only this draw and show what it drew (to replay a failed draw).
    #[arg(long, value_name = "DRAW")]
    replay: Option<u64>,
    /// Run to this year instead of the scenario's `to`.
    #[arg(long)]
    to: Option<i32>,
    /// Add background disruption risk: every producing region × mined good may be disrupted
    /// in any year, more likely where WGI political stability is low (`risk_background_*`
    /// assumptions; see docs/risk.md).
    #[arg(long)]
    background: bool,
    /// Write risk_shortfall.csv/.parquet, risk_prices.csv/.parquet, risk_drivers.csv,
    /// risk.json, risk.html and the mergeable partial results (partial/) to DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum RiskCommand {
    /// Combine shards' folders (written by `risk --shard I/N --out DIR`) into the result of
    /// the whole run.
    Merge {
        /// The shards' output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged result.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// What a shard's partial results were run with: shards merge only when these agree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Meta {
    scenario: String,
    seed: u64,
    to: i32,
    draws: u64,
    shard: Option<(u64, u64)>,
    threshold: f64,
    keys: RiskKeys,
    /// Baseline mean prices per price key (null where none).
    base_prices: Vec<Option<f64>>,
}

fn parse_shard(text: &str) -> Result<(u64, u64), CliError> {
    let bad = || {
        CliError::User(format!(
            "--shard {text}: expected I/N with 0 ≤ I < N (hint: --shard 0/4 … --shard 3/4)"
        ))
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    if let Some(RiskCommand::Merge { dirs, out }) = &args.merge {
        return merge(dirs, out.as_deref(), json);
    }
    let file = args.file.as_ref().ok_or_else(|| {
        CliError::User("risk needs a scenario file (hint: chokepoint risk FILE --draws N)".into())
    })?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if args.draws == 0 {
        return Err(CliError::User("--draws must be at least 1".into()));
    }
    let (mut scenario, prepared) = if args.background {
        load_with_background(ds, file, args.to)?
    } else {
        super::run::load(ds, file)?
    };
    if let Some(to) = args.to {
        scenario.header.to = to;
    }
    let seed = args.seed.unwrap_or(scenario.header.seed);
    for id in unscaled_magnitudes(&scenario) {
        eprintln!("note: event {id}: its kind has no single figure to scale; magnitude not drawn");
    }
    let risk =
        RiskRun::new(ds, &prepared, &scenario, seed).map_err(|e| CliError::User(e.to_string()))?;
    if let Some(k) = args.replay {
        let d = risk.run_draw(k);
        return show_draw(&risk.keys, &d, json);
    }
    let draws = shard_draws(args.draws, shard);
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let results = with_progress(json, draws.len() as u64, |tick| {
        risk.run_draws(&draws, threads, tick)
    });
    let prices = base_prices(&risk.baseline, &risk.keys);
    let summary = aggregate(&risk.keys, &prices, &results, args.threshold);
    if let Some(dir) = &args.out {
        let meta = Meta {
            scenario: scenario.header.name.clone(),
            seed,
            to: scenario.header.to,
            draws: args.draws,
            shard,
            threshold: args.threshold,
            keys: risk.keys.clone(),
            base_prices: prices.iter().map(|p| p.is_finite().then_some(*p)).collect(),
        };
        write_all(dir, &meta, &results, &summary)?;
    }
    report(&summary, &scenario.header.name, args.out.as_deref(), json)?;
    if !json {
        // How much the draws shared: each chain ran once per distinct set of its events.
        let runs: Vec<String> = risk
            .chain_runs()
            .iter()
            .map(|(goods, n)| match goods.as_slice() {
                [first, .., last] => format!("{first}…{last} ({} goods) {n}", goods.len()),
                _ => format!("{} {n}", goods.join(", ")),
            })
            .collect();
        outln!(
            "Chain runs (each chain of goods runs once per distinct set of drawn events that touch it; the baseline's included): {}",
            runs.join("; ")
        );
    }
    Ok(())
}

/// Reads a scenario and appends the background disruption risk of every year it runs.
fn load_with_background(
    ds: &Dataset,
    file: &Path,
    to: Option<i32>,
) -> Result<(chokepoint_core::scenario::Scenario, WorldModel), CliError> {
    use chokepoint_core::scenario::{Scenario, demand_path_of, parse_scenario};
    let mut text = std::fs::read_to_string(file)
        .map_err(|e| CliError::User(format!("cannot read {}: {e}", file.display())))?;
    let name = file.display().to_string();
    let header = parse_scenario(&text, &name)
        .map_err(CliError::Scenario)?
        .header;
    let map =
        RegionMap::from_dataset(ds).map_err(|e| CliError::User(format!("model regions: {e:?}")))?;
    let mut prepared = WorldModel::prepare(ds, &map, &demand_path_of(&text))
        .map_err(|e| CliError::User(e.to_string()))?;
    let base_year = ds
        .assumption("default_year")
        .map_err(|e| CliError::User(e.to_string()))? as i32;
    let rows =
        background_risk(ds, &map, &prepared.world).map_err(|e| CliError::User(e.to_string()))?;
    let events = background_events(ds, &rows, base_year + 1, to.unwrap_or(header.to))
        .map_err(|e| CliError::User(e.to_string()))?;
    text.push_str("\n# Background disruption risk (chokepoint risk --background)\n");
    text.push_str(&events);
    let scenario = Scenario::load(&text, &name, &mut prepared.world).map_err(CliError::Scenario)?;
    Ok((scenario, prepared))
}

/// Runs `work` with a progress bar over draws on a terminal (rate and time left); quiet with
/// `--json` or when stderr is not a terminal.
fn with_progress<T>(json: bool, total: u64, work: impl FnOnce(&(dyn Fn(usize) + Sync)) -> T) -> T {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return work(&|_| {});
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "    draws [{bar:30}] {pos}/{len}  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let out = work(&|done| bar.set_position(done as u64));
    bar.finish_and_clear();
    out
}

fn show_draw(keys: &RiskKeys, d: &DrawResult, json: bool) -> Result<(), CliError> {
    #[derive(Serialize)]
    struct Replay<'a> {
        draw: u64,
        status: &'a str,
        events: &'a [DrawnEvent],
        shortfall: Vec<(&'a str, &'a str, &'a str, i32, f64)>,
    }
    let mut shortfall: Vec<_> = keys
        .shortfall
        .iter()
        .zip(d.shortfall.iter())
        .filter(|(_, v)| **v > 0.0)
        .map(|((r, s, g, y), v)| (r.as_str(), s.as_str(), g.as_str(), *y, *v))
        .collect();
    shortfall.sort_by(|a, b| b.4.total_cmp(&a.4));
    let replay = Replay {
        draw: d.draw,
        status: &d.status,
        events: &d.events,
        shortfall,
    };
    if json {
        return print_json(&replay);
    }
    outln!("Draw {}: {}", d.draw, d.status);
    let mut t = table(["event", "happened", "start", "end", "magnitude"]);
    for e in &d.events {
        t.add_row(vec![
            e.event.clone(),
            e.happened.to_string(),
            format!("{:.2}", e.start),
            e.end.map_or("-".into(), |v| format!("{v:.2}")),
            format!("{:.3}", e.magnitude),
        ]);
    }
    outln!("{t}");
    let mut t = table(["region", "sector", "good", "year", "added shortfall"]);
    for (r, s, g, y, v) in replay.shortfall.iter().take(20) {
        t.add_row(vec![
            r.to_string(),
            s.to_string(),
            g.to_string(),
            y.to_string(),
            qty(*v),
        ]);
    }
    outln!("{t}");
    Ok(())
}

fn report(s: &RiskSummary, name: &str, out: Option<&Path>, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(s);
    }
    outln!(
        "{name}: {} draws, {} failed (replay one with --replay DRAW)",
        s.draws,
        s.failed.len()
    );
    let mut rows: Vec<_> = s.shortfall.iter().collect();
    rows.sort_by(|a, b| b.stats.p95.total_cmp(&a.stats.p95));
    let mut t = table([
        "region", "sector", "good", "year", "P5", "P50", "P95", "expected", "P(>thr)",
    ]);
    for r in rows.iter().take(20) {
        t.add_row(vec![
            r.region.clone(),
            r.sector.clone(),
            r.good.clone(),
            r.year.to_string(),
            qty(r.stats.p5),
            qty(r.stats.p50),
            qty(r.stats.p95),
            qty(r.stats.mean),
            format!("{:.1}%", 100.0 * r.stats.p_exceed),
        ]);
    }
    outln!("Added shortfall (units per year, against the baseline):\n{t}");
    let mut t = table(["event", "happens (all draws)", "happens (tail draws)"]);
    for d in s.drivers.iter().take(10) {
        t.add_row(vec![
            d.event.clone(),
            format!("{:.0}%", 100.0 * d.share_all),
            format!("{:.0}%", 100.0 * d.share_tail),
        ]);
    }
    outln!("What drives the tail (the worst 5% of draws by shortfall value):\n{t}");
    if let Some(dir) = out {
        outln!("wrote {}", dir.display());
    }
    Ok(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::User(format!("cannot write {}: {e}", path.display()))
}

/// Writes the tables, the report and the mergeable partial results.
fn write_all(
    dir: &Path,
    meta: &Meta,
    draws: &[DrawResult],
    s: &RiskSummary,
) -> Result<(), CliError> {
    let partial = dir.join("partial");
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let path = partial.join("meta.json");
    std::fs::write(&path, serde_json::to_string(meta)?).map_err(io(&path))?;
    write_draws(&partial, draws)?;
    write_tables(dir, s)?;
    let path = dir.join("risk.html");
    std::fs::write(&path, html(&meta.scenario, s, &exceedance(meta, draws, s)))
        .map_err(io(&path))?;
    Ok(())
}

fn write_tables(dir: &Path, s: &RiskSummary) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join("risk.json");
    std::fs::write(&path, serde_json::to_string_pretty(s)?).map_err(io(&path))?;
    let shortfall: Vec<(Vec<String>, &Stats)> = s
        .shortfall
        .iter()
        .map(|r| {
            let key = vec![
                r.region.clone(),
                r.sector.clone(),
                r.good.clone(),
                r.year.to_string(),
            ];
            (key, &r.stats)
        })
        .collect();
    write_stats(
        dir,
        "risk_shortfall",
        &["region", "sector", "good", "year"],
        &shortfall,
        true,
    )?;
    let price: Vec<(Vec<String>, &Stats)> = s
        .price
        .iter()
        .map(|r| {
            let key = vec![r.region.clone(), r.good.clone(), r.year.to_string()];
            (key, &r.stats)
        })
        .collect();
    write_stats(
        dir,
        "risk_prices",
        &["region", "good", "year"],
        &price,
        false,
    )?;
    let mut w = csv::Writer::from_path(dir.join("risk_drivers.csv"))?;
    for r in &s.drivers {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}

fn writer(path: &Path, message: &str) -> Result<SerializedFileWriter<File>, CliError> {
    let schema = Arc::new(parse_message_type(message)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = File::create(path).map_err(io(path))?;
    Ok(SerializedFileWriter::new(file, schema, props)?)
}

/// Quantile rows as `STEM.csv` and `STEM.parquet`: the text key columns `names`, then p5,
/// p50, p95, mean and, with `exceed`, p_exceed.
fn write_stats(
    dir: &Path,
    stem: &str,
    names: &[&str],
    rows: &[(Vec<String>, &Stats)],
    exceed: bool,
) -> Result<(), CliError> {
    let mut stat_names = vec!["p5", "p50", "p95", "mean"];
    let mut numbers: Vec<fn(&Stats) -> f64> = vec![|s| s.p5, |s| s.p50, |s| s.p95, |s| s.mean];
    if exceed {
        stat_names.push("p_exceed");
        numbers.push(|s| s.p_exceed);
    }
    let mut w = csv::Writer::from_path(dir.join(format!("{stem}.csv")))?;
    w.write_record(names.iter().chain(&stat_names))?;
    for (key, st) in rows {
        w.write_record(
            key.iter()
                .cloned()
                .chain(numbers.iter().map(|f| f(st).to_string())),
        )?;
    }
    w.flush()?;
    let message = format!(
        "message risk {{ {}{} }}",
        names
            .iter()
            .map(|n| format!("REQUIRED BYTE_ARRAY {n} (UTF8); "))
            .collect::<String>(),
        stat_names
            .iter()
            .map(|n| format!("REQUIRED DOUBLE {n}; "))
            .collect::<String>()
    );
    let mut w = writer(&dir.join(format!("{stem}.parquet")), &message)?;
    let mut group = w.next_row_group()?;
    let mut column = 0;
    while let Some(mut col) = group.next_column()? {
        if column < names.len() {
            let v: Vec<ByteArray> = rows
                .iter()
                .map(|(k, _)| ByteArray::from(k[column].as_str()))
                .collect();
            col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
        } else {
            let f = numbers[column - names.len()];
            let v: Vec<f64> = rows.iter().map(|(_, s)| f(s)).collect();
            col.typed::<DoubleType>().write_batch(&v, None, None)?;
        }
        col.close()?;
        column += 1;
    }
    group.close()?;
    w.close()?;
    Ok(())
}

/// The draws as partial results: `draws.csv` (draw, status), `draw_events.csv` (what each
/// event did) and `draw_values.parquet` (draw, kind, key, value: every shortfall and price
/// value, exact doubles).
fn write_draws(dir: &Path, draws: &[DrawResult]) -> Result<(), CliError> {
    // Draws with the same outcome share their values (a risk run shares them): each set of
    // values is written once, and each draw names its set.
    let mut sets: std::collections::HashMap<(*const f64, *const f64), usize> = Default::default();
    let mut unique: Vec<&DrawResult> = Vec::new();
    let mut set_of = Vec::with_capacity(draws.len());
    for d in draws {
        let key = (d.shortfall.as_ptr(), d.price.as_ptr());
        let set = *sets.entry(key).or_insert_with(|| {
            unique.push(d);
            unique.len() - 1
        });
        set_of.push(set);
    }
    let mut w = csv::Writer::from_path(dir.join("draws.csv"))?;
    w.write_record(["draw", "status", "values"])?;
    for (d, set) in draws.iter().zip(&set_of) {
        w.write_record([d.draw.to_string(), d.status.clone(), set.to_string()])?;
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("draw_events.csv"))?;
    w.write_record(["draw", "event", "happened", "start", "end", "magnitude"])?;
    for d in draws {
        for e in &d.events {
            w.write_record([
                d.draw.to_string(),
                e.event.clone(),
                e.happened.to_string(),
                e.start.to_string(),
                e.end.map_or(String::new(), |v| v.to_string()),
                e.magnitude.to_string(),
            ])?;
        }
    }
    w.flush()?;
    let mut draw = Vec::new();
    let mut kind = Vec::new();
    let mut key = Vec::new();
    let mut value = Vec::new();
    let mut defined = Vec::new();
    for (set, d) in unique.iter().enumerate() {
        for (name, values) in [("shortfall", &d.shortfall), ("price", &d.price)] {
            for (k, v) in values.iter().enumerate() {
                draw.push(i64::try_from(set).unwrap_or(i64::MAX));
                kind.push(ByteArray::from(name));
                key.push(i64::try_from(k).unwrap_or(i64::MAX));
                if v.is_finite() {
                    value.push(*v);
                    defined.push(1);
                } else {
                    defined.push(0);
                }
            }
        }
    }
    let mut w = writer(
        &dir.join("draw_values.parquet"),
        "message draws { REQUIRED INT64 values; REQUIRED BYTE_ARRAY kind (UTF8); \
         REQUIRED INT64 key; OPTIONAL DOUBLE value; }",
    )?;
    let mut group = w.next_row_group()?;
    let mut column = 0;
    while let Some(mut col) = group.next_column()? {
        match column {
            0 => col.typed::<Int64Type>().write_batch(&draw, None, None)?,
            1 => col
                .typed::<ByteArrayType>()
                .write_batch(&kind, None, None)?,
            2 => col.typed::<Int64Type>().write_batch(&key, None, None)?,
            _ => col
                .typed::<DoubleType>()
                .write_batch(&value, Some(&defined), None)?,
        };
        col.close()?;
        column += 1;
    }
    group.close()?;
    w.close()?;
    Ok(())
}

/// Reads a shard's partial results back.
fn read_partial(dir: &Path) -> Result<(Meta, Vec<DrawResult>), CliError> {
    let partial = dir.join("partial");
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        CliError::User(format!(
            "{}: {what}: {e} (hint: merge folders written by `chokepoint risk --shard I/N --out DIR`)",
            partial.display()
        ))
    };
    let text =
        std::fs::read_to_string(partial.join("meta.json")).map_err(|e| bad("meta.json", &e))?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| bad("meta.json", &e))?;
    let mut by_draw: std::collections::BTreeMap<u64, DrawResult> = Default::default();
    // The set of values each draw reads.
    let mut set_of: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut r =
        csv::Reader::from_path(partial.join("draws.csv")).map_err(|e| bad("draws.csv", &e))?;
    for row in r.records() {
        let row = row.map_err(|e| bad("draws.csv", &e))?;
        let draw: u64 = row[0].parse().map_err(|e| bad("draws.csv", &e))?;
        let set: u64 = row
            .get(2)
            .ok_or_else(|| bad("draws.csv", &"no `values` column"))?
            .parse()
            .map_err(|e| bad("draws.csv", &e))?;
        set_of.insert(draw, set);
        by_draw.insert(
            draw,
            DrawResult {
                draw,
                events: Vec::new(),
                status: row[1].to_string(),
                shortfall: Arc::from([]),
                price: Arc::from([]),
            },
        );
    }
    let mut r = csv::Reader::from_path(partial.join("draw_events.csv"))
        .map_err(|e| bad("draw_events.csv", &e))?;
    for row in r.records() {
        let row = row.map_err(|e| bad("draw_events.csv", &e))?;
        let num = |s: &str| s.parse::<f64>().map_err(|e| bad("draw_events.csv", &e));
        let draw: u64 = row[0].parse().map_err(|e| bad("draw_events.csv", &e))?;
        let d = by_draw
            .get_mut(&draw)
            .ok_or_else(|| bad("draw_events.csv", &format!("draw {draw} not in draws.csv")))?;
        d.events.push(DrawnEvent {
            event: row[1].to_string(),
            happened: &row[2] == "true",
            start: num(&row[3])?,
            end: if row[4].is_empty() {
                None
            } else {
                Some(num(&row[4])?)
            },
            magnitude: num(&row[5])?,
        });
    }
    type Values = (Vec<f64>, Vec<f64>);
    let mut sets: std::collections::BTreeMap<u64, Values> = Default::default();
    let path = partial.join("draw_values.parquet");
    let file = File::open(&path).map_err(|e| bad("draw_values.parquet", &e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| bad("draw_values.parquet", &e))?;
    for row in reader
        .get_row_iter(None)
        .map_err(|e| bad("draw_values.parquet", &e))?
    {
        let row = row.map_err(|e| bad("draw_values.parquet", &e))?;
        let fields: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
        let (Some(Field::Long(set)), Some(Field::Str(kind)), Some(Field::Long(key))) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            return Err(bad("draw_values.parquet", &"unexpected columns"));
        };
        let value = match fields.get(3) {
            Some(Field::Double(v)) => *v,
            _ => f64::NAN,
        };
        let set = u64::try_from(*set)
            .map_err(|_| bad("draw_values.parquet", &format!("set {set} is negative")))?;
        let d = sets.entry(set).or_default();
        let (values, len) = if kind == "shortfall" {
            (&mut d.0, meta.keys.shortfall.len())
        } else {
            (&mut d.1, meta.keys.price.len())
        };
        let key = usize::try_from(*key).unwrap_or(usize::MAX);
        if key >= len {
            return Err(bad(
                "draw_values.parquet",
                &format!("key {key} out of range"),
            ));
        }
        if values.is_empty() {
            values.resize(len, f64::NAN);
        }
        values[key] = value;
    }
    let sets: std::collections::BTreeMap<u64, (Arc<[f64]>, _)> = sets
        .into_iter()
        .map(|(k, (s, p))| (k, (s.into(), Arc::<[f64]>::from(p))))
        .collect();
    for (draw, d) in &mut by_draw {
        let set = set_of.get(draw).copied().unwrap_or(u64::MAX);
        match sets.get(&set) {
            Some((s, p)) => {
                d.shortfall = s.clone();
                d.price = p.clone();
            }
            // A failed draw carries no values.
            None if d.status != "ok" => {}
            None => {
                return Err(bad(
                    "draw_values.parquet",
                    &format!("values {set} of draw {draw} are missing"),
                ));
            }
        }
    }
    Ok((meta, by_draw.into_values().collect()))
}

fn merge(dirs: &[PathBuf], out: Option<&Path>, json: bool) -> Result<(), CliError> {
    let mut meta: Option<Meta> = None;
    let mut draws = Vec::new();
    for dir in dirs {
        let (m, d) = read_partial(dir)?;
        if let Some(first) = &meta {
            let same = first.scenario == m.scenario
                && first.seed == m.seed
                && first.to == m.to
                && first.draws == m.draws
                && first.threshold == m.threshold
                && first.keys == m.keys;
            if !same {
                return Err(CliError::User(format!(
                    "{}: another run (scenario, seed, years, draws, threshold or rows differ \
                     from {}): merge only shards of one run",
                    dir.display(),
                    dirs[0].display()
                )));
            }
        } else {
            meta = Some(m);
        }
        draws.extend(d);
    }
    let Some(mut meta) = meta else {
        return Err(CliError::User(
            "risk merge needs at least one folder".into(),
        ));
    };
    draws.sort_by_key(|d| d.draw);
    let seen: Vec<u64> = draws.iter().map(|d| d.draw).collect();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(CliError::User(format!(
            "draw {} is in two folders (hint: each shard once)",
            w[0]
        )));
    }
    let missing: Vec<u64> = (0..meta.draws)
        .filter(|d| seen.binary_search(d).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(CliError::User(format!(
            "{} of {} draws missing (first: {:?}; hint: merge every shard of --shard I/N)",
            missing.len(),
            meta.draws,
            &missing[..missing.len().min(5)]
        )));
    }
    let prices: Vec<f64> = meta
        .base_prices
        .iter()
        .map(|p| p.unwrap_or(f64::NAN))
        .collect();
    let summary = aggregate(&meta.keys, &prices, &draws, meta.threshold);
    if let Some(dir) = out {
        meta.shard = None;
        write_all(dir, &meta, &draws, &summary)?;
    }
    let name = meta.scenario.clone();
    report(&summary, &name, out, json)
}

/// The row with the largest P95 and its values over the draws that cleared, for the
/// exceedance curve.
fn exceedance(meta: &Meta, draws: &[DrawResult], s: &RiskSummary) -> Option<(String, Vec<f64>)> {
    let top = s
        .shortfall
        .iter()
        .max_by(|a, b| a.stats.p95.total_cmp(&b.stats.p95))?;
    let key = meta.keys.shortfall.iter().position(|(r, se, g, y)| {
        *r == top.region && *se == top.sector && *g == top.good && *y == top.year
    })?;
    let values: Vec<f64> = draws
        .iter()
        .filter(|d| d.status == "ok")
        .filter_map(|d| d.shortfall.get(key).copied())
        .collect();
    Some((
        format!(
            "{} — {}, {}, {}",
            top.good, top.region, top.sector, top.year
        ),
        values,
    ))
}

/// An exceedance curve (share of draws whose value exceeds x, against x), as inline SVG.
fn exceedance_chart(title: &str, values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len().max(1) as f64;
    let (w, h, left, top, bottom) = (560.0, 200.0, 70.0, 20.0, 24.0);
    let hi = v.last().copied().unwrap_or(0.0).max(1e-9);
    let x = |q: f64| left + (w - left - 10.0) * q / hi;
    let y = |p: f64| top + (h - top - bottom) * (1.0 - p);
    let points: Vec<String> = v
        .iter()
        .enumerate()
        .map(|(i, q)| format!("{:.1},{:.1}", x(*q), y(1.0 - (i + 1) as f64 / n)))
        .collect();
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\"><title>{title}</title>\
         <text x=\"{left}\" y=\"12\" class=\"ax\">{title}: P(added shortfall &gt; x), x up to {hi:.0}</text>\
         <text x=\"{}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">100%</text>\
         <text x=\"{}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">0%</text>\
         <polyline class=\"mid\" points=\"{}\"/></svg>",
        left - 4.0,
        y(1.0) + 3.0,
        left - 4.0,
        y(0.0) + 3.0,
        points.join(" ")
    )
}

/// The risk report: fan charts of the most uncertain shortfalls and prices, and the
/// exceedance of the largest shortfall, as a self-contained page.
fn html(name: &str, s: &RiskSummary, exceed: &Option<(String, Vec<f64>)>) -> String {
    use chokepoint_core::scenario::report::esc;
    use std::fmt::Write as _;
    let mut page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Risk: {0}</title>\
         <style>body{{font-family:sans-serif;max-width:980px;margin:2em auto}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}\
         .band{{fill:#9ecae1;opacity:.6}}.mid{{stroke:#08519c;stroke-width:2;fill:none}}\
         .ax{{font-size:10px}}</style></head><body><h1>Risk: {0}</h1>\
         <p>{1} draws, {2} failed. Shortfall is what a draw adds to the baseline's (units per \
         year); bands run from P5 to P95, the line is the median.</p>",
        esc(name),
        s.draws,
        s.failed.len()
    );
    // Fan charts over the years for the series with the widest P95 − P5.
    let mut series: std::collections::BTreeMap<(String, String, String), Vec<FanPoint>> =
        Default::default();
    for r in &s.shortfall {
        series
            .entry((r.region.clone(), r.sector.clone(), r.good.clone()))
            .or_default()
            .push((r.year, r.stats.p5, r.stats.p50, r.stats.p95));
    }
    let mut ranked: Vec<_> = series.into_iter().collect();
    ranked.sort_by(|a, b| {
        let w = |v: &Vec<FanPoint>| v.iter().map(|x| x.3 - x.1).fold(0.0, f64::max);
        w(&b.1).total_cmp(&w(&a.1))
    });
    page.push_str("<h2>Added shortfall: the widest fans</h2>");
    for ((region, sector, good), points) in ranked.iter().take(6) {
        page.push_str(&fan(&format!("{good} — {region}, {sector}"), points));
    }
    if let Some((title, values)) = exceed {
        page.push_str("<h2>Exceedance: the largest shortfall</h2>");
        page.push_str(&exceedance_chart(&esc(title), values));
    }
    page.push_str(
        "<h2>Probability that the added shortfall exceeds the threshold</h2>\
         <table><tr><th>region</th><th>sector</th><th>good</th><th>year</th><th>P5</th>\
         <th>P50</th><th>P95</th><th>expected</th><th>P(&gt; threshold)</th></tr>",
    );
    let mut rows: Vec<_> = s.shortfall.iter().collect();
    rows.sort_by(|a, b| b.stats.p95.total_cmp(&a.stats.p95));
    for r in rows.iter().take(30) {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.0}</td>\
             <td>{:.0}</td><td>{:.0}</td><td>{:.1}%</td></tr>",
            esc(&r.region),
            esc(&r.sector),
            esc(&r.good),
            r.year,
            r.stats.p5,
            r.stats.p50,
            r.stats.p95,
            r.stats.mean,
            100.0 * r.stats.p_exceed
        );
    }
    page.push_str("</table><h2>What drives the tail</h2><table><tr><th>event</th><th>all draws</th><th>tail draws</th></tr>");
    for d in &s.drivers {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{:.0}%</td><td>{:.0}%</td></tr>",
            esc(&d.event),
            100.0 * d.share_all,
            100.0 * d.share_tail
        );
    }
    page.push_str("</table></body></html>");
    page
}

/// (year, P5, P50, P95) of one fan chart.
type FanPoint = (i32, f64, f64, f64);

/// A fan chart (P5–P95 band, median line) over years, as inline SVG.
fn fan(title: &str, points: &[FanPoint]) -> String {
    let (w, h, left, top, bottom) = (560.0, 200.0, 70.0, 20.0, 24.0);
    let hi = points.iter().map(|p| p.3).fold(0.0_f64, f64::max).max(1e-9);
    let n = (points.len().max(2) - 1) as f64;
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / hi);
    let upper: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.3)))
        .collect();
    let lower: Vec<String> = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
        .collect();
    let mid: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.2)))
        .collect();
    let labels: String = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">{}</text>",
                x(i),
                h - 6.0,
                p.0
            )
        })
        .collect();
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\"><title>{title}</title>\
         <text x=\"{left}\" y=\"12\" class=\"ax\">{title} (max P95 {hi:.0})</text>\
         <polygon class=\"band\" points=\"{} {}\"/><polyline class=\"mid\" points=\"{}\"/>{labels}</svg>",
        upper.join(" "),
        lower.join(" "),
        mid.join(" ")
    )
}
