"""Comparing units fairly: funnel plots and rank intervals.

Funnel plots (Spiegelhalter 2005a) plot each unit's indicator against its
precision (sample size or 1/SE^2) with control limits around a target, so
that a small unit is not singled out for noise that its size makes likely.

* :func:`funnel_proportion` - proportions x/n. Unadjusted limits are *exact
  binomial* limits with Spiegelhalter's interpolation (2005a, appendix A.1.1):
  with ``r_p`` the smallest ``r`` such that ``F(r) >= p`` for
  ``R ~ Binomial(n, target)``, the limit is ``(r_p - alpha) / n`` with
  ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``.
* :func:`funnel_estimate` - survey (or any) estimates with standard errors:
  normal limits ``target +- z * se``.
* Both add **overdispersion-adjusted** limits in the manner of R's
  FunnelPlotR (Spiegelhalter 2005b; Mainey et al.): z-scores on a transformed
  scale - the *arcsine square-root* scale for proportions,
  ``y = asin(sqrt(x/n))``, ``s = 1 / (2 sqrt(n))`` (variance-stabilising, so
  ``s`` does not depend on the target) and the raw scale for estimates with
  SEs - are winsorised at the 10th/90th percentiles (numpy's default, R's
  type-7 quantiles), ``phi = mean(z_w^2)``, and if ``N phi > N - 1`` a
  DerSimonian-Laird between-unit variance
  ``tau2 = max(0, (N phi - (N - 1)) / (sum w - sum w^2 / sum w))``,
  ``w = 1/s^2``, is added: limits ``target +- z sqrt(s_i^2 + tau2)`` on the
  transformed scale, back-transformed with ``sin(.)^2`` for proportions.

:func:`rank_intervals` simulates ranks from each unit's sampling
distribution (normal with the estimate's SE, or a Beta posterior for
proportions) and reports the median rank and an interval of plausible ranks
(Goldstein & Spiegelhalter 1996; Marshall & Spiegelhalter 1998).

References
----------
Spiegelhalter DJ (2005a). Funnel plots for comparing institutional
performance. Statistics in Medicine 24:1185-1202.
Spiegelhalter DJ (2005b). Handling over-dispersion of performance
indicators. Quality and Safety in Health Care 14:347-351.
Mainey C et al. FunnelPlotR: Funnel Plots for Comparing Institutional
Performance (R package).
Goldstein H, Spiegelhalter DJ (1996). League tables and their limitations.
JRSS A 159:385-443.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "exact_binomial_limit", "winsorised_dispersion", "FunnelResult",
    "funnel_proportion", "funnel_estimate", "plot_funnel",
    "rank_intervals", "plot_rank_intervals",
]

DEFAULT_LEVELS: tuple[float, ...] = (0.95, 0.998)


def _style_colors() -> dict[str, str]:
    """Colours from :mod:`helpers.viz.style` when it exists, else matplotlib defaults."""
    colors = {"point": "C0", "outlier_high": "C3", "outlier_low": "C2", "limit": "0.3",
              "od_limit": "C1", "target": "0.2"}
    try:  # helpers.viz.style is the project's palette (written alongside this module)
        from helpers.viz import style

        q = style.QUALITATIVE
        colors.update(point=q[0], outlier_high=q[5], outlier_low=q[2], od_limit=q[1],
                      limit=style.REFERENCE_COLOR, target=style.REFERENCE_COLOR)
    except (ImportError, AttributeError, IndexError):
        pass
    return colors


# ----------------------------------------------------------------------------- limits
def exact_binomial_limit(n, target: float, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact binomial quantile of ``R/n``.

    ``R ~ Binomial(n, target)``; returns ``(r_p - alpha)/n`` where ``r_p`` is
    the smallest ``r`` with ``P(R <= r) >= p`` and
    ``alpha = (P(R <= r_p) - p) / (P(R <= r_p) - P(R <= r_p - 1))``
    (Spiegelhalter 2005a, appendix A.1.1). The result is clipped to [0, 1].
    Use ``p = (1 - level)/2`` for the lower and ``(1 + level)/2`` for the
    upper limit.
    """
    n = np.asarray(n, dtype=float)
    if not 0 < target < 1:
        raise ValueError(f"target must lie in (0, 1), got {target}")
    if np.any(n <= 0):
        raise ValueError("denominators must be positive")
    r = stats.binom.ppf(p, n, target)
    f_r = stats.binom.cdf(r, n, target)
    f_rm1 = stats.binom.cdf(r - 1, n, target)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(f_r > f_rm1, (f_r - p) / (f_r - f_rm1), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def winsorised_dispersion(z, s, trim: float = 0.1) -> tuple[float, float]:
    """Overdispersion factor ``phi`` and DerSimonian-Laird ``tau2`` from z-scores.

    ``z`` are unadjusted z-scores and ``s`` the within-unit SEs on the same
    (transformed) scale. The z-scores are winsorised at the ``trim`` and
    ``1 - trim`` quantiles, ``phi = mean(z_w^2)``; ``tau2 = 0`` unless
    ``N phi > N - 1``, else ``(N phi - (N - 1)) / (sum w - sum w^2 / sum w)``
    with ``w = 1/s^2`` (Spiegelhalter 2005b; FunnelPlotR).
    """
    z = np.asarray(z, dtype=float)
    s = np.asarray(s, dtype=float)
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[ok], s[ok]
    n = z.size
    if n < 2:
        raise ValueError("need at least two units to estimate overdispersion")
    lo, hi = np.quantile(z, [trim, 1 - trim])
    zw = np.clip(z, lo, hi)
    phi = float(np.mean(zw**2))
    if n * phi <= n - 1:
        return phi, 0.0
    w = 1.0 / s**2
    tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, float(tau2)


def _level_tag(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


@dataclass
class FunnelResult:
    """Result of a funnel analysis.

    ``table`` has one row per unit: ``unit``, ``n`` (or precision), ``value``,
    ``z`` (unadjusted) and ``z_od`` (overdispersion-adjusted), and for each
    level (tag ``95``, ``99_8``) ``lower_<tag>``, ``upper_<tag>``,
    ``lower_od_<tag>``, ``upper_od_<tag>`` and ``flag_<tag>`` /
    ``flag_od_<tag>`` equal to ``"high"``, ``"low"`` or ``""``.
    ``limits(x)`` evaluates the limit curves on a grid for plotting.
    """

    table: pd.DataFrame
    target: float
    phi: float
    tau2: float
    levels: tuple[float, ...]
    kind: str  # "proportion" or "estimate"
    scale: float = 1.0
    _curve: object = field(default=None, repr=False)

    def limits(self, x) -> pd.DataFrame:
        """Limit curves at precision values ``x`` (n for proportions, 1/se^2 for estimates)."""
        return self._curve(np.asarray(x, dtype=float))  # type: ignore[misc]

    def outliers(self, level: float = 0.998, adjusted: bool = True) -> pd.DataFrame:
        """Rows of :attr:`table` outside the limits at ``level``."""
        col = f"flag_{'od_' if adjusted else ''}{_level_tag(level)}"
        if col not in self.table:
            raise ValueError(f"level {level} not computed; levels are {self.levels}")
        return self.table[self.table[col] != ""]

    def plot(self, ax=None, **kw):
        return plot_funnel(self, ax=ax, **kw)


def _flags(value, lower, upper) -> np.ndarray:
    return np.where(value > upper, "high", np.where(value < lower, "low", ""))


def _attach_limits(out: pd.DataFrame, lim: pd.DataFrame, values: np.ndarray, levels) -> None:
    """Copy the unadjusted and overdispersion-adjusted limits of each level into ``out`` and flag
    ``values`` above ("high") or below ("low") them (in place: ``out`` is the function's own frame)."""
    for lev in levels:
        tag = _level_tag(lev)
        for kind in ("", "od_"):
            lo = lim[f"lower_{kind}{tag}"].to_numpy()
            hi = lim[f"upper_{kind}{tag}"].to_numpy()
            out[f"lower_{kind}{tag}"], out[f"upper_{kind}{tag}"] = lo, hi
            out[f"flag_{kind}{tag}"] = _flags(values, lo, hi)


def funnel_proportion(data: pd.DataFrame, numerator: str, denominator: str, unit: str,
                      target: float | None = None, levels=DEFAULT_LEVELS, trim: float = 0.1,
                      scale: float = 1.0) -> FunnelResult:
    """Funnel plot limits for proportions ``numerator/denominator`` per unit.

    ``target`` defaults to the pooled proportion ``sum(x)/sum(n)``. Unadjusted
    limits are exact binomial (interpolated); overdispersion-adjusted limits
    use the arcsine-square-root scale with DerSimonian-Laird ``tau2`` after
    10 % winsorisation (see the module docstring). ``scale`` multiplies rates
    and limits in the table (e.g. 100 for percentages). Rows with a zero
    denominator are dropped (they carry no information).
    """
    for c in (numerator, denominator, unit):
        if c not in data.columns:
            raise KeyError(f"column {c!r} not in data")
    d = data.loc[data[denominator] > 0, [unit, numerator, denominator]].copy()
    x = d[numerator].to_numpy(float)
    n = d[denominator].to_numpy(float)
    if np.any(x > n) or np.any(x < 0):
        raise ValueError("numerators must lie between 0 and the denominator")
    if target is None:
        target = float(x.sum() / n.sum())
    p = x / n
    y = np.arcsin(np.sqrt(p))
    t_tr = np.arcsin(np.sqrt(target))
    s = 1.0 / (2.0 * np.sqrt(n))
    z = (y - t_tr) / s
    phi, tau2 = winsorised_dispersion(z, s, trim)
    out = pd.DataFrame({"unit": d[unit].to_numpy(), "n": n, "events": x, "value": p * scale,
                        "z": z, "z_od": (y - t_tr) / np.sqrt(s**2 + tau2)})

    def curve(nn: np.ndarray) -> pd.DataFrame:
        res = {"n": nn}
        ss = 1.0 / (2.0 * np.sqrt(nn))
        for lev in levels:
            tag = _level_tag(lev)
            res[f"lower_{tag}"] = exact_binomial_limit(nn, target, (1 - lev) / 2) * scale
            res[f"upper_{tag}"] = exact_binomial_limit(nn, target, (1 + lev) / 2) * scale
            zq = stats.norm.ppf((1 + lev) / 2)
            half = zq * np.sqrt(ss**2 + tau2)
            res[f"lower_od_{tag}"] = np.sin(np.clip(t_tr - half, 0, np.pi / 2)) ** 2 * scale
            res[f"upper_od_{tag}"] = np.sin(np.clip(t_tr + half, 0, np.pi / 2)) ** 2 * scale
        return pd.DataFrame(res)

    _attach_limits(out, curve(n), out["value"].to_numpy(), levels)
    return FunnelResult(out, target * scale, phi, tau2, tuple(levels), "proportion", scale, curve)


def funnel_estimate(data: pd.DataFrame, estimate: str, se: str, unit: str, target: float | None = None,
                    levels=DEFAULT_LEVELS, trim: float = 0.1) -> FunnelResult:
    """Funnel limits for estimates with standard errors (e.g. survey means).

    Limits ``target +- z se`` (normal); ``target`` defaults to the
    inverse-variance weighted mean. Overdispersion-adjusted limits add the
    DerSimonian-Laird ``tau2`` estimated from winsorised z-scores:
    ``target +- z sqrt(se^2 + tau2)``. The precision axis is ``1/se^2``
    (column ``n`` of the table).
    """
    for c in (estimate, se, unit):
        if c not in data.columns:
            raise KeyError(f"column {c!r} not in data")
    d = data[[unit, estimate, se]].dropna()
    d = d[d[se] > 0]
    y = d[estimate].to_numpy(float)
    s = d[se].to_numpy(float)
    w = 1.0 / s**2
    if target is None:
        target = float(np.sum(w * y) / w.sum())
    z = (y - target) / s
    phi, tau2 = winsorised_dispersion(z, s, trim)
    out = pd.DataFrame({"unit": d[unit].to_numpy(), "n": w, "se": s, "value": y, "z": z,
                        "z_od": (y - target) / np.sqrt(s**2 + tau2)})

    def curve(prec: np.ndarray) -> pd.DataFrame:
        ss = 1.0 / np.sqrt(prec)
        res = {"n": prec}
        for lev in levels:
            tag = _level_tag(lev)
            zq = stats.norm.ppf((1 + lev) / 2)
            res[f"lower_{tag}"] = target - zq * ss
            res[f"upper_{tag}"] = target + zq * ss
            res[f"lower_od_{tag}"] = target - zq * np.sqrt(ss**2 + tau2)
            res[f"upper_od_{tag}"] = target + zq * np.sqrt(ss**2 + tau2)
        return pd.DataFrame(res)

    _attach_limits(out, curve(w), y, levels)
    return FunnelResult(out, target, phi, tau2, tuple(levels), "estimate", 1.0, curve)


def plot_funnel(res: FunnelResult, ax=None, adjusted: bool = True, unadjusted: bool = True,
                label_level: float | None = None, max_labels: int = 15, xlabel: str | None = None,
                ylabel: str | None = None, title: str | None = None):
    """Draw a funnel plot: units, target, control limits, labelled outliers.

    Outliers are the units outside the (adjusted if ``adjusted`` else
    unadjusted) limits at ``label_level`` (default: the widest level); at most
    ``max_labels`` of them, the most extreme first, are labelled. Returns ``ax``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    col = _style_colors()
    t = res.table
    xmin, xmax = max(t["n"].min() * 0.8, 1e-12), t["n"].max() * 1.1
    if res.kind == "proportion":
        # exact binomial limits exist at whole denominators only: a fractional grid point
        # gives NaN and breaks the curves for small units
        lo_n = max(1, int(np.floor(xmin)))
        grid = (np.arange(lo_n, int(np.ceil(xmax)) + 1, dtype=float) if xmax < 3000
                else np.unique(np.round(np.geomspace(lo_n, xmax, 400))))
    else:
        grid = np.geomspace(xmin, xmax, 300)
    lim = res.limits(grid)
    styles = ["--", ":", "-."]
    ax.axhline(res.target, color=col["target"], lw=1, label="target")
    for i, lev in enumerate(res.levels):
        tag = _level_tag(lev)
        ls = styles[i % len(styles)]
        if unadjusted:
            ax.plot(grid, lim[f"lower_{tag}"], ls, color=col["limit"], lw=1, label=f"{lev:.1%} limits")
            ax.plot(grid, lim[f"upper_{tag}"], ls, color=col["limit"], lw=1)
        if adjusted and res.tau2 > 0:
            ax.plot(grid, lim[f"lower_od_{tag}"], ls, color=col["od_limit"], lw=1.2,
                    label=f"{lev:.1%} limits, overdispersion-adjusted")
            ax.plot(grid, lim[f"upper_od_{tag}"], ls, color=col["od_limit"], lw=1.2)
    level = label_level if label_level is not None else max(res.levels)
    flag = t[f"flag_{'od_' if adjusted and res.tau2 > 0 else ''}{_level_tag(level)}"]
    colors = np.where(flag == "high", col["outlier_high"], np.where(flag == "low", col["outlier_low"], col["point"]))
    ax.scatter(t["n"], t["value"], s=14, c=list(colors), alpha=0.8, zorder=3)
    out = t[flag != ""].assign(_abs=lambda f: f["z_od"].abs()).sort_values("_abs", ascending=False)
    for _, r in out.head(max_labels).iterrows():
        ax.annotate(str(r["unit"]), (r["n"], r["value"]), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_xlabel(xlabel or ("denominator (n)" if res.kind == "proportion" else "precision (1/SE²)"))
    ax.set_ylabel(ylabel or "value")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    return ax


# ----------------------------------------------------------------------------- ranks
def rank_intervals(data: pd.DataFrame, unit: str, estimate: str | None = None, se: str | None = None,
                   successes: str | None = None, trials: str | None = None, n_sim: int = 2000,
                   level: float = 0.95, higher_is_better: bool = True, seed=None) -> pd.DataFrame:
    """Plausible ranks per unit by simulation from the estimates' sampling distributions.

    Give either ``estimate`` and ``se`` (normal draws) or ``successes`` and
    ``trials`` (draws from the Jeffreys Beta(x + 1/2, n - x + 1/2) posterior).
    Rank 1 is the best (highest if ``higher_is_better``). Returns one row per
    unit: ``unit``, ``estimate``, ``rank`` (observed), ``rank_median``,
    ``rank_low``, ``rank_high`` (equal-tailed ``level`` interval),
    ``p_top10pct`` and ``p_bottom10pct``, sorted by observed rank.
    """
    rng = np.random.default_rng(seed)
    if estimate is not None and se is not None:
        d = data[[unit, estimate, se]].dropna()
        est = d[estimate].to_numpy(float)
        sd = d[se].to_numpy(float)
        draws = est[None, :] + sd[None, :] * rng.standard_normal((n_sim, est.size))
    elif successes is not None and trials is not None:
        d = data[[unit, successes, trials]].dropna()
        d = d[d[trials] > 0]
        x = d[successes].to_numpy(float)
        n = d[trials].to_numpy(float)
        est = x / n
        draws = rng.beta(x + 0.5, n - x + 0.5, size=(n_sim, x.size))
    else:
        raise ValueError("give either estimate and se, or successes and trials")
    sign = -1.0 if higher_is_better else 1.0
    ranks = stats.rankdata(sign * draws, axis=1, method="average")
    obs_rank = stats.rankdata(sign * est, method="average")
    a = (1 - level) / 2
    k = len(est)
    top = max(1, int(np.ceil(0.1 * k)))
    out = pd.DataFrame({
        "unit": d[unit].to_numpy(), "estimate": est, "rank": obs_rank,
        "rank_median": np.median(ranks, axis=0),
        "rank_low": np.floor(np.quantile(ranks, a, axis=0)),
        "rank_high": np.ceil(np.quantile(ranks, 1 - a, axis=0)),
        "p_top10pct": (ranks <= top).mean(axis=0),
        "p_bottom10pct": (ranks > k - top).mean(axis=0),
    })
    return out.sort_values("rank", kind="stable").reset_index(drop=True)


def plot_rank_intervals(ranks: pd.DataFrame, ax=None, label: bool = True, title: str | None = None):
    """Caterpillar plot of ranks (median and interval) ordered by observed rank. Returns ``ax``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, max(3, 0.18 * len(ranks))))
    col = _style_colors()
    r = ranks.sort_values("rank", kind="stable").reset_index(drop=True)
    ypos = np.arange(len(r))
    ax.hlines(ypos, r["rank_low"], r["rank_high"], color=col["point"], lw=2, alpha=0.6)
    ax.plot(r["rank_median"], ypos, "o", color=col["point"], ms=3)
    ax.plot(r["rank"], ypos, "|", color=col["target"], ms=6)
    if label:
        ax.set_yticks(ypos)
        ax.set_yticklabels([str(u) for u in r["unit"]], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("rank (1 = best), median and interval")
    if title:
        ax.set_title(title)
    return ax
