"""Calibration of survey weights to population totals, as R's ``survey`` does it.

* :func:`post_stratify` - R's ``postStratify``: weights scaled so that each cell of one
  (possibly crossed) classification adds up to its population count.
* :func:`rake` - R's ``rake``: iterative post-stratification to several margins (iterative
  proportional fitting), with R's stopping rule.
* :func:`calibrate` - R's ``calibrate``: generalised regression calibration (Deville and
  Sarndal) to margins and numeric totals, with the ``"linear"`` (GREG; optionally bounded),
  ``"raking"`` (multiplicative, optionally bounded) and ``"logit"`` (bounded) distances,
  solved by R's Newton iteration (``grake``), with optional trimming of the g-weights.
* :func:`trim_weights` - R's ``trimWeights``: weights outside ``[lower, upper]`` set to the
  bound and the trimmed amount shared among the others; the amount is reported.

Each takes a :class:`~helpers.stats.survey.design.SurveyDesign` (or a design already
calibrated) and returns a :class:`CalibratedDesign`, whose estimators (``mean``,
``total``, ``ratio``, ``proportion``, ``quantile``, by domain) use the calibrated weights
and the calibrated variance: the Taylor variance of the residuals of each influence
variable from the calibration model (R: the ``postStrata`` of a design, applied in
``svyrecvar``), which is smaller than the uncalibrated variance when the calibration
variables predict the outcome. A :class:`~helpers.stats.survey.replicates.ReplicateDesign`
is calibrated replicate by replicate (each replicate's weights to the same totals), as R
does, and stays a replicate design.

Population margins
------------------
A margin is a table of population counts: a :class:`pandas.DataFrame` whose columns are
the classifying column(s) of the survey data plus exactly one column of counts (as R's
``population`` data frames: the column that is not a survey column holds the counts), or
a :class:`pandas.Series` indexed by the category (a MultiIndex for crossed
classifications) and named/indexed by the survey column name(s). Numeric totals (for
``calibrate``) are a mapping ``{column: population total}``.

Errors a user can act on
------------------------
:class:`CalibrationError` (one line, naming the variable and category): a category of
the sample that the margin lacks, a category of the margin absent from the sample,
missing values in a calibration variable, margins that disagree on the population size,
and a calibration that cannot meet its totals (no convergence, or bounds that cannot be
met), with the total that is furthest off.

References
----------
Deville, J.-C. and Sarndal, C.-E. (1992) Calibration estimators in survey sampling.
*JASA* 87, 376-382.
Deville, J.-C., Sarndal, C.-E. and Sautory, O. (1993) Generalized raking procedures in
survey sampling. *JASA* 88, 1013-1020.
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, chapter 7. Wiley.
Lumley, T., Shaw, P. A. and Dai, J. Y. (2011) Connections between survey calibration
estimators and semiparametric models for incomplete data. *Int. Stat. Review* 79, 200-220.
Wolter, K. (2007) *Introduction to Variance Estimation*, 2nd ed. Springer.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from helpers.stats.survey.design import SurveyDesign, _Cells, _as_list, _expit, _pick, _quantile
from helpers.stats.survey.replicates import ReplicateDesign

__all__ = ["CalibratedDesign", "CalibrationError", "post_stratify", "rake", "calibrate", "trim_weights",
           "CALFUNS"]

#: Calibration distances (R's ``calfun=``).
CALFUNS: tuple[str, ...] = ("linear", "raking", "logit")


class CalibrationError(ValueError):
    """Calibration cannot be done as asked: the message names the variable and category."""


# ---------------------------------------------------------------------------------- margins
@dataclass
class _Margin:
    """One population margin: classifying columns, their categories, population counts."""

    columns: list[str]
    cells: pd.DataFrame          # one row per category (combination), in sorted order
    totals: np.ndarray           # population count per cell

    def label(self, i: int) -> str:
        return ", ".join(f"{c}={self.cells[c].iloc[i]!r}" for c in self.columns)

    @property
    def name(self) -> str:
        return " x ".join(self.columns)


def _as_margin(spec, data: pd.DataFrame) -> _Margin:
    if isinstance(spec, pd.Series):
        names = [n for n in spec.index.names]
        if names == [None]:
            if spec.name in data.columns:
                names = [spec.name]
            else:
                raise CalibrationError("a margin given as a Series needs its index named by the survey column "
                                       "(e.g. s.rename_axis('sex'))")
        df = spec.rename("__count").reset_index()
        df.columns = names + ["__count"]
        cols, count = names, "__count"
    elif isinstance(spec, pd.DataFrame):
        cols = [c for c in spec.columns if c in data.columns]
        rest = [c for c in spec.columns if c not in data.columns]
        if len(rest) != 1 or not cols:
            raise CalibrationError(
                f"a margin table needs the classifying survey column(s) and exactly one column of population counts; "
                f"got survey columns {cols} and other columns {rest}")
        df, count = spec, rest[0]
    elif isinstance(spec, Mapping) and len(spec) == 1:
        (var, tab), = spec.items()
        s = pd.Series(tab, dtype=float)
        s.index.name = var
        return _as_margin(s, data)
    else:
        raise CalibrationError(f"cannot read a population margin from {type(spec).__name__}: give a DataFrame "
                               "(categories + one count column) or a Series indexed by the categories")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise CalibrationError(f"margin columns not in the survey data: {missing}")
    counts = pd.to_numeric(df[count], errors="coerce").to_numpy(dtype=float)
    if np.isnan(counts).any():
        i = int(np.flatnonzero(np.isnan(counts))[0])
        raise CalibrationError(f"margin {' x '.join(cols)}: population count missing for "
                               + ", ".join(f"{c}={df[c].iloc[i]!r}" for c in cols))
    if (counts < 0).any():
        raise CalibrationError(f"margin {' x '.join(cols)}: negative population counts")
    cells = df[cols].reset_index(drop=True)
    dup = cells.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise CalibrationError(f"margin {' x '.join(cols)}: category "
                               + ", ".join(f"{c}={cells[c].iloc[i]!r}" for c in cols) + " is listed twice")
    order = cells.astype(str).agg("\x1f".join, axis=1).argsort(kind="stable").to_numpy() if len(cols) else None
    return _Margin(cols, cells.iloc[order].reset_index(drop=True), counts[order])


def _key(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One comparable label per row for the combination of ``cols`` (values compared as text)."""
    parts = [frame[c].map(_txt) for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + "\x1f" + p
    return out


def _txt(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _cell_codes(data: pd.DataFrame, m: _Margin, rows_weight: np.ndarray, partial: bool = False
                ) -> tuple[np.ndarray, _Margin]:
    """Row -> cell index of the margin; checks categories both ways (names variable and category)."""
    for c in m.columns:
        na = data[c].isna().to_numpy()
        if na.any():
            raise CalibrationError(f"calibration variable {c!r} has {int(na.sum())} missing values among the "
                                   "respondents; impute or drop them before calibrating")
    rk = _key(data, m.columns).to_numpy()
    mk = _key(m.cells, m.columns).to_numpy()
    lut = {k: i for i, k in enumerate(mk)}
    codes = np.array([lut.get(k, -1) for k in rk], dtype=np.int64)
    bad = (codes < 0) & (rows_weight != 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        lab = ", ".join(f"{c}={data[c].iloc[i]!r}" for c in m.columns)
        raise CalibrationError(f"margin {m.name}: the sample has {lab} ({int(bad.sum())} respondents) but the "
                               "margin has no such category; add it to the margin or recode the survey column")
    present = np.bincount(codes[codes >= 0], weights=rows_weight[codes >= 0], minlength=len(mk)) > 0
    zero = present & (m.totals == 0)
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        raise CalibrationError(f"margin {m.name}: category {m.label(i)} has population 0 but respondents in the "
                               "sample; correct the margin or recode the survey column")
    absent = ~present & (m.totals > 0)
    if absent.any():
        if not partial:
            i = int(np.flatnonzero(absent)[0])
            raise CalibrationError(f"margin {m.name}: category {m.label(i)} (population {m.totals[i]:g}) is absent "
                                   "from the sample; merge it with a neighbouring category"
                                   + (" or use partial=True to ignore it" if partial is not None else ""))
        keep = present | (m.totals == 0)
        newidx = np.cumsum(keep) - 1
        codes = np.where(codes >= 0, np.where(keep[np.maximum(codes, 0)], newidx[np.maximum(codes, 0)], -1), -1)
        m = _Margin(m.columns, m.cells[keep].reset_index(drop=True), m.totals[keep])
    return codes, m


# ---------------------------------------------------------------------------------- variance steps
class _GregStep:
    """R's greg_calibration (stage 0): x -> qr.resid(qr(X sqrt(d)), x / w) * w, w = g sqrt(d).

    The least-squares residuals are computed from the (column-equilibrated) normal
    equations of the sparse calibration matrix with one step of iterative refinement,
    which keeps R's precision without a dense QR of an n x p matrix (p can be hundreds
    of cells); a pseudo-inverse drops collinear columns as R's pivoted QR does."""

    def __init__(self, X, d: np.ndarray, g: np.ndarray):
        X = sparse.csc_matrix(X)
        sd = np.sqrt(d)
        A = sparse.diags(sd) @ X
        norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=0))).ravel()
        scale = 1.0 / np.where(norms > 0, norms, 1.0)
        self.A = (A @ sparse.diags(scale)).tocsc()
        self.G = (self.A.T @ self.A).toarray()
        self.w = g * sd

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            V = Z / self.w[:, None]
        V = np.where(np.isfinite(V), V, 0.0)
        A = self.A
        r = V - A @ _solve_psd(self.G, A.T @ V)
        r = r - A @ _solve_psd(self.G, A.T @ r)   # one step of iterative refinement
        return r * self.w[:, None]


class _PostStratStep:
    """R's postStratify term in svyrecvar: x - psw * (sum oldw x/psw / sum oldw) per cell."""

    def __init__(self, codes: np.ndarray, psw: np.ndarray, oldw: np.ndarray):
        self.codes = codes
        self.C = int(codes.max()) + 1 if len(codes) else 0
        psw = psw.copy()
        psw[(psw == 0) & (oldw == 0)] = 1.0
        self.psw = psw
        self.oldw = oldw
        self.den = np.bincount(codes, weights=oldw, minlength=self.C)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        out = np.empty_like(Z)
        f = self.oldw / self.psw
        for k in range(Z.shape[1]):
            m = np.bincount(self.codes, weights=Z[:, k] * f, minlength=self.C) / self.den
            out[:, k] = Z[:, k] - m[self.codes] * self.psw
        return out


class _RakeStep:
    """R's raking term in svyrecvar: ten sweeps of x - psw_m * ave(x / psw_m, margin_m)."""

    def __init__(self, margins: list[tuple[np.ndarray, np.ndarray]]):
        self.margins = []
        for codes, psw in margins:
            C = int(codes.max()) + 1
            self.margins.append((codes, psw, C, np.bincount(codes, minlength=C).astype(float)))

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        Z = Z.copy()
        for _ in range(10):
            for codes, psw, C, cnt in self.margins:
                for k in range(Z.shape[1]):
                    v = Z[:, k] / psw
                    avg = np.bincount(codes, weights=v, minlength=C) / cnt
                    Z[:, k] = Z[:, k] - psw * avg[codes]
        return Z


# ---------------------------------------------------------------------------------- the design
class CalibratedDesign:
    """A Taylor survey design with calibrated weights and the calibrated variance.

    Not built directly: :func:`post_stratify`, :func:`rake`, :func:`calibrate` and
    :func:`trim_weights` return it. Estimators use the calibrated weights; variances are
    the base design's Taylor variances of the influence values after each calibration
    step has replaced them by their residuals from the calibration model (R's
    ``svyrecvar`` with the design's ``postStrata``).

    Attributes
    ----------
    base : SurveyDesign
        The design before calibration (strata, PSUs, fpc, lonely-PSU rule).
    data : pandas.DataFrame
        The microdata (the base design's).
    weights : numpy.ndarray
        Calibrated weights (one per row).
    g : numpy.ndarray
        Calibrated over original design weights.
    history : list of dict
        What was done, step by step (method, margins, iterations, trimming).
    trimming : pandas.DataFrame or None
        Set by :func:`trim_weights` (or ``calibrate(trim=)``): how many weights were trimmed
        and by how much (see :func:`trim_weights`).
    """

    def __init__(self, base: SurveyDesign, weights: np.ndarray, steps: list, history: list[dict],
                 trimming: pd.DataFrame | None = None):
        self.base = base
        self.data = base.data
        self.weight = base.weight
        self._w = np.asarray(weights, dtype=float)
        self._steps = list(steps)
        self.history = list(history)
        self.trimming = trimming
        self.lonely_psu = base.lonely_psu

    # ------------------------------------------------------------------ basics
    @property
    def weights(self) -> np.ndarray:
        """Calibrated weights."""
        return self._w.copy()

    @property
    def g(self) -> np.ndarray:
        """Calibrated weights over the base design's weights (g-weights)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._w / self.base._w

    def __len__(self) -> int:
        return len(self._w)

    def __repr__(self) -> str:
        steps = " + ".join(h["method"] for h in self.history)
        return f"CalibratedDesign({steps}; n={len(self)}, sum of weights={self._w.sum():.6g}; base={self.base!r})"

    def _domains(self, by: list[str]):
        return self.base._domains(by)

    # ------------------------------------------------------------------ variance engine
    def residualise(self, Z: np.ndarray) -> np.ndarray:
        """Residuals of influence values from the calibration model(s) (R: ``svyrecvar``'s postStrata).

        Parameters
        ----------
        Z : array (n,) or (n, k)
            Row-level influence values of k statistics (e.g. ``w (y - mean)/sum(w)`` for a
            mean, 0 outside the domain), computed with the calibrated weights.

        Returns
        -------
        numpy.ndarray (n, k)
            Their residuals; the design variance of their column totals is the calibrated
            variance. This is the hook for other estimators (a regression's estimating
            functions) on a calibrated design.
        """
        Z = np.asarray(Z, dtype=float)
        Z = Z[:, None] if Z.ndim == 1 else Z.copy()
        for step in self._steps:
            Z = step(Z)
        return Z

    def variance_of_totals(self, Z: np.ndarray) -> np.ndarray:
        """Calibrated Taylor variances of the totals of k influence variables.

        Parameters
        ----------
        Z : array (n, k)
            Row-level influence values (before calibration residuals).

        Returns
        -------
        numpy.ndarray (k,)
            Variances (strata, PSUs, fpc, second stage and lonely-PSU rule of the base design;
            every stratum takes part, as in R, where a domain of a calibrated design keeps
            all rows).
        """
        R = self.residualise(Z)
        return self._variance_rows(R)

    def _variance_rows(self, R: np.ndarray) -> np.ndarray:
        b = self.base
        K = R.shape[1]
        unit = b._ssu if b._ssu is not None else b._psu
        U = int(unit.max()) + 1
        S = sparse.csr_matrix((np.ones(len(unit)), (unit, np.arange(len(unit)))), shape=(U, len(unit)))
        T = np.asarray(S @ R)                                   # (U, K) unit totals
        dom = np.repeat(np.arange(K), U)
        if b._ssu is not None:
            ssu = np.tile(np.arange(U), K)
            psu = b._ssu_psu[ssu]
        else:
            ssu = None
            psu = np.tile(np.arange(U), K)
        cells = _Cells(dom, psu, ssu, np.ones(len(dom)), {}, pd.DataFrame(index=range(K)))
        return b._variance(cells, T.T.ravel(), np.ones(len(dom), dtype=bool))

    def _domain_df(self, dom: np.ndarray, D: int) -> np.ndarray:
        b = self.base
        ok = (dom >= 0) & (self._w != 0)
        P = len(b._psu_stratum)
        H = len(b._nh)
        pp = np.bincount(dom[ok] * P + b._psu[ok], minlength=D * P).reshape(D, P) > 0
        npsu = pp.sum(axis=1)
        nstr = np.array([len(np.unique(b._psu_stratum[np.flatnonzero(pp[d])])) for d in range(D)])
        return (npsu - nstr).astype(float)

    # hooks for helpers.stats.survey.quantiles
    def _mask_df(self, mask: np.ndarray) -> float:
        return float(self._domain_df(np.where(mask, 0, -1), 1)[0])

    def _subset_nrow(self, mask: np.ndarray) -> int:
        return len(self._w)   # R: a subset of a calibrated design keeps every row (weight 0 outside)

    def _vector_mean_se(self, y: np.ndarray) -> tuple[float, float]:
        m = ~np.isnan(y)
        w = np.where(m, self._w, 0.0)
        W = w.sum()
        mean = np.sum(w * np.where(m, y, 0.0)) / W
        z = w * (np.where(m, y, 0.0) - mean) / W
        return float(mean), float(np.sqrt(self.variance_of_totals(z[:, None])[0]))

    # ------------------------------------------------------------------ estimators
    def _values(self, col: str) -> np.ndarray:
        return self.base._values(col)

    def _moments(self, items: dict[str, np.ndarray], by, kind: str, level: float, ci_df):
        by = _as_list(by)
        dom, lab = self._domains(by)
        D = len(lab)
        ok = dom >= 0
        di = np.where(ok, dom, 0)
        ddf = self._domain_df(dom, D)
        w = self._w
        parts, Zs, meta = [], [], []
        for name, y in items.items():
            m = ~np.isnan(y) & ok
            y0 = np.where(m, y, 0.0)
            wm = np.where(m, w, 0.0)
            n = np.bincount(di, weights=(m & (w != 0)).astype(float), minlength=D)
            W = np.bincount(di, weights=wm, minlength=D)
            Y = np.bincount(di, weights=wm * y0, minlength=D)
            YY = np.bincount(di, weights=wm * y0 * y0, minlength=D)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = Y / W
                Z = np.zeros((len(w), D))
                rows = np.flatnonzero(m)
                if kind == "mean":
                    Z[rows, di[rows]] = wm[rows] * (y0[rows] - mean[di[rows]]) / W[di[rows]]
                else:
                    Z[rows, di[rows]] = wm[rows] * y0[rows]
            Zs.append(Z)
            meta.append((name, n, W, Y, YY, mean))
        var = self.variance_of_totals(np.hstack(Zs)).reshape(len(items), D)
        for (name, n, W, Y, YY, mean), v in zip(meta, var):
            with np.errstate(divide="ignore", invalid="ignore"):
                est = mean if kind == "mean" else Y
                s2 = n / (n - 1) * (YY - Y * mean) / W
                vsrs = s2 * (W - n) / (W * n)
                if kind == "total":
                    vsrs = vsrs * W ** 2
                deff = np.where((W < n) | (n < 2), np.nan, v / vsrs)
            se = np.sqrt(v)
            q = _quantile(level, ddf, ci_df)
            parts.append(dict(variable=name, estimate=est, se=se, ci_low=est - q * se, ci_high=est + q * se,
                              df=ddf, deff=deff, n=n))
        return lab, parts

    def mean(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
             level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Calibrated means (R: ``svyby(~y, ~by, calibrated_design, svymean, na.rm=TRUE, deff=TRUE)``).

        Parameters
        ----------
        variables : str or list of str
            Numeric columns (missing values dropped per variable).
        by : str or list of str, optional
            Domain columns.
        level : float
            Confidence level.
        ci_df : ``"design"`` or number
            t quantile on the domain's design df (default) or on this many df
            (``numpy.inf``: normal, R's ``confint`` default).
        df : alias of ``ci_df``.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df, deff, n``: the
            calibrated estimate, its calibrated SE (residuals of the calibration model),
            the domain's design df, R's deff with the calibrated weights, and the
            respondents with the item and a non-zero weight.
        """
        from helpers.stats.survey.replicates import _frame
        items = {v: self._values(v) for v in _as_list(variables)}
        lab, parts = self._moments(items, by, "mean", level, _pick(ci_df, df))
        return _frame(lab, parts)

    def total(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Calibrated totals (R: ``svytotal`` on a calibrated design).

        Parameters
        ----------
        variables, by, level, ci_df, df : as :meth:`mean`.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df, deff, n``; the
            estimate is the calibrated weighted total.
        """
        from helpers.stats.survey.replicates import _frame
        items = {v: self._values(v) for v in _as_list(variables)}
        lab, parts = self._moments(items, by, "total", level, _pick(ci_df, df))
        return _frame(lab, parts)

    def ratio(self, numerator: str, denominator: str, by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Ratio of calibrated totals (R: ``svyratio`` on a calibrated design).

        Parameters
        ----------
        numerator, denominator : str
            Numeric columns; rows where either is missing are dropped.
        by, level, ci_df, df : as :meth:`mean`.

        Returns
        -------
        pandas.DataFrame
            As :meth:`mean`, with ``variable`` = ``"numerator/denominator"``.
        """
        from helpers.stats.survey.replicates import _frame
        ci_df = _pick(ci_df, df)
        by = _as_list(by)
        dom, lab = self._domains(by)
        D = len(lab)
        ok = dom >= 0
        di = np.where(ok, dom, 0)
        y, x = self._values(numerator), self._values(denominator)
        m = ~(np.isnan(y) | np.isnan(x)) & ok
        w = np.where(m, self._w, 0.0)
        y0, x0 = np.where(m, y, 0.0), np.where(m, x, 0.0)

        def tot(v):
            return np.bincount(di, weights=v, minlength=D)

        n = tot((m & (self._w != 0)).astype(float))
        W, Y, X = tot(w), tot(w * y0), tot(w * x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = Y / X
            Z = np.zeros((len(w), D))
            rows = np.flatnonzero(m)
            Z[rows, di[rows]] = w[rows] * (y0[rows] - r[di[rows]] * x0[rows]) / X[di[rows]]
            var = self.variance_of_totals(Z)
            swr = (Y - r * X) / X
            swrr = (tot(w * y0 * y0) - 2 * r * tot(w * x0 * y0) + r ** 2 * tot(w * x0 * x0)) / X ** 2
            rbar = swr / W
            s2 = n / (n - 1) * (swrr - 2 * rbar * swr + rbar ** 2 * W) / W
            vsrs = s2 * W ** 2 * (W - n) / (W * n)
            deff = np.where((W < n) | (n < 2), np.nan, var / vsrs)
        se = np.sqrt(var)
        ddf = self._domain_df(dom, D)
        q = _quantile(level, ddf, ci_df)
        part = dict(variable=f"{numerator}/{denominator}", estimate=r, se=se, ci_low=r - q * se, ci_high=r + q * se,
                    df=ddf, deff=deff, n=n)
        return _frame(lab, [part])

    def proportion(self, variable: str, level=None, by: str | Sequence[str] | None = None, *,
                   method: str = "logit", conf_level: float = 0.95, ci_df: str | float = "design",
                   levels: Sequence | None = None, df: str | float | None = None) -> pd.DataFrame:
        """Calibrated share in a category with its interval (R: ``svyciprop`` on a calibrated design).

        Parameters
        ----------
        variable : str
            Column (compared with ``==``).
        level : category or list of categories, optional
            None: every category (or ``levels``).
        by : domain column(s).
        method : ``"logit"`` (R's default: interval of logit p on the design df) or ``"mean"``.
        conf_level, ci_df, levels, df : as :meth:`SurveyDesign.proportion
            <helpers.stats.survey.design.SurveyDesign.proportion>`.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, level, estimate, se, ci_low, ci_high, df, deff, n``.
        """
        from helpers.stats.survey.replicates import _frame
        if method not in ("logit", "mean"):
            raise ValueError("method must be 'logit' or 'mean'")
        ci_df = _pick(ci_df, df)
        s = self.data[variable]
        if level is None and levels is None:
            levels = sorted(pd.unique(s.dropna()))
            if all(isinstance(v, (float, np.floating)) and float(v).is_integer() for v in levels):
                levels = [int(v) for v in levels]
        groups = [level] if level is not None else list(levels)
        items, labels = {}, []
        for i, g in enumerate(groups):
            gl = list(g) if isinstance(g, (list, tuple, set)) else [g]
            labels.append(g if not isinstance(g, (list, tuple, set)) else "|".join(str(v) for v in gl))
            ind = s.isin(gl).to_numpy(dtype=float)
            ind[s.isna().to_numpy()] = np.nan
            items[f"__l{i}"] = ind
        lab, parts = self._moments(items, by, "mean", conf_level, ci_df)
        for p, lv in zip(parts, labels):
            p["variable"], p["level"] = variable, lv
            if method == "logit":
                q = _quantile(conf_level, p["df"], ci_df)
                est, se = p["estimate"], p["se"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    eta, se_eta = np.log(est / (1 - est)), se / (est * (1 - est))
                    p["ci_low"], p["ci_high"] = _expit(eta - q * se_eta), _expit(eta + q * se_eta)
        out = _frame(lab, parts)
        cols = list(out.columns)
        cols.remove("level")
        cols.insert(cols.index("variable") + 1, "level")
        return out[cols]

    def quantile(self, variables: str | Sequence[str], quantiles: float | Sequence[float] = 0.5,
                 by: str | Sequence[str] | None = None, **kwargs) -> pd.DataFrame:
        """Quantiles on the calibrated design (R: ``svyquantile``).

        Parameters
        ----------
        variables, quantiles, by : as :func:`helpers.stats.survey.quantiles.quantile`.
        **kwargs : ``qrule``, ``interval_type`` (not ``"score"``: on a calibrated design R
            evaluates it over every row of the design, including other domains), ``level``,
            ``ci_df``.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, prob, estimate, se, ci_low, ci_high, df, n``.
        """
        from helpers.stats.survey.quantiles import quantile
        if kwargs.get("interval_type") == "score":
            raise ValueError("interval_type='score' is not supported on calibrated designs; use 'mean' or 'beta'")
        return quantile(self, variables, quantiles, by=by, **kwargs)


# ---------------------------------------------------------------------------------- helpers
def _split(design) -> tuple[SurveyDesign, np.ndarray, list, list[dict]]:
    if isinstance(design, CalibratedDesign):
        return design.base, design._w.copy(), list(design._steps), list(design.history)
    if isinstance(design, SurveyDesign):
        if getattr(design, "_duck", None) is not None:
            raise TypeError("calibration needs the microdata in memory: build the design with engine='pandas'")
        return design, design._w.copy(), [], []
    raise TypeError(f"cannot calibrate a {type(design).__name__}")


def _poststrat_weights(w: np.ndarray, codes: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """w scaled so each cell sums to its population count (R: reweight = Pop.Freq / Freq)."""
    C = len(totals)
    freq = np.bincount(codes, weights=w, minlength=C)
    with np.errstate(divide="ignore", invalid="ignore"):
        reweight = totals / freq
    return w * reweight[codes]


def _trimmed(w: np.ndarray, lower: float, upper: float) -> tuple[np.ndarray, dict]:
    outside = (w < lower) | (w > upper)
    new = np.clip(w, lower, upper)
    trimmings = w - new
    n_in = int((~outside).sum())
    share = trimmings.sum() / n_in if n_in else np.nan
    new[~outside] += share
    info = dict(n_above=int((w > upper).sum()), n_below=int((w < lower).sum()),
                weight_removed_above=float(trimmings[w > upper].sum()),
                weight_added_below=float(-trimmings[w < lower].sum()),
                redistributed_per_unit=float(share), n_redistributed=n_in,
                max_before=float(w.max()), max_after=float(new.max()),
                min_before=float(w.min()), min_after=float(new.min()))
    return new, info


# ---------------------------------------------------------------------------------- public API
def post_stratify(design, strata: str | Sequence[str], population: pd.DataFrame | pd.Series, *,
                  partial: bool = False):
    """Post-stratify the weights to population cell counts (R: ``postStratify``).

    Parameters
    ----------
    design : SurveyDesign, CalibratedDesign or ReplicateDesign
    strata : str or list of str
        The post-stratifying column(s) (their combination forms the cells).
    population : DataFrame or Series
        Population counts per cell (see the module notes on margins).
    partial : bool
        Ignore population cells absent from the sample (R's ``partial=TRUE``) instead of
        raising :class:`CalibrationError`.

    Returns
    -------
    CalibratedDesign (ReplicateDesign for a replicate design)
        Each cell's weights scaled by population count / weighted sample count; the
        variance uses the residuals from the cell means.

    Notes
    -----
    R counterpart: ``postStratify(design, ~strata, population, partial=)``.
    References: Lumley (2010), chapter 7.2; Deville and Sarndal (1992).
    """
    cols = _as_list(strata)
    m = _as_margin(population, design.data)
    if sorted(m.columns) != sorted(cols):
        raise CalibrationError(f"the population table classifies by {m.columns}, not by the strata {cols}")
    if isinstance(design, ReplicateDesign):
        return _rep_poststrat(design, m, partial)
    base, w, steps, hist = _split(design)
    codes, m = _cell_codes(base.data, m, w, partial=partial)
    if (codes < 0).any():
        raise CalibrationError(f"margin {m.name}: some respondents fall in no cell")
    new = _poststrat_weights(w, codes, m.totals)
    steps.append(_PostStratStep(codes, new, w))
    hist.append(dict(method="post_stratify", margins=[m.name], cells=len(m.totals)))
    return CalibratedDesign(base, new, steps, hist)


def rake(design, margins: Sequence[pd.DataFrame | pd.Series], *, maxit: int = 10, epsilon: float = 1.0,
         force: bool = False):
    """Rake the weights to several population margins (R: ``rake``, iterative proportional fitting).

    Parameters
    ----------
    design : SurveyDesign, CalibratedDesign or ReplicateDesign
    margins : list of DataFrame or Series
        One population table per margin (a margin may cross several columns).
    maxit : int
        Maximum sweeps over the margins (R's ``control$maxit``, default 10).
    epsilon : float
        Stop when no cell of the cross-classification of all margin columns changes by
        ``epsilon`` or more between sweeps (R's ``control$epsilon``: absolute, in
        population units, default 1; a value below 1 is a fraction of the sum of weights).
    force : bool
        Return the design even if the sweeps did not converge (R warns and returns it);
        by default that raises :class:`CalibrationError`.

    Returns
    -------
    CalibratedDesign (ReplicateDesign for a replicate design)

    Notes
    -----
    R counterpart: ``rake(design, list(~a, ~b), list(pop_a, pop_b), control=list(maxit=,
    epsilon=))``; the variance is R's (ten sweeps of residuals from each margin's means).
    References: Deming and Stephan (1940); Lumley (2010), chapter 7.3.
    """
    if not margins:
        raise CalibrationError("give at least one margin")
    ms = [_as_margin(s, design.data) for s in margins]
    for m in ms:  # categories first: the most specific message
        _cell_codes(design.data, m, design._w)
    _same_population(ms)
    if isinstance(design, ReplicateDesign):
        return _rep_rake(design, ms, maxit, epsilon, force)
    base, w, steps, hist = _split(design)
    coded = []
    for m in ms:
        codes, m2 = _cell_codes(base.data, m, w)
        coded.append((codes, m2))
    eps = epsilon * w.sum() if epsilon < 1 else epsilon
    allcols = []
    for m in ms:
        allcols += [c for c in m.columns if c not in allcols]
    jcode, _ = _joint_codes(base.data, allcols)
    J = int(jcode.max()) + 1
    old = np.bincount(jcode, weights=w, minlength=J)
    it, converged, delta = 0, False, np.inf
    psws = []
    while it < maxit:
        psws = []
        for codes, m in coded:
            w = _poststrat_weights(w, codes, m.totals)
            psws.append((codes, w.copy()))
        new = np.bincount(jcode, weights=w, minlength=J)
        delta = float(np.max(np.abs(old - new)))
        if delta < eps:
            converged = True
            break
        old = new
        it += 1
    if not converged:
        msg = (f"raking to {', '.join(m.name for m in ms)} did not converge in {maxit} sweeps: a cell still changed "
               f"by {delta:.4g} (epsilon {eps:g}); raise maxit, or check that the margins agree on the population")
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=2)
    steps.append(_RakeStep(psws))
    hist.append(dict(method="rake", margins=[m.name for m in ms], sweeps=it + (1 if converged else 0),
                     converged=converged))
    return CalibratedDesign(base, w, steps, hist)


def _same_population(ms: list[_Margin]) -> None:
    """Margins of one population add up to the same size (raking to others cannot meet them all)."""
    for m in ms[1:]:
        if not np.isclose(m.totals.sum(), ms[0].totals.sum(), rtol=1e-9, atol=0):
            raise CalibrationError(f"margins disagree on the population size: {ms[0].name} sums to "
                                   f"{ms[0].totals.sum():.10g}, {m.name} to {m.totals.sum():.10g}; calibrate to "
                                   "margins of the same population")


def _joint_codes(data: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, pd.Series]:
    key = _key(data, cols)
    codes, uniq = pd.factorize(key, sort=True)
    return codes.astype(np.int64), uniq


def _model_matrix(data: pd.DataFrame, w: np.ndarray, margins: list[_Margin], totals: Mapping[str, float] | None,
                  population_size: float | None):
    """Calibration matrix X (sparse) and the population totals of its columns.

    The columns are those of R's ``model.matrix(~ a*b + a*c)`` for margins over (a, b) and
    (a, c): an intercept and, for every interaction term of the margins' columns (each
    term once, however many margins contain it), indicators of its non-reference
    categories (treatment contrasts; the first category in sorted order is the
    reference); then the numeric columns. That is a basis of the margins' cell indicators
    without the collinearity that listing every cell of every margin would bring. A
    term's population totals must agree between the margins that contain it."""
    from itertools import combinations, product

    n = len(data)
    codes_by_margin = []
    for m in margins:
        codes, m2 = _cell_codes(data, m, w)
        if len(m2.totals) != len(m.totals) or (codes < 0).any():
            raise CalibrationError(f"margin {m.name}: every respondent must fall in one of its categories")
        codes_by_margin.append(codes)
    N = None
    if margins:
        N, first = float(margins[0].totals.sum()), margins[0].name
        for m in margins[1:]:
            if not np.isclose(m.totals.sum(), N, rtol=1e-9, atol=0):
                raise CalibrationError(f"margins disagree on the population size: {first} sums to {N:.10g}, "
                                       f"{m.name} to {m.totals.sum():.10g}; calibrate to margins of the same "
                                       "population")
    # categories of each variable (text keys, sorted) and the rows' keys
    variables: list[str] = []
    for m in margins:
        variables += [c for c in m.columns if c not in variables]
    levels: dict[str, list[str]] = {}
    shown: dict[tuple[str, str], object] = {}
    for v in variables:
        keys = set()
        for m in margins:
            if v in m.columns:
                for val in m.cells[v]:
                    keys.add(_txt(val))
                    shown.setdefault((v, _txt(val)), val)
        levels[v] = sorted(keys)
    rowkey = {v: data[v].map(_txt).to_numpy() for v in variables}
    cellkey = [{v: m.cells[v].map(_txt).to_numpy() for v in m.columns} for m in margins]
    terms: list[tuple[str, ...]] = []
    for m in margins:
        for k in range(1, len(m.columns) + 1):
            for t in combinations(m.columns, k):
                if not any(set(t) == set(u) for u in terms):
                    terms.append(t)
    terms.sort(key=len)
    cols, pop, names = [], [], []
    for t in terms:
        owners = [j for j, m in enumerate(margins) if set(t) <= set(m.columns)]
        for combo in product(*[levels[v][1:] for v in t]):
            rows = np.ones(n, dtype=bool)
            for v, lv in zip(t, combo):
                rows &= rowkey[v] == lv
            tots = []
            for j in owners:
                sel = np.ones(len(margins[j].totals), dtype=bool)
                for v, lv in zip(t, combo):
                    sel &= cellkey[j][v] == lv
                tots.append(float(margins[j].totals[sel].sum()))
            label = ", ".join(f"{v}={shown[(v, lv)]!r}" for v, lv in zip(t, combo))
            for j, tt in zip(owners[1:], tots[1:]):
                if not np.isclose(tt, tots[0], rtol=1e-9, atol=1e-9):
                    raise CalibrationError(f"margins disagree on the population of {label}: {margins[owners[0]].name} "
                                           f"says {tots[0]:.10g}, {margins[j].name} says {tt:.10g}")
            if not rows.any() and tots[0] == 0:
                continue  # an empty category of the population (R drops such columns)
            cols.append(np.flatnonzero(rows))
            pop.append(tots[0])
            names.append(label)
    ind = None
    if cols:
        r = np.concatenate(cols)
        c = np.repeat(np.arange(len(cols)), [len(x) for x in cols])
        ind = sparse.csc_matrix((np.ones(len(r)), (r, c)), shape=(n, len(cols)))
    blocks = [ind] if ind is not None else []
    for c, t in (totals or {}).items():
        if c not in data.columns:
            raise CalibrationError(f"total given for {c!r}, which is not a survey column")
        v = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
        if np.isnan(v).any():
            raise CalibrationError(f"calibration variable {c!r} has {int(np.isnan(v).sum())} missing or non-numeric "
                                   "values among the respondents")
        blocks.append(sparse.csc_matrix(v[:, None]))
        pop.append(float(t))
        names.append(c)
    if population_size is not None:
        if N is not None and not np.isclose(population_size, N, rtol=1e-9, atol=0):
            raise CalibrationError(f"population_size {population_size:.10g} disagrees with margin {first} "
                                   f"({N:.10g})")
        N = float(population_size)
    if N is not None:
        blocks.insert(0, sparse.csc_matrix(np.ones((n, 1))))
        pop.insert(0, N)
        names.insert(0, "(Intercept)")
    if not blocks:
        raise CalibrationError("nothing to calibrate to: give margins or totals")
    return sparse.hstack(blocks, format="csc"), np.asarray(pop), names


def _solve_psd(T: np.ndarray, b: np.ndarray) -> np.ndarray:
    """T^+ b for a symmetric positive semi-definite T (R's MASS::ginv(T) %*% b): Cholesky
    when T is well-conditioned positive definite, else the pseudo-inverse (tolerance 256
    eps, as R's ginv in grake)."""
    try:
        c = linalg.cho_factor(T, check_finite=False)
        d = np.abs(np.diag(c[0]))
        if d.min() > 1e-7 * d.max():
            x = linalg.cho_solve(c, b, check_finite=False)
            if np.isfinite(x).all():
                return x
    except linalg.LinAlgError:
        pass
    return np.linalg.pinv(T, rcond=256 * np.finfo(float).eps, hermitian=True) @ b


def _gram(X, v: np.ndarray) -> np.ndarray:
    """X' diag(v) X as a dense matrix (X sparse)."""
    return (X.T @ sparse.diags(v) @ X).toarray()


def _calfun(name: str):
    if name == "linear":
        def fm1(u, lo, hi):
            return np.minimum(np.maximum(u + 1, lo), hi) - 1

        def df(u, lo, hi):
            return ((u < hi - 1) & (u > lo - 1)).astype(float)
    elif name == "raking":
        def fm1(u, lo, hi):
            return np.minimum(np.maximum(np.exp(u), lo), hi) - 1

        def df(u, lo, hi):
            return np.where((u < hi - 1) & (u > lo - 1), np.exp(u), 0.0)
    elif name == "logit":
        def fm1(u, lo, hi):
            A = (hi - lo) / ((hi - 1) * (1 - lo))
            e = np.exp(A * u)
            return (lo * (hi - 1) + hi * (1 - lo) * e) / (hi - 1 + (1 - lo) * e) - 1

        def df(u, lo, hi):
            A = (hi - lo) / ((hi - 1) * (1 - lo))
            e = np.exp(A * u)
            return (hi * (1 - lo) * e * A / (hi - 1 + (1 - lo) * e)
                    - ((lo * (hi - 1) + hi * (1 - lo) * e) * ((1 - lo) * e * A)) / (hi - 1 + (1 - lo) * e) ** 2)
    else:
        raise ValueError(f"calfun must be one of {CALFUNS}, got {name!r}")
    return fm1, df


def _grake(X, w, calfun, lo, hi, pop, epsilon, maxit):
    """R's grake: Newton iterations for the calibration equations; returns g and the misfit info."""
    fm1, dF = _calfun(calfun)
    sample_total = X.T @ w
    eta = np.zeros(X.shape[1])
    xeta = X @ eta
    g = 1 + fm1(xeta, lo, hi)
    deriv = dF(xeta, lo, hi)
    it = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = pop / sample_total
    scale = None
    if np.min(scales) > 20:
        scale = float(np.mean(scales))
        w = w * scale
        sample_total = sample_total * scale
    failed = None
    misfit = None
    while True:
        T = _gram(X, w * deriv)
        misfit = pop - sample_total - X.T @ (w * fm1(xeta, lo, hi))
        deta = _solve_psd(T, misfit)
        eta = eta + deta
        with np.errstate(over="ignore", invalid="ignore"):
            xeta = X @ eta
            g = 1 + fm1(xeta, lo, hi)
            deriv = dF(xeta, lo, hi)
            while it < maxit and (not np.isfinite(g).all() or not np.isfinite(deriv).all()):
                it += 1
                deta = deta / 2
                eta = eta - deta
                xeta = X @ eta
                g = 1 + fm1(xeta, lo, hi)
                deriv = dF(xeta, lo, hi)
        misfit = pop - sample_total - X.T @ (w * fm1(xeta, lo, hi))
        rel = np.abs(misfit) / (1 + np.abs(pop))
        if (rel < epsilon).all():
            break
        it += 1
        if it > maxit:
            failed = rel
            break
    if scale is not None:
        g = g * scale
    return g, failed, it


def calibrate(design, margins: Sequence[pd.DataFrame | pd.Series] | None = None,
              totals: Mapping[str, float] | None = None, *, population_size: float | None = None,
              calfun: str = "linear", bounds: tuple[float, float] = (-np.inf, np.inf), bounds_const: bool = False,
              maxit: int = 50, epsilon: float = 1e-7, trim: tuple[float, float] | None = None, force: bool = False):
    """Calibrate the weights to population margins and totals (R: ``calibrate``).

    Finds weights ``w_i = d_i g_i`` as close as possible to the design weights ``d_i`` (in
    the chosen distance) whose weighted totals of the calibration variables equal the
    population totals.

    Parameters
    ----------
    design : SurveyDesign, CalibratedDesign or ReplicateDesign
    margins : list of DataFrame or Series, optional
        Population counts by category (a margin may cross several columns); together they
        also fix the population size (they must agree on it).
    totals : mapping, optional
        Population totals of numeric survey columns, e.g. ``{"api99": 3914069}``.
    population_size : float, optional
        The population size N, when no margin gives it (an intercept in the calibration).
    calfun : {"linear", "raking", "logit"}
        Distance (R's ``calfun``): linear (GREG; unbounded in one step), raking
        (multiplicative), logit (needs finite ``bounds``).
    bounds : (lower, upper)
        Bounds on g (R's ``bounds``); with ``bounds_const=True`` on the calibrated weights.
    bounds_const : bool
        R's ``bounds.const``.
    maxit, epsilon : int, float
        Newton iterations allowed and convergence tolerance on the relative misfit
        ``|misfit| / (1 + |total|)`` (R's defaults 50 and 1e-7).
    trim : (lower, upper), optional
        Trim the g-weights to this range and share the trimmed weight among the others
        (R's ``trim=``); reported in ``.trimming``. Applied for every ``calfun`` (R
        silently ignores ``trim=`` for unbounded linear calibration).
    force : bool
        Return the design even when the totals are not met (R's ``force=TRUE``); by default
        that raises :class:`CalibrationError` naming the total furthest off.

    Returns
    -------
    CalibratedDesign (ReplicateDesign for a replicate design)
        Weights ``d g``; the variance uses residuals from the weighted regression of each
        influence variable on the calibration variables (R's ``greg_calibration``).

    Notes
    -----
    R counterpart: ``calibrate(design, formula, population, calfun=, bounds=, bounds.const=,
    maxit=, epsilon=, trim=, force=)`` with the formula/population of R's list-of-margins
    form (``calibrate(design, list(~a, ~b), list(pop_a, pop_b))``) plus numeric terms. The
    calibration matrix has an intercept, indicators of every category but the first of each
    margin and the numeric columns; the calibrated weights do not depend on this choice.
    References: Deville and Sarndal (1992); Deville, Sarndal and Sautory (1993);
    Lumley (2010), chapter 7.
    """
    if calfun not in CALFUNS:
        raise ValueError(f"calfun must be one of {CALFUNS}, got {calfun!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if calfun == "logit" and not (np.isfinite(lo) and np.isfinite(hi)):
        raise CalibrationError("logit calibration needs finite bounds, e.g. bounds=(0.5, 2)")
    if lo >= hi:
        raise CalibrationError(f"bounds must satisfy lower < upper, got {bounds}")
    ms = [_as_margin(s, design.data) for s in (margins or [])]
    if isinstance(design, ReplicateDesign):
        if bounds_const:
            raise ValueError("bounds_const is not supported for replicate designs (R ignores it there)")
        return _rep_calibrate(design, ms, totals, population_size, calfun, lo, hi, bounds_const, maxit, epsilon,
                              trim, force)
    base, w, steps, hist = _split(design)
    X, pop, names = _model_matrix(base.data, w, ms, totals, population_size)
    if calfun == "linear" and not np.isfinite(lo) and not np.isfinite(hi):
        T = _gram(X, w)
        try:
            lam = np.linalg.solve(T, pop - X.T @ w)
        except np.linalg.LinAlgError as e:
            raise CalibrationError("the calibration variables are collinear in the sample (a category with no "
                                   "respondents, or a total given twice)") from e
        g = 1 + X @ lam
        failed, it = None, 1
    else:
        blo = lo / np.where(w > 0, w, 1.0) if bounds_const else lo
        bhi = hi / np.where(w > 0, w, 1.0) if bounds_const else hi
        g, failed, it = _grake(X, w, calfun, blo, bhi, pop, epsilon, maxit)
    trimming = None
    if trim is not None:
        tlo, thi = trim
        outside = (g < tlo) | (g > thi)
        if outside.any():
            gnew = np.clip(g, tlo, thi)
            trimmings = (g - gnew) * w
            gnew[~outside] += trimmings.sum() / w[~outside].sum()
            trimming = pd.DataFrame([dict(n_above=int((g > thi).sum()), n_below=int((g < tlo).sum()),
                                          weight_removed_above=float(trimmings[g > thi].sum()),
                                          weight_added_below=float(-trimmings[g < tlo].sum()),
                                          lower=tlo, upper=thi, on="g")])
            g = gnew
            failed = None
    if failed is not None:
        j = int(np.argmax(failed))
        msg = (f"calibration ({calfun}, bounds {bounds}) did not meet its totals in {maxit} iterations: "
               f"{names[j]} is off by {failed[j]:.3g} relative to its total {pop[j]:.6g}; "
               "widen the bounds, drop or merge small categories, or check the margins")
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=2)
    steps.append(_GregStep(X, w, g))
    hist.append(dict(method=f"calibrate({calfun})", margins=[m.name for m in ms] + list(totals or {}),
                     iterations=it, bounds=(lo, hi), converged=failed is None))
    return CalibratedDesign(base, w * g, steps, hist, trimming=trimming)


def trim_weights(design, upper: float = np.inf, lower: float = -np.inf, *, strict: bool = False):
    """Trim extreme weights and share the trimmed amount among the other units (R: ``trimWeights``).

    Weights above ``upper`` are set to ``upper`` and weights below ``lower`` to ``lower``;
    the net weight removed is added equally to every unit inside the bounds, so the sum of
    weights is kept. With ``strict=True`` this repeats until no weight lies outside (the
    sharing can push weights over a bound).

    Parameters
    ----------
    design : SurveyDesign, CalibratedDesign or ReplicateDesign
    upper, lower : float
        Bounds on the weights.
    strict : bool
        Repeat until every weight is within the bounds (R's ``strict=TRUE``).

    Returns
    -------
    CalibratedDesign (ReplicateDesign for a replicate design)
        With ``.trimming``: one row per pass, columns ``n_above, n_below,
        weight_removed_above, weight_added_below, redistributed_per_unit, n_redistributed,
        max_before, max_after, min_before, min_after``. A Taylor design keeps its
        calibration steps (the variance is not otherwise changed, as in R).

    Notes
    -----
    R counterpart: ``trimWeights(design, upper=, lower=, strict=)``. On a replicate design
    each replicate's weights are trimmed the same way. References: Lumley (2010),
    chapter 7; Potter (1990) A study of procedures to identify and trim extreme sampling
    weights, Proc. ASA Survey Research Methods Section, 225-230.
    """
    if lower >= upper:
        raise ValueError("lower must be below upper")
    if isinstance(design, ReplicateDesign):
        return _rep_trim(design, lower, upper)
    base, w, steps, hist = _split(design)
    rows = []
    while True:
        if not ((w < lower) | (w > upper)).any():
            break
        w, info = _trimmed(w, lower, upper)
        rows.append(info)
        if not strict:
            break
    trimming = pd.DataFrame(rows, columns=["n_above", "n_below", "weight_removed_above", "weight_added_below",
                                           "redistributed_per_unit", "n_redistributed", "max_before", "max_after",
                                           "min_before", "min_after"])
    hist.append(dict(method="trim_weights", lower=lower, upper=upper, passes=len(rows)))
    return CalibratedDesign(base, w, steps, hist, trimming=trimming)


# ---------------------------------------------------------------------------------- replicate designs
def _rep_arrays(design: ReplicateDesign) -> tuple[np.ndarray, np.ndarray]:
    return design._w.copy(), design.analysis_weights()


def _rep_new(design: ReplicateDesign, pw: np.ndarray, W: np.ndarray, what: str) -> ReplicateDesign:
    out = ReplicateDesign.__new__(ReplicateDesign)
    out._init(design.data, design.weight, pw, design.type, design.scale, design.rscales, design.rho, design.mse,
              design.repweight_columns, full=np.ascontiguousarray(W), origin=getattr(design, "_origin", None))
    out.history = list(getattr(design, "history", [])) + [dict(method=what)]
    return out


def _rep_poststrat(design: ReplicateDesign, m: _Margin, partial: bool) -> ReplicateDesign:
    pw, W = _rep_arrays(design)
    codes, m = _cell_codes(design.data, m, pw, partial=partial)
    newpw = _poststrat_weights(pw, codes, m.totals)
    C = len(m.totals)
    freq = np.asarray(sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                                        shape=(C, len(codes))) @ W)
    with np.errstate(divide="ignore", invalid="ignore"):
        W = W * (m.totals[:, None] / freq)[codes]
    return _rep_new(design, newpw, W, f"post_stratify({m.name})")


def _rep_rake(design, ms, maxit, epsilon, force):
    d = design
    pw0 = d._w
    allcols = []
    for m in ms:
        allcols += [c for c in m.columns if c not in allcols]
    jcode, _ = _joint_codes(d.data, allcols)
    J = int(jcode.max()) + 1
    eps = epsilon * pw0.sum() if epsilon < 1 else epsilon
    old = np.bincount(jcode, weights=pw0, minlength=J)
    it, converged, delta = 0, False, np.inf
    while it < maxit:
        for m in ms:
            d = _rep_poststrat(d, m, False)
        new = np.bincount(jcode, weights=d._w, minlength=J)
        delta = float(np.max(np.abs(old - new)))
        if delta < eps:
            converged = True
            break
        old = new
        it += 1
    if not converged:
        msg = (f"raking to {', '.join(m.name for m in ms)} did not converge in {maxit} sweeps (change {delta:.4g})")
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=2)
    return _rep_new(d, d._w, d._W, f"rake({', '.join(m.name for m in ms)})")


def _rep_calibrate(design, ms, totals, population_size, calfun, lo, hi, bounds_const, maxit, epsilon, trim, force):
    pw, W = _rep_arrays(design)
    X, pop, names = _model_matrix(design.data, pw, ms, totals, population_size)
    linear = calfun == "linear" and not np.isfinite(lo) and not np.isfinite(hi)

    def one(w):
        if linear:
            T = _gram(X, w)
            return 1 + X @ np.linalg.solve(T, pop - X.T @ w), None
        blo = lo / np.where(w > 0, w, 1.0) if bounds_const else lo
        bhi = hi / np.where(w > 0, w, 1.0) if bounds_const else hi
        g, failed, _ = _grake(X, w, calfun, blo, bhi, pop, epsilon, maxit)
        return g, failed

    def trimg(g, w):
        if trim is None:
            return g
        outside = (g < trim[0]) | (g > trim[1])
        if outside.any():
            gn = np.clip(g, trim[0], trim[1])
            gn[~outside] += ((g - gn) * w).sum() / w[~outside].sum()
            return gn
        return g

    g, failed = one(pw)
    g = trimg(g, pw)
    if failed is not None and trim is None:
        j = int(np.argmax(failed))
        msg = (f"calibration ({calfun}) did not meet its totals: {names[j]} is off by {failed[j]:.3g} "
               "relative to its total")
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=2)
    newW = np.empty_like(W)
    for r in range(W.shape[1]):
        gr, _ = one(W[:, r])
        newW[:, r] = W[:, r] * trimg(gr, W[:, r])
    return _rep_new(design, pw * g, newW, f"calibrate({calfun})")


def _rep_trim(design, lower, upper):
    pw, W = _rep_arrays(design)
    newpw = pw
    if ((pw < lower) | (pw > upper)).any():
        newpw, _ = _trimmed(pw, lower, upper)
    out = (W < lower) | (W > upper)
    if out.any():
        new = np.clip(W, lower, upper)
        trimmings = W - new
        inside = (~out).sum(axis=0)
        new = np.where(out, new, new + trimmings.sum(axis=0) / inside)
        W = new
    return _rep_new(design, newpw, W, "trim_weights")
