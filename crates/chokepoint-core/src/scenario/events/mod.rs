//! The event kinds, one file each, dispatched through [`EventKind`].
//!
//! Each kind is read from its `[[event]]` table (keys beyond the common ones), resolves its
//! names against the [`World`] (`resolve`), and acts on each quarter's market while it is in
//! force (`apply`, before the clearing; `after`, with the cleared solution, for kinds that carry
//! stocks). Events change capacities, tariffs and constraints of the quarter's market, add
//! steps, or change the project pipeline; they never touch the baseline's data.

pub mod coalition;
pub mod demand_shift;
pub mod disruption;
pub mod end_use_screening;
pub mod export_ban;
pub mod export_licensing;
pub mod export_quota;
pub mod import_ban;
pub mod price_support;
pub mod project;
pub mod stage_control;
pub mod stockpile;
pub mod tariff;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use chokepoint_equilibrium::{Market, Solution};

use super::world::{Quarter, World};
use super::{Event, Problems, read};
use crate::dataset::tables::Project;

/// Every event kind.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// Exports from an origin to destinations stop, for named goods.
    ExportBan(export_ban::ExportBan),
    /// Imports into a region from origins stop.
    ImportBan(import_ban::ImportBan),
    /// Some stages may go to a destination, others may not.
    StageSelectiveControl(stage_control::StageControl),
    /// Only licensed exporters ship: exports capped at a licensed share of the baseline's.
    ExportLicensing(export_licensing::ExportLicensing),
    /// Shipments for named sectors are denied with a probability.
    EndUseScreening(end_use_screening::EndUseScreening),
    /// Exports capped per period, less an administrative delay.
    ExportQuota(export_quota::ExportQuota),
    /// An import tariff, announced before it takes effect, maybe paused.
    Tariff(tariff::Tariff),
    /// Capacity lost for a while.
    Disruption(disruption::Disruption),
    /// A pipeline project changed (probability, start, capacity).
    Project(project::ProjectEvent),
    /// A deposit closed to mining, or opened.
    DepositBan(project::DepositBan),
    /// Demand moved up or down (growth, substitution).
    DemandShift(demand_shift::DemandShift),
    /// A stock bought below and released above trigger prices.
    Stockpile(stockpile::StockpileEvent),
    /// A guaranteed minimum price for producers.
    PriceFloor(price_support::PriceFloor),
    /// A floor and a ceiling with upside shared with the state.
    PriceCollar(price_support::PriceCollar),
    /// A buyer's contract with a seller at a floor price.
    Offtake(price_support::Offtake),
    /// A named group of countries acting together.
    Coalition(coalition::Coalition),
}

/// Names of the kinds, as written in files.
pub const KINDS: [&str; 16] = [
    "export_ban",
    "import_ban",
    "stage_selective_control",
    "export_licensing",
    "end_use_screening",
    "export_quota",
    "tariff",
    "disruption",
    "project",
    "deposit_ban",
    "demand_shift",
    "stockpile",
    "price_floor",
    "price_collar",
    "offtake",
    "coalition",
];

/// What an event carries from quarter to quarter (stocks, indices of the steps it added).
#[derive(Debug, Clone, Default)]
pub struct EventState {
    /// Stock held.
    pub stock: f64,
    /// First demand step the event added in the current quarter's market.
    pub demand_step: Option<usize>,
    /// First supply step the event added.
    pub supply_step: Option<usize>,
    /// Quarters it has been in force.
    pub quarters: u32,
    /// Stocks per (region, good) of kinds that hold several.
    pub stocks: Vec<f64>,
    /// Quantity released per quarter per stock, fixed when releasing begins.
    pub released: Vec<f64>,
}

fn parse_as<T: for<'de> Deserialize<'de>>(
    v: &Spanned<DeValue<'_>>,
    problems: &mut Problems<'_>,
    wrap: fn(T) -> EventKind,
) -> Option<EventKind> {
    read::<T>(v, problems).map(wrap)
}

impl EventKind {
    /// Reads the kind-specific keys of an event table.
    pub(crate) fn parse(
        kind: &str,
        at: usize,
        v: &Spanned<DeValue<'_>>,
        problems: &mut Problems<'_>,
    ) -> Option<EventKind> {
        match kind {
            "export_ban" => parse_as(v, problems, EventKind::ExportBan),
            "import_ban" => parse_as(v, problems, EventKind::ImportBan),
            "stage_selective_control" => parse_as(v, problems, EventKind::StageSelectiveControl),
            "export_licensing" => parse_as(v, problems, EventKind::ExportLicensing),
            "end_use_screening" => parse_as(v, problems, EventKind::EndUseScreening),
            "export_quota" => parse_as(v, problems, EventKind::ExportQuota),
            "tariff" => parse_as(v, problems, EventKind::Tariff),
            "disruption" => parse_as(v, problems, EventKind::Disruption),
            "project" => parse_as(v, problems, EventKind::Project),
            "deposit_ban" => parse_as(v, problems, EventKind::DepositBan),
            "demand_shift" => parse_as(v, problems, EventKind::DemandShift),
            "stockpile" => parse_as(v, problems, EventKind::Stockpile),
            "price_floor" => parse_as(v, problems, EventKind::PriceFloor),
            "price_collar" => parse_as(v, problems, EventKind::PriceCollar),
            "offtake" => parse_as(v, problems, EventKind::Offtake),
            "coalition" => parse_as(v, problems, EventKind::Coalition),
            other => {
                let near = crate::diagnostic::nearest(other, KINDS);
                problems.at(
                    at,
                    format!("unknown event kind `{other}`"),
                    match near.first() {
                        Some(n) => format!("did you mean `{n}`? kinds: {}", KINDS.join(", ")),
                        None => format!("kinds: {}", KINDS.join(", ")),
                    },
                );
                None
            }
        }
    }

    /// The kind's name in files.
    pub fn name(&self) -> &'static str {
        KINDS[match self {
            EventKind::ExportBan(_) => 0,
            EventKind::ImportBan(_) => 1,
            EventKind::StageSelectiveControl(_) => 2,
            EventKind::ExportLicensing(_) => 3,
            EventKind::EndUseScreening(_) => 4,
            EventKind::ExportQuota(_) => 5,
            EventKind::Tariff(_) => 6,
            EventKind::Disruption(_) => 7,
            EventKind::Project(_) => 8,
            EventKind::DepositBan(_) => 9,
            EventKind::DemandShift(_) => 10,
            EventKind::Stockpile(_) => 11,
            EventKind::PriceFloor(_) => 12,
            EventKind::PriceCollar(_) => 13,
            EventKind::Offtake(_) => 14,
            EventKind::Coalition(_) => 15,
        }]
    }

    /// Whether the kind has one figure a risk draw's magnitude scales (see [`Self::scale`]).
    pub fn scalable(&self) -> bool {
        matches!(
            self,
            EventKind::Disruption(_)
                | EventKind::DemandShift(_)
                | EventKind::Tariff(_)
                | EventKind::ExportQuota(_)
                | EventKind::EndUseScreening(_)
                | EventKind::ExportLicensing(_)
        )
    }

    /// Scales the event's own figure by `f` (a risk draw's magnitude, see
    /// `uncertainty.magnitude`); kinds without one figure to scale (bans, projects,
    /// stockpiles, price supports, coalitions: not [`Self::scalable`]) are left as they are,
    /// which a risk run reports.
    pub fn scale(&mut self, f: f64) {
        match self {
            EventKind::Disruption(e) => e.scale(f),
            EventKind::DemandShift(e) => e.scale(f),
            EventKind::Tariff(e) => e.scale(f),
            EventKind::ExportQuota(e) => e.scale(f),
            EventKind::EndUseScreening(e) => e.scale(f),
            EventKind::ExportLicensing(e) => e.scale(f),
            _ => {}
        }
    }

    /// The goods whose markets the event can change (its goods, the good of its project or
    /// supported price); `None` when that is not known, which a caller must read as every
    /// good. A risk run clears the goods an event does not touch without it.
    pub fn goods(&self, w: &World) -> Option<Vec<usize>> {
        let project = |id: &Spanned<String>| {
            w.projects
                .get(id.get_ref())
                .and_then(|&i| w.project_goods.get(i).copied().flatten())
                .map(|g| vec![g])
        };
        Some(match self {
            EventKind::ExportBan(e) => e.good_ids.clone(),
            EventKind::ImportBan(e) => e.good_ids.clone(),
            EventKind::StageSelectiveControl(e) => e.blocked_ids.clone(),
            EventKind::ExportLicensing(e) => e.good_ids.clone(),
            EventKind::EndUseScreening(e) => e.good_ids.clone(),
            EventKind::ExportQuota(e) => e.good_ids.clone(),
            EventKind::Tariff(e) => e.good_ids.clone(),
            EventKind::Disruption(e) => e.good_ids.clone(),
            EventKind::DemandShift(e) => e.good_ids.clone(),
            EventKind::Stockpile(e) => vec![e.good_id],
            EventKind::PriceFloor(e) => vec![e.support().good],
            EventKind::PriceCollar(e) => vec![e.support().good],
            EventKind::Offtake(e) => vec![e.support().good],
            EventKind::Project(e) => project(&e.project)?,
            EventKind::DepositBan(e) => project(&e.project)?,
            // A coalition only names a group for other events.
            EventKind::Coalition(_) => Vec::new(),
        })
    }

    /// Resolves names against the world, recording problems.
    pub(crate) fn resolve(&mut self, w: &World, p: &mut Problems<'_>) {
        let mut r = Resolver { w, p };
        match self {
            EventKind::ExportBan(e) => e.resolve(&mut r),
            EventKind::ImportBan(e) => e.resolve(&mut r),
            EventKind::StageSelectiveControl(e) => e.resolve(&mut r),
            EventKind::ExportLicensing(e) => e.resolve(&mut r),
            EventKind::EndUseScreening(e) => e.resolve(&mut r),
            EventKind::ExportQuota(e) => e.resolve(&mut r),
            EventKind::Tariff(e) => e.resolve(&mut r),
            EventKind::Disruption(e) => e.resolve(&mut r),
            EventKind::Project(e) => e.resolve(&mut r),
            EventKind::DepositBan(e) => e.resolve(&mut r),
            EventKind::DemandShift(e) => e.resolve(&mut r),
            EventKind::Stockpile(e) => e.resolve(&mut r),
            EventKind::PriceFloor(e) => e.resolve(&mut r),
            EventKind::PriceCollar(e) => e.resolve(&mut r),
            EventKind::Offtake(e) => e.resolve(&mut r),
            EventKind::Coalition(_) => {}
        }
    }

    /// Changes the quarter's market while the event is in force (and keeps the steps of
    /// stock-carrying kinds in every quarter, empty when out of force, so the market keeps its
    /// shape).
    pub fn apply(
        &self,
        ev: &Event,
        w: &World,
        q: &Quarter<'_>,
        m: &mut Market,
        st: &mut EventState,
    ) {
        let on = ev.active(q.t);
        if on {
            st.quarters += 1;
        }
        match self {
            EventKind::ExportBan(e) if on => e.apply(m),
            EventKind::ImportBan(e) if on => e.apply(m),
            EventKind::StageSelectiveControl(e) if on => e.apply(m),
            EventKind::ExportLicensing(e) if on => e.apply(ev, q, m),
            EventKind::EndUseScreening(e) if on => e.apply(w, q, m),
            EventKind::ExportQuota(e) if on => e.apply(ev, q, m),
            EventKind::Tariff(e) => e.apply(ev, w, q, m, st),
            EventKind::Disruption(e) if on => e.apply(w, m),
            EventKind::DemandShift(e) if on => e.apply(ev, w, q, m),
            EventKind::Stockpile(e) => e.apply(on, m, st),
            EventKind::PriceFloor(e) if on => e.apply(w, q, m),
            EventKind::PriceCollar(e) if on => e.apply(w, q, m),
            EventKind::Offtake(e) if on => e.apply(w, q, m),
            _ => {}
        }
    }

    /// Whether what the event does in a quarter depends on its dates only through whether it
    /// is in force at the quarter's middle (`Event::active`): true of every kind whose
    /// [`Self::apply`] reads neither the event's start nor its end, and which changes no
    /// project. Two draws of such an event with the same quarters in force and the same
    /// magnitude give the same run (a risk run shares it). Keep in step with `apply`.
    pub fn acts_by_quarter(&self) -> bool {
        matches!(
            self,
            EventKind::ExportBan(_)
                | EventKind::ImportBan(_)
                | EventKind::StageSelectiveControl(_)
                | EventKind::EndUseScreening(_)
                | EventKind::ExportQuota(_)
                | EventKind::Disruption(_)
                | EventKind::Stockpile(_)
                | EventKind::PriceFloor(_)
                | EventKind::PriceCollar(_)
                | EventKind::Offtake(_)
                | EventKind::Coalition(_)
        )
    }

    /// The state an event starts a run with (a stockpile's initial stock).
    pub fn initial_state(&self) -> EventState {
        EventState {
            stock: match self {
                EventKind::Stockpile(e) => e.initial,
                _ => 0.0,
            },
            ..EventState::default()
        }
    }

    /// Carries stocks forward with the cleared quarter.
    pub fn after(&self, m: &Market, sol: &Solution, st: &mut EventState) {
        match self {
            EventKind::Tariff(e) => e.after(sol, st),
            EventKind::Stockpile(e) => e.after(m, sol, st),
            _ => {}
        }
    }

    /// What a reserve bought and released in the cleared quarter (`None` for other kinds).
    pub fn reserve_flows(&self, sol: &Solution, st: &EventState) -> Option<(f64, f64)> {
        match self {
            EventKind::Stockpile(_) => {
                let (d, s) = (st.demand_step?, st.supply_step?);
                Some((*sol.demand.get(d)?, *sol.supply.get(s)?))
            }
            _ => None,
        }
    }

    /// Changes the project pipeline while the event is in force.
    pub fn projects(&self, ev: &Event, t: f64, w: &World, projects: &mut [Project]) {
        match self {
            EventKind::Project(e) => e.apply(ev, t, w, projects),
            EventKind::DepositBan(e) => e.apply(ev, t, w, projects),
            _ => {}
        }
    }
}

/// Resolves names of one event, recording located problems.
pub struct Resolver<'a, 'p, 't> {
    /// The world names resolve in.
    pub w: &'a World,
    /// Where problems go.
    pub p: &'p mut Problems<'t>,
}

impl Resolver<'_, '_, '_> {
    /// Regions of a place, or a problem.
    pub fn place(&mut self, name: &Spanned<String>) -> Vec<usize> {
        match self.w.place(name.get_ref()) {
            Some(r) => r,
            None => {
                let names = self.w.place_names();
                let near = crate::diagnostic::nearest(name.get_ref(), names);
                self.p.at(
                    name.span().start,
                    format!("unknown place `{}`", name.get_ref()),
                    if near.is_empty() {
                        "use a model region, an ISO3 country, group:ID or a coalition".to_string()
                    } else {
                        format!("did you mean {}?", near.join(", "))
                    },
                );
                Vec::new()
            }
        }
    }

    /// Regions of several places (their union).
    pub fn places(&mut self, names: &[Spanned<String>]) -> Vec<usize> {
        let mut out: Vec<usize> = names.iter().flat_map(|n| self.place(n)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A good, or a problem.
    pub fn good(&mut self, name: &Spanned<String>) -> Option<usize> {
        let g = self.w.good(name.get_ref());
        if g.is_none() {
            let near =
                crate::diagnostic::nearest(name.get_ref(), self.w.goods.iter().map(String::as_str));
            self.p.at(
                name.span().start,
                format!("unknown good `{}`", name.get_ref()),
                if near.is_empty() {
                    "`chokepoint model chains` lists the goods".to_string()
                } else {
                    format!("did you mean {}?", near.join(", "))
                },
            );
        }
        g
    }

    /// Several goods.
    pub fn goods(&mut self, names: &[Spanned<String>]) -> Vec<usize> {
        names.iter().filter_map(|n| self.good(n)).collect()
    }

    /// A share in 0–1, or a problem.
    pub fn share(&mut self, v: &Spanned<f64>, what: &str) -> f64 {
        let x = *v.get_ref();
        if !(0.0..=1.0).contains(&x) {
            self.p.at(
                v.span().start,
                format!("{what} {x} is outside 0–1"),
                "a share is a fraction: 0.25 for a quarter",
            );
        }
        x.clamp(0.0, 1.0)
    }

    /// A number ≥ 0, or a problem.
    pub fn non_negative(&mut self, v: &Spanned<f64>, what: &str) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x >= 0.0) {
            self.p.at(
                v.span().start,
                format!("{what} {x} must be a number ≥ 0"),
                "quantities and prices are ≥ 0, in the good's model unit",
            );
        }
        x.max(0.0)
    }

    /// A date, or a problem.
    pub fn date(&mut self, v: &Spanned<String>) -> f64 {
        match super::time::parse_date(v.get_ref()) {
            Ok(t) => t,
            Err(m) => {
                self.p.at(
                    v.span().start,
                    m,
                    "write 2026, 2026Q1, 2026-01 or 2026-01-06",
                );
                0.0
            }
        }
    }

    /// A problem at a value.
    pub fn error<T>(
        &mut self,
        v: &Spanned<T>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.p.at(v.span().start, message, hint);
    }
}

/// Two quotas on the same origin and good in force at the same time contradict each other.
pub(crate) fn check_overlaps(events: &[Event], p: &mut Problems<'_>) {
    for (i, a) in events.iter().enumerate() {
        let EventKind::ExportQuota(qa) = &a.kind else {
            continue;
        };
        for b in &events[i + 1..] {
            let EventKind::ExportQuota(qb) = &b.kind else {
                continue;
            };
            let overlap_time = a.start < b.end.unwrap_or(f64::INFINITY)
                && b.start < a.end.unwrap_or(f64::INFINITY);
            let same = qa.origin_regions == qb.origin_regions
                && qa.good_ids.iter().any(|g| qb.good_ids.contains(g));
            if overlap_time && same {
                p.list.push(crate::diagnostic::Diagnostic {
                    location: b.location.clone(),
                    message: format!(
                        "export quotas `{}` and `{}` cover the same origin and good at the same time",
                        a.id, b.id
                    ),
                    hint: "end the first quota before the second starts (a quota extended to a \
                           date is one event whose end is that date)"
                        .into(),
                });
            }
        }
    }
}

/// Sets the capacity of routes to zero (a ban): the route stays in the market, so the market
/// keeps its shape and the solver its warm start.
pub(crate) fn close_routes(m: &mut Market, routes: &[usize]) {
    for &r in routes {
        m.routes[r].capacity = Some(0.0);
    }
}
