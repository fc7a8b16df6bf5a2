//! Running a scenario: the baseline, then the same quarters with the scenario's events, both
//! on one prepared world model.

use crate::dataset::Dataset;
use crate::world::baseline::WorldModel;
use crate::world::{Baseline, BaselineError, RegionMap};

use super::Scenario;

/// A scenario run: the baseline and the scenario over the same quarters.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// Without the events.
    pub baseline: Baseline,
    /// With them.
    pub scenario: Baseline,
}

/// Runs `scenario` (already checked against `prepared.world`) and its baseline.
pub fn run_scenario(
    ds: &Dataset,
    prepared: &WorldModel,
    scenario: &Scenario,
) -> Result<ScenarioRun, BaselineError> {
    run_scenario_with_progress(ds, prepared, scenario, &mut |_, _, _| {})
}

/// As [`run_scenario`], calling `progress(run, done, total)` before every quarter of the
/// baseline (`run` = `"baseline"`) and of the scenario.
pub fn run_scenario_with_progress(
    ds: &Dataset,
    prepared: &WorldModel,
    scenario: &Scenario,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<ScenarioRun, BaselineError> {
    let to = scenario.header.to;
    let baseline =
        prepared.run_with_progress(ds, to, &[], None, &mut |d, t| progress("baseline", d, t))?;
    let run =
        prepared.run_with_progress(ds, to, &scenario.events, Some(&baseline), &mut |d, t| {
            progress("scenario", d, t)
        })?;
    Ok(ScenarioRun {
        baseline,
        scenario: run,
    })
}

/// Prepares the world model for a scenario's demand path.
pub fn prepare(
    ds: &Dataset,
    map: &RegionMap,
    scenario: &Scenario,
) -> Result<WorldModel, BaselineError> {
    WorldModel::prepare(ds, map, &scenario.header.demand)
}

/// The summary of a run with everything that needs the world model: the header's exposure
/// traces, company revenue and EU- and USGS-method criticality in the last year.
pub fn full_summary(
    ds: &Dataset,
    prepared: &WorldModel,
    scenario: &Scenario,
    run: &ScenarioRun,
) -> super::summary::Summary {
    let mut summary = super::summary::summarize(scenario, run);
    let to = scenario.header.to;
    summary.exposure = crate::exposure::compare(prepared, run, &scenario.header.exposure, to);
    summary.companies =
        crate::companies::companies(ds, &prepared.world, &run.baseline, &run.scenario);
    summary.criticality = crate::criticality::compare_eu(ds, &prepared.world, run, to).ok();
    summary.criticality_usgs = crate::criticality::usgs::compare(
        ds,
        prepared,
        &run.baseline,
        Some(&run.scenario),
        to,
        crate::criticality::default_jurisdiction(true),
    )
    .ok();
    summary
}

/// The policies of a scenario run valued over `draws` stochastic price paths per model (no
/// counterfactual runs, no market draws: `chokepoint finance` adds those).
pub fn value_policies(
    ds: &Dataset,
    prepared: &WorldModel,
    scenario: &Scenario,
    run: &ScenarioRun,
    draws: usize,
    seed: u64,
) -> Result<crate::finance::instruments::FinanceReport, String> {
    use crate::finance::instruments::{FinanceInputs, FinanceOptions, value};
    value(
        ds,
        &prepared.world,
        &FinanceInputs {
            scenario,
            baseline: &run.baseline,
            run: &run.scenario,
            without: &[],
            market_draws: &[],
        },
        &FinanceOptions {
            draws,
            seed,
            projects: Vec::new(),
        },
    )
}

/// The run report page, with the policies valued over `finance_draws` stochastic paths.
pub fn report_page(
    ds: &Dataset,
    prepared: &WorldModel,
    scenario: &Scenario,
    run: &ScenarioRun,
    summary: &super::summary::Summary,
    finance_draws: usize,
) -> Result<String, String> {
    let finance = value_policies(
        ds,
        prepared,
        scenario,
        run,
        finance_draws,
        scenario.header.seed,
    )?;
    Ok(super::report::html(
        ds,
        scenario,
        run,
        summary,
        Some(&finance),
    ))
}
