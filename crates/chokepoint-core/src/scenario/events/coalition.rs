//! `coalition`: a named group of places acting together (seed E5: the G7 plus the EU, Australia,
//! India, South Korea and Mexico). Its name can then be used wherever a place is expected.

use serde::Deserialize;
use toml::Spanned;

use super::Resolver;
use crate::scenario::Problems;
use crate::scenario::world::World;

/// Keys of a `coalition` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coalition {
    /// Name, used as a place by other events.
    pub name: Spanned<String>,
    /// Members: regions, countries, groups.
    pub members: Vec<Spanned<String>>,
}

impl Coalition {
    /// Resolves the members and registers the name as a place.
    pub(crate) fn register(&mut self, w: &mut World, p: &mut Problems<'_>) {
        let regions = {
            let mut r = Resolver { w, p };
            r.places(&self.members)
        };
        if w.place(self.name.get_ref()).is_some() {
            p.at(
                self.name.span().start,
                format!("`{}` already names a place", self.name.get_ref()),
                "give the coalition a name that is not a region, country or group",
            );
            return;
        }
        w.add_place(self.name.get_ref(), regions);
    }
}
