#!/usr/bin/env python3
"""Derive Chokepoint's tidy tables (data/*.csv) from the raw public files in data/raw/.

Run from the repository root:

    python3 data/derive/derive.py                 # reads data/raw, writes data/
    python3 data/derive/derive.py --raw R --out O # other folders
    python3 data/derive/derive.py --check-t5      # also print the MCS2025 table-5 cross-check

Python 3.11 standard library only. Deterministic: rows are sorted, numbers are written from the
source digits (decimal.Decimal, trailing zeros stripped, never in exponent notation), so a rerun
gives byte-identical files. Every hand-written mapping lives in data/derive/maps/*.csv (data, not
code); this script only applies them. Every raw cell goes through `parse_value`, which raises on a
token it does not know instead of guessing (it never turns a marker into 0).

See data/SCHEMA.md for the tables and data/PROVENANCE.md for what was done to each source.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAPS = HERE / "maps"
DATA = HERE.parent

# --------------------------------------------------------------------------------------------
# Output tables: exact headers (the Rust loader checks them).
# --------------------------------------------------------------------------------------------

HEADERS = {
    "sources.csv": ["source_id", "publisher", "title", "table", "data_year", "licence", "url",
                    "raw_file", "priority"],
    "units.csv": ["unit", "dimension", "to_base", "base_unit", "description"],
    "commodities.csv": ["commodity_id", "name", "parent", "content_basis", "usgs_name",
                        "iea_name", "notes"],
    "stages.csv": ["commodity_id", "stage_id", "name", "order", "description"],
    "countries.csv": ["iso3", "iso2", "numeric", "name", "continent", "wgi_code"],
    "country_aliases.csv": ["alias", "entity", "entity_kind", "note"],
    "groups.csv": ["group_id", "group_name", "iso3", "source", "note"],
    "sectors.csv": ["sector_id", "name", "iea_name", "aggregate", "description", "source"],
    "supply.csv": ["commodity_id", "stage_id", "entity", "entity_kind", "year", "metric", "case",
                   "value", "unit", "status", "raw_value", "source_id", "note"],
    "demand.csv": ["commodity_id", "sector_id", "scenario", "year", "value", "unit", "status",
                   "source_id"],
    "prices.csv": ["commodity_id", "series", "period", "basis", "value", "unit", "status",
                   "raw_value", "source_id", "note"],
    "us_salient.csv": ["commodity_id", "series", "year", "value", "unit", "status", "raw_value",
                       "source_id"],
    "import_reliance.csv": ["commodity_id", "importer", "year", "value", "unit", "status",
                            "raw_value", "major_sources", "source_id", "note"],
    "governance.csv": ["iso3", "year", "va", "pv", "ge", "rq", "rl", "cc", "source_id"],
    "usgs_t5.csv": ["critical_mineral", "commodity_id", "stage_id", "year", "leading_entity",
                    "leading_prod", "leading_pct", "world_prod", "unit", "status",
                    "raw_leading_prod", "raw_leading_pct", "raw_world_prod",
                    "net_import_reliance_raw", "primary_import_source", "world_prod_notes",
                    "source_id"],
    "facts.csv": ["id", "topic", "commodity_id", "stage_id", "entity", "metric", "value", "unit",
                  "year", "confidence", "source", "locator", "note"],
    "assumptions.csv": ["assumption_id", "name", "value", "unit", "applies_to", "rationale",
                        "reference"],
}

# Sort keys (column names) per table; rows are unique on these.
SORT_KEYS = {
    "sources.csv": ["source_id"],
    "units.csv": ["unit"],
    "commodities.csv": ["commodity_id"],
    "stages.csv": ["commodity_id", "order", "stage_id"],
    "countries.csv": ["iso3"],
    "country_aliases.csv": ["alias"],
    "groups.csv": ["group_id", "iso3"],
    "sectors.csv": ["sector_id"],
    "supply.csv": ["commodity_id", "stage_id", "metric", "source_id", "year", "entity"],
    "demand.csv": ["commodity_id", "sector_id", "scenario", "year", "source_id"],
    "prices.csv": ["commodity_id", "series", "basis", "source_id", "period"],
    "us_salient.csv": ["commodity_id", "series", "year"],
    "import_reliance.csv": ["commodity_id", "importer", "source_id", "year"],
    "governance.csv": ["iso3", "year"],
    "usgs_t5.csv": ["critical_mineral"],
    "facts.csv": ["id"],
    "assumptions.csv": ["assumption_id"],
}

# --------------------------------------------------------------------------------------------
# Raw values
# --------------------------------------------------------------------------------------------


class UnknownToken(ValueError):
    """A raw cell the parser does not know. The fix is to teach `parse_value`, never to guess."""


@dataclass(frozen=True)
class Parsed:
    """A classified raw cell: `status` as in SCHEMA.md, `value` a Decimal or None."""

    status: str
    value: Decimal | None
    raw: str


_NUMBER = re.compile(
    r"^(?P<op>[<>])?\s*(?P<sign>[-\u2212])?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)$"
)
# Markers for "none": em dash, en dash, hyphen, EIA's "- -".
_ZERO_MARKERS = {"\u2014", "\u2013", "-", "- -", "--"}
_NA_MARKERS = {"NA", "na", "N/A", "n/a", "..", "...", "\u2026"}
_NOT_APPLICABLE = {"XX", "xx"}
# Words USGS writes instead of a number (reserves), and E = net exporter (import reliance).
_TEXT_WORDS = {"large", "moderate", "small", "very small", "moderate to large"}
_HALF_UNIT = re.compile(r"^less than (?:\u00bd|1/2) unit\.?$", re.IGNORECASE)


def clean(s: str | None) -> str:
    """Trim and collapse whitespace (incl. no-break spaces): 'Copper ' -> 'Copper'."""
    if s is None:
        return ""
    return " ".join(s.replace("\u00a0", " ").split())


def parse_value(raw: str | None) -> Parsed:
    """Classify one raw cell.

    Returns Parsed(status, value, raw) with status one of reported, zero, withheld, na, lt, gt,
    text (the caller may upgrade reported to estimated from context). Raises UnknownToken for
    anything else - a raw value is never silently read as 0.
    """
    raw = "" if raw is None else raw
    s = clean(raw)
    if s == "":
        return Parsed("na", None, raw)
    if s == "W":
        return Parsed("withheld", None, raw)
    if s in _NA_MARKERS or s in _NOT_APPLICABLE:
        return Parsed("na", None, raw)
    if s in _ZERO_MARKERS:
        return Parsed("zero", Decimal(0), raw)
    if s == "E" or s.lower() in _TEXT_WORDS:
        return Parsed("text", None, raw)
    if _HALF_UNIT.match(s):
        return Parsed("lt", Decimal("0.5"), raw)
    m = _NUMBER.match(s)
    if m:
        num = Decimal(m.group("num").replace(",", ""))
        if m.group("sign"):
            num = -num
        op = m.group("op")
        if op == ">":
            return Parsed("gt", num, raw)
        if op == "<":
            return Parsed("lt", num, raw)
        if num == 0:
            return Parsed("zero", Decimal(0), raw)
        return Parsed("reported", num, raw)
    raise UnknownToken(f"unknown raw value {raw!r}")


def fmt_num(d: Decimal | None) -> str:
    """Plain decimal text: no exponent, no trailing zeros ('10.10' -> '10.1', '0.00' -> '0')."""
    if d is None:
        return ""
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


_FOOTNOTE = re.compile(r"^(?P<base>.*?[^\d\s])\s?(?P<mark>\d{1,2})$")


def split_footnote(name: str) -> tuple[str, str] | None:
    """'China3' -> ('China', '3'); 'World total (rounded) 10' -> ('World total (rounded)', '10')."""
    m = _FOOTNOTE.match(clean(name))
    if not m:
        return None
    return m.group("base"), m.group("mark")


def join_notes(parts) -> str:
    out = []
    for p in parts:
        p = clean(p)
        if p and p not in out:
            out.append(p)
    return " | ".join(out)


# --------------------------------------------------------------------------------------------
# CSV helpers
# --------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_map(name: str) -> list[dict]:
    return read_csv(MAPS / name)


def write_table(out_dir: Path, name: str, rows: list[dict]) -> int:
    header = HEADERS[name]
    keys = SORT_KEYS[name]

    def sort_key(r):
        out = []
        for k in keys:
            v = r[k]
            # numeric sort for year/order columns
            if k in ("year", "order"):
                out.append((0, int(v)) if str(v).lstrip("-").isdigit() else (1, str(v)))
            else:
                out.append((0, str(v)))
        return out

    seen = set()
    for r in rows:
        if set(r) != set(header):
            raise ValueError(f"{name}: row columns {sorted(r)} differ from header")
        k = tuple(str(r[c]) for c in keys)
        if k in seen:
            raise ValueError(f"{name}: duplicate key {k}")
        seen.add(k)
    rows = sorted(rows, key=sort_key)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r[c] is None else str(r[c]) for c in header])
    return len(rows)


# --------------------------------------------------------------------------------------------
# Entities (countries, aliases)
# --------------------------------------------------------------------------------------------


class Entities:
    """Resolves every country spelling of the raw files to an ISO alpha-3 code or pseudo entity.

    Lookup order: hand-written aliases (maps/country_aliases_manual.csv), then names derived from
    the ISO file (CLDR display name, official English name, UNTERM English short name), then the
    same with a trailing footnote digit removed ('China3'). Unknown spellings raise.
    """

    def __init__(self, raw: Path):
        self.countries: dict[str, dict] = {}
        for r in read_csv(raw / "countries" / "datahub_country-codes.csv"):
            iso3 = clean(r["ISO3166-1-Alpha-3"])
            if not iso3:
                raise ValueError("country without ISO alpha-3 in datahub file")
            self.countries[iso3] = {
                "iso3": iso3,
                "iso2": clean(r["ISO3166-1-Alpha-2"]),
                "numeric": clean(r["ISO3166-1-numeric"]).zfill(3),
                "name": clean(r["CLDR display name"]) or clean(r["official_name_en"]),
                "continent": clean(r["Continent"]),
                "wgi_code": "",
                "_names": [
                    ("ISO name (CLDR display name)", clean(r["CLDR display name"])),
                    ("ISO name (official English name)", clean(r["official_name_en"])),
                    ("ISO name (UNTERM English short)",
                     re.sub(r"\s*\(the\)\s*\*?$", "", clean(r["UNTERM English Short"])).strip()),
                ],
            }
        for r in read_map("countries_extra.csv"):
            self.countries[r["iso3"]] = {
                "iso3": r["iso3"], "iso2": r["iso2"], "numeric": r["numeric"],
                "name": r["name"], "continent": r["continent"], "wgi_code": "",
                "_names": [("manual country (maps/countries_extra.csv)", r["name"])],
            }
        self.lookup: dict[str, tuple[str, str, str]] = {}
        derived: dict[str, set] = defaultdict(set)
        derived_note: dict[str, str] = {}
        for c in self.countries.values():
            for note, name in c["_names"]:
                if name:
                    derived[name.lower()].add(c["iso3"])
                    derived_note.setdefault(name.lower(), note)
        for key, codes in derived.items():
            if len(codes) == 1:  # ambiguous ISO names are left to the manual map
                self.lookup[key] = (next(iter(codes)), "country", derived_note[key])
        for r in read_map("country_aliases_manual.csv"):
            self.lookup[clean(r["alias"]).lower()] = (r["entity"], r["entity_kind"],
                                                      "manual: " + r["note"])
        # alias (cleaned spelling) -> [entity, kind, note, set(sources)]
        self.used: dict[str, list] = {}

    def resolve(self, raw_name: str, source: str, allow_unknown: bool = False):
        """Returns (entity, entity_kind, note) or raises KeyError (None if allow_unknown)."""
        name = clean(raw_name)
        hit = self.lookup.get(name.lower())
        extra = ""
        if hit is None:
            fn = split_footnote(name)
            if fn and fn[0].lower() in self.lookup:
                hit = self.lookup[fn[0].lower()]
                extra = f"footnote marker '{fn[1]}' stripped"
        if hit is None:
            if allow_unknown:
                return None
            raise KeyError(f"unknown country spelling {raw_name!r} in {source}; "
                           "add it to data/derive/maps/country_aliases_manual.csv")
        entity, kind, note = hit
        note = join_notes([note, extra])
        rec = self.used.setdefault(name, [entity, kind, note, set()])
        rec[3].add(source)
        return entity, kind, note

    def add_alias(self, name: str, entity: str, kind: str, note: str, source: str):
        name = clean(name)
        key = name.lower()
        if key in self.lookup:
            if self.lookup[key][0] != entity:
                raise ValueError(f"alias {name!r} maps to {self.lookup[key][0]} and {entity}")
            entity, kind, note = self.lookup[key]
        rec = self.used.setdefault(name, [entity, kind, note, set()])
        if rec[0] != entity:
            raise ValueError(f"alias {name!r} maps to {rec[0]} and {entity}")
        rec[3].add(source)

    def alias_rows(self) -> list[dict]:
        # The loader treats aliases case-insensitively: merge spellings that differ only in case.
        by_lower: dict[str, list] = {}
        for name in sorted(self.used):
            entity, kind, note, sources = self.used[name]
            key = name.lower()
            if key in by_lower:
                first = by_lower[key]
                if first[1] != entity:
                    raise ValueError(f"alias {name!r} conflicts with {first[0]!r}")
                first[4].add(name)
                first[5].update(sources)
            else:
                by_lower[key] = [name, entity, kind, note, set(), set(sources)]
        rows = []
        for name, entity, kind, note, variants, sources in by_lower.values():
            parts = [note]
            if variants:
                parts.append("also spelled " + ", ".join(f"'{v}'" for v in sorted(variants)))
            parts.append("seen in " + ", ".join(sorted(sources)))
            rows.append({"alias": name, "entity": entity, "entity_kind": kind,
                         "note": join_notes(parts)})
        return rows


# --------------------------------------------------------------------------------------------
# Context shared by the builders
# --------------------------------------------------------------------------------------------


class Ctx:
    def __init__(self, raw: Path):
        self.raw = raw
        self.entities = Entities(raw)
        self.unit_alias: dict[tuple[str, str], str] = {}
        for r in read_map("unit_aliases.csv"):
            self.unit_alias[(r["context"], r["raw_unit"])] = r["unit"]
        self.vocab = {r["stage_id"]: r for r in read_map("stage_vocabulary.csv")}
        self.stage_sources: dict[tuple[str, str], set] = defaultdict(set)

    def unit(self, context: str, raw_unit: str) -> str:
        key = (context, clean(raw_unit))
        if key not in self.unit_alias:
            raise KeyError(f"unknown unit {raw_unit!r} ({context}); add it to maps/unit_aliases.csv")
        return self.unit_alias[key]

    def note_stage(self, commodity_id: str, stage_id: str, how: str):
        self.stage_sources[(commodity_id, stage_id)].add(how)


def supply_row(**kw) -> dict:
    row = {k: "" for k in HEADERS["supply.csv"]}
    row.update(kw)
    return row


# --------------------------------------------------------------------------------------------
# supply.csv (1): USGS MCS 2025 World Data
# --------------------------------------------------------------------------------------------

_WORLD_COLS = [
    # (column, metric kind, year, case)
    ("PROD_2023", "prod", 2023, "actual"),
    ("PROD_EST_ 2024", "prod", 2024, "estimated"),
    ("CAP_2023", "cap", 2023, "actual"),
    ("CAP_EST_ 2024", "cap", 2024, "estimated"),
    ("RESERVES_2024", "res", 2024, "actual"),
]
_NOTE_COL = {"prod": "PROD_NOTES", "cap": "CAP_NOTES", "res": "RESERVE_NOTES"}
# USGS notes that stand in for the value of an empty cell -> the token they mean.
_NOTE_TOKENS = [
    (re.compile(r"^W for 23-24$"), "W"),
    (re.compile(r"^na for \d{4}$", re.IGNORECASE), "NA"),
    (re.compile(r"^NA \(Reserve data is thousand metric tons\)\.?$"), "NA"),
]


def note_token(note: str) -> Parsed | None:
    """The status an empty cell takes from its USGS note (W, NA, XX, Large, <1/2 unit ...)."""
    note = clean(note)
    if not note:
        return None
    for rx, token in _NOTE_TOKENS:
        if rx.match(note):
            return parse_value(token)
    try:
        p = parse_value(note)
    except UnknownToken:
        return None  # free text: the cell stays na, the note is kept
    if p.status == "reported" or p.status == "gt":
        return None  # a number in a note column is not a marker
    return p


def build_world(ctx: Ctx) -> list[dict]:
    types = {}
    for r in read_map("usgs_world_types.csv"):
        types[(clean(r["usgs_commodity"]), clean(r["usgs_type"]))] = r
    overrides = {}
    for r in read_map("usgs_world_row_overrides.csv"):
        overrides[(clean(r["usgs_commodity"]), clean(r["country"]), clean(r["usgs_type"]))] = r
    raw_rows = read_csv(ctx.raw / "usgs_mcs2025" / "MCS2025_World_Data.csv")
    src = "usgs_mcs2025_world"

    # Which columns each USGS table (commodity, TYPE) actually has: a column is emitted for a
    # table when at least one of its cells holds something (or the table is all-withheld).
    has_col: dict[tuple, set] = defaultdict(set)
    group_units: dict[tuple, Counter] = defaultdict(Counter)
    for r in raw_rows:
        g = (clean(r["COMMODITY"]), clean(r["TYPE"]))
        if g not in types:
            raise KeyError(f"USGS World Data table {g} has no entry in maps/usgs_world_types.csv")
        for col, *_ in _WORLD_COLS:
            if clean(r[col]):
                has_col[g].add(col)
        if clean(r["UNIT_MEAS"]):
            group_units[g][clean(r["UNIT_MEAS"])] += 1

    out = []
    for r in raw_rows:
        commodity, typ, country = clean(r["COMMODITY"]), clean(r["TYPE"]), clean(r["COUNTRY"])
        g = (commodity, typ)
        tm = types[g]
        ov = overrides.get((commodity, country, typ))
        cid = ov["commodity_id"] if ov else tm["commodity_id"]
        stage = ov["stage_id"] if ov else tm["stage_id"]
        entity, kind, anote = ctx.entities.resolve(r["COUNTRY"], src)
        row_notes = []
        if kind in ("group", "company") or anote.startswith("manual: USGS row qualifier"):
            row_notes.append(f"country as published: {country}")
        if ov:
            row_notes.append(ov["note"])
        row_notes.append(tm["note"])
        unit_raw = clean(r["UNIT_MEAS"])
        if unit_raw:
            unit = ctx.unit("usgs_world", unit_raw)
        else:
            common = group_units[g].most_common(1)[0][0]
            unit = ctx.unit("usgs_world", common)
            row_notes.append(f"UNIT_MEAS empty in the source; unit '{common}' of the other rows "
                             "of the table used")
        if tm["unit"]:
            unit = tm["unit"]
        for col, mkind, year, case in _WORLD_COLS:
            if col not in has_col[g]:
                # a table whose values are all withheld (germanium) still has its production
                # columns; otherwise a column no row fills is not part of the table
                if not (tm["empty_status"] == "withheld" and mkind == "prod"):
                    continue
            cell = r[col]
            note_col = _NOTE_COL[mkind]
            usgs_note = clean(r[note_col])
            notes = list(row_notes)
            if mkind == "res":
                rc = tm["reserves_commodity_id"]
                if rc == "-":
                    continue
                this_cid = rc or cid
                this_unit = tm["reserves_unit"] or unit
                metric = "reserves"
                notes.append(tm["reserves_note"])
            else:
                this_cid = cid
                this_unit = unit
                metric = tm["prod_metric"] if mkind == "prod" else "capacity"
            if usgs_note:
                notes.append(f"{note_col}: {usgs_note}")
            if clean(cell) == "":
                if tm["empty_status"] == "withheld":
                    p = Parsed("withheld", None, cell)
                else:
                    p = note_token(usgs_note) or Parsed("na", None, cell)
                    if p.status == "na" and not usgs_note:
                        notes.append("empty cell in the source")
                status, value = p.status, p.value
            else:
                p = parse_value(cell)
                status, value = p.status, p.value
                if status == "reported":
                    low = usgs_note.lower()
                    if case == "estimated":
                        status = "estimated"
                    elif mkind == "res":
                        status = "reported"
                    elif "estimated" in low:
                        status = "estimated"
                    elif "reported" in low or "reproted" in low:
                        status = "reported"
                    elif mkind == "prod" and "estimated" in typ.lower():
                        status = "estimated"
            raw_value = "" if status in ("reported", "estimated") else clean(cell)
            if status == "zero":
                raw_value = clean(cell)
            ctx.note_stage(this_cid, stage, f"USGS TYPE '{typ}'")
            out.append(supply_row(
                commodity_id=this_cid, stage_id=stage, entity=entity, entity_kind=kind,
                year=year, metric=metric, case=case, value=fmt_num(value), unit=this_unit,
                status=status, raw_value=raw_value, source_id=src, note=join_notes(notes)))
    return out


# --------------------------------------------------------------------------------------------
# supply.csv (2): USGS MCS 2026 partial extract
# --------------------------------------------------------------------------------------------


def build_mcs2026(ctx: Ctx) -> list[dict]:
    mp = {}
    for r in read_map("usgs2026_map.csv"):
        mp[(r["commodity"], r["statistics_detail"])] = r
    src = "usgs_mcs2026_commodities"
    out = []
    for r in read_csv(ctx.raw / "usgs_mcs2026" / "MCS2026_Commodities_Data_subset.csv"):
        commodity = clean(r["Commodity"])
        detail = re.sub(r":\s*rounded$", "", clean(r["Statistics_detail"]))
        key = (commodity, detail)
        if key not in mp:
            raise KeyError(f"MCS2026 {key} has no entry in maps/usgs2026_map.csv")
        m = mp[key]
        if m["commodity_id"] == "-":
            continue  # e.g. the incomplete antimony rows
        entity, kind, _ = ctx.entities.resolve(r["Country"], src)
        year = int(r["Year"])
        p = parse_value(r["Value"])
        status = p.status
        notes = clean(r["Notes"])
        if status == "reported" and notes.lower().startswith("estimated"):
            status = "estimated"
        metric = m["metric"]
        if metric == "reserves":
            case = "actual"
        else:
            case = "actual" if year == 2024 else "estimated"
        raw_value = "" if status in ("reported", "estimated") else clean(r["Value"])
        unit = ctx.unit("usgs_2026", r["Unit"])
        ctx.note_stage(m["commodity_id"], m["stage_id"], f"USGS MCS2026 '{detail}'")
        out.append(supply_row(
            commodity_id=m["commodity_id"], stage_id=m["stage_id"], entity=entity,
            entity_kind=kind, year=year, metric=metric, case=case, value=fmt_num(p.value),
            unit=unit, status=status, raw_value=raw_value, source_id=src,
            note=join_notes([m["note"], notes])))
    return out


# --------------------------------------------------------------------------------------------
# supply.csv (3): IEA supply
# --------------------------------------------------------------------------------------------


def iea_commodity_map() -> dict[str, str]:
    return {r["iea_name"]: r["commodity_id"] for r in read_map("iea_commodities.csv")}


def build_iea_supply(ctx: Ctx) -> list[dict]:
    cmap = iea_commodity_map()
    smap = {(r["iea_mineral"], r["iea_stage"]): r for r in read_map("iea_stages.csv")}
    case_map = {r["value_type"]: r for r in read_map("iea_case.csv")}
    src = "iea_cmde2024_supply"
    out = []
    for r in read_csv(ctx.raw / "iea" / "iea_cmde_2024_supply_mining_refining_by_country.csv"):
        cid = cmap[r["mineral"]]
        sm = smap[(r["mineral"], r["stage"])]
        entity, kind, anote = ctx.entities.resolve(r["entity"], src)
        metric = "production"
        notes = [sm["note"]]
        if r["entity_type"] == "share_top3":
            metric = "top3_share"
            entity, kind = "WORLD", "world"
            notes.append("IEA top-3 share")
        elif r["entity_type"] == "total":
            if kind != "world":
                raise ValueError(f"IEA total row {r['entity']!r} is not a world alias")
            if clean(r["entity"]) != "Total":
                notes.append(f"IEA label '{clean(r['entity'])}'")
        elif r["entity_type"] == "rest_of_world":
            if kind != "row":
                raise ValueError(f"IEA rest-of-world row {r['entity']!r} is not a row alias")
        elif kind != "country":
            raise ValueError(f"IEA country row {r['entity']!r} resolves to {kind}")
        cm = case_map[r["value_type"]]
        p = parse_value(r["value"])
        status = cm["status"] if p.status == "reported" else p.status
        unit = ctx.unit("iea", r["unit"])
        ctx.note_stage(cid, sm["stage_id"], f"IEA stage '{r['stage']}'")
        out.append(supply_row(
            commodity_id=cid, stage_id=sm["stage_id"], entity=entity, entity_kind=kind,
            year=int(r["year"]), metric=metric, case=cm["case"], value=fmt_num(p.value),
            unit=unit, status=status,
            raw_value="" if status in ("reported", "estimated") else clean(r["value"]),
            source_id=src, note=join_notes(notes)))
    return out


# --------------------------------------------------------------------------------------------
# facts.csv and supply.csv (4): supplementary facts
# --------------------------------------------------------------------------------------------


def read_facts(ctx: Ctx) -> list[dict]:
    return read_csv(ctx.raw / "supplementary" / "facts.csv")


def build_facts(ctx: Ctx) -> list[dict]:
    cmap = {r["raw_commodity"]: r for r in read_map("fact_commodities.csv")}
    smap = {(r["commodity_id"], r["raw_stage"]): r for r in read_map("fact_stages.csv")}
    out = []
    for r in read_facts(ctx):
        cm = cmap[clean(r["commodity"])]
        cid = cm["commodity_id"]
        raw_stage = clean(r["stage"])
        sm = smap.get((cid, raw_stage)) or smap[("", raw_stage)]
        stage = sm["stage_id"]
        notes = [r["note"]]
        if sm["note"]:
            notes.append(sm["note"])
        hit = ctx.entities.resolve(r["country_or_entity"], "supplementary_facts",
                                   allow_unknown=True)
        raw_entity = clean(r["country_or_entity"])
        if hit and hit[1] == "country":
            entity = hit[0]
            if "(" in raw_entity:
                notes.append(f"entity as published: {raw_entity}")
        else:
            if hit is not None:
                # a pseudo entity (World, Others, G7 ...): keep the text, as the brief asks
                pass
            entity = raw_entity
        p = parse_value(r["value"])
        if p.status not in ("reported", "zero") or p.value is None:
            raise UnknownToken(f"facts {r['id']}: value {r['value']!r} is not a plain number")
        unit = ctx.unit("facts", r["unit"])
        if unit != clean(r["unit"]) and clean(r["unit"]) != "%":
            notes.append(f"unit as published: {clean(r['unit'])}")
        if cid and stage in ctx.vocab:
            ctx.note_stage(cid, stage, "facts.csv")
        out.append({
            "id": r["id"], "topic": r["topic"], "commodity_id": cid, "stage_id": stage,
            "entity": entity, "metric": clean(r["metric"]), "value": fmt_num(p.value),
            "unit": unit, "year": clean(r["year"]), "confidence": clean(r["confidence"]),
            "source": clean(r["source"]), "locator": clean(r["locator"]),
            "note": join_notes(notes)})
    return out


def build_fact_supply(ctx: Ctx) -> tuple[list[dict], list[dict]]:
    facts = {r["id"]: r for r in read_facts(ctx)}
    supply, assumptions = [], []
    for m in read_map("fact_supply.csv"):
        f = facts[m["fact_id"]]
        p = parse_value(f["value"])
        if p.status != "reported":
            raise UnknownToken(f"fact {m['fact_id']} value {f['value']!r} is not a plain number")
        published_unit = ctx.unit("facts", f["unit"])
        year = int(f["year"])
        if m["entity_kind"] == "country" and m["entity"] not in ctx.entities.countries:
            raise KeyError(f"fact_supply {m['fact_id']}: unknown country {m['entity']}")
        if m["entity_kind"] == "company":
            ctx.entities.add_alias(f["country_or_entity"], m["entity"], "company",
                                   "manual: " + m["note"], "supplementary_facts")
        ctx.note_stage(m["commodity_id"], m["stage_id"], "facts.csv")
        note = join_notes([
            f"{clean(f['metric'])} ({m['fact_id']}, confidence {f['confidence']})",
            f"entity as published: {clean(f['country_or_entity'])}",
            f"unit as published: {clean(f['unit'])}", m["note"]])
        supply.append(supply_row(
            commodity_id=m["commodity_id"], stage_id=m["stage_id"], entity=m["entity"],
            entity_kind=m["entity_kind"], year=year, metric=m["metric"], case=m["case"],
            value=fmt_num(p.value), unit=m["unit"], status="reported", raw_value="",
            source_id=f"fact:{m['fact_id']}", note=note))
        if published_unit not in (m["unit"], m["unit"] + "/yr"):
            raise ValueError(f"fact {m['fact_id']}: unit {m['unit']} vs published {f['unit']}")
        assumptions.append({
            "assumption_id": f"fact_{m['fact_id']}",
            "name": (f"{m['commodity_id']} {m['stage_id']} {m['metric']}, {m['entity']}, "
                     f"{year} (facts.csv {m['fact_id']})"),
            "value": fmt_num(p.value), "unit": m["unit"],
            "applies_to": (f"supply.csv {m['commodity_id']}/{m['stage_id']}/{m['entity']}/"
                           f"{year} {m['metric']} (source_id fact:{m['fact_id']})"),
            "rationale": (
                "Secondary public source used as a named assumption: the openly licensed bulk "
                "files have no uranium figures by country, so this figure from facts.csv "
                f"(confidence {f['confidence']}) stands in for it. {m['note']}."),
            "reference": join_notes([clean(f["source"]), clean(f["locator"])]),
        })
    return supply, assumptions


# --------------------------------------------------------------------------------------------
# demand.csv
# --------------------------------------------------------------------------------------------


def build_demand(ctx: Ctx) -> list[dict]:
    cmap = iea_commodity_map()
    scen = {r["iea_scenario"]: r["scenario"] for r in read_map("iea_scenarios.csv")}
    sectors = {}
    for s in read_map("sectors.csv"):
        for name in filter(None, s["iea_name"].split("|")):
            if name in sectors:
                raise ValueError(f"IEA sector {name!r} mapped twice")
            sectors[name] = s["sector_id"]
    out = []
    for r in read_csv(ctx.raw / "iea" / "iea_cmde_2024_demand_by_sector_scenario.csv"):
        if r["sector"] == "Share of clean technologies in total demand":
            continue  # derivable: clean_tech_total / total
        p = parse_value(r["value"])
        out.append({
            "commodity_id": cmap[r["mineral"]], "sector_id": sectors[r["sector"]],
            "scenario": scen[r["scenario"]], "year": int(r["year"]),
            "value": fmt_num(p.value), "unit": ctx.unit("iea", r["unit"]),
            "status": p.status, "source_id": "iea_cmde2024_demand"})
    return out


# --------------------------------------------------------------------------------------------
# USGS salient statistics: prices.csv (price columns) and us_salient.csv (the rest)
# --------------------------------------------------------------------------------------------


def split_suffix(ctx: Ctx, column: str) -> tuple[str, str]:
    """'Price_Nd2O3_dkg' -> ('Price_Nd2O3', 'dkg'); 'Stocks_' -> ('Stocks', '')."""
    base, _, suffix = column.rpartition("_")
    if base and (("salient_suffix", suffix) in ctx.unit_alias or suffix == ""):
        return base, suffix
    return column, ""


def build_salient(ctx: Ctx) -> tuple[list[dict], list[dict]]:
    files = {r["file_code"]: r for r in read_map("salient_files.csv")}
    cols = {(r["file_code"], r["column"]): r for r in read_map("salient_columns.csv")}
    used_cols = set()
    prices, stats = [], []
    folder = ctx.raw / "usgs_mcs2025" / "salient"
    paths = sorted(folder.glob("mcs2025-*_salient.csv"))
    if len(paths) != len(files):
        raise ValueError(f"{len(paths)} salient files but {len(files)} in maps/salient_files.csv")
    for path in paths:
        code = path.name[len("mcs2025-"):-len("_salient.csv")]
        fm = files[code]
        rows = read_csv(path)
        for r in rows:
            if clean(r["Commodity"]) != fm["usgs_name"]:
                raise ValueError(f"{path.name}: commodity {r['Commodity']!r}")
        for column in rows[0].keys():
            if column in ("DataSource", "Commodity", "Year") or clean(column) == "":
                continue  # identifiers; the yttrium file has a trailing empty column
            ov = cols.get((code, column), {})
            if ov:
                used_cols.add((code, column))
            series, suffix = split_suffix(ctx, column)
            series = ov.get("series") or series
            if ov.get("unit"):
                unit = ov["unit"]
            elif suffix:
                unit = ctx.unit("salient_suffix", suffix)
            else:
                raise KeyError(f"{path.name}: column {column!r} has no unit suffix and no "
                               "override in maps/salient_columns.csv")
            cid = ov.get("commodity_id") or fm["commodity_id"]
            is_price = column.startswith("Price_")
            for r in rows:
                year = int(r["Year"])
                p = parse_value(r[column])
                status = p.status
                if status == "reported" and year == 2024:
                    status = "estimated"  # MCS 2025: 2024 figures are estimates
                raw_value = "" if status in ("reported", "estimated") else clean(r[column])
                if is_price:
                    prices.append({
                        "commodity_id": cid, "series": series, "period": str(year),
                        "basis": "nominal", "value": fmt_num(p.value), "unit": unit,
                        "status": status, "raw_value": raw_value,
                        "source_id": "usgs_mcs2025_salient",
                        "note": join_notes([f"USGS salient file mcs2025-{code}, column {column}",
                                            ov.get("note", "")])})
                else:
                    stats.append({
                        "commodity_id": cid, "series": series, "year": year,
                        "value": fmt_num(p.value), "unit": unit, "status": status,
                        "raw_value": raw_value, "source_id": "usgs_mcs2025_salient"})
    missing = set(cols) - used_cols
    if missing:
        raise KeyError(f"maps/salient_columns.csv rows match no column: {sorted(missing)}")
    return prices, stats


# --------------------------------------------------------------------------------------------
# prices.csv: World Bank Pink Sheet and EIA uranium
# --------------------------------------------------------------------------------------------


def build_prices(ctx: Ctx) -> list[dict]:
    series = read_map("price_series.csv")
    out = []
    pink = [r for r in series if r["file"] == "pinksheet"]
    files = [
        ("worldbank_pinksheet_annual_prices_nominal.csv", "nominal", "wb_pinksheet_annual", False),
        ("worldbank_pinksheet_annual_prices_real2010usd.csv", "real2010", "wb_pinksheet_annual",
         False),
        ("worldbank_pinksheet_monthly_prices_nominal.csv", "nominal", "wb_pinksheet_monthly",
         True),
    ]
    for fname, basis, src, monthly in files:
        rows = read_csv(ctx.raw / "prices" / fname)
        for s in pink:
            if s["column"] not in rows[0]:
                raise KeyError(f"{fname}: no column {s['column']!r}")
            header_unit = s["column"].rsplit("(", 1)[1].rstrip(")")
            if ctx.unit("pinksheet", header_unit) != s["unit"]:
                raise ValueError(f"{s['column']}: unit {s['unit']} vs header {header_unit}")
            started = False
            for r in rows:
                period = r["period"]
                if monthly:
                    m = re.fullmatch(r"(\d{4})M(\d{2})", period)
                    if not m:
                        raise ValueError(f"{fname}: period {period!r}")
                    period = f"{m.group(1)}-{m.group(2)}"
                elif not re.fullmatch(r"\d{4}", period):
                    raise ValueError(f"{fname}: period {period!r}")
                p = parse_value(r[s["column"]])
                if monthly and not started and p.value is None:
                    continue  # leading run before the monthly series starts
                started = True
                out.append({
                    "commodity_id": s["commodity_id"], "series": s["series"], "period": period,
                    "basis": basis, "value": fmt_num(p.value), "unit": s["unit"],
                    "status": p.status,
                    "raw_value": "" if p.status == "reported" else clean(r[s["column"]]),
                    "source_id": src, "note": s["note"]})
    eia = [r for r in series if r["file"] == "eia_uranium"]
    rows = read_csv(ctx.raw / "prices" / "eia_uranium_purchase_price_us.csv")
    for s in eia:
        if s["column"] not in rows[0]:
            raise KeyError(f"EIA uranium: no column {s['column']!r}")
        for r in rows:
            cell = r[s["column"]]
            p = parse_value(cell)
            status, value = p.status, p.value
            notes = [s["note"]]
            if clean(cell) == "- -":
                # EIA '- -' = no purchases / not applicable: a missing price, not a zero price
                status, value = "na", None
                notes.append("EIA '- -': no purchases or not applicable")
            elif status == "zero":
                notes.append("EIA prints 0.00 (no purchases reported); not a market price")
            out.append({
                "commodity_id": s["commodity_id"], "series": s["series"],
                "period": str(int(r["Delivery year"])), "basis": "nominal",
                "value": fmt_num(value), "unit": s["unit"], "status": status,
                "raw_value": "" if status == "reported" else clean(cell),
                "source_id": "eia_uranium_prices", "note": join_notes(notes)})
    return out


# --------------------------------------------------------------------------------------------
# import_reliance.csv and usgs_t5.csv
# --------------------------------------------------------------------------------------------


def t5_lookup(name: str, t5map: dict) -> tuple[dict, str]:
    n = clean(name)
    if n in t5map:
        return t5map[n], ""
    fn = split_footnote(n)
    if fn and fn[0] in t5map:
        return t5map[fn[0]], f"footnote marker '{fn[1]}' stripped"
    raise KeyError(f"critical mineral {name!r} has no entry in maps/t5_map.csv")


def sources_to_iso(ctx: Ctx, text: str, src: str) -> str:
    codes = []
    for part in text.split(","):
        if clean(part):
            entity, kind, _ = ctx.entities.resolve(part, src)
            if kind != "country":
                raise ValueError(f"import source {part!r} is not a country")
            codes.append(entity)
    return ";".join(codes)


def nir_status(p: Parsed, year_field: str) -> str:
    if p.status == "reported" and "estimated" in year_field:
        return "estimated"
    return p.status


def build_import_reliance(ctx: Ctx) -> list[dict]:
    out = []
    fig2 = {r["fig2_commodity"]: r for r in read_map("fig2_map.csv")}
    for r in read_csv(ctx.raw / "usgs_mcs2025" / "MCS2025_Fig2_Net_Import_Reliance.csv"):
        name = clean(r["Commodity"])
        m = fig2[name]
        p = parse_value(r["Net_Import_Reliance_pct_2024"])
        out.append({
            "commodity_id": m["commodity_id"], "importer": "USA", "year": 2024,
            "value": fmt_num(p.value), "unit": "pct", "status": p.status,
            "raw_value": "" if p.status == "reported" else clean(r["Net_Import_Reliance_pct_2024"]),
            "major_sources": sources_to_iso(ctx, r["Major_Import_Sources_2020_2023"],
                                            "usgs_mcs2025_fig2"),
            "source_id": "usgs_mcs2025_fig2",
            "note": join_notes([f"Fig. 2 item '{name}' (rank {r['Import_Share_Order']})",
                                "major import sources 2020-2023", r["Notes"]])})
    t5map = {r["critical_mineral"]: r for r in read_map("t5_map.csv")}
    for fname, src, src_col, years_note in [
        ("usgs_mcs2025/MCS2025_T5_Critical_Minerals_Salient.csv", "usgs_mcs2025_t5",
         "Primary_import_source", "primary import source (average 2020-2023)"),
        ("usgs_mcs2026/MCS2026_T7_Critical_Minerals_Salient_subset.csv", "usgs_mcs2026_t7",
         "Primary_import_sources_2021-24", "primary import source 2021-24"),
    ]:
        for r in read_csv(ctx.raw / fname):
            m, fn_note = t5_lookup(r["Critical_mineral"], t5map)
            p = parse_value(r["Net_Import_Reliance"])
            status = nir_status(p, r["Year"])
            notes = [f"{src} row '{clean(r['Critical_mineral'])}'", fn_note, years_note,
                     r["Import_source_notes"]]
            if p.status == "text":
                notes.append("E = net exporter")
            if src == "usgs_mcs2026_t7":
                lead = clean(r["Leading_source_country"])
                notes.append(f"leading producer 2025: {lead}, {clean(r['Leading_country_prod'])} "
                             f"{clean(r['Units'])} = {clean(r['Leading_source_precent_world'])}% "
                             f"of world {clean(r['World_total_prod'])}")
                ctx.entities.resolve(lead, src)
            out.append({
                "commodity_id": m["commodity_id"], "importer": "USA",
                "year": int(r["Year"][:4]), "value": fmt_num(p.value), "unit": "pct",
                "status": status,
                "raw_value": "" if status in ("reported", "estimated") else clean(
                    r["Net_Import_Reliance"]),
                "major_sources": sources_to_iso(ctx, r[src_col], src), "source_id": src,
                "note": join_notes(notes)})
    return out


def build_t5(ctx: Ctx) -> list[dict]:
    t5map = {r["critical_mineral"]: r for r in read_map("t5_map.csv")}
    out = []
    src = "usgs_mcs2025_t5"
    for r in read_csv(ctx.raw / "usgs_mcs2025" / "MCS2025_T5_Critical_Minerals_Salient.csv"):
        m, _ = t5_lookup(r["Critical_mineral"], t5map)
        lead, kind, _ = ctx.entities.resolve(r["Leading_source_country"], src)
        if kind != "country":
            raise ValueError(f"T5 leading source {r['Leading_source_country']!r}")
        lp = parse_value(r["Leading_country_prod"])
        pct = parse_value(r["Leading_source_precent_world"])
        wp = parse_value(r["World_total_prod"])
        statuses = {lp.status, pct.status, wp.status}
        if statuses <= {"reported"}:
            status = "estimated" if "estimated" in r["Year"] else "reported"
        elif "withheld" in statuses:
            status = "withheld"
        elif statuses <= {"na"}:
            status = "na"
        else:
            raise ValueError(f"T5 {r['Critical_mineral']!r}: mixed statuses {statuses}")
        ctx.note_stage(m["commodity_id"], m["stage_id"], "USGS MCS2025 table 5")
        imp = clean(r["Primary_import_source"])
        imp_iso = sources_to_iso(ctx, imp, src) if imp else ""
        out.append({
            "critical_mineral": clean(r["Critical_mineral"]), "commodity_id": m["commodity_id"],
            "stage_id": m["stage_id"], "year": int(r["Year"][:4]), "leading_entity": lead,
            "leading_prod": fmt_num(lp.value), "leading_pct": fmt_num(pct.value),
            "world_prod": fmt_num(wp.value), "unit": "t", "status": status,
            "raw_leading_prod": clean(r["Leading_country_prod"]),
            "raw_leading_pct": clean(r["Leading_source_precent_world"]),
            "raw_world_prod": clean(r["World_total_prod"]),
            "net_import_reliance_raw": clean(r["Net_Import_Reliance"]),
            "primary_import_source": imp_iso,
            "world_prod_notes": clean(r["World_prod_notes"]), "source_id": src})
    return out


# --------------------------------------------------------------------------------------------
# governance.csv
# --------------------------------------------------------------------------------------------

WGI_DIMS = ["va", "pv", "ge", "rq", "rl", "cc"]


def build_governance(ctx: Ctx) -> tuple[list[dict], dict[str, str], list[str]]:
    codes = {r["wgi_code"]: r for r in read_map("wgi_codes.csv")}
    cells: dict[tuple[str, int], dict] = {}
    wgi_code_of: dict[str, str] = {}
    dropped = set()
    for r in read_csv(ctx.raw / "governance" / "wgi_2024_update_long.csv"):
        code = clean(r["code"])
        if code in codes:
            iso3 = codes[code]["iso3"]
        elif code in ctx.entities.countries:
            iso3 = code
        else:
            raise KeyError(f"WGI code {code!r} ({r['countryname']}) is neither ISO nor in "
                           "maps/wgi_codes.csv")
        if not iso3:
            dropped.add(f"{code} ({clean(r['countryname'])})")
            continue
        if r["indicator"] not in WGI_DIMS:
            raise ValueError(f"WGI indicator {r['indicator']!r}")
        wgi_code_of[iso3] = code
        note = ("WGI name (World Bank code " + code + ")")
        ctx.entities.add_alias(r["countryname"], iso3, "country", note, "wb_wgi2024")
        p = parse_value(r["estimate"])
        if p.status not in ("reported", "zero", "na"):
            raise UnknownToken(f"WGI estimate {r['estimate']!r}")
        key = (iso3, int(r["year"]))
        row = cells.setdefault(key, {"iso3": iso3, "year": int(r["year"]),
                                     **{d: "" for d in WGI_DIMS}, "source_id": "wb_wgi2024"})
        if row[r["indicator"]]:
            raise ValueError(f"WGI duplicate {key} {r['indicator']}")
        row[r["indicator"]] = fmt_num(p.value)
    return list(cells.values()), wgi_code_of, sorted(dropped)


# --------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------


def build_commodities(ctx: Ctx) -> list[dict]:
    rows = read_map("commodities.csv")
    by_id = {r["commodity_id"]: r for r in rows}
    # Every USGS World Data commodity name must be someone's usgs_name.
    names = set()
    for r in rows:
        names.update(filter(None, (clean(x) for x in r["usgs_name"].split("|"))))
    for r in read_csv(ctx.raw / "usgs_mcs2025" / "MCS2025_World_Data.csv"):
        if clean(r["COMMODITY"]) not in names:
            raise KeyError(f"USGS commodity {r['COMMODITY']!r} is no usgs_name in commodities")
    t4map = {r["t4_mineral"]: r["commodity_id"] for r in read_map("t4_map.csv")}
    extra: dict[str, list] = defaultdict(list)
    for r in read_csv(ctx.raw / "usgs_mcs2025" / "MCS2025_T4_Critical_Minerals_End_Use.csv"):
        mineral = clean(r["Critical Mineral"])
        cid = t4map[mineral]
        apps = clean(r["Primary Applications"]).rstrip(".")
        cname = clean(by_id[cid]["name"]).lower()
        if cname == mineral.lower() or cname.startswith(mineral.lower() + " "):
            extra[cid].insert(0, f"On the 2022 U.S. critical minerals list; primary "
                                 f"applications (MCS2025 table 4): {apps}.")
        else:
            extra[cid].append(f"MCS2025 table 4 also lists {mineral}: {apps}.")
    out = []
    for r in rows:
        notes = " ".join([clean(r["notes"])] + extra.get(r["commodity_id"], [])).strip()
        out.append({**{k: clean(v) for k, v in r.items()}, "notes": notes})
    return out


def build_stages(ctx: Ctx) -> list[dict]:
    chain = {(r["commodity_id"], r["stage_id"]): r["description"]
             for r in read_map("stage_chain.csv")}
    pairs = set(ctx.stage_sources) | set(chain)
    out = []
    for cid, sid in sorted(pairs):
        if sid not in ctx.vocab:
            raise KeyError(f"stage {sid!r} ({cid}) is not in maps/stage_vocabulary.csv")
        v = ctx.vocab[sid]
        desc = chain.get((cid, sid)) or v["description"]
        how = sorted(ctx.stage_sources.get((cid, sid), []))
        if how:
            desc = f"{desc}. Data: " + "; ".join(how)
        else:
            desc = f"{desc}. No data in the bulk files (chain stage for the seed scenarios)"
        out.append({"commodity_id": cid, "stage_id": sid, "name": v["name"],
                    "order": int(v["order"]), "description": desc})
    return out


# --------------------------------------------------------------------------------------------
# Validation (mirrors the Rust loader's checks so a bad table never leaves this script)
# --------------------------------------------------------------------------------------------

STATUSES = {"reported", "estimated", "zero", "withheld", "na", "lt", "gt", "text"}
WITH_VALUE = {"reported", "estimated", "zero", "lt", "gt"}


def validate(t: dict[str, list[dict]]):
    errors = []
    units = {r["unit"] for r in t["units.csv"]}
    commodities = {r["commodity_id"] for r in t["commodities.csv"]}
    countries = {r["iso3"] for r in t["countries.csv"]}
    stages = {(r["commodity_id"], r["stage_id"]) for r in t["stages.csv"]}
    sources = {r["source_id"] for r in t["sources.csv"]} | {
        "fact:" + r["id"] for r in t["facts.csv"]}
    sectors = {r["sector_id"] for r in t["sectors.csv"]}

    def fig(name, r):
        st = r["status"]
        if st not in STATUSES:
            errors.append(f"{name}: status {st!r}")
        elif (st in WITH_VALUE) != (r["value"] != ""):
            errors.append(f"{name}: status {st} with value {r['value']!r}: {r}")
        elif st == "zero" and Decimal(r["value"]) != 0:
            errors.append(f"{name}: zero with value {r['value']}")

    for r in t["commodities.csv"]:
        if r["parent"] and r["parent"] not in commodities:
            errors.append(f"commodity parent {r['parent']}")
    for r in t["stages.csv"]:
        if r["commodity_id"] not in commodities:
            errors.append(f"stage commodity {r['commodity_id']}")
    for r in t["supply.csv"]:
        if (r["commodity_id"], r["stage_id"]) not in stages:
            errors.append(f"supply stage {r['commodity_id']}/{r['stage_id']}")
        if r["unit"] not in units:
            errors.append(f"supply unit {r['unit']}")
        if r["source_id"] not in sources:
            errors.append(f"supply source {r['source_id']}")
        k = r["entity_kind"]
        if k == "country" and r["entity"] not in countries:
            errors.append(f"supply country {r['entity']}")
        exp = {"world": "WORLD", "other": "OTHER", "row": "ROW"}.get(k)
        if exp and r["entity"] != exp:
            errors.append(f"supply entity {r['entity']} kind {k}")
        if k not in ("country", "world", "other", "row", "group", "company"):
            errors.append(f"supply kind {k}")
        if r["metric"] not in ("production", "capacity", "reserves", "top3_share"):
            errors.append(f"supply metric {r['metric']}")
        if r["case"] not in ("actual", "estimated", "projection_base_case"):
            errors.append(f"supply case {r['case']}")
        if r["value"] and Decimal(r["value"]) < 0:
            errors.append(f"supply negative {r}")
        fig("supply", r)
    for r in t["demand.csv"]:
        if r["commodity_id"] not in commodities or r["sector_id"] not in sectors:
            errors.append(f"demand ref {r}")
        if r["unit"] not in units or r["source_id"] not in sources:
            errors.append(f"demand unit/source {r}")
        fig("demand", r)
    for r in t["prices.csv"]:
        if r["commodity_id"] not in commodities or r["unit"] not in units:
            errors.append(f"price ref {r}")
        if r["source_id"] not in sources:
            errors.append(f"price source {r['source_id']}")
        if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", r["period"]):
            errors.append(f"price period {r['period']}")
        fig("prices", r)
    for r in t["us_salient.csv"]:
        if r["commodity_id"] not in commodities or r["unit"] not in units:
            errors.append(f"salient ref {r}")
        fig("us_salient", r)
    for r in t["import_reliance.csv"]:
        if r["commodity_id"] not in commodities or r["importer"] not in countries:
            errors.append(f"import_reliance ref {r}")
        for s in filter(None, r["major_sources"].split(";")):
            if s not in countries:
                errors.append(f"import source {s}")
        fig("import_reliance", r)
    for r in t["governance.csv"]:
        if r["iso3"] not in countries:
            errors.append(f"governance iso3 {r['iso3']}")
        for d in WGI_DIMS:
            if r[d] and not (-5 <= Decimal(r[d]) <= 5):
                errors.append(f"governance range {r}")
    for r in t["usgs_t5.csv"]:
        if (r["commodity_id"], r["stage_id"]) not in stages:
            errors.append(f"t5 stage {r['commodity_id']}/{r['stage_id']}")
        if r["leading_entity"] and r["leading_entity"] not in countries:
            errors.append(f"t5 leading {r['leading_entity']}")
    for r in t["facts.csv"]:
        if r["commodity_id"] and r["commodity_id"] not in commodities:
            errors.append(f"fact commodity {r['commodity_id']}")
        if r["unit"] not in units:
            errors.append(f"fact unit {r['unit']}")
    for r in t["assumptions.csv"]:
        if r["unit"] and r["unit"] not in units:
            errors.append(f"assumption unit {r['unit']}")
    for r in t["groups.csv"]:
        if r["iso3"] not in countries:
            errors.append(f"group member {r['iso3']}")
    for r in t["country_aliases.csv"]:
        if r["entity_kind"] == "country" and r["entity"] not in countries:
            errors.append(f"alias country {r['entity']}")
    lower = Counter(r["alias"].lower() for r in t["country_aliases.csv"])
    errors += [f"alias duplicate (case-insensitive) {a}" for a, n in lower.items() if n > 1]
    for r in t["sectors.csv"]:
        if r["aggregate"] not in ("true", "false"):
            errors.append(f"sector aggregate {r['aggregate']}")
    for r in t["units.csv"]:
        if not Decimal(r["to_base"]) > 0:
            errors.append(f"unit to_base {r}")
    required = {"wgi_worst", "wgi_best", "wgi_scaled_max", "wgi_year", "default_year",
                "hhi_scale", "other_countries_in_hhi"}
    missing = required - {r["assumption_id"] for r in t["assumptions.csv"]}
    if missing:
        errors.append(f"missing assumptions {sorted(missing)}")
    if errors:
        raise ValueError("validation failed:\n  " + "\n  ".join(errors[:50]))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def build_all(raw: Path) -> tuple[dict[str, list[dict]], dict]:
    ctx = Ctx(raw)
    t: dict[str, list[dict]] = {}
    supply = build_world(ctx) + build_mcs2026(ctx) + build_iea_supply(ctx)
    fact_supply, fact_assumptions = build_fact_supply(ctx)
    t["supply.csv"] = supply + fact_supply
    t["facts.csv"] = build_facts(ctx)
    t["demand.csv"] = build_demand(ctx)
    salient_prices, salient_stats = build_salient(ctx)
    t["prices.csv"] = build_prices(ctx) + salient_prices
    t["us_salient.csv"] = salient_stats
    t["import_reliance.csv"] = build_import_reliance(ctx)
    t["usgs_t5.csv"] = build_t5(ctx)
    governance, wgi_code_of, dropped = build_governance(ctx)
    t["governance.csv"] = governance
    countries = []
    for c in ctx.entities.countries.values():
        row = {k: c[k] for k in HEADERS["countries.csv"]}
        row["wgi_code"] = wgi_code_of.get(c["iso3"], "")
        countries.append(row)
    t["countries.csv"] = countries
    t["country_aliases.csv"] = ctx.entities.alias_rows()
    t["commodities.csv"] = build_commodities(ctx)
    t["stages.csv"] = build_stages(ctx)
    t["sources.csv"] = read_map("sources.csv")
    t["units.csv"] = read_map("units.csv")
    t["groups.csv"] = read_map("groups.csv")
    t["sectors.csv"] = read_map("sectors.csv")
    t["assumptions.csv"] = read_map("assumptions.csv") + fact_assumptions
    # Every unit written anywhere must be in units.csv (checked in validate); conversely report
    # unused ones for information.
    validate(t)
    info = {"wgi_dropped": dropped}
    return t, info


def write_all(t: dict[str, list[dict]], out: Path) -> dict[str, int]:
    return {name: write_table(out, name, rows) for name, rows in sorted(t.items())}


# --------------------------------------------------------------------------------------------
# Table-5 cross-check (reads the written tables)
# --------------------------------------------------------------------------------------------


def crosscheck_t5(out: Path) -> list[dict]:
    """For each MCS2025 table-5 row with numbers, compare with supply.csv (usgs_mcs2025_world,
    2024, production): leading country's figure in t, the WORLD figure in t, and the rounded
    share. Returns one dict per T5 row with an 'outcome'."""
    units = {r["unit"]: Decimal(r["to_base"]) for r in read_csv(out / "units.csv")}
    base = {r["unit"]: r["base_unit"] for r in read_csv(out / "units.csv")}
    supply = read_csv(out / "supply.csv")
    idx = {}
    for r in supply:
        if r["source_id"] == "usgs_mcs2025_world" and r["year"] == "2024" and \
                r["metric"] == "production":
            idx[(r["commodity_id"], r["stage_id"], r["entity"])] = r
    res = []
    for t5 in read_csv(out / "usgs_t5.csv"):
        key = (t5["commodity_id"], t5["stage_id"])
        lead = idx.get(key + (t5["leading_entity"],))
        world = idx.get(key + ("WORLD",))

        def in_t(r):
            if r is None or r["value"] == "":
                return None
            if base[r["unit"]] != "t":
                raise ValueError(f"unit {r['unit']} is not a mass")
            return Decimal(r["value"]) * units[r["unit"]]

        lv, wv = in_t(lead), in_t(world)
        row = {"critical_mineral": t5["critical_mineral"], "commodity": key[0],
               "stage": key[1], "leader": t5["leading_entity"],
               "t5_leading": t5["leading_prod"], "supply_leading": fmt_num(lv),
               "t5_pct": t5["leading_pct"], "t5_world": t5["world_prod"],
               "supply_world": fmt_num(wv), "computed_pct": ""}
        if t5["leading_prod"] == "":
            row["outcome"] = ("both unavailable" if lv is None else
                              f"T5 NA but supply has {fmt_num(lv)}")
            if lead is not None:
                row["supply_status"] = lead["status"]
            res.append(row)
            continue
        problems = []
        if lv is None or lv != Decimal(t5["leading_prod"]):
            problems.append("leading figure differs")
        if wv is None or wv != Decimal(t5["world_prod"]):
            problems.append("world total differs")
        if lv is not None and wv:
            share = lv * 100 / wv
            rounded = int(share.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
            row["computed_pct"] = fmt_num(share.quantize(Decimal("0.01")))
            if rounded != int(Decimal(t5["leading_pct"])):
                problems.append(f"rounded share {rounded} != {t5['leading_pct']}")
        # is the T5 leader also the largest producer in supply.csv?
        rivals = [(Decimal(r["value"]) * units[r["unit"]], e) for (c, s, e), r in idx.items()
                  if (c, s) == key and r["entity_kind"] == "country" and r["value"]]
        if rivals and max(rivals)[1] != t5["leading_entity"]:
            problems.append(f"largest country in supply.csv is {max(rivals)[1]}")
        row["outcome"] = "agrees" if not problems else "; ".join(problems)
        res.append(row)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", default=str(DATA / "raw"), help="raw data folder (data/raw)")
    ap.add_argument("--out", default=str(DATA), help="output folder (data)")
    ap.add_argument("--check-t5", action="store_true", help="print the table-5 cross-check")
    ap.add_argument("--quiet", action="store_true", help="do not print row counts")
    args = ap.parse_args(argv)
    raw, out = Path(args.raw), Path(args.out)
    tables, info = build_all(raw)
    counts = write_all(tables, out)
    for name, n in counts.items():
        if not args.quiet:
            print(f"{name:22s} {n:6d} rows", file=sys.stderr)
    if info["wgi_dropped"] and not args.quiet:
        print("WGI entities without an ISO code (dropped): " + ", ".join(info["wgi_dropped"]),
              file=sys.stderr)
    if args.check_t5:
        for r in crosscheck_t5(out):
            print(f"{r['critical_mineral'][:36]:36s} {r['commodity']}/{r['stage']:9s} "
                  f"{r['leader']} T5 {r['t5_leading'] or 'NA':>10s} / {r['t5_world'] or 'NA':>10s}"
                  f" = {r['t5_pct'] or 'NA':>3s}%  supply {r['supply_leading'] or '-':>10s} / "
                  f"{r['supply_world'] or '-':>10s} = {r['computed_pct'] or '-':>6s}%  "
                  f"{r['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
