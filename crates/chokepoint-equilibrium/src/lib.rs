//! Domain-free market equilibrium for Chokepoint.
//!
//! This crate knows regions, goods, curves, routes and constraints, and nothing about minerals.
//! A [`Market`] is cleared as a spatial price equilibrium (Samuelson 1952; Takayama and Judge
//! 1964): consumer plus producer surplus minus transport cost is maximised subject to node
//! balances and policy constraints, and prices are the duals of the balances. The reference
//! path ([`solve_reference`]) hands the quadratic programme to Clarabel; every optimal solution
//! is checked for mass balance and complementarity ([`check`]).
//!
//! ```
//! use chokepoint_equilibrium::{LinearDemand, LinearSupply, clear_isolated};
//! // p = 100 - 2q (demand), p = 10 + q (supply): q* = 30, p* = 40.
//! let eq = clear_isolated(&LinearDemand::new(100.0, 2.0)?, &LinearSupply::new(10.0, 1.0, None)?);
//! assert!((eq.quantity - 30.0).abs() < 1e-12);
//! assert!((eq.price - 40.0).abs() < 1e-12);
//! # Ok::<(), chokepoint_equilibrium::CurveError>(())
//! ```

mod calibrate;
mod curve;
mod fast;
mod file;
mod hubs;
mod model;
mod part;
mod reference;
mod solution;

pub use calibrate::{BaseNode, BaseYear, Calibrated, CalibrationError, calibrate};
pub use curve::{CurveError, IsolatedEquilibrium, LinearDemand, LinearSupply, clear_isolated};
pub use fast::{FastOptions, FastSolver, FastStats, fast_path_covers, solve};
pub use file::{
    FileDiagnostic, FileError, FlowReport, ProcessReport, RegionReport, SolveReport, parse_market,
};
pub use hubs::{Hubbed, hub_quotas};
pub use model::{
    DemandStep, ExportShare, FixedDemand, Market, ModelError, Process, Quota, Route, SupplyStep,
};
pub use part::{Part, components, part};
pub use reference::{ReferenceOptions, solve_reference};
pub use solution::{
    ConstraintReport, Solution, SolveStatus, SolverPath, Welfare, check, node_balance, welfare,
};
