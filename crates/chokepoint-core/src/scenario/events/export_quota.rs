//! `export_quota`: exports of goods from an origin capped per year (or per quarter), allocated
//! to companies, with an administrative delay that keeps shipments below the quota (seed E22:
//! DR Congo cobalt, 18,125 t for Q4 2025 extended to 31 March 2026, then 96,600 t a year).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{Market, Quota};

use super::Resolver;
use crate::scenario::Event;
use crate::scenario::world::{Quarter, routes_between};

/// Keys of an `export_quota` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuota {
    /// Exporting place.
    pub origin: Spanned<String>,
    /// Goods counted against the quota.
    pub goods: Vec<Spanned<String>>,
    /// Limit per year, in the goods' model unit.
    pub limit_per_year: Option<Spanned<f64>>,
    /// Limit per quarter (instead of per year).
    pub limit_per_quarter: Option<Spanned<f64>>,
    /// Share of the quota that red tape keeps from shipping (0–1, default 0).
    pub admin_delay: Option<Spanned<f64>>,
    /// Shares of the quota by company (for the record; must not exceed 1 together).
    #[serde(default)]
    pub allocation: BTreeMap<String, f64>,
    #[serde(skip)]
    pub(crate) origin_regions: Vec<usize>,
    #[serde(skip)]
    pub(crate) good_ids: Vec<usize>,
    #[serde(skip)]
    per_year: f64,
    #[serde(skip)]
    delay: f64,
}

impl ExportQuota {
    /// Scales the limit by `f` (a risk draw's magnitude).
    pub(crate) fn scale(&mut self, f: f64) {
        self.per_year *= f;
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.origin_regions = r.place(&self.origin);
        self.good_ids = r.goods(&self.goods);
        self.per_year = match (&self.limit_per_year, &self.limit_per_quarter) {
            (Some(y), None) => r.non_negative(y, "limit_per_year"),
            (None, Some(q)) => 4.0 * r.non_negative(q, "limit_per_quarter"),
            (Some(_), Some(q)) => {
                r.error(
                    q,
                    "both limit_per_year and limit_per_quarter",
                    "give one of them",
                );
                0.0
            }
            (None, None) => {
                r.error(
                    &self.origin,
                    "export_quota without a limit",
                    "add limit_per_year = … or limit_per_quarter = …",
                );
                0.0
            }
        };
        self.delay = self
            .admin_delay
            .as_ref()
            .map_or(0.0, |d| r.share(d, "admin_delay"));
        let total: f64 = self.allocation.values().sum();
        if total > 1.0 + 1e-9 || self.allocation.values().any(|v| *v < 0.0) {
            r.error(
                &self.origin,
                format!("allocation shares sum to {total}, more than the whole quota"),
                "allocation shares are fractions of the quota, together at most 1",
            );
        }
    }

    pub(crate) fn apply(&self, ev: &Event, q: &Quarter<'_>, m: &mut Market) {
        let routes = routes_between(m, &self.origin_regions, &[], &self.good_ids);
        m.quotas.push(Quota {
            name: ev.id.clone(),
            routes,
            limit: self.per_year * q.length * (1.0 - self.delay),
        });
    }
}
