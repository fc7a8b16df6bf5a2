//! `end_use_screening`: the exporter asks intrusive end-use questions and denies shipments for
//! named sectors with a probability (seed E4: defence, aerospace). A plain run uses the expected
//! effect: exports of the goods to the destinations are capped at (1 − p × s) of the baseline's,
//! s being the sectors' share of the goods' final demand (`model/end_uses.csv`), or
//! `share_of_trade` when given (for intermediates whose users are further down the chain).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{Market, Quota};

use super::Resolver;
use crate::scenario::world::{Quarter, World, routes_between};

/// Keys of an `end_use_screening` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndUseScreening {
    /// Exporting place.
    pub origin: Spanned<String>,
    /// Importing places (empty: every other region).
    #[serde(default)]
    pub destinations: Vec<Spanned<String>>,
    /// Goods screened.
    pub goods: Vec<Spanned<String>>,
    /// Sectors whose shipments may be denied.
    pub sectors: Vec<Spanned<String>>,
    /// Probability that a screened shipment is denied.
    pub denial_probability: Spanned<f64>,
    /// Share of the trade that goes to the screened sectors (default: their share of the
    /// good's final demand).
    pub share_of_trade: Option<Spanned<f64>>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    to: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
    #[serde(skip)]
    denial: f64,
    #[serde(skip)]
    share: Option<f64>,
}

impl EndUseScreening {
    /// Scales the denial probability by `f` (a risk draw's magnitude), at most 1.
    pub(crate) fn scale(&mut self, f: f64) {
        self.denial = (self.denial * f).clamp(0.0, 1.0);
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.from = r.place(&self.origin);
        self.to = r.places(&self.destinations);
        self.to.retain(|x| !self.from.contains(x));
        self.good_ids = r.goods(&self.goods);
        self.denial = r.share(&self.denial_probability, "denial_probability");
        self.share = self
            .share_of_trade
            .as_ref()
            .map(|s| r.share(s, "share_of_trade"));
        if self.share.is_none() {
            for &g in &self.good_ids {
                if r.w.sector_shares[g].is_empty() {
                    let name = &self.goods[self.good_ids.iter().position(|x| *x == g).unwrap_or(0)];
                    r.error(
                        name,
                        format!("{} has no end-use sectors to screen", name.get_ref()),
                        "give share_of_trade: the share of this trade that goes to the sectors",
                    );
                }
            }
        }
    }

    fn screened_share(&self, w: &World, good: usize) -> f64 {
        self.share.unwrap_or_else(|| {
            self.sectors
                .iter()
                .filter_map(|s| w.sector_shares[good].get(s.get_ref()))
                .sum()
        })
    }

    pub(crate) fn apply(&self, w: &World, q: &Quarter<'_>, m: &mut Market) {
        let Some(base) = q.baseline_flows else { return };
        for &g in &self.good_ids {
            let routes = routes_between(m, &self.from, &self.to, &[g]);
            if routes.is_empty() {
                continue;
            }
            let exported: f64 = routes.iter().map(|&r| base[r]).sum();
            let kept = (1.0 - self.denial * self.screened_share(w, g)).max(0.0);
            m.quotas.push(Quota {
                name: "end-use screening".into(),
                routes,
                limit: kept * exported,
            });
        }
    }
}
