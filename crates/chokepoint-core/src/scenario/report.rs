//! The run report: one self-contained HTML page (no scripts, no external files) with the
//! article's questions answered, the events on a timeline, price and shortfall charts (inline
//! SVG), trade re-routing, tables, and the named assumptions used.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::summary::Summary;
use super::{Scenario, ScenarioRun};
use crate::dataset::Dataset;
use crate::finance::instruments::FinanceReport;
use crate::world::Baseline;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number for people: thousands separated, few decimals.
fn num(v: f64) -> String {
    let a = v.abs();
    let digits = if a >= 100.0 {
        0
    } else if a >= 1.0 {
        2
    } else {
        4
    };
    let s = format!("{:.*}", digits, a);
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 { "−" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// World volume-weighted mean price of a good per quarter.
fn mean_prices(b: &Baseline, good: &str) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in b.rows.iter().filter(|r| r.good == good) {
        if let Some(p) = r.price {
            let w = r.production + r.consumption;
            let e = acc.entry(r.period.clone()).or_default();
            e.0 += p * w;
            e.1 += w;
        }
    }
    acc.into_iter()
        .filter(|(_, (_, w))| *w > 0.0)
        .map(|(k, (pw, w))| (k, pw / w))
        .collect()
}

/// A line chart of series over the quarters, as inline SVG.
fn line_chart(
    title: &str,
    unit: &str,
    periods: &[String],
    series: &[(&str, &str, Vec<Option<f64>>)],
) -> String {
    let (w, h, left, bottom, top) = (560.0, 220.0, 70.0, 30.0, 24.0);
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().flatten().copied())
        .collect();
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return String::new();
    }
    if hi - lo < 1e-9 * hi.abs().max(1.0) {
        lo -= 0.5 * lo.abs().max(1.0) * 0.1;
        hi += 0.5 * hi.abs().max(1.0) * 0.1;
    }
    let n = periods.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / (hi - lo));
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" class=\"chart\" role=\"img\"><title>{}</title>\
         <text x=\"{left}\" y=\"14\" class=\"t\">{} ({})</text>",
        esc(title),
        esc(title),
        esc(unit)
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            left - 4.0,
            y(v) + 3.0,
            num(v),
            y = y(v)
        );
    }
    let step = (periods.len() / 8).max(1);
    for (i, p) in periods.iter().enumerate().step_by(step) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 10.0,
            esc(p)
        );
    }
    for (k, (name, colour, vals)) in series.iter().enumerate() {
        let pts: Vec<String> = vals
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\" class=\"ax\" fill=\"{colour}\">{}</text>",
            pts.join(" "),
            left + 10.0 + 120.0 * k as f64,
            top + 10.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars with labels, as inline SVG.
fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    if bars.is_empty() {
        return String::new();
    }
    let row = 18.0;
    let (w, left) = (560.0, 190.0);
    let h = 28.0 + row * bars.len() as f64;
    let max = bars
        .iter()
        .map(|b| b.1.abs())
        .fold(0.0, f64::max)
        .max(1e-12);
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" class=\"chart\" role=\"img\"><title>{0}</title>\
         <text x=\"4\" y=\"14\" class=\"t\">{0}</text>",
        esc(title)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 22.0 + row * i as f64;
        let len = (w - left - 70.0) * v.abs() / max;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"#c0392b\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\">{:.1}%</text>",
            left - 6.0,
            y + 12.0,
            esc(label),
            row - 4.0,
            left + len + 4.0,
            y + 12.0,
            v * 100.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The events on the quarters' axis.
fn timeline(s: &Scenario, periods: &[String]) -> String {
    let first = periods
        .first()
        .and_then(|p| super::time::parse_date(p).ok())
        .unwrap_or(0.0);
    let last = periods
        .last()
        .and_then(|p| super::time::parse_date(p).ok())
        .map_or(first + 1.0, |t| t + 0.25);
    let (w, left, row) = (560.0, 190.0, 16.0);
    let h = 24.0 + row * s.events.len() as f64;
    let x = |t: f64| left + (w - left - 10.0) * ((t - first) / (last - first)).clamp(0.0, 1.0);
    let mut out =
        format!("<svg viewBox=\"0 0 {w} {h}\" class=\"chart\" role=\"img\"><title>Events</title>");
    for (i, e) in s.events.iter().enumerate() {
        let y = 6.0 + row * i as f64;
        let (a, b) = (x(e.start), x(e.end.unwrap_or(last)));
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text>\
             <rect x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#2c7fb8\" \
             opacity=\"{:.2}\"><title>{} ({}), {}</title></rect>",
            left - 6.0,
            y + 11.0,
            esc(&e.id),
            (b - a).max(2.0),
            row - 4.0,
            0.35 + 0.65 * e.probability,
            esc(&e.id),
            e.kind.name(),
            esc(&e.source)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{left}\" y=\"{:.1}\" class=\"ax\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" \
         class=\"ax\" text-anchor=\"end\">{}</text></svg>",
        h - 2.0,
        esc(periods.first().map_or("", String::as_str)),
        w - 10.0,
        h - 2.0,
        esc(periods.last().map_or("", String::as_str))
    );
    out
}

/// The page head with the report's styles, up to the open body.
fn head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font:14px/1.45 system-ui,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}}\
         h1{{font-size:22px}}h2{{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}}h3{{font-size:15px;margin-top:18px}}\
         table{{border-collapse:collapse;margin:8px 0}}td,th{{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}.chart{{width:560px;max-width:100%;margin:6px 8px 6px 0}}\
         .t{{font-size:12px;font-weight:600}}.ax{{font-size:10px;fill:#444}}.grid{{stroke:#eee}}\
         .grid2{{display:flex;flex-wrap:wrap}}.muted{{color:#666}}</style></head><body>",
        esc(title)
    )
}

/// The run report. With `finance`, it has a section on what the policies cost.
pub fn html(
    ds: &Dataset,
    s: &Scenario,
    run: &ScenarioRun,
    summary: &Summary,
    finance: Option<&FinanceReport>,
) -> String {
    let periods: Vec<String> = run
        .scenario
        .periods
        .iter()
        .map(|p| p.period.clone())
        .collect();
    let mut page = head(&summary.name);
    let _ = write!(
        page,
        "<h1>{name}</h1><p>{desc}</p><p class=\"muted\">{file} · demand path <b>{demand}</b> · {q} quarters · \
         cleared {b}/{q} (baseline), {c}/{q} (scenario)</p>",
        name = esc(&summary.name),
        desc = esc(&s.header.description),
        file = esc(&summary.file),
        demand = esc(&summary.demand),
        q = summary.quarters,
        b = summary.cleared[0],
        c = summary.cleared[1],
    );
    page.push_str("<h2>The questions, answered</h2><table>");
    for a in &summary.answers {
        let _ = write!(
            page,
            "<tr><td>{}</td><td><b>{}</b></td></tr>",
            esc(&a.question),
            esc(&a.answer)
        );
    }
    page.push_str("</table><h2>Events</h2>");
    page.push_str(&timeline(s, &periods));
    page.push_str("<table><tr><th>id</th><th>kind</th><th>from</th><th>to</th><th>probability</th><th>source</th><th>note</th></tr>");
    for e in &s.events {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.id),
            e.kind.name(),
            super::time::quarter_label(e.start),
            e.end.map_or("open".to_string(), super::time::quarter_label),
            e.probability,
            esc(&e.source),
            esc(&e.note)
        );
    }
    page.push_str("</table><h2>Prices: baseline and scenario</h2><div class=\"grid2\">");
    let mut goods: Vec<&str> = Vec::new();
    for m in &summary.price_moves {
        if !goods.contains(&m.good.as_str()) {
            goods.push(&m.good);
        }
    }
    for g in goods.iter().take(8) {
        let (b, sc) = (mean_prices(&run.baseline, g), mean_prices(&run.scenario, g));
        let series =
            |m: &BTreeMap<String, f64>| periods.iter().map(|p| m.get(p).copied()).collect();
        page.push_str(&line_chart(
            &format!("{g}: world mean price"),
            "USD per unit",
            &periods,
            &[
                ("baseline", "#999", series(&b)),
                ("scenario", "#c0392b", series(&sc)),
            ],
        ));
    }
    page.push_str("</div><h2>Who runs short</h2>");
    let bars: Vec<(String, f64)> = summary
        .shortfalls
        .iter()
        .map(|l| (format!("{} {}", l.region, l.good), l.share_of_demand))
        .collect();
    page.push_str(&bar_chart(
        "Extra shortfall, share of demand at base prices",
        &bars,
    ));
    page.push_str("<table><tr><th>good</th><th>region</th><th>extra shortfall</th><th>share of demand</th><th>quarters</th><th>from</th><th>to</th></tr>");
    for l in &summary.shortfalls {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.good),
            esc(&l.region),
            num(l.extra),
            l.share_of_demand * 100.0,
            l.quarters,
            esc(&l.from),
            esc(&l.to)
        );
    }
    page.push_str("</table><h3>By end-use sector</h3><table><tr><th>region</th><th>sector</th><th>good</th><th>extra shortfall</th><th>share of the sector's demand</th></tr>");
    let mut sectors: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
    for (sign, b) in [(-1.0, &run.baseline), (1.0, &run.scenario)] {
        for r in &b.sector_rows {
            let e = sectors
                .entry((r.region.clone(), r.sector.clone(), r.good.clone()))
                .or_default();
            e.0 += sign * r.shortfall;
            if sign > 0.0 {
                e.1 += r.demand_at_base_price;
            }
        }
    }
    let mut by_sector: Vec<_> = sectors
        .into_iter()
        .filter(|(_, (extra, demand))| *extra > 1e-9 * demand.max(1.0) && *demand > 0.0)
        .collect();
    by_sector.sort_by(|a, b| (b.1.0 / b.1.1).total_cmp(&(a.1.0 / a.1.1)));
    for ((region, sector, good), (extra, demand)) in by_sector.iter().take(15) {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td></tr>",
            esc(region),
            esc(sector),
            esc(good),
            num(*extra),
            extra / demand * 100.0
        );
    }
    page.push_str("</table><h2>Trade re-routing: imports against the baseline</h2><table><tr><th>good</th><th>region</th><th>baseline imports</th><th>scenario imports</th><th>change</th></tr>");
    let mut imports: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for r in &run.baseline.rows {
        imports
            .entry((r.good.clone(), r.region.clone()))
            .or_default()
            .0 += r.imports;
    }
    for r in &run.scenario.rows {
        imports
            .entry((r.good.clone(), r.region.clone()))
            .or_default()
            .1 += r.imports;
    }
    let mut moves: Vec<((String, String), (f64, f64))> = imports
        .into_iter()
        .filter(|(_, (b, s))| (s - b).abs() > 1e-6 * b.abs().max(s.abs()).max(1e-9))
        .collect();
    moves.sort_by(|a, b| {
        let rel = |x: &(f64, f64)| (x.1 - x.0).abs() / x.0.abs().max(x.1.abs()).max(1e-9);
        rel(&b.1).total_cmp(&rel(&a.1))
    });
    for ((good, region), (b, sc)) in moves.iter().take(20) {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(good),
            esc(region),
            num(*b),
            num(*sc),
            num(sc - b)
        );
    }
    page.push_str("</table><h2>Largest price changes</h2><table><tr><th>good</th><th>region</th><th>quarter</th><th>baseline</th><th>scenario</th><th>change</th></tr>");
    for m in &summary.price_moves {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:+.1}%</td></tr>",
            esc(&m.good),
            esc(&m.region),
            esc(&m.period),
            num(m.baseline),
            num(m.scenario),
            m.change * 100.0
        );
    }
    page.push_str("</table>");
    page.push_str(&exposure_section(&summary.exposure));
    page.push_str(&companies_section(&summary.companies));
    if let Some(c) = &summary.criticality {
        page.push_str(&criticality_section(c));
    }
    if let Some(c) = &summary.criticality_usgs {
        page.push_str(&usgs_section(c));
    }
    if let Some(f) = finance {
        page.push_str(&policies_section(f));
    }
    page.push_str(
        "<h2>Named assumptions</h2><details><summary>Every named assumption of the dataset (",
    );
    let _ = write!(
        page,
        "{})</summary><table><tr><th>id</th><th>value</th><th>unit</th><th>rationale</th></tr>",
        ds.assumptions.len()
    );
    for a in &ds.assumptions {
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.assumption_id),
            a.value.map_or(String::new(), |v| v.to_string()),
            esc(&a.unit),
            esc(&a.rationale)
        );
    }
    page.push_str("</table></details><p class=\"muted\">Made by Chokepoint from public data; every number of the dataset has a source (data/PROVENANCE.md).</p></body></html>\n");
    page
}

/// Money in millions of the model currency (USD), for people.
fn musd(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.is_finite() {
        format!("{} m", num(v / 1e6))
    } else {
        "–".into()
    }
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0))
}

/// "What the policies cost": every floor, collar, offtake and reserve of the scenario, valued
/// on the simulated paths and over stochastic price paths, with reserves' tonnes and the
/// projects the supports cover.
pub fn policies_section(f: &FinanceReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<h2>What the policies cost</h2><p class=\"muted\">{} to {} · money in millions of USD, present values at {:.1}% a year \
         (assumption finance_public_discount_rate) from the start of {}. Net cost = what the state pays less what it receives \
         (a reserve: less the value of the stock it still holds). The scenario path is the simulated market with every \
         instrument in force; the baseline path is the calm market; stochastic paths move the scenario's prices by a \
         geometric Brownian motion (GBM) or a mean-reverting factor estimated from the price history.</p>",
        esc(&f.from),
        esc(&f.to),
        f.public_rate * 100.0,
        esc(&f.from)
    );
    if f.instruments.is_empty() {
        s.push_str("<p>The scenario has no price floor, collar, offtake or reserve.</p>");
        return s;
    }
    s.push_str(
        "<table><tr><th>event</th><th>kind</th><th>good</th><th>producers / owner</th><th>terms</th>\
         <th>scenario path</th><th>baseline path</th><th>GBM mean</th><th>GBM P50</th><th>GBM P95</th>\
         <th>GBM worst</th><th>mean-reverting P95</th><th>risk draws mean</th></tr>",
    );
    for v in &f.instruments {
        let i = &v.instrument;
        let terms = match i.kind.as_str() {
            "stockpile" => format!(
                "buys below {}, releases above {}, holds up to {}",
                num(i.floor),
                num(i.ceiling.unwrap_or(f64::NAN)),
                num(i.volume.unwrap_or(f64::NAN))
            ),
            _ => {
                let mut t = format!("floor {}", num(i.floor));
                if let Some(c) = i.ceiling {
                    let _ = write!(
                        t,
                        ", ceiling {} ({:.0}% above to the state)",
                        num(c),
                        i.upside_share * 100.0
                    );
                }
                if let Some(vol) = i.volume {
                    let _ = write!(t, ", {} a year", num(vol));
                }
                t
            }
        };
        let regions = if i.regions.len() > 6 {
            format!("{} regions", i.regions.len())
        } else {
            i.regions.join(", ")
        };
        let by = |m: &str| v.draws.iter().find(|d| d.model == m);
        let cell = |d: Option<&crate::finance::instruments::DrawValue>,
                    g: fn(&crate::finance::instruments::DrawValue) -> f64| {
            d.map_or_else(|| "–".into(), |d| musd(g(d)))
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&i.event),
            esc(&i.kind),
            esc(&i.good),
            esc(&regions),
            esc(&terms),
            musd(v.scenario.net_cost),
            musd(v.baseline.net_cost),
            cell(by("gbm"), |d| d.net_cost.mean),
            cell(by("gbm"), |d| d.net_cost.p50),
            cell(by("gbm"), |d| d.net_cost.p95),
            cell(by("gbm"), |d| d.net_cost.max),
            cell(by("mean_reverting"), |d| d.net_cost.p95),
            cell(by("market"), |d| d.net_cost.mean),
        );
    }
    s.push_str("</table>");
    // Payments by year on the scenario path.
    s.push_str("<h3>Payments by year (scenario path, undiscounted)</h3><table><tr><th>event</th><th>year</th><th>paid by the state</th><th>received</th><th>volume covered / stock held</th><th>bought</th><th>released</th></tr>");
    for v in &f.instruments {
        for y in &v.scenario.years {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&v.instrument.event),
                y.year,
                musd(y.paid),
                musd(y.received),
                num(y.volume),
                num(y.bought),
                num(y.released)
            );
        }
    }
    s.push_str("</table>");
    // Producers.
    let supports: Vec<_> = f
        .instruments
        .iter()
        .filter(|v| v.instrument.kind != "stockpile")
        .collect();
    if !supports.is_empty() {
        s.push_str("<h3>Producers: revenue with and without the support</h3><table><tr><th>event</th><th>scenario path: market</th><th>with support</th><th>GBM: market mean</th><th>market P5 (downside)</th><th>market std</th><th>with support: mean</th><th>P5</th><th>std</th><th>run without it: revenue change</th><th>output change</th><th>price change</th></tr>");
        for v in supports {
            let g = v.draws.iter().find(|d| d.model == "gbm");
            let m = v.market_effect.as_ref();
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&v.instrument.event),
                musd(v.scenario.producer_market),
                musd(v.scenario.producer_with),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_market.mean)),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_market.p5)),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_market.std)),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_with.mean)),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_with.p5)),
                g.map_or_else(|| "–".into(), |d| musd(d.producer_with.std)),
                m.map_or_else(|| "–".into(), |m| musd(m.producer_market_change)),
                m.map_or_else(|| "–".into(), |m| num(m.covered_output_change)),
                m.map_or_else(
                    || "–".into(),
                    |m| format!("{:+.1}%", m.price_change * 100.0)
                ),
            );
        }
        s.push_str("</table>");
    }
    // Reserves.
    for v in f.instruments.iter().filter(|v| v.reserve.is_some()) {
        let Some(r) = &v.reserve else { continue };
        let periods: Vec<String> = v
            .scenario
            .quarters
            .iter()
            .map(|q| q.period.clone())
            .collect();
        let stock: Vec<Option<f64>> = v.scenario.quarters.iter().map(|q| Some(q.volume)).collect();
        let price: Vec<Option<f64>> = v.scenario.quarters.iter().map(|q| Some(q.price)).collect();
        let _ = write!(
            s,
            "<h3>Reserve {}: {} of {}</h3><p>Bought {}, released {} (of which {} while the good was shorter than in the baseline), \
             holding {} at the end.</p><div class=\"grid2\">{}{}</div>",
            esc(&v.instrument.event),
            esc(&v.instrument.regions.join(", ")),
            esc(&v.instrument.good),
            num(r.bought),
            num(r.released),
            num(r.released_in_shortfall),
            num(r.closing_stock),
            line_chart(
                "Stock held",
                "model units",
                &periods,
                &[("stock", "#2c7fb8", stock)]
            ),
            line_chart(
                "Price where it is held",
                "USD per unit",
                &periods,
                &[("price", "#c0392b", price)]
            ),
        );
        if !r.shortfall_removed.is_empty() {
            s.push_str("<table><tr><th>region</th><th>sector</th><th>good</th><th>shortfall removed (run without it − with it)</th></tr>");
            for c in r.shortfall_removed.iter().take(12) {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    esc(&c.region),
                    esc(&c.sector),
                    esc(&c.good),
                    num(c.removed)
                );
            }
            s.push_str("</table>");
        }
    }
    if !f.projects.is_empty() {
        let _ = write!(
            s,
            "<h3>Pipeline projects the supports cover</h3><p class=\"muted\">NPV at {:.0}% a year (assumption finance_project_discount_rate).</p>\
             <table><tr><th>project</th><th>good</th><th>region</th><th>capex</th><th>capex source</th><th>supported by</th>\
             <th>NPV without</th><th>NPV with</th><th>IRR without</th><th>IRR with</th></tr>",
            f.project_rate * 100.0
        );
        for p in &f.projects {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&p.name),
                esc(&p.good),
                esc(&p.region),
                musd(p.capex),
                esc(&p.capex_source),
                esc(&p.supported_by.join(", ")),
                musd(p.npv_without),
                musd(p.npv_with),
                rate(p.irr_without),
                rate(p.irr_with)
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h3>Price dynamics</h3><table><tr><th>good</th><th>GBM volatility</th><th>mean reversion κ</th><th>OU σ</th><th>estimated from</th></tr>");
    for (g, d) in &f.dynamics {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.1}%</td><td>{}</td></tr>",
            esc(g),
            d.vol * 100.0,
            d.kappa,
            d.sigma * 100.0,
            esc(&d.source)
        );
    }
    s.push_str("</table>");
    for n in &f.notes {
        let _ = write!(s, "<p class=\"muted\">{}</p>", esc(n));
    }
    s
}

/// `finance.html`: the policies section as a page of its own.
pub fn finance_page(f: &FinanceReport) -> String {
    let mut page = head(&format!("{}: what the policies cost", f.scenario));
    let _ = write!(page, "<h1>{}</h1>", esc(&f.scenario));
    page.push_str(&policies_section(f));
    page.push_str("<p class=\"muted\">Made by Chokepoint from public data.</p></body></html>\n");
    page
}

fn origin_list(o: &[(String, f64)]) -> String {
    o.iter()
        .take(5)
        .map(|(r, s)| format!("{} {:.0}%", esc(r), s * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Where the inputs come from": the header's `exposure` consumers traced stage by stage.
fn exposure_section(list: &[crate::exposure::Comparison]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<h2>Where the inputs come from</h2><p class=\"muted\">Proportional tracing through the cleared \
         flows (every unit leaving a region carries the region's average mix of origins), stage by stage \
         up the chain, in the run's last year. <i>untraced</i>: output not made from inputs in the model \
         (secondary supply, or output calibrated without a plant).</p>",
    );
    for c in list {
        let who = match &c.sector {
            Some(sec) => format!("{} {}", c.region, sec),
            None => c.region.clone(),
        };
        if let Some(e) = &c.error {
            let _ = write!(s, "<p>{}: {}</p>", esc(&who), esc(e));
            continue;
        }
        for (k, t) in c.baseline.iter().enumerate() {
            let sc = c.scenario.get(k);
            let _ = write!(
                s,
                "<h3>{}: {} ({} {}, baseline; {} scenario)</h3><table><tr><th>stage</th><th>baseline quantity</th>\
                 <th>baseline origins</th><th>scenario quantity</th><th>scenario origins</th></tr>",
                esc(&who),
                esc(&t.good),
                num(t.quantity),
                c.year,
                sc.map_or_else(|| "–".into(), |x| num(x.quantity)),
            );
            for (i, st) in t.stages.iter().enumerate() {
                let other = sc.and_then(|x| x.stages.get(i));
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    esc(&st.good),
                    num(st.quantity),
                    origin_list(&st.origins),
                    other.map_or_else(|| "–".into(), |o| num(o.quantity)),
                    other.map_or_else(String::new, |o| origin_list(&o.origins)),
                );
            }
            s.push_str("</table>");
        }
    }
    s
}

/// "Companies": revenue over the run from the assets each owns, baseline against scenario.
fn companies_section(list: &[crate::companies::CompanyLine]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<h2>Companies</h2><p class=\"muted\">Revenue over the run from the assets each company owns \
         (model/companies.csv): each asset makes its share of its region's output of the good (attributable \
         capacity over the base-year output) at the region's price. Projects not yet producing are not counted.</p>\
         <table><tr><th>company</th><th>ticker</th><th>baseline revenue</th><th>scenario revenue</th><th>change</th>\
         <th>assets counted</th></tr>",
    );
    let mut sorted: Vec<&crate::companies::CompanyLine> = list.iter().collect();
    sorted.sort_by(|a, b| a.change.total_cmp(&b.change));
    for c in sorted {
        let counted: Vec<String> = c
            .assets
            .iter()
            .filter(|a| a.share.is_some())
            .map(|a| {
                let change = if a.baseline_volume > 0.0 {
                    format!(
                        " {:+.1}% volume",
                        (a.scenario_volume / a.baseline_volume - 1.0) * 100.0
                    )
                } else {
                    String::new()
                };
                format!(
                    "{} ({}, {}{})",
                    esc(&a.asset),
                    esc(&a.good),
                    esc(&a.region),
                    change
                )
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:+.1}%</td><td>{}</td></tr>",
            esc(&c.company),
            esc(&c.ticker),
            musd(c.baseline_revenue),
            musd(c.scenario_revenue),
            c.change * 100.0,
            counted.join("; ")
        );
    }
    s.push_str("</table>");
    s
}

/// "Criticality": EU-method supply risk on the model's flows, baseline against scenario.
fn criticality_section(c: &crate::criticality::Comparison) -> String {
    let mut s = format!(
        "<h2>Criticality ({} method, {})</h2><p class=\"muted\">Supply risk by the EU JRC formulas on the model's \
         flows of {} (concentration of global supply and of the jurisdiction's sourcing, WGI-weighted with trade factors, \
         import reliance), with the EU 2023 recycling rates, substitution indices and economic importance \
         (model/criticality_eu.csv). Critical: SR ≥ 1 and EI ≥ 2.8 after rounding. When the jurisdiction sources \
         nothing in the year, only the global term counts (the method's fallback).</p>\
         <table><tr><th>material</th><th>bottleneck</th><th>SR baseline</th><th>SR scenario</th><th>SR EU 2023</th>\
         <th>EI</th><th>critical (baseline → scenario)</th><th>largest source (baseline → scenario)</th></tr>",
        esc(&c.jurisdiction),
        c.year,
        c.year
    );
    let yes = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    };
    let top = |m: &crate::criticality::MaterialScore| {
        m.stages
            .iter()
            .find(|x| x.stage == m.bottleneck)
            .and_then(|x| x.sourcing.first())
            .map_or_else(
                || "–".to_string(),
                |(r, v)| format!("{} {:.0}%", esc(r), v * 100.0),
            )
    };
    for b in &c.baseline {
        let sc = c.scenario.iter().find(|x| x.material == b.material);
        let published = b
            .stages
            .iter()
            .filter_map(|x| x.sr_published)
            .fold(f64::NAN, f64::max);
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{} → {}</td><td>{} → {}</td></tr>",
            esc(&b.material),
            esc(&b.bottleneck),
            b.sr,
            sc.map_or_else(|| "–".into(), |x| format!("{:.1}", x.sr)),
            if published.is_finite() {
                format!("{published:.1}")
            } else {
                "–".into()
            },
            b.ei.map_or_else(|| "–".into(), |e| format!("{e:.1}")),
            yes(b.critical),
            sc.map_or("–", |x| yes(x.critical)),
            top(b),
            sc.map_or_else(|| "–".into(), top),
        );
    }
    s.push_str("</table>");
    s
}

/// "Criticality (USGS method)": supply risk of the USA's materials, baseline against scenario.
fn usgs_section(c: &crate::criticality::usgs::UsgsComparison) -> String {
    let mut s = format!(
        "<h2>Criticality (USGS method, {}, {})</h2><p class=\"muted\">Supply risk SR = (DP·TE·EV)^{:.3}: \
         disruption potential from world output and producers' governance, trade exposure from the published net \
         import reliance moved by the model's change, economic vulnerability from what the jurisdiction's industries \
         spend on the material against their operating surplus (model/industry_accounts.csv). On the list: SR ≥ {:.2} \
         after rounding. Published: the 2022 list's 2015–2018 score.</p>\
         <table><tr><th>material</th><th>bottleneck</th><th>DP</th><th>TE baseline → scenario</th>\
         <th>EV baseline → scenario</th><th>SR baseline</th><th>SR scenario</th><th>SR published</th>\
         <th>on the list (baseline → scenario)</th></tr>",
        esc(&c.jurisdiction),
        c.year,
        c.exponent,
        c.threshold
    );
    let f = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2}"));
    let yes = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    };
    for b in &c.baseline {
        let sc = c
            .scenario
            .iter()
            .flatten()
            .find(|x| x.material == b.material);
        let stage = |m: &crate::criticality::usgs::UsgsScore| {
            m.stages.iter().find(|x| x.stage == b.bottleneck).cloned()
        };
        let (bs, ss) = (stage(b), sc.and_then(stage));
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} → {}</td>\
             <td class=\"n\">{} → {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td>{} → {}</td></tr>",
            esc(&b.material),
            esc(&b.bottleneck),
            f(bs.as_ref().map(|x| x.dp)),
            f(bs.as_ref().map(|x| x.te)),
            f(ss.as_ref().map(|x| x.te)),
            f(bs.as_ref().map(|x| x.ev)),
            f(ss.as_ref().map(|x| x.ev)),
            f(b.sr),
            f(sc.and_then(|x| x.sr)),
            f(b.sr_published),
            yes(b.critical),
            sc.map_or("–", |x| yes(x.critical)),
        );
    }
    s.push_str("</table>");
    let unscored: Vec<String> = c
        .baseline
        .iter()
        .filter_map(|m| {
            m.note
                .as_ref()
                .map(|n| format!("{}: {}", esc(&m.material), esc(n)))
        })
        .collect();
    if !unscored.is_empty() {
        let _ = write!(s, "<p class=\"muted\">{}</p>", unscored.join("<br>"));
    }
    s
}
