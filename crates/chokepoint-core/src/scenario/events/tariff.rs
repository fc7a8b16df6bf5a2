//! `tariff`: an ad valorem import tariff (rate × the good's reference price per unit) on goods
//! from origins into an importer, from `start` (the effective date) to `end`, not while paused.
//! When it is announced before it takes effect, buyers in the importer bring purchases forward:
//! between announcement and effect they stock up to `prebuy_quarters` of their base quarterly
//! consumption at any price below the tariff-inclusive reference price, and sell the stock into
//! their own market over `release_quarters` once the effective date has passed (seed E15: US copper buyers
//! stockpile ahead of the 2025 tariff threat; the tariff is paused; shortages elsewhere).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{DemandStep, Market, Solution, SupplyStep};

use super::{EventState, Resolver};
use crate::scenario::Event;
use crate::scenario::world::{Quarter, World, routes_between};

/// Keys of a `tariff` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Importing place.
    pub importer: Spanned<String>,
    /// Origins taxed (empty: every other region).
    #[serde(default)]
    pub origins: Vec<Spanned<String>>,
    /// Goods taxed.
    pub goods: Vec<Spanned<String>>,
    /// Rate, a fraction of the reference price (0.25 for 25%).
    pub rate: Spanned<f64>,
    /// When it was announced (default: when it takes effect).
    pub announced: Option<Spanned<String>>,
    /// Pause: [from, to] dates during which it does not apply.
    pub paused: Option<Spanned<[String; 2]>>,
    /// Quarters of base consumption bought ahead between announcement and effect (default 0).
    pub prebuy_quarters: Option<Spanned<f64>>,
    /// Quarters over which the stock is sold once the tariff applies (default 1).
    pub release_quarters: Option<Spanned<f64>>,
    #[serde(skip)]
    to: Vec<usize>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
    #[serde(skip)]
    announced_t: Option<f64>,
    #[serde(skip)]
    pause: Option<(f64, f64)>,
}

impl Tariff {
    /// Scales the rate by `f` (a risk draw's magnitude).
    pub(crate) fn scale(&mut self, f: f64) {
        *self.rate.get_mut() *= f;
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.to = r.place(&self.importer);
        self.from = if self.origins.is_empty() {
            (0..r.w.regions.len()).collect()
        } else {
            r.places(&self.origins)
        };
        self.from.retain(|x| !self.to.contains(x));
        self.good_ids = r.goods(&self.goods);
        r.non_negative(&self.rate, "rate");
        self.announced_t = self.announced.as_ref().map(|a| r.date(a));
        if let Some(p) = &self.paused {
            let [a, b] = p.get_ref();
            let (a, b) = (
                crate::scenario::parse_date(a),
                crate::scenario::parse_date(b),
            );
            match (a, b) {
                (Ok(a), Ok(b)) if b > a => self.pause = Some((a, b)),
                (Ok(_), Ok(_)) => {
                    r.error(p, "the pause ends before it starts", "paused = [from, to]")
                }
                (Err(m), _) | (_, Err(m)) => {
                    r.error(p, m, "paused = [\"2025-04-09\", \"2025-07-09\"]")
                }
            }
        }
        for v in [&self.prebuy_quarters, &self.release_quarters]
            .into_iter()
            .flatten()
        {
            r.non_negative(v, "quarters");
        }
    }

    fn in_force(&self, ev: &Event, t: f64) -> bool {
        ev.active(t) && self.pause.is_none_or(|(a, b)| t < a || t >= b)
    }

    pub(crate) fn apply(
        &self,
        ev: &Event,
        w: &World,
        q: &Quarter<'_>,
        m: &mut Market,
        st: &mut EventState,
    ) {
        let rate = *self.rate.get_ref();
        if self.in_force(ev, q.t) {
            for &g in &self.good_ids {
                for r in routes_between(m, &self.from, &self.to, &[g]) {
                    m.routes[r].tariff += rate * w.prices[g];
                }
            }
        }
        // Pre-buying: a demand step per (importer region, good) while the announcement runs,
        // a supply step releasing the stock once the tariff is in force; both present every
        // quarter (empty otherwise) so the market keeps its shape.
        let prebuy = self.prebuy_quarters.as_ref().map_or(0.0, |v| *v.get_ref());
        if prebuy <= 0.0 {
            return;
        }
        let release = self
            .release_quarters
            .as_ref()
            .map_or(1.0, |v| v.get_ref().max(1.0));
        let announced = self.announced_t.unwrap_or(ev.start);
        let window = ((ev.start - announced) / q.length).max(1.0);
        let buying = q.t >= announced && q.t < ev.start;
        // The stock is sold once the effective date has passed, tariff paused or not.
        let selling = q.t >= ev.start;
        st.stocks.resize(self.to.len() * self.good_ids.len(), 0.0);
        st.released.resize(st.stocks.len(), 0.0);
        st.demand_step = Some(m.demand.len());
        st.supply_step = Some(m.supply.len());
        let mut k = 0;
        for &r in &self.to {
            for &g in &self.good_ids {
                let quarterly = w.base_consumption[w.node(r, g)] * q.length;
                m.demand.push(DemandStep {
                    region: r,
                    good: g,
                    intercept: (1.0 + rate) * w.prices[g],
                    slope: 0.0,
                    capacity: Some(if buying {
                        prebuy * quarterly / window
                    } else {
                        0.0
                    }),
                });
                if buying {
                    st.released[k] = 0.0;
                }
                // Sell a `release`-th of the stock held when selling began, each quarter.
                let per_quarter = if selling {
                    if st.released[k] == 0.0 {
                        st.released[k] = st.stocks[k] / release;
                    }
                    st.released[k].min(st.stocks[k])
                } else {
                    0.0
                };
                m.supply.push(SupplyStep {
                    region: r,
                    good: g,
                    intercept: 0.0,
                    slope: 0.0,
                    capacity: Some(per_quarter),
                });
                k += 1;
            }
        }
    }

    pub(crate) fn after(&self, sol: &Solution, st: &mut EventState) {
        let (Some(d), Some(s)) = (st.demand_step, st.supply_step) else {
            return;
        };
        for k in 0..st.stocks.len() {
            st.stocks[k] += sol.demand[d + k] - sol.supply[s + k];
            st.stocks[k] = st.stocks[k].max(0.0);
        }
    }
}
