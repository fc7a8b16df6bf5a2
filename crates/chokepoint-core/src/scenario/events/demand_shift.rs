//! `demand_shift`: demand for goods moves by a factor from the event's start, optionally only
//! in some sectors and places, optionally ramping in linearly (seed E18/E21: storage-battery
//! lithium demand; sodium-ion substitution as a factor below 1).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::Market;

use super::Resolver;
use super::disruption::scale_quantity;
use crate::scenario::Event;
use crate::scenario::world::{Quarter, World};

/// Keys of a `demand_shift` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandShift {
    /// Goods whose demand moves.
    pub goods: Vec<Spanned<String>>,
    /// Sectors (default: every sector and the goods' undivided demand).
    #[serde(default)]
    pub sectors: Vec<Spanned<String>>,
    /// Places (default: everywhere).
    #[serde(default)]
    pub places: Vec<Spanned<String>>,
    /// Demand at any price is multiplied by this (1.2: +20%; 0.9: 10% substituted).
    pub factor: Spanned<f64>,
    /// Years over which the factor ramps in from 1 (default 0: at once).
    pub ramp_years: Option<Spanned<f64>>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
    #[serde(skip)]
    regions: Vec<usize>,
}

impl DemandShift {
    /// Scales the shift (factor − 1) by `f` (a risk draw's magnitude).
    pub(crate) fn scale(&mut self, f: f64) {
        let factor = *self.factor.get_ref();
        *self.factor.get_mut() = (1.0 + (factor - 1.0) * f).max(0.0);
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.good_ids = r.goods(&self.goods);
        self.regions = if self.places.is_empty() {
            (0..r.w.regions.len()).collect()
        } else {
            r.places(&self.places)
        };
        r.non_negative(&self.factor, "factor");
        if let Some(v) = &self.ramp_years {
            r.non_negative(v, "ramp_years");
        }
        for s in &self.sectors {
            let known = self
                .good_ids
                .iter()
                .any(|&g| r.w.sector_shares[g].contains_key(s.get_ref()));
            if !known {
                r.error(
                    s,
                    format!("no good of this event has a sector `{}`", s.get_ref()),
                    "sectors of each good are in data/model/end_uses.csv",
                );
            }
        }
    }

    pub(crate) fn apply(&self, ev: &Event, w: &World, q: &Quarter<'_>, m: &mut Market) {
        let full = *self.factor.get_ref();
        let ramp = self.ramp_years.as_ref().map_or(0.0, |v| *v.get_ref());
        let factor = if ramp > 0.0 {
            1.0 + (full - 1.0) * ((q.t - ev.start) / ramp).clamp(0.0, 1.0)
        } else {
            full
        };
        for (k, d) in m.demand.iter_mut().enumerate() {
            // Only the model's own demand steps (not stocks added by other events); a world
            // without sector labels (a hand-built market) has no sectors.
            let sector = if w.demand_sector.is_empty() {
                &None
            } else {
                match w.demand_sector.get(k) {
                    Some(s) => s,
                    None => break,
                }
            };
            if !self.good_ids.contains(&d.good) || !self.regions.contains(&d.region) {
                continue;
            }
            let matches = self.sectors.is_empty()
                || sector
                    .as_deref()
                    .is_some_and(|s| self.sectors.iter().any(|x| x.get_ref() == s));
            if matches {
                scale_quantity(&mut d.slope, &mut d.capacity, factor);
            }
        }
    }
}
