//! One module per command.

pub(crate) mod baseline;
pub(crate) mod companies;
pub(crate) mod concentration;
pub(crate) mod criticality;
pub(crate) mod data;
pub(crate) mod exposure;
pub(crate) mod finance;
pub(crate) mod model;
pub(crate) mod overview;
pub(crate) mod risk;
pub(crate) mod run;
pub(crate) mod serve;
pub(crate) mod solve;
