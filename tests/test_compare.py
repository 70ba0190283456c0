"""Funnel plots (exact binomial and overdispersion-adjusted limits) and rank intervals."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats import compare


def _independent_exact_limit(n: int, target: float, p: float) -> float:
    """Spiegelhalter (2005a, A.1.1) written out by a loop over r, independently of the helper."""
    r = 0
    while stats.binom.cdf(r, n, target) < p:
        r += 1
    f_r = stats.binom.cdf(r, n, target)
    f_rm1 = stats.binom.cdf(r - 1, n, target) if r > 0 else 0.0
    alpha = (f_r - p) / (f_r - f_rm1)
    return min(1.0, max(0.0, (r - alpha) / n))  # limits are clipped to [0, 1]


@pytest.mark.parametrize("n", [5, 20, 57, 200, 1000])
@pytest.mark.parametrize("p", [0.001, 0.025, 0.975, 0.999])
def test_exact_binomial_limit_matches_loop(n, p):
    got = compare.exact_binomial_limit(n, 0.3, p)
    assert got == pytest.approx(_independent_exact_limit(n, 0.3, p), abs=1e-12)


def test_exact_limits_approach_normal_for_large_n():
    n = 100_000
    lim = compare.exact_binomial_limit(n, 0.2, 0.975)
    normal = 0.2 + 1.959964 * np.sqrt(0.2 * 0.8 / n)
    assert lim == pytest.approx(normal, rel=2e-4)


def test_winsorised_dispersion_hand_computed():
    # 10 units; type-7 quantiles: 10% -> -3 + 0.9*2 = -1.2, 90% -> 2.5 + 0.1*1.5 = 2.65
    z = np.array([-3, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 4.0])
    s = np.full(10, 0.1)
    phi, tau2 = compare.winsorised_dispersion(z, s)
    zw = [-1.2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 2.65]
    phi_hand = sum(v * v for v in zw) / 10  # 2.34625
    assert phi == pytest.approx(phi_hand) and phi == pytest.approx(2.34625)
    # w = 100 each: sum w = 1000, sum w^2 / sum w = 100 -> denominator 900
    assert tau2 == pytest.approx((10 * 2.34625 - 9) / 900)


def test_no_overdispersion_gives_zero_tau2():
    z = np.array([-0.5, 0.2, 0.1, -0.3, 0.4, 0.0, -0.1, 0.3])
    phi, tau2 = compare.winsorised_dispersion(z, np.full(8, 0.05))
    assert phi < 1 and tau2 == 0.0


def _binomial_units(rng, k=150, overdispersed=False):
    n = rng.integers(20, 2000, k)
    p = np.full(k, 0.3)
    if overdispersed:
        p = stats.beta.rvs(30, 70, size=k, random_state=rng)
    return pd.DataFrame({"unit": [f"u{i:03d}" for i in range(k)], "x": rng.binomial(n, p), "n": n})


def test_funnel_proportion_calibrated_without_overdispersion():
    rng = np.random.default_rng(1)
    outside = []
    for _ in range(10):
        df = _binomial_units(rng)
        res = compare.funnel_proportion(df, "x", "n", "unit", target=0.3)
        outside.append((res.table["flag_95"] != "").mean())
    assert 0.03 < np.mean(outside) < 0.075
    assert res.target == 0.3


def test_funnel_proportion_overdispersion_and_flags():
    rng = np.random.default_rng(2)
    df = _binomial_units(rng, overdispersed=True)
    before = df.copy()
    res = compare.funnel_proportion(df, "x", "n", "unit")
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert res.target == pytest.approx(df["x"].sum() / df["n"].sum())
    assert res.phi > 1.5 and res.tau2 > 0
    t = res.table
    # adjusted limits are wider, so fewer units flagged; 99.8% flags are a subset of 95% flags
    assert (t["flag_od_95"] != "").sum() < (t["flag_95"] != "").sum()
    assert set(t.index[t["flag_99_8"] != ""]) <= set(t.index[t["flag_95"] != ""])
    assert (t["upper_od_95"] >= t["upper_95"] - 1e-9).all()
    # flags agree with the limits
    high = t["value"] > t["upper_99_8"]
    assert (t.loc[high, "flag_99_8"] == "high").all()
    # tau2 equals the DerSimonian-Laird formula on the arcsine scale, computed here by hand
    y = np.arcsin(np.sqrt(df["x"] / df["n"]))
    s = 1 / (2 * np.sqrt(df["n"]))
    z = (y - np.arcsin(np.sqrt(res.target))) / s
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / s**2
    assert res.phi == pytest.approx(phi)
    assert res.tau2 == pytest.approx((len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    assert list(res.outliers(0.998, adjusted=False)["unit"]) == list(t.loc[t["flag_99_8"] != "", "unit"])
    with pytest.raises(ValueError):
        res.outliers(0.9)


def test_funnel_proportion_percent_scale_and_zero_denominators():
    df = pd.DataFrame({"u": list("abcd"), "x": [1, 5, 0, 9], "n": [10, 50, 0, 40]})
    res = compare.funnel_proportion(df, "x", "n", "u", scale=100)
    assert list(res.table["unit"]) == ["a", "b", "d"]
    assert res.table["value"].iloc[0] == pytest.approx(10.0)
    assert res.target == pytest.approx(100 * 15 / 100)


def test_funnel_estimate_limits():
    df = pd.DataFrame({"u": list("abcdef"), "est": [60, 62, 58, 70, 61, 59.5], "se": [1, 2, 1.5, 1, 3, 0.5]})
    res = compare.funnel_estimate(df, "est", "se", "u", target=60.0)
    t = res.table
    assert np.allclose(t["upper_95"], 60 + stats.norm.ppf(0.975) * df["se"])
    assert t.loc[t["unit"] == "d", "flag_95"].item() == "high"
    assert np.allclose(t["n"], 1 / df["se"] ** 2)
    assert (t["upper_od_95"] >= t["upper_95"]).all()


def test_plot_funnel_returns_ax():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    res = compare.funnel_proportion(_binomial_units(rng, k=60, overdispersed=True), "x", "n", "unit")
    fig, ax = plt.subplots()
    assert compare.plot_funnel(res, ax=ax) is ax
    assert res.plot() is not None
    est = compare.funnel_estimate(pd.DataFrame({"u": list("abcde"), "e": [1, 2, 3, 4, 9.0], "s": [1, 1, 2, 1, 1.0]}),
                                  "e", "s", "u")
    assert est.plot(ax=ax) is ax
    plt.close("all")


def test_rank_intervals_normal_and_binomial():
    df = pd.DataFrame({"u": list("abcdef"), "est": [20, 9, 5, 4.9, 1, 0], "se": [0.1, 0.1, 0.1, 3, 0.1, 0.1]})
    r = compare.rank_intervals(df, "u", estimate="est", se="se", n_sim=2000, seed=1)
    r = r.set_index("unit")
    assert r.loc["a", "rank"] == 1 and r.loc["a", "rank_high"] == 1
    assert r.loc["d", "rank_high"] - r.loc["d", "rank_low"] >= 3  # the imprecise unit
    assert r.loc["b", "rank_high"] - r.loc["b", "rank_low"] <= 1
    assert (r["rank_low"] <= r["rank_median"]).all() and (r["rank_median"] <= r["rank_high"]).all()
    low = compare.rank_intervals(df, "u", estimate="est", se="se", n_sim=500, seed=1, higher_is_better=False)
    assert low.set_index("unit").loc["f", "rank"] == 1
    # reproducible with a seed
    again = compare.rank_intervals(df, "u", estimate="est", se="se", n_sim=2000, seed=1).set_index("unit")
    pd.testing.assert_frame_equal(r, again)
    b = pd.DataFrame({"u": ["big", "small", "mid"], "x": [500, 3, 50], "n": [1000, 5, 100]})
    rb = compare.rank_intervals(b, "u", successes="x", trials="n", n_sim=1000, seed=2).set_index("unit")
    assert rb.loc["small", "rank_high"] - rb.loc["small", "rank_low"] >= rb.loc["big", "rank_high"] - rb.loc["big", "rank_low"]
    with pytest.raises(ValueError):
        compare.rank_intervals(df, "u")


def test_plot_rank_intervals_returns_ax():
    import matplotlib.pyplot as plt

    df = pd.DataFrame({"u": list("abc"), "e": [1, 2, 3.0], "s": [1, 1, 1.0]})
    r = compare.rank_intervals(df, "u", estimate="e", se="s", n_sim=200, seed=0)
    fig, ax = plt.subplots()
    assert compare.plot_rank_intervals(r, ax=ax) is ax
    plt.close(fig)


def test_notebook_recipes_on_default_data(tmp_path):
    """The few lines a notebook needs: funnel plot, rank intervals, index with uncertainty, event study."""
    from helpers import paths

    if not (paths.DATA_DIR / "members.csv").exists():
        pytest.skip("default data not generated yet")
    import matplotlib.pyplot as plt

    from helpers.data.load import load_all
    from helpers.stats.composite import CompositeIndex
    from helpers.stats.eventstudy import event_study
    from helpers.studies import claims
    from helpers.studies import index as ix

    t = load_all()
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    # 1. funnel plot of community registration rates, 2024
    m = t["members"].query("year == 2024")
    funnel = compare.funnel_proportion(m, "registered", "in_service_resident", "community_id", scale=100)
    funnel.plot(ax=axes[0, 0], ylabel="registered (%)")
    assert funnel.tau2 > 0 and len(funnel.outliers(0.998)) < len(funnel.outliers(0.998, adjusted=False))
    # 2. rank intervals of district satisfaction
    s = t["survey"].query("responded == 1").groupby("district_id")["sat_score"].agg(["mean", "sem"]).reset_index()
    ranks = compare.rank_intervals(s, "district_id", estimate="mean", se="sem", seed=1)
    compare.plot_rank_intervals(ranks, ax=axes[0, 1])
    # 3. the composite index with uncertainty
    ind = ix.indicator_matrix(ix.district_indicators(t, *ix.index_years(t)))
    unc = CompositeIndex.from_yaml(ix.DEFAULT_SPEC).uncertainty(ind, n_sim=200, seed=1)
    unc.plot(ax=axes[1, 0])
    # 4. the event study of the platform roll-out
    panel, adoption = claims.platform_inputs(t)
    es = event_study(panel, adoption)
    es.plot(ax=axes[1, 1])
    fig.savefig(tmp_path / "recipes.png")
    plt.close(fig)
    assert (tmp_path / "recipes.png").stat().st_size > 10_000
    assert es.by_event_time["event_time"].min() < -1


def test_funnel_plot_curves_are_complete_for_small_denominators():
    """Exact binomial limits exist at whole denominators; the plot grid must not mix in fractional ones."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import pandas as pd

    from helpers.stats import compare

    rng = np.random.default_rng(1)
    n = rng.integers(3, 40, 60)
    res = compare.funnel_proportion(pd.DataFrame({"u": range(60), "x": rng.binomial(n, 0.3), "n": n}), "x", "n", "u")
    ax = compare.plot_funnel(res)
    curves = [ln.get_ydata() for ln in ax.lines if len(ln.get_ydata()) > 2]
    assert curves and all(np.isfinite(np.asarray(y, float)).all() for y in curves)
