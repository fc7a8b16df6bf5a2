//! The baseline: the calibrated base year run quarter by quarter, demand growing along an IEA
//! scenario and capacity along the IEA base-case supply projections.
//!
//! Each quarter clears as one market of all goods (quarterly quantities: a quarter of the annual
//! curves). Between quarters, demand curves widen by the demand index of their commodity
//! (IEA total demand in the chosen scenario, relative to the base year, linear between the
//! IEA years) and supply curves and processing capacity by the supply index of their commodity
//! and stage (IEA base-case production projection of the region, same interpolation; the
//! world projection for regions the IEA does not name). Where the IEA has no path
//! the index stays 1 (assumption `model_constant_without_projection`). Stockpiles of
//! `model/stockpiles.csv` buy below and release above their trigger prices, their stocks
//! carried from quarter to quarter. Regional pipelines and policy events are not yet in the
//! loop.

use serde::Serialize;

use chokepoint_equilibrium::{
    DemandStep, FastOptions, FastSolver, Market, Solution, SolveStatus, SolverPath, SupplyStep,
    calibrate,
};

use crate::dataset::Dataset;
use crate::dataset::tables::{Case, DemandOverride, EntityKind, Metric, Project};
use crate::metrics::concentration::source_family;

use super::path::Path;
use super::sectors::{DemandKey, Sector, sectors, split_demand};
use super::{BaseYearError, RegionMap, build_base_year};

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineOptions {
    /// Last year to run (through its fourth quarter).
    pub to_year: i32,
    /// Demand path: an IEA scenario of `demand.csv` (`steps`, `aps`, `nze`) or a path of
    /// `model/demand_overrides.csv` (`seed`: the seed article's copper and storage-lithium
    /// figures on IEA STEPS).
    pub scenario: String,
}

/// One region and good in one quarter. Quantities are per quarter, in the good's model unit.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodRow {
    /// `2025Q1`.
    pub period: String,
    /// Model region id.
    pub region: String,
    /// Good id.
    pub good: String,
    /// Price (currency per unit), absent where nothing pins it.
    pub price: Option<f64>,
    /// Primary supply plus processing output.
    pub production: f64,
    /// Final consumption.
    pub consumption: f64,
    /// Arrivals by route.
    pub imports: f64,
    /// Departures by route.
    pub exports: f64,
    /// Stockpile purchases minus releases in the quarter (not in production or consumption).
    pub stock_change: f64,
    /// Stock held at the end of the quarter.
    pub inventory: f64,
    /// Demand at the base-year price minus consumption, when positive.
    pub shortfall: f64,
}

/// One end-use sector's demand for a good in one region and quarter (goods without sectors
/// have one row, sector `total`). Quantities per quarter.
#[derive(Debug, Clone, Serialize)]
pub struct SectorRow {
    /// `2025Q1`.
    pub period: String,
    /// Model region id.
    pub region: String,
    /// Good id.
    pub good: String,
    /// Sector id (`sectors.csv`), or `total`.
    pub sector: String,
    /// What the sector consumed.
    pub consumption: f64,
    /// What it would take at the base-year price.
    pub demand_at_base_price: f64,
    /// `demand_at_base_price − consumption`, when positive.
    pub shortfall: f64,
}

/// A bilateral flow in one quarter (model units per quarter).
#[derive(Debug, Clone, Serialize)]
pub struct FlowRow {
    /// `2025Q1`.
    pub period: String,
    /// Exporting region.
    pub from: String,
    /// Importing region.
    pub to: String,
    /// Good.
    pub good: String,
    /// Quantity shipped.
    pub flow: f64,
}

impl Baseline {
    /// Every positive bilateral flow of every quarter that cleared: imports and exports by
    /// partner.
    pub fn flow_rows(&self) -> Vec<FlowRow> {
        let mut out = Vec::new();
        for (p, flows) in self.periods.iter().zip(&self.quarter_flows) {
            for ((from, to, good), &f) in self.routes.iter().zip(flows) {
                if f > 0.0 {
                    out.push(FlowRow {
                        period: p.period.clone(),
                        from: from.clone(),
                        to: to.clone(),
                        good: good.clone(),
                        flow: f,
                    });
                }
            }
        }
        out
    }
}

/// One quarter of a reserve held by a `stockpile` event: what it bought and released.
#[derive(Debug, Clone, Serialize)]
pub struct ReserveRow {
    /// Quarter.
    pub period: String,
    /// Event id.
    pub event: String,
    /// Bought this quarter (model units).
    pub bought: f64,
    /// Released this quarter.
    pub released: f64,
    /// Stock held at the end of the quarter.
    pub stock: f64,
}

/// One quarter of a pipeline project: its output and what each unit earned over its costs.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    /// Quarter.
    pub period: String,
    /// Project id (`model/projects.csv`).
    pub project: String,
    /// Output this quarter (model units).
    pub output: f64,
    /// Price of the output where it is made.
    pub price: f64,
    /// Operating margin per unit at the quarter's prices: the price less the unit cost (a mine)
    /// or less the inputs' value and the processing cost (a plant).
    pub unit_margin: f64,
}

/// How one quarter's clearing went.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodStatus {
    /// `2025Q1`.
    pub period: String,
    /// Solve outcome.
    pub status: SolveStatus,
    /// Largest balance/complementarity violation of the solution.
    pub max_violation: f64,
    /// Which path cleared it (the fast path, or the reference when the fast one handed over).
    pub solver: SolverPath,
    /// Why the fast path handed the quarter to the reference path, when it did.
    pub fallback: Option<String>,
}

/// The baseline run.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// Demand scenario used.
    pub scenario: String,
    /// Per quarter: status.
    pub periods: Vec<PeriodStatus>,
    /// Per quarter, region and good: prices and quantities.
    pub rows: Vec<PeriodRow>,
    /// Per quarter, region, good and end-use sector: consumption and shortfall.
    pub sector_rows: Vec<SectorRow>,
    /// Route flows of every quarter (empty where it did not clear), for scenario runs.
    #[serde(skip)]
    pub quarter_flows: Vec<Vec<f64>>,
    /// Node prices of every quarter (empty where it did not clear).
    #[serde(skip)]
    pub quarter_prices: Vec<Vec<f64>>,
    /// Plant activities of every quarter (empty where it did not clear): with the flows and
    /// prices, a warm start for runs over the same quarters.
    #[serde(skip)]
    pub quarter_activity: Vec<Vec<f64>>,
    /// (from region, to region, good) of every route, in the order of `quarter_flows`.
    #[serde(skip)]
    pub routes: Vec<(String, String, String)>,
    /// Remarks (goods without an IEA path, ...).
    pub notes: Vec<String>,
    /// Reserves held by `stockpile` events, per quarter (for the finance report).
    #[serde(skip)]
    pub reserve_rows: Vec<ReserveRow>,
    /// Pipeline projects with capacity, per quarter (for the finance report).
    #[serde(skip)]
    pub project_rows: Vec<ProjectRow>,
}

/// Why a baseline cannot run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BaselineError {
    /// The base year cannot be assembled.
    #[error("{0}")]
    BaseYear(#[from] BaseYearError),
    /// The base year cannot be calibrated.
    #[error("calibration: {0}")]
    Calibration(String),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
}

/// IEA demand of one sector (or `total`) of a commodity: the base year plus the scenario.
pub(crate) fn iea_points(ds: &Dataset, commodity: &str, sector: &str, scenario: &str) -> Path {
    let mut points: Vec<(f64, f64)> = ds
        .demand
        .iter()
        .filter(|r| {
            r.commodity_id == commodity
                && r.sector_id == sector
                && (r.scenario == scenario || r.scenario == "base_year")
        })
        .filter_map(|r| Some((f64::from(r.year), r.value?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Path { points }
}

/// Total demand of a commodity along a demand path: an IEA scenario of `demand.csv`, or a
/// path of `model/demand_overrides.csv` built on one (sector changes are summed over the
/// commodity's sectors; total changes apply last).
pub(crate) fn demand_path(
    ds: &Dataset,
    commodity: &str,
    scenario: &str,
    apply_total: bool,
) -> Option<Path> {
    let iea = ds
        .demand_overrides
        .iter()
        .find(|o| o.scenario == scenario)
        .map_or(scenario, |o| o.base_scenario.as_str());
    let rules: Vec<&DemandOverride> = ds
        .demand_overrides
        .iter()
        .filter(|o| o.scenario == scenario && o.commodity_id == commodity)
        .collect();
    let (total_rules, sector_rules): (Vec<&DemandOverride>, Vec<&DemandOverride>) =
        rules.into_iter().partition(|o| o.sector_id == "total");
    let mut total = if sector_rules.is_empty() {
        iea_points(ds, commodity, "total", iea)
    } else {
        let aggregate: std::collections::HashSet<&str> = ds
            .sectors
            .iter()
            .filter(|s| s.aggregate)
            .map(|s| s.sector_id.as_str())
            .collect();
        let mut sectors: Vec<&str> = ds
            .demand
            .iter()
            .filter(|r| r.commodity_id == commodity && !aggregate.contains(r.sector_id.as_str()))
            .map(|r| r.sector_id.as_str())
            .collect();
        sectors.sort_unstable();
        sectors.dedup();
        let paths: Vec<Path> = sectors
            .iter()
            .map(|sector| {
                let mut p = iea_points(ds, commodity, sector, iea);
                let mine: Vec<&DemandOverride> = sector_rules
                    .iter()
                    .copied()
                    .filter(|o| o.sector_id == *sector)
                    .collect();
                p.apply(&mine);
                p
            })
            .collect();
        let mut years: Vec<f64> = paths
            .iter()
            .flat_map(|p| p.points.iter().map(|x| x.0))
            .collect();
        years.sort_by(f64::total_cmp);
        years.dedup();
        Path {
            points: years
                .into_iter()
                .map(|y| (y, paths.iter().map(|p| p.value(y)).sum()))
                .collect(),
        }
    };
    if apply_total {
        total.apply(&total_rules);
    }
    (total.points.len() >= 2).then_some(total)
}

/// IEA world production of a commodity and stage: 2023 actual plus base-case projections.
fn supply_path(ds: &Dataset, commodity: &str, stage: &str) -> Option<Path> {
    let mut points: Vec<(f64, f64)> = ds
        .supply
        .iter()
        .filter(|r| {
            r.commodity_id == commodity
                && r.stage_id == stage
                && r.metric == Metric::Production
                && r.entity_kind == EntityKind::World
                && source_family(&r.source_id) == "iea_cmde2024_supply"
                && matches!(r.case, Case::Actual | Case::ProjectionBaseCase)
        })
        .filter_map(|r| Some((f64::from(r.year), r.value?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    (points.len() >= 2).then_some(Path { points })
}

/// Where a pipeline project enters the market.
#[derive(Debug, Clone, Copy)]
enum ProjectSlot {
    /// A flat supply step (primary goods), index into `Market::supply`.
    Supply(usize),
    /// A plant (processed goods), index into `Market::processes`.
    Process(usize),
}

/// The base year, calibrated, and the growth paths of every good.
#[derive(Clone)]
struct Model {
    /// The calibrated market with demand split by sector and the pipeline's projects added
    /// (at zero capacity): the template of every quarter.
    market: Market,
    /// What drives each demand step of `market`.
    demand_keys: Vec<DemandKey>,
    /// Each demand step's annual demand at its base price.
    demand_base: Vec<f64>,
    sectors: Vec<Sector>,
    /// Per row of `model/projects.csv`: where it enters `market`.
    projects: Vec<ProjectSlot>,
    base: chokepoint_equilibrium::BaseYear,
    demand: Vec<Path>,
    /// Capacity index per good and region.
    supply: Vec<Vec<Path>>,
    /// Floor of a capacity index (assumption `model_min_capacity_index`).
    min_capacity: f64,
    notes: Vec<String>,
    /// The calibrated base year as a solution of `market` at annual rates (prices, route
    /// flows, plants at their base output, the pipeline's projects idle): where the first
    /// quarter's clearing starts.
    base_start: Solution,
}

/// IEA base-case output of a commodity and stage by model region, per IEA year: one path per
/// region, relative to the base year. A region without base-year output follows `world`.
fn regional_paths(
    ds: &Dataset,
    map: &RegionMap,
    commodity: &str,
    stage: &str,
    world: &Path,
    base_year: f64,
) -> Vec<Path> {
    let years: Vec<i32> = world.points.iter().map(|p| p.0 as i32).collect();
    let mut points: Vec<Vec<(f64, f64)>> = vec![Vec::new(); map.regions.len()];
    for year in years {
        let query = crate::metrics::concentration::ConcentrationQuery {
            commodity: commodity.to_string(),
            stage: Some(stage.to_string()),
            year: Some(year),
            source: Some("iea_cmde2024_supply".to_string()),
            metric: Metric::Production,
        };
        if let Ok(p) = super::production_by_region(ds, map, &query) {
            for (r, share) in p.regions.iter().enumerate() {
                points[r].push((f64::from(year), share.quantity));
            }
        }
    }
    points
        .into_iter()
        .map(|pts| {
            let path = Path { points: pts };
            if path.points.len() >= 2 && path.value(base_year) > 0.0 {
                path.relative_to(base_year)
            } else {
                world.clone()
            }
        })
        .collect()
}

fn model(ds: &Dataset, map: &RegionMap, scenario: &str) -> Result<Model, BaselineError> {
    let build = build_base_year(ds, map)?;
    let calibrated =
        calibrate(&build.base).map_err(|e| BaselineError::Calibration(e.to_string()))?;
    let base_year = f64::from(
        ds.assumption("default_year")
            .map_err(|e| BaselineError::Options(e.to_string()))? as i32,
    );
    let mut notes = build.notes.clone();
    let mut demand = Vec::new();
    let mut supply = Vec::new();
    for good in &build.base.goods {
        let g = ds.goods.iter().find(|x| &x.good_id == good);
        let (commodity, own_stage) =
            g.map_or(("", ""), |g| (g.commodity_id.as_str(), g.stage_id.as_str()));
        // Capacity follows the row's `capacity_path` (e.g. rare-earth oxides, metals and
        // magnets follow the IEA magnet rare-earth refining projection), else its own.
        let spec = ds.base_year.iter().find(|s| &s.good_id == good);
        let (supply_commodity, stage) = spec
            .and_then(|s| s.capacity_path.split_once('/'))
            .unwrap_or((commodity, own_stage));
        match demand_path(ds, commodity, scenario, true) {
            Some(p) => demand.push(p.relative_to(base_year)),
            None => {
                notes.push(format!(
                    "{good}: no IEA demand path for {commodity}; demand held at the base year \
                     (model_constant_without_projection)"
                ));
                demand.push(Path { points: Vec::new() });
            }
        }
        match supply_path(ds, supply_commodity, stage) {
            Some(p) => {
                let world = p.relative_to(base_year);
                supply.push(regional_paths(
                    ds,
                    map,
                    supply_commodity,
                    stage,
                    &world,
                    base_year,
                ));
            }
            None => {
                notes.push(format!(
                    "{good}: no IEA supply projection for {supply_commodity}/{stage}; capacity held at \
                     the base year (model_constant_without_projection)"
                ));
                supply.push(vec![Path { points: Vec::new() }; build.base.regions.len()]);
            }
        }
    }
    let min_capacity = ds
        .assumption("model_min_capacity_index")
        .map_err(|e| BaselineError::Options(e.to_string()))?;
    let sectors = sectors(
        ds,
        &build.base.goods,
        scenario,
        base_year,
        &demand,
        &mut notes,
    )?;
    let (mut market, demand_keys, demand_base) =
        split_demand(&calibrated.market, &calibrated.prices, &sectors);
    let projects = add_projects(ds, map, &build.base, &mut market)?;
    let mut base_start = Solution::failed(&market, SolveStatus::Optimal, 0);
    if calibrated.prices.len() == market.nodes() && calibrated.flows.len() == market.routes.len() {
        base_start.prices.clone_from(&calibrated.prices);
        base_start.flows.clone_from(&calibrated.flows);
        for (a, p) in base_start.activity.iter_mut().zip(&build.base.processes) {
            *a = p.capacity.unwrap_or(0.0);
        }
    } else {
        base_start.status = SolveStatus::NotConverged;
    }
    Ok(Model {
        base_start,
        market,
        demand_keys,
        demand_base,
        sectors,
        projects,
        base: build.base,
        demand,
        supply,
        min_capacity,
        notes,
    })
}

/// Adds every project of `model/projects.csv` to the market at zero capacity: a plant with
/// the good's inputs where the good is processed, else a flat supply step at its unit cost.
fn add_projects(
    ds: &Dataset,
    map: &RegionMap,
    base: &chokepoint_equilibrium::BaseYear,
    market: &mut Market,
) -> Result<Vec<ProjectSlot>, BaselineError> {
    let assumption = |id: &str| {
        ds.assumption(id)
            .map_err(|e| BaselineError::Options(e.to_string()))
    };
    let primary_share = assumption("model_project_unit_cost")?;
    let premium = assumption("model_project_margin_premium")?;
    let mut slots = Vec::new();
    for p in &ds.projects {
        let place = map
            .resolve(&p.region_id)
            .zip(base.goods.iter().position(|g| *g == p.good_id));
        let Some((region, good)) = place else {
            return Err(BaselineError::Options(format!(
                "model/projects.csv:{}: project {}: region {} or good {} is not in the base year",
                p.line, p.project_id, p.region_id, p.good_id
            )));
        };
        let inputs = market
            .processes
            .iter()
            .find(|x| x.output == good)
            .map(|x| x.inputs.clone());
        slots.push(match inputs {
            Some(inputs) => {
                let margin = base.prices[good]
                    - inputs.iter().map(|&(k, c)| c * base.prices[k]).sum::<f64>();
                market.processes.push(chokepoint_equilibrium::Process {
                    name: p.name.clone(),
                    region,
                    output: good,
                    inputs,
                    cost: p.unit_cost.unwrap_or(premium * margin.max(0.0)),
                    capacity: Some(0.0),
                });
                ProjectSlot::Process(market.processes.len() - 1)
            }
            None => {
                market.supply.push(SupplyStep {
                    region,
                    good,
                    intercept: p.unit_cost.unwrap_or(primary_share * base.prices[good]),
                    slope: 0.0,
                    capacity: Some(0.0),
                });
                ProjectSlot::Supply(market.supply.len() - 1)
            }
        });
    }
    Ok(slots)
}

/// Output and unit margin of every project with capacity in a cleared quarter.
fn project_rows_of(
    m: &Model,
    projects: &[Project],
    market: &Market,
    sol: &Solution,
    period: &str,
) -> Vec<ProjectRow> {
    let mut out = Vec::new();
    for (p, slot) in projects.iter().zip(&m.projects) {
        let (output, price, cost, capacity) = match *slot {
            ProjectSlot::Supply(k) => {
                let s = &market.supply[k];
                let price = sol.prices[market.node(s.region, s.good)];
                (sol.supply[k], price, s.intercept, s.capacity)
            }
            ProjectSlot::Process(k) => {
                let x = &market.processes[k];
                let price = sol.prices[market.node(x.region, x.output)];
                let inputs: f64 = x
                    .inputs
                    .iter()
                    .map(|&(g, c)| c * sol.prices[market.node(x.region, g)])
                    .sum();
                (sol.activity[k], price, x.cost + inputs, x.capacity)
            }
        };
        if capacity.unwrap_or(0.0) <= 0.0 {
            continue;
        }
        out.push(ProjectRow {
            period: period.to_string(),
            project: p.project_id.clone(),
            output,
            price,
            unit_margin: price - cost,
        });
    }
    out
}

/// A project's expected annual capacity at `year`: probability × capacity × ramp-up (linear
/// over `ramp_years` from `start`).
pub(crate) fn project_capacity(p: &crate::dataset::tables::Project, year: f64) -> f64 {
    if year < p.start {
        return 0.0;
    }
    let ramp = if p.ramp_years > 0.0 {
        ((year - p.start) / p.ramp_years).min(1.0)
    } else {
        1.0
    };
    p.probability * p.capacity * ramp
}

/// The market of one quarter: annual curves scaled to a quarter and by the growth indices.
/// Quarters in a year: annual rates (the base year's) over this are a quarter's quantities.
const QUARTERS: f64 = 4.0;

fn quarter_market(m: &Model, projects: &[Project], year: f64) -> Market {
    let mut market = m.market.clone();
    let index = |good: usize, region: usize| m.supply[good][region].value(year).max(m.min_capacity);
    for s in &mut market.supply {
        let h = index(s.good, s.region);
        // q(p) × h / 4: the slope of p(q) is multiplied by 4 / h.
        s.slope *= QUARTERS / h;
        s.capacity = s.capacity.map(|c| c * h / QUARTERS);
    }
    for (d, key) in market.demand.iter_mut().zip(&m.demand_keys) {
        let g = match *key {
            DemandKey::Good(g) => m.demand[g].value(year),
            DemandKey::Sector(s) => m.sectors[s].path.value(year),
        };
        if g > 0.0 {
            d.slope *= QUARTERS / g;
            d.capacity = d.capacity.map(|c| c * g / QUARTERS);
        } else {
            // A path that falls to zero (an IEA sector that disappears) leaves no demand.
            d.capacity = Some(0.0);
        }
    }
    for p in &mut market.processes {
        let h = index(p.output, p.region);
        p.capacity = p.capacity.map(|c| c * h / QUARTERS);
    }
    for (p, slot) in projects.iter().zip(&m.projects) {
        let c = Some(project_capacity(p, year) / QUARTERS);
        match *slot {
            ProjectSlot::Supply(k) => market.supply[k].capacity = c,
            ProjectSlot::Process(k) => market.processes[k].capacity = c,
        }
    }
    market
}

/// The market of one quarter of the baseline (mid-quarter `year`, e.g. 2025.125 for 2025Q1)
/// without stockpiles: for diagnostics, benchmarks and solver tests on the world model.
pub fn quarter_market_at(
    ds: &Dataset,
    map: &RegionMap,
    scenario: &str,
    year: f64,
) -> Result<Market, BaselineError> {
    let m = model(ds, map, scenario)?;
    Ok(quarter_market(&m, &ds.projects, year))
}

/// Runs the baseline from the first quarter after the base year to `to_year` Q4.
pub fn run_baseline(
    ds: &Dataset,
    map: &RegionMap,
    options: &BaselineOptions,
) -> Result<Baseline, BaselineError> {
    let prepared = WorldModel::prepare(ds, map, &options.scenario)?;
    prepared.run(ds, options.to_year, &[], None)
}

/// The world model prepared for runs: the calibrated base year, its growth paths, and the
/// names and base figures events resolve against.
#[derive(Clone)]
pub struct WorldModel {
    m: Model,
    /// Names, places and base figures for scenario events.
    pub world: crate::scenario::World,
    /// Demand path.
    pub scenario: String,
}

impl WorldModel {
    /// The plants of every quarter's market, in the order of a run's `quarter_activity`.
    pub fn processes(&self) -> &[chokepoint_equilibrium::Process] {
        &self.m.market.processes
    }

    /// Builds and calibrates the world model on a demand path.
    pub fn prepare(ds: &Dataset, map: &RegionMap, scenario: &str) -> Result<Self, BaselineError> {
        check_scenario_name(ds, scenario)?;
        let m = model(ds, map, scenario)?;
        let world = world_of(ds, map, &m);
        Ok(WorldModel {
            m,
            world,
            scenario: scenario.to_string(),
        })
    }

    /// Runs quarter by quarter to `to_year` Q4 with `events` acting on every quarter's market;
    /// `baseline` (a run without events) gives events the baseline's flows and prices.
    pub fn run(
        &self,
        ds: &Dataset,
        to_year: i32,
        events: &[crate::scenario::Event],
        baseline: Option<&Baseline>,
    ) -> Result<Baseline, BaselineError> {
        self.run_with_progress(ds, to_year, events, baseline, &mut |_, _| {})
    }

    /// As [`WorldModel::run`], calling `progress(done, total)` after every quarter.
    pub fn run_with_progress(
        &self,
        ds: &Dataset,
        to_year: i32,
        events: &[crate::scenario::Event],
        baseline: Option<&Baseline>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Baseline, BaselineError> {
        simulate(self, ds, to_year, events, baseline, None, progress)
    }

    /// The goods that clear together (numbered components, one per good; see
    /// [`chokepoint_equilibrium::components`]), with `links` (sets of goods, such as the goods
    /// of one event) joined.
    pub fn components(&self, links: &[Vec<usize>]) -> Vec<usize> {
        chokepoint_equilibrium::components(&self.m.market, links)
    }

    /// As [`WorldModel::run`] for the goods `keep` (one flag per good) alone: every quarter
    /// clears only their part of the market, and only their rows are reported. `keep` must
    /// be closed (a union of [`WorldModel::components`] that holds every good the `events`
    /// touch); a quarter whose part is not closed clears the whole market.
    pub fn run_part(
        &self,
        ds: &Dataset,
        to_year: i32,
        events: &[crate::scenario::Event],
        baseline: Option<&Baseline>,
        keep: &[bool],
    ) -> Result<Baseline, BaselineError> {
        simulate(
            self,
            ds,
            to_year,
            events,
            baseline,
            Some(keep),
            &mut |_, _| {},
        )
    }
}

/// The names and base figures of the model, for scenario events.
fn world_of(ds: &Dataset, map: &RegionMap, m: &Model) -> crate::scenario::World {
    use crate::scenario::World;
    let regions: Vec<&str> = m.base.regions.iter().map(String::as_str).collect();
    let goods: Vec<&str> = m.base.goods.iter().map(String::as_str).collect();
    let mut w = World::new(&regions, &goods, &m.base.prices);
    for n in &m.base.nodes {
        let i = w.node(n.region, n.good);
        w.base_output[i] += n.production;
        w.base_consumption[i] += n.consumption;
    }
    for p in &m.base.processes {
        let i = w.node(p.region, p.output);
        w.base_output[i] += p.capacity.unwrap_or(0.0);
    }
    w.demand_sector = m
        .demand_keys
        .iter()
        .map(|k| match *k {
            DemandKey::Good(_) => None,
            DemandKey::Sector(s) => Some(m.sectors[s].id.clone()),
        })
        .collect();
    for s in &m.sectors {
        *w.sector_shares[s.good].entry(s.id.clone()).or_default() += s.share;
    }
    w.projects = ds
        .projects
        .iter()
        .enumerate()
        .map(|(i, p)| (p.project_id.clone(), i))
        .collect();
    w.project_goods = ds.projects.iter().map(|p| w.good(&p.good_id)).collect();
    for c in &ds.countries {
        if let Some(r) = map.region_of(&c.iso3)
            && w.place(&c.iso3).is_none()
        {
            w.add_place(&c.iso3, vec![r]);
        }
    }
    let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for g in &ds.groups {
        if let Some(r) = map.region_of(&g.iso3) {
            groups
                .entry(format!("group:{}", g.group_id))
                .or_default()
                .push(r);
        }
    }
    for (name, mut rs) in groups {
        rs.sort_unstable();
        rs.dedup();
        w.add_place(&name, rs);
    }
    w
}

/// Checks that a demand path exists.
fn check_scenario_name(ds: &Dataset, scenario: &str) -> Result<(), BaselineError> {
    let scenarios: std::collections::BTreeSet<&str> = ds
        .demand
        .iter()
        .map(|r| r.scenario.as_str())
        .filter(|s| *s != "base_year")
        .chain(ds.demand_overrides.iter().map(|o| o.scenario.as_str()))
        .collect();
    if scenarios.contains(scenario) {
        Ok(())
    } else {
        Err(BaselineError::Options(
            crate::LookupError::unknown("demand scenario", scenario, scenarios).to_string(),
        ))
    }
}

/// The middle of quarter `q` (1–4) of `year`, in years: the time a run's events are in force
/// at or not.
pub fn mid_quarter(year: i32, q: i32) -> f64 {
    f64::from(year) + (f64::from(q) - 0.5) / 4.0
}

/// A quarter's market structure, hub layout ([`chokepoint_equilibrium::Hubbed::key`]) and
/// events in force: a change needs a new solver. A policy that starts or lapses moves the
/// equilibrium far; a new solver then starts from the baseline's same quarter rather than
/// from the last quarter's working set, whose path to the new equilibrium can be thousands of
/// degenerate steps long (seen on risk draws: a ban that lapsed made the rare-earth chain's
/// active set cycle to its step limit).
type Shape = ([usize; 4], Vec<usize>, Vec<usize>);

/// The market's structure as the fast solver keys it: a change needs a new solver (quotas
/// and share caps come and go without one).
fn structure(m: &Market) -> [usize; 4] {
    [
        m.supply.len(),
        m.demand.len(),
        m.routes.len(),
        m.processes.len(),
    ]
}

/// The baseline's solution of quarter `k` of a market shaped like `market`, to warm-start a
/// run over the same quarters; `None` when it has none.
/// A solution at annual rates as one at quarterly rates (flows and plant output over four).
fn quarterly(annual: &Solution) -> Solution {
    let mut q = annual.clone();
    for x in q.flows.iter_mut().chain(q.activity.iter_mut()) {
        *x /= QUARTERS;
    }
    q
}

fn baseline_solution(b: &Baseline, k: usize, market: &Market) -> Option<Solution> {
    let flows = b.quarter_flows.get(k)?;
    let prices = b.quarter_prices.get(k)?;
    let activity = b.quarter_activity.get(k)?;
    if flows.len() != market.routes.len()
        || prices.len() != market.nodes()
        || activity.len() != market.processes.len()
    {
        return None;
    }
    let mut sol = Solution::failed(market, SolveStatus::Optimal, 0);
    sol.flows.clone_from(flows);
    sol.prices.clone_from(prices);
    sol.activity.clone_from(activity);
    Some(sol)
}

fn simulate(
    model: &WorldModel,
    ds: &Dataset,
    to_year: i32,
    events: &[crate::scenario::Event],
    baseline: Option<&Baseline>,
    keep: Option<&[bool]>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Baseline, BaselineError> {
    let (m, world, scenario) = (&model.m, &model.world, model.scenario.as_str());
    let kept = |g: usize| keep.is_none_or(|k| k.get(g).copied().unwrap_or(false));
    let options = BaselineOptions {
        to_year,
        scenario: scenario.to_string(),
    };
    let base_year = ds
        .assumption("default_year")
        .map_err(|e| BaselineError::Options(e.to_string()))? as i32;
    if options.to_year <= base_year {
        return Err(BaselineError::Options(format!(
            "--to {} is not after the base year {base_year}",
            options.to_year
        )));
    }
    let nr = m.base.regions.len();
    let mut rows = Vec::new();
    let mut sector_rows = Vec::new();
    let mut periods = Vec::new();
    // One solver for every quarter: each clearing starts from the previous one's working set.
    // Stockpiles: (region, good) of each, and its stock, carried from quarter to quarter.
    let holdings: Vec<(usize, usize)> = ds
        .stockpiles
        .iter()
        .map(|sp| {
            let r = m.base.regions.iter().position(|x| *x == sp.region_id);
            let g = m.base.goods.iter().position(|x| *x == sp.good_id);
            r.zip(g).ok_or_else(|| {
                BaselineError::Options(format!(
                    "stockpile {}: region {} or good {} is not in the base year",
                    sp.stockpile_id, sp.region_id, sp.good_id
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let mut stock: Vec<f64> = ds.stockpiles.iter().map(|sp| sp.initial).collect();
    // One solver for every quarter: each clearing starts from the previous one's working set.
    let mut solver: Option<(FastSolver, Shape)> = None;
    let mut states: Vec<crate::scenario::events::EventState> =
        events.iter().map(|e| e.kind.initial_state()).collect();
    let mut quarter_index = 0usize;
    let total_quarters = usize::try_from(options.to_year - base_year).unwrap_or(0) * 4;
    let mut quarter_flows = Vec::new();
    let mut quarter_activity = Vec::new();
    let mut quarter_prices = Vec::new();
    let mut reserve_rows = Vec::new();
    let mut project_rows = Vec::new();
    for year in base_year + 1..=options.to_year {
        for q in 1..=4 {
            let period = format!("{year}Q{q}");
            let t = mid_quarter(year, q);
            let k = quarter_index;
            quarter_index += 1;
            progress(k, total_quarters);
            let mut projects = ds.projects.clone();
            for e in events {
                e.kind.projects(e, t, world, &mut projects);
            }
            let mut market = quarter_market(m, &projects, t);
            // Each stockpile is a flat demand step at its buy price (room left, at most its
            // buying rate) and a flat supply step at its release price (stock held, at most its
            // release rate): always both, so the market keeps its shape and its warm start.
            let first_stock_demand = market.demand.len();
            let first_stock_supply = market.supply.len();
            for ((sp, &(r, g)), &held) in ds.stockpiles.iter().zip(&holdings).zip(&stock) {
                market.demand.push(DemandStep {
                    region: r,
                    good: g,
                    intercept: sp.buy_below,
                    slope: 0.0,
                    capacity: Some(sp.max_buy.min(sp.capacity - held).max(0.0)),
                });
                market.supply.push(SupplyStep {
                    region: r,
                    good: g,
                    intercept: sp.release_above,
                    slope: 0.0,
                    capacity: Some(sp.max_release.min(held).max(0.0)),
                });
            }
            let quarter = crate::scenario::Quarter {
                t,
                length: 0.25,
                baseline_flows: baseline
                    .and_then(|b| b.quarter_flows.get(k))
                    .filter(|f| f.len() == market.routes.len())
                    .map(Vec::as_slice),
                baseline_prices: baseline
                    .and_then(|b| b.quarter_prices.get(k))
                    .filter(|p| p.len() == market.nodes())
                    .map(Vec::as_slice),
            };
            for (e, st) in events.iter().zip(&mut states) {
                e.kind.apply(e, world, &quarter, &mut market, st);
            }
            // Only the kept goods' part of the market clears (all of it without `keep`).
            let part = keep.and_then(|k| chokepoint_equilibrium::part(&market, k));
            let local = part.as_ref().map_or(&market, |p| &p.market);
            // Quotas over routes leaving one node become capacities on hub edges, which the
            // fast path prices without a search over multipliers.
            let hubs = chokepoint_equilibrium::hub_quotas(local);
            let cleared = hubs.as_ref().map_or(local, |h| &h.market);
            // One solver while the market keeps its structure: each clearing starts from the
            // previous one's working set; an event that adds or drops constraints starts anew.
            let shape = (
                structure(cleared),
                hubs.as_ref().map(|h| h.key()).unwrap_or_default(),
                events
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.active(t))
                    .map(|(i, _)| i)
                    .collect(),
            );
            if solver.as_ref().is_some_and(|(_, s)| *s != shape) {
                solver = None;
            }
            let (fast, _) = solver.get_or_insert_with(|| {
                let mut fast = FastSolver::new(cleared, FastOptions::default());
                // A run beside a baseline starts from the baseline's same quarter; a baseline's
                // first quarter from the calibrated base year, at quarterly rates.
                let start = baseline
                    .and_then(|b| baseline_solution(b, k, &market))
                    .or_else(|| (k == 0).then(|| quarterly(&m.base_start)));
                if let Some(start) = start {
                    let start = match &part {
                        Some(p) => p.into_part(&market, &start),
                        None => start,
                    };
                    match &hubs {
                        Some(h) => fast.warm_from(cleared, &h.into_hubbed(local, &start)),
                        None => fast.warm_from(cleared, &start),
                    }
                }
                (fast, shape)
            });
            let invalid = market.validate().err().map(|errors| {
                let first: Vec<String> = errors.iter().take(3).map(|e| format!("{e:?}")).collect();
                format!("invalid market: {}", first.join("; "))
            });
            let sol = fast.solve(cleared);
            let sol = match &hubs {
                Some(h) => h.back(local, &sol),
                None => sol,
            };
            let sol = match &part {
                Some(p) => p.back(&market, &sol),
                None => sol,
            };
            for (e, st) in events.iter().zip(&mut states) {
                e.kind.after(&market, &sol, st);
                if sol.status == SolveStatus::Optimal
                    && let Some((bought, released)) = e.kind.reserve_flows(&sol, st)
                {
                    reserve_rows.push(ReserveRow {
                        period: period.clone(),
                        event: e.id.clone(),
                        bought,
                        released,
                        stock: st.stock,
                    });
                }
            }
            // A part's run reports no projects (they belong to the whole market's report).
            if sol.status == SolveStatus::Optimal && keep.is_none() {
                project_rows.extend(project_rows_of(m, &ds.projects, &market, &sol, &period));
            }
            if sol.status == SolveStatus::Optimal {
                quarter_flows.push(sol.flows.clone());
                quarter_prices.push(sol.prices.clone());
                quarter_activity.push(sol.activity.clone());
            } else {
                quarter_flows.push(Vec::new());
                quarter_prices.push(Vec::new());
                quarter_activity.push(Vec::new());
            }
            periods.push(PeriodStatus {
                period: period.clone(),
                status: sol.status,
                max_violation: sol.max_violation,
                solver: sol.solver,
                fallback: (sol.solver == SolverPath::ReferenceFallback).then(|| {
                    invalid
                        .clone()
                        .unwrap_or_else(|| fast.last_fallback.unwrap_or("unknown").to_string())
                }),
            });
            if sol.status != SolveStatus::Optimal {
                continue;
            }
            let mut produced = sol.node_production(&market);
            let mut consumed = sol.node_demand(&market);
            let mut stock_change = vec![0.0; market.nodes()];
            let mut inventory = vec![0.0; market.nodes()];
            for (k, &(r, g)) in holdings.iter().enumerate() {
                let i = market.node(r, g);
                let bought = sol.demand[first_stock_demand + k];
                let released = sol.supply[first_stock_supply + k];
                stock[k] += bought - released;
                consumed[i] -= bought;
                produced[i] -= released;
                stock_change[i] += bought - released;
                inventory[i] += stock[k];
            }
            let mut imports = vec![0.0; market.nodes()];
            let mut exports = vec![0.0; market.nodes()];
            for (r, x) in market.routes.iter().zip(&sol.flows) {
                exports[market.node(r.from, r.good)] += x;
                imports[market.node(r.to, r.good)] += x;
            }
            // Demand at the base-year price, per node and per (node, sector).
            let mut base_demand = vec![0.0; market.nodes()];
            let mut by_sector: std::collections::BTreeMap<(usize, &str), (f64, f64)> =
                std::collections::BTreeMap::new();
            for (k, key) in m.demand_keys.iter().enumerate() {
                let d = &market.demand[k];
                let (growth, sector) = match *key {
                    DemandKey::Good(g) => (m.demand[g].value(t), "total"),
                    DemandKey::Sector(s) => (m.sectors[s].path.value(t), m.sectors[s].id.as_str()),
                };
                let want = m.demand_base[k] * growth / 4.0;
                let i = market.node(d.region, d.good);
                base_demand[i] += want;
                let e = by_sector.entry((i, sector)).or_insert((0.0, 0.0));
                e.0 += sol.demand[k];
                e.1 += want;
            }
            for (&(i, sector), &(consumed, want)) in &by_sector {
                if (consumed == 0.0 && want == 0.0) || !kept(i % m.base.goods.len()) {
                    continue;
                }
                sector_rows.push(SectorRow {
                    period: period.clone(),
                    region: m.base.regions[i / m.base.goods.len()].clone(),
                    good: m.base.goods[i % m.base.goods.len()].clone(),
                    sector: sector.to_string(),
                    consumption: consumed,
                    demand_at_base_price: want,
                    shortfall: (want - consumed).max(0.0),
                });
            }
            for g in (0..m.base.goods.len()).filter(|&g| kept(g)) {
                for r in 0..nr {
                    let i = market.node(r, g);
                    if produced[i] == 0.0
                        && consumed[i] == 0.0
                        && imports[i] == 0.0
                        && inventory[i] == 0.0
                    {
                        continue;
                    }
                    rows.push(PeriodRow {
                        period: period.clone(),
                        region: m.base.regions[r].clone(),
                        good: m.base.goods[g].clone(),
                        price: sol.prices[i].is_finite().then_some(sol.prices[i]),
                        production: produced[i],
                        consumption: consumed[i],
                        imports: imports[i],
                        exports: exports[i],
                        stock_change: stock_change[i],
                        inventory: inventory[i],
                        shortfall: (base_demand[i] - consumed[i]).max(0.0),
                    });
                }
            }
        }
    }
    Ok(Baseline {
        scenario: options.scenario.clone(),
        periods,
        rows,
        sector_rows,
        notes: m.notes.clone(),
        reserve_rows,
        project_rows,
        quarter_flows,
        quarter_prices,
        quarter_activity,
        routes: m
            .market
            .routes
            .iter()
            .map(|r| {
                (
                    m.base.regions[r.from].clone(),
                    m.base.regions[r.to].clone(),
                    m.base.goods[r.good].clone(),
                )
            })
            .collect(),
    })
}
