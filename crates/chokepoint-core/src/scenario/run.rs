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
