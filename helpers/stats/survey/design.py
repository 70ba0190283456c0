"""Design-based survey estimation (Taylor linearisation) that matches R's ``survey`` package.

The public entry point is :class:`SurveyDesign`::

    from helpers.stats.survey import SurveyDesign
    d = SurveyDesign(df, weight="weight", strata="district_id", psu="community_id",
                     fpc="n_psu_stratum")
    d.mean(["sat_overall", "aware_center"], by=["district_id", "year"])
    d.total("participated", by="district_id")
    d.ratio("complaint_resolved", "complaint_made", by="district_id")
    d.proportion("sat_overall", level=[4, 5], by="district_id", method="logit")

Every estimator returns a tidy :class:`pandas.DataFrame` with one row per domain
(combination of the ``by`` columns) and variable, holding the ``by`` columns and
``variable, estimate, se, ci_low, ci_high, df, deff, n`` (and ``level`` for
proportions).

How it is computed
------------------
Two phases. Phase 1 reduces the microdata to sums per domain x stratum x PSU
(x second-stage unit for two-stage designs) in the data engine: NumPy
``bincount`` on integer codes for an in-memory DataFrame (``engine="pandas"``,
the default; the row-to-cell map is cached per ``by``), or one ``GROUP BY`` in
DuckDB SQL (``engine="duckdb"`` for a DataFrame, :meth:`SurveyDesign.from_parquet`
for Parquet files larger than memory); both give the same results.
Phase 2 finishes the estimates and the Taylor-linearised variances in NumPy from
those few cells. Nothing is quadratic in the number of respondents.

Phase 2 is one engine for every estimator: ``_vcov`` takes the per-cell totals of k
linearised variables (influence values) and returns, per domain, their k x k design
covariance matrix, R's ``svyrecvar`` of a matrix (strata, fpc, second stage, lonely
PSUs); a standard error is its diagonal for k = 1. The regression models
(:mod:`~helpers.stats.survey.regression`), the covariances across domains and
contrasts (:mod:`~helpers.stats.survey.contrast`) and the Rao-Scott tests
(:mod:`~helpers.stats.survey.testing`) all go through it; :meth:`SurveyDesign.linearised_vcov`
exposes it for influence values computed elsewhere.

Conventions (all chosen to reproduce R ``survey`` 4.x exactly)
---------------------------------------------------------------
* Variance: ``svyrecvar``/``onestrat``: for each stratum h with n_h sampled PSUs,
  ``f_h * n_h/(n_h-1) * sum_j (z_hj - zbar_h)^2`` where z_hj are the PSU totals of
  the linearised variable (influence values) and ``f_h = (N_h - n_h)/N_h`` the
  first-stage finite-population correction (1 without ``fpc``). ``fpc`` may hold
  population PSU counts N_h (all values >= 1) or sampling fractions n_h/N_h (all
  values <= 1), as in ``svydesign(fpc=)``. Strata with f_h < 1e-7 (census) add 0.
* Domains (``by``) are estimated as R's ``svyby`` does: the rows outside a domain
  count as zeros; n_h stays the full-design count of PSUs, so PSUs without domain
  members enter the variance as zero totals.
* Missing item values are excluded per variable, as ``na.rm=TRUE`` does; a ratio
  uses the rows where numerator and denominator are both present.
* PSU identifiers are taken as nested within strata (R's ``nest=TRUE``; identical
  to R's default when the identifiers are already nested). Without ``psu`` every
  row is its own PSU (``ids=~1``); without ``strata`` there is one stratum.
* Two-stage designs (``psu=[stage1, stage2]``, ``fpc=[fpc1, fpc2]``) add the
  second-stage variance scaled by n_h/N_h as R's ``multistage`` does (with
  ``options(survey.ultimate.cluster=FALSE)``, R's default). Without a first-stage
  fpc, R (and this code) uses the ultimate-cluster variance.
* Strata with a single PSU follow R's ``options(survey.lonely.psu=)``:
  ``"fail"`` (default: raise :class:`LonelyPSUError`), ``"adjust"`` (centre at the
  overall mean instead of the stratum mean), ``"remove"``/``"certainty"``
  (contribute 0), ``"average"`` (scale up the other strata). R's
  ``survey.adjust.domain.lonely`` is taken as FALSE (its default).
* ``deff`` is R's ``deff=TRUE``: the design variance over the variance of simple
  random sampling *without* replacement of the same n from a population of
  N = sum of weights, ``svyvar(x) * (N - n)/(N * n)`` for a mean (times N^2 for a
  total; a ratio uses the total of its linearised variable as R's ``svyratio``).
  It is NaN when N < n (weights not scaled to the population; R gives NA for a mean
  and a meaningless negative number for a total) and when n < 2.
* ``df`` is the design degrees of freedom of the domain, R's ``degf()`` of the
  domain subset: PSUs with at least one row in the domain minus the strata with at
  least one row in it.
* Confidence intervals: ``mean``, ``total`` and ``ratio`` are Wald intervals
  ``estimate +/- q * se``. With ``ci_df="design"`` (the default) q is the t quantile
  on the domain's design df (R: ``confint(x, df=degf(design))``); with
  ``ci_df=numpy.inf`` it is the normal quantile, which is what R's ``confint`` does
  by default (``df=Inf``). ``proportion(method="logit")`` is ``svyciprop(method=
  "logit")``: the interval of logit(p) with the design-df t quantile, transformed
  back; ``method="mean"`` is the Wald interval of the proportion.

References
----------
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Lumley, T. (2024) survey: analysis of complex survey samples. R package 4.x
(``svymean``, ``svytotal``, ``svyratio``, ``svyby``, ``svyciprop``, ``svyrecvar``).
Wolter, K. (2007) *Introduction to Variance Estimation*, 2nd ed. Springer.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["SurveyDesign", "LonelyPSUError", "LONELY_PSU_OPTIONS"]

#: Accepted values of ``lonely_psu`` (R's ``options(survey.lonely.psu=)``).
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "adjust", "remove", "certainty", "average")

RESULT_COLUMNS: tuple[str, ...] = ("variable", "estimate", "se", "ci_low", "ci_high", "df", "deff", "n")


class LonelyPSUError(ValueError):
    """A stratum has a single sampled PSU and ``lonely_psu="fail"`` (R's default)."""


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _factor(v) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for missing) and sorted unique values of one column.

    Integer columns with a compact range skip hashing: the code is the value minus
    the minimum (unused codes are dropped later by :func:`_codes`)."""
    a = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
    if a.dtype.kind in "iu" and len(a):
        mn, mx = int(a.min()), int(a.max())
        if mx - mn <= 4 * len(a) + 1024:
            return a.astype(np.int64) - mn, np.arange(mn, mx + 1)
    c, u = pd.factorize(pd.Series(v) if not isinstance(v, pd.Series) else v, sort=True)
    return c.astype(np.int64, copy=False), np.asarray(u)


def _first_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """The first row of each code 0..k-1 (every code must occur)."""
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """The rows where a run of equal codes begins (empty for no rows)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def _codes(values: Sequence) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes (0..k-1, in sorted order of the values) of the combinations of columns.

    Returns ``(codes, labels)``: ``labels`` has one row per code (columns 0, 1, ...);
    rows with a missing value in any column get code -1.
    """
    if not values:
        raise ValueError("no columns")
    n = len(values[0])
    combined = None
    missing = None
    uniques = []
    radix = 1
    for v in values:
        c, u = _factor(v)
        neg = c < 0
        if neg.any():
            missing = neg if missing is None else (missing | neg)
            c = np.maximum(c, 0)
        uniques.append(u)
        k = max(len(u), 1)
        combined = c if combined is None else combined * k + c
        radix *= k
    if missing is not None:
        combined = combined.copy()
        combined[missing] = -1
        valid = combined[~missing]
    else:
        valid = combined
    if radix <= 50_000_000:
        present = np.flatnonzero(np.bincount(valid, minlength=radix))
        lut = np.full(radix, -1, dtype=np.int64)
        lut[present] = np.arange(len(present))
        if missing is None:
            codes = lut[combined]
        else:
            codes = np.where(missing, -1, lut[np.maximum(combined, 0)])
    else:
        present, inv = np.unique(valid, return_inverse=True)
        if missing is None:
            codes = inv.astype(np.int64)
        else:
            codes = np.full(n, -1, dtype=np.int64)
            codes[~missing] = inv
    labels = {}
    rem = present.copy()
    for i in range(len(values) - 1, -1, -1):
        k = max(len(uniques[i]), 1)
        labels[i] = uniques[i][rem % k] if len(uniques[i]) else np.array([])
        rem //= k
    return codes, pd.DataFrame({i: labels[i] for i in range(len(values))})


def _colsums(group: np.ndarray, Z: np.ndarray, G: int) -> np.ndarray:
    """Column sums of ``Z`` (rows, k) per group code: an array (G, k)."""
    if Z.shape[1] == 1:
        return np.bincount(group, weights=Z[:, 0], minlength=G)[:, None]
    out = np.empty((G, Z.shape[1]))
    for j in range(Z.shape[1]):
        out[:, j] = np.bincount(group, weights=Z[:, j], minlength=G)
    return out


def _grouped_crossprod(group: np.ndarray, A: np.ndarray, w: np.ndarray, D: int) -> np.ndarray:
    """``sum_r w_r A_r A_r'`` over the rows r of each group d: an array (D, k, k)."""
    k = A.shape[1]
    if k == 1:
        return np.bincount(group, weights=w * A[:, 0] ** 2, minlength=D)[:, None, None]
    if D == 1:
        V = (A * w[:, None]).T @ A
        return ((V + V.T) / 2)[None]
    out = np.zeros((D, k, k))
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(D + 1))
    for d in range(D):
        rows = order[bounds[d]:bounds[d + 1]]
        if len(rows):
            V = (A[rows] * w[rows, None]).T @ A[rows]
            out[d] = (V + V.T) / 2
    return out


@dataclass
class _Cells:
    """Phase-1 result: sums per domain x (stratum, PSU[, SSU]) cell.

    ``dom``: domain code of each cell; ``psu``: global PSU code; ``ssu``: global
    second-stage code (two-stage designs only, else None); ``nrow``: rows with a
    non-zero weight in the cell; ``sums``: named per-cell sums; ``domains``: the
    ``by`` labels, one row per domain code.
    """

    dom: np.ndarray
    psu: np.ndarray
    ssu: np.ndarray | None
    nrow: np.ndarray
    sums: dict[str, np.ndarray]
    domains: pd.DataFrame


class SurveyDesign:
    """A stratified (multi-stage) cluster sample with weights, for design-based estimation.

    Parameters
    ----------
    df : pandas.DataFrame
        Microdata, one row per respondent. Rows with a missing weight are an error
        unless ``dropna_weight=True`` (drop nonrespondents before building a design).
    weight : str
        Column of sampling weights (population units represented per respondent;
        R's ``weights=``). Must be >= 0 and present.
    strata : str or list of str, optional
        Column(s) whose combination defines the strata. None: one stratum.
    psu : str or list of str, optional
        Primary sampling unit identifier (nested within strata). A list of two
        columns is a two-stage design ``ids=~psu+ssu``. None: each row is a PSU.
    fpc : str or list of str, optional
        Finite-population correction per stage: population count of PSUs in the
        stratum (all values >= 1) or sampling fraction (all values <= 1), constant
        within a stratum (within a PSU for the second stage). None: sampling with
        replacement (no correction).
    lonely_psu : {"fail", "adjust", "remove", "certainty", "average"}
        Treatment of strata with one sampled PSU, as R's ``options(survey.lonely.psu)``.
    engine : {"pandas", "duckdb"}
        Phase-1 engine for in-memory data: NumPy on integer codes (default), or DuckDB
        SQL over the registered frame (same results; needs ``psu``; one or two stages). For
        files larger than memory use :meth:`from_parquet`.
    dropna_weight : bool
        Drop rows whose weight is missing (for example nonrespondents) instead of raising.

    Notes
    -----
    See the module docstring for the formulas and the R conventions reproduced.
    """

    def __init__(self, df: pd.DataFrame | None, weight: str, strata: str | Sequence[str] | None = None,
                 psu: str | Sequence[str] | None = None, fpc: str | Sequence[str] | None = None,
                 *, lonely_psu: str = "fail", engine: str = "pandas", dropna_weight: bool = False,
                 _duck=None):
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_OPTIONS}, got {lonely_psu!r}")
        self.weight = weight
        self.strata = _as_list(strata)
        psus = _as_list(psu)
        self.fpc = _as_list(fpc)
        if len(psus) > 2:
            raise ValueError("at most two stages (psu=[stage1, stage2]) are supported")
        self.psu = psus
        if self.fpc and len(self.fpc) != max(len(psus), 1):
            raise ValueError("give one fpc column per stage (fpc=[fpc1, fpc2] for a two-stage design)")
        self.lonely_psu = lonely_psu
        self.engine = "duckdb" if _duck is not None else engine
        if self.engine not in ("pandas", "duckdb"):
            raise ValueError("engine must be 'pandas' or 'duckdb'")
        self._duck = _duck
        if _duck is not None:
            self._init_duckdb()
            return
        if df is None:
            raise ValueError("df is required")
        if weight not in df.columns:
            raise KeyError(f"weight column {weight!r} not in the data")
        w = df[weight].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(w).any():
            if not dropna_weight:
                raise ValueError(
                    f"{int(np.isnan(w).sum())} rows have a missing weight {weight!r}; drop them first "
                    "(e.g. nonrespondents: df[df.responded == 1]) or pass dropna_weight=True")
            df = df.loc[~np.isnan(w)]
            w = w[~np.isnan(w)]
        if (w < 0).any():
            raise ValueError("weights must be >= 0")
        self.data = df
        if self.engine == "duckdb":  # phase 1 in DuckDB SQL over the in-memory frame
            import duckdb

            con = duckdb.connect()
            con.register("svy_data", df)
            self._duck = (con, "svy_data")
            self._init_duckdb()
            return
        self._w = w
        self._wnz = w != 0
        self._all_wnz = bool(self._wnz.all())
        n = len(df)
        if self.strata:
            scode, slab = _codes([df[c] for c in self.strata])
            if (scode < 0).any():
                raise ValueError("missing values in strata")
        else:
            scode, slab = np.zeros(n, dtype=np.int64), pd.DataFrame({0: [1]})
        self._strata_labels = slab
        H = len(slab)
        if psus:
            c2, u2 = _factor(df[psus[0]])
            if (c2 < 0).any():
                raise ValueError("missing values in psu")
            p1, _ = _codes([scode * max(len(u2), 1) + c2])  # PSUs nested in strata
        else:
            p1 = np.arange(n, dtype=np.int64)
        self._stratum = scode
        self._psu = p1
        P = int(p1.max()) + 1 if n else 0
        psu_stratum = np.zeros(P, dtype=np.int64)
        psu_stratum[p1] = scode
        self._psu_stratum = psu_stratum
        self._nh = np.bincount(psu_stratum, minlength=H).astype(float)
        if len(psus) == 2:
            p2, _ = _codes([pd.Series(p1), df[psus[1]]])
            if (p2 < 0).any():
                raise ValueError("missing values in the second-stage unit")
            self._ssu = p2
            S = int(p2.max()) + 1
            ssu_psu = np.zeros(S, dtype=np.int64)
            ssu_psu[p2] = p1
            self._ssu_psu = ssu_psu
            self._mi = np.bincount(ssu_psu, minlength=P).astype(float)
        else:
            self._ssu = None
        # finite population corrections
        self._Nh = None
        self._Mi = None
        if self.fpc:
            f1 = df[self.fpc[0]].to_numpy(dtype=float, na_value=np.nan)
            self._Nh = self._popsize(f1, scode, H, self._nh, "stratum")
            if len(psus) == 2:
                f2 = df[self.fpc[1]].to_numpy(dtype=float, na_value=np.nan)
                self._Mi = self._popsize(f2, p1, P, self._mi, "PSU")
        self._domain_cache: dict[tuple, tuple[np.ndarray, pd.DataFrame]] = {}

    # ------------------------------------------------------------------ set-up helpers
    @staticmethod
    def _popsize(fpc: np.ndarray, group: np.ndarray, G: int, nsamp: np.ndarray, what: str) -> np.ndarray:
        if np.isnan(fpc).any():
            raise ValueError("missing values in fpc")
        lo = np.full(G, np.nan)
        lo[group] = fpc
        if (fpc != lo[group]).any():
            raise ValueError(f"fpc varies within a {what}")
        ispop = (fpc > 1).any()
        if ispop and not (fpc >= 1).all():
            raise ValueError("fpc must be all population counts (>= 1) or all sampling fractions (<= 1)")
        if ispop:
            pop = lo
        else:
            if (fpc <= 0).any():
                raise ValueError("sampling fractions must be > 0")
            pop = nsamp / lo
        if (pop < nsamp).any():
            raise ValueError(f"fpc implies more than 100% sampling in some {what}")
        return pop

    @classmethod
    def from_parquet(cls, path: str | Path | Sequence[str | Path], weight: str,
                     strata: str | Sequence[str] | None = None, psu: str | Sequence[str] | None = None,
                     fpc: str | Sequence[str] | None = None, *, lonely_psu: str = "fail",
                     where: str | None = None, connection=None) -> "SurveyDesign":
        """A design over Parquet file(s) whose phase-1 reduction runs in DuckDB SQL.

        The microdata are never loaded into Python: each estimate runs one ``GROUP BY``
        over the files (so files larger than memory work) and finishes the variance in
        NumPy exactly as the in-memory engine does (same results up to floating-point
        summation order).

        Parameters
        ----------
        path : path or list of paths (globs allowed) to Parquet files.
        weight, strata, psu, fpc, lonely_psu : as for :class:`SurveyDesign`.
        where : optional SQL condition selecting the rows of the design (e.g.
            ``"responded = 1"``); rows with a missing weight are an error otherwise.
        connection : an existing ``duckdb`` connection (default: a new in-memory one).

        Returns
        -------
        SurveyDesign with ``engine == "duckdb"``.
        """
        import duckdb

        con = connection if connection is not None else duckdb.connect()
        paths = [str(p) for p in ([path] if isinstance(path, (str, Path)) else path)]
        src = "read_parquet([" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "])"
        if where:
            src = f"(SELECT * FROM {src} WHERE {where})"
        return cls(None, weight, strata, psu, fpc, lonely_psu=lonely_psu, _duck=(con, src))

    def _init_duckdb(self) -> None:
        """Design tables from one ``GROUP BY`` over the sampling units (PSUs, or SSUs of a
        two-stage design): the same codes, counts and fpc checks as the in-memory engine."""
        con, src = self._duck
        q = _q
        w = q(self.weight)
        nmiss = con.execute(f"SELECT count(*) FILTER (WHERE {w} IS NULL), count(*) FILTER (WHERE {w} < 0) "
                            f"FROM {src}").fetchone()
        if nmiss[0]:
            raise ValueError(f"{nmiss[0]} rows have a missing weight; select respondents with where=")
        if nmiss[1]:
            raise ValueError("weights must be >= 0")
        if not self.psu:
            raise ValueError("the DuckDB engine needs a psu column")
        keys = self.strata + self.psu  # one row per sampling unit of the last stage
        cols = ", ".join(q(c) for c in keys)
        fcols = "".join(f", min({q(f)})::DOUBLE AS f{i}min, max({q(f)})::DOUBLE AS f{i}max, "
                        f"bool_or({q(f)} IS NULL) AS f{i}null" for i, f in enumerate(self.fpc))
        tab = con.execute(f"SELECT {cols}{fcols} FROM {src} GROUP BY ALL").df()
        if self.strata:
            scode, slab = _codes([tab[c] for c in self.strata])
            if (scode < 0).any():
                raise ValueError("missing values in strata")
        else:
            scode, slab = np.zeros(len(tab), dtype=np.int64), pd.DataFrame({0: [1]})
        self._strata_labels = slab
        H = len(slab)
        # PSU codes nested in strata, in the in-memory engine's order (stratum, then PSU value)
        pcode, _ = _codes([scode, tab[self.psu[0]]])
        if (pcode < 0).any():
            raise ValueError("missing values in psu")
        P = int(pcode.max()) + 1 if len(tab) else 0
        psu_stratum = np.zeros(P, dtype=np.int64)
        psu_stratum[pcode] = scode
        self._psu_stratum = psu_stratum
        self._nh = np.bincount(psu_stratum, minlength=H).astype(float)
        self._psu_table = tab[keys].copy()
        self._psu_labels = tab[self.psu[0]].to_numpy()[_first_rows(pcode, P)]  # PSU value of each code (for messages)
        if len(self.psu) == 2:
            ucode, _ = _codes([pcode, tab[self.psu[1]]])  # SSU codes nested in PSUs
            if (ucode < 0).any():
                raise ValueError("missing values in the second-stage unit")
            S = int(ucode.max()) + 1
            ssu_psu = np.zeros(S, dtype=np.int64)
            ssu_psu[ucode] = pcode
            self._ssu_psu = ssu_psu
            self._mi = np.bincount(ssu_psu, minlength=P).astype(float)
            self._ssu = True  # a flag here: the cells carry the SSU codes (phase 1 is SQL)
            self._psu_table["_p"] = ucode
        else:
            self._ssu = None
            self._psu_table["_p"] = pcode
        self._Nh = None
        self._Mi = None
        for i, (group, G, nsamp, what) in enumerate(
                [(scode, H, self._nh, "stratum"), (pcode, P, getattr(self, "_mi", None), "PSU")][:len(self.fpc)]):
            if tab[f"f{i}null"].any():
                raise ValueError("missing values in fpc")
            if (tab[f"f{i}min"] != tab[f"f{i}max"]).any():
                raise ValueError(f"fpc varies within a {'PSU' if i == 0 and len(self.psu) == 1 else what}")
            pop = self._popsize(tab[f"f{i}min"].to_numpy(float), group, G, nsamp, what)
            if i == 0:
                self._Nh = pop
            else:
                self._Mi = pop
        self._domain_cache = {}

    # ------------------------------------------------------------------ phase 1
    def _columns(self, names: Iterable[str]) -> None:
        if self._duck is not None:
            return
        missing = [c for c in names if c not in self.data.columns]
        if missing:
            raise KeyError(f"columns not in the data: {missing}")

    def _domains(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        key = tuple(by)
        if key not in self._domain_cache:
            if by and by == self.strata and self._duck is None:  # domains = strata: reuse their codes
                codes, lab = self._stratum, self._strata_labels.copy()
                lab.columns = by
            elif by:
                self._columns(by)
                codes, lab = _codes([self.data[c] for c in by])
                lab.columns = by
            else:
                codes, lab = np.zeros(len(self.data), dtype=np.int64), pd.DataFrame(index=[0])
            self._domain_cache[key] = (codes, lab)
        return self._domain_cache[key]

    def _reduce(self, arrays: dict[str, np.ndarray], by: list[str]) -> _Cells:
        """Phase 1 (in memory): per-cell sums of the given row arrays over domain x PSU (x SSU)."""
        dom, lab = self._domains(by)
        D = len(lab)
        unit = self._ssu if self._ssu is not None else self._psu
        U = int(unit.max()) + 1 if len(unit) else 0
        ckey = ("\0cells",) + tuple(by)
        if ckey not in self._domain_cache:
            # map rows to cells (domain x unit) once per `by`; cached on the design
            ok = dom >= 0
            rows = None if ok.all() else np.flatnonzero(ok)
            d_ok = dom if rows is None else dom[rows]
            u_ok = unit if rows is None else unit[rows]
            unit_dom = np.full(U, -1, dtype=np.int64)
            unit_dom[u_ok] = d_ok
            if (unit_dom[u_ok] == d_ok).all():
                # every unit lies in one domain (e.g. by = strata): the cells are the units
                present = np.flatnonzero(unit_dom >= 0)
                if len(present) == U:
                    cells, cid = unit_dom * U + np.arange(U), u_ok
                else:
                    lut = np.full(U, -1, dtype=np.int64)
                    lut[present] = np.arange(len(present))
                    cells, cid = unit_dom[present] * U + present, lut[u_ok]
            else:
                key = d_ok.astype(np.int64) * U + u_ok
                if D * U <= 50_000_000:
                    dense = np.bincount(key, minlength=D * U)
                    cells = np.flatnonzero(dense)
                    lut = np.empty(D * U, dtype=np.int64)
                    lut[cells] = np.arange(len(cells))
                    cid = lut[key]
                else:
                    cells, cid = np.unique(key, return_inverse=True)
            self._domain_cache[ckey] = (rows, cells, cid)
            C = len(cells)
            if self._all_wnz:
                nrow = np.bincount(cid, minlength=C).astype(float)
            else:
                wnz = (self._w != 0).astype(float)
                nrow = np.bincount(cid, weights=wnz if rows is None else wnz[rows], minlength=C)
            wsum = np.bincount(cid, weights=self._w if rows is None else self._w[rows], minlength=C)
            self._domain_cache[ckey] = (rows, cells, cid, nrow, wsum)
        rows, cells, cid, nrow, wsum = self._domain_cache[ckey]
        if rows is not None:
            arrays = {k: (v if isinstance(v, str) else (v[0][rows], v[1][rows], v[2]) if isinstance(v, tuple)
                          else v[rows]) for k, v in arrays.items()}
        C = len(cells)
        sums = {"\0w": wsum}
        for k, v in arrays.items():
            if isinstance(v, str) or k in sums:  # aliases (items without missing values), cached
                continue
            if isinstance(v, tuple):  # (values, codes 0..L-1, L): sums per cell and code, an array (C, L)
                sums[k] = np.bincount(cid * v[2] + v[1], weights=v[0], minlength=C * v[2]).reshape(C, v[2])
            else:
                sums[k] = np.bincount(cid, weights=v, minlength=C)
        for k, v in arrays.items():
            if isinstance(v, str):
                sums[k] = sums[v] if v in sums else nrow
        keep = nrow > 0
        if not keep.all():
            cells, nrow = cells[keep], nrow[keep]
            sums = {k: v[keep] for k, v in sums.items()}
        cdom = cells // U
        cunit = cells % U
        if self._ssu is not None:
            return _Cells(cdom, self._ssu_psu[cunit], cunit, nrow, sums, lab)
        return _Cells(cdom, cunit, None, nrow, sums, lab)

    def _reduce_sql(self, specs: dict[str, str], by: list[str]) -> _Cells:
        """Phase 1 in DuckDB: ``specs`` maps a sum name to a SQL expression summed per cell."""
        con, src = self._duck
        q = _q
        keys = self.strata + self.psu
        sel = [q(c) for c in by] + [f"{q(c)} AS {q('__k' + str(i))}" for i, c in enumerate(keys)]
        aggs = [f"count(*) FILTER (WHERE {q(self.weight)} <> 0) AS __nrow"]
        aggs += [f"coalesce(sum({e}), 0)::DOUBLE AS __s{i}" for i, e in enumerate(specs.values())]
        where = " AND ".join(f"{q(c)} IS NOT NULL" for c in by) or "TRUE"
        gb = ", ".join([q(c) for c in by] + [q("__k" + str(i)) for i in range(len(keys))])
        sql = f"SELECT {', '.join(sel + aggs)} FROM {src} WHERE {where} GROUP BY {gb}"
        tab = con.execute(sql).df()
        tab = tab[tab["__nrow"] > 0]
        kt = self._psu_table.rename(columns={c: "__k" + str(i) for i, c in enumerate(keys)})
        tab = tab.merge(kt[["__k" + str(i) for i in range(len(keys))] + ["_p"]], how="left",
                        on=["__k" + str(i) for i in range(len(keys))])
        if by:
            dom, lab = _codes([tab[c] for c in by])
            lab.columns = by
        else:
            dom, lab = np.zeros(len(tab), dtype=np.int64), pd.DataFrame(index=[0])
        unit = tab["_p"].to_numpy(np.int64)
        sums = {k: tab[f"__s{i}"].to_numpy(float) for i, k in enumerate(specs)}
        if self._ssu is not None:  # two stages: the unit is the SSU
            return _Cells(dom, self._ssu_psu[unit], unit, tab["__nrow"].to_numpy(float), sums, lab)
        return _Cells(dom, unit, None, tab["__nrow"].to_numpy(float), sums, lab)

    def _values(self, col: str) -> np.ndarray:
        self._columns([col])
        s = self.data[col]
        if s.dtype == bool:
            s = s.astype(float)
        try:
            return s.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise TypeError(f"column {col!r} is not numeric; use proportion() for categories") from e

    def _moments(self, items: dict[str, np.ndarray | str], by: list[str]) -> _Cells:
        """Per-cell n, sum w, sum w*y, sum w*y^2 for each item (missing values excluded per item).

        ``items`` maps an output name to a row array (pandas engine) or to a SQL
        expression (DuckDB engine).
        """
        if self._duck is not None:
            w = _q(self.weight)
            specs = {}
            for name, e in items.items():
                y = f"({e})::DOUBLE"
                specs[f"{name}\0n"] = f"CASE WHEN {y} IS NOT NULL AND {w} <> 0 THEN 1 ELSE 0 END"
                specs[f"{name}\0w"] = f"CASE WHEN {y} IS NOT NULL THEN {w} END"
                specs[f"{name}\0wy"] = f"{w} * {y}"
                specs[f"{name}\0wyy"] = f"{w} * {y} * {y}"
            return self._reduce_sql(specs, by)
        arrays: dict[str, np.ndarray | str] = {}
        w = self._w
        wnz = self._wnz
        for name, y in items.items():
            m = ~np.isnan(y)
            if m.all():
                y0 = y
                arrays[f"{name}\0n"] = "\0nrow"  # alias: the cell's row count
                arrays[f"{name}\0w"] = "\0w"
            else:
                y0 = np.where(m, y, 0.0)
                arrays[f"{name}\0n"] = (m & wnz).astype(float)
                arrays[f"{name}\0w"] = np.where(m, w, 0.0)
            wy = w * y0
            arrays[f"{name}\0wy"] = wy
            arrays[f"{name}\0wyy"] = wy * y0
        return self._reduce(arrays, by)

    # ------------------------------------------------------------------ phase 2
    def _variance(self, cells: _Cells, z: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Taylor variance per domain of the total of one linearised variable.

        ``z``: per-cell totals of the influence values; ``present``: per-cell flag that
        the cell has rows in the estimation subset, which decides, as in R, which strata
        enter (and may fail as lonely). The diagonal of :meth:`_vcov` for one column.
        """
        return self._vcov(cells, z[:, None], present)[:, 0, 0]

    def _vcov(self, cells: _Cells, Z: np.ndarray, present: np.ndarray | None,
              distinct: bool = True) -> np.ndarray:
        """Covariance matrices of the totals of k linearised variables, per domain (R's ``svyrecvar``).

        ``Z``: (cells, k) per-cell totals of the influence values (zero outside the domain);
        ``present``: per-cell flag of rows in the estimation subset (None: every stratum of
        the design takes part, as ``svyrecvar`` over the whole design does, e.g. for the
        covariance across domains); ``distinct``: the cells are distinct (domain, unit)
        pairs, as :meth:`_reduce` returns them (False: units repeat and are summed first).
        Returns an array (domains, k, k).
        """
        D = len(cells.domains)
        H = len(self._nh)
        strat = self._psu_stratum[cells.psu]
        V = self._stage(cells.dom, strat, cells.psu, Z, present, D, H, self._nh, self._Nh, stage=1,
                        collapse=cells.ssu is not None or not distinct)
        if cells.ssu is not None and self._Nh is not None:
            # second stage: strata = PSUs, units = SSUs, scaled by n_h/N_h (R's multistage)
            P = len(self._mi)
            scale = (self._nh / self._Nh)[self._psu_stratum]  # per PSU
            V = V + self._stage(cells.dom, cells.psu, cells.ssu, Z, present, D, P, self._mi, self._Mi,
                                stage=2, group_scale=scale, collapse=not distinct)
        return V

    def _stage(self, dom, grp, unit, Z, present, D, G, n_g, N_g, stage, group_scale=None, collapse=False):
        """One stage of R's ``onestage``/``onestrat`` for k variables: (D, k, k) covariances.

        Per group (stratum) g with n_g sampled units and f_g = (N_g - n_g)/N_g, the
        contribution is ``f_g n_g/(n_g - 1) sum_u (z_u - zbar_g)(z_u - zbar_g)'`` where the
        n_g - k_g units without rows in the domain enter as zeros; lonely units follow
        ``lonely_psu``. ``group_scale`` multiplies each group's contribution (the
        second stage's n_h/N_h).
        """
        if collapse:  # sum cells of a lower stage (or repeated cells) into units of this stage
            M = int(unit.max()) + 1
            u, uinv = np.unique(dom.astype(np.int64) * M + unit, return_inverse=True)
            Zu = _colsums(uinv, Z, len(u))
            pu = None if present is None else np.bincount(uinv, weights=present.astype(float)) > 0
            udom = u // M
            ugrp = np.zeros(len(u), dtype=np.int64)
            ugrp[uinv] = grp
        else:  # the cells are already distinct (domain, unit) pairs
            Zu, pu, udom, ugrp = Z, present, dom, grp
        g = udom * G + ugrp
        DG = D * G
        n_all = np.tile(n_g, D)
        s1 = _colsums(g, Zu, DG)
        kc = np.bincount(g, minlength=DG)
        if pu is None:
            pres = n_all > 0
        else:
            pres = np.bincount(g, weights=pu.astype(float), minlength=DG) > 0
        if N_g is None:
            f = np.ones(G)
        else:
            f = np.where(np.isinf(N_g), 1.0, (N_g - n_g) / N_g)
        f_all = np.tile(f, D)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n_all > 1, f_all * n_all / (n_all - 1), 0.0)
            zbar = np.where(n_all[:, None] > 0, s1 / n_all[:, None], 0.0)
        centre = np.ones(DG)
        census = f_all < 1e-7
        lonely = (n_all == 1) & pres & ~census
        if lonely.any():
            if self.lonely_psu == "fail":
                gi = int(np.flatnonzero(lonely)[0] % G)
                what = (f"stratum {self._stratum_name(gi)!r} has only one PSU" if stage == 1 else
                        f"PSU {self._psu_name(gi)!r} has only one sampled second-stage unit")
                raise LonelyPSUError(
                    f"{what} (stage {stage}): set lonely_psu='adjust' (or 'remove', "
                    "'certainty', 'average'), as R's options(survey.lonely.psu=...)")
            if self.lonely_psu == "adjust":  # centred at the overall mean (0) instead of the stratum's
                scale = np.where(lonely, f_all, scale)
                centre = np.where(lonely, 0.0, 1.0)
            # remove / certainty: 0; average: 0 here, the other strata scaled up below
        scale = np.where(census | ~pres, 0.0, scale)
        if group_scale is not None:
            scale = scale * np.tile(group_scale, D)
        dev = Zu - (centre[:, None] * zbar)[g]
        V = _grouped_crossprod(udom, dev, scale[g], D)
        # units of the group without rows in the domain: n_g - k_g deviations of -zbar
        gd = np.repeat(np.arange(D), G)
        V = V + _grouped_crossprod(gd, zbar, scale * (n_all - kc) * centre, D)
        if stage == 1 and self.lonely_psu == "average" and lonely.any():
            P2 = pres.reshape(D, G)
            L2 = lonely.reshape(D, G)
            nstrat = P2.sum(axis=1)
            nok = (P2 & ~L2).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                V = V * (nstrat / nok)[:, None, None]
        return V

    def _psu_name(self, p: int) -> str:
        if self._duck is not None and self.psu:
            return str(self._psu_labels[p])
        if self._duck is not None or not self.psu:
            return str(p)
        row = int(np.flatnonzero(self._psu == p)[0])
        return str(self.data[self.psu[0]].iloc[row])

    def _stratum_name(self, h: int) -> str:
        row = self._strata_labels.iloc[h]
        return "|".join(str(v) for v in row.to_numpy())

    def _design_df(self, cells: _Cells) -> np.ndarray:
        """R's degf() of each domain subset: PSUs with rows in it minus strata with rows in it."""
        D = len(cells.domains)
        H = len(self._nh)
        if cells.ssu is None:  # cells are distinct (domain, PSU) pairs
            dom, psu = cells.dom, cells.psu
        else:
            P = len(self._psu_stratum)
            up = np.unique(cells.dom.astype(np.int64) * P + cells.psu)
            dom, psu = up // P, up % P
        npsu = np.bincount(dom, minlength=D)
        pres = np.bincount(dom * H + self._psu_stratum[psu], minlength=D * H) > 0
        nstr = pres.reshape(D, H).sum(axis=1)
        return (npsu - nstr).astype(float)

    def _degf(self, rows: np.ndarray | None = None) -> float:
        """R's ``degf()`` of the design restricted to ``rows`` (boolean, None: all): PSUs with a
        non-zero-weight row in it minus strata with such a row."""
        keep = self._wnz if rows is None else (rows & self._wnz)
        psu = np.bincount(self._psu[keep], minlength=len(self._psu_stratum)) > 0
        strata = np.bincount(self._psu_stratum[psu], minlength=len(self._nh)) > 0
        return float(psu.sum() - strata.sum())

    def _in_memory(self, columns: Iterable[str] = ()) -> "SurveyDesign":
        """This design with the in-memory engine (itself if it has it): a DuckDB design loads the
        design columns and ``columns`` (the rows it selects) into a DataFrame."""
        if self._duck is None:
            return self
        con, src = self._duck
        cols = list(dict.fromkeys([self.weight, *self.strata, *self.psu, *self.fpc, *columns]))
        df = con.execute(f"SELECT {', '.join(_q(c) for c in cols)} FROM {src}").df()
        return SurveyDesign(df, self.weight, self.strata or None, self.psu or None, self.fpc or None,
                            lonely_psu=self.lonely_psu)

    def _unit_cells(self) -> tuple[np.ndarray, _Cells]:
        """The whole design's cells (one per sampling unit with a non-zero-weight row) and the
        cell of each row (-1: a unit whose rows all have weight 0), cached: per-cell totals of
        any row values are then one ``bincount`` each over the rows."""
        key = ("\0unitcells",)
        if key not in self._domain_cache:
            cells = self._reduce({}, [])
            _, allcells, cid, nrow, _ = self._domain_cache[("\0cells",)]
            keep = nrow > 0
            remap = np.where(keep, np.cumsum(keep) - 1, -1)
            self._domain_cache[key] = (remap[cid], cells)
        return self._domain_cache[key]

    def _cell_totals(self, Z: np.ndarray, rows: np.ndarray | None, by: list[str] | None = None,
                     coded: Sequence[tuple[np.ndarray, np.ndarray, int]] = (), zeroed: bool = False
                     ) -> tuple[_Cells, np.ndarray, np.ndarray]:
        """Per-cell totals of the columns of ``Z`` (rows of the design x k) over the estimation
        ``rows`` (boolean, None: all), with the per-cell flag of estimation rows.

        ``coded``: more columns given as ``(values, codes, L)``, the columns ``values *
        (codes == l)`` for l = 1..L-1 (one-hot columns without their reference level 0;
        codes 0..L-1), summed with one pass each; they follow Z's columns. ``zeroed``: the
        values are already 0 outside ``rows``."""
        arrays: dict[str, np.ndarray | str | tuple] = {}
        if rows is not None:
            arrays["\0p"] = rows.astype(float)
        for j in range(Z.shape[1]):
            arrays[f"\0z{j}"] = np.ascontiguousarray(Z[:, j]) if rows is None or zeroed else np.where(rows, Z[:, j], 0.0)
        for j, (v, c, L) in enumerate(coded):
            arrays[f"\0c{j}"] = (v if rows is None or zeroed else np.where(rows, v, 0.0), c, L)
        cells = self._reduce(arrays, by or [])
        Zc = np.column_stack([cells.sums[f"\0z{j}"] for j in range(Z.shape[1])]
                             + [cells.sums[f"\0c{j}"][:, 1:] for j in range(len(coded))])
        present = cells.nrow > 0 if rows is None else cells.sums["\0p"] > 0
        return cells, Zc, present

    def linearised_vcov(self, z, by: str | Sequence[str] | None = None, subset=None
                        ) -> pd.DataFrame | dict:
        """Design covariance matrix of the population totals of linearised variables (R: ``svyrecvar``).

        ``z`` holds, for every row of the design, its contribution to the estimated
        total of each variable: its weighted influence value (for a total of y: ``w y``;
        for a mean: ``w (y - mean) / sum(w)``; for a regression coefficient: a row of the
        estimating function times the inverse information). The covariance of the sums
        over rows is computed with the design's strata, PSUs, fpc, second stage and
        lonely-PSU rule, exactly as the standard errors of :meth:`mean` (which it
        reproduces on its diagonal for one variable).

        Parameters
        ----------
        z : column name(s) of the design's data, a 1-D or 2-D array with one row per row
            of the design, or a DataFrame (its columns name the variables).
        by : domain column(s): one covariance matrix per domain, of the totals over the
            domain's rows (rows outside count as zeros; the strata that take part are those
            with rows in the domain, as in :meth:`mean`).
        subset : boolean array (one per row): the estimation rows (R: the rows of
            ``subset(design, ...)``); the others count as zeros. None: every row, and
            every stratum of the design takes part (R's ``svyrecvar`` over the whole
            design).

        Returns
        -------
        DataFrame (k x k, indexed by the variable names) without ``by``; with ``by``, a
        dict mapping each domain (a value, or a tuple of values for several ``by``
        columns) to its DataFrame.

        Notes
        -----
        Needs the in-memory engine. References: Binder (1983), Int Stat Rev 51:279-292;
        Lumley (2010) ch. 2 and appendix C.
        """
        if self._duck is not None:
            raise NotImplementedError("linearised_vcov needs the in-memory engine (engine='pandas')")
        n = len(self.data)
        if isinstance(z, str) or (isinstance(z, (list, tuple)) and z and all(isinstance(c, str) for c in z)):
            names = _as_list(z)
            Z = np.column_stack([self._values(c) for c in names])
        elif isinstance(z, pd.DataFrame):
            names = [str(c) for c in z.columns]
            Z = z.to_numpy(dtype=float)
        elif isinstance(z, pd.Series):
            names = [str(z.name) if z.name is not None else "z"]
            Z = z.to_numpy(dtype=float)[:, None]
        else:
            Z = np.asarray(z, dtype=float)
            Z = Z[:, None] if Z.ndim == 1 else Z
            names = [f"z{j}" for j in range(Z.shape[1])]
        if Z.ndim != 2 or Z.shape[0] != n:
            raise ValueError(f"z has {Z.shape[0]} rows; the design has {n} (one value per row of the design)")
        if np.isnan(Z).any():
            j = int(np.flatnonzero(np.isnan(Z).any(axis=0))[0])
            raise ValueError(f"z column {names[j]!r} has missing values: set them to 0 and leave those "
                             "rows out with subset=")
        rows = None
        if subset is not None:
            rows = np.asarray(subset, dtype=bool)
            if rows.shape != (n,):
                raise ValueError(f"subset must be a boolean array with one value per row of the design ({n})")
        by = _as_list(by)
        cells, Zc, present = self._cell_totals(Z, rows, by)
        V = self._vcov(cells, Zc, None if rows is None and not by else present)
        if not by:
            return pd.DataFrame(V[0], index=names, columns=names)
        out = {}
        for d, lab in enumerate(cells.domains.itertuples(index=False)):
            key = lab[0] if len(lab) == 1 else tuple(lab)
            out[key] = pd.DataFrame(V[d], index=names, columns=names)
        return out

    # ------------------------------------------------------------------ output
    @staticmethod
    def _ci(est, se, df, level, ci_df):
        q = _quantile(level, df, ci_df)
        return est - q * se, est + q * se

    def _frame(self, cells: _Cells, parts: list[dict]) -> pd.DataFrame:
        D = len(cells.domains)
        k = len(parts)
        cols: dict[str, object] = {}
        for c in cells.domains.columns:
            cols[c] = np.tile(cells.domains[c].to_numpy(), k)
        for c in ("variable", "level"):
            if c in parts[0]:
                cols[c] = np.repeat(np.array([p[c] for p in parts], dtype=object), D)
        for c in RESULT_COLUMNS[1:]:
            cols[c] = np.concatenate([np.broadcast_to(np.asarray(p[c], dtype=float), (D,)) for p in parts])
        out = pd.DataFrame(cols)
        out["n"] = out["n"].astype(np.int64)
        return out

    def _with_covmat(self, kind, variables, by, overall, level, ci_df, denominator=None):
        from helpers.stats.survey.contrast import domain_estimates

        return domain_estimates(self, kind, variables, by, denominator=denominator, overall=overall,
                                level=level, ci_df=ci_df)

    # ------------------------------------------------------------------ public estimators
    def _prep_items(self, variables) -> dict[str, np.ndarray | str]:
        names = _as_list(variables)
        if not names:
            raise ValueError("give at least one variable")
        if self._duck is not None:
            return {v: _q(v) for v in names}
        return {v: self._values(v) for v in names}

    def _mean_total(self, items, by, kind, level, ci_df) -> tuple[_Cells, list[dict]]:
        by = _as_list(by)
        cells = self._moments(items, by)
        ddf = self._design_df(cells)
        parts = []
        for name in items:
            n_c = cells.sums[f"{name}\0n"]
            w_c = cells.sums[f"{name}\0w"]
            wy_c = cells.sums[f"{name}\0wy"]
            wyy_c = cells.sums[f"{name}\0wyy"]
            D = len(cells.domains)
            n = np.bincount(cells.dom, weights=n_c, minlength=D)
            W = np.bincount(cells.dom, weights=w_c, minlength=D)
            Y = np.bincount(cells.dom, weights=wy_c, minlength=D)
            YY = np.bincount(cells.dom, weights=wyy_c, minlength=D)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = Y / W
                if kind == "mean":
                    z = (wy_c - mean[cells.dom] * w_c) / W[cells.dom]
                    est = mean
                else:
                    z = wy_c
                    est = Y
                var = self._variance(cells, z, n_c > 0)
                # R's svyvar: n/(n-1) * weighted mean of squared deviations
                s2 = n / (n - 1) * (YY - Y * mean) / W
                vsrs = s2 * (W - n) / (W * n)
                if kind == "total":
                    vsrs = vsrs * W ** 2
                deff = np.where((W < n) | (n < 2), np.nan, var / vsrs)
            se = np.sqrt(var)
            lo, hi = self._ci(est, se, ddf, level, ci_df)
            parts.append(dict(variable=name, estimate=est, se=se, ci_low=lo, ci_high=hi, df=ddf, deff=deff, n=n,
                              _z=z))  # _z: per-cell influence totals, for covariances across domains
        return cells, parts

    def mean(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
             level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None,
             covmat: bool = False, overall: bool = False):
        """Design-based means (R: ``svyby(~y, ~by, design, svymean, na.rm=TRUE, deff=TRUE)``).

        Parameters
        ----------
        variables : column name(s) of numeric items (0/1 items give proportions).
        by : column name(s) defining domains; None for the whole population.
        level : confidence level of the interval (0-1).
        ci_df : ``"design"`` (t quantile on the domain's design df, default) or a
            number of degrees of freedom; ``numpy.inf`` gives R's ``confint()`` default.
        df : alias of ``ci_df`` (wins when given).
        covmat : return an :class:`~helpers.stats.survey.contrast.Estimates` that also
            carries the covariance matrix of all the estimates (R: ``svyby(...,
            covmat=TRUE)``), for contrasts between domains (``.pairwise()``,
            ``.contrast()``).
        overall : with ``covmat``, also estimate the whole population (named ``"(all)"``),
            for domain-minus-population contrasts (``.difference_from("(all)")``).

        Returns
        -------
        DataFrame: the ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df,
        deff, n`` (n: respondents with the item present in the domain), one row per
        domain and variable. With ``covmat=True``: an ``Estimates`` whose ``.frame`` is
        that DataFrame (plus ``name``) and ``.vcov`` the covariance matrix.
        """
        if covmat:
            return self._with_covmat("mean", variables, by, overall, level, _pick(ci_df, df))
        cells, parts = self._mean_total(self._prep_items(variables), by, "mean", level, _pick(ci_df, df))
        return self._frame(cells, parts)

    def total(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None,
              covmat: bool = False, overall: bool = False):
        """Design-based population totals (R: ``svytotal`` in ``svyby``, ``na.rm=TRUE``).

        Parameters and returns as :meth:`mean`; the estimate is in the item's unit
        times population units (sum of weights x value).
        """
        if covmat:
            return self._with_covmat("total", variables, by, overall, level, _pick(ci_df, df))
        cells, parts = self._mean_total(self._prep_items(variables), by, "total", level, _pick(ci_df, df))
        return self._frame(cells, parts)

    def ratio(self, numerator: str, denominator: str, by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None,
              covmat: bool = False, overall: bool = False):
        """Ratio of two population totals (R: ``svyratio(~num, ~den, na.rm=TRUE, deff=TRUE)``).

        Rows where either column is missing are excluded. The variance linearises
        ``(y - R x) / X``; ``deff`` is R's (that of the total of this linearised
        variable). ``variable`` is ``"numerator/denominator"``.

        Parameters
        ----------
        numerator, denominator : numeric columns.
        by, level, ci_df, covmat, overall : as for :meth:`mean`.

        Returns
        -------
        DataFrame as :meth:`mean` (an ``Estimates`` with ``covmat=True``).
        """
        if covmat:
            return self._with_covmat("ratio", numerator, by, overall, level, _pick(ci_df, df), denominator)
        cells, part = self._ratio(numerator, denominator, _as_list(by), level, _pick(ci_df, df))
        return self._frame(cells, [part])

    def _ratio(self, numerator: str, denominator: str, by: list[str], level, ci_df) -> tuple[_Cells, dict]:
        if self._duck is not None:
            yq, xq = f"({_q(numerator)})::DOUBLE", f"({_q(denominator)})::DOUBLE"
            w = _q(self.weight)
            cc = f"{yq} IS NOT NULL AND {xq} IS NOT NULL"
            specs = {
                "n": f"CASE WHEN {cc} AND {w} <> 0 THEN 1 ELSE 0 END",
                "w": f"CASE WHEN {cc} THEN {w} END",
                "wy": f"CASE WHEN {cc} THEN {w} * {yq} END",
                "wx": f"CASE WHEN {cc} THEN {w} * {xq} END",
                "wyy": f"CASE WHEN {cc} THEN {w} * {yq} * {yq} END",
                "wxx": f"CASE WHEN {cc} THEN {w} * {xq} * {xq} END",
                "wxy": f"CASE WHEN {cc} THEN {w} * {xq} * {yq} END",
            }
            cells = self._reduce_sql(specs, by)
        else:
            y = self._values(numerator)
            x = self._values(denominator)
            m = ~(np.isnan(y) | np.isnan(x))
            w = np.where(m, self._w, 0.0)
            y0 = np.where(m, y, 0.0)
            x0 = np.where(m, x, 0.0)
            wy, wx = w * y0, w * x0
            arrays = {"n": (m & (self._w != 0)).astype(float), "w": w, "wy": wy, "wx": wx,
                      "wyy": wy * y0, "wxx": wx * x0, "wxy": wx * y0}
            cells = self._reduce(arrays, by)
        s = cells.sums
        D = len(cells.domains)
        tot = {k: np.bincount(cells.dom, weights=v, minlength=D) for k, v in s.items()}
        with np.errstate(divide="ignore", invalid="ignore"):
            X, Y, W, n = tot["wx"], tot["wy"], tot["w"], tot["n"]
            r = Y / X
            rd = r[cells.dom]
            z = (s["wy"] - rd * s["wx"]) / X[cells.dom]
            var = self._variance(cells, z, s["n"] > 0)
            # deff as R: deff(svytotal(r_i, design)) with r_i = (y_i - R x_i)/X
            swr = (Y - r * X) / X
            swrr = (tot["wyy"] - 2 * r * tot["wxy"] + r ** 2 * tot["wxx"]) / X ** 2
            rbar = swr / W
            s2 = n / (n - 1) * (swrr - 2 * rbar * swr + rbar ** 2 * W) / W
            vsrs = s2 * W ** 2 * (W - n) / (W * n)
            deff = np.where((W < n) | (n < 2), np.nan, var / vsrs)
        se = np.sqrt(var)
        ddf = self._design_df(cells)
        lo, hi = self._ci(r, se, ddf, level, ci_df)
        part = dict(variable=f"{numerator}/{denominator}", estimate=r, se=se, ci_low=lo, ci_high=hi,
                    df=ddf, deff=deff, n=n, _z=z)
        return cells, part

    def proportion(self, variable: str, level=None, by: str | Sequence[str] | None = None, *,
                   method: str = "logit", conf_level: float = 0.95, ci_df: str | float = "design",
                   levels: Sequence | None = None, df: str | float | None = None) -> pd.DataFrame:
        """Share of the population in category ``level`` of ``variable``, with its interval.

        R: ``svyby(~I(variable == level), ~by, design, svyciprop, method="logit",
        na.rm=TRUE)`` for the estimate, SE and interval; ``deff`` is that of
        ``svymean`` of the indicator. Rows with the item missing are excluded.

        Parameters
        ----------
        variable : column (any type; compared with ``==``).
        level : one category, or a list of categories counted together (e.g. ``[4, 5]``
            for a top-two box). None: every category present (or ``levels``), one row each.
        by : domain column(s) as for :meth:`mean`.
        method : ``"logit"`` (svyciprop's default: interval of logit p with the
            t quantile on the design df, back-transformed) or ``"mean"`` (Wald).
        conf_level : confidence level (0-1).
        ci_df : ``"design"`` (default, as svyciprop) or a number (``numpy.inf``: normal).
        levels : with ``level=None``, the categories to report (zero shares included).
        df : alias of ``ci_df`` (wins when given).

        Returns
        -------
        DataFrame: ``by`` columns, ``variable, level, estimate, se, ci_low, ci_high, df,
        deff, n`` (n: respondents with the item present).
        """
        if method not in ("logit", "mean"):
            raise ValueError("method must be 'logit' or 'mean'")
        ci_df = _pick(ci_df, df)
        if self._duck is not None:
            col = _q(variable)
            if level is None and levels is None:
                levels = [v for v in self._duck[0].execute(
                    f"SELECT DISTINCT {col} FROM {self._duck[1]} WHERE {col} IS NOT NULL ORDER BY 1"
                ).fetchnumpy()[variable]]
        else:
            self._columns([variable])
            s = self.data[variable]
            if level is None and levels is None:
                levels = sorted(pd.unique(s.dropna()))
        if level is None and levels is not None and all(
                isinstance(v, (float, np.floating)) and float(v).is_integer() for v in levels):
            levels = [int(v) for v in levels]  # 1-5 items read as float because of missing values
        groups = [level] if level is not None else list(levels)
        items = {}
        labels = []
        for i, g in enumerate(groups):
            gl = list(g) if isinstance(g, (list, tuple, set)) else [g]
            labels.append(g if not isinstance(g, (list, tuple, set)) else "|".join(str(v) for v in gl))
            if self._duck is not None:
                vals = ", ".join(_sql_lit(v) for v in gl)
                items[f"__l{i}"] = (f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} IN ({vals}) "
                                    "THEN 1 ELSE 0 END")
            else:
                ind = s.isin(gl).to_numpy(dtype=float)
                ind[s.isna().to_numpy()] = np.nan
                items[f"__l{i}"] = ind
        cells, parts = self._mean_total(items, by, "mean", conf_level, ci_df)
        for p, lab in zip(parts, labels):
            p["variable"] = variable
            p["level"] = lab
            if method == "logit":
                q = _quantile(conf_level, p["df"], ci_df)
                est, se = p["estimate"], p["se"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    eta = np.log(est / (1 - est))
                    se_eta = se / (est * (1 - est))
                    p["ci_low"] = _expit(eta - q * se_eta)
                    p["ci_high"] = _expit(eta + q * se_eta)
        out = self._frame(cells, parts)
        cols = list(out.columns)
        cols.remove("level")
        cols.insert(cols.index("variable") + 1, "level")
        return out[cols]

    def glm(self, formula: str, family: str = "gaussian", *, link: str | None = None, subset=None,
            level: float = 0.95):
        """Design-based generalised linear model (R: ``svyglm(formula, design, family=)``).

        Parameters
        ----------
        formula : ``"y ~ x1 + C(group)"`` (formulaic syntax, R's coding of factors).
        family : ``"gaussian"``, ``"binomial"`` (0/1 outcome), ``"quasibinomial"``,
            ``"poisson"`` or ``"quasipoisson"``.
        link : the link function (default: the family's canonical link).
        subset : the domain: a boolean array/Series over the rows or a query string (R:
            ``subset(design, ...)``; the variance keeps the whole design).
        level : confidence level of the intervals.

        Returns
        -------
        :class:`~helpers.stats.survey.regression.SurveyGLMResult`: ``.terms`` (``term,
        estimate, se, ci_low, ci_high, p, df``), ``.vcov``, ``.predict()``, ``.contrast()``.
        """
        from helpers.stats.survey.regression import svyglm

        return svyglm(self, formula, family, link=link, subset=subset, level=level)

    def __repr__(self) -> str:
        H = len(self._nh)
        return (f"SurveyDesign(engine={self.engine!r}, weight={self.weight!r}, strata={self.strata or None}, "
                f"psu={self.psu or None}, fpc={self.fpc or None}, strata_n={H}, psu_n={int(self._nh.sum())}, "
                f"lonely_psu={self.lonely_psu!r})")


def _pick(ci_df, df):
    return ci_df if df is None else df


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _quantile(level: float, df: np.ndarray, ci_df) -> np.ndarray | float:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    a = 1 - (1 - level) / 2
    if isinstance(ci_df, str):
        if ci_df != "design":
            raise ValueError("ci_df must be 'design' or a number")
        d = np.asarray(df, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(d > 0, stats.t.ppf(a, np.where(d > 0, d, 1)), np.nan)
    if np.isinf(ci_df):
        return stats.norm.ppf(a)
    return stats.t.ppf(a, ci_df)


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _sql_lit(v) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v))
