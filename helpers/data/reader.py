"""Read one table file: the parser of the data contract, and the objects that carry what it found.

:func:`read` turns a file's bytes into a :class:`TableResult`: a frame of the values as strings
with their data row numbers (CSV), or the feature properties, geometries and CRS (GeoJSON),
reporting file-level problems: a missing file (with a hint naming the file that probably holds the
table), encoding, delimiter, unparseable text, missing/extra/duplicated columns, a missing or
wrong CRS. :func:`helpers.data.table_checks.check` then checks the table on its own, and
:class:`helpers.data.validate.Folder` across tables.

Every problem is one :class:`Problem` line naming the file, the column, the row(s) and key(s) and
the rule, and saying what to do. Row numbers count *data* rows from 1 (the header is not counted, so
in a spreadsheet row N is on line N + 1); in a GeoJSON file the row is the feature's position
(1 = first feature).
"""
from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import schema
from helpers.data.schema import Table, fmt_num

#: Rows/keys/values quoted on a grouped problem line.
EXAMPLES: int = 3
#: Workbook suffixes: such files are converted to contract files by the import command.
WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xls", ".ods")
#: The command that converts workbooks and CSVs in other encodings into contract files.
IMPORT_COMMAND: str = "python -m helpers import"

ROW_NOTE = ("Row numbers count data rows from 1 (the header is not counted: in a spreadsheet, "
            "row N is on line N+1); in GeoJSON files the row is the feature's position.")

#: Severities of a problem, most serious first: an *error* fails the folder, a *warning* is worth a
#: look (the folder passes), a *notice* is information (an optional table is absent).
SEVERITIES: tuple[str, ...] = ("error", "warning", "notice")


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
    severity: str = "error"  # one of SEVERITIES
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
    """Parsed and checked content of one table file (used by :mod:`helpers.data.validate` and
    :mod:`helpers.data.load`). ``absent`` is True when an optional table's file is not in the folder."""

    table: Table
    path: Path
    problems: list[Problem] = field(default_factory=list)  # file-level errors, warnings and notices
    absent: bool = False
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


def isin(values, choices) -> np.ndarray:
    """Hash-based membership test for object arrays (np.isin sorts objects: slow)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object).isin(list(choices)).to_numpy(dtype=bool)


# ----------------------------------------------------------------------------------------------
# Reading: bytes -> text -> records
# ----------------------------------------------------------------------------------------------
def _decode(res: TableResult, data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        res.file_problem("not a text file", "this is a ZIP container (an Excel .xlsx file renamed?); "
                         f"convert the workbook with {IMPORT_COMMAND}, or export the sheet as 'CSV UTF-8' / "
                         "save as GeoJSON instead")
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
            "re-save the file as UTF-8 (e.g. Excel 'CSV UTF-8', or iconv -f GB18030 -t UTF-8), or convert it "
            f"with {IMPORT_COMMAND}")
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


# ----------------------------------------------------------------------------------------------
# GeoJSON: features -> properties, geometries and CRS
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
    if not feats and res.table.required:
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
            res.file_problem("CRS", f"the coordinates (bounds {', '.join(fmt_num(float(x)) for x in b)}) look "
                             f"like longitude/latitude degrees although the file declares {name}; "
                             "reproject properly instead of relabelling the CRS")
    return header, df
# ----------------------------------------------------------------------------------------------
# Reading a table file
# ----------------------------------------------------------------------------------------------

def read(res: TableResult) -> None:
    """Read ``res.path`` into ``res.raw`` (stripped strings, ``""`` = missing) and ``res.row_no``
    (plus ``res.geometry`` and ``res.crs`` for GeoJSON), recording file-level problems in
    ``res.problems``. A required table's missing file is an error; an optional table's is a notice
    (``res.absent``). ``res.raw`` stays None when the file cannot be read as a table."""
    path, t = res.path, res.table
    if not path.is_file():
        _missing(res)
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
        header, df = _geo_frame(res, obj)
        res.geo_text = None  # free the text
        if len(df):  # a collection without features has no properties to check
            _check_header(res, header)
        res.raw = df


def _missing(res: TableResult) -> None:
    t = res.table
    hint = _found_instead(res.path.parent, t.file)
    if t.required:
        res.file_problem("missing file", f"the file {t.file} ({t.description}) is missing{hint}; "
                         "add it (columns: " + ", ".join(t.column_names) + ")")
        return
    res.absent = True
    res.file_problem("optional table", f"absent (optional) - studies that need it are skipped{hint}",
                     severity="warning" if hint else "notice")


def _found_instead(folder: Path, file: str) -> str:
    """A hint naming the file in ``folder`` that probably holds ``file``'s table, or ``""``."""
    if not folder.is_dir():
        return ""
    others = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    case = [o for o in others if o.lower() == file.lower()]
    if case:
        return f" (found '{case[0]}': file names are case-sensitive, rename it)"
    contract = {t.file for t in schema.TABLES.values()}
    stem = Path(file).stem.lower()
    same_stem = [o for o in others if Path(o).stem.lower() == stem and o not in contract]
    books = [o for o in others if Path(o).suffix.lower() in WORKBOOK_SUFFIXES]
    named = [o for o in same_stem if o in books]
    if named:
        return f" (found the workbook '{named[0]}': convert it with {IMPORT_COMMAND})"
    if same_stem:
        return f" (found '{same_stem[0]}': export it as {Path(file).suffix[1:].upper()})"
    if books:
        listed = ", ".join(f"'{b}'" for b in books[:EXAMPLES]) + (", ..." if len(books) > EXAMPLES else "")
        where = "one of them" if len(books) > 1 else "it"
        return (f" (found the workbook{'s' if len(books) > 1 else ''} {listed}: if the table is in {where}, "
                f"convert it with {IMPORT_COMMAND})")
    return ""
