//! `export_ban`: exports of named goods from an origin to destinations (all other regions when
//! none are named) stop while the event is in force (seed E1: China → Japan, Dy and Tb).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::Market;

use super::{Resolver, close_routes};
use crate::scenario::world::routes_between;

/// Keys of an `export_ban` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportBan {
    /// Exporting place.
    pub origin: Spanned<String>,
    /// Importing places (empty: every other region).
    #[serde(default)]
    pub destinations: Vec<Spanned<String>>,
    /// Goods banned.
    pub goods: Vec<Spanned<String>>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    to: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
}

impl ExportBan {
    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.from = r.place(&self.origin);
        self.to = r.places(&self.destinations);
        self.to.retain(|x| !self.from.contains(x));
        self.good_ids = r.goods(&self.goods);
    }

    pub(crate) fn apply(&self, m: &mut Market) {
        close_routes(m, &routes_between(m, &self.from, &self.to, &self.good_ids));
    }
}
