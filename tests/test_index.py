"""Composite index: YAML spec validation, computation, the Monte Carlo of its uncertainty (checked
against a brute-force loop through the public API) and sensitivity."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml

from scipy import stats

from helpers import paths
from helpers.stats.composite import CompositeIndex
from helpers.studies.index import DEFAULT_SPEC

SPEC = {
    "unit": "district_id",
    "normalisation": "minmax",
    "aggregation": "arithmetic",
    "pillars": {
        "coverage": {"cov_a": "higher", "cov_b": "higher"},
        "participation": {"part_a": "higher"},
        "satisfaction": {"sat_a": "higher", "complaints": "lower"},
    },
    "weights": {"coverage": 2, "cov_a": 3},
    "uncertainty": {"normalisations": ["minmax", "zscore", "rank"], "aggregations": ["arithmetic", "geometric"],
                    "weight_noise": 0.3},
}


def _data(k=8, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "district_id": [f"D{i:02d}" for i in range(k)],
        "cov_a": rng.uniform(40, 90, k), "cov_b": rng.uniform(0, 1, k), "part_a": rng.uniform(10, 30, k),
        "sat_a": rng.uniform(50, 70, k), "complaints": rng.uniform(0, 20, k),
    })


def test_default_yaml_loads_and_lists_three_pillars():
    idx = CompositeIndex.from_yaml(DEFAULT_SPEC)
    assert list(idx.pillars) == ["coverage", "participation", "satisfaction"]
    assert idx.unit == "district_id" and len(idx.indicators) >= 6
    assert DEFAULT_SPEC.exists()


def test_compute_by_hand_minmax_arithmetic():
    df = _data()
    before = df.copy()
    res = CompositeIndex.from_dict(SPEC).compute(df)
    pd.testing.assert_frame_equal(df, before)
    s = res.scores.set_index("district_id").loc[df["district_id"]]

    def mm(x):
        return 100 * (x - x.min()) / (x.max() - x.min())

    cov = (3 * mm(df["cov_a"]) + 1 * mm(df["cov_b"])) / 4
    part = mm(df["part_a"])
    sat = (mm(df["sat_a"]) + mm(-df["complaints"])) / 2
    index = (2 * cov + part + sat) / 4
    assert np.allclose(s["coverage"].to_numpy(), cov.to_numpy())
    assert np.allclose(s["satisfaction"].to_numpy(), sat.to_numpy())
    assert np.allclose(s["index"].to_numpy(), index.to_numpy())
    assert res.scores["rank"].tolist() == sorted(res.scores["rank"].tolist())
    assert res.scores["rank"].iloc[0] == 1
    long = res.long()
    assert set(long["measure"]) == {"coverage", "participation", "satisfaction", "index"}
    assert len(long) == 4 * len(df)


def test_geometric_zscore_and_rank_options():
    df = _data()
    idx = CompositeIndex.from_dict(SPEC)
    geo = idx.with_options(aggregation="geometric").compute(df).scores.set_index("district_id")
    ari = idx.compute(df).scores.set_index("district_id")
    assert (geo["index"] <= ari["index"].reindex(geo.index) + 1e-9).all()  # geometric mean <= arithmetic
    z = idx.with_options(normalisation="zscore").compute(df).scores
    assert z["participation"].mean() == pytest.approx(50) and z["participation"].std() == pytest.approx(10)
    r = idx.with_options(normalisation="rank").compute(df).scores
    assert r["participation"].min() == 0 and r["participation"].max() == 100


@pytest.mark.parametrize("change, match", [
    ({"normalisation": "softmax"}, "normalisation: unknown option 'softmax'; allowed: minmax, zscore, rank"),
    ({"aggregation": "median"}, "aggregation: unknown option 'median'; allowed: arithmetic, geometric"),
    ({"weights": {"cov_z": 1}}, "weights: 'cov_z' names no pillar or indicator"),
    ({"weights": {"cov_a": -1}}, "weights.cov_a"),
    ({"colour": "red"}, "index spec key: unknown option 'colour'"),
    ({"pillars": {"coverage": {"cov_a": "up"}}}, "direction: unknown option 'up'; allowed: higher, lower"),
    ({"uncertainty": {"normalisations": ["minmax", "log"]}}, "uncertainty.normalisations: unknown option 'log'"),
    ({"uncertainty": {"draws": 10}}, "uncertainty key: unknown option 'draws'"),
    ({"uncertainty": {"weight_noise": 1.5}}, "weight_noise"),
])
def test_spec_errors_name_the_key_and_options(change, match):
    spec = {**SPEC, **change}
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(".", r"\.")):
        CompositeIndex.from_dict(spec)


def test_yaml_file_errors(tmp_path):
    bad = {**SPEC, "normalisation": "robust"}
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(ValueError, match="allowed: minmax, zscore, rank"):
        CompositeIndex.from_yaml(f)
    missing = {k: v for k, v in SPEC.items() if k != "unit"}
    f.write_text(yaml.safe_dump(missing))
    with pytest.raises(ValueError, match="missing required key 'unit'"):
        CompositeIndex.from_yaml(f)


def test_data_errors_are_not_silent():
    idx = CompositeIndex.from_dict(SPEC)
    df = _data()
    with pytest.raises(ValueError, match="missing from the data"):
        idx.compute(df.drop(columns="cov_b"))
    with pytest.raises(ValueError, match="missing values"):
        idx.compute(df.assign(cov_b=np.where(df.index == 2, np.nan, df["cov_b"])))
    with pytest.raises(ValueError, match="constant"):
        idx.compute(df.assign(part_a=1.0))
    with pytest.raises(ValueError, match="duplicates"):
        idx.compute(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(ValueError, match="geometric_shift"):
        idx.with_options(aggregation="geometric", geometric_shift=0).compute(df)


def test_uncertainty_intervals_and_sensitivity():
    df = _data(k=10, seed=3)
    # one clear winner
    df.loc[0, ["cov_a", "cov_b", "part_a", "sat_a"]] = [200, 5, 100, 200]
    df.loc[0, "complaints"] = -50
    idx = CompositeIndex.from_dict(SPEC)
    unc = idx.uncertainty(df, n_sim=200, seed=5)
    s = unc.summary.set_index("district_id")
    assert s.loc["D00", "rank_low"] == 1 and s.loc["D00", "rank_high"] == 1
    assert ((s["rank_low"] <= s["rank"]) | (s["rank_high"] >= s["rank"])).all()
    assert (s["score_low"] <= s["score_high"]).all()
    sens = unc.sensitivity
    assert {"factor", "choice", "mean_abs_rank_shift", "max_abs_rank_shift"} <= set(sens.columns)
    assert set(sens["factor"]) >= {"normalisation", "aggregation", "weight", "drop indicator"}
    assert sens["mean_abs_rank_shift"].is_monotonic_decreasing
    again = idx.uncertainty(df, n_sim=200, seed=5)
    pd.testing.assert_frame_equal(unc.summary, again.summary)
    assert unc.draws_rank.shape == (200, 10)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert unc.plot(ax=ax) is ax
    plt.close(fig)


def test_default_index_on_default_data():
    if not (paths.DATA_DIR / "members.csv").exists():
        pytest.skip("default data not generated yet")
    from helpers.data.load import load_all
    from helpers.studies import index as ix

    t = load_all(tables=ix.TABLES)
    ind = ix.indicator_matrix(ix.district_indicators(t, *ix.index_years(t)))
    assert len(ind) == 12 and not ind.isna().any().any()
    res = CompositeIndex.from_yaml(DEFAULT_SPEC).compute(ind)
    assert len(res.scores) == 12 and res.scores["index"].between(0, 100).all()
    unc = res.uncertainty(n_sim=100, seed=1)
    assert len(unc.summary) == 12


# -- the one Monte Carlo: method, indicators, or both --------------------------------------------------
def _se(df, seed=1):
    rng = np.random.default_rng(seed)
    out = df[["district_id"]].copy()
    for c in df.columns[1:]:
        out[c] = rng.uniform(0.02, 0.2) * df[c].abs().mean()
    return out


def _brute_force(idx, df, n_sim, seed, level, method, se=None, bounds=None):
    """The Monte Carlo as a plain loop through the public API: draw the indicators (normal around each
    value with its SE, clipped to the bounds), then the method, recompute with CompositeIndex.compute."""
    rng = np.random.default_rng(seed)
    units = df["district_id"].to_numpy()
    inds = idx.indicators
    names = list(idx.pillars) + inds
    lo = np.array([(bounds or {}).get(i, (None, None))[0] for i in inds], dtype=float)
    hi = np.array([(bounds or {}).get(i, (None, None))[1] for i in inds], dtype=float)
    lo, hi = np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)
    X = df.set_index("district_id").loc[units, inds].to_numpy(float)
    S = None if se is None else se.set_index("district_id").loc[units, inds].to_numpy(float)
    scores, ranks = [], []
    for _ in range(n_sim):
        Xk = X if S is None else np.clip(X + S * rng.standard_normal(X.shape), lo, hi)
        spec = idx
        if method:
            norm = idx.alt_normalisations[rng.integers(len(idx.alt_normalisations))]
            agg = idx.alt_aggregations[rng.integers(len(idx.alt_aggregations))]
            w = {n: float(idx.weights.get(n, 1.0)) * rng.uniform(1 - idx.weight_noise, 1 + idx.weight_noise)
                 for n in names}
            spec = idx.with_options(normalisation=norm, aggregation=agg, weights=w)
        r = spec.compute(pd.DataFrame(Xk, columns=inds).assign(district_id=units)).scores.set_index("district_id")
        scores.append(r.loc[units, "index"].to_numpy())
        ranks.append(r.loc[units, "rank"].to_numpy())
    scores, ranks = np.array(scores), np.array(ranks)
    a = (1 - level) / 2
    return pd.DataFrame({"district_id": units, "score_low": np.quantile(scores, a, 0),
                         "score_high": np.quantile(scores, 1 - a, 0), "score_median": np.median(scores, 0),
                         "rank_low": np.floor(np.quantile(ranks, a, 0)),
                         "rank_high": np.ceil(np.quantile(ranks, 1 - a, 0)),
                         "rank_median": np.median(ranks, 0)}).set_index("district_id")


@pytest.mark.parametrize("method, noise", [(True, False), (False, True), (True, True)],
                         ids=["method", "indicators", "both"])
def test_monte_carlo_equals_a_brute_force_loop(method, noise):
    df = _data(k=9, seed=4)
    idx = CompositeIndex.from_dict(SPEC)
    se = _se(df) if noise else None
    bounds = {"cov_b": (0, 1), "complaints": (0, None)} if noise else None
    unc = idx.uncertainty(df, n_sim=60, seed=11, level=0.9, method=method, se=se, bounds=bounds)
    ref = _brute_force(idx, df, 60, 11, 0.9, method, se, bounds)
    got = unc.summary.set_index("district_id").loc[ref.index]
    for c in ref.columns:
        np.testing.assert_allclose(got[c].to_numpy(), ref[c].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=c)
    assert unc.varied == tuple(v for v, on in (("method", method), ("indicators", noise)) if on)
    assert unc.draws_rank.shape == (60, 9) and unc.n_sim == 60
    assert (unc.sensitivity.empty) == (not method)


def test_indicator_noise_widens_with_the_standard_error():
    """Planted: one unit with a large SE gets the widest rank interval; zero SEs give the base."""
    df = _data(k=10, seed=8)
    idx = CompositeIndex.from_dict(SPEC)
    base = idx.compute(df).scores.set_index("district_id")
    zero = df[["district_id"]].assign(**{c: 0.0 for c in idx.indicators})
    u = idx.uncertainty(df, n_sim=50, seed=2, method=False, se=zero).summary.set_index("district_id")
    np.testing.assert_allclose(u.loc[base.index, "score_low"], base["index"], rtol=1e-12)
    assert (u.loc[base.index, "rank_high"] == base["rank"]).all()
    loud = zero.copy()
    d03 = df["district_id"] == "D03"
    loud.loc[d03, idx.indicators] = df.loc[d03, idx.indicators].abs().to_numpy() * 0.8
    w = idx.uncertainty(df, n_sim=400, seed=2, method=False, se=loud).summary.set_index("district_id")
    width = w["rank_high"] - w["rank_low"]
    assert width.idxmax() == "D03" and width["D03"] >= 3
    # bounds hold every draw inside the range
    tight = idx.uncertainty(df, n_sim=50, seed=2, method=False, se=loud,
                            bounds={c: (float(df[c].min()), float(df[c].max())) for c in idx.indicators})
    assert np.isfinite(tight.draws_score).all()


def test_monte_carlo_input_errors():
    df = _data()
    idx = CompositeIndex.from_dict(SPEC)
    res = idx.compute(df)
    with pytest.raises(ValueError, match="nothing varies"):
        res.uncertainty(n_sim=5, method=False)
    se = _se(df)
    with pytest.raises(ValueError, match=r"se has no column for indicators \['cov_b'\]"):
        res.uncertainty(n_sim=5, se=se.drop(columns="cov_b"))
    with pytest.raises(ValueError, match="se of indicator 'part_a' for district_id 'D02' is -1.0"):
        res.uncertainty(n_sim=5, se=se.assign(part_a=np.where(se.index == 2, -1.0, se["part_a"])))
    with pytest.raises(ValueError, match="se has no row for units"):
        res.uncertainty(n_sim=5, se=se.iloc[1:])
    with pytest.raises(ValueError, match="bounds: 'cov_z' is not an indicator"):
        res.uncertainty(n_sim=5, bounds={"cov_z": (0, 1)})
    with pytest.raises(ValueError, match="lower limit 2 is above the upper limit 1"):
        res.uncertainty(n_sim=5, bounds={"cov_a": (2, 1)})


def test_without_drops_indicators_and_keeps_the_other_weights():
    idx = CompositeIndex.from_dict(SPEC)
    small = idx.without(["cov_a", "complaints"])
    assert small.pillars == {"coverage": {"cov_b": "higher"}, "participation": {"part_a": "higher"},
                             "satisfaction": {"sat_a": "higher"}}
    assert small.weights == {"coverage": 2} and small.weight_noise == idx.weight_noise
    df = _data()
    # the same as an index declared without them
    spec = {**SPEC, "pillars": small.pillars, "weights": {"coverage": 2}}
    pd.testing.assert_frame_equal(small.compute(df).scores, CompositeIndex.from_dict(spec).compute(df).scores)
    with pytest.raises(ValueError, match=r"pillar\(s\) \['participation'\] would have no indicator"):
        idx.without(["part_a"])
    with pytest.raises(ValueError, match="are not indicators"):
        idx.without(["nope"])


def test_rank_helpers_agree_with_scipy_on_ties():
    from helpers.stats.composite import _rank_desc, _ranks_average

    rng = np.random.default_rng(0)
    for _ in range(300):
        x = rng.integers(0, 5, size=int(rng.integers(2, 30))).astype(float)
        np.testing.assert_array_equal(_rank_desc(x), stats.rankdata(-x, method="min"))
        X = rng.integers(0, 4, size=(int(rng.integers(2, 20)), 3)).astype(float)
        np.testing.assert_array_equal(_ranks_average(X), stats.rankdata(X, axis=0))


def test_an_indicator_drawn_equal_for_every_unit_separates_none():
    """Draws clipped onto one value (bounds low = high) leave that indicator constant in every
    replicate: every unit gets the midpoint 50 on it (by hand below), as rank normalisation gives."""
    df = _data(k=8, seed=6)
    idx = CompositeIndex.from_dict(SPEC)
    c = float(df["cov_b"].median())
    zero = df[["district_id"]].assign(**{i: 0.0 for i in idx.indicators})
    u = idx.uncertainty(df, n_sim=30, seed=3, method=False, se=zero, bounds={"cov_b": (c, c)})

    def mm(x):
        return 100 * (x - x.min()) / (x.max() - x.min())

    cov = (3 * mm(df["cov_a"]) + 1 * 50.0) / 4
    index = (2 * cov + mm(df["part_a"]) + (mm(df["sat_a"]) + mm(-df["complaints"])) / 2) / 4
    got = u.summary.set_index("district_id").loc[df["district_id"]]
    np.testing.assert_allclose(got["score_low"].to_numpy(), index.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["score_high"].to_numpy(), index.to_numpy(), rtol=1e-12)
    assert (got["rank_low"].to_numpy() == stats.rankdata(-index.to_numpy(), method="min")).all()
    with pytest.raises(ValueError, match="constant"):  # the data themselves must not be constant
        idx.compute(df.assign(cov_b=c))


def test_indicator_table_prints_percentages_as_the_other_reports_do():
    """A narrow administrative rate keeps one decimal (63.3, as 01, 02 and the profiles print it), while a
    1-5 mean keeps the decimals its standard error asks for."""
    from helpers.studies import index as ix

    long = pd.DataFrame({"district_id": ["D1", "D2"] * 2, "indicator": ["registration"] * 2 + ["trust"] * 2,
                         "estimate": [63.2912, 41.3301, 3.2612, 3.1701], "se": [0.19, 0.22, 0.15, 0.13],
                         "ci_low": [62.90, 40.90, 2.95, 2.91], "ci_high": [63.67, 41.76, 3.57, 3.42],
                         "source": ["admin"] * 2 + ["survey"] * 2, "n": [60432, 50107, 128, 128]})
    units = pd.DataFrame({"district_id": ["D1", "D2"], "name_en": ["North", "South"]})
    t = ix.indicator_table(long, units, ["registration", "trust"])
    reg = [c for c in t.columns if c.startswith("Member registration")][0]
    assert t[reg].tolist() == ["63.3 (62.9 to 63.7)", "41.3 (40.9 to 41.8)"]
    trust = [c for c in t.columns if c.startswith("Trust")][0]
    assert t[trust].tolist()[0] == "3.26 (2.95 to 3.57)"
