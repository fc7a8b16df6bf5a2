//! Market files: a market written by hand in TOML (or JSON), read into a [`Market`] with every
//! problem located at file:line:col, and the [`SolveReport`] of its clearing.
//!
//! The format is documented in `docs/market-file.md`. Reading goes in three steps:
//! 1. the text is parsed into a tree that remembers where every key and value is (a syntax
//!    error stops here, as the only diagnostic);
//! 2. each item (`[[region]]`, `[[route]]`, ...) is read on its own with serde
//!    (`deny_unknown_fields`), so a broken item reports its first problem without hiding the
//!    problems of the others;
//! 3. names are resolved (regions, goods, routes) and numbers checked, each problem at the value
//!    at fault; [`Market::validate`] runs last as a backstop, its errors mapped back to the item.
//!
//! Locations are 1-based lines and columns counted in characters. In JSON, syntax and type
//! errors are placed where `serde_json` detected them (the end of the offending token), and
//! names and numbers at the start of the value at fault.

mod report;

pub use report::{FlowReport, ProcessReport, RegionReport, SolveReport};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::model::{
    DemandStep, ExportShare, FixedDemand, Market, Process, Quota, Route, SupplyStep,
};

/// One problem in a market file: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiagnostic {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// A market file that cannot be read: every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file as the user named it.
    pub file: String,
    /// Every problem found (a syntax error is reported alone).
    pub diagnostics: Vec<FileDiagnostic>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: error: {}\n  hint: {}",
                self.file, d.line, d.col, d.message, d.hint
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// Reads a market file into a validated [`Market`].
///
/// The text is JSON when `file` ends in `.json` or the text starts with `{`, TOML otherwise;
/// `file` only names the file in diagnostics (nothing is read from disk). Every problem is
/// returned at once, each with its line, column and a hint; the returned market passes
/// [`Market::validate`].
///
/// ```
/// use chokepoint_equilibrium::parse_market;
/// let text = r#"
/// [[region]]
/// id = "A"
/// demand = { intercept = 20.0, slope = 1.0 }
/// supply = { intercept = 2.0, slope = 1.0 }
/// "#;
/// let market = parse_market(text, "a.toml")?;
/// assert_eq!(market.regions, ["A"]);
/// assert_eq!(market.goods, ["good"]);
/// # Ok::<(), chokepoint_equilibrium::FileError>(())
/// ```
pub fn parse_market(text: &str, file: &str) -> Result<Market, FileError> {
    let json = file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{');
    let parsed = if json {
        parse_json(text)
    } else {
        parse_toml(text)
    };
    let result = match parsed {
        Ok(entries) => build(text, &entries),
        Err(problem) => Err(vec![problem]),
    };
    result.map_err(|problems| FileError {
        file: file.to_string(),
        diagnostics: locate(text, problems),
    })
}

/// The default name of the only good of a market that declares no `goods`.
const DEFAULT_GOOD: &str = "good";

/// The top-level keys of a market file.
const TOP_KEYS: [&str; 6] = [
    "goods",
    "region",
    "route",
    "process",
    "quota",
    "export_share",
];

const SYNTAX_HINT: &str = "fix the syntax here; the rest of the file is checked once it parses \
                           (see docs/market-file.md)";
const FORMAT_HINT: &str = "see docs/market-file.md for the shape of each item";

// ---------------------------------------------------------------------------------------------
// Problems and their places.

/// A problem before it is placed: `at` is a byte offset into the text.
#[derive(Debug, Clone)]
struct Problem {
    at: usize,
    message: String,
    hint: String,
}

/// Turns byte offsets into lines and character columns, in file order.
fn locate(text: &str, mut problems: Vec<Problem>) -> Vec<FileDiagnostic> {
    problems.sort_by_key(|p| p.at);
    let mut out: Vec<FileDiagnostic> = Vec::with_capacity(problems.len());
    for p in problems {
        let (line, col) = line_col(text, p.at);
        let d = FileDiagnostic {
            line,
            col,
            message: p.message,
            hint: p.hint,
        };
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
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

/// The nearest of `known` to `wanted` (normalised Levenshtein, case-insensitive), if close.
fn nearest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        let lower = k.to_lowercase();
        let mut score = strsim::normalized_levenshtein(&wanted, &lower);
        if !wanted.is_empty() && (lower.starts_with(&wanted) || wanted.starts_with(&lower)) {
            score = score.max(0.75);
        }
        if score >= 0.5 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, k));
        }
    }
    best.map(|(_, k)| k)
}

/// `a, b, c` (at most ten, then `…`).
fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let mut text = names
        .iter()
        .take(10)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        text.push_str(", …");
    }
    if text.is_empty() {
        text.push_str("none");
    }
    text
}

/// A hint for a serde error message (the same words for TOML and JSON).
fn serde_hint(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, after) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = after.split('`').skip(1).step_by(2).collect();
        return match nearest(name, expected.iter().copied()) {
            Some(near) => format!(
                "did you mean `{near}`? keys allowed here: {}",
                list(expected)
            ),
            None => format!("remove it; keys allowed here: {}", list(expected)),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return format!("add the key `{name}` ({FORMAT_HINT})");
    }
    if message.contains("expected f64") {
        return "write a number, e.g. `2.0`".into();
    }
    if message.contains("expected a string") {
        return "write a name in double quotes, e.g. \"A\"".into();
    }
    if message.contains("expected a boolean") {
        return "write `true` or `false`".into();
    }
    if message.contains("expected a sequence") {
        return "write an array in brackets, e.g. [\"A\", \"B\"]".into();
    }
    FORMAT_HINT.into()
}

// ---------------------------------------------------------------------------------------------
// The located tree, from TOML or JSON.

/// A value of the document and where it is, with its children.
#[derive(Debug, Clone)]
struct Node {
    /// Byte span of the value (for a `[[table]]`, its header).
    span: Range<usize>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Entries in file order: key, byte span of the key, value.
    Table(Vec<(String, Range<usize>, Node)>),
    Array(Vec<Node>),
    Str(String),
    Other,
}

impl Node {
    fn start(&self) -> usize {
        self.span.start
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Table(entries) => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }

    fn at(&self, i: usize) -> Option<&Node> {
        match &self.kind {
            Kind::Array(items) => items.get(i),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A value as its own format holds it, to be read into a typed item.
#[derive(Clone)]
enum Raw<'a> {
    Toml(Spanned<DeValue<'a>>),
    Json(&'a RawValue),
}

impl<'a> Raw<'a> {
    /// Reads the value into `T`; a failure is placed where the parser found it.
    fn read<T: DeserializeOwned>(&self, text: &str) -> Result<T, Problem> {
        match self {
            Raw::Toml(v) => T::deserialize(ValueDeserializer::from(v.clone())).map_err(|e| {
                let message = e.message().to_string();
                Problem {
                    at: e.span().map_or(v.span().start, |s| s.start),
                    hint: serde_hint(&message),
                    message,
                }
            }),
            Raw::Json(r) => {
                serde_json::from_str(r.get()).map_err(|e| json_problem(text, r.get(), &e))
            }
        }
    }

    /// The elements of an array, or `None` when the value is not one.
    fn elements(&self) -> Option<Vec<Raw<'a>>> {
        match self {
            Raw::Toml(v) => match v.get_ref() {
                DeValue::Array(items) => Some(items.iter().cloned().map(Raw::Toml).collect()),
                _ => None,
            },
            Raw::Json(r) => serde_json::from_str::<Vec<&'a RawValue>>(r.get())
                .ok()
                .map(|items| items.into_iter().map(Raw::Json).collect()),
        }
    }
}

/// One top-level key of the document.
struct TopEntry<'a> {
    key: String,
    key_span: Range<usize>,
    raw: Raw<'a>,
    node: Node,
}

fn parse_toml(text: &str) -> Result<Vec<TopEntry<'_>>, Problem> {
    let root = DeTable::parse(text).map_err(|e| Problem {
        at: e.span().map_or(0, |s| s.start),
        message: e.message().to_string(),
        hint: SYNTAX_HINT.into(),
    })?;
    let mut entries: Vec<TopEntry<'_>> = root
        .into_inner()
        .into_iter()
        .map(|(k, v)| TopEntry {
            key: k.get_ref().to_string(),
            key_span: k.span(),
            node: toml_node(&v),
            raw: Raw::Toml(v),
        })
        .collect();
    entries.sort_by_key(|e| e.key_span.start);
    Ok(entries)
}

fn toml_node(v: &Spanned<DeValue<'_>>) -> Node {
    let kind = match v.get_ref() {
        DeValue::Table(t) => {
            let mut entries: Vec<(String, Range<usize>, Node)> = t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), k.span(), toml_node(v)))
                .collect();
            entries.sort_by_key(|e| e.1.start);
            Kind::Table(entries)
        }
        DeValue::Array(items) => Kind::Array(items.iter().map(toml_node).collect()),
        DeValue::String(s) => Kind::Str(s.to_string()),
        _ => Kind::Other,
    };
    Node {
        span: v.span(),
        kind,
    }
}

fn parse_json(text: &str) -> Result<Vec<TopEntry<'_>>, Problem> {
    let top: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(|e| {
        let mut p = json_problem(text, text, &e);
        if e.is_data() {
            p.hint = "a JSON market file is one object with the keys of a TOML one, e.g. \
                      {\"region\": [{\"id\": \"A\"}], \"route\": []}"
                .into();
        }
        p
    })?;
    let mut entries: Vec<TopEntry<'_>> = top
        .into_iter()
        .map(|(key, raw)| {
            let node = json_node(text, raw);
            TopEntry {
                key,
                // `serde_json` does not give the key's place: use its value's.
                key_span: node.span.clone(),
                raw: Raw::Json(raw),
                node,
            }
        })
        .collect();
    entries.sort_by_key(|e| e.key_span.start);
    Ok(entries)
}

/// Byte offset of `part` (a slice of `text`) in `text`.
fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len())
}

fn json_node(text: &str, raw: &RawValue) -> Node {
    let s = raw.get();
    let start = offset_in(text, s);
    let kind = match s.as_bytes().first() {
        Some(b'{') => match serde_json::from_str::<BTreeMap<String, &RawValue>>(s) {
            Ok(map) => {
                let mut entries: Vec<(String, Range<usize>, Node)> = map
                    .into_iter()
                    .map(|(k, v)| {
                        let node = json_node(text, v);
                        (k, node.span.clone(), node)
                    })
                    .collect();
                entries.sort_by_key(|e| e.1.start);
                Kind::Table(entries)
            }
            Err(_) => Kind::Other,
        },
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(s) {
            Ok(items) => Kind::Array(items.into_iter().map(|v| json_node(text, v)).collect()),
            Err(_) => Kind::Other,
        },
        Some(b'"') => serde_json::from_str::<String>(s).map_or(Kind::Other, Kind::Str),
        _ => Kind::Other,
    };
    Node {
        span: start..start + s.len(),
        kind,
    }
}

/// A `serde_json` error in `part` (a slice of `text`), placed in `text`. `serde_json` counts
/// lines and byte columns from the start of what it parsed, and points at the last byte it read.
fn json_problem(text: &str, part: &str, e: &serde_json::Error) -> Problem {
    let mut line_start = 0;
    for (i, line) in part.split_inclusive('\n').enumerate() {
        if i + 1 >= e.line() {
            break;
        }
        line_start += line.len();
    }
    let at = offset_in(text, part) + line_start + e.column().saturating_sub(1);
    let full = e.to_string();
    let message = match full.rsplit_once(" at line ") {
        Some((m, _)) => m.to_string(),
        None => full,
    };
    let hint = if e.is_syntax() || e.is_eof() {
        SYNTAX_HINT.to_string()
    } else {
        serde_hint(&message)
    };
    Problem { at, message, hint }
}

// ---------------------------------------------------------------------------------------------
// The items, as written.

/// A region: a node of the network, with its curves.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionDef {
    id: String,
    demand: Option<Steps>,
    supply: Option<Steps>,
    demand_curve: Option<Curves>,
    supply_curve: Option<Curves>,
    fixed_demand: Option<Fixed>,
}

/// One linear step of a demand or supply curve.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDef {
    good: Option<String>,
    intercept: f64,
    slope: f64,
    capacity: Option<f64>,
}

/// `demand`/`supply`: one table, or an array of tables.
#[derive(Debug)]
struct Steps {
    steps: Vec<StepDef>,
    /// Written as an array (the steps' places are then indexed).
    many: bool,
}

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Steps;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table { intercept = ..., slope = ... } or an array of such tables")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Steps, A::Error> {
                let step = StepDef::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Steps {
                    steps: vec![step],
                    many: false,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Steps, A::Error> {
                let steps = Vec::<StepDef>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Steps { steps, many: true })
            }
        }
        d.deserialize_any(V)
    }
}

/// A piecewise-linear curve of one good.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CurveDef {
    good: Option<String>,
    points: Vec<Point>,
}

/// A `[quantity, price]` point.
#[derive(Debug, Clone, Copy)]
struct Point(f64, f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<f64>::deserialize(d)?;
        match v.as_slice() {
            [q, p] => Ok(Point(*q, *p)),
            _ => Err(serde::de::Error::custom(format!(
                "a point is [quantity, price], two numbers; found {}",
                v.len()
            ))),
        }
    }
}

/// `demand_curve`/`supply_curve`: `[[q, p], ...]`, or per good `{ good, points }` tables.
#[derive(Debug)]
enum Curves {
    Points(Vec<Point>),
    PerGood { curves: Vec<CurveDef>, many: bool },
}

impl<'de> Deserialize<'de> for Curves {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        enum Elem {
            Point(Point),
            Curve(CurveDef),
        }
        impl<'de> Deserialize<'de> for Elem {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Elem;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a [quantity, price] point or a { good, points } table")
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Elem, A::Error> {
                        Point::deserialize(SeqAccessDeserializer::new(seq)).map(Elem::Point)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Elem, A::Error> {
                        CurveDef::deserialize(MapAccessDeserializer::new(map)).map(Elem::Curve)
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Curves;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of [quantity, price] points, or of { good, points } tables")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Curves, A::Error> {
                let curve = CurveDef::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Curves::PerGood {
                    curves: vec![curve],
                    many: false,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Curves, A::Error> {
                let elems = Vec::<Elem>::deserialize(SeqAccessDeserializer::new(seq))?;
                let mut points = Vec::new();
                let mut curves = Vec::new();
                for e in elems {
                    match e {
                        Elem::Point(p) => points.push(p),
                        Elem::Curve(c) => curves.push(c),
                    }
                }
                match (points.is_empty(), curves.is_empty()) {
                    (_, true) => Ok(Curves::Points(points)),
                    (true, false) => Ok(Curves::PerGood { curves, many: true }),
                    (false, false) => Err(serde::de::Error::custom(
                        "a curve mixes [quantity, price] points and { good, points } tables",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A perfectly inelastic demand of one good.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedDef {
    good: Option<String>,
    quantity: f64,
}

/// `fixed_demand`: a number (the only good), or per good `{ good, quantity }` tables.
#[derive(Debug)]
enum Fixed {
    Quantity(f64),
    PerGood { items: Vec<FixedDef>, many: bool },
}

impl<'de> Deserialize<'de> for Fixed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fixed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity, a { good, quantity } table or an array of such tables")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fixed, E> {
                Ok(Fixed::Quantity(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fixed, E> {
                Ok(Fixed::Quantity(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fixed, E> {
                Ok(Fixed::Quantity(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Fixed, A::Error> {
                let item = FixedDef::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Fixed::PerGood {
                    items: vec![item],
                    many: false,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Fixed, A::Error> {
                let items = Vec::<FixedDef>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Fixed::PerGood { items, many: true })
            }
        }
        d.deserialize_any(V)
    }
}

/// A trade route of one good.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteDef {
    from: String,
    to: String,
    good: Option<String>,
    cost: f64,
    #[serde(default)]
    tariff: f64,
    capacity: Option<f64>,
    #[serde(default)]
    banned: bool,
}

/// Processing in one region.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessDef {
    name: String,
    region: String,
    output: String,
    inputs: BTreeMap<String, f64>,
    cost: f64,
    capacity: Option<f64>,
}

/// A cap on the total flow over some routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaDef {
    name: Option<String>,
    routes: Vec<Vec<String>>,
    limit: f64,
}

/// Exports over some routes capped at a share of the region's production.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareDef {
    name: Option<String>,
    region: String,
    good: Option<String>,
    routes: Vec<Vec<String>>,
    share: f64,
}

// ---------------------------------------------------------------------------------------------
// From items to a market.

const INTERCEPT_HINT: &str = "the price at quantity 0, a finite number";
const DEMAND_SLOPE_HINT: &str = "inverse demand is p = intercept − slope·q: the slope is the price \
                                 fall per unit, a number ≥ 0 (0 is perfectly elastic)";
const SUPPLY_SLOPE_HINT: &str = "inverse supply is p = intercept + slope·q: the slope is the price \
                                 rise per unit, a number ≥ 0 (0 is perfectly elastic)";
const CAPACITY_HINT: &str = "a capacity is the largest quantity, a number ≥ 0; leave the key out \
                             for no limit";
const COST_HINT: &str = "the real cost of moving one unit, a number ≥ 0";
const TARIFF_HINT: &str =
    "a specific tariff per unit imported, a number ≥ 0; leave it out for none";
const PROCESS_COST_HINT: &str = "the processing cost per unit of output, a number ≥ 0";
const LIMIT_HINT: &str = "the largest total flow over the quota's routes, a number ≥ 0";
const SHARE_HINT: &str = "the licensed share of the region's production, a fraction from 0 to 1 \
                          (0.5 is half)";
const FIXED_HINT: &str = "the quantity delivered whatever the price, a number ≥ 0";
const COEF_HINT: &str = "units of input per unit of output, a number > 0";

/// Where each item of the market came from, to place [`Market::validate`]'s errors.
#[derive(Default)]
struct Origins<'n> {
    supply: Vec<&'n Node>,
    demand: Vec<&'n Node>,
    fixed_demand: Vec<&'n Node>,
    routes: Vec<&'n Node>,
    processes: Vec<&'n Node>,
    quotas: Vec<&'n Node>,
    export_shares: Vec<&'n Node>,
}

struct Ctx<'t, 'n> {
    text: &'t str,
    problems: Vec<Problem>,
    market: Market,
    origins: Origins<'n>,
    /// The goods were read (otherwise good names are not checked, to avoid a cascade).
    goods_ok: bool,
    regions: HashMap<String, usize>,
    /// Ids of regions whose item could not be read: references to them are not reported.
    broken_regions: HashSet<String>,
    /// Route index by (from, to, good).
    routes: HashMap<(usize, usize, usize), usize>,
    /// Some route could not be built: a missing route is then not reported.
    routes_broken: bool,
}

impl<'t, 'n> Ctx<'t, 'n> {
    fn problem(&mut self, at: &Node, message: String, hint: impl Into<String>) {
        self.problems.push(Problem {
            at: at.start(),
            message,
            hint: hint.into(),
        });
    }

    fn line_of(&self, node: &Node) -> u32 {
        line_col(self.text, node.start()).0
    }

    /// Reads every element of a top-level array of tables; returns the items read, with
    /// their index and place, and the places of those that could not be read.
    fn items<T: DeserializeOwned>(
        &mut self,
        entry: Option<&'n TopEntry<'_>>,
    ) -> (Vec<(usize, T, &'n Node)>, Vec<&'n Node>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        let Some(entry) = entry else {
            return (ok, failed);
        };
        let Some(elements) = entry.raw.elements() else {
            let key = &entry.key;
            self.problem(
                &entry.node,
                format!("`{key}` must be an array of tables"),
                format!(
                    "write each one under its own [[{key}]] header (in JSON: \"{key}\": [{{...}}])"
                ),
            );
            return (ok, failed);
        };
        for (i, raw) in elements.into_iter().enumerate() {
            let node = entry.node.at(i).unwrap_or(&entry.node);
            match raw.read::<T>(self.text) {
                Ok(item) => ok.push((i, item, node)),
                Err(p) => {
                    self.problems.push(p);
                    failed.push(node);
                }
            }
        }
        (ok, failed)
    }

    /// Index of region `name`, or a located problem with the nearest id.
    fn region(&mut self, name: &str, at: Option<&Node>, item: &Node) -> Option<usize> {
        if let Some(&i) = self.regions.get(name) {
            return Some(i);
        }
        if !self.broken_regions.contains(name) {
            // Regions whose item is broken are still names the user meant to declare.
            let mut names: Vec<&str> = self.market.regions.iter().map(String::as_str).collect();
            let mut broken: Vec<&str> = self.broken_regions.iter().map(String::as_str).collect();
            broken.sort_unstable();
            names.extend(broken);
            let known = list(names.iter().copied());
            let hint = match nearest(name, names.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? regions: {known}"),
                None => format!("declare it with [[region]] id = \"{name}\"; regions: {known}"),
            };
            self.problem(at.unwrap_or(item), format!("unknown region `{name}`"), hint);
        }
        None
    }

    /// Index of good `name`; with no name, the only good, or a problem when there are several.
    fn good(&mut self, name: Option<&str>, at: Option<&Node>, item: &Node) -> Option<usize> {
        let goods = &self.market.goods;
        match name {
            Some(name) => {
                if let Some(i) = goods.iter().position(|g| g == name) {
                    return Some(i);
                }
                if self.goods_ok {
                    let known = list(goods.iter().map(String::as_str));
                    let hint = match nearest(name, goods.iter().map(String::as_str)) {
                        Some(near) => format!("did you mean `{near}`? goods: {known}"),
                        None if goods.len() == 1 && goods[0] == DEFAULT_GOOD => format!(
                            "declare the goods at the top: goods = [\"{name}\", ...] \
                             (without it the only good is `{DEFAULT_GOOD}`)"
                        ),
                        None => format!("declare it in `goods = [...]` at the top; goods: {known}"),
                    };
                    self.problem(at.unwrap_or(item), format!("unknown good `{name}`"), hint);
                }
                None
            }
            None if goods.len() == 1 => Some(0),
            None => {
                if self.goods_ok {
                    let known = list(goods.iter().map(String::as_str));
                    self.problem(
                        item,
                        "missing `good`: the market has several goods".into(),
                        format!("add good = \"...\", one of {known}"),
                    );
                }
                None
            }
        }
    }

    /// `value` must be finite and ≥ 0 (or > 0 with `strict`).
    fn non_negative(
        &mut self,
        value: f64,
        key: &str,
        item: &'n Node,
        strict: bool,
        hint: &str,
    ) -> bool {
        let ok = value.is_finite() && (value > 0.0 || (!strict && value == 0.0));
        if !ok {
            let bound = if strict { "> 0" } else { "≥ 0" };
            let at = item.get(key).unwrap_or(item);
            self.problem(
                at,
                format!("`{key}` must be a number {bound}, found {value}"),
                hint,
            );
        }
        ok
    }

    fn finite(&mut self, value: f64, key: &str, item: &'n Node, hint: &str) -> bool {
        if !value.is_finite() {
            let at = item.get(key).unwrap_or(item);
            self.problem(
                at,
                format!("`{key}` must be a finite number, found {value}"),
                hint,
            );
        }
        value.is_finite()
    }

    fn goods(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let Some(entry) = entry else {
            self.market.goods = vec![DEFAULT_GOOD.into()];
            return;
        };
        let goods: Vec<String> = match entry.raw.read(self.text) {
            Ok(goods) => goods,
            Err(p) => {
                self.problems.push(p);
                self.goods_ok = false;
                return;
            }
        };
        if goods.is_empty() {
            self.problem(
                &entry.node,
                "`goods` is empty".into(),
                "name at least one good, or leave `goods` out for a single good",
            );
            self.goods_ok = false;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, g) in goods.iter().enumerate() {
            let at = entry.node.at(i).unwrap_or(&entry.node);
            if let Some(&first) = seen.get(g.as_str()) {
                let first_line = entry.node.at(first).map_or(0, |n| self.line_of(n));
                self.problem(
                    at,
                    format!("duplicate good `{g}`"),
                    format!("each good is named once (first at line {first_line})"),
                );
            } else {
                seen.insert(g, i);
            }
        }
        self.market.goods = goods;
    }

    fn regions(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let (items, failed) = self.items::<RegionDef>(entry);
        for node in failed {
            if let Some(id) = node.get("id").and_then(Node::as_str) {
                self.broken_regions.insert(id.to_string());
            }
        }
        let mut first: HashMap<String, &'n Node> = HashMap::new();
        let mut kept = Vec::new();
        for (_, def, node) in items {
            let id_node = node.get("id").unwrap_or(node);
            if let Some(first_node) = first.get(&def.id) {
                let line = self.line_of(first_node);
                self.problem(
                    id_node,
                    format!("duplicate region `{}`", def.id),
                    format!(
                        "region ids are unique: `{}` is first declared at line {line}; merge the \
                         two or rename one",
                        def.id
                    ),
                );
                continue;
            }
            first.insert(def.id.clone(), node);
            let index = self.market.regions.len();
            self.market.regions.push(def.id.clone());
            self.regions.insert(def.id.clone(), index);
            kept.push((index, def, node));
        }
        for (region, def, node) in kept {
            if let Some(steps) = &def.demand {
                self.steps(region, steps, "demand", node, false);
            }
            if let Some(steps) = &def.supply {
                self.steps(region, steps, "supply", node, true);
            }
            if let Some(curves) = &def.demand_curve {
                self.curves(region, curves, "demand_curve", node, false);
            }
            if let Some(curves) = &def.supply_curve {
                self.curves(region, curves, "supply_curve", node, true);
            }
            if let Some(fixed) = &def.fixed_demand {
                self.fixed(region, fixed, node);
            }
        }
    }

    fn steps(&mut self, region: usize, steps: &Steps, key: &str, item: &'n Node, supply: bool) {
        let field = item.get(key).unwrap_or(item);
        for (k, s) in steps.steps.iter().enumerate() {
            let node = if steps.many {
                field.at(k).unwrap_or(field)
            } else {
                field
            };
            let good = self.good(s.good.as_deref(), node.get("good"), node);
            let slope_hint = if supply {
                SUPPLY_SLOPE_HINT
            } else {
                DEMAND_SLOPE_HINT
            };
            let mut ok = self.finite(s.intercept, "intercept", node, INTERCEPT_HINT);
            ok &= self.non_negative(s.slope, "slope", node, false, slope_hint);
            if let Some(c) = s.capacity {
                ok &= self.non_negative(c, "capacity", node, false, CAPACITY_HINT);
            }
            let Some(good) = good.filter(|_| ok) else {
                continue;
            };
            if supply {
                self.market.supply.push(SupplyStep {
                    region,
                    good,
                    intercept: s.intercept,
                    slope: s.slope,
                    capacity: s.capacity,
                });
                self.origins.supply.push(node);
            } else {
                self.market.demand.push(DemandStep {
                    region,
                    good,
                    intercept: s.intercept,
                    slope: s.slope,
                    capacity: s.capacity,
                });
                self.origins.demand.push(node);
            }
        }
    }

    fn curves(&mut self, region: usize, curves: &Curves, key: &str, item: &'n Node, supply: bool) {
        let field = item.get(key).unwrap_or(item);
        let list: Vec<(Option<&str>, &[Point], &'n Node)> = match curves {
            Curves::Points(points) => vec![(None, points.as_slice(), field)],
            Curves::PerGood { curves, many } => curves
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let node = if *many {
                        field.at(k).unwrap_or(field)
                    } else {
                        field
                    };
                    (c.good.as_deref(), c.points.as_slice(), node)
                })
                .collect(),
        };
        for (good_name, points, node) in list {
            let Some(good) = self.good(good_name, node.get("good"), node) else {
                continue;
            };
            let pairs: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
            let before = (self.market.supply.len(), self.market.demand.len());
            let added = if supply {
                self.market.add_supply_curve(region, good, &pairs)
            } else {
                self.market.add_demand_curve(region, good, &pairs)
            };
            match added {
                Ok(()) => {
                    let n_supply = self.market.supply.len() - before.0;
                    let n_demand = self.market.demand.len() - before.1;
                    self.origins
                        .supply
                        .extend(std::iter::repeat_n(node, n_supply));
                    self.origins
                        .demand
                        .extend(std::iter::repeat_n(node, n_demand));
                }
                Err(e) => {
                    let at = node.get("points").unwrap_or(node);
                    let direction = if supply {
                        "a supply curve's prices must not fall"
                    } else {
                        "a demand curve's prices must not rise"
                    };
                    self.problem(
                        at,
                        format!("`{key}`: {}", e.message),
                        format!(
                            "points are [quantity, price] pairs, the first at quantity 0, \
                             quantities increasing; {direction}"
                        ),
                    );
                }
            }
        }
    }

    fn fixed(&mut self, region: usize, fixed: &Fixed, item: &'n Node) {
        let field = item.get("fixed_demand").unwrap_or(item);
        // (good, quantity, the entry's place, the quantity's place)
        let list: Vec<(Option<&str>, f64, &'n Node, &'n Node)> = match fixed {
            Fixed::Quantity(q) => vec![(None, *q, field, field)],
            Fixed::PerGood { items, many } => items
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    let node = if *many {
                        field.at(k).unwrap_or(field)
                    } else {
                        field
                    };
                    (
                        f.good.as_deref(),
                        f.quantity,
                        node,
                        node.get("quantity").unwrap_or(node),
                    )
                })
                .collect(),
        };
        for (good_name, quantity, node, at) in list {
            let good = self.good(good_name, node.get("good"), node);
            let ok = quantity.is_finite() && quantity >= 0.0;
            if !ok {
                self.problem(
                    at,
                    format!("a fixed demand must be a number ≥ 0, found {quantity}"),
                    FIXED_HINT,
                );
            }
            if let Some(good) = good.filter(|_| ok) {
                self.market.fixed_demand.push(FixedDemand {
                    region,
                    good,
                    quantity,
                });
                self.origins.fixed_demand.push(node);
            }
        }
    }

    fn routes(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let (items, failed) = self.items::<RouteDef>(entry);
        self.routes_broken |= !failed.is_empty();
        for (_, def, node) in items {
            let before = self.problems.len();
            let from = self.region(&def.from, node.get("from"), node);
            let to = self.region(&def.to, node.get("to"), node);
            if def.from == def.to {
                self.problem(
                    node.get("to").unwrap_or(node),
                    format!("route from `{}` to itself", def.from),
                    "a route joins two different regions; a region's own supply meets its own \
                     demand without one",
                );
            }
            let good = self.good(def.good.as_deref(), node.get("good"), node);
            self.non_negative(def.cost, "cost", node, false, COST_HINT);
            self.non_negative(def.tariff, "tariff", node, false, TARIFF_HINT);
            if let Some(c) = def.capacity {
                self.non_negative(c, "capacity", node, false, CAPACITY_HINT);
            }
            if let (Some(from), Some(to), Some(good)) = (from, to, good) {
                if let Some(&first) = self.routes.get(&(from, to, good)) {
                    let first_line = self
                        .origins
                        .routes
                        .get(first)
                        .map_or(0, |n| self.line_of(n));
                    let what = self.route_name(from, to, good);
                    self.problem(
                        node,
                        format!("duplicate route {what}"),
                        format!(
                            "a route is identified by its regions and good; merge it with the \
                             one at line {first_line}"
                        ),
                    );
                } else if self.problems.len() == before {
                    self.routes
                        .insert((from, to, good), self.market.routes.len());
                    self.market.routes.push(Route {
                        from,
                        to,
                        good,
                        cost: def.cost,
                        tariff: def.tariff,
                        capacity: def.capacity,
                        banned: def.banned,
                    });
                    self.origins.routes.push(node);
                }
            }
            if self.problems.len() != before {
                self.routes_broken = true;
            }
        }
    }

    /// `A → B` (with the good when there are several).
    fn route_name(&self, from: usize, to: usize, good: usize) -> String {
        let m = &self.market;
        if m.goods.len() > 1 {
            format!(
                "{} → {} ({})",
                m.regions[from], m.regions[to], m.goods[good]
            )
        } else {
            format!("{} → {}", m.regions[from], m.regions[to])
        }
    }

    /// Resolves a route named `[from, to]` or `[from, to, good]`.
    fn route_ref(&mut self, parts: &[String], node: &Node) -> Option<usize> {
        if !(2..=3).contains(&parts.len()) {
            self.problem(
                node,
                format!(
                    "a route is named by [from, to] or [from, to, good]; found {} name(s)",
                    parts.len()
                ),
                "e.g. [\"A\", \"B\"], or [\"A\", \"B\", \"oxide\"] when there are several goods",
            );
            return None;
        }
        let from = self.region(&parts[0], node.at(0), node);
        let to = self.region(&parts[1], node.at(1), node);
        let good = match parts.get(2) {
            Some(g) => Some(self.good(Some(g), node.at(2), node)?),
            None => None,
        };
        let (from, to) = (from?, to?);
        let matches: Vec<(usize, usize)> = self
            .market
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.from == from && r.to == to && good.is_none_or(|g| r.good == g))
            .map(|(i, r)| (i, r.good))
            .collect();
        match matches.as_slice() {
            [(i, _)] => Some(*i),
            [] => {
                if !self.routes_broken {
                    let what = match good {
                        Some(g) => self.route_name(from, to, g),
                        None => format!("{} → {}", parts[0], parts[1]),
                    };
                    self.problem(
                        node,
                        format!("no route {what}"),
                        format!(
                            "declare it with [[route]] from = \"{}\", to = \"{}\", or name an \
                             existing route",
                            parts[0], parts[1]
                        ),
                    );
                }
                None
            }
            several => {
                let goods: Vec<&str> = several
                    .iter()
                    .map(|&(_, g)| self.market.goods[g].as_str())
                    .collect();
                let hint = format!(
                    "name the good: [\"{}\", \"{}\", \"{}\"]",
                    parts[0],
                    parts[1],
                    goods.first().copied().unwrap_or_default()
                );
                let message = format!(
                    "{} → {} is ambiguous: there is a route for each of {}",
                    parts[0],
                    parts[1],
                    list(goods)
                );
                self.problem(node, message, hint);
                None
            }
        }
    }

    /// Resolves every route of a quota or export share.
    fn route_refs(&mut self, refs: &[Vec<String>], item: &'n Node) -> Vec<(usize, &'n Node)> {
        let field = item.get("routes").unwrap_or(item);
        if refs.is_empty() {
            self.problem(
                field,
                "`routes` is empty".into(),
                "list at least one route, e.g. routes = [[\"A\", \"B\"]]",
            );
        }
        let mut out = Vec::new();
        for (k, parts) in refs.iter().enumerate() {
            let node = field.at(k).unwrap_or(field);
            if let Some(r) = self.route_ref(parts, node) {
                out.push((r, node));
            }
        }
        out
    }

    fn processes(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let (items, _) = self.items::<ProcessDef>(entry);
        let mut names: HashMap<String, &'n Node> = HashMap::new();
        for (_, def, node) in items {
            let before = self.problems.len();
            if let Some(first) = names.get(&def.name) {
                let line = self.line_of(first);
                self.problem(
                    node.get("name").unwrap_or(node),
                    format!("duplicate process `{}`", def.name),
                    format!("process names are unique; the first is at line {line}"),
                );
            } else {
                names.insert(def.name.clone(), node);
            }
            let region = self.region(&def.region, node.get("region"), node);
            let output = self.good(Some(&def.output), node.get("output"), node);
            let inputs_node = node.get("inputs").unwrap_or(node);
            if def.inputs.is_empty() {
                self.problem(
                    inputs_node,
                    "a process needs at least one input".into(),
                    "e.g. inputs = { oxide = 1.2 } (units of input per unit of output)",
                );
            }
            let mut inputs = Vec::new();
            for (name, &coef) in &def.inputs {
                let at = inputs_node.get(name);
                let Some(g) = self.good(Some(name), at, inputs_node) else {
                    continue;
                };
                if Some(g) == output {
                    self.problem(
                        at.unwrap_or(inputs_node),
                        format!("process `{}` uses its own output `{name}`", def.name),
                        "a process turns other goods into its output; remove this input",
                    );
                }
                if self.non_negative(coef, name, inputs_node, true, COEF_HINT) {
                    inputs.push((g, coef));
                }
            }
            self.non_negative(def.cost, "cost", node, false, PROCESS_COST_HINT);
            if let Some(c) = def.capacity {
                self.non_negative(c, "capacity", node, false, CAPACITY_HINT);
            }
            if let (Some(region), Some(output), true) =
                (region, output, self.problems.len() == before)
            {
                self.market.processes.push(Process {
                    name: def.name,
                    region,
                    output,
                    inputs,
                    cost: def.cost,
                    capacity: def.capacity,
                });
                self.origins.processes.push(node);
            }
        }
    }

    fn quotas(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let (items, _) = self.items::<QuotaDef>(entry);
        for (i, def, node) in items {
            let routes = self.route_refs(&def.routes, node);
            let ok = self.non_negative(def.limit, "limit", node, false, LIMIT_HINT);
            if ok && routes.len() == def.routes.len() && !routes.is_empty() {
                self.market.quotas.push(Quota {
                    name: def.name.unwrap_or_else(|| format!("quota_{}", i + 1)),
                    routes: routes.into_iter().map(|(r, _)| r).collect(),
                    limit: def.limit,
                });
                self.origins.quotas.push(node);
            }
        }
    }

    fn export_shares(&mut self, entry: Option<&'n TopEntry<'_>>) {
        let (items, _) = self.items::<ShareDef>(entry);
        for (i, def, node) in items {
            let before = self.problems.len();
            let region = self.region(&def.region, node.get("region"), node);
            let good = self.good(def.good.as_deref(), node.get("good"), node);
            if !(def.share.is_finite() && (0.0..=1.0).contains(&def.share)) {
                self.problem(
                    node.get("share").unwrap_or(node),
                    format!("`share` must be between 0 and 1, found {}", def.share),
                    SHARE_HINT,
                );
            }
            let routes = self.route_refs(&def.routes, node);
            if let (Some(region), Some(good)) = (region, good) {
                for &(r, at) in &routes {
                    let route = &self.market.routes[r];
                    if route.from != region || route.good != good {
                        let what = self.route_name(route.from, route.to, route.good);
                        let own = if self.market.goods.len() > 1 {
                            format!("`{}` ({})", def.region, self.market.goods[good])
                        } else {
                            format!("`{}`", def.region)
                        };
                        self.problem(
                            at,
                            format!("route {what} is not an export of {own}"),
                            "an export share caps its own region's exports of its good: list \
                             routes that leave that region with that good",
                        );
                    }
                }
            }
            if let (Some(region), Some(good), true) = (region, good, self.problems.len() == before)
            {
                self.market.export_shares.push(ExportShare {
                    name: def
                        .name
                        .unwrap_or_else(|| format!("export_share_{}", i + 1)),
                    region,
                    good,
                    routes: routes.into_iter().map(|(r, _)| r).collect(),
                    share: def.share,
                });
                self.origins.export_shares.push(node);
            }
        }
    }

    /// The backstop: [`Market::validate`]'s errors, placed at the item they name.
    fn validate(&mut self) {
        let Err(errors) = self.market.validate() else {
            return;
        };
        for e in errors {
            let (kind, index) = e
                .item
                .split_once('[')
                .map(|(k, rest)| (k, rest.trim_end_matches(']').parse::<usize>().ok()))
                .unwrap_or((e.item.as_str(), None));
            let origins = match kind {
                "supply" => &self.origins.supply,
                "demand" => &self.origins.demand,
                "fixed_demand" => &self.origins.fixed_demand,
                "route" => &self.origins.routes,
                "process" => &self.origins.processes,
                "quota" => &self.origins.quotas,
                "export_share" => &self.origins.export_shares,
                _ => &self.origins.supply,
            };
            let item = index.and_then(|i| origins.get(i)).copied();
            let at = item.map_or(0, |n| n.get(e.field).unwrap_or(n).start());
            self.problems.push(Problem {
                at,
                message: format!("`{}`: {}", e.field, e.message),
                hint: FORMAT_HINT.into(),
            });
        }
    }
}

/// Builds the market from the document's top-level entries.
fn build(text: &str, entries: &[TopEntry<'_>]) -> Result<Market, Vec<Problem>> {
    let mut cx = Ctx {
        text,
        problems: Vec::new(),
        market: Market::default(),
        origins: Origins::default(),
        goods_ok: true,
        regions: HashMap::new(),
        broken_regions: HashSet::new(),
        routes: HashMap::new(),
        routes_broken: false,
    };
    let mut sections: HashMap<&str, &TopEntry<'_>> = HashMap::new();
    for e in entries {
        match TOP_KEYS.iter().find(|&&k| k == e.key) {
            Some(&k) => {
                sections.insert(k, e);
            }
            None => {
                let hint = match nearest(&e.key, TOP_KEYS) {
                    Some(near) => {
                        format!("did you mean `{near}`? top-level keys: {}", list(TOP_KEYS))
                    }
                    None => format!("remove it; top-level keys: {}", list(TOP_KEYS)),
                };
                cx.problems.push(Problem {
                    at: e.key_span.start,
                    message: format!("unknown key `{}`", e.key),
                    hint,
                });
            }
        }
    }
    cx.goods(sections.get("goods").copied());
    cx.regions(sections.get("region").copied());
    if cx.market.regions.is_empty() && cx.broken_regions.is_empty() && cx.problems.is_empty() {
        cx.problems.push(Problem {
            at: 0,
            message: "the market has no regions".into(),
            hint: "declare at least one [[region]] with an id and its demand and supply".into(),
        });
    }
    cx.routes(sections.get("route").copied());
    cx.processes(sections.get("process").copied());
    cx.quotas(sections.get("quota").copied());
    cx.export_shares(sections.get("export_share").copied());
    if cx.problems.is_empty() {
        cx.validate();
    }
    if cx.problems.is_empty() {
        Ok(cx.market)
    } else {
        Err(cx.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReferenceOptions, Solution, SolveStatus, solve_reference};

    /// The diagnostics of a file that must not parse.
    fn errors(text: &str) -> Vec<FileDiagnostic> {
        match parse_market(text, "m.toml") {
            Ok(m) => panic!("parsed: {m:?}"),
            Err(e) => e.diagnostics,
        }
    }

    /// The only diagnostic of a file with one problem; checks its place.
    fn one_error(text: &str, line: u32, col: u32) -> FileDiagnostic {
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        let d = errs.into_iter().next().unwrap();
        assert_eq!((d.line, d.col), (line, col), "{d:#?}");
        d
    }

    fn has(errs: &[FileDiagnostic], line: u32, col: u32, text: &str) -> FileDiagnostic {
        errs.iter()
            .find(|d| d.line == line && d.col == col && d.message.contains(text))
            .unwrap_or_else(|| panic!("no {line}:{col} `{text}` in {errs:#?}"))
            .clone()
    }

    const ISSUE_EXAMPLE: &str = r#"[[region]]
id = "A"
demand = { intercept = 42.0, slope = 2.0 }                 # p = 42 - 2q
supply = { intercept = 9.0, slope = 1.0, capacity = 100.0 }  # p = 9 + q, q <= 100
[[route]]
from = "A"
to = "B"
cost = 3.0
tariff = 0.0      # optional
capacity = 50.0   # optional
banned = false    # optional
[[quota]]
routes = [["A", "B"], ["A", "C"]]
limit = 10.0
[[export_share]]
region = "A"
routes = [["A", "B"]]
share = 0.5
"#;

    /// The issue's example names regions B and C without declaring them; declared here (C is
    /// a transit hub, with neither demand nor supply).
    const ISSUE_REGIONS: &str = r#"
[[region]]
id = "B"
demand = { intercept = 60.0, slope = 1.0 }
[[region]]
id = "C"
[[route]]
from = "A"
to = "C"
cost = 1.0
"#;

    #[test]
    fn the_issue_example_parses() {
        let text = format!("{ISSUE_EXAMPLE}{ISSUE_REGIONS}");
        let m = parse_market(&text, "issue.toml").unwrap();
        assert_eq!(m.regions, ["A", "B", "C"]);
        assert_eq!(m.goods, [DEFAULT_GOOD]);
        assert_eq!(
            m.demand[0],
            DemandStep {
                region: 0,
                good: 0,
                intercept: 42.0,
                slope: 2.0,
                capacity: None
            }
        );
        assert_eq!(m.supply[0].capacity, Some(100.0));
        assert_eq!(m.routes.len(), 2);
        let ab = &m.routes[0];
        assert_eq!((ab.from, ab.to, ab.cost, ab.tariff), (0, 1, 3.0, 0.0));
        assert_eq!((ab.capacity, ab.banned), (Some(50.0), false));
        assert_eq!(m.routes[1].capacity, None);
        assert_eq!(m.quotas[0].routes, [0, 1]);
        assert_eq!(m.quotas[0].limit, 10.0);
        assert_eq!(m.quotas[0].name, "quota_1");
        assert_eq!(m.export_shares[0].routes, [0]);
        assert_eq!(m.export_shares[0].share, 0.5);
        assert_eq!(m.export_shares[0].name, "export_share_1");
        // The issue's example alone names undeclared regions: located, all at once.
        let errs = errors(ISSUE_EXAMPLE);
        has(&errs, 7, 6, "unknown region `B`");
        has(&errs, 13, 17, "unknown region `B`");
        has(&errs, 13, 29, "unknown region `C`");
        has(&errs, 17, 17, "unknown region `B`");
    }

    #[test]
    fn a_syntax_error_is_one_located_error() {
        let d = one_error(
            "[[region]]\nid = \"A\"\ndemand = { intercept = 1.0, slope = }\n",
            3,
            37,
        );
        assert!(d.hint.contains("syntax"), "{d:?}");
        // Columns count characters, not bytes.
        one_error("[[region]]\nid = \"Ä\" x\n", 2, 10);
    }

    #[test]
    fn unknown_keys_are_located_with_the_nearest_key() {
        let d = one_error(
            "[[region]]\nid = \"A\"\ndemand = { intercept = 1.0, slop = 2.0 }\n",
            3,
            29,
        );
        assert!(d.message.contains("unknown field `slop`"), "{d:?}");
        assert!(d.hint.contains("did you mean `slope`?"), "{d:?}");
        let d = one_error("[[regions]]\nid = \"A\"\n", 1, 3);
        assert!(d.message.contains("unknown key `regions`"), "{d:?}");
        assert!(d.hint.contains("did you mean `region`?"), "{d:?}");
        let d = one_error("[[region]]\nid = \"A\"\ncolour = 1\n", 3, 1);
        assert!(d.hint.contains("remove it"), "{d:?}");
    }

    #[test]
    fn wrong_types_are_located() {
        let text = "[[region]]\nid = \"A\"\n[[region]]\nid = \"B\"\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ncost = \"3\"\n";
        let d = one_error(text, 8, 8);
        assert!(d.message.contains("expected f64"), "{d:?}");
        assert!(d.hint.contains("number"), "{d:?}");
        let d = one_error("[[region]]\nid = 5\n", 2, 6);
        assert!(d.hint.contains("double quotes"), "{d:?}");
        let d = one_error("region = \"A\"\n", 1, 10);
        assert!(d.message.contains("array of tables"), "{d:?}");
        let d = one_error("[[region]]\n", 1, 1);
        assert!(d.message.contains("missing field `id`"), "{d:?}");
    }

    const NORTH_SOUTH: &str = "[[region]]\nid = \"north\"\n[[region]]\nid = \"south\"\n";

    #[test]
    fn unknown_regions_suggest_the_nearest() {
        let text = format!(
            "{NORTH_SOUTH}\
             [[route]]\nfrom = \"north\"\nto = \"souht\"\ncost = 1.0\n\
             [[quota]]\nroutes = [[\"north\", \"sooth\"]]\nlimit = 1.0\n\
             [[export_share]]\nregion = \"nort\"\nroutes = [[\"north\", \"south\"]]\nshare = 0.5\n\
             [[process]]\nname = \"p\"\nregion = \"west\"\noutput = \"good\"\ninputs = {{ good = 1.0 }}\ncost = 0.0\n"
        );
        let errs = errors(&text);
        let d = has(&errs, 7, 6, "unknown region `souht`");
        assert!(d.hint.contains("did you mean `south`?"), "{d:?}");
        let d = has(&errs, 10, 21, "unknown region `sooth`");
        assert!(d.hint.contains("did you mean `south`?"), "{d:?}");
        let d = has(&errs, 13, 10, "unknown region `nort`");
        assert!(d.hint.contains("did you mean `north`?"), "{d:?}");
        let d = has(&errs, 18, 10, "unknown region `west`");
        assert!(d.hint.contains("declare it"), "{d:?}");
    }

    #[test]
    fn duplicate_region_ids_point_at_the_second() {
        let d = one_error(
            "[[region]]\nid = \"A\"\n[[region]]\nid = \"B\"\n[[region]]\nid = \"A\"\n",
            6,
            6,
        );
        assert!(d.message.contains("duplicate region `A`"), "{d:?}");
        assert!(d.hint.contains("line 1"), "{d:?}");
    }

    #[test]
    fn negative_numbers_are_all_reported() {
        let text = "[[region]]\nid = \"A\"\n\
                    demand = { intercept = 10.0, slope = -1.0 }\n\
                    supply = { intercept = 1.0, slope = 1.0, capacity = -5.0 }\n\
                    [[region]]\nid = \"B\"\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ncost = -2.0\ntariff = -1.0\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 4, "{errs:#?}");
        let d = has(&errs, 3, 38, "`slope` must be a number ≥ 0, found -1");
        assert!(d.hint.contains("price fall"), "{d:?}");
        let d = has(&errs, 4, 53, "`capacity` must be a number ≥ 0, found -5");
        assert!(d.hint.contains("no limit"), "{d:?}");
        has(&errs, 10, 8, "`cost` must be a number ≥ 0");
        has(&errs, 11, 10, "`tariff` must be a number ≥ 0");
    }

    #[test]
    fn shares_must_be_fractions() {
        let text = "[[region]]\nid = \"A\"\n[[region]]\nid = \"B\"\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ncost = 1.0\n\
                    [[export_share]]\nregion = \"A\"\nroutes = [[\"A\", \"B\"]]\nshare = 1.5\n";
        let d = one_error(text, 12, 9);
        assert!(d.message.contains("between 0 and 1, found 1.5"), "{d:?}");
        assert!(d.hint.contains("fraction"), "{d:?}");
    }

    #[test]
    fn a_route_to_itself_is_refused() {
        let d = one_error(
            "[[region]]\nid = \"A\"\n[[route]]\nfrom = \"A\"\nto = \"A\"\ncost = 1.0\n",
            5,
            6,
        );
        assert!(d.message.contains("route from `A` to itself"), "{d:?}");
    }

    #[test]
    fn unknown_and_missing_goods_are_located() {
        let text = "goods = [\"oxide\", \"magnet\"]\n\
                    [[region]]\nid = \"A\"\ndemand = [{ good = \"magnet\", intercept = 9.0, slope = 1.0 }]\n\
                    [[region]]\nid = \"B\"\nsupply = { intercept = 1.0, slope = 1.0 }\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ngood = \"oxid\"\ncost = 1.0\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 2, "{errs:#?}");
        let d = has(&errs, 7, 10, "missing `good`");
        assert!(d.hint.contains("`oxide`, `magnet`"), "{d:?}");
        let d = has(&errs, 11, 8, "unknown good `oxid`");
        assert!(d.hint.contains("did you mean `oxide`?"), "{d:?}");
        // Without `goods`, the only good is `good`: naming another is an error with the fix.
        let d = one_error(
            "[[region]]\nid = \"A\"\nsupply = { good = \"ore\", intercept = 1.0, slope = 1.0 }\n",
            3,
            19,
        );
        assert!(d.hint.contains("goods = [\"ore\""), "{d:?}");
    }

    #[test]
    fn a_region_without_demand_or_supply_is_a_transit_hub() {
        let text = "[[region]]\nid = \"A\"\nsupply = { intercept = 1.0, slope = 1.0 }\n\
                    [[region]]\nid = \"hub\"\n\
                    [[region]]\nid = \"B\"\ndemand = { intercept = 10.0, slope = 1.0 }\n\
                    [[route]]\nfrom = \"A\"\nto = \"hub\"\ncost = 1.0\n\
                    [[route]]\nfrom = \"hub\"\nto = \"B\"\ncost = 1.0\n";
        let m = parse_market(text, "hub.toml").unwrap();
        assert_eq!(m.regions, ["A", "hub", "B"]);
        let sol = solve_reference(&m, &ReferenceOptions::default()).unwrap();
        assert_eq!(sol.status, SolveStatus::Optimal);
        // A: p = 1 + q, B: p = 10 − q, two legs at 1: p_B = p_A + 2, q = 3.5.
        assert!((sol.flows[0] - 3.5).abs() < 1e-6, "{:?}", sol.flows);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = "[[region]]\nid = \"A\"\nsupply = { intercept = 1.0, slop = 1.0 }\n\
                    [[region]]\nid = \"B\"\ndemand = { intercept = 1.0, slope = -1.0 }\n\
                    [[route]]\nfrom = \"A\"\nto = \"C\"\ncost = 1.0\n\
                    [[quota]]\nroutes = [[\"A\", \"B\"]]\nlimit = -3.0\n";
        let errs = errors(text);
        // The route to C fails, so the quota's missing route A → B is not reported on top.
        assert_eq!(errs.len(), 4, "{errs:#?}");
        has(&errs, 3, 29, "unknown field `slop`");
        has(&errs, 6, 37, "`slope`");
        has(&errs, 9, 6, "unknown region `C`");
        has(&errs, 13, 9, "`limit`");
        // A broken region is not reported again where it is named.
        let text = "[[region]]\nid = \"A\"\nsupply = 3\n\
                    [[region]]\nid = \"B\"\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ncost = 1.0\n";
        one_error(text, 3, 10);
    }

    #[test]
    fn curves_and_fixed_demand() {
        let text = "[[region]]\nid = \"A\"\n\
                    supply_curve = [[0.0, 1.0], [10.0, 1.0], [20.0, 3.0]]\n\
                    demand_curve = [[0, 10], [5, 10], [10, 5]]\n\
                    fixed_demand = 2.0\n";
        let m = parse_market(text, "c.toml").unwrap();
        assert_eq!(m.supply.len(), 2);
        assert_eq!(m.demand.len(), 2);
        assert_eq!(m.fixed_demand[0].quantity, 2.0);
        let d = one_error(
            "[[region]]\nid = \"A\"\nsupply_curve = [[0.0, 5.0], [1.0, 4.0]]\n",
            3,
            16,
        );
        assert!(d.message.contains("must not fall"), "{d:?}");
        let d = one_error("[[region]]\nid = \"A\"\nfixed_demand = -1\n", 3, 16);
        assert!(d.message.contains("≥ 0"), "{d:?}");
        let d = one_error(
            "[[region]]\nid = \"A\"\nsupply_curve = [[0.0, 5.0, 1.0], [1.0, 6.0]]\n",
            3,
            17,
        );
        assert!(d.message.contains("[quantity, price]"), "{d:?}");
    }

    #[test]
    fn several_goods_processes_and_route_names() {
        let m = parse_market(include_str!("../../../examples/markets/magnets.toml"), "m").unwrap();
        assert_eq!(m.goods, ["oxide", "magnet"]);
        assert_eq!(m.regions, ["north", "south", "west", "hub"]);
        assert_eq!(m.processes.len(), 2);
        assert_eq!(m.processes[0].inputs, [(0, 1.5)]);
        assert_eq!(m.fixed_demand.len(), 1);
        assert_eq!(m.quotas[0].name, "north_oxide_exports");
        assert_eq!(m.quotas[0].routes, [2]);
        assert_eq!(m.export_shares[0].routes, [0, 1]);
        assert!(m.routes[5].banned);
        // [from, to] is ambiguous when a route exists for each good.
        let text = "goods = [\"ore\", \"metal\"]\n\
                    [[region]]\nid = \"A\"\n[[region]]\nid = \"B\"\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ngood = \"ore\"\ncost = 1.0\n\
                    [[route]]\nfrom = \"A\"\nto = \"B\"\ngood = \"metal\"\ncost = 1.0\n\
                    [[quota]]\nroutes = [[\"A\", \"B\"]]\nlimit = 1.0\n\
                    [[export_share]]\nregion = \"B\"\ngood = \"ore\"\nroutes = [[\"A\", \"B\", \"ore\"]]\nshare = 0.5\n\
                    [[process]]\nname = \"p\"\nregion = \"A\"\noutput = \"metal\"\ninputs = { metal = 1.0, ore = 0.0 }\ncost = 0.0\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 4, "{errs:#?}");
        let d = has(&errs, 17, 11, "ambiguous");
        assert!(d.hint.contains("[\"A\", \"B\", \""), "{d:?}");
        has(&errs, 22, 11, "not an export of `B` (ore)");
        has(&errs, 28, 20, "uses its own output");
        has(&errs, 28, 31, "`ore` must be a number > 0");
    }

    #[test]
    fn json_files_read_the_same() {
        let toml = parse_market(
            include_str!("../../../examples/markets/two-regions.toml"),
            "t",
        )
        .unwrap();
        let json = parse_market(
            include_str!("../../../examples/markets/two-regions.json"),
            "t.json",
        )
        .unwrap();
        assert_eq!(toml, json);
        // Syntax: serde_json's place.
        let d = one_error("{\n  \"region\": [\n    {\"id\": \"A\",}\n  ]\n}\n", 3, 16);
        assert!(d.hint.contains("syntax"), "{d:?}");
        // Types inside an item: placed in the whole file.
        let d = one_error(
            "{\n  \"region\": [\n    {\"id\": \"A\"},\n    {\"id\": 3}\n  ]\n}\n",
            4,
            12,
        );
        assert!(d.message.contains("expected a string"), "{d:?}");
        // Names: at the value.
        let text = "{\"region\": [{\"id\": \"A\"}, {\"id\": \"B\"}],\n \"route\": [{\"from\": \"A\", \"to\": \"b\", \"cost\": 1}]}";
        let d = one_error(text, 2, 32);
        assert!(d.hint.contains("did you mean `B`?"), "{d:?}");
    }

    #[test]
    fn diagnostics_display_as_file_line_col() {
        let err = parse_market("[[region]]\nid = 1\n", "dir/m.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("dir/m.toml:2:6: error: invalid type"),
            "{text}"
        );
        assert!(text.contains("\n  hint: "), "{text}");
        let d = one_error("", 1, 1);
        assert!(d.message.contains("no regions"), "{d:?}");
    }

    #[test]
    fn the_documented_examples_parse() {
        let doc = include_str!("../../../docs/market-file.md");
        let blocks: Vec<&str> = doc
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert_eq!(blocks.len(), 2);
        for block in &blocks {
            if let Err(e) = parse_market(block, "docs/market-file.md") {
                panic!("{e}\nin\n{block}");
            }
        }
        // The complete example is the example file.
        let file = parse_market(include_str!("../../../examples/markets/magnets.toml"), "m");
        assert_eq!(parse_market(blocks[1], "docs").ok(), file.ok());
        for name in ["two-regions.toml", "smelter.toml"] {
            let text = match name {
                "two-regions.toml" => include_str!("../../../examples/markets/two-regions.toml"),
                _ => include_str!("../../../examples/markets/smelter.toml"),
            };
            if let Err(e) = parse_market(text, name) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn the_report_names_the_two_region_answer() {
        let m = parse_market(
            include_str!("../../../examples/markets/two-regions.toml"),
            "t",
        )
        .unwrap();
        let sol = solve_reference(&m, &ReferenceOptions::default()).unwrap();
        let r = SolveReport::new(&m, &sol);
        assert_eq!(r.status, SolveStatus::Optimal);
        assert_eq!(r.message, None);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-6);
        assert!(close(r.regions[0].price, 14.0), "{r:?}");
        assert!(close(r.regions[1].price, 16.0), "{r:?}");
        assert!(close(Some(r.flows[0].quantity), 6.0), "{r:?}");
        assert!(close(Some(r.flows[0].price_gap), 2.0), "{r:?}");
        assert!(close(Some(r.regions[0].exports), 6.0), "{r:?}");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "optimal");
        assert_eq!(v["solver"], "reference");
        assert!(v["regions"][0].get("good").is_none());
        assert!(v["welfare"]["total"].is_number());
        // A failed solve is reported with empty tables.
        let failed = Solution::failed(&m, SolveStatus::Infeasible, 3);
        let r = SolveReport::new(&m, &failed);
        assert!(r.regions.is_empty() && r.flows.is_empty() && r.welfare.is_none());
        assert!(r.message.is_some());
    }
}
