//! `stockpile`: a stock owned by a place (a country or a coalition's host) that buys while the
//! price is below `buy_below` and releases while it is above `release_above`, at most its
//! buying and release rates per quarter (seed E7: Australia's Critical Minerals Strategic
//! Reserve). Its steps are in every quarter's market (empty outside the event's dates).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{DemandStep, Market, Solution, SupplyStep};

use super::{EventState, Resolver};

/// Keys of a `stockpile` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockpileEvent {
    /// Where the stock is held (one region).
    pub owner: Spanned<String>,
    /// Good held.
    pub good: Spanned<String>,
    /// Most it can hold.
    pub capacity: Spanned<f64>,
    /// Stock at the start.
    #[serde(default)]
    pub initial: f64,
    /// It buys while the price is below this.
    pub buy_below: Spanned<f64>,
    /// It releases while the price is above this.
    pub release_above: Spanned<f64>,
    /// Most it buys per quarter.
    pub max_buy_per_quarter: Spanned<f64>,
    /// Most it releases per quarter.
    pub max_release_per_quarter: Spanned<f64>,
    #[serde(skip)]
    region: usize,
    #[serde(skip)]
    pub(crate) good_id: usize,
}

impl StockpileEvent {
    /// The region and good of the stock, resolved.
    pub fn place(&self) -> (usize, usize) {
        (self.region, self.good_id)
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        let regions = r.place(&self.owner);
        if regions.len() > 1 {
            r.error(
                &self.owner,
                format!(
                    "`{}` covers {} regions; a stock sits in one",
                    self.owner.get_ref(),
                    regions.len()
                ),
                "name the region that holds the stock",
            );
        }
        self.region = regions.first().copied().unwrap_or(0);
        self.good_id = r.good(&self.good).unwrap_or(0);
        for (v, what) in [
            (&self.capacity, "capacity"),
            (&self.buy_below, "buy_below"),
            (&self.release_above, "release_above"),
            (&self.max_buy_per_quarter, "max_buy_per_quarter"),
            (&self.max_release_per_quarter, "max_release_per_quarter"),
        ] {
            r.non_negative(v, what);
        }
        if self.buy_below.get_ref() >= self.release_above.get_ref() {
            r.error(
                &self.release_above,
                "release_above is not above buy_below",
                "a stock buys low and releases high",
            );
        }
        if self.initial > *self.capacity.get_ref() {
            r.error(
                &self.capacity,
                "the initial stock exceeds the capacity",
                "raise capacity or lower initial",
            );
        }
    }

    pub(crate) fn apply(&self, on: bool, m: &mut Market, st: &mut EventState) {
        st.demand_step = Some(m.demand.len());
        st.supply_step = Some(m.supply.len());
        let room = (self.capacity.get_ref() - st.stock).max(0.0);
        m.demand.push(DemandStep {
            region: self.region,
            good: self.good_id,
            intercept: *self.buy_below.get_ref(),
            slope: 0.0,
            capacity: Some(if on {
                self.max_buy_per_quarter.get_ref().min(room)
            } else {
                0.0
            }),
        });
        m.supply.push(SupplyStep {
            region: self.region,
            good: self.good_id,
            intercept: *self.release_above.get_ref(),
            slope: 0.0,
            capacity: Some(if on {
                self.max_release_per_quarter.get_ref().min(st.stock)
            } else {
                0.0
            }),
        });
    }

    pub(crate) fn after(&self, _m: &Market, sol: &Solution, st: &mut EventState) {
        let (Some(d), Some(s)) = (st.demand_step, st.supply_step) else {
            return;
        };
        st.stock = (st.stock + sol.demand[d] - sol.supply[s]).max(0.0);
    }
}
