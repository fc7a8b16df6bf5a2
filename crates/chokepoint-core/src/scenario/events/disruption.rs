//! `disruption`: a place loses a share of its capacity for a good (or a quantity per year) while
//! the event is in force (seed E14: the Grasberg mud rush). Supply curves shrink by the share
//! (the same price brings that much less), and plants making the good lose that capacity.

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::Market;

use super::Resolver;
use crate::scenario::world::World;

/// Keys of a `disruption` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disruption {
    /// Where.
    pub place: Spanned<String>,
    /// Goods hit.
    pub goods: Vec<Spanned<String>>,
    /// Share of capacity lost (0–1).
    pub share: Option<Spanned<f64>>,
    /// Or the quantity lost per year (model unit), as a share of the place's base output.
    pub loss_per_year: Option<Spanned<f64>>,
    /// Company or asset (for the record, e.g. "Freeport-McMoRan, Grasberg").
    #[serde(default)]
    pub asset: String,
    #[serde(skip)]
    regions: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
}

impl Disruption {
    /// Scales the loss by `f` (a risk draw's magnitude), a share at most 1.
    pub(crate) fn scale(&mut self, f: f64) {
        if let Some(s) = &mut self.share {
            *s.get_mut() = (*s.get_ref() * f).clamp(0.0, 1.0);
        }
        if let Some(l) = &mut self.loss_per_year {
            *l.get_mut() *= f;
        }
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.regions = r.place(&self.place);
        self.good_ids = r.goods(&self.goods);
        match (&self.share, &self.loss_per_year) {
            (Some(s), None) => {
                r.share(s, "share");
            }
            (None, Some(l)) => {
                r.non_negative(l, "loss_per_year");
            }
            (Some(_), Some(l)) => r.error(l, "both share and loss_per_year", "give one of them"),
            (None, None) => r.error(
                &self.place,
                "disruption without share or loss_per_year",
                "add share = 0.3 or loss_per_year = …",
            ),
        }
    }

    /// Share lost at a node.
    fn lost(&self, w: &World, region: usize, good: usize) -> f64 {
        match (&self.share, &self.loss_per_year) {
            (Some(s), _) => *s.get_ref(),
            (None, Some(l)) => {
                let base: f64 = w.base_output[w.node(region, good)];
                // The loss is spread over the place's regions in proportion to their output.
                let total: f64 = self
                    .regions
                    .iter()
                    .map(|&r| w.base_output[w.node(r, good)])
                    .sum();
                if total > 0.0 && base > 0.0 {
                    (l.get_ref() / total).min(1.0)
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
        .clamp(0.0, 1.0)
    }

    pub(crate) fn apply(&self, w: &World, m: &mut Market) {
        for s in &mut m.supply {
            if self.regions.contains(&s.region) && self.good_ids.contains(&s.good) {
                let lost = self.lost(w, s.region, s.good);
                scale_quantity(&mut s.slope, &mut s.capacity, 1.0 - lost);
            }
        }
        for p in &mut m.processes {
            if self.regions.contains(&p.region) && self.good_ids.contains(&p.output) {
                let lost = self.lost(w, p.region, p.output);
                p.capacity = match p.capacity {
                    Some(c) => Some(c * (1.0 - lost)),
                    None if lost >= 1.0 => Some(0.0),
                    None => None,
                };
            }
        }
    }
}

/// Multiplies the quantity a step offers (or takes) at every price by `factor`: a linear step
/// q = (p − a)/b becomes q·factor, i.e. its slope divided by the factor; a step reduced to
/// nothing gets capacity 0.
pub(crate) fn scale_quantity(slope: &mut f64, capacity: &mut Option<f64>, factor: f64) {
    if factor <= 0.0 {
        *capacity = Some(0.0);
        return;
    }
    *slope /= factor;
    *capacity = capacity.map(|c| c * factor);
}
