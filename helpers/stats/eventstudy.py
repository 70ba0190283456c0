"""Staggered roll-out: event-study / difference-in-differences robust to staggered timing.

Two-way fixed effects regressions with staggered adoption compare
late adopters with early adopters that are already treated and can give
badly weighted (even wrong-signed) averages when effects change with time
since adoption (Goodman-Bacon 2021; Sun & Abraham 2021). This module
implements the group-time estimator of Callaway & Sant'Anna (2021):

``ATT(g, t) = E[Y_t - Y_{g-1} | G = g] - E[Y_t - Y_{g-1} | C_{g,t}]``

for each adoption cohort ``g`` and year ``t``, with a *universal* base
period ``g - 1`` and controls ``C_{g,t}`` = units not yet treated at
``max(t, g - 1)`` (``G > max(t, g-1)``, ``G != g``) plus never-treated
units (``control="notyet"``), or never-treated units only
(``control="never"``). Event-time effects aggregate the group-time effects
with weights proportional to the number of treated units in each cohort
observed at that event time (equal weight per sub-district):
``ATT(e) = sum_g n_g ATT(g, g+e) / sum_g n_g``. ``e = -1`` is the reference
(0 by construction); ``e <= -2`` are pre-trend placebo estimates.

Standard errors: by default *analytical*, from the influence function of
each unit (cluster = unit, e.g. sub-district) treating cohort sizes as fixed
(conditional on the realised roll-out), with a small-sample factor
``n/(n-1)`` per mean; optionally a cluster bootstrap that resamples units
(``se="bootstrap"``). Intervals are normal.

References
----------
Callaway B, Sant'Anna PHC (2021). Difference-in-differences with multiple
time periods. J Econometrics 225:200-230.
Goodman-Bacon A (2021). Difference-in-differences with variation in
treatment timing. J Econometrics 225:254-277.
Sun L, Abraham S (2021). Estimating dynamic treatment effects in event
studies with heterogeneous treatment effects. J Econometrics 225:175-199.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["EventStudyResult", "event_study", "plot_event_study"]




@dataclass
class EventStudyResult:
    """``by_event_time``: ``event_time, estimate, se, ci_low, ci_high, p, n_treated``;
    ``group_time``: ``cohort, year, event_time, estimate, n_treated, n_control``;
    ``overall``: tidy one-row frame for the average of ``ATT(e)`` over the post
    event times in ``post_window``."""

    by_event_time: pd.DataFrame
    group_time: pd.DataFrame
    overall: pd.DataFrame
    post_window: tuple[int, int]
    se_method: str
    control: str

    @property
    def att(self) -> float:
        return float(self.overall["estimate"].iloc[0])

    def plot(self, ax=None, **kw):
        return plot_event_study(self, ax=ax, **kw)


def _group_time_components(Y: np.ndarray, G: np.ndarray, years: np.ndarray, control: str):
    """Yield (g, t, e, treated_idx, control_idx, dY) for every identifiable cell."""
    cohorts = sorted(set(G[np.isfinite(G)]))
    yidx = {y: i for i, y in enumerate(years)}
    for g in cohorts:
        b = g - 1
        if b not in yidx:
            continue
        for t in years:
            if t == b:
                continue
            dY = Y[:, yidx[t]] - Y[:, yidx[b]]
            ok = np.isfinite(dY)
            tr = np.flatnonzero((G == g) & ok)
            if control == "notyet":
                cmask = ((G > max(t, b)) | ~np.isfinite(G)) & (G != g) & ok
            else:
                cmask = ~np.isfinite(G) & ok
            co = np.flatnonzero(cmask)
            if tr.size == 0 or co.size < 2:
                continue
            yield int(g), int(t), int(t - g), tr, co, dY


def _estimate(Y, G, years, control, with_if=True):
    n = Y.shape[0]
    cells = []
    for g, t, e, tr, co, dY in _group_time_components(Y, G, years, control):
        mt, mc = dY[tr].mean(), dY[co].mean()
        psi = None
        if with_if:
            psi = np.zeros(n)
            ft = np.sqrt(tr.size / (tr.size - 1)) if tr.size > 1 else 1.0
            fc = np.sqrt(co.size / (co.size - 1))
            psi[tr] += ft * (dY[tr] - mt) / tr.size
            psi[co] -= fc * (dY[co] - mc) / co.size
        cells.append((g, t, e, mt - mc, tr.size, co.size, psi))
    return cells


def event_study(panel: pd.DataFrame, adoption: pd.DataFrame, unit: str = "subdistrict_id",
                time: str = "year", outcome: str = "coverage", cohort: str = "platform_year",
                control: str = "notyet", post_window: tuple[int, int] = (0, 3), se: str = "analytic",
                n_boot: int = 499, seed=None, level: float = 0.95) -> EventStudyResult:
    """Callaway-Sant'Anna event study of a staggered adoption.

    ``panel``: one row per ``unit`` and ``time`` with ``outcome``.
    ``adoption``: ``unit`` and ``cohort`` (adoption year; NaN = never).
    Units adopting in the first panel year have no pre-period and only serve
    as (already treated) non-controls; they are dropped. ``post_window`` is
    the range of event times averaged into the overall effect. ``se``:
    ``"analytic"`` (influence function, cluster = unit) or ``"bootstrap"``
    (resampling units, ``n_boot`` replicates, ``seed``).
    """
    if control not in ("notyet", "never"):
        raise ValueError(f"unknown control {control!r}; allowed: 'notyet', 'never'")
    if se not in ("analytic", "bootstrap"):
        raise ValueError(f"unknown se {se!r}; allowed: 'analytic', 'bootstrap'")
    wide = panel.pivot(index=unit, columns=time, values=outcome)
    years = np.asarray(sorted(wide.columns))
    wide = wide[years]
    adopt = pd.to_numeric(adoption.set_index(unit)[cohort], errors="coerce").astype("float64")
    G = adopt.reindex(wide.index).to_numpy(float, copy=True)
    missing = ~wide.index.isin(adopt.index)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} units of the panel are not in the adoption table")
    G[np.isnan(G)] = np.inf
    keep = G > years.min()
    Y = wide.astype("float64").to_numpy()[keep]
    G = G[keep]
    cells = _estimate(Y, G, years, control)
    if not cells:
        raise ValueError("no identifiable group-time effect (no cohorts with a pre-period and controls)")
    gt = pd.DataFrame([c[:6] for c in cells], columns=["cohort", "year", "event_time", "estimate", "n_treated",
                                                       "n_control"])
    z = stats.norm.ppf((1 + level) / 2)

    def aggregate(cells_):
        agg = {}
        for g, t, e, att, nt, nc, psi in cells_:
            agg.setdefault(e, []).append((att, nt, psi))
        out = {}
        for e, items in agg.items():
            w = np.array([i[1] for i in items], float)
            w = w / w.sum()
            est = float(np.sum(w * np.array([i[0] for i in items])))
            psi = None
            if items[0][2] is not None:
                psi = sum(wi * i[2] for wi, i in zip(w, items))
            out[e] = (est, psi, int(sum(i[1] for i in items)))
        return out

    agg = aggregate(cells)
    post = [e for e in sorted(agg) if post_window[0] <= e <= post_window[1]]
    if not post:
        raise ValueError(f"no event time inside post_window {post_window}")
    overall_est = float(np.mean([agg[e][0] for e in post]))
    overall_psi = sum(agg[e][1] for e in post) / len(post)
    if se == "analytic":
        se_e = {e: float(np.sqrt(np.sum(v[1] ** 2))) for e, v in agg.items()}
        se_all = float(np.sqrt(np.sum(overall_psi**2)))
    else:
        rng = np.random.default_rng(seed)
        boot_e = {e: [] for e in agg}
        boot_all = []
        m = Y.shape[0]
        for _ in range(n_boot):
            idx = rng.integers(0, m, m)
            ag = aggregate(_estimate(Y[idx], G[idx], years, control, with_if=False))
            for e in agg:
                boot_e[e].append(ag.get(e, (np.nan,))[0])
            vals = [ag.get(e, (np.nan,))[0] for e in post]
            boot_all.append(np.mean(vals))
        se_e = {e: float(np.nanstd(v, ddof=1)) for e, v in boot_e.items()}
        se_all = float(np.nanstd(boot_all, ddof=1))
    rows = []
    for e in sorted(agg):
        est, _, nt = agg[e]
        s = se_e[e]
        rows.append({"event_time": e, "estimate": est, "se": s, "ci_low": est - z * s, "ci_high": est + z * s,
                     "p": 2 * stats.norm.sf(abs(est / s)) if s > 0 else np.nan, "n_treated": nt})
    if -1 not in agg:
        rows.append({"event_time": -1, "estimate": 0.0, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                     "p": np.nan, "n_treated": 0})
    by_e = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    overall = pd.DataFrame([{"term": f"ATT(e={post_window[0]}..{post_window[1]})", "estimate": overall_est,
                             "se": se_all, "ci_low": overall_est - z * se_all, "ci_high": overall_est + z * se_all,
                             "p": 2 * stats.norm.sf(abs(overall_est / se_all)) if se_all > 0 else np.nan}])
    return EventStudyResult(by_e, gt, overall, tuple(post_window), se, control)


def plot_event_study(res: EventStudyResult, ax=None, ylabel: str = "effect (percentage points)",
                     title: str | None = None, truth: dict | None = None):
    """Effects with confidence intervals by event time (pre-trends included). Returns ``ax``.

    ``truth`` (optional): ``{event_time: value}`` drawn as crosses (for the
    synthetic data's planted effects).
    """
    import matplotlib.pyplot as plt

    from helpers.stats.compare import _style_colors

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    col = _style_colors()
    b = res.by_event_time
    pre = b["event_time"] < 0
    for mask, c, lab in ((pre, col["limit"], "pre-adoption (placebo)"), (~pre, col["point"], "post-adoption")):
        s = b[mask]
        yerr = np.vstack([s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]])
        yerr = np.nan_to_num(yerr)
        ax.errorbar(s["event_time"], s["estimate"], yerr=yerr, fmt="o", color=c, capsize=3, label=lab)
    if truth:
        ks = sorted(int(k) for k in truth)
        ax.plot(ks, [truth[k] if k in truth else truth[str(k)] for k in ks], "x", color=col["outlier_high"],
                label="planted truth")
    ax.axhline(0, color=col["target"], lw=0.8)
    ax.axvline(-0.5, color=col["target"], lw=0.8, ls=":")
    ax.set_xlabel("years since adoption (event time)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return ax
