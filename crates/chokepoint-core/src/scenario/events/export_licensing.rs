//! `export_licensing`: only licensed exporters ship (seed E2: China licenses 44 silver, 15
//! tungsten and 11 antimony exporters for 2026–2027). Exports of the goods from the origin are
//! capped at the licensed share of what the baseline exports in the same quarter; licences run
//! for `licence_months` and each renewal happens with `renewal_probability`, so a plain run uses
//! the expected share, share × renewal_probability^(renewals due). Destinations may be treated
//! differently (longer licences to the EU than to the US, seed E23).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{Market, Quota};

use super::Resolver;
use crate::scenario::Event;
use crate::scenario::world::{Quarter, routes_between};

/// Different terms for some destinations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationTerms {
    /// Places these terms apply to.
    pub places: Vec<Spanned<String>>,
    /// Licensed share of baseline exports to them.
    pub licensed_share: Spanned<f64>,
    /// Licence length for them.
    pub licence_months: Option<Spanned<f64>>,
    /// Renewal probability for them.
    pub renewal_probability: Option<Spanned<f64>>,
}

/// Keys of an `export_licensing` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLicensing {
    /// Exporting place.
    pub origin: Spanned<String>,
    /// Goods under licence.
    pub goods: Vec<Spanned<String>>,
    /// Share of baseline exports the licensed exporters can ship (0–1).
    pub licensed_share: Spanned<f64>,
    /// Number of licensed exporters (for the record).
    #[serde(default)]
    pub exporters: Option<u32>,
    /// Licence length in months (default: open-ended).
    pub licence_months: Option<Spanned<f64>>,
    /// Probability that a licence is renewed when it expires (default 1).
    pub renewal_probability: Option<Spanned<f64>>,
    /// Other terms for some destinations.
    #[serde(default)]
    pub destinations: Vec<DestinationTerms>,
    #[serde(skip)]
    resolved: Vec<Terms>,
    #[serde(skip)]
    from: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
}

/// Terms resolved: destination regions (empty: the rest), share, licence years, renewal.
#[derive(Debug, Clone, Default)]
struct Terms {
    to: Vec<usize>,
    share: f64,
    years: Option<f64>,
    renewal: f64,
}

impl Terms {
    /// Expected licensed share `elapsed` years after the start.
    fn share_at(&self, elapsed: f64) -> f64 {
        let renewals = self.years.map_or(0.0, |y| (elapsed / y).floor().max(0.0));
        self.share * self.renewal.powf(renewals)
    }
}

impl ExportLicensing {
    /// Scales what licensing withholds (1 − licensed share) by `f` (a risk draw's
    /// magnitude).
    pub(crate) fn scale(&mut self, f: f64) {
        for t in &mut self.resolved {
            t.share = (1.0 - (1.0 - t.share) * f).clamp(0.0, 1.0);
        }
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.from = r.place(&self.origin);
        self.good_ids = r.goods(&self.goods);
        let months = |r: &mut Resolver<'_, '_, '_>, v: &Option<Spanned<f64>>| {
            v.as_ref().map(|m| {
                let x = r.non_negative(m, "licence_months");
                if x == 0.0 {
                    r.error(
                        m,
                        "licence_months must be > 0",
                        "e.g. 6 for six-month licences",
                    );
                }
                x.max(1.0) / 12.0
            })
        };
        let renewal = |r: &mut Resolver<'_, '_, '_>, v: &Option<Spanned<f64>>| {
            v.as_ref()
                .map_or(1.0, |p| r.share(p, "renewal_probability"))
        };
        let mut terms = Vec::new();
        let mut named = Vec::new();
        for d in &self.destinations {
            let mut to = r.places(&d.places);
            to.retain(|x| !self.from.contains(x));
            named.extend(to.iter().copied());
            terms.push(Terms {
                to,
                share: r.share(&d.licensed_share, "licensed_share"),
                years: months(r, &d.licence_months).or(months(r, &self.licence_months)),
                renewal: d
                    .renewal_probability
                    .as_ref()
                    .map_or(renewal(r, &self.renewal_probability), |p| {
                        r.share(p, "renewal_probability")
                    }),
            });
        }
        let rest: Vec<usize> = (0..r.w.regions.len())
            .filter(|x| !named.contains(x) && !self.from.contains(x))
            .collect();
        terms.push(Terms {
            to: rest,
            share: r.share(&self.licensed_share, "licensed_share"),
            years: months(r, &self.licence_months),
            renewal: renewal(r, &self.renewal_probability),
        });
        self.resolved = terms;
    }

    pub(crate) fn apply(&self, ev: &Event, q: &Quarter<'_>, m: &mut Market) {
        let Some(base) = q.baseline_flows else { return };
        for terms in &self.resolved {
            for &g in &self.good_ids {
                let routes = routes_between(m, &self.from, &terms.to, &[g]);
                if routes.is_empty() {
                    continue;
                }
                let exported: f64 = routes.iter().map(|&r| base[r]).sum();
                m.quotas.push(Quota {
                    name: format!("{} licensing", ev.id),
                    routes,
                    limit: terms.share_at(q.t - ev.start) * exported,
                });
            }
        }
    }
}
