//! Metrics computed from the dataset: supply concentration and its cross-check against USGS.

pub mod concentration;
pub mod t5;
