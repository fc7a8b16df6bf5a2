//! What events need to know about the market they act on: names of regions and goods, where
//! countries, groups and coalitions lie, reference prices, base output and consumption, and
//! (when a scenario runs against a baseline) the baseline's flows and prices of the quarter.

use std::collections::{BTreeMap, HashMap};

use chokepoint_equilibrium::Market;

/// Names and base figures of a market, for resolving and applying events.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Region ids, in market order.
    pub regions: Vec<String>,
    /// Good ids, in market order.
    pub goods: Vec<String>,
    /// Reference price per good (currency per unit).
    pub prices: Vec<f64>,
    /// Annual base output per node (primary supply plus plant capacity).
    pub base_output: Vec<f64>,
    /// Annual base final consumption per node.
    pub base_consumption: Vec<f64>,
    /// Sector of each demand step of the quarter markets (`None`: the good's total demand).
    pub demand_sector: Vec<Option<String>>,
    /// Share of each good's final demand per sector (world level).
    pub sector_shares: Vec<BTreeMap<String, f64>>,
    /// Pipeline projects by id (index into the project list).
    pub projects: HashMap<String, usize>,
    /// Good of each pipeline project (by its index), when the world has it.
    pub project_goods: Vec<Option<usize>>,
    /// Places other than region ids: countries, `group:ID`, coalitions → regions.
    places: HashMap<String, Vec<usize>>,
}

impl World {
    /// A world of named regions and goods with reference prices and nothing else (tests and
    /// hand-built markets).
    pub fn new(regions: &[&str], goods: &[&str], prices: &[f64]) -> Self {
        World {
            regions: regions.iter().map(|s| s.to_string()).collect(),
            goods: goods.iter().map(|s| s.to_string()).collect(),
            prices: prices.to_vec(),
            base_output: vec![0.0; regions.len() * goods.len()],
            base_consumption: vec![0.0; regions.len() * goods.len()],
            sector_shares: vec![BTreeMap::new(); goods.len()],
            ..World::default()
        }
    }

    /// Node index of (region, good), as `Market::node`.
    pub fn node(&self, region: usize, good: usize) -> usize {
        region * self.goods.len() + good
    }

    /// Names a place: its regions.
    pub fn add_place(&mut self, name: &str, regions: Vec<usize>) {
        self.places.insert(name.to_string(), regions);
    }

    /// The index of a model region by its id.
    pub fn region(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r == name)
    }

    /// The regions of a place: a region id, a country, `group:ID` or a coalition.
    pub fn place(&self, name: &str) -> Option<Vec<usize>> {
        if let Some(r) = self.region(name) {
            return Some(vec![r]);
        }
        self.places.get(name).cloned()
    }

    /// Every place name known (for suggestions).
    pub fn place_names(&self) -> Vec<&str> {
        self.regions
            .iter()
            .map(String::as_str)
            .chain(self.places.keys().map(String::as_str))
            .collect()
    }

    /// Index of a good.
    pub fn good(&self, name: &str) -> Option<usize> {
        self.goods.iter().position(|g| g == name)
    }
}

/// One quarter as events see it.
#[derive(Debug, Clone, Copy)]
pub struct Quarter<'a> {
    /// Mid-quarter, in decimal years (2026.125 is 2026Q1).
    pub t: f64,
    /// Length of a period in years (0.25).
    pub length: f64,
    /// The baseline's route flows in this quarter, when a scenario runs against one.
    pub baseline_flows: Option<&'a [f64]>,
    /// The baseline's node prices in this quarter.
    pub baseline_prices: Option<&'a [f64]>,
}

impl Quarter<'_> {
    /// A quarter with no baseline (tests, or the baseline itself).
    pub fn alone(t: f64) -> Quarter<'static> {
        Quarter {
            t,
            length: 0.25,
            baseline_flows: None,
            baseline_prices: None,
        }
    }
}

/// Routes of `market` from any of `from` to any of `to` (empty `to`: any other region)
/// carrying one of `goods`.
pub fn routes_between(
    market: &Market,
    from: &[usize],
    to: &[usize],
    goods: &[usize],
) -> Vec<usize> {
    market
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            from.contains(&r.from)
                && (to.is_empty() || to.contains(&r.to))
                && goods.contains(&r.good)
        })
        .map(|(i, _)| i)
        .collect()
}
