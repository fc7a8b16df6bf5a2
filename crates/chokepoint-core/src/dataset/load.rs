//! Reading the tables: CSV text to rows, every problem located at file:line:col.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Location, field_column};

use super::tables::Table;

/// The text of one table and the name to show in diagnostics.
pub(crate) struct TableText<'a> {
    /// File name as shown to the user.
    pub shown: String,
    /// The CSV text.
    pub text: &'a str,
}

impl TableText<'_> {
    /// Location of field `field` (0-based) on 1-based `line`.
    pub fn locate(&self, line: u32, field: usize) -> Location {
        let text_line = self
            .text
            .lines()
            .nth(line.saturating_sub(1) as usize)
            .unwrap_or("");
        Location {
            file: self.shown.clone(),
            line,
            col: field_column(text_line, field),
        }
    }
}

/// Shown name of a table inside a data folder.
pub(crate) fn shown_name(dir: Option<&Path>, file: &str) -> String {
    match dir {
        Some(dir) => dir.join(file).display().to_string(),
        None => format!("<embedded>/{file}"),
    }
}

/// Parses one table; rows that cannot be read are reported and skipped.
pub(crate) fn parse_table<T: Table>(text: &TableText<'_>, diags: &mut Vec<Diagnostic>) -> Vec<T> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.text.as_bytes());
    let expected = T::COLUMNS.join(",");
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            diags.push(Diagnostic {
                location: text.locate(1, 0),
                message: format!("cannot read the header: {e}"),
                hint: format!("the first line must be: {expected}"),
            });
            return Vec::new();
        }
    };
    let found: Vec<&str> = headers.iter().collect();
    if found != T::COLUMNS {
        let field = found
            .iter()
            .zip(T::COLUMNS)
            .position(|(a, b)| a != b)
            .unwrap_or(found.len().min(T::COLUMNS.len()));
        let what = match (found.get(field), T::COLUMNS.get(field)) {
            (Some(f), Some(e)) => format!("header column {} is '{f}', expected '{e}'", field + 1),
            (None, Some(e)) => format!("header is missing column '{e}'"),
            (Some(f), None) => format!("header has an extra column '{f}'"),
            (None, None) => "header differs".to_string(),
        };
        diags.push(Diagnostic {
            location: text.locate(1, field),
            message: what,
            hint: format!("the first line must be: {expected}"),
        });
        return Vec::new();
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as u32);
                diags.push(Diagnostic {
                    location: text.locate(line, 0),
                    message: format!("cannot read this row: {}", csv_reason(&e)),
                    hint: format!(
                        "each row needs {} comma-separated fields: {expected}",
                        T::COLUMNS.len()
                    ),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as u32);
        match record.deserialize::<T>(Some(&headers)) {
            Ok(mut row) => {
                row.set_line(line);
                rows.push(row);
            }
            Err(e) => {
                let (field, reason) = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => {
                        (err.field().unwrap_or(0) as usize, err.kind().to_string())
                    }
                    _ => (0, e.to_string()),
                };
                let column = T::COLUMNS.get(field).copied().unwrap_or("?");
                let cell = record.get(field).unwrap_or("");
                diags.push(Diagnostic {
                    location: text.locate(line, field),
                    message: format!("column '{column}' has '{cell}': {reason}"),
                    hint: hint_for_column(column),
                });
            }
        }
    }
    rows
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    }
}

/// What a column expects, for hints.
pub(crate) fn hint_for_column(column: &str) -> String {
    match column {
        "status" => {
            "status is one of reported, estimated, zero, withheld, na, lt, gt, text".to_string()
        }
        "entity_kind" => {
            "entity_kind is one of country, world, other, row, group, company".to_string()
        }
        "metric" => "metric is one of production, capacity, reserves, top3_share".to_string(),
        "case" => "case is one of actual, estimated, projection_base_case".to_string(),
        "year" => "year is a whole number such as 2024".to_string(),
        "aggregate" => "aggregate is true or false".to_string(),
        "value" | "to_base" | "priority" | "order" | "leading_prod" | "leading_pct"
        | "world_prod" | "va" | "pv" | "ge" | "rq" | "rl" | "cc" => format!(
            "{column} is a plain number such as 1234.5 (no thousands separators); leave it empty \
             and set status for withheld or missing figures"
        ),
        _ => format!("check the value of column '{column}' (see data/SCHEMA.md)"),
    }
}
