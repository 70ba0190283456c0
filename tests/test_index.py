"""Composite index: YAML spec validation, computation, uncertainty and sensitivity."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import paths
from helpers.stats.composite import DEFAULT_SPEC, CompositeIndex

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
    idx = CompositeIndex.from_yaml()
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

    t = load_all()
    ind = ix.indicator_matrix(ix.district_indicators(t))
    assert len(ind) == 12 and not ind.isna().any().any()
    res = CompositeIndex.from_yaml().compute(ind)
    assert len(res.scores) == 12 and res.scores["index"].between(0, 100).all()
    unc = res.uncertainty(n_sim=100, seed=1)
    assert len(unc.summary) == 12
