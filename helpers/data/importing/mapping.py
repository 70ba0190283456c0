"""The mapping file of ``python -m helpers import``: which source file, sheet and columns make each
contract table.

The file is YAML::

    dataset:                      # optional: written to metadata.json
      name: 某市社区数据
      description: Community statistics of ... (real data)
      study_years: [2019, 2023]   # optional
    tables:
      communities:                # a table of helpers/data/schema.py
        file: 社区基本情况.xlsx     # path relative to the source folder (.xlsx, .csv, .geojson, .shp, .gpkg)
        sheet: 社区               # optional: the sheet (default: the only sheet, or the one named
                                  #   like the table)
        header_row: 1             # optional: the header's row as numbered in Excel (default 1)
        encoding: gbk             # optional, CSV/shapefile only (default: detected)
        delimiter: ";"            # optional, CSV only (default: comma, or tab when the header has tabs)
        columns:                  # source header -> contract column
          社区编码: community_id
          60岁以上占比: {to: share_60plus, percent: true}   # plain 22.4 means 22.4 %
          常住人口: {to: population, suffix: 人}            # 4436人 -> 4436
          社区类型: {to: kind, values: {社区: community, 村: village}}
        absent: [staff]           # contract columns the source does not have (written empty)
      districts:
        file: 区县.shp
        crs: EPSG:4548            # optional: the CRS when the file declares none
        to_crs: EPSG:4548         # optional: reproject to this CRS (projected, metres)
        columns: {...}
      service_points:             # points may also come from a spreadsheet with coordinates
        file: 党群服务阵地.xlsx
        x: 经度                   # the coordinate columns (not mapped under columns:)
        y: 纬度
        crs: EPSG:4326            # required with x/y: longitude/latitude here
        to_crs: EPSG:4548
        columns: {...}

Every contract column of a listed table must be mapped or listed under ``absent``; tables that are
not listed are not written. :func:`load_mapping` checks all of this and raises
:class:`MappingError` with one line per problem.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers.data import schema
from helpers.data.importing.values import Target, is_share

#: The example mapping shipped with the package (common Chinese headers for every table).
EXAMPLE_MAPPING: Path = Path(__file__).resolve().parent.parent / "import_mapping_example.yaml"

_TABLE_KEYS = {"file", "sheet", "header_row", "encoding", "delimiter", "columns", "absent", "crs", "to_crs", "x", "y"}
_COLUMN_KEYS = {"to", "percent", "values", "suffix"}


class MappingError(ValueError):
    """The mapping is unusable; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class ColumnMap:
    """One source column feeding one contract column."""

    source: str
    target: Target
    line: int | None = None  # line of the mapping file

    @property
    def to(self) -> str:
        return self.target.column.name


@dataclass(frozen=True)
class TableMap:
    """Where one contract table comes from."""

    table: schema.Table
    file: str
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    columns: tuple[ColumnMap, ...] = ()
    absent: tuple[str, ...] = ()
    crs: str | None = None
    to_crs: str | None = None
    x: str | None = None  # point tables from a spreadsheet: the coordinate columns
    y: str | None = None

    @property
    def name(self) -> str:
        return self.table.name


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file."""

    path: Path
    tables: dict[str, TableMap]
    dataset: dict = field(default_factory=dict)


# -- YAML: duplicate keys are errors, and only true/false are booleans (not yes/no/on/off) ------------
class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


class _Dup(Exception):
    pass


def _construct_mapping(loader, node, deep=False):
    seen: dict = {}
    for key_node, _v in node.value:
        key = loader.construct_object(key_node, deep=deep)
        k = str(key)
        if k in seen:
            raise _Dup(f"the key '{k}' appears twice (lines {seen[k]} and {key_node.start_mark.line + 1}); "
                       "keep one")
        seen[k] = key_node.start_mark.line + 1
    m = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    m["__lines__"] = seen
    return m


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(d) -> dict:
    return d.get("__lines__", {}) if isinstance(d, dict) else {}


def _items(d) -> list:
    return [(k, v) for k, v in d.items() if k != "__lines__"]


def _suggest(word: str, choices) -> str:
    m = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{m[0]}'?)" if m else ""


def load_mapping(path) -> Mapping:
    """Read and check a mapping file against the data contract.

    Returns
    -------
    Mapping
        The tables to import, each with its source and column maps.

    Raises
    ------
    MappingError
        One line per problem: unreadable YAML, an unknown table, column or key, two source
        columns mapped to one contract column, a contract column neither mapped nor ``absent``,
        ``percent: true`` on a column that is not a share.
    """
    path = Path(path)
    where = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except FileNotFoundError:
        raise MappingError([f"{where}: the mapping file does not exist; give the path of your mapping "
                            f"(start from {EXAMPLE_MAPPING})"]) from None
    except _Dup as e:
        raise MappingError([f"{where}: {e}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        msg = " ".join(str(e).split())
        raise MappingError([f"{where}: not valid YAML ({msg}); fix the file (UTF-8, spaces not tabs)"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise MappingError([f"{where}: the mapping needs a 'tables:' section mapping contract tables to "
                            f"their source (see {EXAMPLE_MAPPING})"])
    problems: list[str] = []
    for k, _v in _items(doc):
        if k not in ("tables", "dataset"):
            problems.append(f"{where}: line {_lines(doc).get(str(k))}: unknown section '{k}'; "
                            "use 'tables' and 'dataset'")
    tables: dict[str, TableMap] = {}
    for tname, spec in _items(doc["tables"]):
        line = _lines(doc["tables"]).get(str(tname))
        here = f"{where}: line {line}: table '{tname}'"
        if tname not in schema.TABLES:
            problems.append(f"{here}: not a table of the data contract{_suggest(tname, schema.TABLES)}; "
                            f"tables: {', '.join(schema.TABLES)}")
            continue
        tm = _table(schema.TABLES[tname], spec, here, problems)
        if tm is not None:
            tables[tname] = tm
    dataset = {k: v for k, v in _items(doc.get("dataset") or {})}
    sy = dataset.get("study_years")
    if sy is not None and not (isinstance(sy, list) and len(sy) == 2 and all(isinstance(y, int) for y in sy)
                               and sy[0] <= sy[1]):
        problems.append(f"{where}: dataset: study_years must be [first, last], e.g. [2019, 2023]")
    if not tables and not problems:
        problems.append(f"{where}: 'tables:' lists no table; map at least the boundaries and communities")
    if problems:
        raise MappingError(problems)
    return Mapping(path, tables, dataset)


def _table(table: schema.Table, spec, here: str, problems: list[str]) -> TableMap | None:
    if not isinstance(spec, dict):
        problems.append(f"{here}: expected keys file, columns (and optionally sheet, header_row, encoding, "
                        "absent, crs, to_crs)")
        return None
    n0 = len(problems)
    for k, _v in _items(spec):
        if k not in _TABLE_KEYS:
            problems.append(f"{here}: unknown key '{k}'{_suggest(k, _TABLE_KEYS)}; keys: "
                            f"{', '.join(sorted(_TABLE_KEYS))}")
    file = spec.get("file")
    if not isinstance(file, str) or not file.strip():
        problems.append(f"{here}: 'file:' is missing; name the source file (relative to the source folder)")
    header_row = spec.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
        problems.append(f"{here}: header_row must be a row number from 1 (as Excel numbers rows)")
    if table.geometry is None and (spec.get("crs") or spec.get("to_crs")):
        problems.append(f"{here}: crs/to_crs apply to boundary and point layers only")
    x, y = spec.get("x"), spec.get("y")
    if x is not None or y is not None:
        if table.geometry != "Point":
            problems.append(f"{here}: x/y (coordinate columns) make point tables only; {table.name} needs "
                            f"{table.geometry or 'no'} geometries")
        elif not (isinstance(x, str) and isinstance(y, str)):
            problems.append(f"{here}: give both x: and y: (the source headers of the coordinates, e.g. x: 经度, "
                            "y: 纬度)")
        elif not spec.get("crs"):
            problems.append(f"{here}: with x/y columns say which CRS the coordinates are in with crs: (EPSG:4326 "
                            "for longitude/latitude), and give to_crs: if they are not in metres")
        else:
            x, y = str(x), str(y)
    cols = spec.get("columns")
    if not isinstance(cols, dict):
        problems.append(f"{here}: 'columns:' is missing; map each source header to a contract column "
                        f"({', '.join(table.column_names)})")
        return None
    cmaps: list[ColumnMap] = []
    by_target: dict[str, str] = {}
    for src, m in _items(cols):
        line = _lines(cols).get(str(src))
        at = f"{here}: line {line}: column '{src}'"
        if isinstance(m, str):
            m = {"to": m}
        if not isinstance(m, dict) or not isinstance(m.get("to"), str):
            problems.append(f"{at}: give the contract column, e.g. '{src}: {table.column_names[0]}' or "
                            f"'{src}: {{to: {table.column_names[0]}, values: {{...}}}}'")
            continue
        for k, _v in _items(m):
            if k not in _COLUMN_KEYS:
                problems.append(f"{at}: unknown key '{k}'{_suggest(k, _COLUMN_KEYS)}; keys: to, percent, values, suffix")
        to = m["to"]
        if to not in table.column_names:
            problems.append(f"{at}: '{to}' is not a column of {table.name}{_suggest(to, table.column_names)}; "
                            f"columns: {', '.join(table.column_names)}")
            continue
        if to in by_target:
            problems.append(f"{at}: the source columns '{by_target[to]}' and '{src}' are both mapped to '{to}'; "
                            "map one of them")
            continue
        by_target[to] = str(src)
        col = table.column(to)
        percent = m.get("percent", False)
        if not isinstance(percent, bool):
            problems.append(f"{at}: percent must be true or false")
            percent = False
        if percent and not is_share(col):
            problems.append(f"{at}: percent: true applies to share (0-1) columns only; '{to}' is "
                            f"{col.unit or col.dtype}")
        values = m.get("values") or {}
        if not isinstance(values, dict):
            problems.append(f"{at}: values must map source values to contract values, e.g. {{是: 1, 否: 0}}")
            values = {}
        vmap = {}
        for k, v in _items(values):
            key = str(k)
            vmap[key] = None if v is None else (str(v) if not isinstance(v, bool) else str(int(v)))
            if col.dtype == "category" and v is not None and str(v) not in (col.categories or ()):
                problems.append(f"{at}: values: '{k}' -> '{v}' is not allowed for '{to}'"
                                f"{_suggest(str(v), col.categories or ())}; allowed: {', '.join(col.categories)}")
        suffix = m.get("suffix") or []
        suffix = [suffix] if isinstance(suffix, str) else suffix
        if not isinstance(suffix, list) or not all(isinstance(x, str) and x for x in suffix):
            problems.append(f"{at}: suffix must be a unit word or a list of them, e.g. suffix: 人")
            suffix = []
        elif suffix and col.dtype in ("str", "category"):
            problems.append(f"{at}: suffix applies to number columns only; '{to}' is {col.dtype}")
        cmaps.append(ColumnMap(str(src), Target(col, percent, vmap, tuple(suffix)), line))
    absent = spec.get("absent") or []
    if isinstance(absent, str):
        absent = [absent]
    if not isinstance(absent, list):
        problems.append(f"{here}: absent must be a list of contract columns")
        absent = []
    for a in absent:
        if a not in table.column_names:
            problems.append(f"{here}: absent: '{a}' is not a column of {table.name}{_suggest(a, table.column_names)}")
        elif a in by_target:
            problems.append(f"{here}: '{a}' is both mapped (from '{by_target[a]}') and listed under absent; "
                            "keep one")
    unmapped = [c for c in table.column_names if c not in by_target and c not in absent]
    if unmapped:
        problems.append(f"{here}: contract column{'s' if len(unmapped) > 1 else ''} {', '.join(unmapped)} "
                        "not mapped; map each to a source column, or list it under absent: if the source "
                        "does not have it")
    if len(problems) > n0:
        return None
    return TableMap(table, str(file), spec.get("sheet"), header_row, spec.get("encoding"), spec.get("delimiter"),
                    tuple(cmaps), tuple(absent), spec.get("crs"), spec.get("to_crs"), x, y)
