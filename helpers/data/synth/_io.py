"""Deterministic writers: CSV with fixed float formats, GeoJSON with whole-metre coordinates."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

CRS_URN = "urn:ogc:def:crs:EPSG::4548"


def fmt_column(values, kind: str, decimals: int = 4) -> np.ndarray:
    """Format one column as strings; missing values (NaN / None / pd.NA) become ''.

    Floats get exactly ``decimals`` decimals (fixed point, no exponent, no negative zero);
    the formatting goes through integers so it is fast and identical on every platform.
    """
    s = pd.Series(values)
    if kind == "str":
        out = s.astype(object).to_numpy()
        return np.where(pd.isna(out), "", out).astype(object)
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    miss = np.isnan(v)
    if kind == "int":
        txt = pd.Series(np.where(miss, 0, np.round(v)).astype(np.int64)).astype(str)
    elif kind == "float":
        scaled = np.round(np.where(miss, 0.0, v) * 10.0 ** decimals).astype(np.int64)
        a = np.abs(scaled)
        whole = pd.Series(a // 10 ** decimals).astype(str)
        sign = pd.Series(np.where(scaled < 0, "-", ""))
        if decimals > 0:
            frac = pd.Series(a % 10 ** decimals).astype(str).str.zfill(decimals)
            txt = sign + whole + "." + frac
        else:
            txt = sign + whole
    else:
        raise ValueError(kind)
    return np.where(miss, "", txt.to_numpy(dtype=object)).astype(object)


def write_csv(path: Path, df: pd.DataFrame, spec: dict[str, tuple[str, int]]) -> int:
    """Write ``df`` with columns formatted by ``spec`` {column: (kind, decimals)}; return rows."""
    txt = pd.DataFrame({c: fmt_column(df[c].to_numpy(), *spec[c]) for c in df.columns}, columns=list(df.columns))
    with open(path, "w", encoding="utf-8", newline="") as f:
        txt.to_csv(f, index=False, lineterminator="\n")
    return len(df)


def _ring(coords: np.ndarray) -> list[list[int]]:
    return [[int(x), int(y)] for x, y in np.round(coords).astype(np.int64)]


def geometry_json(geom) -> dict:
    if geom.geom_type == "Point":
        return {"type": "Point", "coordinates": [int(round(geom.x)), int(round(geom.y))]}
    if geom.geom_type == "Polygon":
        g = shapely.orient_polygons(geom)  # exterior counter-clockwise (RFC 7946)
        rings = [_ring(np.asarray(g.exterior.coords))] + [_ring(np.asarray(r.coords)) for r in g.interiors]
        return {"type": "Polygon", "coordinates": rings}
    raise ValueError(geom.geom_type)


def write_geojson(path: Path, name: str, props: pd.DataFrame, geoms, spec: dict[str, tuple[str, int]]) -> int:
    """GeoJSON FeatureCollection with a ``crs`` member (EPSG:4548), one feature per row."""
    cols = {c: fmt_column(props[c].to_numpy(), *spec[c]) for c in props.columns}
    feats = []
    for i, g in enumerate(geoms):
        p = {}
        for c in props.columns:
            kind = spec[c][0]
            txt = cols[c][i]
            p[c] = None if txt == "" else (txt if kind == "str" else int(txt) if kind == "int" else float(txt))
        feats.append({"type": "Feature", "properties": p, "geometry": geometry_json(g)})
    doc = {"type": "FeatureCollection", "name": name,
           "crs": {"type": "name", "properties": {"name": CRS_URN}}, "features": []}
    head = json.dumps(doc, ensure_ascii=False)[:-2]  # strip the closing ']}'
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats)
    Path(path).write_text(head + "\n" + body + "\n]}\n", encoding="utf-8", newline="\n")
    return len(feats)


def write_json(path: Path, obj) -> None:
    Path(path).write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                          encoding="utf-8", newline="\n")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
