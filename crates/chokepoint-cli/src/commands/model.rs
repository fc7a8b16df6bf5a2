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
