//! What a number in the dataset is: a plain figure, a bound, or one of the reasons it is missing.

use serde::{Deserialize, Serialize};

/// How the source gave a value. A value the source does not give as a plain number is never
/// read as zero: it keeps its status (and the table keeps the original cell in `raw_value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A plain number as published.
    Reported,
    /// A number the source marks as an estimate.
    Estimated,
    /// The source says none (`—`, `0`).
    Zero,
    /// `W`: withheld by the source to avoid disclosing company data.
    Withheld,
    /// Not available (`NA`, `..`, `…`, an empty cell where a number was expected).
    Na,
    /// An upper bound (`<25`); the value is the bound.
    Lt,
    /// A lower bound (`>75`); the value is the bound.
    Gt,
    /// A word instead of a number (`Large`, `E` = net exporter).
    Text,
}

impl Status {
    /// Whether rows with this status carry a number in `value`.
    pub fn has_value(self) -> bool {
        matches!(
            self,
            Status::Reported | Status::Estimated | Status::Zero | Status::Lt | Status::Gt
        )
    }

    /// Whether the value is an exact figure (not a bound, not missing).
    pub fn is_exact(self) -> bool {
        matches!(self, Status::Reported | Status::Estimated | Status::Zero)
    }

    /// The snake-case name used in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Estimated => "estimated",
            Status::Zero => "zero",
            Status::Withheld => "withheld",
            Status::Na => "na",
            Status::Lt => "lt",
            Status::Gt => "gt",
            Status::Text => "text",
        }
    }
}

/// A figure together with its status, as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", content = "value", rename_all = "snake_case")]
pub enum Figure {
    /// An exact number (reported, estimated or zero).
    Exact(f64),
    /// At most this much.
    AtMost(f64),
    /// At least this much.
    AtLeast(f64),
    /// Withheld by the source.
    Withheld,
    /// Not available, or a word instead of a number.
    Missing,
}

impl Figure {
    /// Builds the figure of a row from its status and optional value.
    pub fn new(status: Status, value: Option<f64>) -> Self {
        match (status, value) {
            (Status::Reported | Status::Estimated | Status::Zero, Some(v)) => Figure::Exact(v),
            (Status::Lt, Some(v)) => Figure::AtMost(v),
            (Status::Gt, Some(v)) => Figure::AtLeast(v),
            (Status::Withheld, _) => Figure::Withheld,
            _ => Figure::Missing,
        }
    }

    /// The exact number, if there is one.
    pub fn exact(self) -> Option<f64> {
        match self {
            Figure::Exact(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_is_never_a_number() {
        assert_eq!(Figure::new(Status::Withheld, None), Figure::Withheld);
        assert_eq!(Figure::new(Status::Withheld, None).exact(), None);
        assert!(!Status::Withheld.has_value());
    }

    #[test]
    fn bounds_are_not_exact() {
        assert_eq!(Figure::new(Status::Gt, Some(75.0)), Figure::AtLeast(75.0));
        assert_eq!(Figure::new(Status::Lt, Some(25.0)).exact(), None);
        assert!(Status::Lt.has_value() && !Status::Lt.is_exact());
    }
}
