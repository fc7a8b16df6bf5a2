//! `chokepoint concentration COMMODITY [--stage S] [--year Y] [--source ID] [--metric M]`.

use chokepoint_core::Dataset;
use chokepoint_core::dataset::tables::Metric;
use chokepoint_core::dataset::value::Figure;
use chokepoint_core::metrics::concentration::{
    Concentration, ConcentrationError, ConcentrationQuery, concentration,
};

use crate::CliError;
use crate::output::{outln, pct, print_json, qty, table};

/// Which figure to measure concentration on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum MetricArg {
    /// Output in the year.
    Production,
    /// Production capacity.
    Capacity,
    /// Economic reserves.
    Reserves,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::Production => Metric::Production,
            MetricArg::Capacity => Metric::Capacity,
            MetricArg::Reserves => Metric::Reserves,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Commodity id or name (`cobalt`, `rare_earths`, "Rare earths").
    commodity: String,
    /// Stage (`mining`, `refining`, ...); default: mining, else the most upstream with data.
    #[arg(long)]
    stage: Option<String>,
    /// Data year; default: 2024 (assumption `default_year`) or the latest with data.
    #[arg(long)]
    year: Option<i32>,
    /// Source id (see `chokepoint data list sources`); default: the highest-priority source.
    #[arg(long)]
    source: Option<String>,
    /// What to measure.
    #[arg(long, value_enum, default_value = "production")]
    metric: MetricArg,
}

/// Turns a core error into the CLI's user error.
pub(crate) fn user_error(e: ConcentrationError) -> CliError {
    CliError::User(e.to_string())
}

impl Args {
    /// The query these arguments describe.
    pub(crate) fn query(&self) -> ConcentrationQuery {
        ConcentrationQuery {
            commodity: self.commodity.clone(),
            stage: self.stage.clone(),
            year: self.year,
            source: self.source.clone(),
            metric: self.metric.into(),
        }
    }
}

pub(crate) fn run(ds: &Dataset, args: &Args, json: bool) -> Result<(), CliError> {
    let c = concentration(ds, &args.query()).map_err(user_error)?;
    if json {
        return print_json(&c);
    }
    print_human(&c);
    Ok(())
}

fn print_human(c: &Concentration) {
    outln!(
        "{} — {} {} {} ({})",
        c.commodity_name,
        c.stage,
        c.metric.as_str(),
        c.year,
        c.unit
    );
    outln!("source: {} [{}]", c.source, c.source_id);
    outln!(
        "world total: {} {} ({})",
        qty(c.world_total),
        c.unit,
        c.world_basis.replace('_', " ")
    );
    if let Some((iso, share)) = &c.top1 {
        outln!(
            "top-1: {iso} {}   top-3: {}",
            pct(*share),
            pct(c.top3_share)
        );
    }
    if let Some(p) = c.published_top3_share {
        outln!("top-3 as published by the source: {}", pct(p));
    }
    outln!(
        "HHI: {:.0}   WGI-weighted HHI (EU JRC, 0–10): {:.2} (WGI {})",
        c.hhi,
        c.hhi_wgi,
        c.wgi_year
    );
    let mut t = table(["#", "country", "name", "quantity", "share", "WGI 0–10"]);
    for (i, row) in c.countries.iter().enumerate() {
        let quantity = match row.quantity {
            Figure::Exact(v) => qty(v),
            Figure::AtMost(v) => format!("< {}", qty(v)),
            Figure::AtLeast(v) => format!("> {}", qty(v)),
            Figure::Withheld => "withheld".to_string(),
            Figure::Missing => "n/a".to_string(),
        };
        t.add_row(vec![
            (i + 1).to_string(),
            row.iso3.clone(),
            row.name.clone(),
            quantity,
            row.share.map_or("—".into(), pct),
            row.wgi_scaled.map_or("—".into(), |w| format!("{w:.2}")),
        ]);
    }
    if c.residual_share > 0.0 {
        t.add_row(vec![
            String::new(),
            "OTHER".into(),
            "other countries (residual)".into(),
            qty(c.residual_share * c.world_total),
            pct(c.residual_share),
            String::new(),
        ]);
    }
    outln!("{t}");
    for note in &c.notes {
        outln!("note: {note}");
    }
}
