"""Load the tables through the data contract.

Every table is read with :mod:`helpers.data.validate`'s checks, so a notebook never works on data
that breaks the contract::

    from helpers.data.load import load_table, load_all, load_survey, study_period
    survey = load_survey()                       # respondents only
    members = load_table("members")
    tables = load_all(on_error="quarantine", quarantine_dir="tmp/quarantine")
    period = study_period()                      # StudyPeriod(first=2018, last=2024, ...)

Required and optional tables: the boundaries and the community attributes
(:data:`helpers.data.schema.REQUIRED_TABLES`) are in every valid folder; the other tables may be
absent. :func:`available_tables` names the tables a folder has; :func:`load_all` returns only those
(an absent optional table is simply not in the dict); :func:`load_table` of an absent optional table
raises :class:`AbsentTableError` naming the file.

The study period (:mod:`helpers.data.period`) is the folder's: declared in ``metadata.json``
(``"study_period": [first, last]``), else the span of the years in its yearly tables.
:func:`study_period` and :func:`study_years` give it for a folder, or for frames loaded from one:
every frame returned here carries it in ``df.attrs["study_period"]``.

Dtypes of the returned frames (one choice, everywhere):

* ``int`` and ``year`` columns: ``int64``; ``Int64`` (nullable) when the column may be empty;
* ``bool`` columns: integers 0/1, ``int64`` (``Int64`` when nullable) -- so ``df.col.mean()`` is a rate;
* ``float`` columns: ``float64`` with ``NaN`` for missing;
* ``str`` and ``category`` columns: pandas' string dtype ``str`` (missing = ``NaN``);
* geometry tables come back as GeoDataFrames with a ``geometry`` column and the file's CRS.

``on_error="raise"`` (default) raises :class:`DataContractError` listing the problems.
``on_error="quarantine"`` removes the rows that break row-level rules, writes them to
``<quarantine_dir>/<table>.rejected.csv`` with ``_row`` (data row number in the file) and
``_reason`` columns, logs a summary and returns the rest; references are then checked against
the *accepted* rows of the referenced table, so rejecting a community also rejects the rows that
point to it. File-level problems (missing file or column, bad encoding, wrong CRS ...) cannot be
quarantined and always raise. Rows read = accepted + rejected, always (asserted).

Loaded frames are cached per folder and invalidated when a file changes; every call returns a
fresh copy, so changing a returned frame never changes what the next caller gets.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.data import period as periods
from helpers.data import schema
from helpers.data.period import StudyPeriod
from helpers.data.reader import ROW_NOTE, TableResult
from helpers.data.validate import Folder

log = logging.getLogger("helpers.data.load")

#: Where quarantined rows go when no ``quarantine_dir`` is given (git-ignored).
DEFAULT_QUARANTINE_DIR: Path = paths.ROOT / "tmp" / "quarantine"

_LOCK = threading.RLock()
_FOLDERS: dict[tuple, tuple[tuple, Folder]] = {}
_FRAMES: dict[tuple, tuple[tuple, pd.DataFrame, tuple[Path, ...]]] = {}


def _note_reads(files) -> None:
    """Tell :mod:`helpers.publish.provenance` which data files a result depends on (for the build's cache)."""
    from helpers.publish.provenance import note_data_read  # stdlib only: cheap, and no import cycle

    for f in files:
        if Path(f).is_file():
            note_data_read(f)


class DataContractError(ValueError):
    """The data break the contract; the message lists the problems, one per line."""

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class AbsentTableError(DataContractError):
    """An optional table's file is not in the data folder (the message names the file and the folder)."""


@dataclass
class LoadReport:
    """Accounting of one table's load: rows read = accepted + rejected."""

    table: str
    file: str
    rows_read: int
    accepted: int
    rejected: int
    quarantine_file: str | None = None
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.accepted + self.rejected == self.rows_read, "rows lost while loading"

    @property
    def summary(self) -> str:
        s = f"{self.file}: {self.rows_read} rows read = {self.accepted} accepted + {self.rejected} rejected"
        if self.quarantine_file:
            s += f" (quarantine: {self.quarantine_file})"
        if self.blank_rows:
            s += f"; {self.blank_rows} blank rows skipped"
        return s

    def as_dict(self) -> dict:
        return {"table": self.table, "file": self.file, "rows_read": self.rows_read,
                "accepted": self.accepted, "rejected": self.rejected,
                "quarantine_file": self.quarantine_file, "blank_rows": self.blank_rows,
                "summary": self.summary, "warnings": list(self.warnings)}

    __str__ = lambda self: self.summary  # noqa: E731


def clear_cache() -> None:
    """Forget every cached table (they are re-read on the next load)."""
    with _LOCK:
        _FOLDERS.clear()
        _FRAMES.clear()


def _signature(data_dir: Path) -> tuple:
    sig = []
    for f in (*(t.file for t in schema.TABLES.values()), schema.METADATA_FILE):  # metadata: the study period
        p = data_dir / f
        try:
            st = p.stat()
            sig.append((f, st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((f, None, None))
    return tuple(sig)


def _folder(data_dir: Path, cascade: bool, sig: tuple) -> Folder:
    key = (str(data_dir), cascade)
    hit = _FOLDERS.get(key)
    if hit and hit[0] == sig:
        return hit[1]
    f = Folder(data_dir, cascade=cascade)
    _FOLDERS[key] = (sig, f)
    return f


def _resolve(data_dir) -> Path:
    return Path(paths.DATA_DIR if data_dir is None else data_dir).resolve()


def _error_message(res: TableResult, data_dir: Path, quarantine: bool) -> str:
    probs = [p for p in res.problems if p.severity == "error"] + [
        p for p in res.problems_from_issues() if p.severity == "error"]
    lines = [f"cannot load {res.file} from {data_dir}: it breaks the data contract "
             f"({len(probs)} problem{'s' if len(probs) != 1 else ''}):"]
    lines += ["  " + p.line() for p in probs]
    if any(p.row is not None for p in probs):
        lines.append("  " + ROW_NOTE)
    if quarantine:
        lines.append("File-level problems cannot be quarantined: fix the file.")
    else:
        lines.append("Fix the data, or load with on_error='quarantine' to set rows that break row-level rules "
                     "aside. Full report: python -m helpers validate " + str(data_dir))
    return "\n".join(lines)


def _typed_frame(res: TableResult, keep: np.ndarray) -> pd.DataFrame:
    cols = {}
    for col in res.table.columns:
        v = res.values.get(col.name)
        if v is None:  # a GeoJSON file without features has no properties
            assert res.n == 0, f"{res.file}: {col.name}: no values"
            v = np.array([], dtype=object if col.dtype in ("str", "category") else float)
        if col.dtype in ("str", "category"):
            cols[col.name] = pd.Series(pd.Series(v, dtype=object).to_numpy()[keep], dtype="str")
        else:
            a = np.asarray(v, dtype=float)[keep]
            if col.dtype == "float":
                cols[col.name] = pd.Series(a, dtype="float64")
            elif col.nullable:
                cols[col.name] = pd.Series(a, dtype="float64").astype("Int64")
            else:
                assert not np.isnan(a).any(), f"{res.file}: {col.name}: missing values in a non-nullable column"
                cols[col.name] = pd.Series(a.astype(np.int64), dtype="int64")
    df = pd.DataFrame(cols, columns=res.table.column_names)
    if res.table.geometry is not None:
        import geopandas as gpd

        geoms = res.geometry[keep] if res.geometry is not None else np.array([], dtype=object)
        df = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=res.crs).values, crs=res.crs)
    return df


def _write_rejected(res: TableResult, bad: np.ndarray, qdir: Path) -> Path:
    qdir.mkdir(parents=True, exist_ok=True)
    out = qdir / f"{res.table.name}.rejected.csv"
    rej = res.raw.loc[bad].copy() if res.raw is not None else pd.DataFrame()
    rej.insert(0, "_row", res.row_no[bad])
    if res.geometry is not None:
        rej["geometry"] = [g.wkt if g is not None else "" for g in res.geometry[bad]]
    rej["_reason"] = res.reasons(bad)
    tmp = out.with_suffix(".csv.tmp")
    rej.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    tmp.replace(out)
    return out


def _absent_message(table: schema.Table, data_dir: Path) -> str:
    return (f"{table.file} is absent from {data_dir}: {table.name} is an optional table ({table.description}) "
            "and this folder does not have it; add the file, or skip what needs it "
            "(helpers.data.load.available_tables lists the tables a folder has)")


def _period_errors(folder: Folder, data_dir: Path) -> None:
    folder.period  # noqa: B018 - resolving the period records what is wrong with metadata.json
    errs = [p for p in folder.metadata_problems if p.severity == "error"]
    if errs:
        raise DataContractError("\n".join([f"cannot load from {data_dir}: {schema.METADATA_FILE} breaks the data "
                                            "contract:"] + ["  " + p.line() for p in errs]), errs)


def _build(name: str, data_dir: Path, on_error: str, qdir: Path | None, folder: Folder) -> pd.DataFrame:
    res = folder.read(name)
    if res.absent:
        raise AbsentTableError(_absent_message(res.table, data_dir), res.problems)
    _period_errors(folder, data_dir)
    res = folder.checked(name)
    quarantine = on_error == "quarantine"
    if res.fatal:
        raise DataContractError(_error_message(res, data_dir, quarantine), res.problems)
    bad = res.error_mask()
    if bad.any() and not quarantine:
        raise DataContractError(_error_message(res, data_dir, False), res.problems_from_issues())
    keep = ~bad
    df = _typed_frame(res, keep)
    qfile = None
    if quarantine:
        qfile = str(_write_rejected(res, bad, qdir))
    rep = LoadReport(name, res.file, res.n, int(keep.sum()), int(bad.sum()), qfile,
                     res.blank_rows, [p.line() for p in res.problems if p.severity != "error"])
    assert len(df) == rep.accepted
    if rep.rejected:
        log.warning(rep.summary)
    else:
        log.info(rep.summary)
    df.attrs["load_report"] = rep.as_dict()
    if folder.period is not None:
        df.attrs[periods.ATTR] = folder.period
    return df


def load_table(name: str, data_dir=None, on_error: str = "raise", quarantine_dir=None) -> pd.DataFrame:
    """Load one table (a name in :data:`helpers.data.schema.TABLES`) through the contract.

    Returns a DataFrame (a GeoDataFrame for geometry tables) with the dtypes described in this
    module's docstring, ``df.attrs["load_report"]`` (rows read / accepted / rejected) and
    ``df.attrs["study_period"]`` (the folder's :class:`~helpers.data.period.StudyPeriod`, when known).
    An optional table with a header only gives a frame with zero rows.

    Raises
    ------
    AbsentTableError
        ``name`` is an optional table whose file the folder does not have.
    DataContractError
        The table (or the tables its checks read, or ``metadata.json``) breaks the contract.
    """
    if name not in schema.TABLES:
        raise KeyError(f"unknown table {name!r}; tables: {', '.join(schema.TABLES)}")
    if on_error not in ("raise", "quarantine"):
        raise ValueError("on_error must be 'raise' or 'quarantine'")
    data_dir = _resolve(data_dir)
    qdir = None
    if on_error == "quarantine":
        qdir = Path(quarantine_dir if quarantine_dir is not None else DEFAULT_QUARANTINE_DIR).resolve()
    with _LOCK:
        sig = _signature(data_dir)
        key = (str(data_dir), name, on_error, str(qdir))
        hit = _FRAMES.get(key)
        if hit and hit[0] == sig and (qdir is None or (qdir / f"{name}.rejected.csv").is_file()):
            df, deps = hit[1], hit[2]
        else:
            folder = _folder(data_dir, on_error == "quarantine", sig)
            # the checks read the referenced tables and the metadata too: the result depends on them
            deps = tuple(data_dir / schema.TABLES[d].file for d in folder.dependencies(name)) + (
                data_dir / schema.METADATA_FILE,)
            try:
                df = _build(name, data_dir, on_error, qdir, folder)
            finally:
                _note_reads(deps)
            _FRAMES[key] = (sig, df, deps)
        _note_reads(deps)
        return _copy(df)


def _copy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=True)
    out.attrs = {"load_report": dict(df.attrs.get("load_report", {}))}
    if periods.ATTR in df.attrs:
        out.attrs[periods.ATTR] = df.attrs[periods.ATTR]  # frozen: shared safely
    return out


def available_tables(data_dir=None) -> list[str]:
    """Names of the tables whose files the folder has, in :data:`helpers.data.schema.TABLES` order
    (required tables are listed whether present or not: loading a missing one raises)."""
    data_dir = _resolve(data_dir)
    return [n for n, t in schema.TABLES.items() if t.required or (data_dir / t.file).is_file()]


def load_all(data_dir=None, on_error: str = "raise", quarantine_dir=None, tables=None) -> dict[str, pd.DataFrame]:
    """Load every table the folder has (or only those named in ``tables``); a dict name -> frame in
    :data:`helpers.data.schema.TABLES` order.

    Absent optional tables are not in the dict (:func:`available_tables`); test with
    ``"service_points" in tables``. A study loads only the tables it uses (``tables=``), so that it
    reads - and its report depends on - nothing else. With ``on_error="raise"`` the error lists the
    problems of every failing table.
    """
    if tables is not None:
        unknown = sorted(set(tables) - set(schema.TABLES))
        if unknown:
            raise KeyError(f"unknown tables {unknown}; the contract's tables are {', '.join(schema.TABLES)}")
    out, errors = {}, []
    for name in available_tables(data_dir):
        if tables is not None and name not in tables:
            continue
        try:
            out[name] = load_table(name, data_dir, on_error, quarantine_dir)
        except DataContractError as e:
            errors.append(str(e))
    if errors:
        raise DataContractError("\n".join(errors))
    return out


# -- the study period --------------------------------------------------------------------------------
def study_period(source=None) -> StudyPeriod:
    """The study period of a data folder, or of frames loaded from one.

    Parameters
    ----------
    source : str, Path, DataFrame, dict of DataFrames or None
        A data folder (None: the default, :data:`helpers.paths.DATA_DIR`), a frame returned by this
        module, or a dict of them such as :func:`load_all` returns.

    Returns
    -------
    StudyPeriod
        ``first``, ``last`` (inclusive), ``years`` (every year from first to last) and ``source``
        (``"metadata.json"`` when declared there, else the files whose years span it).

    Raises
    ------
    DataContractError
        ``metadata.json`` declares a malformed period, or the folder declares none and has no
        yearly table to take it from; or the frames carry no period.
    """
    if isinstance(source, (pd.DataFrame, dict)):
        p = periods.of(source)
        if p is None:
            raise DataContractError("the frames carry no study period (frames from helpers.data.load carry it in "
                                    f"df.attrs[{periods.ATTR!r}]); give the data folder instead")
        return p
    data_dir = _resolve(source)
    with _LOCK:
        folder = _folder(data_dir, False, _signature(data_dir))
        _period_errors(folder, data_dir)
        p = folder.period
    _note_reads([data_dir / schema.METADATA_FILE] + ([] if p is None or p.declared else
                                                      [data_dir / t.file for t in schema.TABLES.values() if t.yearly]))
    if p is None:
        yearly = ", ".join(t.file for t in schema.TABLES.values() if t.yearly)
        raise DataContractError(f"the study period of {data_dir} is unknown: {schema.METADATA_FILE} declares no "
                                f"\"{periods.KEY}\" and no yearly table ({yearly}) has a year; add "
                                f"\"{periods.KEY}\": [first, last] to {schema.METADATA_FILE}")
    return p


def study_years(source=None) -> list[int]:
    """Every year of :func:`study_period` (``source`` as there), in order."""
    return study_period(source).years


# -- convenience ---------------------------------------------------------------------------------
def load_survey(data_dir=None, *, respondents_only: bool = True, **kw) -> pd.DataFrame:
    """The resident survey; by default only respondents (``responded == 1``, who have weights).

    ``load_survey(False)`` is read as ``respondents_only=False`` (a bool is never a folder).
    """
    if isinstance(data_dir, bool):
        data_dir, respondents_only = None, data_dir
    df = load_table("survey", data_dir, **kw)
    if respondents_only:
        attrs = dict(df.attrs)
        df = df.loc[df["responded"] == 1].reset_index(drop=True)
        df.attrs = attrs | {"respondents_only": True}
    return df


def load_districts(data_dir=None, **kw):
    return load_table("districts", data_dir, **kw)


def load_subdistricts(data_dir=None, **kw):
    return load_table("subdistricts", data_dir, **kw)


def load_community_boundaries(data_dir=None, **kw):
    return load_table("community_boundaries", data_dir, **kw)


def load_communities(data_dir=None, with_geometry: bool = False, **kw):
    """Community attributes; ``with_geometry=True`` joins the boundaries (a GeoDataFrame)."""
    df = load_table("communities", data_dir, **kw)
    if with_geometry:
        b = load_table("community_boundaries", data_dir, **kw)
        attrs = dict(df.attrs)
        df = b.merge(df, on="community_id", how="inner", validate="one_to_one")
        df.attrs = attrs
    return df


def load_platform(data_dir=None, **kw):
    return load_table("platform", data_dir, **kw)


def load_organisations(data_dir=None, **kw):
    return load_table("organisations", data_dir, **kw)


def load_service_points(data_dir=None, **kw):
    return load_table("service_points", data_dir, **kw)


def load_members(data_dir=None, **kw):
    return load_table("members", data_dir, **kw)


def load_joint_building(data_dir=None, **kw):
    return load_table("joint_building", data_dir, **kw)


def load_assessment(data_dir=None, **kw):
    return load_table("assessment", data_dir, **kw)


# -- whole-folder quarantine (used by `python -m helpers validate DIR --quarantine OUT`) -----------
@dataclass
class QuarantineSummary:
    out_dir: str
    reports: dict[str, LoadReport] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # table -> why it could not be loaded
    absent: list[str] = field(default_factory=list)  # optional tables the folder does not have

    @property
    def ok(self) -> bool:
        return not self.failed

    def format(self) -> str:
        lines = [f"Quarantine into {self.out_dir}:"]
        for name in schema.TABLES:
            if name in self.reports:
                lines.append(self.reports[name].summary)
            elif name in self.failed:
                lines.append(f"{schema.TABLES[name].file}: not loaded: {self.failed[name]}")
            elif name in self.absent:
                lines.append(f"{schema.TABLES[name].file}: absent (optional), nothing to load")
        n_rej = sum(r.rejected for r in self.reports.values())
        lines.append(f"{_n(n_rej, 'row')} set aside in {len([r for r in self.reports.values() if r.rejected])} "
                     f"table(s); {len(self.failed)} table(s) could not be loaded"
                     + (" (fix the file-level problems above)." if self.failed else "."))
        return "\n".join(lines)


def _n(k: int, w: str) -> str:
    return f"{k} {w}{'' if k == 1 else 's'}"


def quarantine_folder(data_dir, out_dir) -> QuarantineSummary:
    """Load every table of ``data_dir`` in quarantine mode, writing ``out_dir/<table>.rejected.csv``."""
    data_dir = Path(data_dir).resolve()
    summary = QuarantineSummary(str(out_dir))
    for name in schema.TABLES:
        if name not in available_tables(data_dir):
            summary.absent.append(name)
            continue
        try:
            df = load_table(name, data_dir, "quarantine", out_dir)
            d = df.attrs["load_report"]
            summary.reports[name] = LoadReport(d["table"], d["file"], d["rows_read"], d["accepted"],
                                               d["rejected"], d["quarantine_file"], d["blank_rows"])
        except DataContractError as e:
            errs = [p for p in e.problems if getattr(p, "severity", "error") == "error"]
            rules = ", ".join(dict.fromkeys(f"'{p.rule}'" for p in errs)) or "see the report"
            summary.failed[name] = f"{_n(len(errs), 'file-level problem')} (rule {rules}; see above)"
    return summary


__all__ = [
    "DataContractError", "AbsentTableError", "LoadReport", "StudyPeriod", "load_table", "load_all",
    "available_tables", "study_period", "study_years", "load_survey", "load_districts",
    "load_subdistricts", "load_community_boundaries", "load_communities", "load_platform",
    "load_organisations", "load_service_points", "load_members", "load_joint_building",
    "load_assessment", "quarantine_folder", "clear_cache",
]
