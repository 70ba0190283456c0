"""Write converted tables as contract files into a fresh folder, then put it in place at once.

The folder is built as a hidden sibling of the destination (same file system, so the final
``rename`` is atomic) and only renamed to the destination when every file is written; on any
error it is removed and the destination is left as it was.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from helpers.data import schema
from helpers.data.importing.convert import TableImport

#: Sub-folder of the imported data folder holding the import's own records (report, mapping, rejected
#: rows); the validator does not look into sub-folders.
RECORD_DIR = "_import"


@contextmanager
def staged(out: Path, overwrite: bool = False):
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on error it vanishes.

    Raises
    ------
    FileExistsError
        ``out`` exists, is not empty, and ``overwrite`` is false.
    NotADirectoryError
        ``out`` exists and is a file.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {out} exists and is not empty; give a new folder, or --overwrite to "
                              "replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.importing-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.replaced-{os.getpid()}"
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """UTF-8 without BOM, comma-separated, LF line ends, quoting only where needed."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _json_value(text: str, dtype: str):
    if text == "":
        return None
    if dtype in ("int", "year", "bool"):
        return int(text)
    if dtype == "float":
        d = Decimal(text)
        return int(d) if d == d.to_integral_value() and "." not in text else float(text)
    return text


def _coords(c):
    if isinstance(c, (int, float)):
        return int(c) if float(c).is_integer() and abs(c) < 2 ** 53 else float(c)
    return [_coords(x) for x in c]


def crs_name(crs) -> str:
    """The name written in a GeoJSON ``crs`` member (an OGC URN when the CRS has an EPSG code)."""
    epsg = crs.to_epsg()
    return f"urn:ogc:def:crs:EPSG::{epsg}" if epsg else crs.to_wkt()


def write_geojson(path: Path, ti: TableImport, geometry, crs) -> None:
    """A FeatureCollection with a ``crs`` member, one feature per written row, properties typed."""
    from shapely.geometry import mapping

    table = ti.tmap.table
    names = table.column_names
    dtypes = [table.column(c).dtype for c in names]
    geoms = list(geometry)
    feats = []
    for k, row in zip(ti.keep, ti.rows):
        g = geoms[k]
        gj = None
        if g is not None and not g.is_empty:
            m = mapping(g)
            gj = {"type": m["type"], "coordinates": _coords(m["coordinates"])}
        props = {c: _json_value(v, t) for c, v, t in zip(names, row, dtypes)}
        feats.append(json.dumps({"type": "Feature", "properties": props, "geometry": gj},
                                ensure_ascii=False, separators=(",", ":")))
    head = json.dumps({"type": "FeatureCollection", "name": table.name,
                       "crs": {"type": "name", "properties": {"name": crs_name(crs)}}}, ensure_ascii=False)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(head[:-1] + ', "features": [\n' + ",\n".join(feats) + "\n]}\n")


def write_rejected(path: Path, ti: TableImport) -> None:
    """The rejected source rows, as read, with where they were and why: ``_file, _sheet, _row, _reason``."""
    sheet = ti.sheet
    header = ["_file", "_sheet", "_row", "_reason"] + [h or f"column_{i + 1}" for i, h in enumerate(sheet.header)]
    rows = []
    for k, bad in sorted(ti.rejected.items()):
        cells = sheet.rows[k]
        vals = [_raw_text(cells[i] if i < len(cells) else None) for i in range(len(sheet.header))]
        reason = "; ".join(f"{b.target} <- '{b.source}' {b.value!r}: {b.rule}: {b.hint}" for b in bad)
        rows.append([sheet.file, sheet.sheet or "", str(sheet.row_no[k]), reason] + vals)
    write_csv(path, header, rows)


def _raw_text(v) -> str:
    v = getattr(v, "value", v) if type(v).__name__ == "Cell" else v
    return "" if v is None else str(v)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_metadata(folder: Path, files: dict[str, int], dataset: dict, source: str, mapping: str,
                   crs, encodings: dict[str, str]) -> None:
    """``metadata.json``: real data (``synthetic: false``), what was imported from where, file checksums."""
    meta = {
        "synthetic": False,
        "name": dataset.get("name") or Path(source).name,
        "description": dataset.get("description") or f"Imported from {source} with the mapping {mapping}.",
        "command": f"python -m helpers import {source} --mapping {mapping} --out DIR",
        "imported_from": {"source": source, "mapping": mapping, "encodings": encodings},
        "files": {f: {"rows": n, "sha256": sha256(folder / f)} for f, n in sorted(files.items())},
        "rows_note": "rows = data rows of a CSV or features of a GeoJSON file",
    }
    if crs is not None:
        meta["crs"] = crs.to_string()
    for k, v in dataset.items():
        if k not in meta and k not in ("name", "description"):
            meta[k] = v
    (folder / schema.METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8", newline="\n")
