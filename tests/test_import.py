"""``python -m helpers import``: the files people have -> a contract folder.

The sources are made here from the shipped data/ folder the way a city's files look: Excel
workbooks with Chinese headers (from the shipped example mapping), years written ``2021年``, counts
with thousands separators, shares as percentages, yes/no as 是/否, categories in Chinese; CSVs in
GBK, GB18030 and UTF-8 with BOM. Importing them must give files that pass ``validate`` and whose
tables, loaded through :mod:`helpers.data.load`, equal the shipped ones exactly.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import paths
from helpers.data import schema
from helpers.data.importing import EXAMPLE_MAPPING, ImportSetupError, import_folder, load_mapping
from helpers.data.importing.command import main as import_main
from helpers.data.importing.sources import decode
from helpers.data.importing.values import Cell, Target, Unconvertible, convert
from helpers.data.load import clear_cache, load_all

SHIPPED = paths.ROOT / "data"
CSV_TABLES = [n for n, t in schema.TABLES.items() if t.geometry is None]
LAYER_TABLES = [n for n, t in schema.TABLES.items() if t.geometry is not None]


# ----------------------------------------------------------------------------------------------------
# Making a city's files from the shipped data
# ----------------------------------------------------------------------------------------------------
def example_doc() -> dict:
    return yaml.safe_load(EXAMPLE_MAPPING.read_text(encoding="utf-8"))


def inverse(doc: dict, table: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """contract column -> source header, and contract column -> {contract value: first source value}."""
    headers, values = {}, {}
    for src, m in doc["tables"][table]["columns"].items():
        m = {"to": m} if isinstance(m, str) else m
        headers[m["to"]] = str(src)
        inv: dict[str, str] = {}
        for sv, cv in (m.get("values") or {}).items():
            inv.setdefault(str(cv), str(sv))
        values[m["to"]] = inv
    return headers, values


def shipped_rows(table: str) -> tuple[list[str], list[list[str]]]:
    with open(SHIPPED / schema.TABLES[table].file, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def thousands(text: str) -> str:
    return f"{int(text):,}"


def percent(text: str) -> str:
    return f"{Decimal(text).scaleb(2).normalize():f}%"


FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def messy_value(table: str, col: schema.Column, text: str, inv: dict[str, str], k: int, *, excel: bool):
    """The shipped value ``text`` written the way a city's file might hold it (row ``k`` varies the form)."""
    if text == "":
        return None if excel else ""
    if inv and text in inv:
        return inv[text]
    if col.dtype == "year" or col.unit == "year":
        return f"{text}年" if k % 2 == 0 else (int(text) if excel else text)
    if col.dtype == "bool":
        if table in ("communities", "organisations"):
            return {"1": "是", "0": "否"}[text]
        return int(text) if excel else text
    if col.dtype == "int":
        if int(text) >= 1000:
            return thousands(text)
        if not excel and k % 7 == 3:
            return text.translate(FULL)  # full-width digits
        return int(text) if excel else f" {text} " if k % 5 == 1 else text
    if col.dtype == "float":
        if col.name == "share_60plus":
            return percent(text)
        return float(text) if excel else text
    return text


def write_layers(dest: Path, doc: dict) -> None:
    """The shipped layers with Chinese attribute names and values (GeoJSON, as a city's GIS exports them)."""
    for table in LAYER_TABLES:
        spec = doc["tables"][table]
        headers, values = inverse(doc, table)
        obj = json.loads((SHIPPED / schema.TABLES[table].file).read_text(encoding="utf-8"))
        for f in obj["features"]:
            f["properties"] = {headers[c]: (values[c].get(str(v), v) if values[c] else v)
                               for c, v in f["properties"].items()}
        path = dest / spec["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def write_excel_city(dest: Path) -> Path:
    """A folder laid out as the example mapping says -- .xlsx workbooks, the survey as a UTF-8 CSV,
    GeoJSON layers -- and the mapping for it (the example with one change); returns the mapping path."""
    import openpyxl

    doc = example_doc()
    dest.mkdir(parents=True, exist_ok=True)
    write_layers(dest, doc)
    doc["tables"]["assessment"]["header_row"] = 3  # a title and a blank row above the header
    for table in CSV_TABLES:
        spec = doc["tables"][table]
        headers, values = inverse(doc, table)
        header, rows = shipped_rows(table)
        cols = [schema.TABLES[table].column(c) for c in header]
        if spec["file"].endswith(".csv"):
            with open(dest / spec["file"], "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow([headers[c] for c in header])
                w.writerows([messy_value(table, c, t, values[c.name], k, excel=False) for c, t in zip(cols, r)]
                            for k, r in enumerate(rows))
            continue
        wb = openpyxl.Workbook()  # not write_only: that mode omits the sheet size Excel always records
        ws = wb.active
        ws.title = spec.get("sheet") or "Sheet1"
        if table == "communities":
            wb.create_sheet("填表说明").append(["本表由社区填报"])
        if spec.get("header_row", 1) == 3:
            ws.append(["2018-2024年社区考核得分"])
            ws.append([])
        ws.append([headers[c] for c in header])
        pct = [j + 1 for j, c in enumerate(cols) if c.name == "migrant_share"]
        for k, r in enumerate(rows):
            out = []
            for c, text in zip(cols, r):
                v = messy_value(table, c, text, values[c.name], k, excel=True)
                if c.name == "migrant_share":  # a number cell formatted as a percentage (holds the share)
                    v = float(text)
                elif c.name == "platform_year" and text and k % 3 == 0:
                    v = dt.datetime(int(text), 1, 1)  # an Excel date where a year is wanted
                out.append(v)
            ws.append(out)
            for j in pct:
                ws.cell(row=ws.max_row, column=j).number_format = "0.00%"
        wb.save(dest / spec["file"])
    mapping = dest.parent / f"{dest.name}.yaml"
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return mapping


#: table -> encoding of its CSV in the GBK test folder
CSV_ENCODINGS = {"communities": "gbk", "platform": "gbk", "organisations": "gb18030", "members": "gb18030",
                 "joint_building": "utf-8", "assessment": "gbk", "survey": "utf-8-sig", "population": "gbk"}


def write_csv_city(dest: Path) -> Path:
    """A folder of CSVs in GBK, GB18030 and UTF-8 with BOM (plus the layers); returns the mapping path."""
    doc = example_doc()
    dest.mkdir(parents=True, exist_ok=True)
    write_layers(dest, doc)
    for table in CSV_TABLES:
        spec = doc["tables"][table]
        spec.pop("sheet", None)
        spec["file"] = f"{table}_{CSV_ENCODINGS[table]}.csv"
        headers, values = inverse(doc, table)
        header, rows = shipped_rows(table)
        cols = [schema.TABLES[table].column(c) for c in header]
        out_header = [headers[c] for c in header]
        extra = CSV_ENCODINGS[table] == "gb18030"
        if extra:  # a column the mapping does not use, holding characters outside GBK
            out_header.append("备注")
        lines = []
        for k, r in enumerate(rows):
            row = [messy_value(table, col, text, values[col.name], k, excel=False) for col, text in zip(cols, r)]
            if extra:
                row.append("𠮷䶮" if k % 10 == 0 else "")
            lines.append(row)
        with open(dest / spec["file"], "w", encoding=CSV_ENCODINGS[table], newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(out_header)
            w.writerows(lines)
    mapping = dest.parent / f"{dest.name}.yaml"
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return mapping


def assert_same_tables(out: Path) -> None:
    """Every table of ``out`` equals the shipped one, loaded through helpers.data.load: values exactly."""
    import shapely

    clear_cache()
    got, want = load_all(out), load_all(SHIPPED)
    for name in schema.TABLES:
        g, w = got[name], want[name]
        cols = schema.TABLES[name].column_names
        pd.testing.assert_frame_equal(pd.DataFrame(g[cols]), pd.DataFrame(w[cols]), check_exact=True, obj=name)
        if "geometry" in w:
            assert g.crs == w.crs, name
            same = shapely.equals_exact(np.asarray(g.geometry.values), np.asarray(w.geometry.values), tolerance=0)
            assert same.all(), f"{name}: {int((~same).sum())} geometries differ"


# ----------------------------------------------------------------------------------------------------
# (a) Excel workbooks, (b) GBK/GB18030/UTF-8 CSVs: import, validate, equal to the shipped tables
# ----------------------------------------------------------------------------------------------------
def test_excel_workbooks_with_chinese_headers_import_to_the_shipped_tables(tmp_path, capsys):
    mapping = write_excel_city(tmp_path / "city")
    out = tmp_path / "out"
    rc = import_main([str(tmp_path / "city"), "--mapping", str(mapping), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "PASSED" in text
    # conversions are reported per file and column, counted (the counts follow from the shipped data)
    n_members = len(shipped_rows("members")[1])
    lines = text.splitlines()
    assert f"  年份 -> year: year suffix removed (2021年 -> 2021): {(n_members + 1) // 2} (e.g. '2018年' -> 2018)" \
        in lines
    header, rows = shipped_rows("communities")
    college = Counter(r[header.index("has_college")] for r in rows)
    assert (f"  辖区内有高校 -> has_college: yes/no words -> 1/0: 否 -> 0 ({college['0']}), 是 -> 1 ({college['1']})"
            in lines)
    n = len(rows)
    first60, first_migrant = rows[0][header.index("share_60plus")], rows[0][header.index("migrant_share")]
    assert (f"  60岁以上占比 -> share_60plus: percentage -> share (22.4% -> 0.224): {n} "
            f"(e.g. '{percent(first60)}' -> {first60})") in lines
    assert (f"  流动人口占比 -> migrant_share: Excel percentage cell (already a share): {n} "
            f"(e.g. {first_migrant} -> {first_migrant})") in lines
    platform = [r[1] for r in shipped_rows("platform")[1]]
    as_dates = sum(1 for k, y in enumerate(platform) if y and k % 3 == 0)
    assert any(x.startswith(f"  平台建立年份 -> platform_year: Excel date -> year: {as_dates} (e.g. ") and
               x.endswith(f"; {platform.count('')} empty cells -> missing") for x in lines)
    assert "社区基本情况.xlsx, sheet '社区基本情况' (header row 1): 1320 rows read = 1320 written + 0 rejected" in text
    assert "assessment <- 考核得分.xlsx, sheet 'Sheet1' (header row 3)" in text
    assert_same_tables(out)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is False and meta["files"]["members.csv"]["rows"] == n_members
    assert (out / "_import" / "report.txt").is_file() and (out / "_import" / "mapping.yaml").is_file()


def test_gbk_gb18030_and_bom_csvs_import_to_the_shipped_tables(tmp_path):
    mapping = write_csv_city(tmp_path / "city")
    res = import_folder(tmp_path / "city", mapping, tmp_path / "out")
    assert res.ok, res.format() + "\n" + res.validation.format()
    enc = {n: t.sheet.encoding for n, t in res.tables.items() if n in CSV_TABLES}
    assert enc == {"communities": "GBK", "platform": "GBK",
                   "organisations": "GB18030", "members": "GB18030", "joint_building": "UTF-8",
                   "assessment": "GBK", "survey": "UTF-8 with BOM", "population": "GBK"}
    lines = "\n".join(res.conversion_lines())
    assert "  encoding: GB18030" in lines
    assert "source columns not used: 备注" in lines
    assert any(x.startswith("  社区工作者人数 -> staff: ") and "full-width characters -> ASCII: " in x
               for x in lines.splitlines())
    assert "spaces trimmed" in lines
    assert_same_tables(tmp_path / "out")


# ----------------------------------------------------------------------------------------------------
# (c) values that cannot be converted: exact messages, nothing written; --keep-going
# ----------------------------------------------------------------------------------------------------
def small_city(dest: Path, rows: list[list]) -> Path:
    """communities only, in one workbook with the example's headers; returns the mapping."""
    import openpyxl

    doc = example_doc()
    doc["tables"] = {"communities": doc["tables"]["communities"]}
    headers, _ = inverse(doc, "communities")
    dest.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "社区基本情况"
    ws.append([headers[c] for c in schema.COMMUNITIES.column_names])
    for r in rows:
        ws.append(r)
    wb.save(dest / "社区基本情况.xlsx")
    mapping = dest.parent / "small.yaml"
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return mapping


GOOD = ["C001", "社区", "城镇", "4,436", 1539, "22.43%", 0.1074, "否", 4, 38.28]


def test_unconvertible_values_are_listed_exactly_and_nothing_is_written(tmp_path, capsys):
    bad1 = list(GOOD)
    bad1[0], bad1[3] = "C002", "约4千"            # a non-number in a count column
    bad2 = list(GOOD)
    bad2[0], bad2[5] = "C003", "120%"             # a percentage above 100 in a share column
    bad3 = list(GOOD)
    bad3[0], bad3[5] = "C004", 22.4                # a plain number above 1 in a share column
    mapping = small_city(tmp_path / "src", [GOOD, bad1, bad2, bad3])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("already here")
    rc = import_main([str(tmp_path / "src"), "--mapping", str(mapping), "--out", str(out), "--overwrite"])
    text = capsys.readouterr().out
    assert rc == 1
    where = "社区基本情况.xlsx, sheet '社区基本情况'"
    assert (f"  {where}, row 3, column D '常住人口' -> population: cannot convert '约4千': rule 'whole number': "
            "not a number; write a whole number such as 1234 or 1,234") in text.splitlines()
    assert (f"  {where}, row 4, column F '60岁以上占比' -> share_60plus: cannot convert '120%': rule 'share 0-1': "
            "120% is outside 0-100%; correct the value") in text.splitlines()
    assert (f"  {where}, row 5, column F '60岁以上占比' -> share_60plus: cannot convert 22.4: rule 'share 0-1': "
            "a plain number above 1 in a share (0-1) column; write it as a percentage (22.4%) or a share "
            "(0.224), or set percent: true for this column in the mapping if every value is a percentage"
            ) in text.splitlines()
    assert "3 values could not be converted." in text
    # the destination is untouched, and no temporary folder is left behind
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.yaml", "src"]


def test_keep_going_writes_the_rest_and_accounts_for_every_row(tmp_path):
    bad = list(GOOD)
    bad[0], bad[3] = "C002", "n/a"
    mapping = small_city(tmp_path / "src", [GOOD, bad, [None] * 10, ["C003"] + GOOD[1:]])
    res = import_folder(tmp_path / "src", mapping, tmp_path / "out", keep_going=True)
    ti = res.tables["communities"]
    assert (ti.rows_read, ti.written, ti.n_rejected, ti.sheet.blank_rows) == (3, 2, 1, 1)
    with open(tmp_path / "out" / "communities.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == schema.COMMUNITIES.column_names
    assert rows[1:] == [["C001", "community", "1", "4436", "1539", "0.2243", "0.1074", "0", "4", "38.28"],
                        ["C003", "community", "1", "4436", "1539", "0.2243", "0.1074", "0", "4", "38.28"]]
    with open(tmp_path / "out" / "_import" / "communities.rejected.csv", encoding="utf-8", newline="") as f:
        rej = list(csv.DictReader(f))
    assert len(rej) == 1
    assert (rej[0]["_file"], rej[0]["_sheet"], rej[0]["_row"], rej[0]["常住人口"]) == \
        ("社区基本情况.xlsx", "社区基本情况", "3", "n/a")
    assert rej[0]["_reason"].startswith("population <- '常住人口' 'n/a': whole number: not a number")
    assert "--keep-going: 1 rows with such values were rejected" in res.format()


def test_percent_true_reads_plain_numbers_as_percentages(tmp_path):
    row = list(GOOD)
    row[5] = 22.43
    mapping = small_city(tmp_path / "src", [row])
    doc = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    doc["tables"]["communities"]["columns"]["60岁以上占比"] = {"to": "share_60plus", "percent": True}
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    res = import_folder(tmp_path / "src", mapping, tmp_path / "out", validate=False)
    assert res.written and res.tables["communities"].rows[0][5] == "0.2243"


# ----------------------------------------------------------------------------------------------------
# (d) the example mapping, and one-line errors for a broken mapping or source
# ----------------------------------------------------------------------------------------------------
def test_example_mapping_covers_the_contract():
    m = load_mapping(EXAMPLE_MAPPING)  # raises unless every contract column is mapped or listed absent
    assert list(m.tables) == list(schema.TABLES)
    for name, tm in m.tables.items():
        mapped = [c.to for c in tm.columns]
        assert sorted(mapped + list(tm.absent)) == sorted(tm.table.column_names), name
        for cm in tm.columns:  # Chinese sources do not hold the English category codes: map them all
            col = cm.target.column
            if col.dtype == "category":
                assert set(cm.target.values.values()) == set(col.categories), (name, col.name)
    assert "import_mapping_example.yaml" in subprocess.run(
        [sys.executable, "-m", "helpers", "import", "--help"], capture_output=True, text=True, check=True).stdout


def _errors(tmp_path, mapping_text: str, capsys) -> list[str]:
    src = tmp_path / "src"
    if not src.exists():
        small_city(src, [GOOD])
    mp = tmp_path / "m.yaml"
    mp.write_text(mapping_text, encoding="utf-8")
    rc = import_main([str(src), "--mapping", str(mp), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert rc == 2 and not (tmp_path / "out").exists()
    return err


COLS = {"社区编码": "community_id", "社区类型": {"to": "kind", "values": {"社区": "community"}},
        "城乡属性": {"to": "urban", "values": {"城镇": 1, "农村": 0}}, "常住人口": "population", "户数": "households",
        "60岁以上占比": "share_60plus", "流动人口占比": "migrant_share", "辖区内有高校": "has_college",
        "社区工作者人数": "staff", "服务经费(万元)": "funding_10k_yuan"}


def _mapping(columns=None, table="communities", file="社区基本情况.xlsx") -> str:
    return yaml.safe_dump({"tables": {table: {"file": file, "columns": columns or COLS}}}, allow_unicode=True)


def test_mapping_and_source_errors_are_one_line_each(tmp_path, capsys):
    p = "python -m helpers import: error: "
    # a column absent from the source: file, sheet, headers found, a close match
    cols = dict(COLS)
    cols["常驻人口"] = cols.pop("常住人口")
    err = _errors(tmp_path, _mapping(cols), capsys)
    assert err[0] == (p + "社区基本情况.xlsx, sheet '社区基本情况': the mapping names column '常驻人口' (-> population, "
                      "table communities) but the header (row 1) has no such column; did you mean '常住人口'? Headers "
                      "found: '社区编码', '社区类型', '城乡属性', '常住人口', '户数', '60岁以上占比', '流动人口占比', "
                      "'辖区内有高校', '社区工作者人数', '服务经费(万元)'. Fix the mapping or header_row.")
    # a source file missing
    err = _errors(tmp_path, _mapping(file="社区情况.xlsx"), capsys)
    assert err[0].startswith(p + "社区情况.xlsx (for table communities): no such file in ")
    assert err[0].endswith("files there: 社区基本情况.xlsx; did you mean '社区基本情况.xlsx'?")
    # two source columns mapped to one contract column
    cols = dict(COLS)
    cols["户数"] = "population"
    err = _errors(tmp_path, _mapping(cols), capsys)
    assert any(e.endswith("column '户数': the source columns '常住人口' and '户数' are both mapped to 'population'; "
                          "map one of them") for e in err)
    # an unknown contract table, an unknown contract column
    err = _errors(tmp_path, _mapping(table="community"), capsys)
    assert err[0].startswith(p) and "table 'community': not a table of the data contract (did you mean " in err[0]
    cols = dict(COLS)
    cols["户数"] = "household"
    err = _errors(tmp_path, _mapping(cols), capsys)
    assert any(e.endswith("column '户数': 'household' is not a column of communities (did you mean 'households'?); "
                          "columns: " + ", ".join(schema.COMMUNITIES.column_names)) for e in err)
    # a contract column neither mapped nor declared absent
    cols = dict(COLS)
    del cols["社区工作者人数"]
    err = _errors(tmp_path, _mapping(cols), capsys)
    assert any("contract column staff not mapped; map each to a source column, or list it under absent:" in e
               for e in err)
    # the same source key twice in the YAML (PyYAML would silently keep the last)
    text = _mapping().replace("  户数: households\n", "  户数: households\n      户数: households\n")
    assert text.count("户数:") == 2
    err = _errors(tmp_path, text, capsys)
    assert "the key '户数' appears twice" in err[0]


def test_source_errors_raise_before_anything_is_written(tmp_path):
    mapping = small_city(tmp_path / "src", [GOOD])
    doc = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    doc["tables"]["communities"]["sheet"] = "社区"
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ImportSetupError, match=r"社区基本情况.xlsx: no sheet '社区' \(for table communities\); "
                                                r"sheets: 社区基本情况; did you mean '社区基本情况'\?"):
        import_folder(tmp_path / "src", mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------------
# Units: encodings, cell rules, layers
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, label", [
    ("社区,常住人口\n".encode("gbk"), "GBK"),
    ("社区,𠮷\n".encode("gb18030"), "GB18030"),
    ("社区,常住人口\n".encode("utf-8"), "UTF-8"),
    ("\ufeff社区,常住人口\n".encode("utf-8"), "UTF-8 with BOM"),
    ("社区\t常住人口\n".encode("utf-16"), "UTF-16"),
])
def test_encodings_are_detected_and_named(data, label):
    text, enc = decode(data, "f.csv")
    assert enc == label and text.startswith("社区")


def test_undecodable_bytes_are_a_one_line_error():
    from helpers.data.importing.sources import SourceError

    with pytest.raises(SourceError, match=r"^f.csv: not UTF-8, GBK or GB18030 text \(first bad byte for UTF-8 "
                                          r"at line 2, byte 4\)"):
        decode(b"a,b\n\x81\x20\xff\n", "f.csv")


def col(dtype, **kw):
    return schema.Column("x", dtype, "test", **kw)


SHARE = schema.COMMUNITIES.column("share_60plus")
YEAR = schema.MEMBERS.column("year")
COUNT = schema.COMMUNITIES.column("population")
FOUNDED = schema.ORGANISATIONS.column("year_founded")


@pytest.mark.parametrize("cell, target, expected", [
    (Cell("2021年"), Target(YEAR), "2021"),
    (Cell("２０２１年度"), Target(YEAR), "2021"),
    (Cell(2021.0), Target(YEAR), "2021"),
    (Cell(dt.datetime(2019, 6, 30)), Target(FOUNDED), "2019"),
    (Cell(dt.datetime(1905, 7, 13)), Target(YEAR), "2021"),   # 2021 typed into a date-formatted cell
    (Cell(dt.datetime(1920, 1, 1)), Target(FOUNDED), "1920"),
    (Cell("1,234"), Target(COUNT), "1234"),
    (Cell("１，２３４"), Target(COUNT), "1234"),
    (Cell(" 12\u3000"), Target(COUNT), "12"),
    (Cell(12.0), Target(COUNT), "12"),
    (Cell("22.4%"), Target(SHARE), "0.224"),
    (Cell("22.43 ％"), Target(SHARE), "0.2243"),
    (Cell("0.224"), Target(SHARE), "0.224"),
    (Cell(0.224, percent_format=True), Target(SHARE, percent=True), "0.224"),
    (Cell(22.4), Target(SHARE, percent=True), "0.224"),
    (Cell("是"), Target(col("bool")), "1"),
    (Cell("否"), Target(col("bool")), "0"),
    (Cell(True), Target(col("bool")), "1"),
    (Cell(""), Target(COUNT), ""),
    (Cell("  "), Target(COUNT), ""),
    (Cell(None), Target(COUNT), ""),
    (Cell(110101001), Target(col("str")), "110101001"),
    (Cell("Ｄ０１"), Target(schema.DISTRICTS.column("district_id")), "D01"),
    (Cell("不详"), Target(COUNT, values={"不详": None}), ""),
    (Cell("4,436 人"), Target(COUNT, suffixes=("人",)), "4436"),
    (Cell("2021年"), Target(YEAR, suffixes=("人",)), "2021"),
    (Cell(1), Target(schema.DISTRICTS.column("zone"), values={"1": "core"}), "core"),
])
def test_cell_conversions(cell, target, expected):
    assert convert(cell, target)[0] == expected


@pytest.mark.parametrize("cell, target, rule", [
    (Cell("abc"), Target(COUNT), "whole number"),
    (Cell("12.5"), Target(COUNT), "whole number"),
    (Cell("1,23"), Target(COUNT), "whole number"),       # not a thousands separator: ambiguous
    (Cell("22.4"), Target(SHARE), "share 0-1"),          # never a silent /100
    (Cell("120%"), Target(SHARE), "share 0-1"),
    (Cell("-5%"), Target(SHARE), "share 0-1"),
    (Cell("45%"), Target(COUNT), "percent sign"),
    (Cell("21年"), Target(YEAR), "year"),
    (Cell("2"), Target(col("bool")), "0/1 (yes/no)"),
    (Cell("也许"), Target(col("bool")), "0/1 (yes/no)"),
    (Cell("社区"), Target(schema.COMMUNITIES.column("kind")), "categories"),
    (Cell(dt.datetime(2020, 1, 1)), Target(COUNT), "Excel date"),
    (Cell("#DIV/0!"), Target(COUNT), "Excel error value"),
    (Cell("#N/A"), Target(schema.DISTRICTS.column("name_zh")), "Excel error value"),
    (Cell("4436人"), Target(COUNT), "whole number"),      # a unit is removed only where the mapping says
    (Cell("38元"), Target(COUNT, suffixes=("万元",)), "whole number"),
])
def test_cells_that_cannot_be_converted(cell, target, rule):
    with pytest.raises(Unconvertible) as e:
        convert(cell, target)
    assert e.value.rule == rule


def test_shapefile_in_degrees_is_reprojected_and_renamed(tmp_path):
    """A GBK shapefile in longitude/latitude with short Chinese field names -> EPSG:4548 GeoJSON."""
    import geopandas as gpd
    import shapely

    shp = gpd.read_file(SHIPPED / "districts.geojson").rename(
        columns={"district_id": "区县代码", "name_en": "英文名", "name_zh": "区县名称", "zone": "区域类型"})
    shp["区域类型"] = shp["区域类型"].map({"core": "中心城区", "inner_suburb": "近郊区", "outer_county": "远郊区县"})
    src = tmp_path / "src"
    src.mkdir()
    shp.to_crs("EPSG:4326").to_file(src / "区县.shp", encoding="gbk")
    (src / "区县.cpg").unlink(missing_ok=True)  # as old ArcGIS exports: no code page file
    doc = {"tables": {"districts": {"file": "区县.shp", "encoding": "gbk", "to_crs": "EPSG:4548", "columns": {
        "区县代码": "district_id", "英文名": "name_en", "区县名称": "name_zh",
        "区域类型": {"to": "zone", "values": {"中心城区": "core", "近郊区": "inner_suburb", "远郊区县": "outer_county"}}}}}}
    mp = tmp_path / "m.yaml"
    mp.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    res = import_folder(src, mp, tmp_path / "out", validate=False)
    got = gpd.read_file(tmp_path / "out" / "districts.geojson")
    want = gpd.read_file(SHIPPED / "districts.geojson")
    assert got.crs.to_epsg() == 4548
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(want.drop(columns="geometry")))
    # reprojected there and back: within a millimetre of the shipped vertices
    assert shapely.hausdorff_distance(np.asarray(got.geometry.values), np.asarray(want.geometry.values)).max() < 1e-3
    assert "CRS: EPSG:4326 -> EPSG:4548" in "\n".join(res.conversion_lines())
    # a layer in degrees without to_crs is refused before anything is written
    del doc["tables"]["districts"]["to_crs"]
    mp.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ImportSetupError, match="not projected in metres; add to_crs:"):
        import_folder(src, mp, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_validation_failures_point_back_to_the_source_rows(tmp_path, capsys):
    """The import converts; the validator judges. Its row numbers are traced back to the workbook."""
    row = list(GOOD)
    row[4] = 9999  # more households than residents: a contract rule, not a conversion problem
    mapping = small_city(tmp_path / "src", [GOOD, [None] * 10, ["C002"] + row[1:]])
    rc = import_main([str(tmp_path / "src"), "--mapping", str(mapping), "--out", str(tmp_path / "out")])
    text = capsys.readouterr().out
    assert rc == 1 and "FAILED" in text
    # (the validator's own wording is its business; its row 2 is the workbook's row 4)
    assert any(x.startswith("communities.csv: error: row 2 (community_id C002)") and "households" in x
               for x in text.splitlines())
    assert ("  communities.csv: data rows map to rows of 社区基本情况.xlsx, sheet '社区基本情况' as listed in "
            f"{tmp_path / 'out' / '_import' / 'communities.rows.csv'}") in text.splitlines()
    with open(tmp_path / "out" / "_import" / "communities.rows.csv", encoding="utf-8") as f:
        assert f.read() == "data_row,source_row\n1,2\n2,4\n"


def test_vertically_merged_cells_give_every_row_their_value(tmp_path):
    """Chinese tables merge a category over its rows: each row gets the value, and it is counted."""
    import openpyxl

    mapping = small_city(tmp_path / "src", [GOOD, ["C002", None] + GOOD[2:], ["C003", "村"] + GOOD[2:]])
    book = tmp_path / "src" / "社区基本情况.xlsx"
    wb = openpyxl.load_workbook(book)
    wb.active.merge_cells("B2:B3")  # 社区类型 of C001 and C002
    wb.save(book)
    res = import_folder(tmp_path / "src", mapping, tmp_path / "out", validate=False)
    ti = res.tables["communities"]
    assert [r[1] for r in ti.rows] == ["community", "community", "village"]
    assert ti.conversions[("社区类型", "kind", "merged cell: value of the merge's first cell")] == 1
    assert any(x.startswith("  社区类型 -> kind: merged cell: value of the merge's first cell: 1 (e.g. '社区' -> "
                            "community)") for x in res.conversion_lines())


def test_service_points_from_a_spreadsheet_with_longitude_latitude(tmp_path):
    """Points listed in a workbook with 经度/纬度 become the point layer, reprojected to metres."""
    import geopandas as gpd
    import openpyxl
    import shapely

    doc = example_doc()
    want = gpd.read_file(SHIPPED / "service_points.geojson")
    lonlat = want.to_crs("EPSG:4326")
    headers, values = inverse(doc, "service_points")
    src = tmp_path / "src"
    src.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    names = schema.SERVICE_POINTS.column_names
    ws.append([headers[c] for c in names] + ["经度", "纬度"])
    for (_i, r), g in zip(want.iterrows(), lonlat.geometry):
        ws.append([values[c].get(str(r[c]), r[c]) if values[c] else r[c] for c in names] + [g.x, g.y])
    ws.append(["P99999", "D01S01C001", "社区党群服务站", 2020, *([1] * 8), "东经117度", 31.2])
    wb.save(src / "党群服务阵地.xlsx")
    spec = doc["tables"]["service_points"]
    spec.update({"file": "党群服务阵地.xlsx", "x": "经度", "y": "纬度", "crs": "EPSG:4326", "to_crs": "EPSG:4548"})
    mp = tmp_path / "m.yaml"
    mp.write_text(yaml.safe_dump({"tables": {"service_points": spec}}, allow_unicode=True), encoding="utf-8")
    res = import_folder(src, mp, tmp_path / "out", validate=False)
    assert [b.line() for b in res.bad] == [
        f"党群服务阵地.xlsx, sheet 'Sheet', row {len(want) + 2}, column M '经度' -> geometry x: cannot convert "
        "'东经117度': rule 'number': not a number; write a number such as 12.5 or 1,234.5"]
    assert not (tmp_path / "out").exists()
    res = import_folder(src, mp, tmp_path / "out", validate=False, keep_going=True)
    got = gpd.read_file(tmp_path / "out" / "service_points.geojson")
    assert len(got) == len(want) and got.crs.to_epsg() == 4548
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(want.drop(columns="geometry")))
    assert shapely.distance(np.asarray(got.geometry.values), np.asarray(want.geometry.values)).max() < 1e-3


def test_two_tables_from_one_layer_boundaries_and_attributes(tmp_path):
    """A community layer that carries the attributes too feeds both community tables."""
    doc = example_doc()
    b_head, _ = inverse(doc, "community_boundaries")
    a_head, a_vals = inverse(doc, "communities")
    header, rows = shipped_rows("communities")
    attrs = {r[0]: dict(zip(header, r)) for r in rows}
    obj = json.loads((SHIPPED / "communities.geojson").read_text(encoding="utf-8"))
    for f in obj["features"]:
        p = f["properties"]
        a = attrs[p["community_id"]]
        f["properties"] = {b_head[c]: v for c, v in p.items()} | {
            a_head[c]: (a_vals[c].get(a[c], a[c]) if a_vals[c] else float(a[c]))
            for c in header if c != "community_id"}
    src = tmp_path / "src"
    src.mkdir()
    (src / "社区.geojson").write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    spec_b = doc["tables"]["community_boundaries"] | {"file": "社区.geojson"}
    spec_a = {k: v for k, v in doc["tables"]["communities"].items() if k != "sheet"} | {"file": "社区.geojson"}
    mp = tmp_path / "m.yaml"
    mp.write_text(yaml.safe_dump({"tables": {"community_boundaries": spec_b, "communities": spec_a}},
                                 allow_unicode=True), encoding="utf-8")
    res = import_folder(src, mp, tmp_path / "out", validate=False)
    assert res.written and not res.bad
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "communities.csv"),
                                  pd.read_csv(SHIPPED / "communities.csv"), check_exact=True)
    assert "source columns not used: 社区类型" in "\n".join(res.conversion_lines())  # in the boundaries' table
