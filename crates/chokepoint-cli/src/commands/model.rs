//! `chokepoint model regions | chains | production`: the structure of the world model.

use std::collections::BTreeMap;

use chokepoint_core::Dataset;
use chokepoint_core::dataset::tables::{Good, InputCoefficient};
use chokepoint_core::world::{RegionMap, production_by_region};
use serde::Serialize;

use crate::CliError;
use crate::commands::concentration::user_error;
use crate::output::{outln, pct, print_json, qty, table};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ModelCommand {
    /// The model regions and the countries each holds (from model/regions.csv).
    Regions,
    /// The goods of every chain and the input coefficients linking them, with sources.
    Chains {
        /// Only this chain (e.g. rare_earths).
        #[arg(long)]
        chain: Option<String>,
    },
    /// Base-year output of a commodity and stage by model region (selection as in
    /// `concentration`).
    Production(crate::commands::concentration::Args),
    /// Assemble the base year from model/base_year.csv, calibrate it and clear it: per good,
    /// output, secondary supply, reference and regional prices, and how closely the cleared
    /// market reproduces the data's production shares.
    BaseYear,
}

fn region_map(ds: &Dataset) -> Result<RegionMap, CliError> {
    // A loaded dataset has valid rules; this only fails on a dataset built another way.
    RegionMap::from_dataset(ds).map_err(|errors| {
        CliError::User(
            errors
                .iter()
                .map(|e| {
                    format!(
                        "model/regions.csv:{}: {}\n  hint: {}",
                        e.line, e.message, e.hint
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

pub(crate) fn run(ds: &Dataset, cmd: &ModelCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        ModelCommand::Regions => regions(ds, json),
        ModelCommand::Chains { chain } => chains(ds, chain.as_deref(), json),
        ModelCommand::BaseYear => base_year(ds, json),
        ModelCommand::Production(args) => {
            let map = region_map(ds)?;
            let q = args.query();
            let p = production_by_region(ds, &map, &q).map_err(user_error)?;
            if json {
                return print_json(&p);
            }
            outln!(
                "{} {} {} by model region ({}, source {})",
                p.commodity,
                p.stage,
                p.year,
                p.unit,
                p.source_id
            );
            let mut t = table(["region", "quantity", "share", "withheld members"]);
            let mut rows: Vec<_> = p
                .regions
                .iter()
                .filter(|r| r.quantity > 0.0 || !r.withheld.is_empty())
                .collect();
            rows.sort_by(|a, b| b.quantity.total_cmp(&a.quantity));
            for r in rows {
                t.add_row(vec![
                    r.region.clone(),
                    qty(r.quantity),
                    pct(r.share),
                    r.withheld.join(" "),
                ]);
            }
            outln!("{t}");
            outln!("world total: {} {}", qty(p.world_total), p.unit);
            for n in &p.notes {
                outln!("note: {n}");
            }
            Ok(())
        }
    }
}

fn regions(ds: &Dataset, json: bool) -> Result<(), CliError> {
    let map = region_map(ds)?;
    if json {
        return print_json(&map);
    }
    let mut t = table(["region", "name", "countries", "members"]);
    for r in &map.regions {
        let shown = if r.members.len() > 12 {
            format!(
                "{} … ({} in all)",
                r.members[..12].join(" "),
                r.members.len()
            )
        } else {
            r.members.join(" ")
        };
        t.add_row(vec![
            r.id.clone(),
            r.name.clone(),
            r.members.len().to_string(),
            shown,
        ]);
    }
    outln!("{} model regions ({})\n{t}", map.regions.len(), ds.origin);
    Ok(())
}

#[derive(Serialize)]
struct Chain<'a> {
    chain: &'a str,
    goods: Vec<&'a Good>,
    inputs: Vec<&'a InputCoefficient>,
}

fn chains(ds: &Dataset, only: Option<&str>, json: bool) -> Result<(), CliError> {
    let mut by_chain: BTreeMap<&str, Chain<'_>> = BTreeMap::new();
    for g in &ds.goods {
        by_chain
            .entry(g.chain.as_str())
            .or_insert_with(|| Chain {
                chain: &g.chain,
                goods: Vec::new(),
                inputs: Vec::new(),
            })
            .goods
            .push(g);
    }
    let chain_of: BTreeMap<&str, &str> = ds
        .goods
        .iter()
        .map(|g| (g.good_id.as_str(), g.chain.as_str()))
        .collect();
    for i in &ds.inputs {
        if let Some(chain) = chain_of.get(i.output_good.as_str())
            && let Some(c) = by_chain.get_mut(chain)
        {
            c.inputs.push(i);
        }
    }
    if let Some(name) = only
        && !by_chain.contains_key(name)
    {
        return Err(CliError::User(
            chokepoint_core::LookupError::unknown("chain", name, by_chain.keys().copied())
                .to_string(),
        ));
    }
    let chains: Vec<Chain<'_>> = by_chain
        .into_values()
        .filter(|c| only.is_none_or(|o| o == c.chain))
        .collect();
    if json {
        return print_json(&chains);
    }
    for c in &chains {
        outln!("\n{} ({} goods)", c.chain, c.goods.len());
        let mut t = table(["good", "name", "stage", "unit"]);
        for g in &c.goods {
            t.add_row(vec![
                g.good_id.clone(),
                g.name.clone(),
                g.stage_id.clone(),
                g.unit.clone(),
            ]);
        }
        outln!("{t}");
        if !c.inputs.is_empty() {
            let mut t = table(["output", "input", "per unit", "source", "confidence"]);
            for i in &c.inputs {
                t.add_row(vec![
                    i.output_good.clone(),
                    i.input_good.clone(),
                    format!("{} {}", i.coefficient, i.unit),
                    i.source.clone(),
                    i.confidence.clone(),
                ]);
            }
            outln!("{t}");
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct GoodBase {
    good: String,
    output: f64,
    secondary: f64,
    reference_price: f64,
    min_price: f64,
    max_price: f64,
    /// Largest difference between a region's production share in the cleared market and in
    /// the data (fraction).
    max_share_error: f64,
}

#[derive(Serialize)]
struct BaseYearReport {
    regions: usize,
    goods: Vec<GoodBase>,
    routes: usize,
    processes: usize,
    status: chokepoint_equilibrium::SolveStatus,
    solver: chokepoint_equilibrium::SolverPath,
    max_violation: f64,
    notes: Vec<String>,
}

fn base_year(ds: &Dataset, json: bool) -> Result<(), CliError> {
    use chokepoint_core::world::build_base_year;
    use chokepoint_equilibrium::{calibrate, solve};
    let map = region_map(ds)?;
    let build = build_base_year(ds, &map).map_err(|e| CliError::User(e.to_string()))?;
    let base = &build.base;
    let cal = calibrate(base).map_err(|e| CliError::User(format!("calibration: {e}")))?;
    let m = &cal.market;
    let sol = solve(m).map_err(|e| CliError::User(format!("{e:?}")))?;
    let produced = sol.node_production(m);
    let nr = base.regions.len();
    let goods = base
        .goods
        .iter()
        .enumerate()
        .map(|(g, good)| {
            let mut target = vec![0.0; nr];
            for n in base.nodes.iter().filter(|n| n.good == g) {
                target[n.region] += n.production;
            }
            for p in base.processes.iter().filter(|p| p.output == g) {
                target[p.region] += p.capacity.unwrap_or(0.0);
            }
            let total: f64 = target.iter().sum();
            let solved: f64 = (0..nr).map(|r| produced[m.node(r, g)]).sum();
            let max_share_error = (0..nr)
                .map(|r| (target[r] / total - produced[m.node(r, g)] / solved).abs())
                .fold(0.0, f64::max);
            // Prices where the good is supplied, used or made.
            let regional: Vec<f64> = base
                .nodes
                .iter()
                .filter(|n| n.good == g)
                .map(|n| n.region)
                .chain(
                    base.processes
                        .iter()
                        .filter(|p| p.output == g)
                        .map(|p| p.region),
                )
                .map(|r| cal.prices[m.node(r, g)])
                .collect();
            GoodBase {
                good: good.clone(),
                output: total,
                secondary: build
                    .secondary
                    .iter()
                    .find(|(s, _)| s == good)
                    .map_or(0.0, |s| s.1),
                reference_price: base.prices[g],
                min_price: regional.iter().copied().fold(f64::INFINITY, f64::min),
                max_price: regional.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                max_share_error,
            }
        })
        .collect();
    let report = BaseYearReport {
        regions: nr,
        goods,
        routes: m.routes.len(),
        processes: m.processes.len(),
        status: sol.status,
        solver: sol.solver,
        max_violation: sol.max_violation,
        notes: build.notes.clone(),
    };
    if json {
        return print_json(&report);
    }
    outln!(
        "base year: {} regions, {} goods, {} routes, {} processing plants — cleared: {:?} ({:?}, max violation {:.1e})",
        report.regions,
        report.goods.len(),
        report.routes,
        report.processes,
        report.status,
        report.solver,
        report.max_violation
    );
    let mut t = table([
        "good",
        "output",
        "secondary",
        "reference price",
        "regional prices",
        "max share error",
    ]);
    for g in &report.goods {
        t.add_row(vec![
            g.good.clone(),
            qty(g.output),
            qty(g.secondary),
            qty(g.reference_price),
            format!("{} – {}", qty(g.min_price), qty(g.max_price)),
            format!("{:.4} pp", g.max_share_error * 100.0),
        ]);
    }
    outln!("{t}");
    for n in &report.notes {
        outln!("note: {n}");
    }
    Ok(())
}
