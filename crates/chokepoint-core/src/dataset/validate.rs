//! Cross-table checks: every reference resolves, every key is unique, every figure is consistent
//! with its status, and the assumptions the engine needs are present.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, nearest};

use super::Dataset;
use super::load::{TableText, hint_for_column};
use super::tables::*;
use super::value::Status;

/// Assumptions the engine reads by name; the dataset is invalid without them.
pub(crate) const REQUIRED_ASSUMPTIONS: &[&str] = &[
    "wgi_worst",
    "wgi_best",
    "wgi_scaled_max",
    "wgi_year",
    "default_year",
    "hhi_scale",
    "other_countries_in_hhi",
];

struct Checker<'a, 'b> {
    texts: &'b BTreeMap<&'static str, TableText<'a>>,
    diags: &'b mut Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    fn err<T: Table>(&mut self, line: u32, column: &str, message: String, hint: String) {
        let field = T::COLUMNS.iter().position(|c| *c == column).unwrap_or(0);
        self.diags.push(Diagnostic {
            location: self.texts[T::FILE].locate(line, field),
            message,
            hint,
        });
    }

    /// Reports `value` in `column` when it is not in `known`.
    fn reference<T: Table>(
        &mut self,
        line: u32,
        column: &str,
        value: &str,
        kind: &str,
        known: &HashSet<&str>,
        table: &str,
    ) {
        if !known.contains(value) {
            let suggestions = nearest(value, known.iter().copied());
            let hint = if suggestions.is_empty() {
                format!("add '{value}' to {table} or use a {kind} listed there")
            } else {
                format!(
                    "did you mean '{}'? (or add '{value}' to {table})",
                    suggestions.join("' or '")
                )
            };
            self.err::<T>(line, column, format!("unknown {kind} '{value}'"), hint);
        }
    }

    fn unique<T: Table, K: std::hash::Hash + Eq + std::fmt::Debug>(
        &mut self,
        rows: impl IntoIterator<Item = (u32, K)>,
        column: &str,
    ) {
        let mut seen: HashMap<K, u32> = HashMap::new();
        for (line, key) in rows {
            if let Some(first) = seen.get(&key) {
                let msg = format!("duplicate key {key:?} (first on line {first})");
                self.err::<T>(line, column, msg, "each key may appear once".to_string());
            } else {
                seen.insert(key, line);
            }
        }
    }

    fn figure<T: Table>(&mut self, line: u32, status: Status, value: Option<f64>) {
        match (status.has_value(), value) {
            (true, None) => self.err::<T>(
                line,
                "value",
                format!("status '{}' needs a number in value", status.as_str()),
                "write the number, or set status to withheld, na or text".to_string(),
            ),
            (false, Some(v)) => self.err::<T>(
                line,
                "value",
                format!(
                    "status '{}' must have an empty value, found {v}",
                    status.as_str()
                ),
                "a withheld or missing figure is never a number: empty the value, or set \
                 status to reported"
                    .to_string(),
            ),
            (true, Some(v)) if !v.is_finite() => self.err::<T>(
                line,
                "value",
                format!("value {v} is not a finite number"),
                hint_for_column("value"),
            ),
            (true, Some(v)) if status == Status::Zero && v != 0.0 => self.err::<T>(
                line,
                "value",
                format!("status 'zero' with value {v}"),
                "set value to 0 or status to reported".to_string(),
            ),
            _ => {}
        }
    }
}

/// Known source ids: `sources.csv` keys plus `fact:ID` for every fact.
fn source_ids(ds: &Dataset) -> HashSet<String> {
    ds.sources
        .iter()
        .map(|s| s.source_id.clone())
        .chain(ds.facts.iter().map(|f| format!("fact:{}", f.id)))
        .collect()
}

pub(crate) fn check(
    ds: &Dataset,
    texts: &BTreeMap<&'static str, TableText<'_>>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut c = Checker { texts, diags };
    let sources_owned = source_ids(ds);
    let sources: HashSet<&str> = sources_owned.iter().map(String::as_str).collect();
    let units: HashSet<&str> = ds.units.iter().map(|u| u.unit.as_str()).collect();
    let commodities: HashSet<&str> = ds
        .commodities
        .iter()
        .map(|x| x.commodity_id.as_str())
        .collect();
    let countries: HashSet<&str> = ds.countries.iter().map(|x| x.iso3.as_str()).collect();
    let sectors: HashSet<&str> = ds.sectors.iter().map(|x| x.sector_id.as_str()).collect();
    let stage_keys: HashSet<String> = ds
        .stages
        .iter()
        .map(|s| format!("{}/{}", s.commodity_id, s.stage_id))
        .collect();

    // Keys.
    c.unique::<Source, _>(
        ds.sources.iter().map(|r| (r.line, r.source_id.clone())),
        "source_id",
    );
    c.unique::<Unit, _>(ds.units.iter().map(|r| (r.line, r.unit.clone())), "unit");
    c.unique::<Commodity, _>(
        ds.commodities
            .iter()
            .map(|r| (r.line, r.commodity_id.clone())),
        "commodity_id",
    );
    c.unique::<Stage, _>(
        ds.stages
            .iter()
            .map(|r| (r.line, (r.commodity_id.clone(), r.stage_id.clone()))),
        "stage_id",
    );
    c.unique::<Country, _>(
        ds.countries.iter().map(|r| (r.line, r.iso3.clone())),
        "iso3",
    );
    c.unique::<CountryAlias, _>(
        ds.country_aliases
            .iter()
            .map(|r| (r.line, r.alias.to_lowercase())),
        "alias",
    );
    c.unique::<GroupMember, _>(
        ds.groups
            .iter()
            .map(|r| (r.line, (r.group_id.clone(), r.iso3.clone()))),
        "iso3",
    );
    c.unique::<Sector, _>(
        ds.sectors.iter().map(|r| (r.line, r.sector_id.clone())),
        "sector_id",
    );
    c.unique::<SupplyRow, _>(
        ds.supply.iter().map(|r| {
            (
                r.line,
                (
                    r.commodity_id.clone(),
                    r.stage_id.clone(),
                    r.entity.clone(),
                    r.year,
                    r.metric,
                    r.source_id.clone(),
                ),
            )
        }),
        "entity",
    );
    c.unique::<DemandRow, _>(
        ds.demand.iter().map(|r| {
            (
                r.line,
                (
                    r.commodity_id.clone(),
                    r.sector_id.clone(),
                    r.scenario.clone(),
                    r.year,
                    r.source_id.clone(),
                ),
            )
        }),
        "sector_id",
    );
    c.unique::<GovernanceRow, _>(
        ds.governance
            .iter()
            .map(|r| (r.line, (r.iso3.clone(), r.year))),
        "year",
    );
    c.unique::<Fact, _>(ds.facts.iter().map(|r| (r.line, r.id.clone())), "id");
    c.unique::<Assumption, _>(
        ds.assumptions
            .iter()
            .map(|r| (r.line, r.assumption_id.clone())),
        "assumption_id",
    );

    // References and figures.
    for u in &ds.units {
        if !(u.to_base.is_finite() && u.to_base > 0.0) {
            c.err::<Unit>(
                u.line,
                "to_base",
                format!("factor {} must be a positive number", u.to_base),
                hint_for_column("to_base"),
            );
        }
    }
    for x in &ds.commodities {
        if let Some(parent) = &x.parent {
            c.reference::<Commodity>(
                x.line,
                "parent",
                parent,
                "commodity",
                &commodities,
                "commodities.csv",
            );
        }
    }
    for s in &ds.stages {
        c.reference::<Stage>(
            s.line,
            "commodity_id",
            &s.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
    }
    for a in &ds.country_aliases {
        if a.entity_kind == EntityKind::Country {
            c.reference::<CountryAlias>(
                a.line,
                "entity",
                &a.entity,
                "country",
                &countries,
                "countries.csv",
            );
        }
    }
    for g in &ds.groups {
        c.reference::<GroupMember>(
            g.line,
            "iso3",
            &g.iso3,
            "country",
            &countries,
            "countries.csv",
        );
    }
    for r in &ds.supply {
        c.reference::<SupplyRow>(
            r.line,
            "commodity_id",
            &r.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        let key = format!("{}/{}", r.commodity_id, r.stage_id);
        if commodities.contains(r.commodity_id.as_str()) && !stage_keys.contains(&key) {
            c.err::<SupplyRow>(
                r.line,
                "stage_id",
                format!("unknown stage '{}' of {}", r.stage_id, r.commodity_id),
                format!("add ({}, {}) to stages.csv", r.commodity_id, r.stage_id),
            );
        }
        check_entity(&mut c, r, &countries);
        c.reference::<SupplyRow>(r.line, "unit", &r.unit, "unit", &units, "units.csv");
        c.reference::<SupplyRow>(
            r.line,
            "source_id",
            &r.source_id,
            "source",
            &sources,
            "sources.csv",
        );
        c.figure::<SupplyRow>(r.line, r.status, r.value);
        if let Some(v) = r.value.filter(|v| *v < 0.0) {
            c.err::<SupplyRow>(
                r.line,
                "value",
                format!("negative {} {v}", r.metric.as_str()),
                "production, capacity and reserves are non-negative".to_string(),
            );
        }
    }
    for r in &ds.demand {
        c.reference::<DemandRow>(
            r.line,
            "commodity_id",
            &r.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        c.reference::<DemandRow>(
            r.line,
            "sector_id",
            &r.sector_id,
            "sector",
            &sectors,
            "sectors.csv",
        );
        c.reference::<DemandRow>(r.line, "unit", &r.unit, "unit", &units, "units.csv");
        c.reference::<DemandRow>(
            r.line,
            "source_id",
            &r.source_id,
            "source",
            &sources,
            "sources.csv",
        );
        c.figure::<DemandRow>(r.line, r.status, r.value);
    }
    for r in &ds.prices {
        c.reference::<PriceRow>(
            r.line,
            "commodity_id",
            &r.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        c.reference::<PriceRow>(r.line, "unit", &r.unit, "unit", &units, "units.csv");
        c.reference::<PriceRow>(
            r.line,
            "source_id",
            &r.source_id,
            "source",
            &sources,
            "sources.csv",
        );
        c.figure::<PriceRow>(r.line, r.status, r.value);
        if !valid_period(&r.period) {
            c.err::<PriceRow>(
                r.line,
                "period",
                format!("period '{}' is neither YYYY nor YYYY-MM", r.period),
                "write 2024 for a year or 2024-05 for a month".to_string(),
            );
        }
    }
    for r in &ds.us_salient {
        c.reference::<SalientRow>(
            r.line,
            "commodity_id",
            &r.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        c.reference::<SalientRow>(r.line, "unit", &r.unit, "unit", &units, "units.csv");
        c.figure::<SalientRow>(r.line, r.status, r.value);
    }
    for r in &ds.import_reliance {
        c.reference::<ImportRelianceRow>(
            r.line,
            "commodity_id",
            &r.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        c.reference::<ImportRelianceRow>(
            r.line,
            "importer",
            &r.importer,
            "country",
            &countries,
            "countries.csv",
        );
        for src in r.major_sources.split(';').filter(|s| !s.is_empty()) {
            c.reference::<ImportRelianceRow>(
                r.line,
                "major_sources",
                src,
                "country",
                &countries,
                "countries.csv",
            );
        }
        c.figure::<ImportRelianceRow>(r.line, r.status, r.value);
    }
    for r in &ds.governance {
        c.reference::<GovernanceRow>(
            r.line,
            "iso3",
            &r.iso3,
            "country",
            &countries,
            "countries.csv",
        );
        for (col, v) in [
            ("va", r.va),
            ("pv", r.pv),
            ("ge", r.ge),
            ("rq", r.rq),
            ("rl", r.rl),
            ("cc", r.cc),
        ] {
            if let Some(v) = v.filter(|v| !(-5.0..=5.0).contains(v)) {
                c.err::<GovernanceRow>(
                    r.line,
                    col,
                    format!("WGI estimate {v} is outside the indicator's range"),
                    "WGI estimates run from about -2.5 to 2.5".to_string(),
                );
            }
        }
    }
    for r in &ds.usgs_t5 {
        let key = format!("{}/{}", r.commodity_id, r.stage_id);
        if !r.commodity_id.is_empty() && !stage_keys.contains(&key) {
            c.err::<T5Row>(
                r.line,
                "stage_id",
                format!("unknown commodity/stage '{key}'"),
                "map the row to a (commodity, stage) of stages.csv".to_string(),
            );
        }
        if !r.leading_entity.is_empty() {
            c.reference::<T5Row>(
                r.line,
                "leading_entity",
                &r.leading_entity,
                "country",
                &countries,
                "countries.csv",
            );
        }
    }
    for f in &ds.facts {
        if let Some(id) = &f.commodity_id {
            c.reference::<Fact>(
                f.line,
                "commodity_id",
                id,
                "commodity",
                &commodities,
                "commodities.csv",
            );
        }
    }
    check_model(&mut c, ds, &commodities, &stage_keys, &units);
    let assumption_ids: HashSet<&str> = ds
        .assumptions
        .iter()
        .map(|a| a.assumption_id.as_str())
        .collect();
    for id in REQUIRED_ASSUMPTIONS {
        if !assumption_ids.contains(id) {
            let line = ds.assumptions.last().map_or(1, |a| a.line + 1);
            c.err::<Assumption>(
                line,
                "assumption_id",
                format!("required assumption '{id}' is missing"),
                "add it back with its value and rationale (see data/PROVENANCE.md)".to_string(),
            );
        }
    }
}

/// The world model's tables: region rules, goods, input coefficients (an acyclic graph).
fn check_model(
    c: &mut Checker<'_, '_>,
    ds: &Dataset,
    commodities: &HashSet<&str>,
    stage_keys: &HashSet<String>,
    units: &HashSet<&str>,
) {
    c.unique::<ModelRegion, _>(
        ds.model_regions
            .iter()
            .map(|r| (r.line, r.region_id.clone())),
        "region_id",
    );
    if let Err(errors) = crate::world::RegionMap::from_dataset(ds) {
        for e in errors {
            c.err::<ModelRegion>(e.line, "members", e.message, e.hint);
        }
    }
    c.unique::<Good, _>(
        ds.goods.iter().map(|g| (g.line, g.good_id.clone())),
        "good_id",
    );
    for g in &ds.goods {
        c.reference::<Good>(
            g.line,
            "commodity_id",
            &g.commodity_id,
            "commodity",
            commodities,
            "commodities.csv",
        );
        let key = format!("{}/{}", g.commodity_id, g.stage_id);
        if commodities.contains(g.commodity_id.as_str()) && !stage_keys.contains(&key) {
            c.err::<Good>(
                g.line,
                "stage_id",
                format!("unknown stage '{}' of {}", g.stage_id, g.commodity_id),
                format!("add ({}, {}) to stages.csv", g.commodity_id, g.stage_id),
            );
        }
        c.reference::<Good>(g.line, "unit", &g.unit, "unit", units, "units.csv");
    }
    let goods: HashSet<&str> = ds.goods.iter().map(|g| g.good_id.as_str()).collect();
    c.unique::<InputCoefficient, _>(
        ds.inputs
            .iter()
            .map(|i| (i.line, (i.output_good.clone(), i.input_good.clone()))),
        "input_good",
    );
    for i in &ds.inputs {
        c.reference::<InputCoefficient>(
            i.line,
            "output_good",
            &i.output_good,
            "good",
            &goods,
            "model/goods.csv",
        );
        c.reference::<InputCoefficient>(
            i.line,
            "input_good",
            &i.input_good,
            "good",
            &goods,
            "model/goods.csv",
        );
        if !(i.coefficient.is_finite() && i.coefficient > 0.0) {
            c.err::<InputCoefficient>(
                i.line,
                "coefficient",
                format!("coefficient {} must be a positive number", i.coefficient),
                "units of input per unit of output, > 0".into(),
            );
        }
    }
    check_base_year(c, ds, &goods, commodities, stage_keys);
    check_demand_overrides(c, ds, commodities);
    check_stockpiles(c, ds);
    check_plants(c, ds);
    check_projects(c, ds);
    check_companies(c, ds);
    check_criticality(c, ds);
    check_usgs(c, ds);
    check_end_uses(c, ds);
    if let Some(line) = input_cycle(ds) {
        c.err::<InputCoefficient>(
            line,
            "input_good",
            "the input coefficients form a cycle (a good is, through its inputs, an input of \
             itself)"
                .into(),
            "chains run from mined ore to end products: remove the link that closes the cycle"
                .into(),
        );
    }
}

/// The rows of `model/base_year.csv`: every reference resolves, every number is usable.
fn check_base_year(
    c: &mut Checker<'_, '_>,
    ds: &Dataset,
    goods: &HashSet<&str>,
    commodities: &HashSet<&str>,
    stage_keys: &HashSet<String>,
) {
    use crate::world::base::{
        ConsumptionRule, OutputSpec, known_source, parse_consumption, parse_output,
    };
    c.unique::<BaseYearSpec, _>(
        ds.base_year.iter().map(|s| (s.line, s.good_id.clone())),
        "good_id",
    );
    let regions = places(ds);
    for s in &ds.base_year {
        c.reference::<BaseYearSpec>(
            s.line,
            "good_id",
            &s.good_id,
            "good",
            goods,
            "model/goods.csv",
        );
        match parse_output(&s.output) {
            Err(m) => c.err::<BaseYearSpec>(
                s.line,
                "output",
                m,
                "e.g. copper/mining/2024/usgs_mcs2025_world, or plants".into(),
            ),
            Ok(OutputSpec::Plants(of)) => {
                let of = of.as_deref().unwrap_or(&s.good_id);
                if !ds.plants.iter().any(|p| p.good_id == of) {
                    c.err::<BaseYearSpec>(
                        s.line,
                        "output",
                        format!("model/plants.csv has no row for {of}"),
                        "add the good's plant capacities to model/plants.csv".into(),
                    );
                }
            }
            Ok(OutputSpec::Supply {
                commodity,
                stage,
                source,
                ..
            }) => {
                if !commodities.contains(commodity.as_str())
                    || !stage_keys.contains(&format!("{commodity}/{stage}"))
                {
                    c.err::<BaseYearSpec>(
                        s.line,
                        "output",
                        format!("unknown commodity/stage '{commodity}/{stage}'"),
                        "use a (commodity, stage) of stages.csv".into(),
                    );
                }
                if !known_source(ds, &source) {
                    c.err::<BaseYearSpec>(
                        s.line,
                        "output",
                        format!("unknown source '{source}'"),
                        "use a source_id of sources.csv, or supplementary_facts".into(),
                    );
                }
            }
        }
        for (column, v) in [
            ("output_factor", s.output_factor),
            ("price", s.price),
            ("supply_elasticity", s.supply_elasticity),
            ("demand_elasticity", s.demand_elasticity),
        ] {
            if !(v.is_finite() && v > 0.0) {
                c.err::<BaseYearSpec>(
                    s.line,
                    column,
                    format!("{column} {v} must be a positive number"),
                    hint_for_column("value"),
                );
            }
        }
        match parse_consumption(&s.consumption) {
            Err(m) => c.err::<BaseYearSpec>(
                s.line,
                "consumption",
                m,
                "where_produced, or shares:CHN=58;*=42 (percent, summing to 100)".into(),
            ),
            Ok(ConsumptionRule::Shares(shares)) => {
                for id in shares.iter().filter_map(|(w, _)| w.as_ref()).flatten() {
                    c.reference::<BaseYearSpec>(
                        s.line,
                        "consumption",
                        id,
                        "model region or country",
                        &regions,
                        "model/regions.csv or countries.csv",
                    );
                }
            }
            Ok(ConsumptionRule::WhereProduced) => {}
        }
        if !s.capacity_path.is_empty() {
            let known = s.capacity_path.split_once('/').is_some_and(|(c, st)| {
                commodities.contains(c) && stage_keys.contains(&format!("{c}/{st}"))
            });
            if !known {
                c.err::<BaseYearSpec>(
                    s.line,
                    "capacity_path",
                    format!("capacity_path '{}' is not a known COMMODITY/STAGE", s.capacity_path),
                    "e.g. magnet_ree/refining (a (commodity, stage) of stages.csv), or leave it empty"
                        .into(),
                );
            }
        }
        if !matches!(s.secondary.trim(), "" | "fill") {
            c.err::<BaseYearSpec>(
                s.line,
                "secondary",
                format!("secondary '{}' is neither empty nor 'fill'", s.secondary),
                "fill lets secondary supply cover processing use beyond output".into(),
            );
        }
    }
}

/// The rows of `model/demand_overrides.csv`.
fn check_demand_overrides(c: &mut Checker<'_, '_>, ds: &Dataset, commodities: &HashSet<&str>) {
    let scenarios: HashSet<&str> = ds
        .demand
        .iter()
        .map(|r| r.scenario.as_str())
        .filter(|s| *s != "base_year")
        .collect();
    let sectors: HashSet<&str> = ds.sectors.iter().map(|s| s.sector_id.as_str()).collect();
    for o in &ds.demand_overrides {
        c.reference::<DemandOverride>(
            o.line,
            "base_scenario",
            &o.base_scenario,
            "IEA scenario",
            &scenarios,
            "demand.csv",
        );
        if scenarios.contains(o.scenario.as_str()) {
            c.err::<DemandOverride>(
                o.line,
                "scenario",
                format!("'{}' is an IEA scenario of demand.csv", o.scenario),
                "give the path its own id (e.g. seed)".into(),
            );
        }
        c.reference::<DemandOverride>(
            o.line,
            "commodity_id",
            &o.commodity_id,
            "commodity",
            commodities,
            "commodities.csv",
        );
        c.reference::<DemandOverride>(
            o.line,
            "sector_id",
            &o.sector_id,
            "sector",
            &sectors,
            "sectors.csv",
        );
        if !matches!(o.rule.as_str(), "growth" | "level") {
            c.err::<DemandOverride>(
                o.line,
                "rule",
                format!("rule '{}' is neither growth nor level", o.rule),
                "growth: value is the ratio to the year before; level: the year's demand".into(),
            );
        }
        if !(o.value.is_finite() && o.value > 0.0) {
            c.err::<DemandOverride>(
                o.line,
                "value",
                format!("value {} must be a positive number", o.value),
                hint_for_column("value"),
            );
        }
    }
}

/// The rows of `model/stockpiles.csv`.
fn check_stockpiles(c: &mut Checker<'_, '_>, ds: &Dataset) {
    c.unique::<Stockpile, _>(
        ds.stockpiles
            .iter()
            .map(|s| (s.line, s.stockpile_id.clone())),
        "stockpile_id",
    );
    let regions: HashSet<&str> = ds
        .model_regions
        .iter()
        .map(|r| r.region_id.as_str())
        .collect();
    let goods: HashSet<&str> = ds.base_year.iter().map(|b| b.good_id.as_str()).collect();
    for s in &ds.stockpiles {
        c.reference::<Stockpile>(
            s.line,
            "region_id",
            &s.region_id,
            "model region",
            &regions,
            "model/regions.csv",
        );
        c.reference::<Stockpile>(
            s.line,
            "good_id",
            &s.good_id,
            "base-year good",
            &goods,
            "model/base_year.csv",
        );
        for (column, v) in [
            ("capacity", s.capacity),
            ("initial", s.initial),
            ("buy_below", s.buy_below),
            ("release_above", s.release_above),
            ("max_buy", s.max_buy),
            ("max_release", s.max_release),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                c.err::<Stockpile>(
                    s.line,
                    column,
                    format!("{column} {v} must be a number ≥ 0"),
                    hint_for_column("value"),
                );
            }
        }
        if s.initial > s.capacity {
            c.err::<Stockpile>(
                s.line,
                "initial",
                format!(
                    "initial stock {} exceeds capacity {}",
                    s.initial, s.capacity
                ),
                "the initial stock must fit in the capacity".into(),
            );
        }
        if s.buy_below >= s.release_above {
            c.err::<Stockpile>(
                s.line,
                "release_above",
                format!(
                    "release price {} is not above the buy price {}",
                    s.release_above, s.buy_below
                ),
                "a stock buys low and releases high: release_above > buy_below".into(),
            );
        }
    }
}

/// Places a model table may name: model region ids and ISO3 countries.
fn places(ds: &Dataset) -> HashSet<&str> {
    ds.model_regions
        .iter()
        .map(|r| r.region_id.as_str())
        .chain(ds.countries.iter().map(|c| c.iso3.as_str()))
        .collect()
}

/// Places (model regions and countries) and base-year good ids, for references from the model tables.
fn model_ids(ds: &Dataset) -> (HashSet<&str>, HashSet<&str>) {
    let regions = places(ds);
    let goods = ds.base_year.iter().map(|b| b.good_id.as_str()).collect();
    (regions, goods)
}

/// Reports every column of `values` that is not a finite number within `range`.
fn check_numbers<T: Table>(
    c: &mut Checker<'_, '_>,
    line: u32,
    values: &[(&str, f64)],
    range: std::ops::RangeInclusive<f64>,
) {
    for &(column, v) in values {
        if !(v.is_finite() && range.contains(&v)) {
            c.err::<T>(
                line,
                column,
                format!(
                    "{column} {v} must be a number from {} to {}",
                    range.start(),
                    range.end()
                ),
                hint_for_column("value"),
            );
        }
    }
}

/// Checks a row's place (model region or country) and base-year good.
fn place_and_good<T: Table>(
    c: &mut Checker<'_, '_>,
    line: u32,
    place: &str,
    good: &str,
    places: &HashSet<&str>,
    goods: &HashSet<&str>,
) {
    c.reference::<T>(
        line,
        "region_id",
        place,
        "model region or country",
        places,
        "model/regions.csv or countries.csv",
    );
    c.reference::<T>(
        line,
        "good_id",
        good,
        "base-year good",
        goods,
        "model/base_year.csv",
    );
}

/// The rows of `model/plants.csv`.
fn check_plants(c: &mut Checker<'_, '_>, ds: &Dataset) {
    let (regions, goods) = model_ids(ds);
    for p in &ds.plants {
        place_and_good::<Plant>(c, p.line, &p.region_id, &p.good_id, &regions, &goods);
        check_numbers::<Plant>(c, p.line, &[("capacity", p.capacity)], 0.0..=f64::MAX);
        if !matches!(p.confidence.as_str(), "high" | "medium" | "low") {
            c.err::<Plant>(
                p.line,
                "confidence",
                format!("confidence '{}' is not high, medium or low", p.confidence),
                "say how far the figure can be trusted: high, medium or low".into(),
            );
        }
    }
}

/// The rows of `model/projects.csv`.
fn check_projects(c: &mut Checker<'_, '_>, ds: &Dataset) {
    c.unique::<Project, _>(
        ds.projects.iter().map(|p| (p.line, p.project_id.clone())),
        "project_id",
    );
    let (regions, goods) = model_ids(ds);
    for p in &ds.projects {
        place_and_good::<Project>(c, p.line, &p.region_id, &p.good_id, &regions, &goods);
        check_numbers::<Project>(
            c,
            p.line,
            &[
                ("capacity", p.capacity),
                ("unit_cost", p.unit_cost.unwrap_or(0.0)),
                ("capex", p.capex.unwrap_or(0.0)),
                ("ramp_years", p.ramp_years),
            ],
            0.0..=f64::MAX,
        );
        check_numbers::<Project>(c, p.line, &[("probability", p.probability)], 0.0..=1.0);
        check_numbers::<Project>(c, p.line, &[("start", p.start)], 1900.0..=2200.0);
        const STATUSES: [&str; 5] = [
            "exploration",
            "permitting",
            "construction",
            "production",
            "blocked",
        ];
        if !STATUSES.contains(&p.status.as_str()) {
            c.err::<Project>(
                p.line,
                "status",
                format!(
                    "status '{}' is not one of {}",
                    p.status,
                    STATUSES.join(", ")
                ),
                "the project's stage of development".into(),
            );
        }
    }
}

/// The rows of `model/companies.csv`: known places and goods, capacities ≥ 0, known bases.
fn check_companies(c: &mut Checker<'_, '_>, ds: &Dataset) {
    let (regions, goods) = model_ids(ds);
    for x in &ds.companies {
        place_and_good::<Company>(c, x.line, &x.region_id, &x.good_id, &regions, &goods);
        check_numbers::<Company>(c, x.line, &[("capacity", x.capacity)], 0.0..=f64::MAX);
        const BASES: [&str; 3] = ["capacity", "output", "project"];
        if !BASES.contains(&x.basis.as_str()) {
            c.err::<Company>(
                x.line,
                "basis",
                format!("basis '{}' is not one of {}", x.basis, BASES.join(", ")),
                "capacity, output (when only output is published) or project".into(),
            );
        }
    }
}

/// The rows of `model/criticality_eu.csv` and `model/criticality_trade.csv`: known
/// commodities and stages, numbers in range.
fn check_criticality(c: &mut Checker<'_, '_>, ds: &Dataset) {
    let commodities: HashSet<&str> = ds
        .commodities
        .iter()
        .map(|x| x.commodity_id.as_str())
        .collect();
    const STAGES: [&str; 2] = ["extraction", "processing"];
    for x in &ds.criticality_eu {
        c.reference::<CriticalityEu>(
            x.line,
            "commodity_id",
            &x.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        if !STAGES.contains(&x.stage.as_str()) {
            c.err::<CriticalityEu>(
                x.line,
                "stage",
                format!("stage '{}' is not extraction or processing", x.stage),
                "the EU method assesses extraction and processing".into(),
            );
        }
        for (name, v, range) in [
            ("ir_pct", x.ir_pct, 0.0..=100.0),
            ("eol_rir_pct", x.eol_rir_pct, 0.0..=100.0),
            ("si_sr", x.si_sr, 0.0..=1.0),
            ("si_ei", x.si_ei, 0.0..=1.0),
            ("sr_published", x.sr_published, 0.0..=f64::MAX),
            ("ei_published", x.ei_published, 0.0..=f64::MAX),
        ] {
            if let Some(v) = v {
                check_numbers::<CriticalityEu>(c, x.line, &[(name, v)], range);
            }
        }
    }
    for x in &ds.criticality_trade {
        c.reference::<CriticalityTrade>(
            x.line,
            "commodity_id",
            &x.commodity_id,
            "commodity",
            &commodities,
            "commodities.csv",
        );
        check_numbers::<CriticalityTrade>(c, x.line, &[("t", x.t)], 0.0..=f64::MAX);
    }
}

/// The rows of `model/criticality_usgs.csv` and `model/industry_accounts.csv`: known
/// commodities and sectors, scores and accounts in range, one `total` per region.
fn check_usgs(c: &mut Checker<'_, '_>, ds: &Dataset) {
    let commodities: HashSet<&str> = ds
        .commodities
        .iter()
        .map(|x| x.commodity_id.as_str())
        .collect();
    for x in &ds.criticality_usgs {
        for (column, value) in [
            ("commodity_id", &x.commodity_id),
            ("nir_commodity_id", &x.nir_commodity_id),
        ] {
            c.reference::<CriticalityUsgs>(
                x.line,
                column,
                value,
                "commodity",
                &commodities,
                "commodities.csv",
            );
        }
        if let Some(v) = x.sr_published {
            check_numbers::<CriticalityUsgs>(c, x.line, &[("sr_published", v)], 0.0..=1.0);
        }
    }
    let sectors: HashSet<&str> = ds.sectors.iter().map(|s| s.sector_id.as_str()).collect();
    let mut totals: HashMap<&str, u32> = HashMap::new();
    for x in &ds.industry_accounts {
        if ds.unit(&x.unit).is_none_or(|u| u.base_unit != "USD") {
            c.err::<IndustryAccount>(
                x.line,
                "unit",
                format!("unit '{}' is not a US-dollar unit of units.csv", x.unit),
                "give value added and operating surplus in USD, USD_bn or another unit whose \
                 base unit is USD"
                    .into(),
            );
        }
        if x.industry == "total" {
            if totals.insert(x.region.as_str(), x.line).is_some() {
                c.err::<IndustryAccount>(
                    x.line,
                    "industry",
                    format!("a second `total` row for {}", x.region),
                    "keep one row of GDP per region".into(),
                );
            }
            check_numbers::<IndustryAccount>(
                c,
                x.line,
                &[("value_added", x.value_added)],
                f64::MIN_POSITIVE..=f64::MAX,
            );
            continue;
        }
        for s in x.sectors.split(';').map(str::trim) {
            c.reference::<IndustryAccount>(x.line, "sectors", s, "sector", &sectors, "sectors.csv");
        }
        let os = x.operating_surplus.unwrap_or(0.0);
        check_numbers::<IndustryAccount>(
            c,
            x.line,
            &[("value_added", x.value_added), ("operating_surplus", os)],
            f64::MIN_POSITIVE..=f64::MAX,
        );
    }
    for x in &ds.industry_accounts {
        if !totals.contains_key(x.region.as_str()) {
            c.err::<IndustryAccount>(
                x.line,
                "region",
                format!("{} has industries but no `total` row (its GDP)", x.region),
                "add a row with industry `total` and the region's GDP as value_added".into(),
            );
        }
    }
}

/// The rows of `model/end_uses.csv`: known goods and sectors, shares per good summing to 1.
fn check_end_uses(c: &mut Checker<'_, '_>, ds: &Dataset) {
    let (_, goods) = model_ids(ds);
    let sectors: HashSet<&str> = ds.sectors.iter().map(|s| s.sector_id.as_str()).collect();
    let commodities: HashSet<&str> = ds
        .commodities
        .iter()
        .map(|c| c.commodity_id.as_str())
        .collect();
    c.unique::<EndUse, _>(
        ds.end_uses
            .iter()
            .map(|e| (e.line, format!("{}/{}", e.good_id, e.sector_id))),
        "sector_id",
    );
    for e in &ds.end_uses {
        c.reference::<EndUse>(
            e.line,
            "good_id",
            &e.good_id,
            "base-year good",
            &goods,
            "model/base_year.csv",
        );
        c.reference::<EndUse>(
            e.line,
            "sector_id",
            &e.sector_id,
            "sector",
            &sectors,
            "sectors.csv",
        );
        check_numbers::<EndUse>(
            c,
            e.line,
            &[("elasticity", e.elasticity)],
            f64::MIN_POSITIVE..=f64::MAX,
        );
        for (column, text) in [("share", &e.share), ("growth", &e.growth)] {
            if let Some(commodity) = text.strip_prefix("iea:") {
                c.reference::<EndUse>(
                    e.line,
                    column,
                    commodity,
                    "commodity",
                    &commodities,
                    "commodities.csv",
                );
            }
        }
        if e.share.strip_prefix("iea:").is_none() {
            match e.share.trim().parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => {}
                _ => c.err::<EndUse>(
                    e.line,
                    "share",
                    format!(
                        "share '{}' is neither a number from 0 to 1 nor iea:COMMODITY",
                        e.share
                    ),
                    "e.g. 0.25, or iea:lithium for the IEA base-year share".into(),
                ),
            }
        }
        if !(e.growth.starts_with("iea:") || matches!(e.growth.as_str(), "good" | "constant")) {
            c.err::<EndUse>(
                e.line,
                "growth",
                format!(
                    "growth '{}' is not iea:COMMODITY, good or constant",
                    e.growth
                ),
                "iea:lithium follows the IEA path of this sector; good the good's total".into(),
            );
        }
    }
}

/// The line of an input link that closes a cycle, if the input graph has one.
fn input_cycle(ds: &Dataset) -> Option<u32> {
    // Kahn's algorithm on output → input edges; links left over lie on or behind a cycle.
    let mut indegree: HashMap<&str, usize> = HashMap::new();
    for i in &ds.inputs {
        indegree.entry(&i.output_good).or_insert(0);
        *indegree.entry(&i.input_good).or_insert(0) += 1;
    }
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(g, _)| *g)
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    while let Some(g) = ready.pop() {
        done.insert(g);
        for i in ds.inputs.iter().filter(|i| i.output_good == g) {
            let d = indegree.get_mut(i.input_good.as_str())?;
            *d -= 1;
            if *d == 0 {
                ready.push(&i.input_good);
            }
        }
    }
    ds.inputs
        .iter()
        .find(|i| !done.contains(i.output_good.as_str()))
        .map(|i| i.line)
}

fn check_entity(c: &mut Checker<'_, '_>, r: &SupplyRow, countries: &HashSet<&str>) {
    let expected = match r.entity_kind {
        EntityKind::Country => {
            c.reference::<SupplyRow>(
                r.line,
                "entity",
                &r.entity,
                "country",
                countries,
                "countries.csv",
            );
            return;
        }
        EntityKind::World => "WORLD",
        EntityKind::Other => "OTHER",
        EntityKind::Row => "ROW",
        EntityKind::Group | EntityKind::Company => return,
    };
    if r.entity != expected {
        c.err::<SupplyRow>(
            r.line,
            "entity",
            format!(
                "entity '{}' does not match entity_kind {:?}",
                r.entity, r.entity_kind
            ),
            format!("rows of this kind use the entity '{expected}'"),
        );
    }
}

fn valid_period(p: &str) -> bool {
    let b = p.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => digits(b),
        7 => {
            digits(&b[..4])
                && b[4] == b'-'
                && digits(&b[5..])
                && matches!(p[5..].parse::<u8>(), Ok(1..=12))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::valid_period;

    #[test]
    fn periods() {
        assert!(valid_period("2024"));
        assert!(valid_period("2024-05"));
        assert!(!valid_period("2024M05"));
        assert!(!valid_period("2024-13"));
    }
}
