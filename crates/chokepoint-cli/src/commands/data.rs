//! `chokepoint data list | show | audit | export`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chokepoint_core::Dataset;
use chokepoint_core::audit::{Gap, audit};
use chokepoint_core::dataset::EMBEDDED_FILES;
use chokepoint_core::dataset::tables::{Metric, SupplyRow};
use chokepoint_core::metrics::t5::T5Outcome;
use serde::Serialize;

use crate::CliError;
use crate::output::{outln, plain, print_json, qty, table};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DataCommand {
    /// Commodities and their stages, countries, groups, sectors and sources.
    List {
        /// Only this list.
        #[arg(value_enum)]
        what: Option<ListWhat>,
    },
    /// Production (or capacity, reserves) of one commodity by country and stage, with sources.
    Show {
        /// Commodity id or name.
        commodity: String,
        /// Only this stage.
        #[arg(long)]
        stage: Option<String>,
        /// Only this year.
        #[arg(long)]
        year: Option<i32>,
        /// Only this country (ISO code, name or any spelling in the sources, e.g. "Burma").
        #[arg(long)]
        country: Option<String>,
        /// Every metric (capacity, reserves, top-3 share), not only production.
        #[arg(long)]
        all_metrics: bool,
    },
    /// Every named assumption, every secondary figure and every gap, and the USGS T5 check.
    Audit {
        /// List every gap row instead of a summary by series.
        #[arg(long)]
        full: bool,
    },
    /// Write the embedded tables to a folder, to edit and load with `--data DIR`.
    Export(ExportArgs),
    /// Load and validate the dataset (embedded, or `--data DIR`) and count the rows per table.
    Validate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ListWhat {
    Commodities,
    Countries,
    Groups,
    Sectors,
    Sources,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// Folder to write into (created if missing).
    dir: PathBuf,
    /// Overwrite tables that already exist there.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(ds: &Dataset, cmd: &DataCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        DataCommand::List { what } => list(ds, *what, json),
        DataCommand::Show {
            commodity,
            stage,
            year,
            country,
            all_metrics,
        } => show(
            ds,
            commodity,
            Filter {
                stage: stage.as_deref(),
                year: *year,
                country: country.as_deref(),
                all_metrics: *all_metrics,
            },
            json,
        ),
        DataCommand::Audit { full } => audit_cmd(ds, *full, json),
        DataCommand::Export(args) => export(args, json),
        DataCommand::Validate => validate(ds, json),
    }
}

#[derive(Serialize)]
struct Validated {
    origin: String,
    tables: BTreeMap<&'static str, usize>,
}

/// Reached only when loading succeeded: every check passed.
fn validate(ds: &Dataset, json: bool) -> Result<(), CliError> {
    let out = Validated {
        origin: ds.origin.to_string(),
        tables: ds.row_counts().into_iter().collect(),
    };
    if json {
        return print_json(&out);
    }
    let rows: usize = out.tables.values().sum();
    outln!(
        "ok: {} is valid ({} tables, {rows} rows)",
        out.origin,
        out.tables.len()
    );
    Ok(())
}

#[derive(Serialize)]
struct CommodityEntry<'a> {
    id: &'a str,
    name: &'a str,
    parent: Option<&'a str>,
    content_basis: &'a str,
    stages: Vec<&'a str>,
    stages_with_supply_data: Vec<&'a str>,
}

#[derive(Serialize)]
struct GroupEntry<'a> {
    id: &'a str,
    name: &'a str,
    members: Vec<&'a str>,
}

#[derive(Serialize, Default)]
struct Listing<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    commodities: Option<Vec<CommodityEntry<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    countries: Option<&'a [chokepoint_core::dataset::tables::Country]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<GroupEntry<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sectors: Option<&'a [chokepoint_core::dataset::tables::Sector]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<&'a [chokepoint_core::dataset::tables::Source]>,
}

fn list(ds: &Dataset, what: Option<ListWhat>, json: bool) -> Result<(), CliError> {
    let want = |w: ListWhat| what.is_none() || what == Some(w);
    let with_data: BTreeSet<(&str, &str)> = ds
        .supply
        .iter()
        .filter(|r| r.status.has_value())
        .map(|r| (r.commodity_id.as_str(), r.stage_id.as_str()))
        .collect();
    let mut listing = Listing::default();
    if want(ListWhat::Commodities) {
        listing.commodities = Some(
            ds.commodities
                .iter()
                .map(|c| {
                    let stages = ds.stages_of(&c.commodity_id);
                    CommodityEntry {
                        id: &c.commodity_id,
                        name: &c.name,
                        parent: c.parent.as_deref(),
                        content_basis: &c.content_basis,
                        stages: stages.iter().map(|s| s.stage_id.as_str()).collect(),
                        stages_with_supply_data: stages
                            .iter()
                            .filter(|s| {
                                with_data.contains(&(c.commodity_id.as_str(), s.stage_id.as_str()))
                            })
                            .map(|s| s.stage_id.as_str())
                            .collect(),
                    }
                })
                .collect(),
        );
    }
    if want(ListWhat::Countries) {
        listing.countries = Some(&ds.countries);
    }
    if want(ListWhat::Groups) {
        listing.groups = Some(
            ds.group_members()
                .into_iter()
                .map(|(id, (name, members))| GroupEntry { id, name, members })
                .collect(),
        );
    }
    if want(ListWhat::Sectors) {
        listing.sectors = Some(&ds.sectors);
    }
    if want(ListWhat::Sources) {
        listing.sources = Some(&ds.sources);
    }
    if json {
        return print_json(&listing);
    }
    outln!("dataset: {}", ds.origin);
    if let Some(items) = &listing.commodities {
        let mut t = table(["commodity", "name", "stages (* = supply data)", "basis"]);
        for c in items {
            let stages: Vec<String> = c
                .stages
                .iter()
                .map(|s| {
                    if c.stages_with_supply_data.contains(s) {
                        format!("{s}*")
                    } else {
                        s.to_string()
                    }
                })
                .collect();
            t.add_row(vec![
                c.id.to_string(),
                c.name.to_string(),
                stages.join(" → "),
                c.content_basis.to_string(),
            ]);
        }
        outln!("\nCommodities ({})\n{t}", items.len());
    }
    if let Some(countries) = listing.countries {
        if what == Some(ListWhat::Countries) {
            let mut t = table(["iso3", "name", "continent"]);
            for c in countries {
                t.add_row(vec![c.iso3.clone(), c.name.clone(), c.continent.clone()]);
            }
            outln!("\nCountries ({})\n{t}", countries.len());
        } else {
            outln!(
                "\nCountries: {} ISO 3166-1 countries (`chokepoint data list countries`), plus \
                 WORLD, OTHER (residual of a table) and ROW (IEA rest of world)",
                countries.len()
            );
        }
    }
    if let Some(groups) = &listing.groups {
        let mut t = table(["group", "name", "members"]);
        for g in groups {
            t.add_row(vec![
                g.id.to_string(),
                g.name.to_string(),
                format!("{} ({})", g.members.join(" "), g.members.len()),
            ]);
        }
        outln!("\nCountry groups\n{t}");
    }
    if let Some(sectors) = listing.sectors {
        let mut t = table(["sector", "name", "IEA name", "total?"]);
        for s in sectors {
            t.add_row(vec![
                s.sector_id.clone(),
                s.name.clone(),
                s.iea_name.clone(),
                if s.aggregate { "yes" } else { "" }.to_string(),
            ]);
        }
        outln!("\nEnd-use sectors\n{t}");
    }
    if let Some(sources) = listing.sources {
        let mut t = table(["source", "publisher", "title", "licence"]);
        for s in sources {
            t.add_row(vec![
                s.source_id.clone(),
                s.publisher.clone(),
                s.title.clone(),
                s.licence.clone(),
            ]);
        }
        outln!("\nSources\n{t}");
    }
    Ok(())
}

#[derive(Serialize)]
struct ShowRow<'a> {
    stage: &'a str,
    entity: &'a str,
    name: &'a str,
    year: i32,
    metric: Metric,
    case: chokepoint_core::dataset::tables::Case,
    value: Option<f64>,
    unit: &'a str,
    status: chokepoint_core::dataset::value::Status,
    raw_value: &'a str,
    source_id: &'a str,
    note: &'a str,
}

#[derive(Serialize)]
struct Show<'a> {
    commodity: &'a chokepoint_core::dataset::tables::Commodity,
    stages: Vec<&'a chokepoint_core::dataset::tables::Stage>,
    rows: Vec<ShowRow<'a>>,
    sources: BTreeMap<&'a str, String>,
}

/// What `data show` keeps.
struct Filter<'a> {
    stage: Option<&'a str>,
    year: Option<i32>,
    country: Option<&'a str>,
    all_metrics: bool,
}

fn show(ds: &Dataset, commodity: &str, filter: Filter<'_>, json: bool) -> Result<(), CliError> {
    let Filter {
        stage,
        year,
        country,
        all_metrics,
    } = filter;
    let country = country
        .map(|c| ds.resolve_country(c).map(|c| c.iso3.as_str()))
        .transpose()
        .map_err(|e| CliError::User(e.to_string()))?;
    let c = ds
        .commodity(commodity)
        .map_err(|e| CliError::User(e.to_string()))?;
    let stage_id = stage
        .map(|s| ds.stage(&c.commodity_id, s).map(|s| s.stage_id.as_str()))
        .transpose()
        .map_err(|e| CliError::User(e.to_string()))?;
    let rows_all: Vec<&SupplyRow> = ds.supply_of(&c.commodity_id).collect();
    if let Some(y) = year
        && !rows_all.iter().any(|r| r.year == y)
    {
        let years: BTreeSet<String> = rows_all.iter().map(|r| r.year.to_string()).collect();
        return Err(CliError::User(
            chokepoint_core::LookupError::unknown(
                "year",
                &y.to_string(),
                years.iter().map(String::as_str),
            )
            .to_string(),
        ));
    }
    let order: BTreeMap<&str, u32> = ds
        .stages_of(&c.commodity_id)
        .iter()
        .map(|s| (s.stage_id.as_str(), s.order))
        .collect();
    let mut rows: Vec<&SupplyRow> = rows_all
        .into_iter()
        .filter(|r| stage_id.is_none_or(|s| r.stage_id == s))
        .filter(|r| year.is_none_or(|y| r.year == y))
        .filter(|r| country.is_none_or(|c| r.entity == c))
        .filter(|r| all_metrics || r.metric == Metric::Production)
        .collect();
    rows.sort_by(|a, b| {
        (
            order.get(a.stage_id.as_str()),
            &a.stage_id,
            a.metric,
            &a.source_id,
            a.year,
        )
            .cmp(&(
                order.get(b.stage_id.as_str()),
                &b.stage_id,
                b.metric,
                &b.source_id,
                b.year,
            ))
            .then_with(|| b.value.unwrap_or(-1.0).total_cmp(&a.value.unwrap_or(-1.0)))
    });
    let sources: BTreeMap<&str, String> = rows
        .iter()
        .map(|r| (r.source_id.as_str(), ds.cite(&r.source_id)))
        .collect();
    let out = Show {
        commodity: c,
        stages: ds.stages_of(&c.commodity_id),
        rows: rows
            .iter()
            .map(|r| ShowRow {
                stage: &r.stage_id,
                entity: &r.entity,
                name: ds.entity_name(&r.entity),
                year: r.year,
                metric: r.metric,
                case: r.case,
                value: r.value,
                unit: &r.unit,
                status: r.status,
                raw_value: &r.raw_value,
                source_id: &r.source_id,
                note: &r.note,
            })
            .collect(),
        sources,
    };
    if json {
        return print_json(&out);
    }
    outln!("{} [{}] — {}", c.name, c.commodity_id, c.content_basis);
    let stage_names: Vec<String> = out
        .stages
        .iter()
        .map(|s| format!("{} ({})", s.stage_id, s.name))
        .collect();
    outln!("chain: {}", stage_names.join(" → "));
    if out.rows.is_empty() {
        outln!("no supply rows for this selection (`chokepoint data audit` lists the gaps)");
        return Ok(());
    }
    let mut t = table([
        "stage", "metric", "year", "entity", "name", "value", "unit", "status", "source",
    ]);
    for r in &out.rows {
        let value = match r.value {
            Some(v) => qty(v),
            None => r.raw_value.to_string(),
        };
        t.add_row(vec![
            r.stage.to_string(),
            r.metric.as_str().to_string(),
            r.year.to_string(),
            r.entity.to_string(),
            r.name.to_string(),
            value,
            r.unit.to_string(),
            r.status.as_str().to_string(),
            r.source_id.to_string(),
        ]);
    }
    outln!("{t}");
    outln!("sources:");
    for (id, cite) in &out.sources {
        outln!("  [{id}] {cite}");
    }
    Ok(())
}

fn audit_cmd(ds: &Dataset, full: bool, json: bool) -> Result<(), CliError> {
    let a = audit(ds);
    if json {
        return print_json(&a);
    }
    outln!("dataset: {}", a.origin);
    let mut t = table([
        "assumption",
        "value",
        "unit",
        "applies to",
        "rationale",
        "reference",
    ]);
    for x in &a.assumptions {
        t.add_row(vec![
            x.id.clone(),
            x.value.map_or("—".into(), plain),
            x.unit.clone(),
            x.applies_to.clone(),
            x.rationale.clone(),
            x.reference.clone(),
        ]);
    }
    outln!("\nNamed assumptions ({})\n{t}", a.assumptions.len());
    if !a.secondary_figures.is_empty() {
        let mut t = table([
            "commodity",
            "stage",
            "entity",
            "year",
            "metric",
            "value",
            "source",
        ]);
        for f in &a.secondary_figures {
            t.add_row(vec![
                f.commodity.clone(),
                f.stage.clone(),
                f.entity.clone(),
                f.year.to_string(),
                f.metric.clone(),
                f.value.map_or("—".into(), qty),
                f.source.clone(),
            ]);
        }
        outln!(
            "\nSupply figures from secondary sources ({}), used as named assumptions\n{t}",
            a.secondary_figures.len()
        );
    }
    let counts: Vec<String> = a
        .gap_counts
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    outln!("\nGaps ({}): {}", a.gaps.len(), counts.join(", "));
    if full {
        let mut t = table([
            "kind",
            "table:line",
            "commodity",
            "detail",
            "entity",
            "period",
            "raw",
        ]);
        for g in &a.gaps {
            t.add_row(gap_cells(g));
        }
        outln!("{t}");
    } else {
        // One line per (kind, table, commodity, detail): the entities and periods it covers.
        type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
        let mut grouped: BTreeMap<Key<'_>, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for g in &a.gaps {
            let e = grouped
                .entry((&g.kind, &g.table, &g.commodity, &g.detail))
                .or_default();
            if !g.entity.is_empty() {
                e.0.insert(&g.entity);
            }
            if !g.period.is_empty() {
                e.1.insert(&g.period);
            }
        }
        let mut t = table([
            "kind",
            "table",
            "commodity",
            "detail",
            "entities",
            "periods",
        ]);
        for ((kind, tab, commodity, detail), (entities, periods)) in grouped {
            t.add_row(vec![
                kind.to_string(),
                tab.to_string(),
                commodity.to_string(),
                detail.to_string(),
                abbreviate(&entities),
                abbreviate(&periods),
            ]);
        }
        outln!("{t}\n(every gap row: `chokepoint data audit --full` or `--json`)");
    }
    let agree = a
        .t5_crosscheck
        .iter()
        .filter(|c| c.outcome != T5Outcome::Agrees && c.outcome != T5Outcome::BothUnavailable)
        .count();
    let mut t = table([
        "T5 mineral",
        "commodity/stage",
        "USGS",
        "dataset",
        "outcome",
    ]);
    for c in &a.t5_crosscheck {
        t.add_row(vec![
            c.critical_mineral.clone(),
            format!("{}/{}", c.commodity, c.stage),
            match c.usgs_pct {
                Some(p) => format!("{} {p}%", c.usgs_leading),
                None => "NA".into(),
            },
            match (&c.leading, c.pct) {
                (Some(l), Some(p)) => format!("{l} {p:.2}%"),
                _ => "—".into(),
            },
            match &c.outcome {
                T5Outcome::Agrees => "agrees".to_string(),
                T5Outcome::BothUnavailable => "both unavailable".to_string(),
                T5Outcome::Disagrees(why) => format!("DIFFERS: {why}"),
            },
        ]);
    }
    outln!(
        "\nCross-check against USGS MCS 2025 table 5 ({} rows, {agree} differ)\n{t}",
        a.t5_crosscheck.len()
    );
    Ok(())
}

fn gap_cells(g: &Gap) -> Vec<String> {
    vec![
        g.kind.clone(),
        if g.line > 0 {
            format!("{}:{}", g.table, g.line)
        } else {
            g.table.clone()
        },
        g.commodity.clone(),
        g.detail.clone(),
        g.entity.clone(),
        g.period.clone(),
        g.raw_value.clone(),
    ]
}

fn abbreviate(items: &BTreeSet<&str>) -> String {
    const SHOWN: usize = 8;
    let shown: Vec<&str> = items.iter().take(SHOWN).copied().collect();
    if items.len() > SHOWN {
        format!("{} … ({} in all)", shown.join(" "), items.len())
    } else {
        shown.join(" ")
    }
}

#[derive(Serialize)]
struct Exported {
    dir: String,
    files: Vec<String>,
}

/// Writes the embedded tables into a folder; refuses to overwrite without `--force`.
pub(crate) fn export(args: &ExportArgs, json: bool) -> Result<(), CliError> {
    let existing: Vec<String> = EMBEDDED_FILES
        .iter()
        .map(|(f, _)| args.dir.join(f))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !args.force && !existing.is_empty() {
        return Err(CliError::User(format!(
            "{} already holds {} table(s) (e.g. {}); nothing was written\n  hint: choose an \
             empty folder, or pass --force to overwrite them",
            args.dir.display(),
            existing.len(),
            existing[0]
        )));
    }
    std::fs::create_dir_all(&args.dir)?;
    let mut files = Vec::new();
    for (file, text) in EMBEDDED_FILES {
        let path = args.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        files.push(path.display().to_string());
    }
    let out = Exported {
        dir: args.dir.display().to_string(),
        files,
    };
    if json {
        return print_json(&out);
    }
    outln!(
        "wrote {} tables to {}; edit them and run with --data {}",
        out.files.len(),
        out.dir,
        out.dir
    );
    Ok(())
}
