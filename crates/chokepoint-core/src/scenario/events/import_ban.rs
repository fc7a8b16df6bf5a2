//! `import_ban`: an importer stops taking named goods from origins (all when none are named),
//! from a date (seed E10: the US ban on Russian uranium).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::Market;

use super::{Resolver, close_routes};
use crate::scenario::world::routes_between;

/// Keys of an `import_ban` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBan {
    /// Importing place.
    pub importer: Spanned<String>,
    /// Origins banned (empty: every other region).
    #[serde(default)]
    pub origins: Vec<Spanned<String>>,
    /// Goods banned.
    pub goods: Vec<Spanned<String>>,
    #[serde(skip)]
    to: Vec<usize>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
}

impl ImportBan {
    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.to = r.place(&self.importer);
        self.from = if self.origins.is_empty() {
            (0..r.w.regions.len()).collect()
        } else {
            r.places(&self.origins)
        };
        self.from.retain(|x| !self.to.contains(x));
        self.good_ids = r.goods(&self.goods);
    }

    pub(crate) fn apply(&self, m: &mut Market) {
        close_routes(m, &routes_between(m, &self.from, &self.to, &self.good_ids));
    }
}
