//! Scenarios: what happens (or might happen), written as dated events in a TOML file, checked
//! against the world model with every problem located at file:line:col, and run against the
//! baseline.
//!
//! A file has a `[scenario]` header and `[[event]]` tables. Every event has the common keys
//! `id`, `kind`, `start`, optional `end`, `source`, optional `probability` (default 1), `note`
//! and `uncertainty`; the other keys depend on its kind (one file per kind under `events/`,
//! dispatched through [`EventKind`]). The format is documented in `docs/scenarios.md`.

pub mod events;
pub mod report;
pub mod run;
pub mod summary;
pub mod time;
pub mod world;

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diagnostic::{Diagnostic, Location};

pub use events::EventKind;
pub use run::{ScenarioRun, run_scenario, run_scenario_with_progress};
pub use time::{parse_date, quarter_label};
pub use world::{Quarter, World};

/// The header of a scenario file.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Short name.
    pub name: String,
    /// What the scenario is about.
    #[serde(default)]
    pub description: String,
    /// Last year simulated (through its fourth quarter).
    pub to: i32,
    /// Demand path (`steps`, `aps`, `nze` or a path of `model/demand_overrides.csv`).
    #[serde(default = "default_demand")]
    pub demand: String,
    /// Seed of the random draws (used by risk runs).
    #[serde(default)]
    pub seed: u64,
    /// Consumers whose supply chains the run report traces (`chokepoint exposure`).
    #[serde(default)]
    pub exposure: Vec<ExposureQuery>,
}

/// A consumer to trace: a region, optionally one end-use sector and one good.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureQuery {
    /// Region (a model region or a country of one).
    pub region: String,
    /// End-use sector (default: all final consumption).
    pub sector: Option<String>,
    /// Good (default: every good the consumer uses).
    pub good: Option<String>,
}

fn default_demand() -> String {
    "steps".into()
}

/// Ranges a risk run draws from (issue: Monte Carlo); a plain run uses the event as written.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// Earliest and latest start (dates).
    pub start: Option<[String; 2]>,
    /// Shortest and longest duration, in years.
    pub duration: Option<[f64; 2]>,
    /// Lowest and highest magnitude, as a multiple of the event's own figure.
    pub magnitude: Option<[f64; 2]>,
}

/// One event of a scenario.
#[derive(Debug, Clone)]
pub struct Event {
    /// Id, unique in the file.
    pub id: String,
    /// What the event does.
    pub kind: EventKind,
    /// When it starts (decimal year).
    pub start: f64,
    /// When it ends, if it does.
    pub end: Option<f64>,
    /// Where its figures come from (`E22`, a publication, a named assumption).
    pub source: String,
    /// Probability that it happens (risk runs; a plain run applies it whole).
    pub probability: f64,
    /// Remarks.
    pub note: String,
    /// Ranges for risk runs.
    pub uncertainty: Uncertainty,
    /// Where the event's table starts.
    pub location: Location,
}

impl Event {
    /// Whether the event is in force at `t` (start ≤ t < end).
    pub fn active(&self, t: f64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t < e)
    }
}

/// A scenario file, read and checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file as the user named it.
    pub file: String,
    /// Header.
    pub header: Header,
    /// Events in file order.
    pub events: Vec<Event>,
}

/// A scenario that cannot be used: every problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// Every problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Collects located problems while a scenario is read and checked.
pub struct Problems<'a> {
    text: &'a str,
    file: &'a str,
    /// Problems so far.
    pub list: Vec<Diagnostic>,
}

impl<'a> Problems<'a> {
    fn new(text: &'a str, file: &'a str) -> Self {
        Problems {
            text,
            file,
            list: Vec::new(),
        }
    }

    /// The location of byte offset `at`.
    pub fn location(&self, at: usize) -> Location {
        let (line, col) = line_col(self.text, at);
        Location {
            file: self.file.to_string(),
            line,
            col,
        }
    }

    /// Records a problem at byte offset `at`.
    pub fn at(&mut self, at: usize, message: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic {
            location: self.location(at),
            message: message.into(),
            hint: hint.into(),
        };
        if !self.list.contains(&d) {
            self.list.push(d);
        }
    }
}

/// 1-based line and character column of byte offset `at`.
fn line_col(text: &str, at: usize) -> (u32, u32) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..at].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// A serde error's hint.
fn serde_hint(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, after) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = after.split('`').skip(1).step_by(2).collect();
        let near = crate::diagnostic::nearest(name, expected.iter().copied())
            .first()
            .copied();
        return match near {
            Some(n) => format!(
                "did you mean `{n}`? keys allowed here: {}",
                expected.join(", ")
            ),
            None => format!("remove it; keys allowed here: {}", expected.join(", ")),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return format!("add the key `{name}` (see docs/scenarios.md)");
    }
    if message.contains("expected f64") || message.contains("expected a number") {
        return "write a number, e.g. `0.5`".into();
    }
    if message.contains("expected a string") {
        return "write a name in double quotes, e.g. \"CHN\"".into();
    }
    if message.contains("expected a sequence") {
        return "write a list in brackets, e.g. [\"JPN\", \"KOR\"]".into();
    }
    "see docs/scenarios.md for the keys of each event kind".into()
}

/// Reads `v` into `T`, recording a located problem on failure.
pub(crate) fn read<T: for<'de> Deserialize<'de>>(
    v: &Spanned<DeValue<'_>>,
    problems: &mut Problems<'_>,
) -> Option<T> {
    match T::deserialize(ValueDeserializer::from(v.clone())) {
        Ok(x) => Some(x),
        Err(e) => {
            let message = e.message().to_string();
            let at = e.span().map_or(v.span().start, |s| s.start);
            problems.at(at, message.clone(), serde_hint(&message));
            None
        }
    }
}

/// Keys every event has.
const COMMON: [&str; 8] = [
    "id",
    "kind",
    "start",
    "end",
    "source",
    "probability",
    "note",
    "uncertainty",
];

/// Reads a scenario file. Syntax and type errors, unknown keys and bad dates are reported
/// here, all at once; names (regions, goods, projects) are checked by [`Scenario::check`].
pub fn parse_scenario(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let (scenario, problems) = parse_partial(text, file);
    match scenario {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(ScenarioError {
            diagnostics: problems,
        }),
    }
}

/// The demand path a file asks for (`steps` when its header cannot be read), to prepare the
/// world model it is checked against.
pub fn demand_path_of(text: &str) -> String {
    let Ok(root) = DeTable::parse(text) else {
        return default_demand();
    };
    let root = root.into_inner();
    root.iter()
        .find(|(k, _)| k.get_ref().as_ref() == "scenario")
        .and_then(|(_, v)| match v.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == "demand")
                .and_then(|(_, v)| match v.get_ref() {
                    DeValue::String(s) => Some(s.to_string()),
                    _ => None,
                }),
            _ => None,
        })
        .unwrap_or_else(default_demand)
}

/// Reads what can be read: the scenario (with the events that parsed; `None` without a
/// usable header) and every problem found.
fn parse_partial(text: &str, file: &str) -> (Option<Scenario>, Vec<Diagnostic>) {
    let mut problems = Problems::new(text, file);
    let root = match DeTable::parse(text) {
        Ok(r) => r,
        Err(e) => {
            problems.at(
                e.span().map_or(0, |s| s.start),
                e.message().to_string(),
                "fix the TOML syntax (quotes around names, one key = value per line)",
            );
            return (None, problems.list);
        }
    };
    let root = root.into_inner();
    let mut header = None;
    let mut events = Vec::new();
    let mut ids: Vec<(String, usize)> = Vec::new();
    for (key, value) in root.iter() {
        match key.get_ref().as_ref() {
            "scenario" => header = read::<Header>(value, &mut problems),
            "event" => match value.get_ref() {
                DeValue::Array(items) => {
                    for item in items {
                        if let DeValue::Table(t) = item.get_ref()
                            && let Some((v, Some(id))) = string_of(t, "id")
                        {
                            ids.push((id, v.span().start));
                        }
                        if let Some(ev) = parse_event(item, &mut problems) {
                            events.push(ev);
                        }
                    }
                }
                _ => problems.at(
                    value.span().start,
                    "`event` must be a list of tables",
                    "write each event as an [[event]] table",
                ),
            },
            other => problems.at(
                key.span().start,
                format!("unknown top-level key `{other}`"),
                "a scenario file has a [scenario] header and [[event]] tables",
            ),
        }
    }
    if !root.iter().any(|(k, _)| k.get_ref().as_ref() == "scenario") {
        problems.at(
            0,
            "missing [scenario] header",
            "start the file with [scenario] and name = \"...\", to = 2030",
        );
    }
    for (i, (id, at)) in ids.iter().enumerate() {
        if let Some((_, first)) = ids[..i].iter().find(|(other, _)| other == id) {
            let first = problems.location(*first);
            problems.at(
                *at,
                format!("event id `{id}` is used twice"),
                format!("ids must be unique; the first is at {first}"),
            );
        }
    }
    problems.list.sort_by(|a, b| a.location.cmp(&b.location));
    let scenario = header.map(|header| Scenario {
        file: file.to_string(),
        header,
        events,
    });
    (scenario, problems.list)
}

/// A string value of a table and its span.
fn string_of<'a>(
    table: &'a toml::de::DeTable<'_>,
    key: &str,
) -> Option<(&'a Spanned<DeValue<'a>>, Option<String>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| match v.get_ref() {
            DeValue::String(s) => (v, Some(s.to_string())),
            _ => (v, None),
        })
}

fn parse_event(item: &Spanned<DeValue<'_>>, problems: &mut Problems<'_>) -> Option<Event> {
    let DeValue::Table(table) = item.get_ref() else {
        problems.at(
            item.span().start,
            "an event must be a table",
            "write [[event]] then key = value lines",
        );
        return None;
    };
    let location = problems.location(item.span().start);
    let span_of = |key: &str| -> Option<Range<usize>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v.span())
    };
    let required = |key: &str, problems: &mut Problems<'_>| -> Option<(String, usize)> {
        match string_of(table, key) {
            Some((v, Some(s))) => Some((s, v.span().start)),
            Some((v, None)) => {
                problems.at(
                    v.span().start,
                    format!("`{key}` must be a string"),
                    "write it in double quotes",
                );
                None
            }
            None => {
                problems.at(
                    item.span().start,
                    format!("event without `{key}`"),
                    format!("add {key} = \"...\" (see docs/scenarios.md)"),
                );
                None
            }
        }
    };
    let id = required("id", problems);
    let kind = required("kind", problems);
    let start = required("start", problems);
    let source = required("source", problems);
    let date = |(s, at): (String, usize), problems: &mut Problems<'_>| match parse_date(&s) {
        Ok(t) => Some(t),
        Err(m) => {
            problems.at(at, m, "write 2026, 2026Q1, 2026-01 or 2026-01-06");
            None
        }
    };
    let start_t = start.and_then(|s| date(s, problems));
    let end_t = match string_of(table, "end") {
        Some((v, Some(s))) => date((s, v.span().start), problems).map(Some),
        Some((v, None)) => {
            problems.at(
                v.span().start,
                "`end` must be a date string",
                "e.g. end = \"2026-03-31\"",
            );
            None
        }
        None => Some(None),
    };
    if let (Some(s), Some(Some(e))) = (start_t, end_t)
        && e <= s
    {
        problems.at(
            span_of("end").map_or(item.span().start, |r| r.start),
            "the event ends before it starts",
            "set end after start, or leave end out for an open-ended event",
        );
    }
    let mut probability = 1.0;
    if let Some((_, v)) = table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "probability")
    {
        match read::<f64>(v, problems) {
            Some(p) if (0.0..=1.0).contains(&p) => probability = p,
            Some(p) => problems.at(
                v.span().start,
                format!("probability {p} is outside 0–1"),
                "a probability is between 0 and 1",
            ),
            None => {}
        }
    }
    let note = string_of(table, "note")
        .and_then(|(_, s)| s)
        .unwrap_or_default();
    let uncertainty = match table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "uncertainty")
    {
        Some((_, v)) => read::<Uncertainty>(v, problems).unwrap_or_default(),
        None => Uncertainty::default(),
    };
    if let Some(range) = &uncertainty.start {
        for s in range {
            if let Err(m) = parse_date(s) {
                problems.at(
                    span_of("uncertainty").map_or(0, |r| r.start),
                    m,
                    "uncertainty.start is two dates",
                );
            }
        }
    }
    let rest: toml::de::DeTable<'_> = table
        .iter()
        .filter(|(k, _)| !COMMON.contains(&k.get_ref().as_ref()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let rest = Spanned::new(item.span(), DeValue::Table(rest));
    let kind = kind.and_then(|(k, at)| EventKind::parse(&k, at, &rest, problems))?;
    // An event with a bad common key is kept (with placeholders) so that its names are
    // checked too; the problems recorded keep the scenario from running.
    Some(Event {
        id: id.map_or_else(String::new, |x| x.0),
        kind,
        start: start_t.unwrap_or(0.0),
        end: end_t.flatten(),
        source: source.map_or_else(String::new, |x| x.0),
        probability,
        note,
        uncertainty,
        location,
    })
}

impl Scenario {
    /// Reads and checks a scenario against a world: every problem at once (the events that
    /// parse are checked even when others do not).
    pub fn load(text: &str, file: &str, world: &mut World) -> Result<Scenario, ScenarioError> {
        let (scenario, mut problems) = parse_partial(text, file);
        let Some(mut s) = scenario else {
            return Err(ScenarioError {
                diagnostics: problems,
            });
        };
        if let Err(e) = s.check(text, world) {
            problems.extend(e.diagnostics);
        }
        if problems.is_empty() {
            Ok(s)
        } else {
            problems.sort_by(|a, b| a.location.cmp(&b.location));
            problems.dedup();
            Err(ScenarioError {
                diagnostics: problems,
            })
        }
    }

    /// Resolves every name (places, goods, projects) against `world` and checks the figures;
    /// coalitions are registered as places first, so any event may name them.
    pub fn check(&mut self, text: &str, world: &mut World) -> Result<(), ScenarioError> {
        let mut problems = Problems::new(text, &self.file);
        for e in &mut self.events {
            if let EventKind::Coalition(c) = &mut e.kind {
                c.register(world, &mut problems);
            }
        }
        for e in &mut self.events {
            e.kind.resolve(world, &mut problems);
        }
        events::check_overlaps(&self.events, &mut problems);
        if problems.list.is_empty() {
            Ok(())
        } else {
            problems.list.sort_by(|a, b| a.location.cmp(&b.location));
            Err(ScenarioError {
                diagnostics: problems.list,
            })
        }
    }
}
