//! The dataset: every table of `data/`, embedded in the binary or loaded from a folder, validated.
//!
//! Loading never stops at the first problem: every row is read, every reference is checked, and
//! all problems come back together as located [`Diagnostic`]s.

mod embedded;
mod load;
mod lookup;
pub mod tables;
mod validate;
pub mod value;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Location};

pub use embedded::EMBEDDED_FILES;
use load::{TableText, parse_table, shown_name};
pub use lookup::LookupError;
use tables::*;

/// Where a dataset was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the binary from the repository's `data/`.
    Embedded,
    /// A user's folder, given with `--data`.
    Dir(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Embedded => write!(f, "embedded default dataset"),
            Origin::Dir(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The dataset could not be loaded: every problem found, located.
#[derive(Debug, Clone, thiserror::Error)]
pub struct DatasetError {
    /// All problems, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 20;
        writeln!(f, "the dataset has {} problem(s)", self.diagnostics.len())?;
        for d in self.diagnostics.iter().take(SHOWN) {
            writeln!(f, "{d}")?;
        }
        if self.diagnostics.len() > SHOWN {
            writeln!(
                f,
                "... and {} more (use --json to list them all)",
                self.diagnostics.len() - SHOWN
            )?;
        }
        Ok(())
    }
}

/// All tables of the dataset, with indexes for lookups.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it was loaded from.
    pub origin: Origin,
    /// `sources.csv`.
    pub sources: Vec<Source>,
    /// `units.csv`.
    pub units: Vec<Unit>,
    /// `commodities.csv`.
    pub commodities: Vec<Commodity>,
    /// `stages.csv`.
    pub stages: Vec<Stage>,
    /// `countries.csv`.
    pub countries: Vec<Country>,
    /// `country_aliases.csv`.
    pub country_aliases: Vec<CountryAlias>,
    /// `groups.csv`.
    pub groups: Vec<GroupMember>,
    /// `sectors.csv`.
    pub sectors: Vec<Sector>,
    /// `supply.csv`.
    pub supply: Vec<SupplyRow>,
    /// `demand.csv`.
    pub demand: Vec<DemandRow>,
    /// `prices.csv`.
    pub prices: Vec<PriceRow>,
    /// `us_salient.csv`.
    pub us_salient: Vec<SalientRow>,
    /// `import_reliance.csv`.
    pub import_reliance: Vec<ImportRelianceRow>,
    /// `governance.csv`.
    pub governance: Vec<GovernanceRow>,
    /// `usgs_t5.csv`.
    pub usgs_t5: Vec<T5Row>,
    /// `facts.csv`.
    pub facts: Vec<Fact>,
    /// `assumptions.csv`.
    pub assumptions: Vec<Assumption>,
    /// `model/regions.csv`: the regions of the world model.
    pub model_regions: Vec<ModelRegion>,
    /// `model/goods.csv`: the goods of the world model.
    pub goods: Vec<Good>,
    /// `model/inputs.csv`: input coefficients linking the goods.
    pub inputs: Vec<InputCoefficient>,
    /// `model/base_year.csv`: how each good enters the calibrated base year.
    pub base_year: Vec<BaseYearSpec>,
    /// `model/demand_overrides.csv`: demand paths built on IEA scenarios.
    pub demand_overrides: Vec<DemandOverride>,
    /// `model/criticality_eu.csv`: EU 2023 criticality parameters.
    pub criticality_eu: Vec<CriticalityEu>,
    /// `model/criticality_trade.csv`: EU trade-restriction factors.
    pub criticality_trade: Vec<CriticalityTrade>,
    /// `model/criticality_usgs.csv`: materials of the USGS method.
    pub criticality_usgs: Vec<CriticalityUsgs>,
    /// `model/industry_accounts.csv`: value added and operating surplus by industry.
    pub industry_accounts: Vec<IndustryAccount>,
    /// `model/companies.csv`: companies as owners of assets.
    pub companies: Vec<Company>,
    /// `model/stockpiles.csv`: stocks with buy and release rules.
    pub stockpiles: Vec<Stockpile>,
    /// `model/plants.csv`: plant capacities by model region.
    pub plants: Vec<Plant>,
    /// `model/projects.csv`: the project pipeline.
    pub projects: Vec<Project>,
    /// `model/end_uses.csv`: end-use sectors of each final good.
    pub end_uses: Vec<EndUse>,
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    commodity: HashMap<String, usize>,
    country: HashMap<String, usize>,
    alias: HashMap<String, usize>,
    source: HashMap<String, usize>,
    unit: HashMap<String, usize>,
    assumption: HashMap<String, usize>,
    fact: HashMap<String, usize>,
    governance: HashMap<(String, i32), usize>,
}

impl Dataset {
    /// The dataset compiled into the binary (the repository's `data/`), validated.
    pub fn embedded() -> Result<Self, DatasetError> {
        let texts: Vec<(&'static str, String, &str)> = EMBEDDED_FILES
            .iter()
            .map(|(file, text)| (*file, shown_name(None, file), *text))
            .collect();
        Self::from_texts(Origin::Embedded, &texts)
    }

    /// Loads and validates the tables of a data folder (an edited copy of `data/`).
    pub fn load_dir(dir: &Path) -> Result<Self, DatasetError> {
        let mut owned: Vec<(&'static str, String, String)> = Vec::new();
        let mut diagnostics = Vec::new();
        for (file, _) in EMBEDDED_FILES {
            let path = dir.join(file);
            match std::fs::read_to_string(&path) {
                Ok(text) => owned.push((file, path.display().to_string(), text)),
                Err(e) => diagnostics.push(Diagnostic {
                    location: Location {
                        file: path.display().to_string(),
                        line: 1,
                        col: 1,
                    },
                    message: format!("cannot read table {file}: {e}"),
                    hint: "write a complete editable copy with `chokepoint data export DIR`, \
                           then edit it"
                        .to_string(),
                }),
            }
        }
        if !diagnostics.is_empty() {
            return Err(DatasetError { diagnostics });
        }
        let texts: Vec<(&'static str, String, &str)> = owned
            .iter()
            .map(|(f, shown, t)| (*f, shown.clone(), t.as_str()))
            .collect();
        Self::from_texts(Origin::Dir(dir.to_path_buf()), &texts)
    }

    fn from_texts(
        origin: Origin,
        texts: &[(&'static str, String, &str)],
    ) -> Result<Self, DatasetError> {
        let by_file: BTreeMap<&'static str, TableText<'_>> = texts
            .iter()
            .map(|(file, shown, text)| {
                (
                    *file,
                    TableText {
                        shown: shown.clone(),
                        text,
                    },
                )
            })
            .collect();
        let mut diags = Vec::new();
        macro_rules! read {
            ($ty:ty) => {
                parse_table::<$ty>(&by_file[<$ty as Table>::FILE], &mut diags)
            };
        }
        let mut ds = Dataset {
            origin,
            sources: read!(Source),
            units: read!(Unit),
            commodities: read!(Commodity),
            stages: read!(Stage),
            countries: read!(Country),
            country_aliases: read!(CountryAlias),
            groups: read!(GroupMember),
            sectors: read!(Sector),
            supply: read!(SupplyRow),
            demand: read!(DemandRow),
            prices: read!(PriceRow),
            us_salient: read!(SalientRow),
            import_reliance: read!(ImportRelianceRow),
            governance: read!(GovernanceRow),
            usgs_t5: read!(T5Row),
            facts: read!(Fact),
            assumptions: read!(Assumption),
            model_regions: read!(ModelRegion),
            goods: read!(Good),
            inputs: read!(InputCoefficient),
            base_year: read!(BaseYearSpec),
            demand_overrides: read!(DemandOverride),
            stockpiles: read!(Stockpile),
            companies: read!(Company),
            criticality_eu: read!(CriticalityEu),
            criticality_trade: read!(CriticalityTrade),
            criticality_usgs: read!(CriticalityUsgs),
            industry_accounts: read!(IndustryAccount),
            plants: read!(Plant),
            projects: read!(Project),
            end_uses: read!(EndUse),
            index: Index::default(),
        };
        ds.build_index();
        // A table whose header could not be read has no rows; cross-table checks would then
        // report every reference to it, burying the one real problem. Check references only
        // when every table was read.
        let unreadable = diags.iter().any(|d| d.location.line == 1);
        if !unreadable {
            validate::check(&ds, &by_file, &mut diags);
        }
        if diags.is_empty() {
            Ok(ds)
        } else {
            diags.sort_by(|a, b| a.location.cmp(&b.location));
            Err(DatasetError { diagnostics: diags })
        }
    }

    fn build_index(&mut self) {
        fn index<T>(rows: &[T], key: impl Fn(&T) -> String) -> HashMap<String, usize> {
            let mut map = HashMap::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                map.entry(key(row)).or_insert(i);
            }
            map
        }
        self.index = Index {
            commodity: index(&self.commodities, |c| c.commodity_id.clone()),
            country: index(&self.countries, |c| c.iso3.clone()),
            alias: index(&self.country_aliases, |a| a.alias.to_lowercase()),
            source: index(&self.sources, |s| s.source_id.clone()),
            unit: index(&self.units, |u| u.unit.clone()),
            assumption: index(&self.assumptions, |a| a.assumption_id.clone()),
            fact: index(&self.facts, |f| f.id.clone()),
            governance: self
                .governance
                .iter()
                .enumerate()
                .map(|(i, g)| ((g.iso3.clone(), g.year), i))
                .collect(),
        };
    }

    /// A source by id; `fact:SFnnn` ids resolve through [`Dataset::fact`].
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.index.source.get(id).map(|&i| &self.sources[i])
    }

    /// A supplementary fact by id (`SF001`).
    pub fn fact(&self, id: &str) -> Option<&Fact> {
        self.index.fact.get(id).map(|&i| &self.facts[i])
    }

    /// A readable citation for a `source_id` (a source key or `fact:SFnnn`).
    pub fn cite(&self, source_id: &str) -> String {
        if let Some(fact_id) = source_id.strip_prefix("fact:") {
            return match self.fact(fact_id) {
                Some(f) => format!("{} ({}, confidence {})", f.source, f.id, f.confidence),
                None => source_id.to_string(),
            };
        }
        match self.source(source_id) {
            Some(s) if s.table.is_empty() => format!("{}, {}", s.publisher, s.title),
            Some(s) => format!("{}, {}, {}", s.publisher, s.title, s.table),
            None => source_id.to_string(),
        }
    }

    /// A unit by code.
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.index.unit.get(code).map(|&i| &self.units[i])
    }

    /// Converts `value` in `unit` to the base unit of its dimension (e.g. kt → t).
    pub fn to_base(&self, value: f64, unit: &str) -> Option<(f64, &str)> {
        self.unit(unit)
            .map(|u| (value * u.to_base, u.base_unit.as_str()))
    }

    /// A country by ISO alpha-3 code.
    pub fn country(&self, iso3: &str) -> Option<&Country> {
        self.index.country.get(iso3).map(|&i| &self.countries[i])
    }

    /// A display name for an entity code: the country name, or the pseudo entity itself.
    pub fn entity_name<'a>(&'a self, entity: &'a str) -> &'a str {
        match entity {
            "WORLD" => "World",
            "OTHER" => "Other countries",
            "ROW" => "Rest of world",
            _ => self.country(entity).map_or(entity, |c| c.name.as_str()),
        }
    }

    /// The numeric value of a named assumption.
    pub fn assumption(&self, id: &str) -> Result<f64, LookupError> {
        let a = self
            .index
            .assumption
            .get(id)
            .map(|&i| &self.assumptions[i])
            .ok_or_else(|| {
                LookupError::unknown(
                    "assumption",
                    id,
                    self.assumptions.iter().map(|a| a.assumption_id.as_str()),
                )
            })?;
        a.value.ok_or_else(|| LookupError::NotNumeric {
            what: format!("assumption '{id}'"),
        })
    }

    /// Mean of the six WGI dimensions for a country and year (≈ −2.5 worst … 2.5 best).
    pub fn wgi_mean(&self, iso3: &str, year: i32) -> Option<f64> {
        self.index
            .governance
            .get(&(iso3.to_string(), year))
            .and_then(|&i| self.governance[i].mean())
    }

    /// WGI political stability and absence of violence (`pv`) for a country and year.
    pub fn wgi_political_stability(&self, iso3: &str, year: i32) -> Option<f64> {
        self.index
            .governance
            .get(&(iso3.to_string(), year))
            .and_then(|&i| self.governance[i].pv)
    }

    /// Country groups: group id → (display name, members).
    pub fn group_members(&self) -> BTreeMap<&str, (&str, Vec<&str>)> {
        let mut map: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
        for g in &self.groups {
            map.entry(g.group_id.as_str())
                .or_insert_with(|| (g.group_name.as_str(), Vec::new()))
                .1
                .push(g.iso3.as_str());
        }
        map
    }

    /// The stages of a commodity, upstream first.
    pub fn stages_of(&self, commodity_id: &str) -> Vec<&Stage> {
        let mut stages: Vec<&Stage> = self
            .stages
            .iter()
            .filter(|s| s.commodity_id == commodity_id)
            .collect();
        stages.sort_by_key(|s| (s.order, s.stage_id.clone()));
        stages
    }

    /// Number of rows of every table, by file name.
    pub fn row_counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            (Source::FILE, self.sources.len()),
            (Unit::FILE, self.units.len()),
            (Commodity::FILE, self.commodities.len()),
            (Stage::FILE, self.stages.len()),
            (Country::FILE, self.countries.len()),
            (CountryAlias::FILE, self.country_aliases.len()),
            (GroupMember::FILE, self.groups.len()),
            (Sector::FILE, self.sectors.len()),
            (SupplyRow::FILE, self.supply.len()),
            (DemandRow::FILE, self.demand.len()),
            (PriceRow::FILE, self.prices.len()),
            (SalientRow::FILE, self.us_salient.len()),
            (ImportRelianceRow::FILE, self.import_reliance.len()),
            (GovernanceRow::FILE, self.governance.len()),
            (T5Row::FILE, self.usgs_t5.len()),
            (Fact::FILE, self.facts.len()),
            (Assumption::FILE, self.assumptions.len()),
            (ModelRegion::FILE, self.model_regions.len()),
            (Good::FILE, self.goods.len()),
            (InputCoefficient::FILE, self.inputs.len()),
            (BaseYearSpec::FILE, self.base_year.len()),
            (DemandOverride::FILE, self.demand_overrides.len()),
            (Stockpile::FILE, self.stockpiles.len()),
            (Company::FILE, self.companies.len()),
            (CriticalityEu::FILE, self.criticality_eu.len()),
            (CriticalityTrade::FILE, self.criticality_trade.len()),
            (CriticalityUsgs::FILE, self.criticality_usgs.len()),
            (IndustryAccount::FILE, self.industry_accounts.len()),
            (Plant::FILE, self.plants.len()),
            (Project::FILE, self.projects.len()),
            (EndUse::FILE, self.end_uses.len()),
        ]
    }

    /// Supply rows of a commodity.
    pub fn supply_of<'a>(&'a self, commodity_id: &'a str) -> impl Iterator<Item = &'a SupplyRow> {
        self.supply
            .iter()
            .filter(move |r| r.commodity_id == commodity_id)
    }
}
