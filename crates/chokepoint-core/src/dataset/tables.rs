//! The rows of the dataset's tables, one struct per CSV file (see `data/SCHEMA.md`).
//!
//! Every row records the 1-based `line` it came from, so later checks can point at it.

use serde::{Deserialize, Serialize};

use super::value::{Figure, Status};

/// A table of the dataset: its file name and exact header.
pub(crate) trait Table: for<'de> Deserialize<'de> {
    /// File name inside the data folder.
    const FILE: &'static str;
    /// The header, in order.
    const COLUMNS: &'static [&'static str];
    /// Records the line the row was read from.
    fn set_line(&mut self, line: u32);
}

macro_rules! table {
    ($ty:ty, $file:literal, [$($col:literal),+ $(,)?]) => {
        impl Table for $ty {
            const FILE: &'static str = $file;
            const COLUMNS: &'static [&'static str] = &[$($col),+];
            fn set_line(&mut self, line: u32) {
                self.line = line;
            }
        }
    };
}

/// What kind of entity a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// One country, by ISO 3166-1 alpha-3 code.
    Country,
    /// A world total (`WORLD`).
    World,
    /// The "other countries" residual of a table (`OTHER`).
    Other,
    /// IEA "rest of world" (`ROW`).
    Row,
    /// Several countries reported together (e.g. `USA+CAN`).
    Group,
    /// A company.
    Company,
}

/// What a supply row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Output in the year.
    Production,
    /// Production capacity in the year.
    Capacity,
    /// Economic reserves at the end of the year.
    Reserves,
    /// Share of the top three producers (a fraction), as the source computed it.
    Top3Share,
}

impl Metric {
    /// The snake-case name used in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Production => "production",
            Metric::Capacity => "capacity",
            Metric::Reserves => "reserves",
            Metric::Top3Share => "top3_share",
        }
    }
}

/// Whether a figure is observed, estimated or projected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// Observed data.
    Actual,
    /// The source's estimate for a recent year.
    Estimated,
    /// A base-case projection (IEA), not a forecast.
    ProjectionBaseCase,
}

/// `sources.csv`: a publication the dataset draws on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Key used in every table's `source_id`.
    pub source_id: String,
    /// Publisher (e.g. U.S. Geological Survey).
    pub publisher: String,
    /// Title of the publication.
    pub title: String,
    /// Table or sheet within it.
    pub table: String,
    /// The year(s) the data describe.
    pub data_year: String,
    /// Licence of the data.
    pub licence: String,
    /// Where it is published (URL or DOI).
    pub url: String,
    /// The raw file under `data/raw/` it was derived from.
    pub raw_file: String,
    /// Higher wins when two sources give the same figure.
    pub priority: i32,
}
table!(
    Source,
    "sources.csv",
    [
        "source_id",
        "publisher",
        "title",
        "table",
        "data_year",
        "licence",
        "url",
        "raw_file",
        "priority"
    ]
);

/// `units.csv`: a unit and its factor to the base unit of its dimension.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unit {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Short code (`t`, `kt`, `USD/kg`).
    pub unit: String,
    /// Dimension (`mass`, `price`, ...).
    pub dimension: String,
    /// Factor to the base unit: value × to_base = value in base units.
    pub to_base: f64,
    /// The base unit of the dimension.
    pub base_unit: String,
    /// What the unit is.
    pub description: String,
}
table!(
    Unit,
    "units.csv",
    ["unit", "dimension", "to_base", "base_unit", "description"]
);

/// `commodities.csv`: a commodity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commodity {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Snake-case id (`cobalt`, `rare_earths`).
    pub commodity_id: String,
    /// Display name.
    pub name: String,
    /// The commodity this one is part of (`nd` → `rare_earths`).
    pub parent: Option<String>,
    /// What quantities measure (e.g. cobalt content).
    pub content_basis: String,
    /// USGS name(s), if any.
    pub usgs_name: String,
    /// IEA name, if any.
    pub iea_name: String,
    /// Remarks.
    pub notes: String,
}
table!(
    Commodity,
    "commodities.csv",
    [
        "commodity_id",
        "name",
        "parent",
        "content_basis",
        "usgs_name",
        "iea_name",
        "notes"
    ]
);

/// `stages.csv`: a stage of a commodity's chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// Stage id (`mining`, `refining`, `magnet`).
    pub stage_id: String,
    /// Display name.
    pub name: String,
    /// Position in the chain (lower = upstream).
    pub order: u32,
    /// What the stage produces.
    pub description: String,
}
table!(
    Stage,
    "stages.csv",
    ["commodity_id", "stage_id", "name", "order", "description"]
);

/// `countries.csv`: an ISO 3166-1 country.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Country {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// ISO alpha-3 code.
    pub iso3: String,
    /// ISO alpha-2 code.
    pub iso2: String,
    /// ISO numeric code.
    pub numeric: String,
    /// Short English name.
    pub name: String,
    /// Continent.
    pub continent: String,
    /// World Bank code in the WGI file.
    pub wgi_code: String,
}
table!(
    Country,
    "countries.csv",
    ["iso3", "iso2", "numeric", "name", "continent", "wgi_code"]
);

/// `country_aliases.csv`: a spelling found in a source, mapped to an entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountryAlias {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The spelling.
    pub alias: String,
    /// ISO alpha-3 code or pseudo entity.
    pub entity: String,
    /// Kind of entity.
    pub entity_kind: EntityKind,
    /// Remarks.
    pub note: String,
}
table!(
    CountryAlias,
    "country_aliases.csv",
    ["alias", "entity", "entity_kind", "note"]
);

/// `groups.csv`: one member of a country group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupMember {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Group id (`g7`, `eu27`).
    pub group_id: String,
    /// Display name.
    pub group_name: String,
    /// Member country.
    pub iso3: String,
    /// Where the membership is stated.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    GroupMember,
    "groups.csv",
    ["group_id", "group_name", "iso3", "source", "note"]
);

/// `sectors.csv`: an end-use sector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sector {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Sector id.
    pub sector_id: String,
    /// Display name.
    pub name: String,
    /// IEA names mapped to it, separated by `|`.
    pub iea_name: String,
    /// Whether it is a total of other sectors.
    pub aggregate: bool,
    /// What it covers.
    pub description: String,
    /// Where the sector comes from.
    pub source: String,
}
table!(
    Sector,
    "sectors.csv",
    [
        "sector_id",
        "name",
        "iea_name",
        "aggregate",
        "description",
        "source"
    ]
);

/// `supply.csv`: production, capacity or reserves of one entity, stage and year.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SupplyRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// The stage.
    pub stage_id: String,
    /// ISO alpha-3 code or pseudo entity (`WORLD`, `OTHER`, `ROW`).
    pub entity: String,
    /// Kind of entity.
    pub entity_kind: EntityKind,
    /// Data year.
    pub year: i32,
    /// What is measured.
    pub metric: Metric,
    /// Observed, estimated or projected.
    pub case: Case,
    /// The number, when the status has one.
    pub value: Option<f64>,
    /// Unit of `value` (a key of `units.csv`).
    pub unit: String,
    /// How the source gave it.
    pub status: Status,
    /// The source's cell when it was not a plain number.
    pub raw_value: String,
    /// Source key.
    pub source_id: String,
    /// The source's notes.
    pub note: String,
}
table!(
    SupplyRow,
    "supply.csv",
    [
        "commodity_id",
        "stage_id",
        "entity",
        "entity_kind",
        "year",
        "metric",
        "case",
        "value",
        "unit",
        "status",
        "raw_value",
        "source_id",
        "note"
    ]
);

impl SupplyRow {
    /// The value with its status.
    pub fn figure(&self) -> Figure {
        Figure::new(self.status, self.value)
    }
}

/// `demand.csv`: demand of one sector in one scenario and year.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemandRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// The sector.
    pub sector_id: String,
    /// Scenario id (`base_year`, `steps`, `aps`, `nze`).
    pub scenario: String,
    /// Year.
    pub year: i32,
    /// The number.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// How the source gave it.
    pub status: Status,
    /// Source key.
    pub source_id: String,
}
table!(
    DemandRow,
    "demand.csv",
    [
        "commodity_id",
        "sector_id",
        "scenario",
        "year",
        "value",
        "unit",
        "status",
        "source_id"
    ]
);

/// `prices.csv`: one observation of a price series.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// Series name.
    pub series: String,
    /// `YYYY` or `YYYY-MM`.
    pub period: String,
    /// `nominal` or `real2010`.
    pub basis: String,
    /// The price.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// How the source gave it.
    pub status: Status,
    /// The source's cell when it was not a plain number.
    pub raw_value: String,
    /// Source key.
    pub source_id: String,
    /// Remarks.
    pub note: String,
}
table!(
    PriceRow,
    "prices.csv",
    [
        "commodity_id",
        "series",
        "period",
        "basis",
        "value",
        "unit",
        "status",
        "raw_value",
        "source_id",
        "note"
    ]
);

/// `us_salient.csv`: one USGS salient statistic for the United States.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SalientRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// Series name.
    pub series: String,
    /// Year.
    pub year: i32,
    /// The number.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// How the source gave it.
    pub status: Status,
    /// The source's cell when it was not a plain number.
    pub raw_value: String,
    /// Source key.
    pub source_id: String,
}
table!(
    SalientRow,
    "us_salient.csv",
    [
        "commodity_id",
        "series",
        "year",
        "value",
        "unit",
        "status",
        "raw_value",
        "source_id"
    ]
);

/// `import_reliance.csv`: net import reliance of an importer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportRelianceRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The commodity.
    pub commodity_id: String,
    /// Importing country.
    pub importer: String,
    /// Year.
    pub year: i32,
    /// Net import reliance.
    pub value: Option<f64>,
    /// Unit (percent of apparent consumption).
    pub unit: String,
    /// How the source gave it.
    pub status: Status,
    /// The source's cell when it was not a plain number.
    pub raw_value: String,
    /// Major import sources, ISO alpha-3 separated by `;`, largest first.
    pub major_sources: String,
    /// Source key.
    pub source_id: String,
    /// Remarks.
    pub note: String,
}
table!(
    ImportRelianceRow,
    "import_reliance.csv",
    [
        "commodity_id",
        "importer",
        "year",
        "value",
        "unit",
        "status",
        "raw_value",
        "major_sources",
        "source_id",
        "note"
    ]
);

/// `governance.csv`: World Bank WGI estimates of one country and year (≈ −2.5 worst … 2.5 best).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GovernanceRow {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Country.
    pub iso3: String,
    /// Year.
    pub year: i32,
    /// Voice and accountability.
    pub va: Option<f64>,
    /// Political stability and absence of violence.
    pub pv: Option<f64>,
    /// Government effectiveness.
    pub ge: Option<f64>,
    /// Regulatory quality.
    pub rq: Option<f64>,
    /// Rule of law.
    pub rl: Option<f64>,
    /// Control of corruption.
    pub cc: Option<f64>,
    /// Source key.
    pub source_id: String,
}
table!(
    GovernanceRow,
    "governance.csv",
    [
        "iso3",
        "year",
        "va",
        "pv",
        "ge",
        "rq",
        "rl",
        "cc",
        "source_id"
    ]
);

impl GovernanceRow {
    /// Mean of the six dimensions, when all six are present.
    pub fn mean(&self) -> Option<f64> {
        let dims = [self.va, self.pv, self.ge, self.rq, self.rl, self.cc];
        let sum = dims.iter().copied().collect::<Option<Vec<f64>>>()?;
        Some(sum.iter().sum::<f64>() / sum.len() as f64)
    }
}

/// `usgs_t5.csv`: one row of USGS MCS 2025 table 5 (leading producer and its share).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct T5Row {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// USGS name of the mineral.
    pub critical_mineral: String,
    /// The commodity it summarises.
    pub commodity_id: String,
    /// The stage it summarises.
    pub stage_id: String,
    /// Data year.
    pub year: i32,
    /// Leading producing country (ISO alpha-3), empty when not available.
    pub leading_entity: String,
    /// Its production.
    pub leading_prod: Option<f64>,
    /// Its share of world production, in percent (rounded by USGS).
    pub leading_pct: Option<f64>,
    /// World production.
    pub world_prod: Option<f64>,
    /// Unit of the production figures.
    pub unit: String,
    /// Status of the leading-producer figures.
    pub status: Status,
    /// Original cell.
    pub raw_leading_prod: String,
    /// Original cell.
    pub raw_leading_pct: String,
    /// Original cell.
    pub raw_world_prod: String,
    /// US net import reliance as published (may be a bound or `E`).
    pub net_import_reliance_raw: String,
    /// Primary import source.
    pub primary_import_source: String,
    /// USGS note on the world total.
    pub world_prod_notes: String,
    /// Source key.
    pub source_id: String,
}
table!(
    T5Row,
    "usgs_t5.csv",
    [
        "critical_mineral",
        "commodity_id",
        "stage_id",
        "year",
        "leading_entity",
        "leading_prod",
        "leading_pct",
        "world_prod",
        "unit",
        "status",
        "raw_leading_prod",
        "raw_leading_pct",
        "raw_world_prod",
        "net_import_reliance_raw",
        "primary_import_source",
        "world_prod_notes",
        "source_id"
    ]
);

/// `facts.csv`: a supplementary sourced figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fact {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Fact id (`SF001`).
    pub id: String,
    /// Topic.
    pub topic: String,
    /// The commodity, empty when several.
    pub commodity_id: Option<String>,
    /// Stage or kind of figure.
    pub stage_id: String,
    /// Country (ISO alpha-3) or other entity.
    pub entity: String,
    /// What is measured.
    pub metric: String,
    /// The number.
    pub value: f64,
    /// Unit as published.
    pub unit: String,
    /// The year the figure refers to.
    pub year: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Publisher, title and date.
    pub source: String,
    /// URL where it was found.
    pub locator: String,
    /// Remarks.
    pub note: String,
}
table!(
    Fact,
    "facts.csv",
    [
        "id",
        "topic",
        "commodity_id",
        "stage_id",
        "entity",
        "metric",
        "value",
        "unit",
        "year",
        "confidence",
        "source",
        "locator",
        "note"
    ]
);

/// `assumptions.csv`: a named assumption with its rationale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assumption {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Id used by the engine.
    pub assumption_id: String,
    /// Display name.
    pub name: String,
    /// The number, when the assumption is one.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
    /// What it applies to.
    pub applies_to: String,
    /// Why this value.
    pub rationale: String,
    /// Published reference.
    pub reference: String,
}
table!(
    Assumption,
    "assumptions.csv",
    [
        "assumption_id",
        "name",
        "value",
        "unit",
        "applies_to",
        "rationale",
        "reference"
    ]
);

/// `model/regions.csv`: a region of the world model and the countries it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRegion {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Region id (`CHN`, `EUR`, `ROW`).
    pub region_id: String,
    /// Display name.
    pub name: String,
    /// Membership rule: `;`-separated ISO alpha-3 codes, `group:ID` for a country group,
    /// `-ISO` to exclude a country, or `*` for every country no earlier row took.
    pub members: String,
    /// Remarks.
    pub note: String,
}
table!(
    ModelRegion,
    "model/regions.csv",
    ["region_id", "name", "members", "note"]
);

/// `model/goods.csv`: a good of the world model (one stage of one chain).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Good {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Good id (`ndpr_oxide`, `ndfeb_magnet`).
    pub good_id: String,
    /// Display name, with its content basis.
    pub name: String,
    /// The commodity it belongs to.
    pub commodity_id: String,
    /// The stage it is.
    pub stage_id: String,
    /// Unit of quantities (`t`, `tSWU`).
    pub unit: String,
    /// The chain it belongs to (`rare_earths`, `cobalt`).
    pub chain: String,
    /// Remarks.
    pub note: String,
}
table!(
    Good,
    "model/goods.csv",
    [
        "good_id",
        "name",
        "commodity_id",
        "stage_id",
        "unit",
        "chain",
        "note"
    ]
);

/// `model/inputs.csv`: units of one input per unit of an output good.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputCoefficient {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// The good made.
    pub output_good: String,
    /// The good used.
    pub input_good: String,
    /// Units of input per unit of output (> 0).
    pub coefficient: f64,
    /// Unit of the coefficient (e.g. `t/t`).
    pub unit: String,
    /// Where the figure comes from (publisher, title, year; or the stoichiometry).
    pub source: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Derivation and remarks.
    pub note: String,
}
table!(
    InputCoefficient,
    "model/inputs.csv",
    [
        "output_good",
        "input_good",
        "coefficient",
        "unit",
        "source",
        "confidence",
        "note"
    ]
);

/// `model/base_year.csv`: how one good enters the calibrated base year.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseYearSpec {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// A good of `model/goods.csv`.
    pub good_id: String,
    /// `COMMODITY/STAGE/YEAR/SOURCE`: the supply table whose country figures are the good's
    /// base output.
    pub output: String,
    /// Model units per base unit of the data (quantities are read in base units, e.g. t;
    /// 5.3233 turns t Li into t LCE).
    pub output_factor: f64,
    /// Reference price, currency per model unit.
    pub price: f64,
    /// Unit of the price.
    pub price_unit: String,
    /// Where the price comes from (series, facts, assumptions).
    pub price_source: String,
    /// Price elasticity of supply.
    pub supply_elasticity: f64,
    /// Price elasticity of demand (absolute value).
    pub demand_elasticity: f64,
    /// Where the elasticities come from.
    pub elasticity_source: String,
    /// `COMMODITY/STAGE` whose IEA base-case projection the good's capacity follows; empty
    /// for the good's own commodity and stage.
    pub capacity_path: String,
    /// Where final consumption goes: `where_produced`, or `shares:R=pct;R+R=pct;*=pct`.
    pub consumption: String,
    /// `fill`: secondary supply covers processing use beyond output.
    pub secondary: String,
    /// Remarks.
    pub note: String,
}
table!(
    BaseYearSpec,
    "model/base_year.csv",
    [
        "good_id",
        "output",
        "output_factor",
        "price",
        "price_unit",
        "price_source",
        "supply_elasticity",
        "demand_elasticity",
        "elasticity_source",
        "capacity_path",
        "consumption",
        "secondary",
        "note"
    ]
);

/// `model/demand_overrides.csv`: a demand path built on an IEA scenario with sourced changes
/// (the seed article's figures).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemandOverride {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Id of the path this row belongs to (`seed`).
    pub scenario: String,
    /// IEA scenario it starts from (`steps`).
    pub base_scenario: String,
    /// Commodity.
    pub commodity_id: String,
    /// Sector (`total` for the commodity's total demand).
    pub sector_id: String,
    /// Year the change applies to.
    pub year: i32,
    /// `growth` (value = ratio to the year before) or `level` (value = demand that year).
    pub rule: String,
    /// The ratio or the level.
    pub value: f64,
    /// Unit (`ratio`, or the demand table's unit for levels).
    pub unit: String,
    /// Where the figure comes from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    DemandOverride,
    "model/demand_overrides.csv",
    [
        "scenario",
        "base_scenario",
        "commodity_id",
        "sector_id",
        "year",
        "rule",
        "value",
        "unit",
        "source",
        "note"
    ]
);

/// `model/stockpiles.csv`: a stock held in a region (strategic reserve or private inventory)
/// with rule-based buying and releasing. Quantities in the good's model unit; rates per quarter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stockpile {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Id.
    pub stockpile_id: String,
    /// Display name.
    pub name: String,
    /// Model region holding it.
    pub region_id: String,
    /// Good held (a good of `model/base_year.csv`).
    pub good_id: String,
    /// Most it can hold.
    pub capacity: f64,
    /// Stock at the start of the first quarter.
    pub initial: f64,
    /// It buys while the price is below this (currency per unit).
    pub buy_below: f64,
    /// It releases while the price is above this.
    pub release_above: f64,
    /// Most it buys in a quarter.
    pub max_buy: f64,
    /// Most it releases in a quarter.
    pub max_release: f64,
    /// Where the figures come from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    Stockpile,
    "model/stockpiles.csv",
    [
        "stockpile_id",
        "name",
        "region_id",
        "good_id",
        "capacity",
        "initial",
        "buy_below",
        "release_above",
        "max_buy",
        "max_release",
        "source",
        "note"
    ]
);

/// `model/plants.csv`: the capacity of a good's plants in one model region, for goods whose
/// output by country is not in a supply table (magnets, heavy rare-earth separation,
/// enrichment by plant). Read by base-year rows with `output = plants`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plant {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// A good of `model/base_year.csv`.
    pub good_id: String,
    /// Model region.
    pub region_id: String,
    /// Output or capacity per year, in the good's model unit.
    pub capacity: f64,
    /// Year the figure refers to.
    pub year: i32,
    /// Where the figure comes from (facts ids, publications, named assumptions).
    pub source: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Remarks.
    pub note: String,
}
table!(
    Plant,
    "model/plants.csv",
    [
        "good_id",
        "region_id",
        "capacity",
        "year",
        "source",
        "confidence",
        "note"
    ]
);

/// `model/projects.csv`: the project pipeline: new capacity with a start date, a ramp-up and
/// a probability of going ahead. The baseline adds each project's expected capacity
/// (probability × ramped capacity); scenarios and risk runs can switch projects on or off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Id.
    pub project_id: String,
    /// Display name.
    pub name: String,
    /// Good it makes (a good of `model/base_year.csv`).
    pub good_id: String,
    /// Model region.
    pub region_id: String,
    /// Capacity at full ramp-up, per year, in the good's model unit.
    pub capacity: f64,
    /// Unit cost (currency per unit): the price above which it runs (primary goods) or its
    /// processing cost over inputs (processed goods). Empty: the rule of assumptions
    /// `model_project_unit_cost` and `model_project_margin_premium`.
    pub unit_cost: Option<f64>,
    /// Capital cost (currency). Empty: assumption `finance_capex_years_of_revenue` × capacity ×
    /// the good's base price (used only by the finance report).
    pub capex: Option<f64>,
    /// First output, as a decimal year (2028.5 = mid-2028).
    pub start: f64,
    /// Years from first output to full capacity (linear).
    pub ramp_years: f64,
    /// Probability that it goes ahead (0–1).
    pub probability: f64,
    /// `exploration`, `permitting`, `construction`, `production` or `blocked`.
    pub status: String,
    /// Where the figures come from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    Project,
    "model/projects.csv",
    [
        "project_id",
        "name",
        "good_id",
        "region_id",
        "capacity",
        "unit_cost",
        "capex",
        "start",
        "ramp_years",
        "probability",
        "status",
        "source",
        "note"
    ]
);

/// `model/end_uses.csv`: how a good's final consumption splits over end-use sectors, each
/// with its own price elasticity and growth path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndUse {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// A good of `model/base_year.csv`.
    pub good_id: String,
    /// A sector of `sectors.csv`.
    pub sector_id: String,
    /// Share of the good's base-year final consumption (0–1) in every region, or
    /// `iea:COMMODITY` for the sector's share of the IEA base-year demand of that commodity.
    pub share: String,
    /// Price elasticity of the sector's demand (absolute value).
    pub elasticity: f64,
    /// Growth path: `iea:COMMODITY` (the IEA path of this sector for that commodity in the
    /// chosen scenario), `good` (the good's total path) or `constant`.
    pub growth: String,
    /// Where the share, elasticity and path come from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    EndUse,
    "model/end_uses.csv",
    [
        "good_id",
        "sector_id",
        "share",
        "elasticity",
        "growth",
        "source",
        "note"
    ]
);

/// `model/companies.csv`: listed companies as owners of assets (mines, refineries, magnet and
/// enrichment plants) with public capacities and locations, for company exposure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Company {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Company id.
    pub company_id: String,
    /// Display name.
    pub company: String,
    /// Exchange:ticker (empty when not listed).
    pub ticker: String,
    /// The asset.
    pub asset: String,
    /// Good it makes (a good of `model/base_year.csv`).
    pub good_id: String,
    /// Country (ISO3) or model region.
    pub region_id: String,
    /// Attributable capacity or output a year, in the good's model unit.
    pub capacity: f64,
    /// Unit as written (the good's model unit).
    pub unit: String,
    /// Year of the figure.
    pub year: i32,
    /// `capacity`, `output` or `project` (not yet producing).
    pub basis: String,
    /// Where the figure comes from.
    pub source: String,
    /// Remarks (ownership shares, conversions).
    pub note: String,
}
table!(
    Company,
    "model/companies.csv",
    [
        "company_id",
        "company",
        "ticker",
        "asset",
        "good_id",
        "region_id",
        "capacity",
        "unit",
        "year",
        "basis",
        "source",
        "note"
    ]
);

/// `model/criticality_eu.csv`: the EU 2023 assessment's parameters per material and stage
/// (published SR and EI, import reliance, end-of-life recycling input rate, substitution
/// indices), for `chokepoint criticality`. Provenance: `model/criticality_eu.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriticalityEu {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Chokepoint commodity.
    pub commodity_id: String,
    /// EU material name.
    pub material: String,
    /// `extraction` or `processing`.
    pub stage: String,
    /// Published supply risk of the stage.
    pub sr_published: Option<f64>,
    /// Published economic importance (the material's).
    pub ei_published: Option<f64>,
    /// EU import reliance of the stage, %.
    pub ir_pct: Option<f64>,
    /// End-of-life recycling input rate, %.
    pub eol_rir_pct: Option<f64>,
    /// Substitution index for supply risk.
    pub si_sr: Option<f64>,
    /// Substitution index for economic importance.
    pub si_ei: Option<f64>,
    /// `GS+EU`, `GSonly` or `EUonly`.
    pub basis: String,
    /// Where the numbers come from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    CriticalityEu,
    "model/criticality_eu.csv",
    [
        "commodity_id",
        "material",
        "stage",
        "sr_published",
        "ei_published",
        "ir_pct",
        "eol_rir_pct",
        "si_sr",
        "si_ei",
        "basis",
        "source",
        "note"
    ]
);

/// `model/criticality_usgs.csv`: the materials the USGS method scores, with the published
/// 2022-list supply risk for comparison and the row of `import_reliance.csv` giving their net
/// import reliance. Provenance: `model/criticality_usgs.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriticalityUsgs {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Chokepoint commodity whose model goods stand for the material.
    pub commodity_id: String,
    /// USGS material name.
    pub material: String,
    /// Published recency-weighted (2015–2018) mean supply risk (Nassar & Fortier 2021, Fig. 3).
    pub sr_published: Option<f64>,
    /// Commodity of `import_reliance.csv` whose net import reliance is the material's.
    pub nir_commodity_id: String,
    /// Where the published score comes from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    CriticalityUsgs,
    "model/criticality_usgs.csv",
    [
        "commodity_id",
        "material",
        "sr_published",
        "nir_commodity_id",
        "source",
        "note"
    ]
);

/// `model/industry_accounts.csv`: national accounts by industry (value added and gross
/// operating surplus) and the model sectors each industry stands for, for the USGS method's
/// economic vulnerability. The industry `total` is the economy (GDP).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndustryAccount {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Country (ISO alpha-3) or model place the accounts are for.
    pub region: String,
    /// Industry name (`total` for the whole economy).
    pub industry: String,
    /// Model sectors whose demand is this industry's purchase, separated by `;` (empty for
    /// `total`).
    pub sectors: String,
    /// Year of the accounts.
    pub year: i32,
    /// Value added, in `unit`.
    pub value_added: f64,
    /// Gross operating surplus (the profit measure), in `unit`; empty for `total`.
    pub operating_surplus: Option<f64>,
    /// Currency unit of `units.csv` whose base is USD (`USD_bn`).
    pub unit: String,
    /// Where the numbers come from.
    pub source: String,
    /// Remarks (the mapping's rationale).
    pub note: String,
}
table!(
    IndustryAccount,
    "model/industry_accounts.csv",
    [
        "region",
        "industry",
        "sectors",
        "year",
        "value_added",
        "operating_surplus",
        "unit",
        "source",
        "note"
    ]
);

/// `model/criticality_trade.csv`: the EU method's trade-restriction factors t per commodity,
/// stage, scope and country (1 where none is listed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriticalityTrade {
    #[serde(skip)]
    #[allow(missing_docs)]
    pub line: u32,
    /// Chokepoint commodity.
    pub commodity_id: String,
    /// `extraction` or `processing`.
    pub stage: String,
    /// `global` or `eu`.
    pub scope: String,
    /// Country.
    pub iso3: String,
    /// Factor (≥ 0; 1 = no restriction).
    pub t: f64,
    /// Where it comes from.
    pub source: String,
    /// Remarks.
    pub note: String,
}
table!(
    CriticalityTrade,
    "model/criticality_trade.csv",
    [
        "commodity_id",
        "stage",
        "scope",
        "iso3",
        "t",
        "source",
        "note"
    ]
);
