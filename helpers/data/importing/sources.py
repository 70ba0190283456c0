"""Read the files people have: Excel workbooks, CSV in GBK/GB18030/UTF-8, GeoJSON and shapefiles.

Each reader returns a :class:`Sheet`: the header as found, the data rows as :class:`Cell` lists
with the row number the user sees (Excel's row number; for a CSV the record number counting the
header line as row 1, which is also what Excel shows when it opens the CSV; for a layer the
feature's position), and what was learnt on the way (the encoding, the CRS).

Excel workbooks are read with openpyxl (cached formula values), which also tells which cells are
dates, which are formatted as percentages and which are merged. Layers are read with pyogrio (GDAL).

CSV encodings are detected by strict decoding in a fixed order -- a byte-order mark, then UTF-8,
GBK, GB18030 -- rather than by a statistical detector (chardet, charset-normalizer): for this
short list the test is exact (a GBK file almost never decodes as UTF-8; every GBK file decodes
as GB18030, so GBK is reported only when the file stays inside it), whereas statistical
detectors guess, and on short Chinese files they guess Big5 or a Western code page.
"""
from __future__ import annotations

import codecs
import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

from helpers.data.importing.values import Cell

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
LAYER_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg")


class SourceError(ValueError):
    """A source file cannot be read as mapped (one line)."""


@dataclass
class Sheet:
    """One table as read from a source file."""

    file: str                   # as named in the mapping (relative to the source folder)
    sheet: str | None           # the worksheet, for Excel
    header: list[str]
    rows: list[list]            # raw values; a percentage-formatted or merged Excel cell is a Cell
    row_no: list[int]           # the row number the user sees, one per row
    header_row: int = 1
    encoding: str | None = None
    geometry: object = None     # a GeoSeries for layers
    crs: object = None
    blank_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}, sheet '{self.sheet}'" if self.sheet else self.file

    @property
    def row_word(self) -> str:
        return "feature" if self.geometry is not None else "row"


def close_match(name: str, choices) -> str:
    m = difflib.get_close_matches(name, [c for c in choices if c], n=1, cutoff=0.5)
    return f"; did you mean '{m[0]}'?" if m else ""


# -- text encodings -----------------------------------------------------------------------------------
def decode(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes.

    Returns
    -------
    text : str
        The text, without a byte-order mark.
    encoding : str
        What was used: ``"UTF-8"``, ``"UTF-8 with BOM"``, ``"GBK"``, ``"GB18030"``, ``"UTF-16"`` (with
        its BOM) or the ``encoding`` given.

    Raises
    ------
    SourceError
        When none of them decodes the file (naming the first bad byte's line).
    """
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (UnicodeDecodeError, LookupError) as e:
            raise SourceError(f"{file}: cannot decode as {encoding} (given in the mapping): {e}; "
                              "remove encoding: to detect it, or give the right one") from None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as e:
            raise SourceError(f"{file}: starts with a UTF-8 byte-order mark but is not valid UTF-8 "
                              f"({_where(data, e.start)}); re-save it") from None
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as e:
        first = e.start
    for enc, label in (("gbk", "GBK"), ("gb18030", "GB18030")):
        try:
            return data.decode(enc), label
        except UnicodeDecodeError:
            continue
    raise SourceError(f"{file}: not UTF-8, GBK or GB18030 text (first bad byte for UTF-8 at "
                      f"{_where(data, first)}); give its encoding: in the mapping, or re-save it as UTF-8")


def _where(data: bytes, pos: int) -> str:
    line = data.count(b"\n", 0, pos) + 1
    return f"line {line}, byte {pos}"


# -- readers ------------------------------------------------------------------------------------------
def read_source(root: Path, file: str, *, table: str, sheet=None, header_row: int = 1, encoding=None,
                delimiter=None) -> Sheet:
    """Read ``root/file`` (the reader is chosen by the file's suffix)."""
    path = root / file
    if not path.is_file():
        found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        hint = close_match(file, found)
        listing = ", ".join(found[:12]) + (", ..." if len(found) > 12 else "") if found else "none"
        raise SourceError(f"{file} (for table {table}): no such file in {root}; files there: {listing}{hint}")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, file, table=table, sheet=sheet, header_row=header_row)
    if suffix == ".xls":
        raise SourceError(f"{file}: the old Excel format (.xls) is not read; open it in Excel or LibreOffice "
                          "and save it as .xlsx")
    if suffix in CSV_SUFFIXES:
        return read_csv(path, file, header_row=header_row, encoding=encoding, delimiter=delimiter)
    if suffix in LAYER_SUFFIXES:
        return read_layer(path, file, encoding=encoding, layer=sheet)
    raise SourceError(f"{file}: unknown kind of file '{suffix}'; give an .xlsx workbook, a .csv file, or "
                      "a .geojson/.shp/.gpkg layer")


def read_csv(path: Path, file: str, *, header_row: int = 1, encoding=None, delimiter=None) -> Sheet:
    text, enc = decode(path.read_bytes(), file, encoding)
    if delimiter is None:
        first = text.split("\n", header_row)[header_row - 1] if text.count("\n") >= header_row - 1 else ""
        delimiter = "\t" if ("\t" in first and "," not in first) else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as e:
        raise SourceError(f"{file}: cannot parse as CSV ({e}); check for an unbalanced double quote") from None
    if len(records) < header_row:
        raise SourceError(f"{file}: has {len(records)} rows, so no header at row {header_row}; check header_row")
    header = [h.strip() for h in records[header_row - 1]]
    rows, row_no, blank = [], [], 0
    for i, rec in enumerate(records[header_row:], start=header_row + 1):
        if not "".join(rec).strip():
            blank += 1
            continue
        rows.append(rec)
        row_no.append(i)
    return Sheet(file, None, header, rows, row_no, header_row, encoding=enc, blank_rows=blank)


def read_excel(path: Path, file: str, *, table: str, sheet=None, header_row: int = 1) -> Sheet:
    """One worksheet of an .xlsx workbook (cached values of formulas; dates as datetimes).

    A vertically merged range below the header (one column over several rows, as Chinese tables
    merge a district's name over its rows) gives every row the value of its first cell; those
    cells come back as ``Cell(value, merged=True)`` so the conversion is counted.
    """
    import openpyxl

    try:
        # not read_only: that mode knows nothing of merged cells, and on sheets without a recorded
        # size it parses the whole sheet twice; full mode is about as fast and holds ~200 B a cell
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as e:  # zip/XML errors of a damaged or encrypted workbook
        raise SourceError(f"{file}: cannot open as an Excel workbook ({type(e).__name__}: {e}); re-save it "
                          "as .xlsx") from None
    try:
        names = wb.sheetnames
        if sheet is not None:
            sheet = str(sheet)
            if sheet not in names:
                raise SourceError(f"{file}: no sheet '{sheet}' (for table {table}); sheets: "
                                  f"{', '.join(names)}{close_match(sheet, names)}")
            chosen = sheet
        elif len(names) == 1:
            chosen = names[0]
        elif table in names:
            chosen = table
        else:
            raise SourceError(f"{file}: {len(names)} sheets ({', '.join(names)}); name the one for table "
                              f"{table} with sheet: in the mapping")
        ws = wb[chosen]
        filled: dict[tuple[int, int], object] = {}
        for rng in ws.merged_cells.ranges:
            if rng.min_col == rng.max_col and rng.min_row > header_row:
                top = ws.cell(rng.min_row, rng.min_col).value
                for r in range(rng.min_row + 1, rng.max_row + 1):
                    filled[(r, rng.min_col)] = top
        header: list[str] | None = None
        rows, row_no, blank = [], [], 0
        for rn, r in enumerate(ws.iter_rows(min_row=header_row), start=header_row):
            if header is None:
                header = [_header_text(c.value) for c in r]
                while header and header[-1] == "":
                    header.pop()
                if not header:
                    break
                continue
            cells = []
            for j, c in enumerate(r, start=1):
                if (rn, j) in filled:
                    cells.append(Cell(filled[(rn, j)], False, merged=True))
                else:
                    cells.append(Cell(c.value, True) if _is_percent(c) else c.value)
            if all(_blank(v) for v in cells):
                blank += 1
                continue
            rows.append(cells)
            row_no.append(rn)
        if not header:
            raise SourceError(f"{file}, sheet '{chosen}': row {header_row} (header_row) is empty; give the row "
                              "of the column headers")
        return Sheet(file, chosen, header, rows, row_no, header_row, blank_rows=blank)
    finally:
        wb.close()


def _blank(v) -> bool:
    v = v.value if isinstance(v, Cell) else v
    return v is None or (isinstance(v, str) and not v.strip())


def _header_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _is_percent(c) -> bool:
    fmt = getattr(c, "number_format", None)
    return bool(fmt) and "%" in fmt and isinstance(c.value, (int, float)) and not isinstance(c.value, bool)


def read_layer(path: Path, file: str, *, encoding=None, layer=None) -> Sheet:
    import numpy as np
    import pyogrio

    kw = {}
    if encoding:
        kw["encoding"] = encoding
    if layer is not None:
        kw["layer"] = str(layer)
    try:
        gdf = pyogrio.read_dataframe(path, **kw)
    except Exception as e:
        raise SourceError(f"{file}: cannot read as a GIS layer ({type(e).__name__}: {e})") from None
    header = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    rows = []
    cols = [gdf[c].to_numpy(dtype=object) for c in header]
    for i in range(len(gdf)):
        row = []
        for a in cols:
            v = a[i]
            if isinstance(v, np.generic):
                v = v.item()
            if v is not None and not isinstance(v, str):
                try:
                    if v != v:  # NaN / NaT
                        v = None
                except (TypeError, ValueError):
                    pass
            row.append(v)
        rows.append(row)
    enc = None
    if path.suffix.lower() == ".shp":
        enc = encoding or ("from .cpg" if path.with_suffix(".cpg").is_file() else "GDAL default")
    return Sheet(file, None, header, rows, list(range(1, len(gdf) + 1)), 1, encoding=enc,
                 geometry=gdf.geometry, crs=gdf.crs)
