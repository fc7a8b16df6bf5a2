//! Printing: tables for people, JSON for programs, errors to stderr.

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

use crate::CliError;

/// Writes to stdout. A closed pipe (`chokepoint data audit | head`) ends the program quietly,
/// as a Unix tool should, instead of panicking like `println!`.
pub(crate) fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write output: {e}");
        std::process::exit(3);
    }
}

/// `println!` for data on stdout, through [`emit`].
macro_rules! outln {
    () => { $crate::output::emit(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::emit(format_args!($($arg)*)) };
}
pub(crate) use outln;

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)?;
    outln!("{text}");
    Ok(())
}

/// A table with a header, sized to the terminal.
pub(crate) fn table<I: IntoIterator<Item = &'static str>>(header: I) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    // Off a terminal (a pipe, a file) wrap long cells at a readable width instead of never.
    if t.width().is_none() {
        t.set_width(DEFAULT_WIDTH);
    }
    t
}

/// Table width when stdout is not a terminal (characters).
const DEFAULT_WIDTH: u16 = 160;

/// A number as written in the data: integers without separators or decimals.
pub(crate) fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A quantity with thousands separators and at most three significant decimals.
pub(crate) fn qty(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    // Solver noise below what four decimals show is zero to a reader.
    if v.abs() < 5e-5 {
        return "0".to_string();
    }
    let decimals = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 1.0 {
        2
    } else {
        4
    };
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A fraction as a percent with one decimal.
pub(crate) fn pct(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Prints an error to stderr (as JSON with `--json`).
pub(crate) fn print_error(err: &CliError, json: bool) {
    if json {
        let value = match err {
            CliError::Dataset(e) => serde_json::json!({
                "error": "invalid_dataset",
                "diagnostics": e.diagnostics,
            }),
            CliError::Market(e) => serde_json::json!({
                "error": "invalid_market",
                "diagnostics": e
                    .diagnostics
                    .iter()
                    .map(|d| serde_json::json!({
                        "file": e.file,
                        "line": d.line,
                        "col": d.col,
                        "message": d.message,
                        "hint": d.hint,
                    }))
                    .collect::<Vec<_>>(),
            }),
            CliError::Scenario(e) => serde_json::json!({
                "error": "invalid_scenario",
                "diagnostics": e.diagnostics,
            }),
            CliError::User(msg) => serde_json::json!({"error": "invalid_request", "message": msg}),
            CliError::Other(e) => {
                serde_json::json!({"error": "failed", "message": format!("{e:#}")})
            }
        };
        eprintln!("{value}");
        return;
    }
    match err {
        CliError::Dataset(e) => eprint!("error: {e}"),
        CliError::Market(e) => {
            eprintln!("{e}");
            eprintln!(
                "error: {} problem(s) in market file {}",
                e.diagnostics.len(),
                e.file
            );
        }
        CliError::Scenario(e) => {
            eprintln!("{e}");
            eprintln!("error: {} problem(s) in the scenario", e.diagnostics.len());
        }
        CliError::User(msg) => eprintln!("error: {msg}"),
        CliError::Other(e) => eprintln!("error: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_grouped() {
        assert_eq!(qty(220000.0), "220,000");
        assert_eq!(qty(1234567.4), "1,234,567");
        assert_eq!(qty(12.345), "12.35");
        assert_eq!(qty(-1500.0), "-1,500");
        assert_eq!(qty(0.5), "0.5000");
    }
}
