"""Tests of data/derive/derive.py: the raw-value parser on every known trap of the raw files,
the mappings that handle them, and byte-for-byte reproducibility of the committed tables.

Run from the repository root:  python3 -m unittest discover -s data/derive
"""

import csv
import sys
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import derive as d  # noqa: E402

RAW = HERE.parent / "raw"
DATA = HERE.parent

TABLES = None


def setUpModule():
    global TABLES
    TABLES, _ = d.build_all(RAW)


def rows(table, **where):
    return [r for r in TABLES[table] if all(str(r[k]) == str(v) for k, v in where.items())]


def one(table, **where):
    found = rows(table, **where)
    if len(found) != 1:
        raise AssertionError(f"{table} {where}: {len(found)} rows")
    return found[0]


class ParseValue(unittest.TestCase):
    """`parse_value` on every marker the raw files use (data/raw/PROVENANCE.md)."""

    def check(self, raw, status, value=None):
        p = d.parse_value(raw)
        self.assertEqual(p.status, status, raw)
        if value is None:
            self.assertIsNone(p.value, raw)
        else:
            self.assertEqual(p.value, Decimal(value), raw)

    def test_withheld(self):
        self.check("W", "withheld")

    def test_not_available(self):
        for raw in ["NA", "na", "..", "...", "\u2026", "", "  ", "XX", "xx"]:
            self.check(raw, "na")

    def test_dash_is_zero(self):
        self.check("\u2014", "zero", "0")  # em dash in the MCS2026 file
        self.check("- -", "zero", "0")  # EIA (the price builder turns it into na)
        self.check("0", "zero", "0")
        self.check("0.00", "zero", "0")

    def test_bounds(self):
        self.check(">75", "gt", "75")
        self.check("<25", "lt", "25")
        self.check("<100,000", "lt", "100000")
        self.check(">17,000,000", "gt", "17000000")
        self.check(">2000000", "gt", "2000000")
        self.check(">85,000,000", "gt", "85000000")

    def test_words(self):
        for raw in ["Large", "Moderate  ", "Small", "Very small", "Moderate to Large", "E"]:
            self.check(raw, "text")

    def test_less_than_half_unit(self):
        self.check("Less than \u00bd unit.", "lt", "0.5")
        self.check("Less than 1/2 unit", "lt", "0.5")

    def test_thousands_separator(self):
        self.check("226,000", "reported", "226000")
        self.check("1,700,000", "reported", "1700000")

    def test_unicode_minus(self):
        self.check("\u221216", "reported", "-16")  # tantalum government shipments
        self.check("-7", "reported", "-7")

    def test_decimals(self):
        self.check("43.80", "reported", "43.80")
        self.assertEqual(d.fmt_num(d.parse_value("43.80").value), "43.8")
        self.assertEqual(d.fmt_num(d.parse_value("1,000,000").value), "1000000")
        self.assertEqual(d.fmt_num(Decimal("1E+3")), "1000")
        self.assertEqual(d.fmt_num(Decimal("0.000001")), "0.000001")

    def test_unknown_token_raises(self):
        for raw in ["n.a.", "12abc", "Moderately large", "1.2.3", "W*", "approx. 5", ">"]:
            with self.assertRaises(d.UnknownToken, msg=raw):
                d.parse_value(raw)

    def test_never_zero_from_a_marker(self):
        for raw in ["W", "NA", "..", "\u2026", "Large", "E", ""]:
            self.assertIsNone(d.parse_value(raw).value, raw)


class Names(unittest.TestCase):
    def test_trailing_spaces(self):
        self.assertEqual(d.clean("Copper "), "Copper")
        self.assertEqual(d.clean("Barite  "), "Barite")
        ent = d.Entities(RAW)
        self.assertEqual(ent.resolve("Canada ", "test")[0], "CAN")
        self.assertEqual(ent.resolve("Russia ", "test")[0], "RUS")
        # the copper table ("Copper ") is read as copper, with Canada ("Canada ") as CAN
        self.assertTrue(rows("supply.csv", commodity_id="copper", entity="CAN",
                             source_id="usgs_mcs2025_world"))

    def test_footnote_digits(self):
        self.assertEqual(d.split_footnote("World total (rounded) 10"),
                         ("World total (rounded)", "10"))
        self.assertEqual(d.split_footnote("China3"), ("China", "3"))
        ent = d.Entities(RAW)
        self.assertEqual(ent.resolve("World total (rounded) 10", "test")[:2], ("WORLD", "world"))
        self.assertEqual(ent.resolve(" China3 ", "test")[:2], ("CHN", "country"))
        t5map = {r["critical_mineral"]: r for r in d.read_map("t5_map.csv")}
        m, note = d.t5_lookup("Rare earths (compounds and metals)9", t5map)
        self.assertEqual((m["commodity_id"], m["stage_id"]), ("rare_earths", "mining"))
        self.assertIn("footnote", note)
        # antimony world total (row 'World total (rounded) 10') lands on WORLD
        r = one("supply.csv", commodity_id="antimony", stage_id="mining", entity="WORLD",
                year=2024, metric="production", source_id="usgs_mcs2025_world")
        self.assertEqual(r["value"], "100000")
        # 'China3' in Fig. 2 source lists becomes CHN
        r = one("import_reliance.csv", commodity_id="garnet", source_id="usgs_mcs2025_fig2")
        self.assertEqual(r["major_sources"], "ZAF;AUS;IND;CHN")

    def test_usgs_country_names(self):
        ent = d.Entities(RAW)
        for name, iso3 in [("Congo (Kinshasa)", "COD"), ("Burma", "MMR"),
                           ("Korea, Republic of", "KOR"), ("Korea, North", "PRK"),
                           ("C\u00f4te d\u2019Ivoire", "CIV"), ("Turkey", "TUR"),
                           ("Democratic Republic of Congo", "COD"), ("Republic of Korea", "KOR")]:
            self.assertEqual(ent.resolve(name, "test")[0], iso3, name)
        with self.assertRaises(KeyError):
            ent.resolve("Atlantis", "test")

    def test_combined_rows_are_not_countries(self):
        r = one("supply.csv", commodity_id="abrasives_fused_alumina", entity="USA+CAN",
                year=2024, metric="capacity")
        self.assertEqual(r["entity_kind"], "group")


class WorldDataTraps(unittest.TestCase):
    def test_gemanium_is_germanium_and_withheld(self):
        c = one("commodities.csv", commodity_id="germanium")
        self.assertEqual(c["usgs_name"], "Gemanium")
        g = rows("supply.csv", commodity_id="germanium", source_id="usgs_mcs2025_world")
        self.assertEqual(len(g), 16)  # 8 rows x 2 production years
        for r in g:
            self.assertEqual((r["status"], r["value"]), ("withheld", ""))

    def test_molybdenum_vanadium_reserves_in_kt(self):
        for cid, ent, value in [("molybdenum", "USA", "3500"), ("molybdenum", "WORLD", "15000"),
                                ("vanadium", "WORLD", "18000"), ("vanadium", "CHN", "4100")]:
            r = one("supply.csv", commodity_id=cid, entity=ent, metric="reserves",
                    source_id="usgs_mcs2025_world")
            self.assertEqual((r["unit"], r["value"]), ("kt", value), (cid, ent))
        # production stays in t
        r = one("supply.csv", commodity_id="molybdenum", entity="CHN", metric="production",
                year=2024, source_id="usgs_mcs2025_world")
        self.assertEqual((r["unit"], r["value"]), ("t", "110000"))

    def test_cobalt_us_row_with_other_type(self):
        r = one("supply.csv", commodity_id="cobalt", stage_id="mining", entity="USA",
                year=2024, metric="production", source_id="usgs_mcs2025_world")
        self.assertEqual(r["value"], "300")
        self.assertIn("Mine production, estimated", r["note"])

    def test_sierra_leone_rutile_empty_unit(self):
        r = one("supply.csv", commodity_id="rutile", entity="SLE", year=2023,
                metric="production", source_id="usgs_mcs2025_world")
        self.assertEqual((r["unit"], r["value"]), ("kt", "110"))
        self.assertIn("UNIT_MEAS empty", r["note"])

    def test_markers_in_note_columns(self):
        # 'W for 23-24' -> withheld; 'Large' reserves -> text; 'Less than 1/2 unit' -> lt 0.5
        r = one("supply.csv", commodity_id="lithium", entity="USA", year=2024,
                metric="production", source_id="usgs_mcs2025_world")
        self.assertEqual((r["status"], r["value"]), ("withheld", ""))
        r = one("supply.csv", commodity_id="helium", entity="QAT", metric="reserves")
        self.assertEqual((r["status"], r["value"]), ("text", ""))
        r = one("supply.csv", commodity_id="helium", entity="ZAF", year=2024,
                metric="production")
        self.assertEqual((r["status"], r["value"]), ("lt", "0.5"))

    def test_reserve_bounds(self):
        r = one("supply.csv", commodity_id="niobium", entity="WORLD", metric="reserves")
        self.assertEqual((r["status"], r["value"], r["raw_value"]),
                         ("gt", "17000000", ">17,000,000"))

    def test_empty_cell_is_na_not_zero(self):
        r = one("supply.csv", commodity_id="copper", stage_id="mining", entity="DEU",
                year=2024, metric="production", source_id="usgs_mcs2025_world")
        self.assertEqual((r["status"], r["value"]), ("na", ""))

    def test_no_number_without_status(self):
        for table in ("supply.csv", "prices.csv", "us_salient.csv", "import_reliance.csv",
                      "demand.csv"):
            for r in TABLES[table]:
                has = r["value"] != ""
                self.assertEqual(has, r["status"] in d.WITH_VALUE, (table, r))


class OtherTraps(unittest.TestCase):
    def test_mcs2026_thousands_and_dash(self):
        r = one("supply.csv", commodity_id="cobalt", entity="COD", year=2024,
                metric="production", source_id="usgs_mcs2026_commodities")
        self.assertEqual(r["value"], "226000")
        r = one("supply.csv", commodity_id="rare_earths", entity="CAN", year=2025,
                metric="production", source_id="usgs_mcs2026_commodities")
        self.assertEqual((r["status"], r["value"], r["raw_value"]), ("zero", "0", "\u2014"))
        self.assertFalse(rows("supply.csv", commodity_id="antimony",
                              source_id="usgs_mcs2026_commodities"))

    def test_salient_units(self):
        r = one("us_salient.csv", commodity_id="rare_earths", series="NIR_Compounds-Metals",
                year=2024)
        self.assertEqual((r["unit"], r["value"]), ("pct", "80"))
        r = one("us_salient.csv", commodity_id="tantalum", series="Shipments_Gov", year=2020)
        self.assertEqual(r["value"], "-16")
        r = one("prices.csv", commodity_id="nd", series="Price_Nd2O3", period="2024")
        self.assertEqual((r["unit"], r["status"]), ("USD/kg", "estimated"))
        r = one("prices.csv", commodity_id="tb", series="Price_TbO2", period="2023")
        self.assertEqual(r["value"], "1298")

    def test_import_reliance_bounds_and_exporter(self):
        r = one("import_reliance.csv", commodity_id="beryllium", source_id="usgs_mcs2025_t5")
        self.assertEqual((r["status"], r["value"], r["raw_value"]), ("text", "", "E"))
        r = one("import_reliance.csv", commodity_id="zirconium", source_id="usgs_mcs2025_t5")
        self.assertEqual((r["status"], r["value"]), ("lt", "25"))
        self.assertEqual(len(rows("import_reliance.csv", source_id="usgs_mcs2025_fig2")), 64)

    def test_t5_na_row_keeps_raw(self):
        r = one("usgs_t5.csv", critical_mineral="Germanium")
        self.assertEqual((r["status"], r["leading_prod"], r["raw_leading_prod"]), ("na", "", "NA"))

    def test_eia_dashes_are_missing_prices(self):
        r = one("prices.csv", commodity_id="uranium", series="Purchased from U.S. producers",
                period="2004")
        self.assertEqual((r["status"], r["value"], r["raw_value"]), ("na", "", "- -"))

    def test_wgi_missing_and_codes(self):
        r = one("governance.csv", iso3="ROU", year=2023)
        self.assertNotEqual(r["va"], "")
        self.assertTrue(rows("governance.csv", iso3="XKX"))
        self.assertFalse(rows("governance.csv", iso3="ANT"))
        self.assertEqual(one("countries.csv", iso3="COD")["wgi_code"], "ZAR")

    def test_t5_crosscheck_agrees(self):
        with tempfile.TemporaryDirectory() as tmp:
            d.write_all(TABLES, Path(tmp))
            res = d.crosscheck_t5(Path(tmp))
        outcomes = {r["critical_mineral"]: r["outcome"] for r in res}
        self.assertEqual(len(outcomes), 31)
        unavailable = {k for k, v in outcomes.items() if v == "both unavailable"}
        self.assertEqual(unavailable, {"Germanium", "Scandium", "Yttrium"})
        disagree = {k: v for k, v in outcomes.items() if v not in ("agrees", "both unavailable")}
        self.assertEqual(disagree, {})


class Reproducible(unittest.TestCase):
    def test_rerun_reproduces_committed_tables(self):
        with tempfile.TemporaryDirectory() as tmp:
            d.main(["--raw", str(RAW), "--out", tmp, "--quiet"])
            for name in d.HEADERS:
                committed = (DATA / name).read_bytes()
                fresh = (Path(tmp) / name).read_bytes()
                self.assertEqual(committed, fresh, f"{name} differs from a fresh derivation")

    def test_headers(self):
        for name, header in d.HEADERS.items():
            with open(DATA / name, encoding="utf-8", newline="") as f:
                self.assertEqual(next(csv.reader(f)), header, name)


if __name__ == "__main__":
    unittest.main()
