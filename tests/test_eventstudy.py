"""The staggered-adoption event study (Callaway-Sant'Anna)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers.stats.eventstudy import event_study




def _staggered_panel(rng, n_units=150, effects=(2.0, 4.0, 6.0, 8.0, 10.0, 12.0), years=range(2018, 2025)):
    """Unit and year effects, heterogeneous trends by unit, dynamic effects growing with time since adoption."""
    years = list(years)
    cohorts = rng.choice([2019, 2020, 2021, 2022, 2023, np.nan], size=n_units, p=[.16] * 5 + [.2])
    alpha = rng.normal(50, 10, n_units)
    rows = []
    for i in range(n_units):
        for t in years:
            e = t - cohorts[i] if np.isfinite(cohorts[i]) else -99
            eff = effects[int(e)] if 0 <= e < len(effects) else 0.0
            y = alpha[i] + 2.0 * (t - 2018) + eff + rng.normal(0, 2)
            rows.append({"unit": f"u{i:03d}", "year": t, "y": y})
    return pd.DataFrame(rows), pd.DataFrame({"unit": [f"u{i:03d}" for i in range(n_units)], "g": cohorts})


def test_event_study_recovers_dynamic_effects_and_flat_pretrends():
    rng = np.random.default_rng(0)
    est = {e: [] for e in range(-4, 4)}
    cover = []
    for _ in range(30):
        panel, adopt = _staggered_panel(rng)
        res = event_study(panel, adopt, unit="unit", outcome="y", cohort="g")
        b = res.by_event_time.set_index("event_time")
        for e in est:
            if e in b.index:
                est[e].append(b.loc[e, "estimate"])
        o = res.overall.iloc[0]
        cover.append(o["ci_low"] <= 5.0 <= o["ci_high"])  # mean of 2, 4, 6, 8
    for e, truth in zip(range(4), (2.0, 4.0, 6.0, 8.0)):
        assert np.mean(est[e]) == pytest.approx(truth, abs=0.3)
    for e in (-4, -3, -2):
        assert abs(np.mean(est[e])) < 0.3
    assert np.mean(est[-1]) == 0.0
    assert np.mean(cover) >= 0.85
    assert list(res.overall.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p"]
    assert res.att == pytest.approx(res.overall["estimate"].iloc[0])


def test_group_time_uses_not_yet_treated_controls():
    rng = np.random.default_rng(1)
    panel, adopt = _staggered_panel(rng, n_units=60)
    res = event_study(panel, adopt, unit="unit", outcome="y", cohort="g")
    gt = res.group_time
    g = gt[(gt["cohort"] == 2019) & (gt["year"] == 2020)].iloc[0]
    # controls for (2019, 2020): never treated and cohorts adopting after 2020
    n_ctrl = int((adopt["g"].isna() | (adopt["g"] > 2020)).sum())
    assert g["n_control"] == n_ctrl
    never = event_study(panel, adopt, unit="unit", outcome="y", cohort="g", control="never")
    assert never.group_time["n_control"].max() == int(adopt["g"].isna().sum())


def test_analytic_and_bootstrap_se_agree():
    rng = np.random.default_rng(2)
    panel, adopt = _staggered_panel(rng, n_units=120)
    a = event_study(panel, adopt, unit="unit", outcome="y", cohort="g")
    b = event_study(panel, adopt, unit="unit", outcome="y", cohort="g", se="bootstrap", n_boot=200, seed=3)
    sa = a.by_event_time.set_index("event_time")["se"]
    sb = b.by_event_time.set_index("event_time")["se"]
    for e in (0, 1, 2):
        assert sb[e] == pytest.approx(sa[e], rel=0.3)
    assert b.overall["se"].iloc[0] == pytest.approx(a.overall["se"].iloc[0], rel=0.3)


def test_event_study_argument_errors():
    rng = np.random.default_rng(3)
    panel, adopt = _staggered_panel(rng, n_units=30)
    with pytest.raises(ValueError, match="allowed"):
        event_study(panel, adopt, unit="unit", outcome="y", cohort="g", control="all")
    with pytest.raises(ValueError, match="allowed"):
        event_study(panel, adopt, unit="unit", outcome="y", cohort="g", se="jackknife")
    with pytest.raises(ValueError, match="not in the adoption table"):
        event_study(panel, adopt.iloc[1:], unit="unit", outcome="y", cohort="g")


def test_plot_event_study_returns_ax():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(4)
    panel, adopt = _staggered_panel(rng, n_units=60)
    res = event_study(panel, adopt, unit="unit", outcome="y", cohort="g")
    fig, ax = plt.subplots()
    assert res.plot(ax=ax, truth={0: 2.0, 1: 4.0}) is ax
    assert len(ax.get_lines()) > 0
    plt.close(fig)

