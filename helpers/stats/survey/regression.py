"""Design-based generalised linear models (R's ``svyglm``) with Taylor-linearised sandwich SEs.

The public entry points::

    from helpers.stats.survey import SurveyDesign, SurveyGLM, svyglm
    d = SurveyDesign(df, weight="weight", strata=["year", "district_id"], psu="community_id",
                     fpc="n_psu_stratum")
    fit = d.glm("aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                family="quasibinomial")
    fit.terms                      # term, estimate, se, ci_low, ci_high, p, df
    fit.predict(newdata, type="response")
    fit.contrast({"fade": {"within15": 1, "band15_30": -1}})
    SurveyGLM("y ~ x", family="poisson").fit(d, subset=d.data["year"] == 2024)  # a domain

How it is computed (R ``survey`` 4.x, ``svyglm.survey.design`` and ``svy.varcoef``)
------------------------------------------------------------------------------------
* Coefficients solve the weighted score equations ``sum_i w_i x_i (y_i - mu_i) mu'_i / V(mu_i)
  = 0`` (pseudo-maximum likelihood), found by Fisher scoring (IRLS, Newton's method for
  canonical links) from R's starting values, to a step below 1e-10 of each coefficient's
  ``|beta| + naive SE`` (1e-13 for other links, where scoring converges only linearly). Each
  step solves for the increment from the score, so the result is the root of the score
  equations to rounding. R's ``glm`` stops at a relative change of the deviance below
  1e-8 and keeps the working weights of the previous iteration, so at its default settings
  R's coefficients and SEs carry about 1e-7 of relative error (1e-6 for a probit); the
  tests run R to its fixed point.
* Speed (a fit on 1,000,000 rows costs a few passes over them, or fewer): main-effects
  formulas are coded directly (the columns and names formulaic gives), with the design's
  cached codes of categorical columns (shared with its estimates ``by=`` them). When every
  regressor is integer-valued (indicators, factors, ages in years) and the distinct rows of
  the model matrix are at most a quarter of the rows, scoring runs on those patterns with
  their summed weights and weighted mean outcomes - the GLM's sufficient statistics, so the
  same coefficients and ``X'WX`` (lossless compression: Wong et al. 2021) - and the row
  scores are formed once at the end. Otherwise scoring runs on the rows: a factor with three
  or more levels is kept as its codes and the rows are ordered by the first such factor, so
  its blocks of ``X'WX`` are BLAS products over ranges of rows; each pass is one symmetric
  rank-k update (``dsyrk``) of a work matrix allocated once; above 400,000 rows scoring
  starts from the fit to a systematic subsample of 50,000 (the same fixed point, two passes
  fewer). The scores are summed per PSU over runs of a unit's rows when the data hold each
  unit's rows together (as survey files usually do), else by ``bincount`` on the design's
  cached unit code of each row. Everything is float64; the results do not depend on the row
  order or the path beyond rounding (tested).
* The variance is the sandwich ``A^-1 B A^-1`` where ``A = X' W X`` (W the working
  weights, the design weights included) and B the design covariance of the totals of the
  estimating functions ``w_i x_i (y_i - mu_i) mu'_i / V(mu_i)``: the influence values
  ``x_i r_i A^-1`` are summed per PSU and go through the design's own variance machinery
  (strata, fpc, second stage, lonely PSUs; :meth:`SurveyDesign._vcov`). It is the same for
  ``binomial`` and ``quasibinomial`` (and ``poisson``/``quasipoisson``): the design-based
  variance does not use the dispersion.
* Degrees of freedom: R's ``df.residual`` of a svyglm, ``degf(design) + 1 - p`` with
  ``degf`` the PSUs minus the strata that hold rows of the fit (its domain, complete cases)
  and p the number of coefficients. Intervals are ``estimate +/- t(df) se`` and p-values
  two-sided t (R's ``summary`` and ``confint``).
* Rows with a missing value in any model variable are left out (R's ``na.omit``); like a
  domain (``subset=``) they stay in the design as zeros, so that PSUs and strata without
  rows still count (R: ``design[-nas, ]``, ``subset(design, ...)``).
* Formulas are read by ``formulaic`` (``y ~ x1 + C(g) + x1:x2``, ``np.log(x)``, backquotes
  for unusual names); categorical columns (strings, booleans, categories, or numbers in
  ``C()``) are coded with treatment contrasts against their first sorted level, as R does
  with factors; terms are in R's order. A level absent from the rows of the fit is not
  coded (R would report an aliased NA coefficient); any other collinearity is an error
  that names the column.

References
----------
Binder, D. A. (1983) On the variances of asymptotically normal estimators from complex
surveys. *International Statistical Review* 51, 279-292.
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, ch. 5. Wiley.
Lumley, T. and Scott, A. (2017) Fitting regression models to survey data. *Statistical
Science* 32, 265-278.
McCullagh, P. and Nelder, J. A. (1989) *Generalized Linear Models*, 2nd ed. Chapman & Hall.
Wong, J., Forsell, E., Lewis, R., Mao, T. and Wardrop, M. (2021) You only compress once:
optimal data compression for estimating linear models. arXiv:2102.11297.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.survey.design import _run_starts
from helpers.stats.survey.inference import t_quantile, wald_table

__all__ = ["SurveyGLM", "SurveyGLMResult", "svyglm", "FAMILIES", "LINKS"]

_EPS = np.finfo(float).eps


# ---------------------------------------------------------------------- links (R's make.link)
@dataclass(frozen=True)
class _Link:
    name: str
    linkfun: Callable
    linkinv: Callable
    mu_eta: Callable
    valideta: Callable = lambda eta: True


def _logit_inv(eta):  # R's C logit_linkinv, with its thresholds
    e = np.exp(np.clip(eta, -30.0, 30.0))
    e = np.where(eta < -30, _EPS, np.where(eta > 30, 1 / _EPS, e))
    return e / (1 + e)


def _logit_mu_eta(eta):
    e = np.exp(np.clip(eta, -30.0, 30.0))
    return np.where((eta > 30) | (eta < -30), _EPS, e / (1 + e) ** 2)


_PROBIT_T = -stats.norm.ppf(_EPS)
_CAUCHIT_T = -stats.cauchy.ppf(_EPS)

LINKS: dict[str, _Link] = {
    "identity": _Link("identity", lambda mu: mu, lambda eta: eta, lambda eta: np.ones_like(eta)),
    "log": _Link("log", np.log, lambda eta: np.maximum(np.exp(eta), _EPS), lambda eta: np.maximum(np.exp(eta), _EPS)),
    "logit": _Link("logit", lambda mu: np.log(mu / (1 - mu)), _logit_inv, _logit_mu_eta),
    "probit": _Link("probit", stats.norm.ppf, lambda eta: stats.norm.cdf(np.clip(eta, -_PROBIT_T, _PROBIT_T)),
                    lambda eta: np.maximum(stats.norm.pdf(eta), _EPS)),
    "cauchit": _Link("cauchit", stats.cauchy.ppf,
                     lambda eta: stats.cauchy.cdf(np.clip(eta, -_CAUCHIT_T, _CAUCHIT_T)),
                     lambda eta: np.maximum(stats.cauchy.pdf(eta), _EPS)),
    "cloglog": _Link("cloglog", lambda mu: np.log(-np.log1p(-mu)),
                     lambda eta: np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS),
                     lambda eta: np.maximum(np.exp(np.minimum(eta, 700)) * np.exp(-np.exp(np.minimum(eta, 700))), _EPS)),
    "inverse": _Link("inverse", lambda mu: 1 / mu, lambda eta: 1 / eta, lambda eta: -1 / eta ** 2,
                     lambda eta: bool(np.all(np.isfinite(eta)) and np.all(eta != 0))),
    "sqrt": _Link("sqrt", np.sqrt, lambda eta: eta ** 2, lambda eta: 2 * eta,
                  lambda eta: bool(np.all(np.isfinite(eta)) and np.all(eta > 0))),
}


# ---------------------------------------------------------------------- families (R's family objects)
def _ylogy(y, mu):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


@dataclass(frozen=True)
class _Family:
    name: str
    default_link: str
    links: tuple[str, ...]
    variance: Callable
    dev_resids: Callable  # (y, mu, wt) -> per-row deviance contributions
    validmu: Callable
    mustart: Callable  # (y, wt) -> starting mu (R's initialize)
    check_y: Callable  # (y) -> error text or None


def _binomial_check(strict: bool):
    def check(y):
        if strict and not np.isin(y, (0.0, 1.0)).all():
            bad = y[~np.isin(y, (0.0, 1.0))][0]
            return f"must be 0/1 for family='binomial' (found {bad:g}); use quasibinomial for proportions"
        if ((y < 0) | (y > 1)).any():
            bad = y[(y < 0) | (y > 1)][0]
            return f"must lie between 0 and 1 for a binomial family (found {bad:g})"
        return None
    return check


def _poisson_check(y):
    if (y < 0).any():
        return f"must be >= 0 for a Poisson family (found {y[y < 0][0]:g})"
    return None


def _binomial_dev(y, mu, wt):
    if ((y == 0.0) | (y == 1.0)).all():  # 0/1 outcomes: one logarithm per row
        return -2 * wt * np.log(np.where(y == 1, mu, 1 - mu))
    return 2 * wt * (_ylogy(y, mu) + _ylogy(1 - y, 1 - mu))


_BIN = dict(default_link="logit", links=("logit", "probit", "cauchit", "log", "cloglog"),
            variance=lambda mu: mu * (1 - mu),
            dev_resids=_binomial_dev,
            validmu=lambda mu: bool(np.all(np.isfinite(mu)) and np.all((mu > 0) & (mu < 1))),
            mustart=lambda y, wt: (wt * y + 0.5) / (wt + 1))
_POI = dict(default_link="log", links=("log", "identity", "sqrt"), variance=lambda mu: mu,
            dev_resids=lambda y, mu, wt: 2 * wt * (_ylogy(y, mu) - (y - mu)),
            validmu=lambda mu: bool(np.all(np.isfinite(mu)) and np.all(mu > 0)),
            mustart=lambda y, wt: y + 0.1, check_y=_poisson_check)

FAMILIES: dict[str, _Family] = {
    "gaussian": _Family("gaussian", "identity", ("identity", "log", "inverse"), lambda mu: np.ones_like(mu),
                        lambda y, mu, wt: wt * (y - mu) ** 2, lambda mu: True, lambda y, wt: y, lambda y: None),
    "binomial": _Family("binomial", check_y=_binomial_check(True), **_BIN),
    "quasibinomial": _Family("quasibinomial", check_y=_binomial_check(False), **_BIN),
    "poisson": _Family("poisson", **_POI),
    "quasipoisson": _Family("quasipoisson", **_POI),
}


# ---------------------------------------------------------------------- model frame
class _ModelMatrix:
    """A model matrix kept as dense columns plus the one-hot columns of many-level factors.

    A factor with L levels enters as L - 1 indicator columns; storing its codes instead of
    the columns makes each pass over the rows cost what the dense columns cost (the
    factor's blocks of X'WX are sums per level). Internal column order: the dense columns,
    then each factor's indicators (levels 1..L-1); ``order[j]`` is the internal position of
    column j of the formula's order.
    """

    def __init__(self, dense: np.ndarray, factors: list[tuple[np.ndarray, int]], order: np.ndarray,
                 sorted_first: bool = False):
        self.dense = dense
        self.sorted_first = bool(sorted_first and factors)  # rows ordered by the first factor's codes
        self.factors = factors
        self.order = np.asarray(order, dtype=np.int64)
        self.p = dense.shape[1] + sum(L - 1 for _, L in factors)
        self.n = dense.shape[0]
        self.kinds = ["num"] * dense.shape[1]  # per dense column: "ones" (intercept), "ind" (0/1), "num"
        self._work = None  # gram_score's work matrix, allocated on first use
        self._bounds = None

    def take(self, sub) -> "_ModelMatrix":
        return _ModelMatrix(np.asfortranarray(self.dense[sub]), [(c[sub], L) for c, L in self.factors], self.order,
                            sorted_first=self.sorted_first and isinstance(sub, slice))

    def matvec(self, b: np.ndarray) -> np.ndarray:
        pd_ = self.dense.shape[1]
        eta = self.dense @ b[:pd_]
        j = pd_
        for k, (codes, L) in enumerate(self.factors):
            if k == 0 and self.sorted_first:  # levels are ranges of rows
                bounds = self.level_bounds()
                for lev in range(1, L):
                    eta[bounds[lev]:bounds[lev + 1]] += b[j + lev - 1]
            else:
                eta += np.concatenate([[0.0], b[j:j + L - 1]])[codes]
            j += L - 1
        return eta

    def level_bounds(self) -> np.ndarray:
        """First row of each level of the first factor and the end (rows ordered by it)."""
        if self._bounds is None:
            codes, L = self.factors[0]
            self._bounds = np.searchsorted(codes, np.arange(L + 1))
        return self._bounds

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        out = [self.dense.T @ r]
        for codes, L in self.factors:
            out.append(np.bincount(codes, weights=r, minlength=L)[1:])
        return np.concatenate(out)

    def gram_score(self, ww: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``X' diag(ww) X`` and ``X' r``.

        One symmetric rank-k update (BLAS ``dsyrk``) of ``M = [sqrt(ww) X_M, r / sqrt(ww)]``,
        where X_M is the dense columns and the indicator columns of the factors; those live
        in a work matrix allocated once per model matrix whose non-zero positions (one per row
        and factor) are fixed, so a pass writes the dense columns, one value per row and
        factor, and the score column. When the rows are ordered by the first factor
        (``sorted_first``), its levels are ranges of rows and its blocks are, per level, one
        BLAS product ``sqrt(ww)[a:b] @ M[a:b]`` (its indicators are not in M). Measured
        faster than sums per level with ``bincount``; no fresh large temporaries (page faults)."""
        from scipy.linalg.blas import dsyrk

        D = self.dense
        n, pd_, p = self.n, D.shape[1], self.p
        seg = self.sorted_first
        in_m = self.factors[1:] if seg else self.factors  # factors whose indicators are columns of M
        L0 = self.factors[0][1] if seg else 1
        q = pd_ + sum(L - 1 for _, L in in_m)
        if self._work is None:
            M = np.zeros((n, q + 1), order="F")
            pos, j = [], pd_
            for codes, L in in_m:
                nz = np.flatnonzero(codes > 0)
                pos.append((nz, (j + codes[nz] - 1) * n + nz))  # rows, flat positions in M.T
                j += L - 1
            bounds = self.level_bounds() if seg else None
            self._work = (M, pos, np.empty(n), bounds)
        M, pos, sw, bounds = self._work
        np.sqrt(ww, out=sw)
        np.multiply(D, sw[:, None], out=M[:, :pd_])
        flat = M.T.reshape(-1)  # a view (M is column-major)
        for nz, at in pos:
            flat[at] = sw[nz]
        allpos = bool(sw.min(initial=1.0) > 0)
        if allpos:
            np.divide(r, sw, out=M[:, q])
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                M[:, q] = np.where(sw > 0, r / sw, 0.0)
        G = dsyrk(1.0, M, trans=1, lower=0)
        G = np.triu(G)
        G = G + np.triu(G, 1).T
        if not seg:
            A, g = G[:p, :p].copy(), G[:p, p].copy()
        else:
            # internal order: dense, first factor (L0 - 1), the other factors; M lacks the first factor
            im = np.r_[np.arange(pd_), np.arange(pd_ + L0 - 1, p)]
            A = np.zeros((p, p))
            A[np.ix_(im, im)] = G[:q, :q]
            g = np.zeros(p)
            g[im] = G[:q, q]
            cross = np.empty((L0 - 1, q + 1))
            diag = np.empty(L0 - 1)
            for lev in range(1, L0):
                a, b = bounds[lev], bounds[lev + 1]
                s = sw[a:b]
                cross[lev - 1] = s @ M[a:b]
                diag[lev - 1] = s @ s
            sl = slice(pd_, pd_ + L0 - 1)
            A[sl, sl] = np.diag(diag)
            A[sl, im] = cross[:, :q]
            A[im, sl] = cross[:, :q].T
            g[sl] = cross[:, q]
        if not allpos:
            g = self.rmatvec(r)
        return A, g

    def to_dense(self) -> np.ndarray:
        """The full matrix, in the formula's column order."""
        cols = [self.dense]
        for codes, L in self.factors:
            cols.append((codes[:, None] == np.arange(1, L)[None, :]).astype(float))
        return np.hstack(cols)[:, self.order]

    def cell_totals(self, design, r: np.ndarray, rows: np.ndarray, perm: np.ndarray | None = None):
        """Per-cell totals (design cells) of the columns ``x_j * r`` over the fit's ``rows``
        (boolean over the design's rows), in internal order, with the cells' presence flags.

        The cells are the design's sampling units: each column's totals are one ``bincount``
        over the fit's rows on the design's cached unit code of each row (a factor: one
        ``bincount`` on unit x level), without zero-filled copies of the design's rows."""
        if getattr(design, "_duck", None) is None and hasattr(design, "_unit_cells"):
            unit, cells = design._unit_cells()
            c = unit if rows.all() else unit[rows]
            if perm is not None:  # X's rows are in this order among the fit's rows
                c = c[perm]
            if (c < 0).any():
                raise ValueError("a row of the fit lies in a unit without weight")  # rows have w != 0
            C = len(cells.nrow)
            Zc = np.empty((C, self.p))
            pd_ = self.dense.shape[1]
            tmp = np.empty(len(r))
            starts = _run_starts(c)
            at = c[starts]
            if len(c) and len(np.unique(at)) == len(at):  # each unit's rows in one run (survey files often are)
                Zc[:] = 0.0
                for j in range(pd_):  # sums over runs of rows (one buffer: no page faults of a fresh matrix)
                    np.multiply(self.dense[:, j], r, out=tmp)
                    Zc[at, j] = np.add.reduceat(tmp, starts)
                present = np.zeros(C, dtype=bool)
                present[at] = True
                rsum = None
            else:
                for j in range(pd_):
                    np.multiply(self.dense[:, j], r, out=tmp)
                    Zc[:, j] = np.bincount(c, weights=tmp, minlength=C)
                present = np.bincount(c, minlength=C) > 0
                starts = None
            j = pd_
            for codes, L in self.factors:
                if starts is not None and not ((codes[1:] != codes[:-1]) & (c[1:] == c[:-1])).any():
                    # the factor is constant within each unit (a stratifying variable): one level per run
                    if rsum is None:
                        rsum = np.add.reduceat(r, starts)
                    lev = codes[starts]
                    k = lev > 0
                    Zc[at[k], j + lev[k] - 1] = rsum[k]
                else:
                    Zc[:, j:j + L - 1] = np.bincount(c * L + codes, weights=r, minlength=C * L).reshape(C, L)[:, 1:]
                j += L - 1
            return cells, Zc, present
        if perm is not None:
            raise ValueError("rows reordered: the in-memory design's cells are needed")
        n = len(rows)
        full = rows.all()
        if full:
            Z = self.dense * r[:, None]
        else:
            Z = np.zeros((n, self.dense.shape[1]), order="F")
            Z[rows] = self.dense * r[:, None]
        coded = []
        for codes, L in self.factors:
            if full:
                coded.append((r, codes, L))
            else:
                rv = np.zeros(n)
                rv[rows] = r
                cv = np.zeros(n, dtype=np.int64)
                cv[rows] = codes
                coded.append((rv, cv, L))
        return design._cell_totals(Z, None if full else rows, coded=coded, zeroed=True)


@dataclass
class _ModelFrame:
    """The rows of a fit: model matrix, outcome, weights, and what predict() needs again."""

    X: "_ModelMatrix"
    y: np.ndarray
    w: np.ndarray
    rows: np.ndarray  # boolean over the design's rows: in the fit
    names: list[str]
    spec: object  # formulaic ModelSpec of the right-hand side
    categories: dict  # column -> categories used for categorical coding
    yname: str
    wmean: float = 1.0  # mean weight over the domain's rows, missing values included (R's rescaling)
    terms: list | None = None  # main-effects terms coded without formulaic (spec is then None)
    perm: np.ndarray | None = None  # order of X, y, w among the fit's rows (None: the design's order)

    def positions(self) -> np.ndarray:
        """The design's row positions of X's rows, in X's order."""
        idx = np.flatnonzero(self.rows)
        return idx if self.perm is None else idx[self.perm]


@functools.lru_cache(maxsize=64)
def _formula_parts(formula: str):
    from formulaic import Formula

    try:
        f = Formula(formula)
    except Exception as e:  # formulaic's parse errors are long; keep the cause
        raise ValueError(f"cannot read the formula {formula!r}: {e}") from e
    if not hasattr(f, "lhs") or not len(f.lhs):
        raise ValueError(f"the formula {formula!r} has no outcome: write it as 'y ~ x1 + x2'")
    return f


def _categoricals(data: pd.DataFrame, variables: Sequence[str]) -> list[str]:
    """Columns coded as categories wherever they appear: strings, booleans, categoricals."""
    out = []
    for v in variables:
        s = data[v]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == bool or s.dtype.kind in "OSUb" \
                or pd.api.types.is_string_dtype(s.dtype):
            out.append(v)
    return out


def _to_categorical(s: pd.Series, categories=None) -> pd.Categorical:
    if categories is None:
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = pd.unique(s.dropna())
            categories = [c for c in s.cat.categories if c in set(used)]
        else:
            categories = sorted(pd.unique(s.dropna()))
    return pd.Categorical(s, categories=categories)


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SIMPLE_TERM = re.compile(rf"^(?:C\(\s*({_NAME})\s*\)|({_NAME}))$")


def _simple_terms(f, data: pd.DataFrame, formula: str) -> list[tuple[str, str | None, bool]] | None:
    """``(term, column, categorical)`` per term when the right-hand side is an intercept plus main
    effects of columns (``x``, ``C(g)``, a string column ``g``); None otherwise (formulaic builds it)."""
    terms = [str(t) for t in f.rhs]
    if "1" not in terms:
        return None
    cats = set(_categoricals(data, [m.group(1) or m.group(2) for t in terms if t != "1"
                                    for m in [_SIMPLE_TERM.match(t)] if m and (m.group(1) or m.group(2)) in data]))
    out = []
    for t in terms:
        if t == "1":
            out.append((t, None, False))
            continue
        m = _SIMPLE_TERM.match(t)
        if not m or (m.group(2) and m.group(2) not in data.columns):
            return None
        col = m.group(1) or m.group(2)
        if col not in data.columns:
            return None
        out.append((t, col, col in cats or m.group(1) is not None))  # C(x) codes a number as categories
    return out


def _level_codes(s: pd.Series, rows: np.ndarray | None, levels=None, full=None) -> tuple[np.ndarray, list]:
    """Codes 0..L-1 of the rows by sorted level (the levels present in ``rows``), or by ``levels``.

    ``full``: the codes of every row of ``s`` by its sorted levels and those levels (the
    design's cached codes), used instead of factorising ``s`` again."""
    if levels is None:
        codes, uniq = pd.factorize(s, sort=True) if full is None else full
        c = codes if rows is None else codes[rows]
        used = np.bincount(c if c.min(initial=0) >= 0 else c[c >= 0], minlength=len(uniq)) > 0
        if used.all():  # every level present: the codes are already 0..L-1
            return c.astype(np.int64, copy=False), list(uniq)
        remap = np.cumsum(used) - 1
        return np.where(c >= 0, remap[np.maximum(c, 0)], -1), [uniq[i] for i in np.flatnonzero(used)]
    sub = s if rows is None else s[rows]
    return pd.Categorical(sub, categories=levels).codes.astype(np.int64), list(levels)


def _simple_matrix(data: pd.DataFrame, rows: np.ndarray | None, terms, levels: dict | None = None,
                   structured: bool = True, codes_of: Callable | None = None):
    """Model matrix of main effects (R's treatment coding) without formulaic.

    Returns ``(X, names, levels)``: a :class:`_ModelMatrix` (factors with three or more
    levels kept as codes when ``structured``), the column names as formulaic names them,
    and the levels of each categorical column (the fit's, or ``levels``); X's rows are the
    data's rows in order (:func:`_sorted` orders them by a factor). ``codes_of(column)``, if
    given, returns a categorical column's codes and sorted levels over all of ``data``'s rows
    (the design's cache), so that repeated fits do not factorise it again."""
    dpos, factors, fpos, names, found = [], [], [], [], {}
    cols = []  # per dense column: ("ones",), ("num", full array), ("ind", codes, level)
    m = len(data) if rows is None else int(rows.sum())
    for term, col, cat in terms:
        if term == "1":
            cols.append(("ones",))
            dpos.append(len(names))
            names.append("Intercept")
        elif cat:
            codes, lev = _level_codes(data[col], rows, None if levels is None else levels[col],
                                      full=None if codes_of is None or levels is not None else codes_of(col))
            if (codes < 0).any():
                raise ValueError(f"column {col!r} has a level the fit did not see (levels: {lev})")
            found[col] = lev
            L = len(lev)
            if structured and L >= 3:
                factors.append((codes, L))
                fpos.append(list(range(len(names), len(names) + L - 1)))
            else:
                for j in range(1, L):
                    cols.append(("ind", codes, j))
                    dpos.append(len(names) + j - 1)
            names += [f"{term}[T.{v}]" for v in lev[1:]]
        else:
            v = data[col]
            try:
                a = v.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as e:
                raise TypeError(f"regressor {col!r} is not numeric") from e
            cols.append(("num", a))
            dpos.append(len(names))
            names.append(term)
    idx = None if rows is None else np.flatnonzero(rows)
    D = np.empty((m, len(cols)), order="F")
    for j, c in enumerate(cols):
        if c[0] == "ones":
            D[:, j] = 1.0
        elif c[0] == "num":
            D[:, j] = c[1] if idx is None else c[1][idx]
        else:
            D[:, j] = c[1] == c[2]
    internal = dpos + [j for pos in fpos for j in pos]  # formula position of each internal column
    order = np.argsort(internal)  # internal position of each formula column
    X = _ModelMatrix(D, factors, order)
    X.kinds = [c[0] for c in cols]
    return X, names, found


def _model_frame(design, formula: str, subset, family: _Family | None, ordinal: bool = False) -> _ModelFrame:
    """The rows, model matrix and outcome of a fit.

    ``ordinal``: the outcome is coded 0..K-1 by its ordered categories (an ordered
    categorical's order, else sorted values), which are kept in ``categories[outcome]``.
    Main-effects formulas are coded here directly (the same columns and names as formulaic,
    without its per-row overhead); any other formula goes through formulaic.
    """
    f = _formula_parts(formula)
    data = design.data
    yterms = [str(t) for t in f.lhs]
    if len(yterms) != 1:
        raise ValueError(f"the formula {formula!r} must have one outcome on the left of '~'")
    variables = sorted(f.required_variables)
    absent = [v for v in variables if v not in data.columns]
    if absent:
        raise KeyError(f"formula variable {absent[0]!r} is not a column of the design's data "
                       f"(formula {formula!r}); add the column or fix its name")
    rows = np.asarray(design._wnz, dtype=bool).copy()
    dom = None
    if subset is not None:
        dom = _subset_rows(design, subset)
        rows &= dom
        if not rows.any():
            what = f"subset={subset!r}" if isinstance(subset, str) else "subset="
            raise ValueError(f"the domain ({what}) has no rows with a non-zero weight: check the condition")
    wmean = float(design._w.mean() if dom is None else design._w[dom].mean())
    ok = rows.copy()
    for v in variables:
        ok &= data[v].notna().to_numpy()
    if not ok.any():
        worst = max(variables, key=lambda v: int(data[v].isna().to_numpy()[rows].sum()))
        raise ValueError(f"no rows left for the model: every row of the domain misses a value of a model "
                         f"variable (e.g. {worst!r})")
    cats: dict = {}
    ycol = yterms[0]
    simple = _simple_terms(f, data, formula)
    # the outcome
    if ordinal:
        if ycol not in data.columns:
            raise ValueError(f"the outcome of an ordinal model must be a column, got {ycol!r}")
        ys = data[ycol]
        if isinstance(ys.dtype, pd.CategoricalDtype) and ys.cat.ordered:
            present = set(pd.unique(ys[ok]))
            codes, levels = _level_codes(ys, ok, [c for c in ys.cat.categories if c in present])
        else:
            codes, levels = _level_codes(ys, ok)
        if len(levels) < 3:
            raise ValueError(f"outcome {ycol!r} has {len(levels)} categories in the rows of the fit; an "
                             "ordinal model needs 3 or more (use svyglm with a binomial family for 2)")
        y = codes.astype(float)
        cats[ycol] = levels
    elif ycol in data.columns:
        yv = data[ycol]
        if yv.dtype == bool:
            yv = yv.astype(float)
        try:
            y = yv.to_numpy(dtype=float, na_value=np.nan)[ok]
        except (TypeError, ValueError) as e:
            raise TypeError(f"outcome {ycol!r} is not numeric (values like {list(pd.unique(yv.dropna()))[:3]}); "
                            "code it 0/1 (or as counts) first") from e
    else:
        y = None  # an expression: formulaic evaluates it below
    frame = None
    if simple is None or y is None:
        from formulaic import model_matrix

        frame = data.loc[ok, variables] if not ok.all() else data[variables]
        conv = {}
        for v in _categoricals(frame, [v for v in variables if not (ordinal and v == ycol)]):
            c = _to_categorical(frame[v])
            cats[v] = list(c.categories)
            conv[v] = c
        if conv:
            frame = frame.assign(**conv)
        if y is None:
            lhs = model_matrix(f"{ycol} ~ 1", frame, na_action="raise").lhs
            if lhs.shape[1] != 1:
                raise TypeError(f"outcome {ycol!r} must give one numeric column")
            y = np.asarray(lhs, dtype=float)[:, 0]
    if family is not None:
        msg = family.check_y(y)
        if msg:
            raise ValueError(f"outcome {ycol!r} {msg}")
    if simple is not None:
        X, names, found = _simple_matrix(data, ok, simple, codes_of=_design_codes(design))
        cats.update(found)
        spec = None
    else:
        mm = model_matrix(f.rhs, frame, na_action="raise")
        dense = np.asfortranarray(np.asarray(mm, dtype=float))
        names = [str(c) for c in mm.columns]
        spec = mm.model_spec
        X = _ModelMatrix(dense, [], np.arange(dense.shape[1]))
    if not np.isfinite(X.dense).all():
        j = int(np.flatnonzero(~np.isfinite(X.dense).all(axis=0))[0])
        bad = names[int(X.order.tolist().index(j))] if j < len(names) else str(j)
        raise ValueError(f"model column {bad!r} has infinite values (e.g. log of 0)")
    return _ModelFrame(X, y, design._w[ok], ok, names, spec, cats, ycol, wmean, simple)


def _design_codes(design) -> Callable | None:
    """``column -> (codes, sorted levels)`` over the design's rows from the design's cache of
    domain codes (shared with its estimates ``by=`` the column), or None (a DuckDB design)."""
    if getattr(design, "_duck", None) is not None or not hasattr(design, "_domains"):
        return None

    def codes_of(col):
        codes, lab = design._domains([col])
        return codes, list(lab.iloc[:, 0])

    return codes_of


def _sorted(mf: _ModelFrame) -> _ModelFrame:
    """The frame with its rows ordered by the first factor kept as codes (a stable radix
    sort), so that the factor's levels are ranges of rows (:meth:`_ModelMatrix.gram_score`
    sums them with BLAS); ``perm`` records the order. Unchanged without such a factor."""
    X = mf.X
    if mf.perm is not None or not X.factors:
        return mf
    c0, L0 = X.factors[0]
    perm = np.argsort(c0.astype(np.int16 if L0 < 2 ** 15 else np.int64), kind="stable")
    D = np.empty_like(X.dense, order="F")
    for j in range(D.shape[1]):
        np.take(X.dense[:, j], perm, out=D[:, j])
    Xs = _ModelMatrix(D, [(c[perm], L) for c, L in X.factors], X.order, sorted_first=True)
    return dataclasses.replace(mf, X=Xs, y=mf.y[perm], w=mf.w[perm], perm=perm)


@dataclass
class _Patterns:
    """The distinct rows of a model matrix: the GLM's sufficient statistics.

    ``X`` holds one row per distinct regressor pattern, ``w`` the summed weights of the
    rows with that pattern, ``y`` their weighted mean outcome, ``id`` the pattern of each row.
    """

    X: "_ModelMatrix"
    y: np.ndarray
    w: np.ndarray
    id: np.ndarray


#: compress when the distinct regressor patterns are at most this share of the rows
COMPRESS_SHARE = 0.25
#: integer-valued columns spanning more than this many values are taken as continuous
_MAX_SPAN = 1 << 16


def _compress(X: _ModelMatrix, y: np.ndarray, w: np.ndarray) -> _Patterns | None:
    """Group the rows of a fit by their regressor values (lossless compression), or None.

    The score equations and the information of a GLM depend on the rows only through, per
    distinct row ``x_p`` of the model matrix, the summed weights ``sum w_i`` and the summed
    weighted outcome ``sum w_i y_i``: ``sum_i w_i x_i (y_i - mu(x_i)) = sum_p x_p (sum w_i y_i -
    mu(x_p) sum w_i)`` (Wong et al. 2021, "optimal data compression for linear models").
    Scoring on the patterns therefore gives the same coefficients and ``X'WX`` as scoring
    on the rows, in passes over the patterns instead of the rows; the design-based
    variance still sums the row scores per PSU. Applies when every dense column is
    integer-valued (indicators, counts, ages in years) and the patterns are at most
    :data:`COMPRESS_SHARE` of the rows; a continuous regressor returns None at once.
    """
    D = X.dense
    n = X.n
    if n == 0:
        return None
    key = np.zeros(n, dtype=np.int64)
    size, digits = 1, []
    for j in range(D.shape[1]):
        x = D[:, j]
        kind = X.kinds[j]
        if kind == "ones":
            digits.append((1.0, size, 1))
            continue
        lo, hi = (0.0, 1.0) if kind == "ind" else (float(x.min()), float(x.max()))
        if not (hi - lo < _MAX_SPAN) or lo != np.floor(lo):
            return None
        if hi == lo:  # a constant column
            digits.append((lo, size, 1))
            continue
        code = x.astype(np.int64)
        if kind == "num" and not np.array_equal(code, x):  # not integer-valued
            return None
        span = int(hi - lo) + 1
        if size * span > 1 << 40:
            return None
        if lo:
            code -= int(lo)
        if size > 1:
            code *= size
        key += code
        digits.append((lo, size, span))
        size *= span
    fdig = []
    for codes, L in X.factors:
        if size * L > 1 << 40:
            return None
        key += codes * size
        fdig.append((size, L))
        size *= L
    if size <= 4 * n:  # patterns by counting keys
        used = np.flatnonzero(np.bincount(key, minlength=size))
        if len(used) > COMPRESS_SHARE * n:
            return None
        remap = np.empty(size, dtype=np.int64)
        remap[used] = np.arange(len(used))
        pid = remap[key]
    else:  # by hashing
        pid, used = pd.factorize(key)
        if len(used) > COMPRESS_SHARE * n:
            return None
        used = np.asarray(used)
    P = len(used)
    Dp = np.empty((P, D.shape[1]), order="F")
    for j, (lo, stride, span) in enumerate(digits):
        Dp[:, j] = lo + (used // stride) % span
    fp = [((used // stride) % L, L) for stride, L in fdig]
    sw = np.bincount(pid, weights=w, minlength=P)
    swy = np.bincount(pid, weights=w * y, minlength=P)
    return _Patterns(_ModelMatrix(Dp, fp, X.order), swy / sw, sw, pid)


def _unpermute(v: np.ndarray, perm: np.ndarray | None) -> np.ndarray:
    """Values given in the order ``perm`` (of the fit's rows) back in the design's order."""
    if perm is None:
        return v
    out = np.empty_like(v)
    out[perm] = v
    return out


def _subset_rows(design, subset) -> np.ndarray:
    """Boolean rows of a domain: a boolean array/Series over the design's rows, or a query string."""
    n = len(design.data)
    if isinstance(subset, str):
        try:
            m = design.data.eval(subset)
        except Exception as e:
            raise ValueError(f"cannot evaluate subset={subset!r} on the design's data: {e}") from e
    else:
        m = subset
    if isinstance(m, pd.Series):
        if m.isna().any():
            raise ValueError("subset has missing values (R: 'subset must not contain NA values')")
        if not m.index.equals(design.data.index):
            if len(m) == n:
                m = m.to_numpy()
            else:
                raise ValueError(f"subset has {len(m)} values; the design has {n} rows")
    a = np.asarray(m)
    if a.dtype != bool or a.shape != (n,):
        raise ValueError(f"subset must be a query string or a boolean array with one value per row ({n})")
    return a


def _check_rank(H: np.ndarray, names: list[str]) -> None:
    d = np.sqrt(np.diag(H))
    zero = np.flatnonzero(d <= 0)
    if len(zero):
        raise ValueError(f"model column {names[zero[0]]!r} is zero in every row of the fit (a category "
                         "absent from the domain?); drop it from the formula")
    C = H / np.outer(d, d)
    from scipy.linalg import qr

    _, R, piv = qr(C, pivoting=True)
    diag = np.abs(np.diag(R))
    bad = diag < 1e-10 * diag[0]
    if bad.any():
        j = piv[np.flatnonzero(bad)[0]]
        raise ValueError(f"the model matrix is rank-deficient: column {names[j]!r} is a linear combination of "
                         "the others (collinear regressors); drop one of them")


# ---------------------------------------------------------------------- IRLS
def _mu_and_derivative(link: _Link, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``linkinv(eta)`` and ``mu_eta(eta)``; for the logit both from one exponential."""
    if link.name == "logit":
        from scipy.special import expit

        if len(eta) and (eta.max() > 30 or eta.min() < -30):  # R's thresholds
            return link.linkinv(eta), link.mu_eta(eta)
        mu = expit(eta)
        me = mu * (1 - mu)
        return mu, me
    if link.name == "log":
        mu = np.maximum(np.exp(eta), _EPS)
        return mu, mu
    return link.linkinv(eta), link.mu_eta(eta)


def _pass(X, y, w, beta, fam: _Family, link: _Link, canonical: bool):
    """One pass over the rows at ``beta``: information A = X'WX, score X'r and row scores r.

    W are the working weights ``w mu'^2 / V(mu)`` and r the score contributions
    ``w (y - mu) mu' / V(mu)`` (for a canonical link ``w mu'`` and ``w (y - mu)``). One
    symmetric rank-k update of ``[sqrt(W) X, r / sqrt(W)]`` gives A and X'r together
    (:meth:`_ModelMatrix.gram_score`).
    """
    eta = X.matvec(beta)
    mu, me = _mu_and_derivative(link, eta)
    if canonical:
        ww = w * me
        r = w * (y - mu)
    else:
        v = fam.variance(mu)
        ww = w * me * me / v
        r = w * (y - mu) * me / v
    A, g = X.gram_score(ww, r)
    return A, g, r, mu


#: family-link pairs whose inverse link always gives a valid mean (R's thresholds keep a logit
#: strictly inside (0, 1)): no step halving is ever needed
_ALWAYS_VALID = {(f, k) for f in ("binomial", "quasibinomial") for k in ("logit", "probit", "cloglog", "cauchit")} | {
    ("poisson", "log"), ("quasipoisson", "log"), ("gaussian", "identity")}


def _newton(X, y, wr, beta, fam, link, canonical, names, tol, maxit):
    """Scoring iterations from ``beta`` until the step is below ``tol`` of each coefficient's scale."""
    for it in range(1, maxit + 1):
        A, g, r, mu = _pass(X, y, wr, beta, fam, link, canonical)
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError:
            _check_rank(A, names)
            raise
        step = Ainv @ g
        scale = np.abs(beta) + np.sqrt(np.abs(np.diag(Ainv)))
        if np.all(np.abs(step) <= tol * scale):
            return beta + step, A, r, mu, it, True
        new = beta + step
        if (fam.name, link.name) not in _ALWAYS_VALID:
            for _ in range(30):  # R's step halving when eta or mu leaves the family's range
                eta_new = X.matvec(new)
                if link.valideta(eta_new) and fam.validmu(link.linkinv(eta_new)):
                    break
                new = (new + beta) / 2
            else:
                raise FloatingPointError("IRLS cannot find valid fitted values; check the outcome and the link")
        beta = new
    A, g, r, mu = _pass(X, y, wr, beta, fam, link, canonical)
    return beta, A, r, mu, maxit, False


#: above this many rows, scoring starts from a fit to a systematic subsample of about
#: SUBSAMPLE rows (the same fixed point; two or three fewer passes over all the rows)
WARM_START_ROWS = 400_000
SUBSAMPLE = 50_000


def _irls(X, y, w, fam: _Family, link: _Link, names, tol: float = 1e-10, maxit: int = 50,
          wmean: float | None = None, warn: bool = True, warm: bool = True):
    """Fisher scoring from R's starting values; returns beta, A, row scores r, mu, iterations.

    The weights are divided by ``wmean`` (R's ``rescale=TRUE``: the design's mean weight),
    which changes only the scale of A, r and the deviance. Each step solves for the
    increment from the score (not the whole working regression), so the fixed point is
    the root of the score equations to rounding. Large fits start from a subsample's fit.
    """
    wr = w / (w.mean() if wmean is None else wmean)
    canonical = (fam.default_link == link.name)
    if not canonical:  # Fisher scoring converges linearly: the last step understates the error
        tol = tol * 1e-3
    n = len(y)
    beta0 = None
    if warm and n > WARM_START_ROWS:
        sub = slice(None, None, max(n // SUBSAMPLE, 2))
        try:
            beta0, _, _, _, _, sub_ok = _irls(X.take(sub), y[sub], w[sub], fam, link, names, tol=1e-4, maxit=maxit,
                                              warn=False, warm=False)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            sub_ok = False  # e.g. a rare category absent from the subsample: start as R does
        if not (sub_ok and np.isfinite(beta0).all()):
            beta0 = None
    if beta0 is not None:
        beta, A, r, mu, it, ok = _newton(X, y, wr, beta0, fam, link, canonical, names, tol, maxit)
    else:
        mu0 = fam.mustart(y, wr)
        eta = link.linkfun(mu0)
        # first step: weighted least squares on R's working response at the starting values
        me = link.mu_eta(eta)
        ww = wr * me * me / fam.variance(mu0)
        zt = eta + (y - mu0) / me
        A, g = X.gram_score(ww, ww * zt)
        _check_rank(A, names)
        beta = np.linalg.solve(A, g)
        beta, A, r, mu, it, ok = _newton(X, y, wr, beta, fam, link, canonical, names, tol, maxit)
    if not ok and warn:
        warnings.warn(f"IRLS did not converge in {maxit} iterations (separation? fitted values of 0 or 1); "
                      "the estimates are those of the last iteration", RuntimeWarning, stacklevel=3)
    return beta, A, r, mu, it, ok


# ---------------------------------------------------------------------- model and result
@dataclass(frozen=True)
class SurveyGLM:
    """A design-based generalised linear model (R: ``svyglm``), specified before it is fitted.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2 + C(group)"`` (formulaic syntax; categorical columns get treatment
        contrasts against their first sorted level, as R's factors).
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"}
        The working likelihood. ``binomial`` needs a 0/1 outcome; ``quasibinomial`` also
        accepts proportions in [0, 1]. Binomial and quasibinomial (Poisson and
        quasipoisson) give the same estimates and design-based SEs.
    link : str, optional
        The link (default: canonical; gaussian: identity, log, inverse; binomial: logit,
        probit, cauchit, log, cloglog; poisson: log, identity, sqrt).

    Notes
    -----
    R counterpart: ``svyglm(formula, design, family=quasibinomial())``. See the module
    docstring for the estimator and references (Binder 1983; Lumley 2010, ch. 5).
    """

    formula: str
    family: str = "gaussian"
    link: str | None = None

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {self.family!r}")
        fam = FAMILIES[self.family]
        if self.link is not None and self.link not in fam.links:
            raise ValueError(f"link {self.link!r} is not available for family {self.family!r} "
                             f"(choose from {list(fam.links)})")

    def fit(self, design, subset=None, *, level: float = 0.95, tol: float = 1e-10,
            maxit: int = 50) -> "SurveyGLMResult":
        """Fit the model to a survey design.

        Parameters
        ----------
        design : :class:`~helpers.stats.survey.SurveyDesign`
            A DuckDB design loads the model's columns into memory first.
        subset : boolean array/Series over the design's rows, or a query string
            (``"year == 2024"``), optional
            The domain (R: ``svyglm(f, subset(design, ...))``): the model is fitted to its
            rows and the variance keeps the full design (PSUs and strata without rows of the
            domain count as zeros).
        level : float
            Confidence level of the intervals in :attr:`SurveyGLMResult.terms`.
        tol : float
            Convergence: the last Newton step is below ``tol`` times each coefficient's
            ``|beta| + naive SE``.
        maxit : int
            Maximum number of scoring iterations (a warning if reached).

        Returns
        -------
        SurveyGLMResult
        """
        fam = FAMILIES[self.family]
        link = LINKS[self.link or fam.default_link]
        vars_ = sorted(_formula_parts(self.formula).required_variables)
        if getattr(design, "_duck", None) is not None:
            design = design._in_memory([v for v in vars_ if v is not None])
        mf = _model_frame(design, self.formula, subset, fam)
        X = mf.X
        p = X.p
        if len(mf.y) <= p:
            raise ValueError(f"the fit has {len(mf.y)} rows for {p} coefficients")
        internal = [""] * p
        for j, nm in enumerate(mf.names):
            internal[X.order[j]] = nm
        pat = _compress(X, mf.y, mf.w) if mf.terms is not None else None
        if pat is not None:  # scoring on the distinct regressor patterns, row scores after
            beta, A, _, _, it, _ = _irls(pat.X, pat.y, pat.w, fam, link, internal, tol=tol, maxit=maxit,
                                         wmean=mf.wmean)
            mu_p, me_p = _mu_and_derivative(link, pat.X.matvec(beta))
            mu = mu_p[pat.id]
            r = (mf.w / mf.wmean) * (mf.y - mu)
            if fam.default_link != link.name:
                r *= me_p[pat.id] / fam.variance(mu)
        else:  # scoring on the rows, ordered by the first factor
            mf = _sorted(mf)
            X = mf.X
            beta, A, r, mu, it, _ = _irls(X, mf.y, mf.w, fam, link, internal, tol=tol, maxit=maxit,
                                          wmean=mf.wmean)
        Ainv = np.linalg.inv(A)
        # influence values x_i r_i A^-1, summed per cell of the design (rows outside the fit are 0)
        cells, Zc, present = X.cell_totals(design, r, mf.rows, mf.perm)
        V = design._vcov(cells, Zc @ Ainv, present)[0]
        V = (V + V.T) / 2
        o = X.order  # back to the formula's column order
        beta, V, Ainv = beta[o], V[np.ix_(o, o)], Ainv[np.ix_(o, o)]
        degf = design._degf(mf.rows)
        df_resid = degf + 1 - p
        coef = pd.Series(beta, index=mf.names)
        vcov = pd.DataFrame(V, index=mf.names, columns=mf.names)
        terms = wald_table(beta, np.sqrt(np.diag(V)), df_resid, level)
        terms.insert(0, "term", mf.names)
        return SurveyGLMResult(
            model=self, coef=coef, vcov=vcov, terms=terms, df_residual=float(df_resid), degf=degf,
            nobs=int(len(mf.y)), iterations=it, level=level,
            naive_vcov=pd.DataFrame(Ainv, index=mf.names, columns=mf.names),
            _frame=mf, _design=design, _link=link, _mu=_unpermute(mu, mf.perm),
            _patterns=None if pat is None else len(pat.y))


@dataclass
class SurveyGLMResult:
    """A fitted :class:`SurveyGLM`.

    Attributes
    ----------
    terms : DataFrame
        One row per coefficient: ``term, estimate, se, ci_low, ci_high, p, df`` (t intervals
        and two-sided p-values on ``df_residual``, R's ``summary``/``confint``).
    coef : Series
        Coefficients indexed by term (R: ``coef``).
    vcov : DataFrame
        Design-based (sandwich) covariance of the coefficients (R: ``vcov``).
    naive_vcov : DataFrame
        Inverse information ``(X'WX)^-1`` with the weights divided by the domain's mean
        weight (R's ``naive.cov``; model-based, not a valid survey variance).
    df_residual : float
        ``degf + 1 - p`` (R's ``df.residual`` of a svyglm).
    degf : float
        Design degrees of freedom of the fit's rows: PSUs minus strata (R: ``degf``).
    nobs : int
        Rows in the fit (domain, complete cases, non-zero weight).
    deviance : float
        Deviance with the weights divided by the mean weight of the domain's rows (missing
        values included), R's ``deviance`` of a svyglm.
    iterations : int
        Scoring iterations.
    level : float
        Confidence level of ``terms``.
    """

    model: SurveyGLM
    coef: pd.Series
    vcov: pd.DataFrame
    terms: pd.DataFrame
    df_residual: float
    degf: float
    nobs: int
    iterations: int
    level: float
    naive_vcov: pd.DataFrame
    _frame: _ModelFrame = field(repr=False)
    _design: object = field(repr=False)
    _link: _Link = field(repr=False)
    _mu: np.ndarray = field(repr=False)
    _patterns: int | None = field(default=None, repr=False)  # distinct regressor patterns scored (None: rows)

    @functools.cached_property
    def deviance(self) -> float:
        """Deviance with the weights divided by the mean weight of the domain's rows (missing
        values included), R's ``deviance`` of a svyglm (computed when first read)."""
        mf = self._frame
        fam = FAMILIES[self.model.family]
        return float(np.sum(fam.dev_resids(_unpermute(mf.y, mf.perm), self._mu,
                                           _unpermute(mf.w, mf.perm) / mf.wmean)))

    @property
    def estimate(self) -> pd.Series:
        """Alias of :attr:`coef` (what :func:`~helpers.stats.survey.contrast.svycontrast` reads)."""
        return self.coef

    @property
    def df(self) -> float:
        """Degrees of freedom of intervals for functions of the coefficients (``df_residual``)."""
        return self.df_residual

    def term(self, name: str) -> pd.Series:
        """The row of :attr:`terms` for one coefficient (a KeyError lists the terms if absent).

        Returns
        -------
        Series with ``term, estimate, se, ci_low, ci_high, p, df``.
        """
        hit = self.terms[self.terms["term"] == name]
        if hit.empty:
            raise KeyError(f"no term {name!r}; terms are {list(self.terms['term'])}")
        return hit.iloc[0]

    def confint(self, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Wald intervals of the coefficients (R: ``confint(fit, level=, ddf=)``).

        Parameters
        ----------
        level : confidence level (0-1).
        df : degrees of freedom of the t quantile (default ``df_residual``; ``numpy.inf``
            for the normal).

        Returns
        -------
        DataFrame ``term, ci_low, ci_high``.
        """
        t = wald_table(self.coef.to_numpy(), np.sqrt(np.diag(self.vcov)),
                       self.df_residual if df is None else df, level)
        return pd.DataFrame({"term": self.coef.index, "ci_low": t["ci_low"], "ci_high": t["ci_high"]})

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link", *, level: float = 0.95,
                df: float = np.inf) -> pd.DataFrame:
        """Predictions with design-based standard errors (R: ``predict.svyglm``).

        Parameters
        ----------
        newdata : DataFrame with the regressors (any extra columns are ignored). None: the
            rows of the fit.
        type : ``"link"`` (the linear predictor) or ``"response"`` (the mean: a probability
            for a logit, a rate for a log link).
        level : confidence level (0-1).
        df : degrees of freedom of the interval: ``numpy.inf`` (default, R's ``confint`` of
            the prediction) gives the normal quantile; ``fit.df_residual`` gives a t.

        Returns
        -------
        DataFrame (indexed as ``newdata``, or by the fit's rows) with ``estimate, se, ci_low,
        ci_high``: Wald intervals on the requested scale (as R). ``se`` of a response is
        ``|dmu/deta| * se(eta)`` (delta method).
        """
        if type not in ("link", "response"):
            raise ValueError("type must be 'link' or 'response'")
        if newdata is None:
            X = self._frame.X.to_dense()
            if self._frame.perm is not None:  # back to the design's row order
                X = X[np.argsort(self._frame.perm)]
            index = self._design.data.index[self._frame.rows]
        else:
            X = self.model_matrix(newdata)
            index = newdata.index
        V = self.vcov.to_numpy()
        eta = X @ self.coef.to_numpy()
        var = np.einsum("ij,jk,ik->i", X, V, X)
        se = np.sqrt(np.maximum(var, 0.0))
        if type == "response":
            d = self._link.mu_eta(eta)
            est = self._link.linkinv(eta)
            se = np.abs(d) * se
        else:
            est = eta
        q = float(t_quantile(level, df))
        return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se},
                            index=index)

    def model_matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The model matrix of ``newdata`` coded as the fit's (R: ``model.matrix`` with the fit's ``xlevels``).

        Parameters
        ----------
        newdata : DataFrame with every regressor of the formula (no missing values; the
            categories of a categorical regressor must be among the fit's).

        Returns
        -------
        ndarray (rows of ``newdata`` x coefficients), columns in the order of :attr:`coef`.
        """
        spec = self._frame.spec
        required = ([c for _, c, _ in self._frame.terms if c is not None] if spec is None
                    else list(spec.required_variables))
        need = [v for v in required if v not in newdata.columns]
        if need:
            raise KeyError(f"newdata lacks the regressor {need[0]!r}")
        conv = {}
        for v, cats in self._frame.categories.items():
            if v == self._frame.yname or v not in newdata.columns:
                continue
            s = newdata[v]
            unknown = set(pd.unique(s.dropna())) - set(cats)
            if unknown:
                raise ValueError(f"newdata column {v!r} has the level {sorted(unknown, key=str)[0]!r}, "
                                 f"which the fit did not see (levels: {cats})")
            conv[v] = pd.Categorical(s, categories=cats)
        if newdata[required].isna().any().any():
            col = newdata[required].isna().any().idxmax()
            raise ValueError(f"newdata column {col!r} has missing values")
        if spec is None:
            return _simple_matrix(newdata, None, self._frame.terms, self._frame.categories, structured=False)[0].dense
        nd = newdata.assign(**conv) if conv else newdata
        mm = spec.get_model_matrix(nd, na_action="raise")
        return np.asarray(mm, dtype=float)

    def contrast(self, contrasts, *, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Linear or nonlinear functions of the coefficients with SEs (R: ``svycontrast``).

        See :func:`helpers.stats.survey.contrast.svycontrast`; ``df`` defaults to
        ``df_residual``.
        """
        from helpers.stats.survey.contrast import svycontrast

        return svycontrast(self, contrasts, level=level, df=df)

    def summary(self) -> str:
        """The coefficient table as text, headed by the model, family, link, rows and df.

        Returns
        -------
        str (print it).
        """
        head = (f"Design-based GLM ({self.model.family}, {self._link.name} link): {self.model.formula}\n"
                f"rows {self.nobs:,}; design df {self.degf:g}; residual df {self.df_residual:g}; "
                f"{self.iterations} scoring iterations\n")
        return head + self.terms.to_string(index=False)


def svyglm(design, formula: str, family: str = "gaussian", *, link: str | None = None, subset=None,
           level: float = 0.95) -> SurveyGLMResult:
    """Fit a design-based GLM (R: ``svyglm(formula, design, family=...)``).

    Parameters
    ----------
    design : SurveyDesign
    formula, family, link : as :class:`SurveyGLM`.
    subset : domain rows (boolean array/Series or query string), as :meth:`SurveyGLM.fit`.
    level : confidence level of the intervals.

    Returns
    -------
    SurveyGLMResult
    """
    return SurveyGLM(formula, family, link).fit(design, subset=subset, level=level)
