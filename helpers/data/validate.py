"""Check a data folder against the data contract (:mod:`helpers.data.schema`).

Python::

    report = validate_dir("data")
    report.ok, report.counts, report.absent_optional, print(report.format())

(the command line, ``python -m helpers validate DIR``, is :mod:`helpers.cli`'s). Each table is read
by :mod:`helpers.data.reader` and checked on its own by :mod:`helpers.data.table_checks`;
:class:`Folder` adds the checks across tables
(references, consistency, nesting, points inside their community, one CRS), the study period
(:mod:`helpers.data.period`), completeness and the files beside the tables.

Every problem is one line naming the file, the column, the row(s) and key(s) and the rule, and says
what to do. Many rows breaking the same rule in the same column become one grouped line with the
count and the first few rows. Problems are *errors* (the folder fails), *warnings* (worth a look,
the folder still passes) or *notices* (information: an optional table is absent). Errors are
*file-level* (the table cannot be used: missing file or column, bad encoding, unparseable, wrong
CRS ...) or *row-level* (a value or row breaks a rule). :mod:`helpers.data.load` can set rows with
row-level errors aside (quarantine) and load the rest.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import period as periods
from helpers.data import reader, schema, table_checks
from helpers.data.reader import EXAMPLES, ROW_NOTE, Problem, TableResult, isin
from helpers.data.schema import NEST_TOLERANCE_M2, POINT_TOLERANCE_M, fmt_num

#: Files beside the tables that are not tables (never reported as unknown).
KNOWN_EXTRA_FILES: frozenset[str] = frozenset(
    {schema.GROUND_TRUTH_FILE, schema.METADATA_FILE, "README.md", ".gitattributes", ".gitkeep"}
)


@dataclass
class TableSummary:
    file: str
    rows_read: int = 0
    rows_with_errors: int = 0
    usable: bool = False  # no file-level error
    absent: bool = False  # an optional table whose file is not in the folder


@dataclass
class Report:
    """What :func:`validate_dir` found: the problems, a summary per table and the study period."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, TableSummary] = field(default_factory=dict)
    period: periods.StudyPeriod | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def notices(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "notice"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def absent_optional(self) -> list[str]:
        """Names of the optional tables whose files are absent, in contract order."""
        return [name for name, t in self.tables.items() if t.absent]

    @property
    def counts(self) -> dict:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "notices": len(self.notices),
            "rows_read": {t.file: t.rows_read for t in self.tables.values()},
            "rows_with_errors": {t.file: t.rows_with_errors for t in self.tables.values()},
        }

    def lines(self) -> list[str]:
        """One line per problem: errors, then warnings, then notices."""
        return [p.line() for p in (*self.errors, *self.warnings, *self.notices)]

    def format(self, max_lines: int | None = None) -> str:
        lines = self.lines()
        shown = lines if not max_lines or max_lines <= 0 else lines[:max_lines]
        period = ""
        if self.period is not None:
            period = f"; study period {self.period}, " + (
                f"declared in {self.period.source}" if self.period.declared else f"from {self.period.source}")
        absent = f", {len(self.absent_optional)} optional ones absent" if self.absent_optional else ""
        out = [f"Checked {self.path} against the data contract ({len(self.tables)} tables{absent}{period}): "
               f"{'PASSED' if self.ok else 'FAILED'}, {_plural(len(self.errors), 'error')}, "
               f"{_plural(len(self.warnings), 'warning')}, {_plural(len(self.notices), 'notice')}."]
        out += shown
        if len(shown) < len(lines):
            out.append(f"... and {len(lines) - len(shown)} more lines (use --max-lines 0 to see all).")
        if any(p.row is not None for p in self.problems):
            out.append(ROW_NOTE)
        return "\n".join(out)

    __str__ = format

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "counts": self.counts,
                "study_period": None if self.period is None else [self.period.first, self.period.last],
                "absent_optional": self.absent_optional,
                "problems": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in p.__dict__.items()}
                             | {"line": p.line()} for p in self.problems]}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _spans(years: list[int]) -> str:
    """``[2018, 2019, 2020, 2022]`` -> ``"2018-2020, 2022"``."""
    out, start = [], None
    for i, y in enumerate(years):
        if start is None:
            start = y
        if i + 1 == len(years) or years[i + 1] != y + 1:
            out.append(str(y) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(out)


# ----------------------------------------------------------------------------------------------
# Folder: read and check tables on demand, then cross-table checks
# ----------------------------------------------------------------------------------------------
class Folder:
    """A data folder being checked. ``cascade=True`` checks references against the rows of the
    referenced table that pass (so rejecting a community also rejects the rows that point to it),
    as :mod:`helpers.data.load` does in quarantine mode; ``cascade=False`` against all its ids.

    :attr:`period` is the folder's study period (declared in ``metadata.json``, else the span of the
    years in its yearly tables); :attr:`metadata_problems` what is wrong with ``metadata.json``.
    """

    def __init__(self, path, cascade: bool = False):
        self.path = Path(path)
        self.cascade = cascade
        self.results: dict[str, TableResult] = {}
        self.metadata_problems: list[Problem] = []
        self._checked_alone: set[str] = set()
        self._metadata: dict | None = None
        self._period: periods.StudyPeriod | None = None
        self._period_known = False

    # -- metadata and the study period -----------------------------------------------------------
    @property
    def metadata(self) -> dict:
        """``metadata.json`` parsed (``{}`` when absent or unreadable: a warning says why)."""
        if self._metadata is None:
            self._metadata = {}
            f = self.path / schema.METADATA_FILE
            if f.is_file():
                try:
                    m = json.loads(f.read_text(encoding="utf-8"))
                except (ValueError, OSError) as e:
                    self._meta_problem("parse JSON", f"cannot read it ({e}); fix the JSON or remove the file",
                                       "warning")
                else:
                    if isinstance(m, dict):
                        self._metadata = m
                    else:
                        self._meta_problem("parse JSON", "it is not a JSON object ({...}); fix it or remove "
                                           "the file", "warning")
        return self._metadata

    def _meta_problem(self, rule: str, message: str, severity: str) -> None:
        self.metadata_problems.append(Problem(schema.METADATA_FILE, None, None, None, rule, message, severity))

    @property
    def period(self) -> periods.StudyPeriod | None:
        """The study period: declared in ``metadata.json``, else the span of the plausible years in
        the yearly tables (None when neither says)."""
        if not self._period_known:
            self._period_known = True
            try:
                self._period = periods.declared(self.metadata)
            except periods.PeriodError as e:
                self._meta_problem("study period", str(e), "error")
            if self._period is None:
                self._period = periods.from_years(
                    {t.file: self._years(name) for name, t in schema.TABLES.items() if t.yearly})
        return self._period

    def _years(self, name: str) -> list[int]:
        res = self.read(name)
        if res.raw is None or "year" not in res.raw.columns:
            return []
        v = pd.to_numeric(pd.Series(res.raw["year"].to_numpy(dtype=object), dtype=object).str.strip(),
                          errors="coerce").dropna()
        return sorted({int(y) for y in v.unique() if float(y).is_integer()})

    # -- reading ------------------------------------------------------------------------------
    def read(self, name: str) -> TableResult:
        """The table's file, read (:func:`helpers.data.reader.read`) but not yet checked."""
        if name not in self.results:
            table = schema.TABLES[name]
            res = TableResult(table, self.path / table.file)
            try:
                reader.read(res)
            except Exception as e:  # never a traceback: report it
                res.raw = None
                res.file_problem("internal error", f"the validator failed on this file ({type(e).__name__}: "
                                 f"{e}); please report this with the file")
            self.results[name] = res
        return self.results[name]

    def parsed(self, name: str) -> TableResult:
        """The table read and checked on its own (:func:`helpers.data.table_checks.check`)."""
        res = self.read(name)
        if name not in self._checked_alone:
            self._checked_alone.add(name)
            try:
                table_checks.check(res, self.period)
            except Exception as e:  # never a traceback: report it
                res.raw = None
                res.file_problem("internal error", f"the validator failed on this file ({type(e).__name__}: "
                                 f"{e}); please report this with the file")
        return res

    # -- cross-table ----------------------------------------------------------------------------
    def dependencies(self, name: str) -> list[str]:
        """Tables whose files the checks of ``name`` read (``name`` first)."""
        out: dict[str, None] = {name: None}
        t = schema.TABLES[name]
        direct = [c.references.split(".")[0] for c in t.columns if c.references]
        direct += [c.via for c in t.consistency]
        if t.geometry:
            direct += [n for n, x in schema.TABLES.items() if x.geometry][:1]  # CRS reference layer
            if t.parent:
                direct.append(t.parent)
            if t.geometry == "Point":
                direct.append("community_boundaries")
        period_bound = any(c.dtype == "year" or c.max == schema.PERIOD_END for c in t.columns)
        if period_bound and not (self.period is not None and self.period.declared):
            direct += [n for n, x in schema.TABLES.items() if x.yearly]  # the period is their years' span
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
            bad = (v != "") & ~isin(v, ids)
            if bad.any():
                allids = ref.raw[rc].to_numpy(dtype=object) if ref.raw is not None else np.array([], object)
                first_row = pd.Series(ref.row_no, index=allids)
                first_row = first_row[~first_row.index.duplicated()]
                where = first_row.reindex(v[bad]).to_numpy()
                details = [f"value {x!r}" + (f" (rejected in {ref.file}, row {int(r)})" if pd.notna(r) else "")
                           for x, r in zip(v[bad], where)]
                res.add(col.name, f"references {col.references}", bad, details,
                        f"no row of {ref.file} has this {rc}; correct the id or add the missing row to {ref.file}")
        for rule in t.consistency:
            column, via, via_key, via_col = rule.column, rule.via, rule.via_key, rule.via_column
            if column not in df.columns or via_key not in df.columns:
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
                [f"{fmt_num(round(float(a), 1))} m² outside {t.parent_key} {k!r}"
                 for a, k in zip(areas[outside], keys[outside])],
                f"the polygon must lie inside its {t.parent_key}'s polygon in {p.file} (tolerance "
                f"{fmt_num(NEST_TOLERANCE_M2)} m²); fix the boundary or the {t.parent_key}")
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
                    gaps.append(f"{k} ({fmt_num(round(gap))} m²)")
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
        keys = np.asarray(res.key_strings(np.arange(res.n)), dtype=object)
        mask = np.zeros(res.n, dtype=bool)
        first: dict[int, str] = {}
        for i, j, ar in zip(idx[a], idx[b], area):
            mask[i] = True
            first.setdefault(int(i), f"overlaps {keys[j]} by {fmt_num(round(float(ar), 1))} m²")
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
                [f"{fmt_num(round(float(d), 1))} m outside community {k!r}" for d, k in zip(dist[bad], keys[bad])],
                "the point must lie inside its community's polygon; fix the location or the community_id")

    # -- folder-level ---------------------------------------------------------------------------
    def extra_warnings(self) -> list[Problem]:
        """Files the contract does not know, and files that differ from the checksums in ``metadata.json``."""
        out: list[Problem] = []
        if not self.path.is_dir():
            return out
        known = {t.file for t in schema.TABLES.values()} | KNOWN_EXTRA_FILES
        meta_files = self.metadata.get("files")
        meta_files = meta_files if isinstance(meta_files, dict) else {}
        for p in sorted(self.path.iterdir()):
            if p.is_file() and p.name not in known and p.name not in meta_files and not p.name.startswith("."):
                if p.suffix.lower() in reader.WORKBOOK_SUFFIXES:
                    out.append(Problem(p.name, None, None, None, "unknown file",
                                       "a workbook is not read; convert it into contract files with "
                                       f"{reader.IMPORT_COMMAND}", severity="warning"))
                elif p.suffix.lower() in (".csv", ".geojson", ".json", ".shp", ".gpkg"):
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

    def period_warnings(self) -> list[Problem]:
        """Yearly tables with no rows in some years of the study period (warnings)."""
        out: list[Problem] = []
        p = self.period
        if p is None:
            return out
        for name, t in schema.TABLES.items():
            r = self.results.get(name)
            if not t.yearly or r is None or not r.n or "year" not in r.values:
                continue
            y = np.asarray(r.values["year"], dtype=float)
            have = {int(v) for v in np.unique(y[np.isfinite(y)])}
            miss = [v for v in p.years if v not in have]
            if miss:
                src = f"declared in {p.source}" if p.declared else f"the span of {p.source}"
                out.append(Problem(r.file, "year", None, None, "covers study period",
                                   f"no rows in {len(miss)} of the {len(p.years)} years of the study period {p} "
                                   f"({src}): {_spans(miss)}; add them if the data exist (the studies use the "
                                   "years present)", severity="warning"))
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
        # yearly tables: every year of the study period
        out += self.period_warnings()
        # community x year panels: every community in every year the table covers
        comms = ids("communities", "community_id")
        for name in (n for n, t in schema.TABLES.items() if t.key == ("community_id", "year")):
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
                    ex = ", ".join(f"{k} ({fmt_num(float(v))} vs {int(exp[k])})"
                                   for k, v in list(bad.items())[:EXAMPLES])
                    out.append(Problem(sv.file, "n_psu_stratum", None, None, "equals communities in district",
                                       f"{len(bad)} districts whose n_psu_stratum differs from the number of "
                                       f"communities in communities.geojson, e.g. {ex}; check the frame or "
                                       "the boundaries", severity="warning"))
        return out


def validate_dir(path, tables: list[str] | None = None) -> Report:
    """Check the data folder ``path`` against the contract.

    Parameters
    ----------
    path : str or Path
        The data folder (as the user gave it: problem lines and the report name it so).
    tables : list of str, optional
        Check only these tables (and, lazily, what their checks read); the folder-wide checks
        (completeness, study-period coverage, unknown files, checksums) run only without it.

    Returns
    -------
    Report
        Problems (errors, warnings, notices), a :class:`TableSummary` per table, the study period
        and :attr:`Report.absent_optional`.
    """
    path = Path(path)
    report = Report(str(path))
    if not path.is_dir():
        what = (f"this is a file, not a data folder; give the folder that holds the tables (e.g. {path.parent})"
                if path.is_file() else "the data folder does not exist; give the folder holding the CSV and "
                "GeoJSON files")
        report.problems.append(Problem(str(path), None, None, None, "folder", what))
        return report
    folder = Folder(path, cascade=False)
    names = list(tables) if tables else list(schema.TABLES)
    for name in names:
        folder.checked(name)
    for name in names:
        res = folder.results[name]
        report.problems.extend(res.problems)
        try:
            report.problems.extend(res.problems_from_issues())
        except Exception as e:  # pragma: no cover - defensive
            report.problems.append(Problem(res.file, None, None, None, "internal error",
                                           f"{type(e).__name__}: {e}"))
        report.tables[name] = TableSummary(res.file, res.n, int(res.error_mask().sum()) if res.n else 0,
                                           not res.fatal, res.absent)
    report.period = folder.period
    report.problems.extend(folder.metadata_problems)
    if not tables:
        try:
            report.problems.extend(folder.completeness_warnings())
            report.problems.extend(folder.extra_warnings())
        except Exception as e:  # pragma: no cover - defensive
            report.problems.append(Problem(str(path), None, None, None, "internal error",
                                           f"{type(e).__name__}: {e}", severity="warning"))
    return report
