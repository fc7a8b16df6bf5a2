//! `chokepoint solve FILE`: clear a market written by hand (`docs/market-file.md`) and report
//! prices, flows, processing, shadow prices and the welfare account. Needs no dataset.

use std::path::Path;

use chokepoint_equilibrium::{Market, Solution, SolveReport, SolveStatus, parse_market, solve};

use crate::CliError;
use crate::output::{outln, print_json, qty, table};

pub(crate) fn run(file: &Path, json: bool) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::User(format!(
            "cannot read market file {}: {e}\n  hint: give the path of a .toml or .json market \
             file (see docs/market-file.md)",
            file.display()
        ))
    })?;
    let market = parse_market(&text, &file.display().to_string()).map_err(CliError::Market)?;
    let solution = clear(&market);
    let report = SolveReport::new(&market, &solution);
    if json {
        return print_json(&report);
    }
    print_human(&file.display().to_string(), &market, &report);
    Ok(())
}

/// Clears the market. The one place that chooses the solver, so that the fast path can take
/// over here.
fn clear(market: &Market) -> Solution {
    // The fast path when it covers the market (no processing), else the reference QP path.
    match solve(market) {
        Ok(solution) => solution,
        // `parse_market` returns only markets that pass `Market::validate`, the only cause of
        // an `Err`; should one slip through, it is reported as a solve that did not converge
        // rather than a panic.
        Err(_) => Solution::failed(market, SolveStatus::NotConverged, 0),
    }
}

/// A number for a table: tiny solver noise shown as 0, `—` for no value.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() < 5e-7 {
        return "0".into();
    }
    qty(v)
}

fn print_human(file: &str, market: &Market, r: &SolveReport) {
    let several = market.goods.len() > 1;
    outln!(
        "{file}: {} region(s), {} good(s), {} route(s), {} process(es)",
        market.regions.len(),
        market.goods.len(),
        market.routes.len(),
        market.processes.len()
    );
    if let Some(message) = &r.message {
        outln!(
            "status: {} ({} solver, {} iterations)",
            status_word(r.status),
            r.solver,
            r.iterations
        );
        outln!("{message}");
        return;
    }
    outln!(
        "status: {} ({} solver, {} iterations, max violation {:.1e})",
        status_word(r.status),
        r.solver,
        r.iterations,
        r.max_violation
    );

    let mut header = vec!["region"];
    if several {
        header.push("good");
    }
    header.extend(["price", "supply", "demand", "imports", "exports"]);
    let with_processes = !market.processes.is_empty();
    if with_processes {
        header.extend(["processed out", "processed in"]);
    }
    let mut t = table(header);
    for row in &r.regions {
        let mut cells = vec![row.id.clone()];
        if let Some(g) = &row.good {
            cells.push(g.clone());
        }
        cells.extend([
            row.price.map_or("—".into(), num),
            num(row.supply),
            num(row.demand),
            num(row.imports),
            num(row.exports),
        ]);
        if with_processes {
            cells.extend([num(row.process_output), num(row.process_input)]);
        }
        t.add_row(cells);
    }
    outln!();
    outln!("{t}");

    if !r.flows.is_empty() {
        let mut header = vec!["from", "to"];
        if several {
            header.push("good");
        }
        header.extend(["quantity", "cost", "tariff", "price gap"]);
        let mut t = table(header);
        for f in &r.flows {
            let mut cells = vec![f.from.clone(), f.to.clone()];
            if let Some(g) = &f.good {
                cells.push(g.clone());
            }
            let quantity = if f.banned {
                "banned".into()
            } else {
                num(f.quantity)
            };
            cells.extend([quantity, num(f.cost), num(f.tariff), num(f.price_gap)]);
            t.add_row(cells);
        }
        outln!();
        outln!("flows");
        outln!("{t}");
    }

    if !r.processes.is_empty() {
        let mut t = table(["process", "region", "output", "activity", "margin"]);
        for p in &r.processes {
            t.add_row(vec![
                p.name.clone(),
                p.region.clone(),
                p.output.clone(),
                num(p.activity),
                num(p.margin),
            ]);
        }
        outln!();
        outln!("processing");
        outln!("{t}");
    }

    if !r.constraints.is_empty() {
        let mut t = table([
            "constraint",
            "kind",
            "quantity",
            "limit",
            "shadow price",
            "rent",
            "binding",
        ]);
        for c in &r.constraints {
            t.add_row(vec![
                c.name.clone(),
                c.kind.replace('_', " "),
                num(c.quantity),
                num(c.limit),
                num(c.shadow_price),
                num(c.rent),
                if c.binding { "yes" } else { "no" }.into(),
            ]);
        }
        outln!();
        outln!("constraints");
        outln!("{t}");
    }

    if let Some(w) = &r.welfare {
        let mut t = table(["welfare account", "value"]);
        for (name, v) in [
            ("consumer surplus", w.consumer_surplus),
            ("producer surplus", w.producer_surplus),
            ("processing surplus", w.processing_surplus),
            ("tariff revenue", w.tariff_revenue),
            ("constraint rent", w.constraint_rent),
            ("total", w.total),
            ("(transport cost, netted out above)", w.transport_cost),
            ("(fixed-demand payments)", w.fixed_demand_payments),
        ] {
            t.add_row(vec![name.to_string(), num(v)]);
        }
        outln!();
        outln!("{t}");
    }
}

fn status_word(status: SolveStatus) -> &'static str {
    match status {
        SolveStatus::Optimal => "optimal",
        SolveStatus::Infeasible => "infeasible",
        SolveStatus::Unbounded => "unbounded",
        SolveStatus::NotConverged => "not converged",
    }
}
