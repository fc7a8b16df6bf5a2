//! `project` and `deposit_ban`: changes to the project pipeline (`model/projects.csv`).
//!
//! `project` changes a pipeline project from the event's start: its probability of going ahead,
//! its first output, its capacity or ramp-up (seed E10: US enrichment under the DOE task orders).
//! `deposit_ban` closes a deposit to mining (probability 0) or, with `banned = false`, lifts a
//! ban and gives the project a probability (seed E9: the Duluth Complex withdrawal reversed for
//! Twin Metals; E12: Greenland's uranium ban blocking Kvanefjeld).

use serde::Deserialize;
use toml::Spanned;

use super::Resolver;
use crate::dataset::tables::Project;
use crate::scenario::Event;
use crate::scenario::world::World;

/// Keys of a `project` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectEvent {
    /// Project id of `model/projects.csv`.
    pub project: Spanned<String>,
    /// New probability that the project goes ahead (the event's own `probability` is the
    /// chance that this change happens at all).
    pub project_probability: Option<Spanned<f64>>,
    /// New first output (date).
    pub first_output: Option<Spanned<String>>,
    /// New capacity per year.
    pub capacity: Option<Spanned<f64>>,
    /// New ramp-up, years.
    pub ramp_years: Option<Spanned<f64>>,
    /// Money committed (for the record and the finance report), currency units.
    pub funding: Option<f64>,
    #[serde(skip)]
    first_output_t: Option<f64>,
}

fn known_project(r: &mut Resolver<'_, '_, '_>, id: &Spanned<String>) {
    if !r.w.projects.contains_key(id.get_ref()) {
        let near =
            crate::diagnostic::nearest(id.get_ref(), r.w.projects.keys().map(String::as_str));
        r.error(
            id,
            format!("unknown project `{}`", id.get_ref()),
            if near.is_empty() {
                "projects are the rows of data/model/projects.csv".to_string()
            } else {
                format!("did you mean {}?", near.join(", "))
            },
        );
    }
}

/// The project an event changes, when the event is in force at `t`.
fn in_force<'a>(
    id: &Spanned<String>,
    ev: &Event,
    t: f64,
    w: &World,
    projects: &'a mut [Project],
) -> Option<&'a mut Project> {
    let &i = w.projects.get(id.get_ref())?;
    if ev.active(t) {
        projects.get_mut(i)
    } else {
        None
    }
}

impl ProjectEvent {
    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        known_project(r, &self.project);
        if let Some(p) = &self.project_probability {
            r.share(p, "project_probability");
        }
        for v in [&self.capacity, &self.ramp_years].into_iter().flatten() {
            r.non_negative(v, "value");
        }
        self.first_output_t = self.first_output.as_ref().map(|d| r.date(d));
    }

    pub(crate) fn apply(&self, ev: &Event, t: f64, w: &World, projects: &mut [Project]) {
        let Some(p) = in_force(&self.project, ev, t, w, projects) else {
            return;
        };
        if let Some(v) = &self.project_probability {
            p.probability = *v.get_ref();
        }
        if let Some(v) = self.first_output_t {
            p.start = v;
        }
        if let Some(v) = &self.capacity {
            p.capacity = *v.get_ref();
        }
        if let Some(v) = &self.ramp_years {
            p.ramp_years = *v.get_ref();
        }
    }
}

/// Keys of a `deposit_ban` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositBan {
    /// Project id of `model/projects.csv` whose deposit the ban covers.
    pub project: Spanned<String>,
    /// `true`: mining banned; `false`: a ban lifted.
    pub banned: bool,
    /// Probability of going ahead once the ban is lifted (required with `banned = false`).
    pub probability_if_lifted: Option<Spanned<f64>>,
    /// First output once lifted (date; default: the pipeline's).
    pub first_output: Option<Spanned<String>>,
    #[serde(skip)]
    first_output_t: Option<f64>,
}

impl DepositBan {
    pub(crate) fn resolve(&mut self, r: &mut Resolver<'_, '_, '_>) {
        known_project(r, &self.project);
        match (&self.probability_if_lifted, self.banned) {
            (Some(p), false) => {
                r.share(p, "probability_if_lifted");
            }
            (None, false) => r.error(
                &self.project,
                "a lifted ban needs probability_if_lifted",
                "add probability_if_lifted = 0.5 (the project's chance once it may go ahead)",
            ),
            (Some(p), true) => r.error(
                p,
                "probability_if_lifted with banned = true",
                "remove it, or set banned = false",
            ),
            (None, true) => {}
        }
        self.first_output_t = self.first_output.as_ref().map(|d| r.date(d));
    }

    pub(crate) fn apply(&self, ev: &Event, t: f64, w: &World, projects: &mut [Project]) {
        let Some(p) = in_force(&self.project, ev, t, w, projects) else {
            return;
        };
        if self.banned {
            p.probability = 0.0;
        } else {
            p.probability = self
                .probability_if_lifted
                .as_ref()
                .map_or(p.probability, |v| *v.get_ref());
            if let Some(s) = self.first_output_t {
                p.start = s;
            }
        }
    }
}
