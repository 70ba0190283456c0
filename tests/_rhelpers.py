"""Helpers for the tests that run R live (survey, ordinal, lme4, MASS).

One Rscript run per test module computes every reference value of that module
(tests/r/survey_reference.R for the survey designs, tests/r/models_reference.R for the
regression models); this module finds Rscript, writes the inputs, runs it and lines
the results up with ours. Nothing here holds reference numbers: R produces them at
test time.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

R_SCRIPT = Path(__file__).resolve().parent / "r" / "survey_reference.R"
#: Relative tolerance of every comparison with R (the issue's contract).
RTOL = 1e-8


#: Debian package of each R package the tests use (make sysdeps installs them).
DEBIAN_R = {"survey": "r-cran-survey", "ordinal": "r-cran-ordinal", "lme4": "r-cran-lme4", "MASS": "r-cran-mass"}


@functools.lru_cache(maxsize=None)
def _find_rscript(packages: tuple[str, ...] = ("survey",)) -> str | None:
    exe = shutil.which("Rscript")
    load = "; ".join(f"library({p})" for p in packages)
    ok = exe is not None and subprocess.run(
        [exe, "-e", f"suppressMessages({{{load}}})"], capture_output=True).returncode == 0
    return exe if ok else None


def rscript(packages: tuple[str, ...] = ("survey",)) -> str:
    """Path of Rscript with ``packages`` loadable; skip (or fail when $CI is set) when missing."""
    exe = _find_rscript(tuple(packages))
    if exe is None:
        deb = " ".join(["r-base-core"] + [DEBIAN_R.get(p, p) for p in packages])
        msg = (f"Rscript with the R package(s) {', '.join(packages)} is not installed "
               f"(make sysdeps installs {deb})")
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def api_data() -> dict[str, pd.DataFrame]:
    """The California API samples of R's survey package, read from api.rda with rdata."""
    import rdata

    exe = rscript()
    known = [Path(p) / "survey" / "data" / "api.rda" for p in
             ("/usr/lib/R/site-library", "/usr/local/lib/R/site-library", "/usr/lib/R/library")]
    found = [p for p in known if p.exists()]
    if found:
        out = str(found[0])
    else:
        out = subprocess.run([exe, "-e", 'cat(system.file("data", "api.rda", package="survey"))'],
                             capture_output=True, text=True, check=True).stdout.strip()
    parsed = rdata.read_rda(out)
    frames = {}
    for k, v in parsed.items():
        df = pd.DataFrame(v).reset_index(drop=True)
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(str)
        frames[k] = df
    return frames


def run_r_batch(jobs: dict[str, dict]) -> dict[str, pd.DataFrame | str]:
    """Run tests/r/survey_reference.R once for several designs.

    ``jobs``: name -> dict(data=DataFrame, tasks=list of task dicts, design=dict) where a
    task has id, stat (mean|total|ratio|prop), var, den, by (list), level (list) and
    ``design`` has weight, strata, psu (list for two stages), fpc (list), lonely, ultimate.
    Returns name -> R's rows (id, key, estimate, se, ci_low, ci_high, ci_low_t, ci_high_t,
    deff, df, n), or the error message R gave for that design.
    """
    exe = rscript()
    out: dict[str, pd.DataFrame | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for i, (name, job) in enumerate(jobs.items()):
            dpath, tpath, opath = (os.path.join(tmp, f"{i}_{n}") for n in ("data.csv", "tasks.csv", "out.csv"))
            job["data"].to_csv(dpath, index=False, float_format="%.17g")
            pd.DataFrame([{
                "id": t["id"], "stat": t["stat"], "var": t["var"], "den": t.get("den", ""),
                "by": "+".join(t.get("by") or []),
                "level": "|".join(str(v) for v in (t.get("level") or [])),
            } for t in job["tasks"]]).to_csv(tpath, index=False)
            row = {"data": dpath, "tasks": tpath, "out": opath, "weight": "", "strata": "", "psu": "",
                   "fpc": "", "lonely": "fail", "ultimate": "FALSE"}
            for k, v in job["design"].items():
                if v is not None:
                    row[k] = "+".join(v) if isinstance(v, (list, tuple)) else str(v)
            rows.append(row)
        jpath = os.path.join(tmp, "jobs.csv")
        pd.DataFrame(rows).to_csv(jpath, index=False)
        res = subprocess.run([exe, str(R_SCRIPT), jpath], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"R failed:\n{res.stderr[-3000:]}")
        for name, row in zip(jobs, rows):
            if os.path.exists(row["out"] + ".err"):
                out[name] = Path(row["out"] + ".err").read_text()
            else:
                out[name] = pd.read_csv(row["out"], keep_default_na=False, na_values=["NA", "NaN"],
                                        dtype={"key": str})
    return out


def ours(d, task: dict, ci_df="design") -> pd.DataFrame:
    """Our estimate for one task, with a ``key`` column as the R script writes it."""
    by = task.get("by") or None
    if task["stat"] == "mean":
        r = d.mean(task["var"], by=by, ci_df=ci_df)
    elif task["stat"] == "total":
        r = d.total(task["var"], by=by, ci_df=ci_df)
    elif task["stat"] == "ratio":
        r = d.ratio(task["var"], task["den"], by=by, ci_df=ci_df)
    else:
        lv = task["level"]
        r = d.proportion(task["var"], level=lv if len(lv) > 1 else lv[0], by=by)
    if by:
        r["key"] = r[by].astype(str).agg("|".join, axis=1)
    else:
        r["key"] = ""
    return r


def compare(d, ref: pd.DataFrame | str, tasks: list[dict]) -> float:
    """Compare every estimate, SE, CI, deff, df and n with R's rows; return the max relative error."""
    if isinstance(ref, str):
        raise AssertionError(f"R failed on this design: {ref}")
    worst = 0.0
    for t in tasks:
        rr = ref[ref.id == t["id"]].set_index("key")
        for ci_df in (("design", np.inf) if t["stat"] != "prop" else ("design",)):
            me = ours(d, t, ci_df=ci_df).set_index("key")
            assert sorted(me.index) == sorted(rr.index), (t, sorted(me.index)[:5], sorted(rr.index)[:5])
            me = me.loc[rr.index]
            pairs = [("estimate", "estimate"), ("se", "se"), ("df", "df"), ("n", "n")]
            if t["stat"] != "prop":  # a proportion's deff is its indicator's svymean deff (mean tasks)
                pairs.append(("deff", "deff"))
            if t["stat"] == "prop" or ci_df == "design":
                lo, hi = ("ci_low", "ci_high") if t["stat"] == "prop" else ("ci_low_t", "ci_high_t")
            else:
                lo, hi = "ci_low", "ci_high"
            pairs += [("ci_low", lo), ("ci_high", hi)]
            for a, b in pairs:
                x = me[a].to_numpy(float)
                y = rr[b].to_numpy(float)
                np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{t} {a}: NaN pattern")
                m = ~np.isnan(y)
                if m.any():
                    rel = np.abs(x[m] - y[m]) / np.maximum(np.abs(y[m]), 1e-300)
                    rel[(x[m] == y[m])] = 0.0
                    worst = max(worst, float(rel.max()))
                    np.testing.assert_allclose(x[m], y[m], rtol=RTOL, atol=0, err_msg=f"{t} {a} vs R {b}")
    return worst


RUN_JOBS = Path(__file__).resolve().parent / "r" / "run_jobs.R"


def run_r_snippets(jobs: dict[str, dict]) -> dict[str, pd.DataFrame | str]:
    """Run several R snippets in one Rscript session (tests/r/run_jobs.R).

    ``jobs``: name -> dict(code=R source that leaves a data frame ``result``,
    data=dict of R variable name -> DataFrame, written to CSV and read into that
    variable before the code runs). Returns name -> R's ``result`` (numbers read back at
    full precision), or the error message R gave for that snippet.
    """
    exe = rscript()
    out: dict[str, pd.DataFrame | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        written: dict[int, str] = {}
        for i, (name, job) in enumerate(jobs.items()):
            pre = []
            for var, df in (job.get("data") or {}).items():
                if id(df) not in written:
                    path = os.path.join(tmp, f"d{len(written)}.csv")
                    df.to_csv(path, index=False, float_format="%.17g", na_rep="NA")
                    written[id(df)] = path
                pre.append(f'{var} <- read.csv("{written[id(df)]}", stringsAsFactors = FALSE)')
            code = os.path.join(tmp, f"j{i}.R")
            Path(code).write_text("\n".join(pre + [job["code"]]) + "\n")
            rows.append({"name": name, "code": code, "out": os.path.join(tmp, f"j{i}.csv")})
        manifest = os.path.join(tmp, "manifest.csv")
        pd.DataFrame(rows).to_csv(manifest, index=False)
        res = subprocess.run([exe, str(RUN_JOBS), manifest], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"R failed:\n{res.stderr[-3000:]}")
        for row in rows:
            if os.path.exists(row["out"] + ".err"):
                out[row["name"]] = Path(row["out"] + ".err").read_text().strip()
            else:
                out[row["name"]] = pd.read_csv(row["out"], keep_default_na=False, na_values=["NA", "NaN"])
    return out


def assert_close(mine, theirs, what: str, rtol: float = RTOL) -> float:
    """Compare two arrays elementwise (same NaN pattern, relative tolerance); return the max relative error."""
    x = np.asarray(mine, dtype=float)
    y = np.asarray(theirs, dtype=float)
    assert x.shape == y.shape, f"{what}: shapes {x.shape} vs R {y.shape}"
    np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{what}: NaN pattern differs from R")
    m = ~np.isnan(y)
    if not m.any():
        return 0.0
    with np.errstate(invalid="ignore"):
        rel = np.abs(x[m] - y[m]) / np.maximum(np.abs(y[m]), 1e-300)
    rel[x[m] == y[m]] = 0.0
    np.testing.assert_allclose(x[m], y[m], rtol=rtol, atol=0, err_msg=what)
    return float(rel.max())
