//! Finding commodities, stages, countries and sources by the names users type.

use std::fmt;

use crate::diagnostic::nearest;

use super::Dataset;
use super::tables::{Commodity, Country, Stage};

/// A name the dataset does not know, with the nearest known names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// No such commodity, stage, country, year, source ...
    Unknown {
        /// What kind of thing was asked for.
        kind: &'static str,
        /// What the user typed.
        wanted: String,
        /// The nearest known names, best first.
        suggestions: Vec<String>,
        /// Every known name (shown when short).
        known: Vec<String>,
    },
    /// The thing exists but carries no number.
    NotNumeric {
        /// What it is.
        what: String,
    },
}

impl LookupError {
    /// An unknown name, with the nearest of `known` as suggestions.
    pub fn unknown<'a>(
        kind: &'static str,
        wanted: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut known: Vec<&str> = known.into_iter().collect();
        known.sort_unstable();
        known.dedup();
        LookupError::Unknown {
            kind,
            wanted: wanted.to_string(),
            suggestions: nearest(wanted, known.iter().copied())
                .into_iter()
                .map(str::to_string)
                .collect(),
            known: known.into_iter().map(str::to_string).collect(),
        }
    }

    /// The hint part of the message.
    pub fn hint(&self) -> String {
        match self {
            LookupError::Unknown {
                kind,
                suggestions,
                known,
                ..
            } => {
                const SHOWN: usize = 40;
                let mut hint = String::new();
                if !suggestions.is_empty() {
                    hint.push_str(&format!("did you mean '{}'? ", suggestions.join("' or '")));
                }
                if known.len() <= SHOWN {
                    hint.push_str(&format!("known {kind}s: {}", known.join(", ")));
                } else {
                    hint.push_str(&format!(
                        "{} {kind} names are known; `chokepoint data list` shows them",
                        known.len()
                    ));
                }
                hint
            }
            LookupError::NotNumeric { .. } => {
                "give it a number in data/assumptions.csv".to_string()
            }
        }
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Unknown { kind, wanted, .. } => {
                write!(f, "unknown {kind} '{wanted}'\n  hint: {}", self.hint())
            }
            LookupError::NotNumeric { what } => {
                write!(f, "{what} has no numeric value\n  hint: {}", self.hint())
            }
        }
    }
}

impl std::error::Error for LookupError {}

/// Lower case with every run of non-alphanumerics turned into one underscore.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl Dataset {
    /// A commodity by id, name, or USGS/IEA name, ignoring case and punctuation
    /// (`rare-earths`, `Rare earths`, `rare_earths`).
    pub fn commodity(&self, query: &str) -> Result<&Commodity, LookupError> {
        if let Some(&i) = self.index.commodity.get(query) {
            return Ok(&self.commodities[i]);
        }
        let q = normalise(query);
        let hit = self.commodities.iter().find(|c| {
            normalise(&c.commodity_id) == q
                || normalise(&c.name) == q
                || (!c.usgs_name.is_empty() && normalise(&c.usgs_name) == q)
                || (!c.iea_name.is_empty() && normalise(&c.iea_name) == q)
        });
        hit.ok_or_else(|| {
            LookupError::unknown(
                "commodity",
                query,
                self.commodities.iter().map(|c| c.commodity_id.as_str()),
            )
        })
    }

    /// A stage of a commodity by id or name.
    pub fn stage(&self, commodity_id: &str, query: &str) -> Result<&Stage, LookupError> {
        let stages = self.stages_of(commodity_id);
        let q = normalise(query);
        stages
            .iter()
            .find(|s| s.stage_id == query || normalise(&s.stage_id) == q || normalise(&s.name) == q)
            .copied()
            .ok_or_else(|| {
                LookupError::unknown("stage", query, stages.iter().map(|s| s.stage_id.as_str()))
            })
    }

    /// A country by ISO alpha-3 or alpha-2 code, name, or any spelling in the sources.
    pub fn resolve_country(&self, query: &str) -> Result<&Country, LookupError> {
        let upper = query.trim().to_uppercase();
        if let Some(c) = self.country(&upper) {
            return Ok(c);
        }
        if let Some(c) = self.countries.iter().find(|c| c.iso2 == upper) {
            return Ok(c);
        }
        let q = normalise(query);
        if let Some(c) = self.countries.iter().find(|c| normalise(&c.name) == q) {
            return Ok(c);
        }
        if let Some(c) = self
            .index
            .alias
            .get(&query.trim().to_lowercase())
            .and_then(|&i| self.country(&self.country_aliases[i].entity))
        {
            return Ok(c);
        }
        Err(LookupError::unknown(
            "country",
            query,
            self.countries
                .iter()
                .flat_map(|c| [c.iso3.as_str(), c.name.as_str()]),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn normalise_ignores_case_and_punctuation() {
        assert_eq!(normalise(" Rare-earths "), "rare_earths");
        assert_eq!(normalise("Platinum-Group metals"), "platinum_group_metals");
    }
}
