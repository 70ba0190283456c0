"""Check a data folder against the data contract (:mod:`helpers.data.schema`).

Command line::

    python -m helpers validate DIR [--quarantine OUT_DIR] [--max-lines N]

exits 0 when the folder passes, 1 when it does not and 2 on usage errors.
Python::

    report = validate_dir("data")
    report.ok, report.counts, print(report.format())

Every problem is one line naming the file, the column, the row(s) and key(s)
and the rule, and says what to do. Many rows breaking the same rule in the same
column become one grouped line with the count and the first few rows.

Row numbers count *data* rows from 1 (the header is not counted, so in a
spreadsheet row N is on line N + 1); in a GeoJSON file the row is the
feature's position (1 = first feature).

Problems are *errors* (the folder fails) or *warnings* (worth a look, the
folder still passes). Errors are *file-level* (the table cannot be used:
missing file or column, bad encoding, unparseable, wrong CRS ...) or
*row-level* (a value or row breaks a rule). :mod:`helpers.data.load` can set
rows with row-level errors aside (quarantine) and load the rest.
"""
from __future__ import annotations

import argparse
import codecs
import csv
import difflib
import hashlib
import io
import json
import math
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import schema
from helpers.data.schema import Column, Table

#: Polygons may stick out of their parent by at most this area (slivers from rounding to 1 m).
NEST_TOLERANCE_M2: float = 1.0
#: A service point may lie at most this far outside its community polygon.
POINT_TOLERANCE_M: float = 1.0
#: Rows/keys/values quoted on a grouped problem line.
EXAMPLES: int = 3
#: Files beside the tables that are not tables (never reported as unknown).
KNOWN_EXTRA_FILES: frozenset[str] = frozenset(
    {schema.GROUND_TRUTH_FILE, schema.METADATA_FILE, "README.md", ".gitattributes", ".gitkeep"}
)

ROW_NOTE = ("Row numbers count data rows from 1 (the header is not counted: in a spreadsheet, "
            "row N is on line N+1); in GeoJSON files the row is the feature's position.")


@dataclass(frozen=True)
class Implied:
    """A rule implied by a column description: when ``if_column`` is one of ``if_values``,
    ``then_column`` must be ``"present"`` or ``"empty"``. Checked like a row rule."""

    table: str
    if_column: str
    if_values: tuple
    then_column: str
    must: str  # "present" | "empty"
    description: str


#: Rules stated in column descriptions of :mod:`helpers.data.schema` ("empty if ..."), checked on every row.
IMPLIED_RULES: tuple[Implied, ...] = (
    Implied("organisations", "party_org_mode", ("own", "joint"), "party_org_year", "present",
            "an organisation with a party organisation has the year it was set up"),
    Implied("organisations", "party_org_mode", ("none",), "party_org_year", "empty",
            "an organisation without a party organisation has no party_org_year"),
    Implied("survey", "responded", (1,), "weight", "present", "respondents have a design weight"),
    Implied("survey", "responded", (0,), "weight", "empty", "nonrespondents have no design weight"),
    Implied("survey", "complaint_made", (0,), "complaint_resolved", "empty",
            "complaint_resolved is empty when no complaint was made"),
    *(Implied("survey", "responded", (0,), c, "empty", "nonrespondents have no answers")
      for c in ("age", "sex", "migrant", "walk_minutes", *schema.LIKERT_ITEMS, "sat_score", *schema.BINARY_ITEMS)),
)

#: Row rules implied by the meaning of the columns, checked like :attr:`helpers.data.schema.Table.rules`.
EXTRA_ROW_RULES: dict[str, tuple[schema.RowRule, ...]] = {
    "organisations": (schema.RowRule("party_org_year", "year_closed",
                                     "a party organisation is set up before the organisation closes"),),
}

#: Cross-table consistency: (table, column, via table, via column) -- the value in ``column`` must
#: equal the ``via`` table's value for the same ``community_id`` / ``subdistrict_id``.
CONSISTENCY: tuple[tuple[str, str, str, str, str], ...] = (
    # (table, column, lookup table, lookup key, lookup column)
    ("community_boundaries", "district_id", "subdistricts", "subdistrict_id", "district_id"),
    ("survey", "subdistrict_id", "community_boundaries", "community_id", "subdistrict_id"),
    ("survey", "district_id", "community_boundaries", "community_id", "district_id"),
)


# ----------------------------------------------------------------------------------------------
# Result objects
# ----------------------------------------------------------------------------------------------
@dataclass
class Problem:
    """One line of a report: a problem in one file, maybe one column, one rule.

    ``row`` and ``key`` are the first offending row (1-based data row) and its key; grouped
    problems also carry ``count``, every offending row in ``rows`` and a few ``keys`` and
    ``examples``. ``message`` says what is wrong and what to do.
    """

    file: str
    column: str | None
    row: int | None
    key: str | None
    rule: str
    message: str
    severity: str = "error"  # "error" | "warning"
    count: int = 1
    rows: tuple[int, ...] = ()
    keys: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    key_name: str | None = None

    def line(self) -> str:
        parts = []
        if self.count > 1 and self.rows:
            ex_rows = ", ".join(str(r) for r in self.rows[:EXAMPLES])
            more = ", ..." if self.count > EXAMPLES else ""
            loc = f"{self.count} rows, e.g. rows {ex_rows}{more}"
            if self.keys:
                loc += f" ({self.key_name} {', '.join(self.keys[:EXAMPLES])}{more})"
            where = ""
            if self.column:
                where = f"column '{self.column}', "
            head = f"{where}rule '{self.rule}': {loc}"
            if self.examples:
                ex = list(self.examples[:EXAMPLES])
                etc = ", ..." if len(self.examples) > EXAMPLES else ""
                if all(e.startswith("value ") for e in ex):
                    head += f" with value{'s' if len(ex) > 1 else ''} " + ", ".join(e[6:] for e in ex) + etc
                else:
                    head += " with " + "; ".join(ex) + etc
            parts.append(head)
        else:
            loc = []
            if self.row is not None:
                r = f"row {self.row}"
                if self.key:
                    r += f" ({self.key_name} {self.key})" if self.key_name else f" ({self.key})"
                loc.append(r)
            if self.column:
                loc.append(f"column '{self.column}'")
            loc.append(f"rule '{self.rule}'")
            head = ", ".join(loc)
            if self.examples:
                head += ": " + self.examples[0]
            parts.append(head)
        return f"{self.file}: {self.severity}: {parts[0]}: {self.message}"

    __str__ = line


@dataclass
class TableSummary:
    file: str
    rows_read: int = 0
    rows_with_errors: int = 0
    usable: bool = False  # no file-level error


@dataclass
class Report:
    """What :func:`validate_dir` found."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, TableSummary] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "rows_read": {t.file: t.rows_read for t in self.tables.values()},
            "rows_with_errors": {t.file: t.rows_with_errors for t in self.tables.values()},
        }

    def lines(self) -> list[str]:
        return [p.line() for p in self.errors] + [p.line() for p in self.warnings]

    def format(self, max_lines: int | None = None) -> str:
        lines = self.lines()
        shown = lines if not max_lines or max_lines <= 0 else lines[:max_lines]
        out = [f"Checked {self.path} against the data contract ({len(self.tables)} tables): "
               f"{'PASSED' if self.ok else 'FAILED'}, {_plural(len(self.errors), 'error')}, "
               f"{_plural(len(self.warnings), 'warning')}."]
        out += shown
        if len(shown) < len(lines):
            out.append(f"... and {len(lines) - len(shown)} more lines (use --max-lines 0 to see all).")
        if any(p.row is not None for p in self.problems):
            out.append(ROW_NOTE)
        return "\n".join(out)

    __str__ = format

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "counts": self.counts,
                "problems": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in p.__dict__.items()}
                             | {"line": p.line()} for p in self.problems]}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------------------------
# Row-level issues (internal) and per-table results
# ----------------------------------------------------------------------------------------------
@dataclass
class _Issue:
    column: str | None
    rule: str
    mask: np.ndarray  # bool per row
    details: list[str]  # one per failing row, in row order
    message: str  # what the rule means and what to do
    severity: str = "error"


@dataclass
class TableResult:
    """Parsed and checked content of one table file (used by :mod:`helpers.data.load`)."""

    table: Table
    path: Path
    problems: list[Problem] = field(default_factory=list)  # file-level errors and warnings
    raw: pd.DataFrame | None = None  # stripped strings, "" = missing
    row_no: np.ndarray | None = None  # 1-based data row number per frame row
    values: dict[str, object] = field(default_factory=dict)  # typed column values (numpy / Series)
    geometry: np.ndarray | None = None
    crs: object = None
    issues: list[_Issue] = field(default_factory=list)
    cross_done: bool = False
    # parsing details used by later checks
    blank_rows: int = 0  # blank CSV rows skipped (not counted as rows read)
    maybe_spaces: bool = True  # False when no value can have surrounding spaces (fast path)
    ragged: tuple | None = None  # (bool mask, field counts) of rows whose field count differs from the header
    geo_text: str | None = None
    geo_parse: tuple | None = None  # (bool mask, messages) of malformed geometries
    geom_ok: np.ndarray | None = None  # rows with a valid geometry of the right type
    overlapping: bool = False

    def ok_geoms(self) -> np.ndarray:
        return self.geom_ok if self.geom_ok is not None else np.zeros(self.n, dtype=bool)

    @property
    def file(self) -> str:
        return self.table.file

    @property
    def fatal(self) -> bool:
        return self.raw is None or any(p.severity == "error" for p in self.problems)

    @property
    def n(self) -> int:
        return 0 if self.raw is None else len(self.raw)

    def error_mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for i in self.issues:
            if i.severity == "error":
                m |= i.mask
        return m

    def reasons(self, mask: np.ndarray) -> list[str]:
        """A ``; ``-joined reason per row selected by ``mask`` (rows with errors)."""
        idx = np.flatnonzero(mask)
        pos = {r: k for k, r in enumerate(idx)}
        out: list[list[str]] = [[] for _ in idx]
        for i in self.issues:
            if i.severity != "error":
                continue
            rows = np.flatnonzero(i.mask)
            for r, d in zip(rows, i.details):
                k = pos.get(r)
                if k is not None:
                    col = f"{i.column}: " if i.column else ""
                    out[k].append(f"{col}{i.rule}: {d}")
        return ["; ".join(x) for x in out]

    def key_strings(self, idx: np.ndarray) -> list[str]:
        if self.raw is None or not all(k in self.raw.columns for k in self.table.key):
            return []
        if len(self.table.key) == 1:
            return [str(v) for v in self.raw[self.table.key[0]].to_numpy()[idx]]
        cols = [self.raw[k].to_numpy()[idx] for k in self.table.key]
        return ["/".join(str(c[j]) for c in cols) for j in range(len(idx))]

    def key_name(self) -> str:
        return "/".join(self.table.key)

    def problems_from_issues(self) -> list[Problem]:
        out = []
        for i in self.issues:
            rows_idx = np.flatnonzero(i.mask)
            if not len(rows_idx):
                continue
            rows = tuple(int(r) for r in self.row_no[rows_idx])
            keys = tuple(self.key_strings(rows_idx[:EXAMPLES]))
            examples = list(dict.fromkeys(i.details))[:EXAMPLES + 1]  # distinct, in row order
            out.append(Problem(
                file=self.file, column=i.column, row=rows[0], key=keys[0] if keys else None,
                rule=i.rule, message=i.message, severity=i.severity, count=len(rows), rows=rows,
                keys=keys, examples=tuple(examples), key_name=self.key_name(),
            ))
        return out

    def add(self, column, rule, mask, details, message, severity="error") -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.issues.append(_Issue(column, rule, mask, list(details), message, severity))

    def file_problem(self, rule, message, column=None, severity="error", row=None) -> None:
        self.problems.append(Problem(self.file, column, row, None, rule, message, severity))


# ----------------------------------------------------------------------------------------------
# Reading: bytes -> text -> records
# ----------------------------------------------------------------------------------------------
def _decode(res: TableResult, data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        res.file_problem("not a text file", "this is a ZIP container (an Excel .xlsx file renamed?); "
                         "export the sheet as 'CSV UTF-8' / save as GeoJSON instead")
        return None
    for bom, enc in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                     (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            res.file_problem("encoding UTF-8", f"the file is {enc}-encoded (it starts with a {enc} "
                             "byte-order mark); save it as UTF-8")
            return None
    if data.startswith(codecs.BOM_UTF8):
        res.file_problem("UTF-8 BOM", "the file starts with a UTF-8 byte-order mark (BOM, as Excel's "
                         "'CSV UTF-8' writes); it was ignored, but prefer UTF-8 without BOM",
                         severity="warning")
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        bad = data[start:start + 4].hex(" ")
        n_bad = _count_bad_utf8(data)
        guess = ""
        try:
            data.decode("gb18030")
            guess = " It decodes as GBK/GB18030 (what Excel on Chinese Windows writes):"
        except UnicodeDecodeError:
            pass
        res.file_problem(
            "encoding UTF-8",
            f"not valid UTF-8 at byte offset {start} (line {line}, column {col}: bytes {bad}); "
            f"{n_bad} invalid byte sequence{'s' if n_bad != 1 else ''} in the file.{guess} "
            "re-save the file as UTF-8 (e.g. Excel 'CSV UTF-8', or iconv -f GB18030 -t UTF-8)")
        return None
    if "\x00" in text:
        pos = text.index("\x00")
        res.file_problem("not a text file", f"NUL character at character {pos} (line "
                         f"{text.count(chr(10), 0, pos) + 1}); the file is binary or UTF-16; save it as UTF-8 text")
        return None
    return text


def _count_bad_utf8(data: bytes) -> int:
    return data.decode("utf-8", errors="replace").count("\ufffd") - data.count("\ufffd".encode())


def _read_csv(res: TableResult, text: str) -> tuple[list[str], list[list[str]], np.ndarray] | None:
    """Parse CSV text into header, records (padded to the header) and their row numbers."""
    if not text.strip():
        res.file_problem("empty file", "the file has no header and no rows; write the header line "
                         f"({','.join(res.table.column_names)}) and the data")
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        res.file_problem("parse CSV", f"cannot parse as CSV ({e}); check for an unbalanced double "
                         "quote (\") and quote values that contain commas or line breaks")
        return None
    header = records[0]
    body = records[1:]
    # spaces next to a separator or at a line end: only then strip values one by one
    res.maybe_spaces = bool(re.search(r'(?:^|,)"?[ \t]|[ \t]"?(?:,|\r?$)', text, re.M))
    if len(header) == 1 and len(res.table.columns) > 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in header[0]:
                res.file_problem("delimiter", f"the header is separated by {name}; use commas "
                                 "(plain CSV: comma separator, '.' decimal mark)")
                return None
    row_no = np.arange(1, len(body) + 1)
    blank = np.fromiter((not "".join(r).strip() for r in body), dtype=bool, count=len(body))
    if blank.any():
        rows = row_no[blank]
        # a single trailing blank line is harmless; report blank rows inside the data
        inner = rows[rows < len(body)] if blank[-1] else rows
        if len(inner):
            res.file_problem("blank rows", f"{len(rows)} blank row(s) ignored, e.g. rows "
                             f"{', '.join(map(str, rows[:EXAMPLES]))}; delete them", severity="warning")
        res.blank_rows = int(blank.sum())
        body = [r for r, b in zip(body, blank) if not b]
        row_no = row_no[~blank]
    width = len(header)
    lens = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    bad = lens != width
    if bad.any():
        body = [r if len(r) == width else (r + [""] * (width - len(r)))[:width] for r in body]
    res.ragged = (bad, lens)
    return header, body, row_no


def _read_geojson(res: TableResult, text: str):
    if not text.strip():
        res.file_problem("empty file", "the file is empty; write a GeoJSON FeatureCollection")
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        res.file_problem("parse GeoJSON", f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}; "
                         "re-export the layer as GeoJSON")
        return None
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection" or not isinstance(
            obj.get("features"), list):
        res.file_problem("parse GeoJSON", "not a GeoJSON FeatureCollection (expected an object with "
                         "\"type\": \"FeatureCollection\" and a \"features\" list)")
        return None
    return obj


# ----------------------------------------------------------------------------------------------
# Column checks (vectorised)
# ----------------------------------------------------------------------------------------------
def _fmt_num(x: float) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x:g}"


def range_rule(col: Column) -> str | None:
    """The rule name of a column's range, e.g. ``range 1-5``, ``>= 0``, ``range 0 < x <= 1``."""
    if col.dtype == "year":
        return f"study period {schema.STUDY_YEARS[0]}-{schema.STUDY_YEARS[1]}"
    lo, hi = col.min, col.max
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        if col.min_exclusive:
            return f"range {_fmt_num(float(lo))} < x <= {_fmt_num(float(hi))}"
        return f"range {_fmt_num(float(lo))}-{_fmt_num(float(hi))}"
    if lo is not None:
        return f"{'>' if col.min_exclusive else '>='} {_fmt_num(float(lo))}"
    return f"<= {_fmt_num(float(hi))}"


def _bounds(col: Column) -> tuple[float | None, float | None, bool]:
    if col.dtype == "year":
        return float(schema.STUDY_YEARS[0]), float(schema.STUDY_YEARS[1]), False
    return (None if col.min is None else float(col.min), None if col.max is None else float(col.max),
            col.min_exclusive)


def _quote(vals) -> list[str]:
    return [f"value {v!r}" if not isinstance(v, float) else f"value {_fmt_num(v)}" for v in vals]


def _check_column(res: TableResult, col: Column, s: np.ndarray) -> None:
    """Type, null, range and category checks of one column given its stripped strings."""
    missing = s == ""
    present = ~missing
    name = col.name
    if not col.nullable and missing.any():
        res.add(name, "not null", missing, ["empty"] * int(missing.sum()),
                "the value is missing but this column may not be empty; fill it in")
    if col.dtype in ("str", "category"):
        vals = pd.Series(s, dtype=object).where(present, np.nan)
        res.values[name] = vals
        if col.dtype == "category" and col.categories:
            bad = present & ~_isin(s, col.categories)
            if bad.any():
                bad_vals = s[bad]
                details = [f"value {v!r}{_suggest(v, col.categories)}" for v in bad_vals]
                res.add(name, "categories", bad, details,
                        f"allowed values are {', '.join(col.categories)} (exactly, lower case); "
                        "recode the value")
        return
    try:  # fast path: every present value is a plain number
        num = np.where(present, s, "nan").astype(np.float64)
    except (ValueError, TypeError):
        num = pd.to_numeric(s, errors="coerce").astype(float)
    num = np.where(present, num, np.nan)
    not_num = present & ~np.isfinite(num)
    type_rule = {"bool": "type bool 0/1", "int": "type int", "year": "type year"}.get(col.dtype, "type number")
    if not_num.any():
        hint = {"bool": "write 1 for yes and 0 for no",
                "int": "write a whole number", "year": "write a four-digit year"}.get(
            col.dtype, "write a plain number")
        res.add(name, type_rule, not_num, _quote(s[not_num]),
                f"not a number; {hint} ('.' as decimal mark, no units, no thousands separators; "
                "leave it empty if unknown and the column allows missing values)")
    ok = present & np.isfinite(num)
    if col.dtype in ("int", "year", "bool"):
        frac = ok & (np.where(ok, num, 0) != np.round(np.where(ok, num, 0)))
        if frac.any():
            res.add(name, type_rule, frac, [f"value {_fmt_num(v)}" for v in num[frac]],
                    "not a whole number; round it or correct it")
        ok &= ~frac
    if col.dtype == "bool":
        notbool = ok & ~np.isin(num, (0.0, 1.0))
        if notbool.any():
            res.add(name, "type bool 0/1", notbool, [f"value {_fmt_num(v)}" for v in num[notbool]],
                    "must be 0 (no) or 1 (yes)")
        ok &= ~notbool
    lo, hi, excl = _bounds(col)
    if lo is not None or hi is not None:
        v = np.where(ok, num, 0.0)
        out = np.zeros(len(s), dtype=bool)
        if lo is not None:
            out |= ok & ((v <= lo) if excl else (v < lo))
        if hi is not None:
            out |= ok & (v > hi)
        if out.any():
            rule = range_rule(col)
            rng = rule.removeprefix("range ")
            unit = f" ({col.unit})" if col.unit and col.dtype != "year" and rng not in col.unit else ""
            if col.dtype == "year":
                msg = (f"the year is outside the study period {schema.STUDY_YEARS[0]}-"
                       f"{schema.STUDY_YEARS[1]}; correct it or drop rows outside the study period")
            else:
                msg = (f"the value is outside the allowed range {rng}{unit}; correct it" if rule.startswith("range")
                       else f"the value must be {rule}{unit}; correct it")
                if col.unit and "share" in col.unit:
                    msg += " (shares are 0-1, not percentages)"
                elif col.min == 0 and col.max is None and not excl:
                    msg += " (it cannot be negative)"
            res.add(name, rule, out, [f"value {_fmt_num(x)}" for x in num[out]], msg)
            ok &= ~out
    res.values[name] = np.where(ok, num, np.nan)


def _isin(values, choices) -> np.ndarray:
    """Hash-based membership test for object arrays (np.isin sorts objects: slow)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object).isin(list(choices)).to_numpy(dtype=bool)


def _suggest(v: str, choices) -> str:
    low = {c.lower(): c for c in choices}
    if v.lower() in low:
        return f" (did you mean {low[v.lower()]!r}?)"
    m = difflib.get_close_matches(v, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {m[0]!r}?)" if m else ""


def _check_header(res: TableResult, header: list[str]) -> list[str]:
    """Missing, extra, duplicated and misspelt column names. Returns the usable header."""
    table = res.table
    names = [h.strip() for h in header]
    expected = table.column_names
    seen: dict[str, int] = {}
    for i, h in enumerate(names):
        if h in seen:
            res.file_problem("duplicate column name", f"the header names '{h}' twice (columns {seen[h] + 1} "
                             f"and {i + 1}); keep one", column=h)
        seen.setdefault(h, i)
    for h, raw in zip(names, header):
        if h != raw and h in expected:
            res.file_problem("column name", f"the header name {raw!r} has surrounding spaces; it was "
                             f"read as '{h}', but remove the spaces", column=h, severity="warning")
    missing = [c for c in expected if c not in seen]
    extra = [h for h in seen if h not in expected]
    for c in missing:
        hint = ""
        close = [h for h in extra if h.lower().replace(" ", "_") == c.lower()] or difflib.get_close_matches(
            c, extra, n=1, cutoff=0.75)
        if close:
            hint = f" (found '{close[0]}': rename it to '{c}')"
        res.file_problem("missing column", f"required column '{c}' is not in the header{hint}; "
                         f"add it (see data/README.md for its definition)", column=c)
    for h in extra:
        label = h if h else f"(unnamed, position {seen[h] + 1})"
        res.file_problem("extra column", f"column '{label}' is not part of the contract for {table.file}; "
                         "remove or rename it (allowed: " + ", ".join(expected) + ")", column=label)
    return names


def _intra_checks(res: TableResult) -> None:
    """Checks inside one table: types, nulls, ranges, categories, row rules, duplicate keys."""
    t = res.table
    df = res.raw
    n = len(df)
    if n == 0:
        res.file_problem("no rows", "the file has a header but no data rows; add the data")
        return
    cols = set(df.columns)
    for col in t.columns:
        if col.name not in cols:
            continue
        raw = df[col.name].to_numpy(dtype=object)
        s = raw
        if res.maybe_spaces:
            s = np.array([x.strip() for x in raw], dtype=object)
            ws = s != raw
            if ws.any():
                if col.dtype in ("str", "category"):
                    res.add(col.name, "surrounding spaces", ws, [f"value {x!r}" for x in raw[ws]],
                            "leading/trailing spaces were removed; remove them in the file", severity="warning")
                df[col.name] = pd.Series(s, dtype=object, index=df.index)
        _check_column(res, col, s)
    # row rules (left <= right where both present)
    for rule in (*t.rules, *EXTRA_ROW_RULES.get(t.name, ())):
        if rule.left not in res.values or rule.right not in res.values:
            continue
        a = np.asarray(res.values[rule.left], dtype=float)
        b = np.asarray(res.values[rule.right], dtype=float)
        both = np.isfinite(a) & np.isfinite(b)
        with np.errstate(invalid="ignore"):
            cmp = {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b, "==": a == b}[rule.op]
        bad = both & ~cmp
        res.add(rule.left, f"{rule.left} {rule.op} {rule.right}", bad,
                [f"{rule.left} {_fmt_num(x)}, {rule.right} {_fmt_num(y)}" for x, y in zip(a[bad], b[bad])],
                f"{rule.description}, so {rule.left} must be {rule.op} {rule.right}; check both values")
    for imp in IMPLIED_RULES:
        if imp.table != t.name or imp.if_column not in res.values or imp.then_column not in cols:
            continue
        cond_vals = res.values[imp.if_column]
        cond = _isin(np.asarray(cond_vals, dtype=object), imp.if_values) if isinstance(
            cond_vals, pd.Series) else np.isin(np.asarray(cond_vals, dtype=float), np.asarray(imp.if_values, dtype=float))
        filled = df[imp.then_column].to_numpy(dtype=object) != ""
        bad = cond & (~filled if imp.must == "present" else filled)
        cv = np.asarray(cond_vals, dtype=object)[bad]
        tv = df[imp.then_column].to_numpy(dtype=object)[bad]
        res.add(imp.then_column, f"{imp.then_column} {imp.must} if {imp.if_column} in "
                f"{'/'.join(map(str, imp.if_values))}", bad,
                [f"{imp.if_column} {_fmt_num(c) if isinstance(c, float) else c}, {imp.then_column} "
                 f"{v!r}" for c, v in zip(cv, tv)],
                f"{imp.description}; {'fill it in' if imp.must == 'present' else 'leave it empty'} "
                f"or correct {imp.if_column}")
    # ragged rows
    ragged = res.ragged
    if ragged is not None:
        bad, lens = ragged
        res.add(None, "field count", bad, [f"{k} fields" for k in lens[bad]],
                f"the row does not have {len(df.columns)} fields like the header; quote values "
                "containing commas and check for missing separators")
    # duplicate keys
    key = [k for k in t.key if k in cols]
    if len(key) == len(t.key):
        keyed = np.ones(n, dtype=bool)
        for k in key:
            keyed &= df[k].to_numpy(dtype=object) != ""
        exact = df.duplicated(keep="first").to_numpy() & keyed
        if exact.any():
            first = _first_row_of(df, list(df.columns), res.row_no)
            res.add(None, "duplicate row", exact, [f"copy of row {r}" for r in first[exact]],
                    "the row repeats an earlier row exactly; delete the copy")
        rest = ~exact & keyed
        sub = df.loc[rest, key]
        dup = np.zeros(n, dtype=bool)
        dup[np.flatnonzero(rest)] = sub.duplicated(keep=False).to_numpy()
        if dup.any():
            groups: dict[tuple, list[int]] = {}
            dup_rows = res.row_no[dup]
            dup_keys = list(zip(*(df[k].to_numpy(dtype=object)[dup] for k in key)))
            for kk, r in zip(dup_keys, dup_rows):
                groups.setdefault(kk, []).append(int(r))
            res.add(key[0] if len(key) == 1 else "/".join(key), "unique key", dup,
                    ["same key as row " + ", ".join(str(o) for o in groups[kk] if o != r)
                     for kk, r in zip(dup_keys, dup_rows)],
                    f"the key ({', '.join(key)}) must identify one row; keep one row per key")


def self_keys(res: TableResult) -> list[str]:
    return res.key_strings(np.arange(res.n))


def _first_row_of(df: pd.DataFrame, cols: list[str], row_no: np.ndarray) -> np.ndarray:
    codes = df.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(row_no).groupby(codes).transform("min").to_numpy()
    return first


# ----------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------
def _prop_str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return json.dumps(v, ensure_ascii=False)


def _geo_frame(res: TableResult, obj: dict) -> tuple[list[str], pd.DataFrame] | None:
    import shapely
    from shapely.geometry import shape

    feats = obj["features"]
    header: list[str] = []
    seen = set()
    for f in feats:
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict):
            for k in props:
                if k not in seen:
                    seen.add(k)
                    header.append(k)
    if not feats:
        res.file_problem("no rows", "the FeatureCollection has no features; add the data")
    data = {}
    for h in header:
        data[h] = [_prop_str((f.get("properties") or {}).get(h)) if isinstance(f, dict) else "" for f in feats]
    df = pd.DataFrame(data, columns=header, dtype=object)
    n = len(feats)
    geoms = np.empty(n, dtype=object)
    parse_err = np.zeros(n, dtype=bool)
    errs = []
    fast = None
    try:  # fast path: GEOS reads the whole collection (fails on null geometries: then one by one)
        import shapely as _sh

        fast = _sh.get_parts(_sh.from_geojson(res.geo_text))
        if len(fast) != n:
            fast = None
    except Exception:
        fast = None
    for i, f in enumerate(feats):
        if fast is not None:
            geoms[i] = fast[i]
            continue
        g = f.get("geometry") if isinstance(f, dict) else None
        if g is None:
            geoms[i] = None
            continue
        try:
            geoms[i] = shape(g)
        except Exception as e:  # malformed coordinates
            geoms[i] = None
            parse_err[i] = True
            errs.append(f"{type(e).__name__}: {e}"[:120])
    res.geometry = geoms
    res.row_no = np.arange(1, n + 1)
    res.geo_parse = (parse_err, errs)
    # CRS
    crs_member = obj.get("crs")
    name = None
    if isinstance(crs_member, dict):
        name = (crs_member.get("properties") or {}).get("name")
    if name is None:
        res.file_problem("CRS", f"no CRS is declared (GeoJSON then means WGS84 degrees, but distances and "
                         f"areas need metres); write the file in a projected CRS in metres such as "
                         f"{schema.DEFAULT_CRS} with a 'crs' member (e.g. GeoDataFrame.to_crs(...).to_file(...))")
    else:
        try:
            from pyproj import CRS

            crs = CRS.from_user_input(name)
            epsg = crs.to_epsg()
            res.crs = CRS.from_epsg(epsg) if epsg else crs
            units = {a.unit_name for a in crs.axis_info}
            if crs.is_geographic:
                res.file_problem("CRS", f"the CRS {name} is geographic (degrees); reproject to a projected "
                                 f"CRS in metres such as {schema.DEFAULT_CRS} (GeoDataFrame.to_crs)")
            elif not crs.is_projected or not units <= {"metre", "meter"}:
                res.file_problem("CRS", f"the CRS {name} is not projected in metres (units: "
                                 f"{', '.join(sorted(units))}); reproject to e.g. {schema.DEFAULT_CRS}")
        except Exception as e:
            res.file_problem("CRS", f"the CRS {name!r} is not recognised ({e}); name it as e.g. "
                             "'urn:ogc:def:crs:EPSG::4548'")
    good = np.array([g is not None for g in geoms], dtype=bool)
    if good.any() and res.crs is not None and getattr(res.crs, "is_projected", False):
        b = shapely.total_bounds(geoms[good])
        if np.all(np.abs(b) <= 180.5):
            res.file_problem("CRS", f"the coordinates (bounds {', '.join(_fmt_num(float(x)) for x in b)}) look "
                             f"like longitude/latitude degrees although the file declares {name}; "
                             "reproject properly instead of relabelling the CRS")
    return header, df


def _geometry_checks(res: TableResult) -> None:
    import shapely

    t = res.table
    geoms = res.geometry
    parse_err, errs = res.geo_parse or (np.zeros(len(geoms), bool), [])
    res.add("geometry", "parse geometry", parse_err, errs,
            "the geometry is malformed; re-export the feature")
    empty = np.array([g is None for g in geoms], dtype=bool) & ~parse_err
    nonnull = ~empty & ~parse_err
    if nonnull.any():
        arr = geoms[nonnull]
        e2 = shapely.is_empty(arr)
        idx = np.flatnonzero(nonnull)
        empty[idx[e2]] = True
        nonnull[idx[e2]] = False
    res.add("geometry", "not empty", empty, ["no geometry"] * int(empty.sum()),
            "the feature has a null or empty geometry; draw its boundary or location")
    allowed = {"Polygon": ("Polygon", "MultiPolygon"), "Point": ("Point",)}.get(t.geometry, (t.geometry,))
    gtype = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    wrong = nonnull & ~_isin(gtype, allowed)
    res.add("geometry", f"geometry type {t.geometry}", wrong, [f"a {x}" for x in gtype[wrong]],
            f"{t.file} holds {' or '.join(allowed)} geometries; convert or remove the feature")
    ok = nonnull & ~wrong
    if ok.any():
        reasons = shapely.is_valid_reason(geoms[ok])
        bad_local = reasons != "Valid Geometry"
        invalid = np.zeros(len(geoms), dtype=bool)
        invalid[np.flatnonzero(ok)[bad_local]] = True
        res.add("geometry", "valid geometry", invalid, list(reasons[bad_local]),
                "the geometry is invalid; repair it (QGIS 'Fix geometries', shapely.make_valid or buffer(0)) "
                "and check that it still nests in its parent")
        ok &= ~invalid
    res.geom_ok = ok


# ----------------------------------------------------------------------------------------------
# Folder: parse tables on demand, then cross-table checks
# ----------------------------------------------------------------------------------------------
class Folder:
    """A data folder being checked. ``cascade=True`` checks references against the rows of the
    referenced table that pass (so rejecting a community also rejects the rows that point to it),
    as :mod:`helpers.data.load` does in quarantine mode; ``cascade=False`` against all its ids."""

    def __init__(self, path, cascade: bool = False):
        self.path = Path(path)
        self.cascade = cascade
        self.results: dict[str, TableResult] = {}

    # -- parsing ------------------------------------------------------------------------------
    def parsed(self, name: str) -> TableResult:
        if name not in self.results:
            table = schema.TABLES[name]
            res = TableResult(table, self.path / table.file)
            try:
                self._parse(res)
            except Exception as e:  # never a traceback: report it
                res.raw = None
                res.file_problem("internal error", f"the validator failed on this file ({type(e).__name__}: "
                                 f"{e}); please report this with the file")
            self.results[name] = res
        return self.results[name]

    def _parse(self, res: TableResult) -> None:
        path = res.path
        t = res.table
        if not path.is_file():
            hint = ""
            if path.parent.is_dir():
                others = [p.name for p in path.parent.iterdir()]
                low = [o for o in others if o.lower() == t.file.lower()]
                stem = [o for o in others if Path(o).stem.lower() == Path(t.file).stem.lower()]
                if low:
                    hint = f" (found '{low[0]}': file names are case-sensitive, rename it)"
                elif stem:
                    hint = f" (found '{stem[0]}': export it as {Path(t.file).suffix[1:].upper()})"
            res.file_problem("missing file", f"the file {t.file} ({t.description}) is missing{hint}; "
                             "add it (columns: " + ", ".join(t.column_names) + ")")
            return
        data = path.read_bytes()
        if not data:
            res.file_problem("empty file", "the file is empty (0 bytes); write the header line and the data")
            return
        text = _decode(res, data)
        if text is None:
            return
        if t.geometry is None:
            parsed = _read_csv(res, text)
            if parsed is None:
                return
            header, body, row_no = parsed
            names = _check_header(res, header)
            if len(set(names)) != len(names):  # duplicated names: keep the first of each
                keep = [i for i, h in enumerate(names) if names.index(h) == i]
                names = [names[i] for i in keep]
                body = [[r[i] for i in keep] for r in body]
            res.raw = pd.DataFrame(body, columns=names, dtype=object) if body else pd.DataFrame(
                columns=names, dtype=object)
            res.row_no = row_no
        else:
            obj = _read_geojson(res, text)
            if obj is None:
                return
            res.geo_text = text
            got = _geo_frame(res, obj)
            res.geo_text = None  # free the text
            if got is None:
                return
            header, df = got
            _check_header(res, header)
            res.raw = df
            if len(df) == 0:
                return
            _geometry_checks(res)
        _intra_checks(res)

    # -- cross-table ----------------------------------------------------------------------------
    def dependencies(self, name: str) -> list[str]:
        """Tables whose files the checks of ``name`` read (``name`` first)."""
        out: dict[str, None] = {name: None}
        t = schema.TABLES[name]
        direct = [c.references.split(".")[0] for c in t.columns if c.references]
        direct += [via for tab, _c, via, _k, _vc in CONSISTENCY if tab == name]
        if t.geometry:
            direct += [n for n, x in schema.TABLES.items() if x.geometry][:1]  # CRS reference layer
            if t.parent:
                direct.append(t.parent)
            if t.geometry == "Point":
                direct.append("community_boundaries")
        for d in direct:
            if d in out:
                continue
            if self.cascade and any(c.references for c in schema.TABLES[d].columns):
                for x in self.dependencies(d):
                    out.setdefault(x, None)
            out.setdefault(d, None)
        return list(out)

    def checked(self, name: str) -> TableResult:
        res = self.parsed(name)
        if not res.cross_done:
            res.cross_done = True
            if res.raw is not None and res.n:
                try:
                    self._cross(res)
                except Exception as e:
                    res.file_problem("internal error", f"cross-table checks failed ({type(e).__name__}: {e}); "
                                     "please report this with the data")
        return res

    def _ids(self, name: str, column: str) -> tuple[np.ndarray | None, TableResult]:
        """Ids usable as reference targets: every present id, or (cascade) only of accepted rows."""
        ref = self.checked(name) if self.cascade else self.parsed(name)
        if ref.raw is None or column not in ref.raw.columns or (self.cascade and ref.fatal):
            return None, ref
        v = ref.raw[column].to_numpy(dtype=object)
        keep = v != ""
        if self.cascade:
            keep &= ~ref.error_mask()
        return v[keep], ref

    def _cross(self, res: TableResult) -> None:
        t = res.table
        df = res.raw
        for col in t.columns:
            if not col.references or col.name not in df.columns:
                continue
            rt, rc = col.references.split(".")
            ids, ref = self._ids(rt, rc)
            if ids is None:
                res.file_problem("references", f"cannot check that {col.name} refers to existing "
                                 f"{ref.file} rows because {ref.file} is missing or unusable", column=col.name,
                                 severity="warning")
                continue
            v = df[col.name].to_numpy(dtype=object)
            bad = (v != "") & ~_isin(v, ids)
            if bad.any():
                allids = ref.raw[rc].to_numpy(dtype=object) if ref.raw is not None else np.array([], object)
                first_row = pd.Series(ref.row_no, index=allids)
                first_row = first_row[~first_row.index.duplicated()]
                where = first_row.reindex(v[bad]).to_numpy()
                details = [f"value {x!r}" + (f" (rejected in {ref.file}, row {int(r)})" if pd.notna(r) else "")
                           for x, r in zip(v[bad], where)]
                res.add(col.name, f"references {col.references}", bad, details,
                        f"no row of {ref.file} has this {rc}; correct the id or add the missing row to {ref.file}")
        for table, column, via, via_key, via_col in CONSISTENCY:
            if table != t.name or column not in df.columns or via_key not in df.columns:
                continue
            other = self.parsed(via)
            if other.raw is None or via_key not in other.raw.columns or via_col not in other.raw.columns:
                continue
            o = other.raw.drop_duplicates(via_key)
            lookup = pd.Series(o[via_col].to_numpy(dtype=object), index=o[via_key].to_numpy(dtype=object))
            expect = lookup.reindex(df[via_key].to_numpy(dtype=object)).to_numpy(dtype=object)
            v = df[column].to_numpy(dtype=object)
            known = pd.notna(expect) & (v != "") & (expect != "")
            bad = known & (v != expect)
            res.add(column, f"consistent with {other.file}", bad,
                    [f"{column} {a!r} but {other.file} puts {via_key} {k!r} in {e!r}"
                     for a, k, e in zip(v[bad], df[via_key].to_numpy(dtype=object)[bad], expect[bad])],
                    f"the {column} disagrees with the {via_key}'s {via_col} in {other.file}; make them agree")
        if t.geometry is not None and res.geometry is not None:
            self._crs_consistency(res)
            if t.geometry == "Polygon":
                self._overlaps(res)
            if t.parent and t.parent_key:
                self._nesting(res)
            if t.geometry == "Point" and "community_id" in df.columns:
                self._points_inside(res)

    def _crs_consistency(self, res: TableResult) -> None:
        if res.crs is None:
            return
        for name, table in schema.TABLES.items():
            if table.geometry is None:
                continue
            if name == res.table.name:
                return
            first = self.parsed(name)
            if first.crs is not None:
                if first.crs != res.crs:
                    res.file_problem("CRS", f"the CRS ({res.crs.to_string()}) differs from {first.file}'s "
                                     f"({first.crs.to_string()}); write every layer in the same CRS")
                return

    def _parent_geoms(self, parent: str, key: str) -> tuple[pd.Series | None, TableResult]:
        p = self.parsed(parent)
        if p.raw is None or p.geometry is None or key not in p.raw.columns:
            return None, p
        ok = p.ok_geoms()
        ids = p.raw[key].to_numpy(dtype=object)
        s = pd.Series(p.geometry[ok], index=ids[ok])
        return s[~s.index.duplicated()], p

    def _nesting(self, res: TableResult) -> None:
        import shapely

        t = res.table
        parents, p = self._parent_geoms(t.parent, t.parent_key)
        if parents is None or t.parent_key not in res.raw.columns:
            return
        ok = res.ok_geoms()
        keys = res.raw[t.parent_key].to_numpy(dtype=object)
        pg = parents.reindex(keys).to_numpy(dtype=object)
        test = ok & pd.notna(pg)
        idx = np.flatnonzero(test)
        outside = np.zeros(res.n, dtype=bool)
        areas = np.zeros(res.n)
        if len(idx):
            inside = shapely.covers(pg[idx].astype(object), res.geometry[idx])
            idx2 = idx[~inside]
            if len(idx2):
                a = shapely.area(shapely.difference(res.geometry[idx2], pg[idx2].astype(object)))
                outside[idx2] = a > NEST_TOLERANCE_M2
                areas[idx2] = a
        res.add("geometry", f"nests in {p.file}", outside,
                [f"{_fmt_num(round(float(a), 1))} m² outside {t.parent_key} {k!r}"
                 for a, k in zip(areas[outside], keys[outside])],
                f"the polygon must lie inside its {t.parent_key}'s polygon in {p.file} (tolerance "
                f"{_fmt_num(NEST_TOLERANCE_M2)} m²); fix the boundary or the {t.parent_key}")
        # coverage: children should tile their parent (warning): with no child outside its parent and
        # no overlaps, the gap is the parent's area minus the children's areas
        if len(idx) and not res.overlapping:
            child_area = pd.Series(shapely.area(res.geometry[idx]), index=keys[idx])
            bad_parent = set(keys[outside])
            sums = child_area.groupby(level=0).agg(["sum", "size"])
            gaps = []
            for k, row in sums.iterrows():
                if k in bad_parent:
                    continue
                gap = float(shapely.area(parents[k])) - float(row["sum"])
                if gap > NEST_TOLERANCE_M2 * max(1, int(row["size"])):
                    gaps.append(f"{k} ({_fmt_num(round(gap))} m²)")
            if gaps:
                res.file_problem("covers parent", f"the polygons leave gaps in {len(gaps)} {t.parent_key}(s), "
                                 f"e.g. {', '.join(gaps[:EXAMPLES])}; they should tile their parent",
                                 column="geometry", severity="warning")

    def _overlaps(self, res: TableResult) -> None:
        """Polygons of one layer must not overlap (every place belongs to one unit)."""
        import shapely

        ok = res.ok_geoms()
        idx = np.flatnonzero(ok)
        if len(idx) < 2:
            return
        g = res.geometry[idx]
        tree = shapely.STRtree(g)
        pairs = [tree.query(g, predicate=pred) for pred in ("overlaps", "contains")]
        a = np.concatenate([x[0] for x in pairs])
        b = np.concatenate([x[1] for x in pairs])
        sel = a != b
        a, b = a[sel], b[sel]
        if not len(a):
            return
        area = shapely.area(shapely.intersection(g[a], g[b]))
        big = area > NEST_TOLERANCE_M2
        a, b, area = a[big], b[big], area[big]
        if not len(a):
            return
        res.overlapping = True
        keys = np.asarray(self_keys(res), dtype=object)
        mask = np.zeros(res.n, dtype=bool)
        first: dict[int, str] = {}
        for i, j, ar in zip(idx[a], idx[b], area):
            mask[i] = True
            first.setdefault(int(i), f"overlaps {keys[j]} by {_fmt_num(round(float(ar), 1))} m²")
        rows = np.flatnonzero(mask)
        res.add("geometry", "no overlaps", mask, [first[int(r)] for r in rows],
                "polygons of the same layer must not overlap (every place belongs to one unit); "
                "fix the shared boundary")

    def _points_inside(self, res: TableResult) -> None:
        import shapely

        polys, p = self._parent_geoms("community_boundaries", "community_id")
        if polys is None:
            return
        ok = res.ok_geoms()
        keys = res.raw["community_id"].to_numpy(dtype=object)
        pg = polys.reindex(keys).to_numpy(dtype=object)
        test = ok & pd.notna(pg)
        idx = np.flatnonzero(test)
        bad = np.zeros(res.n, dtype=bool)
        dist = np.zeros(res.n)
        if len(idx):
            d = shapely.distance(res.geometry[idx], pg[idx].astype(object))
            bad[idx] = d > POINT_TOLERANCE_M
            dist[idx] = d
        res.add("geometry", f"inside community ({p.file})", bad,
                [f"{_fmt_num(round(float(d), 1))} m outside community {k!r}" for d, k in zip(dist[bad], keys[bad])],
                "the point must lie inside its community's polygon; fix the location or the community_id")

    # -- folder-level ---------------------------------------------------------------------------
    def extra_warnings(self) -> list[Problem]:
        out: list[Problem] = []
        if not self.path.is_dir():
            return out
        known = {t.file for t in schema.TABLES.values()} | KNOWN_EXTRA_FILES
        meta = self.path / schema.METADATA_FILE
        meta_files: dict = {}
        if meta.is_file():
            try:
                m = json.loads(meta.read_text(encoding="utf-8"))
                meta_files = m.get("files", {}) if isinstance(m, dict) else {}
                if isinstance(meta_files, list):
                    meta_files = {f.get("file") or f.get("name"): f for f in meta_files if isinstance(f, dict)}
            except Exception as e:
                out.append(Problem(schema.METADATA_FILE, None, None, None, "parse JSON",
                                   f"cannot read it ({e}); regenerate it", severity="warning"))
        for p in sorted(self.path.iterdir()):
            if p.is_file() and p.name not in known and p.name not in meta_files and not p.name.startswith("."):
                if p.suffix.lower() in (".csv", ".geojson", ".json", ".xlsx", ".xls", ".shp", ".gpkg"):
                    out.append(Problem(p.name, None, None, None, "unknown file",
                                       "not part of the data contract, so it is not checked or loaded; "
                                       "remove it or rename it to a contract file", severity="warning"))
        for fname, info in meta_files.items():
            if not isinstance(info, dict) or not fname:
                continue
            f = self.path / fname
            sha = info.get("sha256")
            if f.is_file() and sha:
                if hashlib.sha256(f.read_bytes()).hexdigest() != sha:
                    out.append(Problem(fname, None, None, None, "metadata checksum",
                                       f"the file differs from the one recorded in {schema.METADATA_FILE} (edited "
                                       "after generation?); regenerate the data or update the metadata",
                                       severity="warning"))
        return out

    def completeness_warnings(self) -> list[Problem]:
        """Units present in one table but absent from another (warnings)."""
        out = []

        def ids(name, col):
            r = self.results.get(name)
            if r is None or r.raw is None or col not in r.raw.columns:
                return None
            v = r.raw[col].to_numpy(dtype=object)
            return set(v[v != ""])

        pairs = (("community_boundaries", "community_id", "communities", "community_id",
                  "communities without a row in communities.csv"),
                 ("subdistricts", "subdistrict_id", "platform", "subdistrict_id",
                  "sub-districts without a row in platform.csv (write an empty platform_year if it never adopted)"),
                 ("districts", "district_id", "subdistricts", "district_id", "districts without sub-districts"),
                 ("subdistricts", "subdistrict_id", "community_boundaries", "subdistrict_id",
                  "sub-districts without communities"))
        for a, ac, b, bc, what in pairs:
            x, y = ids(a, ac), ids(b, bc)
            if x is None or y is None:
                continue
            miss = sorted(x - y)
            if miss:
                out.append(Problem(self.results[b].file, bc, None, None, "completeness",
                                   f"{len(miss)} {what}, e.g. {', '.join(miss[:EXAMPLES])}", severity="warning"))
        # community x year panels: every community in every year the table covers
        comms = ids("communities", "community_id")
        for name in ("members", "joint_building", "assessment"):
            r = self.results.get(name)
            if comms is None or r is None or r.raw is None or not {"community_id", "year"} <= set(r.raw.columns):
                continue
            years = sorted({y for y in r.raw["year"] if y})
            have = set(zip(r.raw["community_id"], r.raw["year"]))
            miss = [f"{c}/{y}" for c in sorted(comms) for y in years if (c, y) not in have]
            if miss:
                out.append(Problem(r.file, "community_id/year", None, None, "completeness",
                                   f"{len(miss)} community-years missing (of {len(comms)} communities x "
                                   f"{len(years)} years), e.g. {', '.join(miss[:EXAMPLES])}; add them or check "
                                   "that the gaps are real", severity="warning"))
        # survey design information must be constant where the design says so
        sv = self.results.get("survey")
        if sv is not None and sv.raw is not None and sv.n:
            df = sv.raw
            for col, by in (("n_psu_stratum", ["district_id", "year"]), ("psu_prob", ["community_id", "year"])):
                if col in df.columns and set(by) <= set(df.columns):
                    nun = df.groupby(by, sort=True)[col].nunique()
                    bad = nun[nun > 1]
                    if len(bad):
                        ex = ", ".join("/".join(map(str, k)) for k in bad.index[:EXAMPLES])
                        out.append(Problem(sv.file, col, None, None, f"constant within {'/'.join(by)}",
                                           f"{len(bad)} {'/'.join(by)} groups have more than one {col}, e.g. {ex}; "
                                           "the design value is the same for every respondent of a group",
                                           severity="warning"))
            cb = self.results.get("community_boundaries")
            if "n_psu_stratum" in df.columns and cb is not None and cb.raw is not None and \
                    "district_id" in cb.raw.columns:
                n_comm = cb.raw.groupby("district_id").size()
                got = pd.to_numeric(df.drop_duplicates("district_id").set_index("district_id")["n_psu_stratum"],
                                    errors="coerce")
                exp = n_comm.reindex(got.index)
                bad = got[(exp.notna()) & (got != exp)]
                if len(bad):
                    ex = ", ".join(f"{k} ({_fmt_num(float(v))} vs {int(exp[k])})"
                                   for k, v in list(bad.items())[:EXAMPLES])
                    out.append(Problem(sv.file, "n_psu_stratum", None, None, "equals communities in district",
                                       f"{len(bad)} districts whose n_psu_stratum differs from the number of "
                                       f"communities in communities.geojson, e.g. {ex}; check the frame or "
                                       "the boundaries", severity="warning"))
        return out


def validate_dir(path, tables: list[str] | None = None) -> Report:
    """Check every table file of the folder ``path`` against the contract."""
    path = Path(path)
    report = Report(str(path))
    if not path.is_dir():
        report.problems.append(Problem(str(path), None, None, None, "folder",
                                       "the data folder does not exist or is not a folder; give the folder "
                                       "holding the CSV and GeoJSON files"))
        return report
    folder = Folder(path, cascade=False)
    names = list(tables) if tables else list(schema.TABLES)
    for name in names:
        res = folder.checked(name)
    for name in names:
        res = folder.results[name]
        report.problems.extend(p for p in res.problems)
        try:
            report.problems.extend(res.problems_from_issues())
        except Exception as e:  # pragma: no cover - defensive
            report.problems.append(Problem(res.file, None, None, None, "internal error",
                                           f"{type(e).__name__}: {e}"))
        report.tables[name] = TableSummary(res.file, res.n, int(res.error_mask().sum()) if res.n else 0,
                                           not res.fatal)
    if not tables:
        try:
            report.problems.extend(folder.completeness_warnings())
            report.problems.extend(folder.extra_warnings())
        except Exception as e:  # pragma: no cover - defensive
            report.problems.append(Problem(str(path), None, None, None, "internal error",
                                           f"{type(e).__name__}: {e}", severity="warning"))
    return report


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers validate",
        description="Check a data folder (CSV tables and GeoJSON boundaries) against the data contract "
                    "in helpers/data/schema.py (described in data/README.md). Prints one line per problem "
                    "(file, column, rows/keys, rule, what to do); exits 0 if the folder passes, 1 if not, "
                    "2 on usage errors.",
        epilog="Examples:\n  python -m helpers validate data\n"
               "  python -m helpers validate my_data --quarantine my_data_rejected\n\n" + ROW_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="the data folder to check")
    p.add_argument("--quarantine", metavar="OUT_DIR",
                   help="also load every table, setting rows that break row-level rules aside into "
                        "OUT_DIR/<table>.rejected.csv (with _row and _reason columns); then exit 0 "
                        "if what remains is usable")
    p.add_argument("--max-lines", metavar="N", type=int, default=60,
                   help="print at most N problem lines (default 60; 0 = all)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help -> 0, usage error -> 2
        return int(e.code or 0)
    try:
        path = Path(ns.dir)
        if not path.is_dir():
            print(f"python -m helpers validate: error: {ns.dir}: no such folder", file=sys.stderr)
            return 2
        report = validate_dir(path)
        if ns.json:
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        else:
            print(report.format(max_lines=ns.max_lines))
        if not ns.quarantine:
            return 0 if report.ok else 1
        import logging

        from helpers.data.load import quarantine_folder

        lg = logging.getLogger("helpers.data.load")
        level = lg.level
        lg.setLevel(logging.ERROR)  # the summary is printed below; no duplicate log lines
        try:
            summary = quarantine_folder(path, ns.quarantine)
        finally:
            lg.setLevel(level)
        print()
        print(summary.format())
        return 0 if summary.ok else 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for users
        print(f"python -m helpers validate: internal error: {type(e).__name__}: {e} "
              "(please report this; set HELPERS_DEBUG=1 for details)", file=sys.stderr)
        import os

        if os.environ.get("HELPERS_DEBUG"):
            traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
