//! `price_floor`, `price_collar` and `offtake`: prices guaranteed to producers, as they change
//! what producers do (their fiscal side is the finance report's).
//!
//! A floor F on a producer's supply q(p) = (p − a)/b makes it supply as if the price were
//! max(p, F): up to V = min(q(F), volume) it sells whatever the market pays (the state pays the
//! difference), beyond V it follows its curve. In the market this is a step at price 0 of
//! capacity V followed by the curve shifted by V (intercept a + bV). A collar adds a ceiling C
//! above which the state takes a share s of the excess: the producer receives C + (1 − s)(p − C),
//! so above q(C) its curve is flatter by 1/(1 − s). Plants (processed goods) supported by a floor
//! see their processing cost lowered by the gap between the floor and the baseline price of the
//! quarter, down to zero (a linearisation: their output is priced by the market, not by a
//! supply curve; a gap beyond the processing cost is not passed on).

use serde::Deserialize;
use toml::Spanned;

use chokepoint_equilibrium::{Market, SupplyStep};

use super::Resolver;
use crate::scenario::world::{Quarter, World};

/// The producers a support covers and its terms, resolved (what the finance report values).
#[derive(Debug, Clone, Default)]
pub struct Support {
    /// Producer regions covered.
    pub regions: Vec<usize>,
    /// Good supported.
    pub good: usize,
    /// Floor price.
    pub floor: f64,
    /// Ceiling and the share of the excess above it paid to the state (collars).
    pub ceiling: Option<(f64, f64)>,
    /// Annual volume covered (∞ when the whole output is).
    pub volume: f64,
}

impl Support {
    fn apply(&self, w: &World, q: &Quarter<'_>, m: &mut Market) {
        let eligible = |s: &SupplyStep| self.regions.contains(&s.region) && s.good == self.good;
        // Volume each step would supply at the floor, to share a capped volume.
        let at_floor: Vec<f64> = m
            .supply
            .iter()
            .map(|s| {
                if eligible(s) && s.slope > 0.0 && self.floor > s.intercept {
                    let q = (self.floor - s.intercept) / s.slope;
                    s.capacity.map_or(q, |c| q.min(c))
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = at_floor.iter().sum();
        let cap = self.volume * q.length;
        let scale = if total > cap { cap / total } else { 1.0 };
        let mut out = Vec::with_capacity(m.supply.len() + 8);
        for (s, &v0) in m.supply.iter().zip(&at_floor) {
            let v = v0 * scale;
            if v <= 0.0 {
                out.push(s.clone());
                continue;
            }
            out.push(SupplyStep {
                intercept: 0.0,
                slope: 0.0,
                capacity: Some(v),
                ..s.clone()
            });
            let rest = s.capacity.map(|c| (c - v).max(0.0));
            let shifted = SupplyStep {
                intercept: s.intercept + s.slope * v,
                capacity: rest,
                ..s.clone()
            };
            match self.ceiling {
                Some((c, share)) if c > shifted.intercept && share > 0.0 => {
                    let to_ceiling = (c - shifted.intercept) / s.slope;
                    let below = rest.map_or(to_ceiling, |r| r.min(to_ceiling));
                    out.push(SupplyStep {
                        capacity: Some(below),
                        ..shifted.clone()
                    });
                    let above = rest.map(|r| (r - below).max(0.0));
                    out.push(SupplyStep {
                        intercept: c,
                        slope: s.slope / (1.0 - share).max(f64::EPSILON),
                        capacity: above,
                        ..shifted
                    });
                }
                _ => out.push(shifted),
            }
        }
        m.supply = out;
        if let Some(base) = q.baseline_prices {
            for p in &mut m.processes {
                if self.regions.contains(&p.region) && p.output == self.good {
                    let gap = (self.floor - base[w.node(p.region, p.output)]).max(0.0);
                    // Processing costs are ≥ 0 in the market: the support can at most
                    // cover the plant's own processing cost.
                    p.cost = (p.cost - gap).max(0.0);
                }
            }
        }
    }
}

fn resolve_support(
    r: &mut Resolver<'_, '_, '_>,
    good: &Spanned<String>,
    producers: &[Spanned<String>],
    exclude: &[Spanned<String>],
    floor: &Spanned<f64>,
    volume: &Option<Spanned<f64>>,
) -> Support {
    let mut regions = if producers.is_empty() {
        (0..r.w.regions.len()).collect()
    } else {
        r.places(producers)
    };
    let out = r.places(exclude);
    regions.retain(|x| !out.contains(x));
    Support {
        regions,
        good: r.good(good).unwrap_or(0),
        floor: r.non_negative(floor, "floor"),
        ceiling: None,
        volume: volume
            .as_ref()
            .map_or(f64::INFINITY, |v| r.non_negative(v, "volume_per_year")),
    }
}

/// Keys of a `price_floor` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFloor {
    /// Good supported.
    pub good: Spanned<String>,
    /// Producer places covered (default: all).
    #[serde(default)]
    pub producers: Vec<Spanned<String>>,
    /// Producer places left out (e.g. ["CHN"] for a floor on non-Chinese supply, seed E6).
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Floor price (currency per model unit).
    pub floor: Spanned<f64>,
    /// Annual volume covered (default: all output).
    pub volume_per_year: Option<Spanned<f64>>,
    /// Who pays (for the record).
    #[serde(default)]
    pub payer: String,
    #[serde(skip)]
    support: Support,
}

impl PriceFloor {
    /// The resolved terms.
    pub fn support(&self) -> &Support {
        &self.support
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        self.support = resolve_support(
            r,
            &self.good,
            &self.producers,
            &self.exclude,
            &self.floor,
            &self.volume_per_year,
        );
    }

    pub(crate) fn apply(&self, w: &World, q: &Quarter<'_>, m: &mut Market) {
        self.support.apply(w, q, m);
    }
}

/// Keys of a `price_collar` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceCollar {
    /// Good supported.
    pub good: Spanned<String>,
    /// Producer places covered (default: all).
    #[serde(default)]
    pub producers: Vec<Spanned<String>>,
    /// Producer places left out.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Floor price.
    pub floor: Spanned<f64>,
    /// Ceiling price.
    pub ceiling: Spanned<f64>,
    /// Share of the price above the ceiling paid to the state (0–1).
    pub upside_share: Spanned<f64>,
    /// Annual volume covered (default: all output).
    pub volume_per_year: Option<Spanned<f64>>,
    /// Who pays and receives (for the record).
    #[serde(default)]
    pub counterparty: String,
    #[serde(skip)]
    support: Support,
}

impl PriceCollar {
    /// The resolved terms.
    pub fn support(&self) -> &Support {
        &self.support
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        let mut s = resolve_support(
            r,
            &self.good,
            &self.producers,
            &self.exclude,
            &self.floor,
            &self.volume_per_year,
        );
        let c = r.non_negative(&self.ceiling, "ceiling");
        if c <= s.floor {
            r.error(
                &self.ceiling,
                "the ceiling is not above the floor",
                "a collar has floor < ceiling",
            );
        }
        s.ceiling = Some((c, r.share(&self.upside_share, "upside_share")));
        self.support = s;
    }

    pub(crate) fn apply(&self, w: &World, q: &Quarter<'_>, m: &mut Market) {
        self.support.apply(w, q, m);
    }
}

/// Keys of an `offtake` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offtake {
    /// Buyer (for the record and the finance report).
    pub buyer: Spanned<String>,
    /// Selling place.
    pub seller: Spanned<String>,
    /// Good.
    pub good: Spanned<String>,
    /// Volume per year.
    pub volume_per_year: Spanned<f64>,
    /// Guaranteed price.
    pub floor: Spanned<f64>,
    #[serde(skip)]
    support: Support,
}

impl Offtake {
    /// The resolved terms.
    pub fn support(&self) -> &Support {
        &self.support
    }

    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        r.place(&self.buyer);
        let seller = std::slice::from_ref(&self.seller);
        self.support = resolve_support(
            r,
            &self.good,
            seller,
            &[],
            &self.floor,
            &Some(self.volume_per_year.clone()),
        );
    }

    pub(crate) fn apply(&self, w: &World, q: &Quarter<'_>, m: &mut Market) {
        self.support.apply(w, q, m);
    }
}
