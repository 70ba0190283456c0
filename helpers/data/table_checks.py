"""Check one table on its own against the data contract (:mod:`helpers.data.schema`).

:func:`check` takes a table :func:`helpers.data.reader.read` could read and checks its geometries
(present, of the right type, valid), then every column (type, missing values, range - ``year``
columns against the study period -, categories), the row rules and presence rules, ragged rows and
duplicate keys. It keeps the typed column values (``TableResult.values``) that
:mod:`helpers.data.load` turns into frames, and records row-level problems as issues (one per
rule and column) that :meth:`helpers.data.reader.TableResult.problems_from_issues` groups into
problem lines. Checks across tables are :class:`helpers.data.validate.Folder`'s.
"""
from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from helpers.data import schema
from helpers.data.reader import TableResult, isin
from helpers.data.schema import Column, fmt_num


def check(res: TableResult, period=None) -> None:
    """Check a table :func:`helpers.data.reader.read` could read, on its own: geometries, then types, missing values,
    ranges (``year`` columns against ``period``, a :class:`helpers.data.period.StudyPeriod` or None),
    categories, row and presence rules and duplicate keys. Fills ``res.values`` (typed columns)."""
    if res.raw is None:
        return
    if res.table.geometry is not None:
        if not res.n:
            return
        _geometry_checks(res)
    _intra_checks(res, period)


def _quote(vals) -> list[str]:
    return [f"value {v!r}" if not isinstance(v, float) else f"value {fmt_num(v)}" for v in vals]


def _check_column(res: TableResult, col: Column, s: np.ndarray, period) -> None:
    """Type, null, range and category checks of one column given its stripped strings; ``period``
    (a :class:`helpers.data.period.StudyPeriod` or None) bounds year columns."""
    missing = s == ""
    present = ~missing
    name = col.name
    if not col.nullable and missing.any():
        res.add(name, "not null", missing, ["empty"] * int(missing.sum()),
                "the value is missing but this column may not be empty; fill it in")
    if col.dtype in ("str", "category"):
        vals = pd.Series(s, dtype=object).where(present, np.nan)
        res.values[name] = vals
        if col.dtype == "category" and col.categories:
            bad = present & ~isin(s, col.categories)
            if bad.any():
                bad_vals = s[bad]
                details = [f"value {v!r}{_suggest(v, col.categories)}" for v in bad_vals]
                res.add(name, "categories", bad, details,
                        f"allowed values are {', '.join(col.categories)} (exactly, lower case); "
                        "recode the value")
        return
    try:  # fast path: every present value is a plain number
        num = np.where(present, s, "nan").astype(np.float64)
    except (ValueError, TypeError):
        num = pd.to_numeric(s, errors="coerce").astype(float)
    num = np.where(present, num, np.nan)
    not_num = present & ~np.isfinite(num)
    type_rule = {"bool": "type bool 0/1", "int": "type int", "year": "type year"}.get(col.dtype, "type number")
    if not_num.any():
        hint = {"bool": "write 1 for yes and 0 for no",
                "int": "write a whole number", "year": "write a four-digit year"}.get(
            col.dtype, "write a plain number")
        res.add(name, type_rule, not_num, _quote(s[not_num]),
                f"not a number; {hint} ('.' as decimal mark, no units, no thousands separators; "
                "leave it empty if unknown and the column allows missing values)")
    ok = present & np.isfinite(num)
    if col.dtype in ("int", "year", "bool"):
        frac = ok & (np.where(ok, num, 0) != np.round(np.where(ok, num, 0)))
        if frac.any():
            res.add(name, type_rule, frac, [f"value {fmt_num(v)}" for v in num[frac]],
                    "not a whole number; round it or correct it")
        ok &= ~frac
    if col.dtype == "bool":
        notbool = ok & ~np.isin(num, (0.0, 1.0))
        if notbool.any():
            res.add(name, "type bool 0/1", notbool, [f"value {fmt_num(v)}" for v in num[notbool]],
                    "must be 0 (no) or 1 (yes)")
        ok &= ~notbool
    lo, hi, excl = schema.bounds(col, period)
    if lo is not None or hi is not None:
        v = np.where(ok, num, 0.0)
        out = np.zeros(len(s), dtype=bool)
        if lo is not None:
            out |= ok & ((v <= lo) if excl else (v < lo))
        if hi is not None:
            out |= ok & (v > hi)
        if out.any():
            rule = schema.range_rule(col, period)
            rng = rule.removeprefix("range ")
            unit = f" ({col.unit})" if col.unit and col.dtype != "year" and rng not in col.unit else ""
            if col.dtype == "year":
                msg = _year_message(period)
            else:
                msg = (f"the value is outside the allowed range {rng}{unit}; correct it" if rule.startswith("range")
                       else f"the value must be {rule}{unit}; correct it")
                if col.unit and "share" in col.unit:
                    msg += " (shares are 0-1, not percentages)"
                elif col.min == 0 and col.max is None and not excl:
                    msg += " (it cannot be negative)"
                elif col.max == schema.PERIOD_END and period is not None:
                    msg += f" (the study period {period} ends in {period.last}, {_period_source(period)})"
            res.add(name, rule, out, [f"value {fmt_num(x)}" for x in num[out]], msg)
            ok &= ~out
    res.values[name] = np.where(ok, num, np.nan)


def _period_source(period) -> str:
    return "declared in " + period.source if period.declared else "the span of " + period.source


def _year_message(period) -> str:
    plausible = f"{schema.HISTORY_START}-{schema.YEAR_MAX}"
    if period is None:
        return f"not a plausible year ({plausible}); correct it"
    if period.declared:
        return (f"the year is outside the study period {period} declared in {period.source}; correct it, drop "
                f"rows outside the study period, or change \"study_period\" in {period.source}")
    return (f"not a plausible year ({plausible}; the study period {period} is {_period_source(period)}); "
            "correct it")


def _suggest(v: str, choices) -> str:
    low = {c.lower(): c for c in choices}
    if v.lower() in low:
        return f" (did you mean {low[v.lower()]!r}?)"
    m = difflib.get_close_matches(v, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {m[0]!r}?)" if m else ""


def _intra_checks(res: TableResult, period) -> None:
    """Checks inside one table: types, nulls, ranges, categories, row rules, duplicate keys."""
    t = res.table
    df = res.raw
    n = len(df)
    if n == 0 and t.required:
        res.file_problem("no rows", "the file has a header but no data rows; add the data")
        return
    cols = set(df.columns)
    for col in t.columns:
        if col.name not in cols:
            continue
        raw = df[col.name].to_numpy(dtype=object)
        s = raw
        if res.maybe_spaces:
            s = np.array([x.strip() for x in raw], dtype=object)
            ws = s != raw
            if ws.any():
                if col.dtype in ("str", "category"):
                    res.add(col.name, "surrounding spaces", ws, [f"value {x!r}" for x in raw[ws]],
                            "leading/trailing spaces were removed; remove them in the file", severity="warning")
                df[col.name] = pd.Series(s, dtype=object, index=df.index)
        _check_column(res, col, s, period)
    if n == 0:  # an optional table with a header only: zero rows, nothing more to check
        return
    # row rules (left <= right where both present)
    for rule in t.rules:
        if rule.left not in res.values or rule.right not in res.values:
            continue
        a = np.asarray(res.values[rule.left], dtype=float)
        b = np.asarray(res.values[rule.right], dtype=float)
        both = np.isfinite(a) & np.isfinite(b)
        with np.errstate(invalid="ignore"):
            cmp = {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b, "==": a == b}[rule.op]
        bad = both & ~cmp
        res.add(rule.left, f"{rule.left} {rule.op} {rule.right}", bad,
                [f"{rule.left} {fmt_num(x)}, {rule.right} {fmt_num(y)}" for x, y in zip(a[bad], b[bad])],
                f"{rule.description}, so {rule.left} must be {rule.op} {rule.right}; check both values")
    for imp in t.presence:
        if imp.if_column not in res.values or imp.then_column not in cols:
            continue
        cond_vals = res.values[imp.if_column]
        cond = isin(np.asarray(cond_vals, dtype=object), imp.if_values) if isinstance(
            cond_vals, pd.Series) else np.isin(np.asarray(cond_vals, dtype=float), np.asarray(imp.if_values, dtype=float))
        filled = df[imp.then_column].to_numpy(dtype=object) != ""
        bad = cond & (~filled if imp.must == "present" else filled)
        cv = np.asarray(cond_vals, dtype=object)[bad]
        tv = df[imp.then_column].to_numpy(dtype=object)[bad]
        res.add(imp.then_column, f"{imp.then_column} {imp.must} if {imp.if_column} in "
                f"{'/'.join(map(str, imp.if_values))}", bad,
                [f"{imp.if_column} {fmt_num(c) if isinstance(c, float) else c}, {imp.then_column} "
                 f"{v!r}" for c, v in zip(cv, tv)],
                f"{imp.description}; {'fill it in' if imp.must == 'present' else 'leave it empty'} "
                f"or correct {imp.if_column}")
    # ragged rows
    ragged = res.ragged
    if ragged is not None:
        bad, lens = ragged
        res.add(None, "field count", bad, [f"{k} fields" for k in lens[bad]],
                f"the row does not have {len(df.columns)} fields like the header; quote values "
                "containing commas and check for missing separators")
    # duplicate keys
    key = [k for k in t.key if k in cols]
    if len(key) == len(t.key):
        keyed = np.ones(n, dtype=bool)
        for k in key:
            keyed &= df[k].to_numpy(dtype=object) != ""
        exact = df.duplicated(keep="first").to_numpy() & keyed
        if exact.any():
            first = _first_row_of(df, list(df.columns), res.row_no)
            res.add(None, "duplicate row", exact, [f"copy of row {r}" for r in first[exact]],
                    "the row repeats an earlier row exactly; delete the copy")
        rest = ~exact & keyed
        sub = df.loc[rest, key]
        dup = np.zeros(n, dtype=bool)
        dup[np.flatnonzero(rest)] = sub.duplicated(keep=False).to_numpy()
        if dup.any():
            groups: dict[tuple, list[int]] = {}
            dup_rows = res.row_no[dup]
            dup_keys = list(zip(*(df[k].to_numpy(dtype=object)[dup] for k in key)))
            for kk, r in zip(dup_keys, dup_rows):
                groups.setdefault(kk, []).append(int(r))
            res.add(key[0] if len(key) == 1 else "/".join(key), "unique key", dup,
                    ["same key as row " + ", ".join(str(o) for o in groups[kk] if o != r)
                     for kk, r in zip(dup_keys, dup_rows)],
                    f"the key ({', '.join(key)}) must identify one row; keep one row per key")


def _first_row_of(df: pd.DataFrame, cols: list[str], row_no: np.ndarray) -> np.ndarray:
    codes = df.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(row_no).groupby(codes).transform("min").to_numpy()
    return first


def _geometry_checks(res: TableResult) -> None:
    import shapely

    t = res.table
    geoms = res.geometry
    parse_err, errs = res.geo_parse or (np.zeros(len(geoms), bool), [])
    res.add("geometry", "parse geometry", parse_err, errs,
            "the geometry is malformed; re-export the feature")
    empty = np.array([g is None for g in geoms], dtype=bool) & ~parse_err
    nonnull = ~empty & ~parse_err
    if nonnull.any():
        arr = geoms[nonnull]
        e2 = shapely.is_empty(arr)
        idx = np.flatnonzero(nonnull)
        empty[idx[e2]] = True
        nonnull[idx[e2]] = False
    res.add("geometry", "not empty", empty, ["no geometry"] * int(empty.sum()),
            "the feature has a null or empty geometry; draw its boundary or location")
    allowed = {"Polygon": ("Polygon", "MultiPolygon"), "Point": ("Point",)}.get(t.geometry, (t.geometry,))
    gtype = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    wrong = nonnull & ~isin(gtype, allowed)
    res.add("geometry", f"geometry type {t.geometry}", wrong, [f"a {x}" for x in gtype[wrong]],
            f"{t.file} holds {' or '.join(allowed)} geometries; convert or remove the feature")
    ok = nonnull & ~wrong
    if ok.any():
        reasons = shapely.is_valid_reason(geoms[ok])
        bad_local = reasons != "Valid Geometry"
        invalid = np.zeros(len(geoms), dtype=bool)
        invalid[np.flatnonzero(ok)[bad_local]] = True
        res.add("geometry", "valid geometry", invalid, list(reasons[bad_local]),
                "the geometry is invalid; repair it (QGIS 'Fix geometries', shapely.make_valid or buffer(0)) "
                "and check that it still nests in its parent")
        ok &= ~invalid
    res.geom_ok = ok
