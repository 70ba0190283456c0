"""Computations of 90_validation: the survey and spatial helpers on real data with known answers.

Part A - California Academic Performance Index samples (``api``) of R's ``survey`` package
(Lumley 2010): design-based estimates by :class:`helpers.stats.survey.SurveyDesign` beside R's
``svymean`` / ``svytotal`` / ``svyratio`` / ``svyby``, computed live by ``Rscript``.

* :func:`api_path` / :func:`load_api` - find ``api.rda`` (installed with R's survey
  package) and read it with the ``rdata`` package (no R needed for this step).
* :func:`our_estimates` - every task of :data:`TASKS` on every design of :data:`API_DESIGNS`.
* :func:`r_estimates` - the same tasks in R, which loads the samples itself (``data(api)``),
  so the reference does not even share our reading of the file. Returns ``None`` with a
  reason when R or its survey package is missing.
* :func:`compare` - the two side by side with relative differences and the significant digits
  in which they agree (:func:`agreement_digits`).

Part B - North Carolina SIDS counties (libpysal): :mod:`helpers.studies.cases.sids` runs the
EB-smoothed rates, the funnel plot, Moran's I and LISA; :func:`sids_reference` checks
:mod:`helpers.stats.spatial` against the value published in esda's documentation.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["API_DESIGNS", "TASKS", "api_path", "load_api", "our_estimates", "r_estimates", "RResult", "compare",
           "agreement_digits", "MAX_DIGITS", "ApiValidation", "api_validation", "design_table", "sids_reference",
           "ESDA_DOC_SID79", "sids_summary"]

#: The three samples and their designs, as in the survey package's ``example(api)``.
API_DESIGNS: dict[str, dict] = {
    "apisrs": dict(label="simple random sample of schools", weight="pw", strata=None, psu=None, fpc="fpc",
                   r="svydesign(ids = ~1, weights = ~pw, fpc = ~fpc, data = apisrs)"),
    "apistrat": dict(label="stratified by school type (elementary, middle, high)", weight="pw", strata="stype",
                     psu=None, fpc="fpc",
                     r="svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)"),
    "apiclus1": dict(label="one-stage cluster sample of school districts", weight="pw", strata=None,
                     psu="dnum", fpc="fpc", r="svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)"),
}

#: (statistic, variable, denominator, domain column): the estimates compared.
TASKS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("mean", "api00", None, None),
    ("mean", "api99", None, None),
    ("total", "enroll", None, None),
    ("ratio", "api.stu", "enroll", None),
    ("mean", "api00", None, "stype"),
)

#: Moran's I of the EB-standardised SIDS rates 1979-84 (``SID79 / BIR79``) on the contiguity
#: weights ``sids2.gal``, and its one-tailed normal p-value, as printed in the example of
#: ``esda.moran.Moran_Rate`` (esda documentation): ``'0.1662'`` and ``'0.0042'``.
ESDA_DOC_SID79 = {"I": 0.1662, "p_norm_one_tailed": 0.0042}

_R_SCRIPT = r"""
suppressMessages(library(survey))
data(api)
out <- list()
add <- function(sample, stat, var, dom, est, se) {
  out[[length(out) + 1]] <<- data.frame(sample = sample, statistic = stat, variable = var, domain = dom,
                                        estimate = sprintf("%.17g", est), se = sprintf("%.17g", se))
}
designs <- list(%DESIGNS%)
for (s in names(designs)) {
  des <- designs[[s]]
  for (v in c("api00", "api99")) {
    m <- svymean(as.formula(paste0("~", v)), des, na.rm = TRUE)
    add(s, "mean", v, "all", coef(m), SE(m))
  }
  m <- svytotal(~enroll, des, na.rm = TRUE)
  add(s, "total", "enroll", "all", coef(m), SE(m))
  r <- svyratio(~api.stu, ~enroll, des, na.rm = TRUE)
  add(s, "ratio", "api.stu/enroll", "all", coef(r), SE(r))
  b <- svyby(~api00, ~stype, des, svymean, na.rm = TRUE, keep.names = FALSE)
  for (i in seq_len(nrow(b))) add(s, "mean", "api00", paste0("stype=", b$stype[i]), coef(b)[i], SE(b)[i])
}
write.csv(do.call(rbind, out), commandArgs(TRUE)[1], row.names = FALSE)
cat(as.character(packageVersion("survey")), R.version$major, R.version$minor, sep = "\n")
"""


def _rscript() -> str | None:
    return shutil.which("Rscript")


def api_path() -> Path | None:
    """Where ``api.rda`` is: asked of R when it is installed, else the usual library folders."""
    exe = _rscript()
    if exe:
        try:
            p = subprocess.run([exe, "-e", 'cat(system.file("data", "api.rda", package = "survey"))'],
                               capture_output=True, text=True, timeout=60).stdout.strip()
            if p and Path(p).is_file():
                return Path(p)
        except (OSError, subprocess.SubprocessError):
            pass
    for pattern in ("/usr/lib/R/site-library/survey/data/api.rda", "/usr/lib/R/library/survey/data/api.rda",
                    "/usr/local/lib/R/site-library/survey/data/api.rda", "/usr/share/R/library/survey/data/api.rda",
                    os.path.expanduser("~/R/*/*/survey/data/api.rda")):
        hits = sorted(glob.glob(pattern))
        if hits:
            return Path(hits[0])
    return None


def load_api(path: str | Path | None = None) -> dict[str, pd.DataFrame] | None:
    """The API samples (``apisrs``, ``apistrat``, ``apiclus1``, ...) read from ``api.rda`` with rdata.

    Factor columns become strings, integer columns float (missing = NaN). ``None`` when the
    file cannot be found.
    """
    import rdata

    path = api_path() if path is None else Path(path)
    if path is None or not Path(path).is_file():
        return None
    parsed = rdata.read_rda(str(path))
    out = {}
    for k, v in parsed.items():
        df = pd.DataFrame(v).reset_index(drop=True)
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(df[c]):
                df[c] = df[c].astype(str)
            elif pd.api.types.is_numeric_dtype(df[c]):
                df[c] = pd.to_numeric(df[c]).astype("float64")
        out[k] = df
    return out


def our_estimates(api: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every task of :data:`TASKS` on every sample of :data:`API_DESIGNS`, by :class:`SurveyDesign`.

    Returns ``sample, statistic, variable, domain, estimate, se, ci_low, ci_high, df, n``
    (t intervals on the design degrees of freedom; ``domain`` is ``"all"`` or
    ``"stype=E"`` etc.).
    """
    from helpers.stats.survey import SurveyDesign

    rows = []
    for s, spec in API_DESIGNS.items():
        d = SurveyDesign(api[s], weight=spec["weight"], strata=spec["strata"], psu=spec["psu"], fpc=spec["fpc"])
        for stat, var, den, dom in TASKS:
            if stat == "mean":
                r = d.mean(var, by=dom)
            elif stat == "total":
                r = d.total(var, by=dom)
            else:
                r = d.ratio(var, den, by=dom)
            r = r.assign(sample=s, statistic=stat, variable=var if den is None else f"{var}/{den}",
                         domain=("all" if dom is None else dom + "=" + r[dom].astype(str)) if dom else "all")
            rows.append(r[["sample", "statistic", "variable", "domain", "estimate", "se", "ci_low", "ci_high",
                           "df", "n"]])
    return pd.concat(rows, ignore_index=True)


@dataclass
class RResult:
    """R's estimates (``table``) or why there are none (``reason``), with R's versions."""

    table: pd.DataFrame | None
    reason: str = ""
    r_version: str = ""
    survey_version: str = ""

    @property
    def ok(self) -> bool:
        return self.table is not None


def r_estimates(timeout: float = 120) -> RResult:
    """The tasks of :data:`TASKS` computed by R's survey package, run now with ``Rscript``.

    R loads the samples itself (``data(api)``) and builds the designs of
    :data:`API_DESIGNS`. When R or the survey package is missing, ``table`` is ``None`` and
    ``reason`` says why (the notebook then shows our estimates only).
    """
    exe = _rscript()
    if exe is None:
        return RResult(None, "R is not installed (no Rscript on the PATH)")
    designs = ", ".join(f"{s} = {spec['r']}" for s, spec in API_DESIGNS.items())
    script = _R_SCRIPT.replace("%DESIGNS%", designs)
    with tempfile.TemporaryDirectory() as tmp:
        spath, opath = Path(tmp) / "api.R", Path(tmp) / "r_out.csv"
        spath.write_text(script, encoding="utf-8")
        try:
            res = subprocess.run([exe, str(spath), str(opath)], capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as e:
            return RResult(None, f"Rscript could not be run: {e}")
        if res.returncode != 0 or not opath.is_file():
            err = res.stderr.strip().splitlines()
            why = "R's survey package is not installed" if "survey" in res.stderr and "there is no package" in \
                res.stderr else "R failed: " + (err[-1] if err else f"exit code {res.returncode}")
            return RResult(None, why)
        table = pd.read_csv(opath, dtype={"estimate": float, "se": float})
    lines = res.stdout.strip().splitlines()
    survey_v = lines[0] if lines else ""
    r_v = f"{lines[1]}.{lines[2]}" if len(lines) >= 3 else ""
    return RResult(table, "", r_v, survey_v)


def compare(ours: pd.DataFrame, r: RResult) -> pd.DataFrame:
    """Our estimates beside R's.

    Returns ``sample, statistic, variable, domain, n, estimate, estimate_r, rel_diff_estimate,
    digits_estimate, se, se_r, rel_diff_se, digits_se``: the relative differences
    ``|ours - R| / |R|`` and the significant digits in which the two agree
    (:func:`agreement_digits`); the R columns are missing without R."""
    keys = ["sample", "statistic", "variable", "domain"]
    out = ours[keys + ["estimate", "se", "n"]].copy()
    if not r.ok:
        out["estimate_r"] = np.nan
        out["se_r"] = np.nan
    else:
        ref = r.table[keys + ["estimate", "se"]].rename(columns={"estimate": "estimate_r", "se": "se_r"})
        out = out.merge(ref, on=keys, how="left", validate="one_to_one")
    out["rel_diff_estimate"] = (out["estimate"] - out["estimate_r"]).abs() / out["estimate_r"].abs()
    out["rel_diff_se"] = (out["se"] - out["se_r"]).abs() / out["se_r"].abs()
    out["digits_estimate"] = agreement_digits(out["rel_diff_estimate"])
    out["digits_se"] = agreement_digits(out["rel_diff_se"])
    return out[keys + ["n", "estimate", "estimate_r", "rel_diff_estimate", "digits_estimate", "se", "se_r",
                       "rel_diff_se", "digits_se"]]


#: Double precision carries about 15-16 significant decimal digits; agreement is counted up to 15.
MAX_DIGITS = 15


def agreement_digits(rel_diff) -> np.ndarray:
    """Significant decimal digits in which two numbers agree, from their relative difference:
    ``floor(-log10(rel_diff))``, at most :data:`MAX_DIGITS` (identical numbers get :data:`MAX_DIGITS`),
    at least 0; NaN where the relative difference is missing. ``1e-9`` -> 9, ``2.1e-15`` -> 14."""
    r = np.asarray(pd.to_numeric(pd.Series(rel_diff), errors="coerce"), float)
    with np.errstate(divide="ignore"):
        d = np.floor(-np.log10(np.where(r > 0, r, np.nan)))
    d = np.where(r == 0, MAX_DIGITS, d)
    return np.clip(d, 0, MAX_DIGITS)


def design_table(api: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per sample: its design in words, schools sampled, strata, clusters, population."""
    rows = []
    for s, spec in API_DESIGNS.items():
        df = api[s]
        rows.append({"sample": s, "design": spec["label"], "schools": len(df),
                     "strata": df[spec["strata"]].nunique() if spec["strata"] else 1,
                     "clusters": df[spec["psu"]].nunique() if spec["psu"] else len(df),
                     "sum_of_weights": float(df[spec["weight"]].sum()), "R_call": spec["r"]})
    return pd.DataFrame(rows)


@dataclass
class ApiValidation:
    """Part A in one object: the data's designs, our estimates, R's and their comparison.

    Every attribute is present whatever is installed: frames are empty (with their columns)
    when the data are missing, and ``r.reason`` says why R did not run.
    """

    found: bool
    designs: pd.DataFrame
    ours: pd.DataFrame
    r: RResult
    comparison: pd.DataFrame

    @property
    def worst(self) -> float | None:
        """Largest relative difference from R over estimates and SEs (None without R)."""
        if not self.r.ok or self.comparison.empty:
            return None
        return float(np.nanmax(self.comparison[["rel_diff_estimate", "rel_diff_se"]].to_numpy()))

    @property
    def fewest_digits(self) -> float | None:
        """The fewest significant digits in which an estimate or SE agrees with R (None without R)."""
        if not self.r.ok or self.comparison.empty:
            return None
        return float(np.nanmin(self.comparison[["digits_estimate", "digits_se"]].to_numpy()))

    def example(self, sample: str = "apistrat", variable: str = "api00") -> pd.Series | None:
        """Our overall mean of ``variable`` in ``sample`` (a row of :attr:`ours`), or None."""
        o = self.ours
        hit = o[(o["sample"] == sample) & (o["statistic"] == "mean") & (o["variable"] == variable)
                & (o["domain"] == "all")]
        return hit.iloc[0] if len(hit) else None


def api_validation(run_r: bool = True) -> ApiValidation:
    """Run Part A: load the API samples, estimate, run R (unless ``run_r=False``) and compare."""
    api = load_api()
    r = r_estimates() if run_r else RResult(None, "R was not asked to run")
    if api is None:
        empty = pd.DataFrame(columns=["sample", "statistic", "variable", "domain", "estimate", "se", "ci_low",
                                      "ci_high", "df", "n"])
        return ApiValidation(False, pd.DataFrame(columns=["sample", "design"]), empty, r, compare(empty, r))
    ours = our_estimates(api)
    return ApiValidation(True, design_table(api), ours, r, compare(ours, r))


def sids_reference(*, seed: int, permutations: int = 999) -> pd.DataFrame:
    """:mod:`helpers.stats.spatial` against esda's published SIDS example (1979-84 rates).

    Builds rook weights from the county polygons with :func:`helpers.stats.spatial.weights`,
    checks that they are the neighbour lists of libpysal's ``sids2.gal`` (the file esda's
    example reads), and runs :func:`helpers.stats.spatial.moran_rate`.

    Returns
    -------
    DataFrame ``check, ours, reference, agrees``: counties whose neighbours differ from
    ``sids2.gal`` (reference 0), Moran's I (reference :data:`ESDA_DOC_SID79`, 4 decimals) and
    its one-tailed normal p-value (our two-tailed ``p_norm`` halved).
    """
    import libpysal

    from helpers.stats import spatial
    from helpers.studies.cases.sids import load_sids

    g = load_sids()
    w = spatial.weights(g, "rook", id_col="FIPS")
    gal = libpysal.io.open(libpysal.examples.get_path("sids2.gal")).read()
    differ = sum(set(w.w.neighbors[i]) != set(gal.neighbors.get(i, [])) for i in w.ids)
    m = spatial.moran_rate(g, "SID79", "BIR79", w, seed=seed, permutations=permutations)
    rows = [
        {"check": "counties whose rook neighbours differ from sids2.gal", "ours": float(differ), "reference": 0.0,
         "agrees": differ == 0},
        {"check": "Moran's I, EB-standardised SIDS rate 1979–84", "ours": m.I, "reference": ESDA_DOC_SID79["I"],
         "agrees": round(m.I, 4) == ESDA_DOC_SID79["I"]},
        {"check": "its normal p-value, one-tailed", "ours": m.p_norm / 2,
         "reference": ESDA_DOC_SID79["p_norm_one_tailed"],
         "agrees": round(m.p_norm / 2, 4) == ESDA_DOC_SID79["p_norm_one_tailed"]},
    ]
    out = pd.DataFrame(rows)
    out["ours"] = out["ours"].astype(float)
    return out


def sids_summary(case) -> pd.DataFrame:
    """Crude and EB-smoothed county rates (per 1,000 births) summarised: min, quartiles, max, and
    the spread (sd); the smoothed rates should spread less, mostly in small counties."""
    g = case.frame
    rows = []
    for col, lab in (("crude_rate", "crude rate"), ("eb_rate", "EB-smoothed rate")):
        v = g[col].to_numpy(float)
        rows.append({"rate": lab, "min": v.min(), "q25": np.quantile(v, 0.25), "median": np.median(v),
                     "q75": np.quantile(v, 0.75), "max": v.max(), "sd": v.std(ddof=1)})
    return pd.DataFrame(rows)
