"""Design-based tests: Rao-Scott tests of independence (R's ``svychisq``) and t-tests (``svyttest``).

::

    from helpers.stats.survey import svychisq, svyttest
    svychisq(design, "sex", "aware_center")                    # Rao-Scott F (R's default)
    svychisq(design, "sex", "aware_center", statistic="Chisq")  # first-order corrected chi-square
    svyttest(design, "sat_score", group="migrant")             # difference of two domain means
    svyttest(design, "sat_score", mu=0)                          # one-sample

How it is computed (R ``survey`` 4.x, ``svychisq.survey.design`` and ``svyttest.default``)
-----------------------------------------------------------------------------------------
``svychisq``: Pearson's X^2 of the weighted table rescaled to the number of rows N of the
design, corrected with the design effects of the cell proportions (Rao and Scott 1981,
1984). With p the estimated cell proportions, V their design covariance (the covariance of
linearised totals, :meth:`SurveyDesign._vcov`), C the interaction contrasts orthogonal to the
main effects and D = diag(p),
``Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C)`` are the generalised design effects.

* ``"F"`` (R's default): the second-order correction ``F = X^2 / tr(Delta)`` on
  ``d0 = tr(Delta)^2 / tr(Delta^2)`` and ``d0 * nu`` degrees of freedom, nu the design df
  (PSUs minus strata of the design, all rows).
* ``"Chisq"``: the first-order correction ``X^2 / mean(eig(Delta))`` referred to a chi-square
  on (r-1)(c-1) df (the statistic reported is X^2 itself, as R).
* ``"Wald"`` and ``"adjWald"``: Wald tests of the interaction residuals ``N_rc - N_r N_c / N``
  of the estimated totals (Koch et al. 1975), F on ((r-1)(c-1), nu) df, ``"adjWald"`` with
  the Fellegi (1980) adjustment ``(nu - k + 1) / (k nu)``.

Missing values of either variable drop the row from the table but not from N or nu (R's
``na.rm=TRUE``). A domain (``subset=``) is R's ``subset(design, ...)``: N, nu and the table
are those of its rows.

``svyttest``: with ``group``, the coefficient of the binary group in the design-based linear
regression ``y ~ group`` (:class:`~helpers.stats.survey.regression.SurveyGLM`), a t on its
residual df (design df - 1); without, ``(mean - mu) / SE`` on ``degf(design) - 1`` df.

References
----------
Fellegi, I. P. (1980) Approximate tests of independence and goodness of fit based on
stratified multistage samples. *JASA* 75, 261-268.
Koch, G. G., Freeman, D. H. and Freeman, J. L. (1975) Strategies in the multivariate
analysis of data from complex surveys. *International Statistical Review* 43, 59-78.
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, sec. 3.4 and 5.2. Wiley.
Rao, J. N. K. and Scott, A. J. (1981) The analysis of categorical data from complex sample
surveys. *JASA* 76, 221-230.
Rao, J. N. K. and Scott, A. J. (1984) On chi-squared tests for multiway contingency tables
with cell proportions estimated from survey data. *Annals of Statistics* 12, 46-60.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.survey.inference import t_quantile

__all__ = ["svychisq", "svyttest", "ChisqTest", "TTest", "CHISQ_STATISTICS"]

#: Statistics of :func:`svychisq` (R's ``statistic=`` values supported here).
CHISQ_STATISTICS = ("F", "Chisq", "Wald", "adjWald")


@dataclass
class ChisqTest:
    """The result of :func:`svychisq`.

    Attributes
    ----------
    statistic : float
        F for ``"F"``, ``"Wald"``, ``"adjWald"``; Pearson's X^2 (of the table rescaled to N)
        for ``"Chisq"``.
    ndf, ddf : float
        Numerator and denominator df of the F (``ddf`` is NaN for ``"Chisq"``, whose
        reference is a chi-square on ``ndf`` df of ``X^2 / mean design effect``).
    p : float
        Upper-tail p-value.
    method : str
        Which statistic and correction.
    pearson : float
        Pearson's X^2 of the weighted table rescaled to N rows.
    design_effects : ndarray
        Eigenvalues of Delta, the generalised design effects (NaN for Wald tests).
    table : DataFrame
        The estimated population counts (sum of weights) by row x column category.
    n : int
        Rows in the table (both variables present).
    """

    statistic: float
    ndf: float
    ddf: float
    p: float
    method: str
    pearson: float
    design_effects: np.ndarray
    table: pd.DataFrame
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, ndf, ddf, p, method, n``."""
        return pd.DataFrame([{"statistic": self.statistic, "ndf": self.ndf, "ddf": self.ddf, "p": self.p,
                              "method": self.method, "n": self.n}])


@dataclass
class TTest:
    """The result of :func:`svyttest`.

    Attributes
    ----------
    estimate : float
        Difference of the means (second group minus first) or the mean minus ``mu``.
    se, statistic, df, p : float
        Standard error, t = estimate / se, its df and two-sided p-value.
    ci_low, ci_high : float
        t interval of the estimate at ``level``.
    method : str
    n : int
        Rows used.
    groups : tuple
        The two groups (first, second) of a two-sample test; empty for one sample.
    """

    estimate: float
    se: float
    statistic: float
    df: float
    p: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    n: int
    groups: tuple = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate, se, ci_low, ci_high, statistic, p, df, n, method``."""
        return pd.DataFrame([{"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
                              "ci_high": self.ci_high, "statistic": self.statistic, "p": self.p, "df": self.df,
                              "n": self.n, "method": self.method}])


def _rows(design, subset) -> np.ndarray:
    from helpers.stats.survey.regression import _subset_rows

    n = len(design.data)
    return np.ones(n, dtype=bool) if subset is None else _subset_rows(design, subset)


def _nu(design, rows: np.ndarray) -> float:
    """Unique PSUs minus unique strata among ``rows`` (every row, whatever its weight; R's svychisq)."""
    psu = np.bincount(design._psu[rows], minlength=len(design._psu_stratum)) > 0
    strata = np.bincount(design._psu_stratum[psu], minlength=len(design._nh)) > 0
    return float(psu.sum() - strata.sum())


def _vcov_rows(design, Z: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cells, Zc, present = design._cell_totals(Z, rows)
    V = design._vcov(cells, Zc, present)[0]
    return (V + V.T) / 2


def svychisq(design, rows: str, cols: str, statistic: str = "F", *, subset=None) -> ChisqTest:
    """Design-based test of independence of two categorical variables (R: ``svychisq``).

    Parameters
    ----------
    design : SurveyDesign (a DuckDB design loads the two columns into memory).
    rows, cols : the two categorical columns (any values; missing values drop the row from
        the table).
    statistic : ``"F"`` (default: Rao-Scott second-order, F reference), ``"Chisq"``
        (Rao-Scott first-order, chi-square reference), ``"Wald"`` or ``"adjWald"``.
    subset : the domain (boolean rows or a query string; R's ``subset(design, ...)``).

    Returns
    -------
    ChisqTest: ``statistic, ndf, ddf, p, method, pearson, design_effects, table, n``.

    Notes
    -----
    R counterpart: ``svychisq(~rows + cols, design, statistic=...)``. See the module
    docstring for the formulas; references Rao and Scott (1981, 1984), Lumley (2010) 3.4.
    """
    if statistic not in CHISQ_STATISTICS:
        raise ValueError(f"statistic must be one of {CHISQ_STATISTICS}, got {statistic!r}")
    design = design._in_memory([rows, cols])
    for c in (rows, cols):
        if c not in design.data.columns:
            raise KeyError(f"column {c!r} is not in the design's data")
    sub = _rows(design, subset)
    if not sub.any():
        raise ValueError("the domain (subset=) has no rows")
    a, b = design.data[rows], design.data[cols]
    ok = sub & a.notna().to_numpy() & b.notna().to_numpy()
    if not ok.any():
        raise ValueError(f"no row of the domain has both {rows!r} and {cols!r}")
    ra, la = pd.factorize(a[sub], sort=True)
    rb, lb = pd.factorize(b[sub], sort=True)
    nr, nc = len(la), len(lb)
    for name, k in ((rows, nr), (cols, nc)):
        if k < 2:
            raise ValueError(f"{name!r} has {k} category in the domain; a test of independence needs two or more")
    ia = np.full(len(a), -1)
    ib = np.full(len(b), -1)
    ia[sub], ib[sub] = ra, rb
    K = nr * nc
    cell = np.where(ok, ia + nr * ib, -1)  # R's interaction(): the row variable varies fastest
    w = design._w
    N = float(sub.sum())
    nu = _nu(design, sub)
    tot = np.bincount(cell[ok], weights=w[ok], minlength=K)
    table = pd.DataFrame(tot.reshape(nc, nr).T, index=pd.Index(la, name=rows), columns=pd.Index(lb, name=cols))
    obs = tot.reshape(nc, nr).T * N / tot.sum()
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / N
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.sum((obs - exp) ** 2 / exp))
    ind = np.zeros((len(w), K))
    ind[np.flatnonzero(ok), cell[ok]] = 1.0
    if statistic in ("Wald", "adjWald"):
        mr = np.zeros((len(w), nr))
        mr[np.flatnonzero(ok), ia[ok]] = 1.0
        mcol = np.zeros((len(w), nc))
        mcol[np.flatnonzero(ok), ib[ok]] = 1.0
        X = np.hstack([ind, mr, mcol, np.ones((len(w), 1))])
        T = (X[ok] * w[ok, None]).sum(axis=0)
        Vt = _vcov_rows(design, X * w[:, None], ok)
        R_, C_, T_ = T[K:K + nr], T[K + nr:K + nr + nc], T[-1]
        rr = np.tile(np.arange(nr), nc)
        cc = np.repeat(np.arange(nc), nr)
        J = np.hstack([np.eye(K), -(rr[:, None] == np.arange(nr)).astype(float) * (C_[cc] / T_)[:, None],
                       -(cc[:, None] == np.arange(nc)).astype(float) * (R_[rr] / T_)[:, None],
                       (R_[rr] * C_[cc] / T_ ** 2)[:, None]])
        Y = T[:K] - R_[rr] * C_[cc] / T_
        V = J @ Vt @ J.T
        use = (rr > 0) & (cc > 0)
        stat = float(Y[use] @ np.linalg.solve(V[np.ix_(use, use)], Y[use]))
        ndf = float((nr - 1) * (nc - 1))
        if statistic == "Wald":
            stat, ddf = stat / ndf, nu
        else:
            ddf = nu - ndf + 1
            stat = stat * ddf / (ndf * nu)
        p = float(stats.f.sf(stat, ndf, ddf))
        return ChisqTest(stat, ndf, ddf, p, "Design-based Wald test of association" +
                         (" (Fellegi adjustment)" if statistic == "adjWald" else ""),
                         pearson, np.full(int(ndf), np.nan), table, int(ok.sum()))
    W = float(w[ok].sum())
    p_k = (ind[ok] * w[ok, None]).sum(axis=0) / W
    Z = np.where(ok[:, None], w[:, None] * (ind - p_k) / W, 0.0)
    V = _vcov_rows(design, Z, ok)
    # interaction contrasts orthogonal to the main effects (R: qr.resid(qr(X1), X12[, interactions]))
    rr = np.tile(np.arange(nr), nc)
    cc = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(K)] + [(rr == i).astype(float) for i in range(1, nr)]
                         + [(cc == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((rr == i) & (cc == j)).astype(float) for j in range(1, nc) for i in range(1, nr)])
    Cm = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    iD = np.where(p_k == 0, 0.0, 1.0 / np.where(p_k == 0, 1.0, p_k))
    denom = Cm.T @ (iD[:, None] / N * Cm)
    numr = (Cm * iD[:, None]).T @ V @ (Cm * iD[:, None])
    Delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(Delta))
    eig = np.sort(np.real(np.linalg.eigvals(Delta)))[::-1]
    if statistic == "F":
        d0 = tr ** 2 / float(np.trace(Delta @ Delta))
        stat = pearson / tr
        p = float(stats.f.sf(stat, d0, d0 * nu))
        return ChisqTest(stat, d0, d0 * nu, p, "Pearson's X^2: Rao & Scott adjustment (F)", pearson, eig,
                         table, int(ok.sum()))
    k = Delta.shape[0]
    p = float(stats.chi2.sf(pearson / (tr / k), k))
    return ChisqTest(pearson, float(k), np.nan, p, "Pearson's X^2: Rao & Scott adjustment (chi-square)",
                     pearson, eig, table, int(ok.sum()))


def svyttest(design, y: str, group: str | None = None, *, mu: float = 0.0, subset=None,
             level: float = 0.95) -> TTest:
    """Design-based t-test of a mean, or of the difference of two groups' means (R: ``svyttest``).

    Parameters
    ----------
    design : SurveyDesign.
    y : the numeric outcome column.
    group : a binary column (two categories, or numbers 0/1 or 1/2): tests the difference
        of the second group's mean minus the first's (sorted). None: a one-sample test of
        ``mean(y) = mu``.
    mu : the null value of the one-sample test (R tests 0: use ``y - mu``).
    subset : the domain (boolean rows or a query string; R's ``subset(design, ...)``).
    level : confidence level of the interval.

    Returns
    -------
    TTest: ``estimate, se, statistic, df, p, ci_low, ci_high, method, n, groups``.

    Notes
    -----
    R counterpart: ``svyttest(y ~ group, design)`` (the coefficient of ``group`` in
    ``svyglm(y ~ group, design)``, on its residual df) and ``svyttest(y ~ 0, design)``
    (``svymean`` over its SE on ``degf(design) - 1`` df). Lumley (2010) sec. 5.2.
    """
    from helpers.stats.survey.regression import SurveyGLM, _subset_rows

    design = design._in_memory([y] + ([group] if group else []))
    if y not in design.data.columns:
        raise KeyError(f"outcome {y!r} is not in the design's data")
    q = "`" + y.replace("`", "") + "`"
    if group is None:
        fit = SurveyGLM(f"{q} ~ 1").fit(design, subset=subset)
        sub = _rows(design, subset)
        df = design._degf(sub) - 1
        est = float(fit.coef.iloc[0]) - mu
        se = float(np.sqrt(fit.vcov.iloc[0, 0]))
        method, groups = "Design-based one-sample t-test", ()
    else:
        if group not in design.data.columns:
            raise KeyError(f"group column {group!r} is not in the design's data")
        g = design.data[group]
        rows = _rows(design, subset) & g.notna().to_numpy() & design.data[y].notna().to_numpy()
        levels = sorted(pd.unique(g[rows]))
        numeric = pd.api.types.is_numeric_dtype(g) and g.dtype != bool
        if len(levels) != 2 or (numeric and not (set(levels) <= {0, 1} or set(levels) <= {1, 2})):
            raise ValueError(f"group {group!r} must be binary (two categories, or 0/1 or 1/2); "
                             f"found {levels[:5]}{'...' if len(levels) > 5 else ''} in the rows of the test")
        fit = SurveyGLM(f"{q} ~ `{group}`").fit(design, subset=subset)
        if fit.coef.size != 2:
            raise ValueError(f"group {group!r} must be binary")
        df = fit.df_residual
        est = float(fit.coef.iloc[1])
        se = float(np.sqrt(fit.vcov.iloc[1, 1]))
        method, groups = "Design-based t-test", tuple(levels)
    t = est / se if se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), df)) if df > 0 and se > 0 else np.nan
    qt = float(t_quantile(level, df))
    return TTest(est, se, t, float(df), p, est - qt * se, est + qt * se, level, method, fit.nobs, groups)
