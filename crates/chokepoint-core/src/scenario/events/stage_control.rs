//! `stage_selective_control`: one stage may go to a destination, another may not (seed E23:
//! magnets to the US allowed, oxides and metals not). The blocked goods are banned; the allowed
//! ones are named so the file says what stays open, and may not also be blocked.

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::Market;

use super::{Resolver, close_routes};
use crate::scenario::world::routes_between;

/// Keys of a `stage_selective_control` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageControl {
    /// Exporting place.
    pub origin: Spanned<String>,
    /// Importing places (empty: every other region).
    #[serde(default)]
    pub destinations: Vec<Spanned<String>>,
    /// Goods (stages) that may not go.
    pub blocked: Vec<Spanned<String>>,
    /// Goods (stages) that still go.
    #[serde(default)]
    pub allowed: Vec<Spanned<String>>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    to: Vec<usize>,
    #[serde(skip)]
    pub(crate) blocked_ids: Vec<usize>,
}

impl StageControl {
    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.from = r.place(&self.origin);
        self.to = r.places(&self.destinations);
        self.to.retain(|x| !self.from.contains(x));
        self.blocked_ids = r.goods(&self.blocked);
        for a in &self.allowed {
            if let Some(g) = r.good(a)
                && self.blocked_ids.contains(&g)
            {
                r.error(
                    a,
                    format!("`{}` is both allowed and blocked", a.get_ref()),
                    "name each good in one list only",
                );
            }
        }
    }

    pub(crate) fn apply(&self, m: &mut Market) {
        close_routes(
            m,
            &routes_between(m, &self.from, &self.to, &self.blocked_ids),
        );
    }
}
