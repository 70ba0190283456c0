"""Design-based quantiles with confidence intervals, as R's ``svyquantile`` (survey >= 4.1).

:func:`quantile` works on a Taylor :class:`~helpers.stats.survey.design.SurveyDesign`, a
:class:`~helpers.stats.survey.replicates.ReplicateDesign` and a calibrated design
(:mod:`helpers.stats.survey.calibration`), overall or by domain (R's ``svyby(~x, ~g,
design, svyquantile, ...)``), and returns one row per domain, variable and probability:
the ``by`` columns, ``variable, prob, estimate, se, ci_low, ci_high, df, n``.

Supported (all compared with R in the tests)
--------------------------------------------
* ``qrule``: ``"math"`` (R's default: the smallest x whose weighted cumulative share
  reaches p), ``"school"`` (the midpoint when p falls exactly on a step), ``"shahvaish"``
  (Shah and Vaish), and ``"hf1"`` ... ``"hf9"`` (weighted versions of Hyndman and Fan's
  nine sample-quantile definitions, as R's survey defines them: with equal weights they
  give R's ``quantile(type=k)``, except ``"hf3"``, which survey defines differently).
* ``interval_type``: ``"mean"`` (R's default: Woodruff's interval, a Wald interval for
  the mean of ``x <= q`` mapped back through the quantile function), ``"beta"``
  (Korn-Graubard beta interval for that proportion), ``"xlogit"`` and ``"asin"`` (Wald on
  the logit or arcsine-square-root scale), ``"score"`` (Taylor designs: inverting the
  design-based score test, Francisco and Fuller), ``"quantile"`` (replicate designs: the
  replicate variance of the quantile itself).

R 4.1 has no ``interval.type="mixed"``, ``"Wald"`` or ``"betaWald"`` any more; the last two
belonged to the pre-4.1 function (now ``oldsvyquantile``) and correspond to ``"mean"`` and
``"beta"`` here. Confidence intervals use the t quantile on the domain's design df
(``ci_df="design"``, R's default ``df=degf(design)``) or ``numpy.inf`` (normal).

Floating-point details follow R so that quantiles that fall exactly on a step of the
weighted distribution are decided as R decides them: cumulative sums of weights are
accumulated in extended precision (R's ``cumsum``/``sum``), interpolation is R's
``approx``, and the score interval's root finding is Brent's ``zeroin`` with R's steps.

References
----------
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, chapter 2.4. Wiley.
Woodruff, R. S. (1952) Confidence intervals for medians and other position measures.
*JASA* 47, 635-646.
Francisco, C. A. and Fuller, W. A. (1991) Quantile estimation with a complex survey
design. *Annals of Statistics* 19, 454-469.
Korn, E. L. and Graubard, B. I. (1998) Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. *Survey Methodology* 24, 193-201.
Hyndman, R. J. and Fan, Y. (1996) Sample quantiles in statistical packages. *The
American Statistician* 50, 361-365.
Shah, B. V. and Vaish, A. K. (2006) Confidence intervals for quantile estimation from
complex survey data. *Proceedings of the Section on Survey Research Methods*, ASA.
Brent, R. (1973) *Algorithms for Minimization without Derivatives*, chapter 4. Prentice-Hall.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.survey.design import _as_list

__all__ = ["quantile", "weighted_quantile", "QRULES", "INTERVAL_TYPES"]

#: Quantile rules (R's ``qrule=``).
QRULES: tuple[str, ...] = ("math", "school", "shahvaish") + tuple(f"hf{i}" for i in range(1, 10))
#: Interval types (R's ``interval.type=``); ``score`` for Taylor designs, ``quantile`` for replicate ones.
INTERVAL_TYPES: tuple[str, ...] = ("mean", "beta", "xlogit", "asin", "score", "quantile")

_LD = np.longdouble


# ---------------------------------------------------------------------------------- R arithmetic
def _rsum(x: np.ndarray) -> float:
    """R's sum(): accumulated in order in extended precision, rounded once."""
    return float(np.cumsum(x.astype(_LD))[-1]) if len(x) else 0.0


def _rcumsum(x: np.ndarray) -> np.ndarray:
    """R's cumsum(): accumulated in extended precision, each value rounded to double."""
    return np.cumsum(x.astype(_LD)).astype(float)


def _rmean(x: np.ndarray) -> float:
    """R's mean(): extended-precision sum over n, then one refinement pass."""
    xl = x.astype(_LD)
    s = np.cumsum(xl)[-1] / len(x)
    t = np.cumsum(xl - s)[-1]
    return float(s + t / len(x))


def _approx(xs: np.ndarray, ys: np.ndarray, v: float, constant: bool) -> float:
    """R's approx(xs, ys, v, rule=2, method="linear" or "constant", f=0, ties=mean).

    As R, the points are first ordered by ``xs`` and tied ``xs`` collapsed to the mean
    of their ``ys`` (``regularize.values``)."""
    o = np.argsort(xs, kind="stable")
    xs, ys = xs[o], ys[o]
    if len(xs) > 1 and (np.diff(xs) == 0).any():
        ux, inv = np.unique(xs, return_inverse=True)
        ys = np.bincount(inv, weights=ys) / np.bincount(inv)
        xs = ux
    n = len(xs)
    if n == 1:
        return float(ys[0])
    if v < xs[0]:
        return float(ys[0])
    if v > xs[-1]:
        return float(ys[-1])
    i, j = 0, n - 1
    while i < j - 1:
        ij = (i + j) // 2
        if v < xs[ij]:
            j = ij
        else:
            i = ij
    if v == xs[j]:
        return float(ys[j])
    if v == xs[i]:
        return float(ys[i])
    if constant:
        return float(ys[i])
    return float(ys[i] + (ys[j] - ys[i]) * ((v - xs[i]) / (xs[j] - xs[i])))


def _r_iqr(x: np.ndarray) -> float:
    """R's IQR(x): type-7 quartiles with R's interpolation formula."""
    xs = np.sort(x)
    n = len(xs)
    out = []
    for p in (0.25, 0.75):
        index = 1 + max(n - 1, 0) * p
        lo, hi = int(np.floor(index)), int(np.ceil(index))
        q = xs[lo - 1]
        h = index - lo
        if index > lo and xs[hi - 1] != q:
            q = (1 - h) * q + h * xs[hi - 1]
        out.append(q)
    return float(out[1] - out[0])


def _zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """Brent's zeroin as R's uniroot() runs it (R_zeroin2): same steps, same root."""
    eps = np.finfo(float).eps
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise RuntimeError("root finding for the score interval did not converge")


# ---------------------------------------------------------------------------------- quantile rules
def _qs(x, w, p):
    ii = np.argsort(x, kind="stable")
    xs = x[ii]
    cumw = _rcumsum(w[ii])
    tot = _rsum(w)
    hit = np.flatnonzero(cumw <= p * tot)
    pos = int(hit[-1]) if len(hit) else 0          # R's survey:::last(): 1 (first) when none
    nxt = pos if pos == len(xs) - 1 else pos + 1
    return dict(qlow=xs[pos], qup=xs[nxt], ilow=pos + 1, wlow=p - cumw[pos] / tot, wup=cumw[nxt] / tot - p)


def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float, qrule: str = "math") -> float:
    """One weighted quantile by one of R's rules (``survey:::qrule_math`` etc.).

    Parameters
    ----------
    x : array of values (no missing values).
    w : array of weights (rows with weight 0 are ignored).
    p : probability in [0, 1].
    qrule : one of :data:`QRULES`.

    Returns
    -------
    float

    Notes
    -----
    R counterpart: ``survey:::qrule_<name>(x, w, p)``. References: Hyndman and Fan (1996);
    Shah and Vaish (2006); Lumley (2010).
    """
    if qrule not in QRULES:
        raise ValueError(f"qrule must be one of {QRULES}, got {qrule!r}")
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    nz = w != 0
    if not nz.all():
        x, w = x[nz], w[nz]
    if len(x) == 0:
        return np.nan
    if qrule in ("math", "hf1"):
        q = _qs(x, w, p)
        return float(q["qlow"] if q["wlow"] == 0 else q["qup"])
    if qrule in ("school", "hf2"):
        q = _qs(x, w, p)
        return float((q["qlow"] + q["qup"]) / 2 if q["wlow"] == 0 else q["qup"])
    if qrule == "hf3":
        ux, inv = np.unique(x, return_inverse=True)
        uw = np.bincount(inv, weights=w)
        q = _qs(ux, uw, p)
        return float(q["qlow"] if (q["wlow"] == 0 and q["ilow"] % 2 == 0) else q["qup"])
    if qrule == "hf4":
        q = _qs(x, w, p)
        gamma = q["wlow"] / (q["wup"] + q["wlow"])
        return float(q["qlow"] * (1 - gamma) + q["qup"] * gamma)
    n = len(x)
    ii = np.argsort(x, kind="stable")
    xs, ws = x[ii], w[ii]
    cumw = _rcumsum(ws)
    if qrule == "shahvaish":
        wbar = ws / _rmean(ws)
        S = _rcumsum(wbar)
        pk = (S + 0.5 - ws / 2) / (n + 1)
        return _approx(pk, xs, p, constant=True)
    if qrule == "hf5":
        pk = (cumw - ws / 2) / cumw[-1]
    elif qrule == "hf6":
        pk = cumw / (cumw[-1] + ws[-1])
    elif qrule == "hf7":
        pk = np.r_[0.0, cumw[:-1]] / cumw[-2] if n > 1 else np.array([0.0])
    elif qrule == "hf8":
        pk = (np.r_[0.0, cumw[:-1]] * (1 / 3) + cumw * (2 / 3)) / (cumw[-1] + ws[-1] / 3)
    else:  # hf9
        pk = (np.r_[0.0, cumw[:-1]] * (3 / 8) + cumw * (5 / 8)) / (cumw[-1] + ws[-1] / 4)
    return _approx(pk, xs, p, constant=False)


# ---------------------------------------------------------------------------------- design adapters
class _Subset:
    """The rows of one domain with the item present, and how to get design-based means there."""

    def __init__(self, design, mask: np.ndarray):
        self.design = design
        self.mask = mask
        self.rows = np.flatnonzero(mask)

    def weights(self) -> np.ndarray:
        return self.design._w[self.rows]

    def mean_se(self, y_rows: np.ndarray) -> tuple[float, float]:
        """Design-based mean and SE of ``y`` over the subset (a domain of the whole design)."""
        d = self.design
        y = np.full(len(d._w), np.nan)
        y[self.rows] = y_rows
        if hasattr(d, "_vector_mean_se"):
            return d._vector_mean_se(y)
        _, parts = d._mean_total({"v": y}, [], "mean", 0.95, "design")
        return float(parts[0]["estimate"][0]), float(parts[0]["se"][0])

    def df(self) -> float:
        d = self.design
        if hasattr(d, "_mask_df"):
            return d._mask_df(self.mask)
        inset = self.mask & (d._w != 0)
        psus = np.unique(d._psu[inset])
        strata = np.unique(d._psu_stratum[psus])
        return float(len(psus) - len(strata))

    def nrow(self) -> int:
        d = self.design
        if hasattr(d, "_subset_nrow"):
            return d._subset_nrow(self.mask)
        return len(self.rows)


def _data(design) -> pd.DataFrame:
    if getattr(design, "_duck", None) is not None:
        raise TypeError("quantiles need the microdata in memory: build the design with engine='pandas'")
    return design.data


# ---------------------------------------------------------------------------------- public
def quantile(design, variables: str | Sequence[str], quantiles: float | Sequence[float] = 0.5,
             by: str | Sequence[str] | None = None, *, qrule: str = "math", interval_type: str = "mean",
             level: float = 0.95, ci_df: str | float = "design") -> pd.DataFrame:
    """Design-based quantiles with confidence intervals (R: ``svyquantile``, survey >= 4.1).

    Parameters
    ----------
    design : SurveyDesign, ReplicateDesign or CalibratedDesign
        In-memory design.
    variables : str or list of str
        Numeric column(s); missing values are dropped (R's ``na.rm=TRUE``).
    quantiles : float or list of float
        Probabilities in [0, 1].
    by : str or list of str, optional
        Domain column(s) (R's ``svyby(..., svyquantile, ...)``).
    qrule : str
        One of :data:`QRULES` (R's ``qrule=``; default ``"math"``).
    interval_type : str
        ``"mean"`` (default), ``"beta"``, ``"xlogit"``, ``"asin"``; ``"score"`` (Taylor and
        calibrated designs); ``"quantile"`` (replicate designs).
    level : float
        Confidence level (R's ``alpha = 1 - level``).
    ci_df : ``"design"`` or number
        Degrees of freedom of the t quantile: the domain's design df (R's default
        ``df=degf(design)``), or a number (``numpy.inf``: normal).

    Returns
    -------
    pandas.DataFrame
        One row per domain, variable and probability: the ``by`` columns, ``variable,
        prob, estimate, se, ci_low, ci_high, df, n`` (``df``: the domain's design degrees
        of freedom, whatever ``ci_df`` is; ``n``: respondents with the item and a non-zero
        weight in the domain). ``se`` is R's: the interval's width
        over twice the critical value. An interval end is NaN where R's is (the
        probability interval leaves [0, 1]).

    Notes
    -----
    R counterpart: ``svyquantile(~x, design, quantiles, alpha=1-level, interval.type=,
    qrule=, na.rm=TRUE, ci=TRUE)``, in ``svyby`` for domains. See the module docstring
    for what each rule and interval is. References: Lumley (2010), chapter 2.4; Woodruff
    (1952); Francisco and Fuller (1991); Hyndman and Fan (1996).
    """
    from helpers.stats.survey.replicates import ReplicateDesign

    if qrule not in QRULES:
        raise ValueError(f"qrule must be one of {QRULES}, got {qrule!r}")
    if interval_type not in INTERVAL_TYPES:
        raise ValueError(f"interval_type must be one of {INTERVAL_TYPES}, got {interval_type!r}")
    is_rep = isinstance(design, ReplicateDesign)
    if interval_type == "score" and is_rep:
        raise ValueError("interval_type='score' is for Taylor designs; replicate designs offer 'quantile'")
    if interval_type == "quantile" and not is_rep:
        raise ValueError("interval_type='quantile' needs a replicate design (as_replicate_design)")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    probs = [float(quantiles)] if np.isscalar(quantiles) else [float(q) for q in quantiles]
    if any(not 0 <= p <= 1 for p in probs):
        raise ValueError(f"quantiles must lie in [0, 1], got {probs}")
    data = _data(design)
    names = _as_list(variables)
    if not names:
        raise ValueError("give at least one variable")
    by = _as_list(by)
    if is_rep:
        dom, lab = design._domains(by)
    else:
        dom, lab = _domain_codes(design, by)
    if isinstance(ci_df, str) and ci_df != "design":
        raise ValueError("ci_df must be 'design' or a number")
    alpha = 1 - level
    rows = []
    for d in range(len(lab)):
        indom = dom == d
        key = {c: lab[c].iloc[d] for c in by}
        for v in names:
            if v not in data.columns:
                raise KeyError(f"columns not in the data: {[v]}")
            x_all = data[v].to_numpy(dtype=float, na_value=np.nan)
            mask = indom & ~np.isnan(x_all)
            sub = _Subset(design, mask)
            x = x_all[sub.rows]
            w = sub.weights()
            n = int(((w != 0)).sum())
            design_df = sub.df()
            ddf = design_df if isinstance(ci_df, str) else float(ci_df)
            for p in probs:
                est = weighted_quantile(x, w, p, qrule)
                lo, hi = _interval(design, sub, x, w, est, p, qrule, interval_type, alpha, ddf, is_rep)
                crit = _crit(1 - alpha / 2, ddf)
                se = (hi - lo) / (2 * crit)
                rows.append({**key, "variable": v, "prob": p, "estimate": est, "se": se, "ci_low": lo,
                             "ci_high": hi, "df": design_df, "n": n})
    out = pd.DataFrame(rows, columns=by + ["variable", "prob", "estimate", "se", "ci_low", "ci_high", "df", "n"])
    out["n"] = out["n"].astype(np.int64)
    return out


def _domain_codes(design, by):
    if hasattr(design, "_domains"):
        return design._domains(by)
    raise TypeError(f"unsupported design {type(design).__name__}")


def _crit(a: float, df: float) -> float:
    return float(stats.norm.ppf(a)) if np.isinf(df) else float(stats.t.ppf(a, df))


def _interval(design, sub, x, w, qhat, p, qrule, itype, alpha, df, is_rep):
    if itype == "quantile":
        reps = np.empty(design.n_replicates)
        for r in range(design.n_replicates):
            reps[r] = weighted_quantile(x, design.analysis_weights(r)[sub.rows], p, qrule)
        from helpers.stats.survey.replicates import replicate_vcov
        v = replicate_vcov(reps, design.scale, design.rscales, mse=design.mse, coef=np.array([qhat]))
        half = np.sqrt(v) * _crit(1 - alpha / 2, df)
        return qhat - half, qhat + half
    if itype == "score":
        return _score_interval(sub, x, w, p, qrule, alpha, df)
    m, se = (np.float64(v) for v in sub.mean_se((x <= qhat).astype(float)))
    qa = _crit(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if itype == "mean":
            plo, phi = m - qa * se, m + qa * se
        elif itype == "xlogit":
            eta, se_eta = np.log(m / (1 - m)), se / (m * (1 - m))
            plo, phi = 1 - 1 / (1 + np.exp(eta - qa * se_eta)), 1 - 1 / (1 + np.exp(eta + qa * se_eta))
        elif itype == "asin":
            eta, se_eta = np.arcsin(np.sqrt(m)), se / (2 * np.sqrt(m * (1 - m)))
            plo, phi = np.sin(eta - qa * se_eta) ** 2, np.sin(eta + qa * se_eta) ** 2
        else:  # beta (Korn-Graubard): effective sample size with the df adjustment
            n_eff = m * (1 - m) / se ** 2
            n_eff = n_eff * (stats.t.ppf(alpha / 2, sub.nrow() - 1) / stats.t.ppf(alpha / 2, sub.df())) ** 2
            plo = stats.beta.ppf(alpha / 2, n_eff * m, n_eff * (1 - m) + 1)
            phi = stats.beta.ppf(1 - alpha / 2, n_eff * m + 1, n_eff * (1 - m))
    lo = np.nan if (np.isnan(plo) or plo < 0) else weighted_quantile(x, w, float(plo), qrule)
    hi = np.nan if (np.isnan(phi) or phi > 1) else weighted_quantile(x, w, float(phi), qrule)
    return lo, hi


def _score_interval(sub, x, w, p, qrule, alpha, df):
    """Francisco-Fuller interval: invert the design-based score test of H0: q_p = theta."""
    def z(theta, limit):
        u = (x > theta).astype(float) - (1 - p)
        m, se = sub.mean_se(u)
        return m / se - limit

    iqr = _r_iqr(x)
    lower, upper = float(x.min() + iqr / 100), float(x.max() - iqr / 100)
    tol = 1 / (100 * np.sqrt(sub.nrow()))
    out = []
    for limit in (_crit(1 - alpha / 2, df), -_crit(1 - alpha / 2, df)):
        fl, fu = z(lower, limit), z(upper, limit)
        if np.isnan(fl) or np.isnan(fu):
            raise ValueError("score interval: the score test is undefined at the ends of the data range")
        if np.sign(fl) * np.sign(fu) > 0:
            raise ValueError("score interval: the score test does not change sign over the data range "
                             "(too few distinct values in the domain?)")
        root = _zeroin(lambda t: z(t, limit), lower, upper, fl, fu, tol)
        out.append(weighted_quantile(x, w, float(np.mean(x <= root)), qrule))
    return out[0], out[1]
