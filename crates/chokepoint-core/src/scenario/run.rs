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
    let baseline = prepared.run(ds, scenario.header.to, &[], None)?;
    let run = prepared.run(ds, scenario.header.to, &scenario.events, Some(&baseline))?;
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
