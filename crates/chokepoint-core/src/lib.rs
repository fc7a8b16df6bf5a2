//! Chokepoint core: the data model of critical-mineral supply chains, the embedded dataset with
//! a source for every number, and the metrics computed from it.
//!
//! ```
//! use chokepoint_core::{Dataset, metrics::concentration::{ConcentrationQuery, concentration}};
//! let ds = Dataset::embedded().expect("the embedded dataset is valid");
//! let cobalt = concentration(&ds, &ConcentrationQuery::production("cobalt")).unwrap();
//! assert_eq!(cobalt.top1.as_ref().unwrap().0, "COD"); // DR Congo leads mine output
//! ```
//!
//! The core reads no clock, no environment and no global random state; the CLI and the server
//! are thin adapters over it.

#![warn(missing_docs)]

pub mod audit;
pub mod companies;
pub mod criticality;
pub mod dataset;
pub mod diagnostic;
pub mod exposure;
pub mod finance;
pub mod metrics;
pub mod risk;
pub mod scenario;
pub mod world;

pub use dataset::{Dataset, DatasetError, LookupError, Origin};
pub use diagnostic::{Diagnostic, Location};
