//! Parquet output of the baseline's rows (schema in the README).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use chokepoint_core::world::baseline::PeriodRow;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// The columns of `baseline.parquet`: one row per quarter, region and good.
const COLUMNS: &str = "
  REQUIRED BYTE_ARRAY period (UTF8);
  REQUIRED BYTE_ARRAY region (UTF8);
  REQUIRED BYTE_ARRAY good (UTF8);
  OPTIONAL DOUBLE price;
  REQUIRED DOUBLE production;
  REQUIRED DOUBLE consumption;
  REQUIRED DOUBLE imports;
  REQUIRED DOUBLE exports;
  REQUIRED DOUBLE stock_change;
  REQUIRED DOUBLE inventory;
  REQUIRED DOUBLE shortfall;
";

/// Writes the rows as one Snappy-compressed row group.
pub(crate) fn write_baseline(path: &Path, rows: &[PeriodRow]) -> Result<(), ParquetError> {
    let rows: Vec<&PeriodRow> = rows.iter().collect();
    write_rows(path, None, &rows)
}

/// Writes rows of several runs (`results.parquet`): a leading `run` column names each row's
/// run (`baseline`, `scenario`), then the columns of `baseline.parquet`.
pub(crate) fn write_runs(path: &Path, runs: &[(&str, &[PeriodRow])]) -> Result<(), ParquetError> {
    let labels: Vec<&str> = runs
        .iter()
        .flat_map(|(name, rows)| std::iter::repeat_n(*name, rows.len()))
        .collect();
    let rows: Vec<&PeriodRow> = runs.iter().flat_map(|(_, rows)| rows.iter()).collect();
    write_rows(path, Some(&labels), &rows)
}

fn write_rows(path: &Path, runs: Option<&[&str]>, rows: &[&PeriodRow]) -> Result<(), ParquetError> {
    let message = match runs {
        Some(_) => format!("message results {{ REQUIRED BYTE_ARRAY run (UTF8); {COLUMNS} }}"),
        None => format!("message baseline {{ {COLUMNS} }}"),
    };
    let schema = Arc::new(parse_message_type(&message)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = File::create(path).map_err(|e| ParquetError::External(Box::new(e)))?;
    let mut writer = SerializedFileWriter::new(file, schema, props)?;
    let mut group = writer.next_row_group()?;
    let text = |f: fn(&PeriodRow) -> &str| -> Vec<ByteArray> {
        rows.iter().map(|r| ByteArray::from(f(r))).collect()
    };
    let number = |f: fn(&PeriodRow) -> f64| -> Vec<f64> { rows.iter().map(|r| f(r)).collect() };
    if let Some(labels) = runs
        && let Some(mut col) = group.next_column()?
    {
        let values: Vec<ByteArray> = labels.iter().map(|l| ByteArray::from(*l)).collect();
        col.typed::<ByteArrayType>()
            .write_batch(&values, None, None)?;
        col.close()?;
    }
    let mut column = 0;
    while let Some(mut col) = group.next_column()? {
        match column {
            0 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(|r| &r.period), None, None)?,
            1 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(|r| &r.region), None, None)?,
            2 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(|r| &r.good), None, None)?,
            3 => {
                let values: Vec<f64> = rows.iter().filter_map(|r| r.price).collect();
                let defined: Vec<i16> = rows.iter().map(|r| i16::from(r.price.is_some())).collect();
                col.typed::<DoubleType>()
                    .write_batch(&values, Some(&defined), None)?
            }
            4 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.production), None, None)?,
            5 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.consumption), None, None)?,
            6 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.imports), None, None)?,
            7 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.exports), None, None)?,
            8 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.stock_change), None, None)?,
            9 => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.inventory), None, None)?,
            _ => col
                .typed::<DoubleType>()
                .write_batch(&number(|r| r.shortfall), None, None)?,
        };
        col.close()?;
        column += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}
