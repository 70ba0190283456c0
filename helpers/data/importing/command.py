"""``python -m helpers import SRC --mapping MAP.yaml --out DIR``: the files people have -> a data folder.

Python::

    from helpers.data.importing import import_folder
    result = import_folder("my_city_files", "my_mapping.yaml", "my_city_data")
    print(result.format()); result.ok

Steps: check the mapping against the contract; open every source file and find every mapped
column (any problem so far: one line each, exit 2, nothing written); convert every cell, counting
conversions and recording every value that cannot be converted (any such value: the list, exit 1,
nothing written -- unless ``keep_going``, then the rows holding them go to
``DIR/_import/<table>.rejected.csv`` and rows read = written + rejected); write the contract files
into a temporary folder beside ``DIR`` and rename it to ``DIR``; run the validator on ``DIR``.
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from helpers.data.importing.convert import BadValue, TableImport, convert_table
from helpers.data.importing.mapping import EXAMPLE_MAPPING, Mapping, MappingError, load_mapping
from helpers.data.importing.sources import Sheet, SourceError, read_source
from helpers.data.importing.write import (RECORD_DIR, staged, write_csv, write_geojson, write_metadata,
                                          write_rejected)

PROG = "python -m helpers import"


class ImportSetupError(ValueError):
    """The import cannot start: the mapping or a source file is unusable (``problems``: one line each)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class ImportResult:
    """What :func:`import_folder` did.

    Attributes
    ----------
    tables : dict
        contract table -> :class:`~helpers.data.importing.convert.TableImport` (rows read, written,
        rejected, conversions counted per source column).
    bad : list of BadValue
        Every value that could not be converted (file, sheet, row, column, value, rule).
    written : bool
        Whether ``out`` was written (false when values could not be converted and not ``keep_going``).
    validation : helpers.data.validate.Report or None
        The validator's report on ``out`` (None when nothing was written).
    """

    source: str
    mapping: str
    out: str
    tables: dict[str, TableImport] = field(default_factory=dict)
    bad: list[BadValue] = field(default_factory=list)
    written: bool = False
    keep_going: bool = False
    validation: object = None
    crs: object = None

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def ok(self) -> bool:
        """Written, and the result passes the validator."""
        return self.written and self.validation is not None and self.validation.ok

    def conversion_lines(self) -> list[str]:
        """Per table: rows read = written + rejected, the encoding or CRS, and per source column every
        kind of conversion with its count and a first example; empty cells, absent and unused columns."""
        lines = []
        for name, ti in self.tables.items():
            s = ti.sheet
            head = f"{name} <- {s.where}" + (f" (header row {s.header_row})" if s.geometry is None else "")
            head += f": {ti.rows_read} rows read = {ti.written} written + {ti.n_rejected} rejected"
            if s.blank_rows:
                head += f"; {s.blank_rows} blank rows skipped"
            lines.append(head)
            if s.encoding:
                lines.append(f"  encoding: {s.encoding}")
            if s.crs is not None:
                lines.append(f"  CRS: {s.crs.to_string()}" + (f" -> {self.crs.to_string()}"
                                                             if self.crs is not None and s.crs != self.crs else ""))
            order = {c: i for i, c in enumerate(ti.tmap.table.column_names)}
            by_col: dict[tuple[str, str], list] = {}
            for (src, to, kind), n in ti.conversions.items():
                by_col.setdefault((src, to), []).append((kind, n))
            for (src, to), kinds in sorted(by_col.items(), key=lambda kv: order.get(kv[0][1], len(order))):
                parts, mapped, empty = [], [], 0
                for kind, n in kinds:
                    if kind == "empty -> missing":
                        empty = n
                    elif kind.startswith(("value map ", "yes/no word")):
                        mapped.append((kind, n))
                    else:
                        raw, out = ti.examples[(src, to, kind)]
                        parts.append(f"{kind}: {n} (e.g. {_short(raw)} -> {out or '(missing)'})")
                if mapped:
                    label = "values mapped" if mapped[0][0].startswith("value map ") else "yes/no words -> 1/0"
                    items = ", ".join(f"{k.removeprefix('value map ').split('(')[-1].rstrip(')')} ({n})"
                                      for k, n in sorted(mapped, key=lambda kn: -kn[1]))
                    parts.append(f"{label}: {items}")
                if empty:
                    parts.append(f"{empty} empty cell{'s' if empty != 1 else ''} -> missing")
                lines.append(f"  {src} -> {to}: " + "; ".join(parts))
            if ti.tmap.absent:
                lines.append(f"  written empty (absent from the source): {', '.join(ti.tmap.absent)}")
            if ti.unused:
                lines.append(f"  source columns not used: {', '.join(ti.unused)}")
        return lines

    def row_lines(self) -> list[str]:
        """Per written file: which source row its data row N is (the validator numbers data rows)."""
        out = []
        for name, ti in self.tables.items():
            f = ti.tmap.table.file
            if ti.row_offset is not None and ti.sheet.geometry is not None:
                out.append(f"{f}: row N is feature N of {ti.sheet.where}")
            elif ti.row_offset is not None:
                out.append(f"{f}: data row N is row N+{ti.row_offset} of {ti.sheet.where}")
            else:
                out.append(f"{f}: data rows map to rows of {ti.sheet.where} as listed in "
                           f"{Path(self.out) / RECORD_DIR / (name + '.rows.csv')}")
        return out

    def format(self, max_lines: int = 60) -> str:
        out = [f"Import of {self.source} with {self.mapping}:"]
        out += self.conversion_lines()
        n = sum(sum(v for (_s, _t, k), v in t.conversions.items() if k != "empty -> missing")
                for t in self.tables.values())
        out.append(f"{n} values converted; {len(self.bad)} value{'s' if len(self.bad) != 1 else ''} could not "
                   "be converted.")
        if self.bad:
            shown = self.bad if max_lines <= 0 else self.bad[:max_lines]
            out.append("Values that could not be converted (rows as numbered in Excel; in a CSV the header is "
                       "row 1):")
            out += ["  " + b.line() for b in shown]
            if len(shown) < len(self.bad):
                out.append(f"  ... and {len(self.bad) - len(shown)} more (use --max-lines 0 to see all)")
            rejected = sum(t.n_rejected for t in self.tables.values())
            if self.written:
                out.append(f"--keep-going: {rejected} rows with such values were rejected, written to "
                           f"{Path(self.out) / RECORD_DIR}/<table>.rejected.csv with the reasons.")
            else:
                out.append(f"Nothing was written to {self.out}. Correct the values in the source files (or map "
                           "them under values: in the mapping) and run again; --keep-going writes the other "
                           "rows and sets these aside.")
        return "\n".join(out)


def _short(v) -> str:
    if isinstance(v, str):
        return repr(v if len(v) <= 30 else v[:27] + "...")
    if hasattr(v, "isoformat"):
        return _date(v)
    return str(v)


def _date(v) -> str:
    if hasattr(v, "hour") and not (v.hour or v.minute or v.second or v.microsecond):
        return v.date().isoformat()
    return v.isoformat()


def _read_all(src: Path, mapping: Mapping) -> dict[str, Sheet]:
    problems, sheets, cache = [], {}, {}
    for name, tm in mapping.tables.items():
        key = (tm.file, tm.sheet, tm.header_row, tm.encoding, tm.delimiter)
        try:
            if key not in cache:
                cache[key] = read_source(src, tm.file, table=name, sheet=tm.sheet, header_row=tm.header_row,
                                         encoding=tm.encoding, delimiter=tm.delimiter)
            sheets[name] = copy.copy(cache[key])  # rows shared; geometry/CRS set per table
        except SourceError as e:
            problems.append(str(e))
    if problems:
        raise ImportSetupError(problems)
    return sheets


def _layers_crs(mapping: Mapping, sheets: dict[str, Sheet]):
    """Declare/reproject every layer as the mapping says; all must end in one projected CRS in metres."""
    from pyproj import CRS

    problems, final = [], {}
    for name, tm in mapping.tables.items():
        s = sheets[name]
        if tm.table.geometry is None:
            continue
        if s.geometry is None and tm.x is None:
            problems.append(f"{s.where}: table {name} needs geometries ({tm.table.geometry}); give a GeoJSON, "
                            "shapefile or GeoPackage layer" + (", or name the coordinate columns with x: and y:"
                                                              if tm.table.geometry == "Point" else ""))
            continue
        if s.geometry is not None and tm.x is not None:
            problems.append(f"{s.where}: the layer has geometries of its own; x:/y: are for spreadsheets, remove them")
            continue
        try:
            if s.geometry is None:  # points from x/y columns: built after conversion, in tm.crs
                crs = CRS.from_user_input(tm.crs)
                s.crs = crs
                if tm.to_crs:
                    crs = CRS.from_user_input(tm.to_crs)
                units = {a.unit_name for a in crs.axis_info}
                if not crs.is_projected or not units <= {"metre", "meter"}:
                    problems.append(f"{s.where}: the CRS {crs.to_string()} is not projected in metres; add to_crs: "
                                    "with a projected CRS in metres for your city (e.g. EPSG:4548)")
                    continue
                final[name] = crs
                continue
            crs = s.crs
            if tm.crs:
                declared = CRS.from_user_input(tm.crs)
                if crs is None:
                    crs = declared
                    s.geometry = s.geometry.set_crs(crs)
                    s.crs = crs
                elif CRS.from_user_input(crs) != declared:
                    problems.append(f"{s.where}: the file declares {CRS.from_user_input(crs).to_string()} but the "
                                    f"mapping says crs: {tm.crs}; remove crs: (it is for files without one) or "
                                    "use to_crs: to reproject")
                    continue
            if crs is None:
                problems.append(f"{s.where}: the layer declares no CRS; say which it is with crs: in the mapping "
                                "(e.g. crs: EPSG:4326 for longitude/latitude)")
                continue
            crs = CRS.from_user_input(crs)
            if tm.to_crs:
                target = CRS.from_user_input(tm.to_crs)
                if target != crs:
                    s.geometry = s.geometry.to_crs(target)
                crs = target
            units = {a.unit_name for a in crs.axis_info}
            if not crs.is_projected or not units <= {"metre", "meter"}:
                problems.append(f"{s.where}: the CRS {crs.to_string()} is not projected in metres; add to_crs: "
                                "with a projected CRS in metres for your city (e.g. EPSG:4548, CGCS2000 / 3-degree "
                                "Gauss-Kruger CM 117E)")
                continue
            final[name] = crs
        except Exception as e:  # pyproj.exceptions.CRSError and friends
            problems.append(f"{s.where}: CRS problem ({type(e).__name__}: {e}); check crs:/to_crs: in the mapping")
    if problems:
        raise ImportSetupError(problems)
    crss = {c.to_string(): n for n, c in final.items()}
    if len(crss) > 1:
        raise ImportSetupError([f"the layers end in different CRSs ({'; '.join(f'{n}: {c}' for c, n in crss.items())}); "
                            "give every layer the same to_crs: in the mapping"])
    return next(iter(final.values()), None)


def _points(ti: TableImport, crs):
    """The points of a table read with x/y columns, in the mapping's ``crs``, reprojected to ``crs``."""
    import geopandas as gpd
    import shapely

    pts = [shapely.Point(p) if p is not None else None for p in ti.points]
    return gpd.GeoSeries(pts, crs=ti.sheet.crs).to_crs(crs)


def import_folder(src, mapping, out, *, keep_going: bool = False, overwrite: bool = False,
                  validate: bool = True) -> ImportResult:
    """Convert the source folder ``src`` into the contract folder ``out`` as the mapping file says.

    Parameters
    ----------
    src : path
        Folder of the source files (paths in the mapping are relative to it).
    mapping : path
        The YAML mapping (see :mod:`helpers.data.importing.mapping`).
    out : path
        The data folder to write; it must not exist or be empty unless ``overwrite``.
    keep_going : bool
        Write the rows that convert and set the others aside (default: write nothing when any
        value cannot be converted).
    validate : bool
        Run :func:`helpers.data.validate.validate_dir` on ``out`` after writing.

    Returns
    -------
    ImportResult
        Per table rows read / written / rejected and conversions; every value that could not be
        converted; the validator's report.

    Raises
    ------
    ImportSetupError
        The mapping, a source file or a mapped column is unusable (one line per problem); nothing
        is written.
    FileExistsError, NotADirectoryError
        ``out`` is not a fresh folder (and not ``overwrite``).
    """
    src_p, out_p = Path(src), Path(out)
    try:
        m = load_mapping(mapping)
    except MappingError as e:
        raise ImportSetupError(e.problems) from None
    if not src_p.is_dir():
        raise ImportSetupError([f"{src}: the source folder does not exist or is not a folder"])
    if out_p.exists() and not out_p.is_dir():
        raise NotADirectoryError(f"--out {out} is a file; give a folder")
    if out_p.is_dir() and any(out_p.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {out} exists and is not empty; give a new folder, or --overwrite to replace it")
    if out_p.resolve() == src_p.resolve() or src_p.resolve() in out_p.resolve().parents:
        raise ImportSetupError([f"--out {out} is inside the source folder {src}; write the data folder elsewhere"])
    sheets = _read_all(src_p, m)
    crs = _layers_crs(m, sheets)
    res = ImportResult(str(src), str(mapping), str(out), keep_going=keep_going, crs=crs)
    problems = []
    for name, tm in m.tables.items():
        try:
            res.tables[name] = convert_table(tm, sheets[name])
        except SourceError as e:
            problems.append(str(e))
    if problems:
        raise ImportSetupError(problems)
    for name, ti in res.tables.items():
        if ti.tmap.x is not None:
            ti.sheet.geometry = _points(ti, crs)
    res.bad = [b for t in res.tables.values() for b in t.bad]
    if res.bad and not keep_going:
        return res
    with staged(out_p, overwrite=overwrite) as tmp:
        files: dict[str, int] = {}
        rec = tmp / RECORD_DIR
        rec.mkdir()
        for name, ti in res.tables.items():
            t = ti.tmap.table
            if t.geometry is None:
                write_csv(tmp / t.file, t.column_names, ti.rows)
            else:
                write_geojson(tmp / t.file, ti, ti.sheet.geometry, crs)
            files[t.file] = ti.written
            if ti.rejected:
                write_rejected(rec / f"{name}.rejected.csv", ti)
            if ti.row_offset is None:
                write_csv(rec / f"{name}.rows.csv", ["data_row", "source_row"],
                          [[str(j), str(ti.sheet.row_no[k])] for j, k in enumerate(ti.keep, start=1)])
        encodings = {ti.sheet.file: ti.sheet.encoding for ti in res.tables.values() if ti.sheet.encoding}
        write_metadata(tmp, files, m.dataset, str(src), str(mapping), crs, encodings)
        shutil.copyfile(m.path, rec / "mapping.yaml")
        res.written = True
        (rec / "report.txt").write_text(res.format(max_lines=0) + "\n", encoding="utf-8")
    if validate:
        from helpers.data.validate import validate_dir

        res.validation = validate_dir(out_p)
    return res


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=textwrap.fill("Convert a folder of the files people have -- Excel workbooks (.xlsx), CSV files in "
                    "UTF-8 (with or without BOM), GBK or GB18030, and boundary layers (GeoJSON, shapefile, "
                    "GeoPackage) -- into a data folder that follows the data contract (UTF-8 CSV and "
                    "GeoJSON with English column names; see data/README.md). A mapping file (YAML) says which "
                    "file, sheet and header row make each table and which source column is which contract "
                    "column. Values are converted where the contract wants it (2021年 -> 2021, 1,234 -> 1234, "
                    "full-width digits, 22.4% -> 0.224 in share columns, 是/否 -> 1/0, empty -> missing), and "
                    "every conversion is counted. Any value that cannot be converted is listed with its file, "
                    "sheet, row and column, and nothing is written (unless --keep-going). The result is then "
                    "checked with 'python -m helpers validate'.", width=100),
        epilog=f"Example mapping with common Chinese headers for every table (copy and edit it):\n"
               f"  {EXAMPLE_MAPPING}\n"
               f"  (print it with: {PROG} --example-mapping > my_mapping.yaml)\n\n"
               "Example:\n"
               f"  {PROG} 我的数据 --mapping my_mapping.yaml --out my_city\n"
               "  python -m helpers validate my_city\n\n"
               "Exit status: 0 written and valid; 1 values could not be converted (nothing written) or the "
               "written folder fails validation; 2 the mapping, a source file or the command line is unusable "
               "(nothing written).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("src", metavar="SRC", nargs="?", help="folder of the source files")
    p.add_argument("--mapping", metavar="MAP.yaml", help="the mapping file (YAML)")
    p.add_argument("--out", metavar="DIR", help="the data folder to write (new, or empty; see --overwrite)")
    p.add_argument("--keep-going", action="store_true",
                   help="write the rows that convert; set rows with unconvertible values aside into "
                        f"DIR/{RECORD_DIR}/<table>.rejected.csv with the reasons (rows read = written + rejected)")
    p.add_argument("--overwrite", action="store_true", help="replace DIR if it exists (only once all is written)")
    p.add_argument("--max-lines", metavar="N", type=int, default=60,
                   help="print at most N unconvertible values and N validator lines (default 60; 0 = all)")
    p.add_argument("--example-mapping", action="store_true", help="print the example mapping and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as e:  # --help -> 0, usage error -> 2
        return int(e.code or 0)
    if ns.example_mapping:
        sys.stdout.write(EXAMPLE_MAPPING.read_text(encoding="utf-8"))
        return 0
    missing = [f for f, v in (("SRC", ns.src), ("--mapping", ns.mapping), ("--out", ns.out)) if not v]
    if missing:
        print(f"{PROG}: error: {', '.join(missing)} required (see --help)", file=sys.stderr)
        return 2
    try:
        res = import_folder(ns.src, ns.mapping, ns.out, keep_going=ns.keep_going, overwrite=ns.overwrite)
    except ImportSetupError as e:
        for line in e.problems:
            print(f"{PROG}: error: {line}", file=sys.stderr)
        print(f"Nothing was written to {ns.out}.", file=sys.stderr)
        return 2
    except (FileExistsError, NotADirectoryError, PermissionError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written to {ns.out}", file=sys.stderr)
        return 130
    except Exception as e:  # never a traceback for users
        print(f"{PROG}: internal error: {type(e).__name__}: {e} (please report this; set HELPERS_DEBUG=1 for "
              "details)", file=sys.stderr)
        if os.environ.get("HELPERS_DEBUG"):
            traceback.print_exc()
        return 1
    try:
        print(res.format(max_lines=ns.max_lines))
        if not res.written:
            return 1
        print(f"Wrote {ns.out} (the import's report, mapping and any rejected rows are in "
              f"{Path(ns.out) / RECORD_DIR}).")
        print()
        print(res.validation.format(max_lines=ns.max_lines))
        if not res.validation.ok:
            print("The imported folder does not pass the data contract: correct the source files or the mapping "
                  "and import again. Where the rows above are in your files:")
            for line in res.row_lines():
                print("  " + line)
        return 0 if res.ok else 1
    except BrokenPipeError:  # e.g. `... | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
