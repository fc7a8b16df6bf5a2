//! Model regions: which countries each region of the world model holds, from the membership
//! rules of `model/regions.csv`. The aggregation is data: split or merge regions by editing the
//! rules and rerun.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::dataset::Dataset;
use crate::diagnostic::nearest;

/// A problem with one row's membership rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Line of the row in `model/regions.csv`.
    pub line: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// One region of the world model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Region id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Member countries (ISO alpha-3), sorted.
    pub members: Vec<String>,
}

/// The assignment of every country to exactly one model region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionMap {
    /// Regions in file order.
    pub regions: Vec<Region>,
    #[serde(skip)]
    of_country: HashMap<String, usize>,
    /// Index of the `*` region, if there is one (always the last region).
    #[serde(skip)]
    rest: Option<usize>,
}

impl RegionMap {
    /// Builds the map from the dataset's `model/regions.csv` (valid in a loaded dataset).
    pub fn from_dataset(ds: &Dataset) -> Result<Self, Vec<RuleError>> {
        assign(ds)
    }

    /// Index of the region holding a country.
    pub fn region_of(&self, iso3: &str) -> Option<usize> {
        self.of_country.get(iso3).copied()
    }

    /// Index of a place named in a model table: a model region id, or an ISO3 country (its
    /// region), so tables that name countries survive any merge or split of the regions.
    pub fn resolve(&self, id: &str) -> Option<usize> {
        self.regions
            .iter()
            .position(|r| r.id == id)
            .or_else(|| self.region_of(id))
    }

    /// Index of the region that takes every country no other row names (`*`), if any.
    pub fn rest(&self) -> Option<usize> {
        self.rest
    }
}

enum Token<'a> {
    Country(&'a str),
    Group(&'a str),
    Exclude(&'a str),
    Rest,
}

fn tokens(rule: &str) -> impl Iterator<Item = Token<'_>> {
    rule.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t == "*" {
                Token::Rest
            } else if let Some(g) = t.strip_prefix("group:") {
                Token::Group(g.trim())
            } else if let Some(c) = t.strip_prefix('-') {
                Token::Exclude(c.trim())
            } else {
                Token::Country(t)
            }
        })
}

/// Applies the rules: explicit members first (a country may be named by one row only), then
/// the `*` row takes every country left.
fn assign(ds: &Dataset) -> Result<RegionMap, Vec<RuleError>> {
    let groups = ds.group_members();
    let mut errors = Vec::new();
    let mut of_country: HashMap<String, usize> = HashMap::new();
    let mut first_line: HashMap<String, u32> = HashMap::new();
    let mut rest_row: Option<usize> = None;
    let known = |iso: &str| ds.country(iso).is_some();
    let suggest = |iso: &str| {
        let s = nearest(iso, ds.countries.iter().map(|c| c.iso3.as_str()));
        if s.is_empty() {
            "use ISO 3166-1 alpha-3 codes of data/countries.csv".to_string()
        } else {
            format!("did you mean '{}'?", s.join("' or '"))
        }
    };
    for (idx, row) in ds.model_regions.iter().enumerate() {
        let mut include: Vec<String> = Vec::new();
        let mut exclude: Vec<String> = Vec::new();
        for token in tokens(&row.members) {
            match token {
                Token::Rest => {
                    if let Some(other) = rest_row {
                        errors.push(RuleError {
                            line: row.line,
                            message: format!(
                                "a second '*' row (the first is region {})",
                                ds.model_regions[other].region_id
                            ),
                            hint: "only one region can take the rest of the world".into(),
                        });
                    }
                    rest_row = Some(idx);
                }
                Token::Group(g) => match groups.get(g) {
                    Some((_, members)) => include.extend(members.iter().map(|m| m.to_string())),
                    None => errors.push(RuleError {
                        line: row.line,
                        message: format!("unknown country group '{g}'"),
                        hint: format!(
                            "known groups: {}",
                            groups.keys().copied().collect::<Vec<_>>().join(", ")
                        ),
                    }),
                },
                Token::Exclude(c) | Token::Country(c) if !known(c) => errors.push(RuleError {
                    line: row.line,
                    message: format!("unknown country '{c}'"),
                    hint: suggest(c),
                }),
                Token::Exclude(c) => exclude.push(c.to_string()),
                Token::Country(c) => include.push(c.to_string()),
            }
        }
        include.retain(|c| !exclude.contains(c));
        include.sort();
        include.dedup();
        for c in include {
            if let Some(&other) = of_country.get(&c) {
                errors.push(RuleError {
                    line: row.line,
                    message: format!(
                        "{c} is already in region {} (line {})",
                        ds.model_regions[other].region_id, first_line[&c]
                    ),
                    hint: "a country belongs to one region: remove it here or there, or \
                           exclude it with -ISO"
                        .into(),
                });
            } else {
                of_country.insert(c.clone(), idx);
                first_line.insert(c, row.line);
            }
        }
    }
    let unassigned: Vec<&str> = ds
        .countries
        .iter()
        .map(|c| c.iso3.as_str())
        .filter(|c| !of_country.contains_key(*c))
        .collect();
    match rest_row {
        Some(idx) => {
            for c in unassigned {
                of_country.insert(c.to_string(), idx);
            }
        }
        None if !unassigned.is_empty() => errors.push(RuleError {
            line: ds.model_regions.last().map_or(1, |r| r.line),
            message: format!(
                "{} countries are in no region (e.g. {})",
                unassigned.len(),
                unassigned
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "add a last row whose members are '*' (rest of world)".into(),
        }),
        None => {}
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut members: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (c, &idx) in &of_country {
        members.entry(idx).or_default().push(c.clone());
    }
    let regions = ds
        .model_regions
        .iter()
        .enumerate()
        .map(|(idx, row)| {
            let mut m = members.remove(&idx).unwrap_or_default();
            m.sort();
            Region {
                id: row.region_id.clone(),
                name: row.name.clone(),
                members: m,
            }
        })
        .collect();
    let mut map = RegionMap {
        regions,
        of_country,
        rest: None,
    };
    // Keep `rest()` meaningful whatever the row order: the rest region is the `*` row.
    if let Some(idx) = rest_row {
        let rest = map.regions.remove(idx);
        let last = map.regions.len();
        map.regions.push(rest);
        for v in map.of_country.values_mut() {
            if *v == idx {
                *v = last;
            } else if *v > idx {
                *v -= 1;
            }
        }
        map.rest = Some(last);
    }
    Ok(map)
}
