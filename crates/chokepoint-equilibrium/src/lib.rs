//! Domain-free market equilibrium for Chokepoint.
//!
//! This crate knows regions, goods, curves, routes and constraints, and nothing about minerals.
//! Its first building block is the linear curve and the closed-form clearing of one isolated
//! market, which the spatial (multi-region, multi-good) solver of a later stage builds on and is
//! tested against.
//!
//! ```
//! use chokepoint_equilibrium::{LinearDemand, LinearSupply, clear_isolated};
//! // p = 100 - 2q (demand), p = 10 + q (supply): q* = 30, p* = 40.
//! let eq = clear_isolated(&LinearDemand::new(100.0, 2.0)?, &LinearSupply::new(10.0, 1.0, None)?);
//! assert!((eq.quantity - 30.0).abs() < 1e-12);
//! assert!((eq.price - 40.0).abs() < 1e-12);
//! # Ok::<(), chokepoint_equilibrium::CurveError>(())
//! ```

mod curve;

pub use curve::{CurveError, IsolatedEquilibrium, LinearDemand, LinearSupply, clear_isolated};
