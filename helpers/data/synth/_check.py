"""Self-check of a generated folder against the data contract (helpers/data/schema.py).

A light, dependency-free twin of helpers.data.validate for the generator's own tests:
columns, types, ranges, categories, keys, references, row rules and nesting.
Returns a list of problems (empty when the folder honours the contract).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import PERIOD_END, TABLES, Table
from ._params import YEARS


def read_table(folder: Path, t: Table) -> pd.DataFrame:
    path = Path(folder) / t.file
    if t.geometry:
        import geopandas as gpd
        return gpd.read_file(path)
    dtypes = {c.name: str for c in t.columns if c.dtype in ("str", "category")}
    return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])


def check_table(t: Table, df: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[str]:
    errs: list[str] = []
    cols = [c for c in df.columns if c != "geometry"]
    if cols != t.column_names:
        return [f"{t.name}: columns {cols} != {t.column_names}"]
    for c in t.columns:
        s = df[c.name]
        miss = s.isna()
        if miss.any() and not c.nullable:
            errs.append(f"{t.name}.{c.name}: {int(miss.sum())} missing values")
        v = s[~miss]
        if c.dtype in ("str", "category"):
            if (v.astype(str) == "").any():
                errs.append(f"{t.name}.{c.name}: empty strings")
            if c.categories and not v.isin(c.categories).all():
                errs.append(f"{t.name}.{c.name}: values outside {c.categories}: {sorted(set(v) - set(c.categories))[:5]}")
            continue
        x = pd.to_numeric(v, errors="coerce")
        if x.isna().any():
            errs.append(f"{t.name}.{c.name}: non-numeric values")
            continue
        x = x.to_numpy(float)
        if c.dtype in ("int", "bool", "year") and (x != np.round(x)).any():
            errs.append(f"{t.name}.{c.name}: non-integer values")
        lo, hi = c.min, (YEARS[-1] if c.max == PERIOD_END else c.max)
        if c.dtype == "bool":
            lo, hi = 0, 1
        if c.dtype == "year":
            lo, hi = YEARS[0], YEARS[-1]
        if lo is not None and ((x <= lo).any() if c.min_exclusive else (x < lo).any()):
            errs.append(f"{t.name}.{c.name}: values below {lo}")
        if hi is not None and (x > hi).any():
            errs.append(f"{t.name}.{c.name}: values above {hi}")
    if df.duplicated(list(t.key)).any():
        errs.append(f"{t.name}: duplicate keys {t.key}")
    keys = df[list(t.key)].astype(str).agg("|".join, axis=1).tolist()
    if keys != sorted(keys):
        errs.append(f"{t.name}: rows not sorted by key")
    for c in t.columns:
        if c.references:
            rt, rc = c.references.split(".")
            if rt in tables:
                bad = ~df[c.name].dropna().isin(set(tables[rt][rc]))
                if bad.any():
                    errs.append(f"{t.name}.{c.name}: {int(bad.sum())} values not in {c.references}")
    for r in t.rules:
        a, b = pd.to_numeric(df[r.left]), pd.to_numeric(df[r.right])
        both = a.notna() & b.notna()
        if (a[both] > b[both]).any():
            errs.append(f"{t.name}: rule {r.left} <= {r.right} broken on {int((a[both] > b[both]).sum())} rows")
    if t.geometry:
        import shapely
        g = df.geometry.values
        if not (df.geometry.geom_type == t.geometry).all():
            errs.append(f"{t.name}: geometries not all {t.geometry}")
        if not shapely.is_valid(np.asarray(g)).all():
            errs.append(f"{t.name}: invalid geometries")
        if df.crs is None or df.crs.to_epsg() != 4548:
            errs.append(f"{t.name}: CRS is {df.crs}, not EPSG:4548")
    return errs


def check_nesting(child: pd.DataFrame, parent: pd.DataFrame, key: str, tol_m2: float = 1.0) -> list[str]:
    import shapely
    errs = []
    for k, grp in child.groupby(key):
        u = shapely.coverage_union_all(np.asarray(grp.geometry.values))
        p = parent.loc[parent[key] == k].geometry.iloc[0]
        if shapely.symmetric_difference(u, p).area > tol_m2:
            errs.append(f"nesting: children of {key}={k} do not dissolve into its polygon")
    if not shapely.coverage_is_valid(np.asarray(child.geometry.values)):
        errs.append("nesting: child polygons overlap")
    return errs


def check_folder(folder: str | Path) -> list[str]:
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    errs: list[str] = []
    for name, t in TABLES.items():
        tables[name] = df = read_table(folder, t)
        errs += check_table(t, df, tables)
    for name, t in TABLES.items():
        if t.parent:
            errs += check_nesting(tables[name], tables[t.parent], t.parent_key)
    sv = tables["survey"]
    resp = sv["responded"] == 1
    if sv.loc[resp, "weight"].isna().any() or sv.loc[~resp, "weight"].notna().any():
        errs.append("survey: weight must be present exactly for respondents")
    items = ["age", "sex", "migrant", "walk_minutes", "sat_service", "sat_score", "aware_center"]
    if sv.loc[~resp, items].notna().any().any():
        errs.append("survey: nonrespondents have answers")
    if (sv["complaint_resolved"].notna() & (sv["complaint_made"] != 1)).any():
        errs.append("survey: complaint_resolved without a complaint")
    meta = json.loads((folder / "metadata.json").read_text())
    if meta.get("synthetic") is not True or "SYNTHETIC" not in meta.get("description", ""):
        errs.append("metadata: must say the data are SYNTHETIC")
    return errs
