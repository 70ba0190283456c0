"""The claim registry (helpers.studies.claims) and the estimator specifications it is built from
(helpers.stats.specs), including the absorbed fixed effects the registration claim uses, checked
against statsmodels fits with explicit dummies."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import schema
from helpers.stats import models, specs
from helpers.studies import claims


def _panel(seed=3, groups=60, periods=6):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), periods)
    t = np.tile(np.arange(periods), groups)
    a = rng.normal(0, 0.8, groups)[g]
    x = rng.uniform(0, 1, g.size) + 0.05 * t
    n = rng.integers(5, 60, g.size)
    p = 1 / (1 + np.exp(-(-0.5 + a + 1.2 * x + 0.1 * t)))
    return pd.DataFrame({"g": [f"G{i:02d}" for i in g], "t": t, "x": x, "n": n, "y": rng.binomial(n, p),
                         "h": 3 + 2 * x + a + rng.normal(0, 1, g.size), "c": [f"C{i // 3}" for i in g]})


@pytest.mark.parametrize("cluster", ["g", "c", None])
def test_absorbed_logit_equals_the_dummy_fit(cluster):
    d = _panel()
    a = models.binomial_glm(d, "y ~ x + C(t)", trials="n", absorb="g", cluster=cluster, robust=cluster is not None)
    b = models.binomial_glm(d, "y ~ x + C(t) + C(g)", trials="n", cluster=cluster, robust=cluster is not None)
    ta, tb = a.term("x"), b.term("x")
    assert ta["estimate"] == pytest.approx(tb["estimate"], rel=1e-9)
    if cluster is None:  # model-based: (X'WX)^-1 equals the dummy fit's coefficient block exactly
        assert ta["se"] == pytest.approx(tb["se"], rel=1e-7)
    else:  # the same sandwich; only statsmodels' (N-1)/(N-K) factor counts the absorbed dummies differently
        N, Ka, Kb = len(d), len(a.result.params), len(b.result.params)
        assert ta["se"] / tb["se"] == pytest.approx(np.sqrt((N - Kb) / (N - Ka)), rel=1e-7)
        assert a.info["clusters"] == d[cluster].nunique()


def test_absorbed_logit_drops_groups_without_variation_and_says_so():
    d = _panel()
    d.loc[d["g"] == "G00", "y"] = 0
    d.loc[d["g"] == "G01", "y"] = d.loc[d["g"] == "G01", "n"]
    a = models.binomial_glm(d, "y ~ x", trials="n", absorb="g", cluster="g")
    b = models.binomial_glm(d[~d["g"].isin(["G00", "G01"])], "y ~ x + C(g)", trials="n", cluster="g")
    assert a.info["dropped_groups"] == 2 and a.info["absorbed_groups"] == 58
    assert a.term("x")["estimate"] == pytest.approx(b.term("x")["estimate"], rel=1e-9)
    with pytest.raises(ValueError, match="successes must lie between 0 and n"):
        models.binomial_glm(d.assign(y=d["n"] + 1), "y ~ x", trials="n", absorb="g", cluster="g")


def test_absorbed_ols_equals_the_dummy_fit():
    d = _panel()
    a = models.ols(d, "h ~ x + C(t)", cluster="g", absorb="g")
    b = models.ols(d, "h ~ x + C(t) + C(g)", cluster="g")
    assert a.term("x")["estimate"] == pytest.approx(b.term("x")["estimate"], rel=1e-9)
    N, Ka, Kb = len(d), len(a.result.params), len(b.result.params)
    assert a.term("x")["se"] / b.term("x")["se"] == pytest.approx(np.sqrt((N - Kb) / (N - Ka)), rel=1e-7)


def test_specs_fit_what_the_models_fit_and_describe_themselves():
    d = _panel()
    s = specs.GLMSpec("y ~ x + C(t)", trials="n", absorb="g", cluster="g")
    assert s.fit(d).term("x")["estimate"] == models.binomial_glm(d, "y ~ x + C(t)", trials="n", absorb="g",
                                                                  cluster="g").term("x")["estimate"]
    assert "g fixed effects" in s.describe() and "clustered by g" in s.describe()
    assert list(s.terms(s.fit(d)).columns) == specs.TERM_COLUMNS
    with pytest.raises(ValueError, match="needs a cluster"):
        specs.GLMSpec("y ~ x")
    with pytest.raises(ValueError, match="family"):
        specs.GLMSpec("y ~ x", family="poisson", cluster="g")


def test_registry_is_consistent():
    keys = [k for ks in claims.truth_keys().values() for k in ks]
    assert len(keys) == len(set(keys))
    for c in claims.CLAIMS.values():
        assert c.design in claims.DESIGNS, c.name
        assert set(c.tables) <= set(schema.TABLES), c.name
        assert set(c.field_claims) <= set(range(1, 8)), c.name
        assert c.speed in ("fast", "slow")
        assert c.describe()
    # only the staggered roll-out identifies an effect
    assert {c.design for c in claims.CLAIMS.values() if c.field_claims == (1,)} == {"staggered roll-out"}


def test_fit_names_missing_tables():
    with pytest.raises(KeyError, match="needs the tables members, joint_building"):
        claims.CLAIMS["registration"].fit({"community_boundaries": pd.DataFrame()})


def test_a_within_community_claim_needs_two_years(tmp_path):
    """With one year, community fixed effects absorb every difference: the claim says why it cannot run."""
    import subprocess
    import sys

    from helpers import paths
    from helpers.data import load

    out = tmp_path / "one_year"
    subprocess.run([sys.executable, str(paths.ROOT / "tests" / "_derived.py"), str(out), "--years", "2024", "2024"],
                   check=True, capture_output=True)
    tables = load.load_all(out)
    for name in ("registration", "volunteering"):
        assert claims.CLAIMS[name].unavailable(tables) == ("it compares each unit with itself over time and the "
                                                           "data hold 1 year (it needs at least 2)")
    assert claims.CLAIMS["awareness"].unavailable(tables) is None
    assert "no joint_building table" in claims.CLAIMS["registration"].unavailable(
        {k: v for k, v in tables.items() if k != "joint_building"})


def test_a_gaussian_spec_with_model_variance_is_not_clustered():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(40), 10)
    d = pd.DataFrame({"x": rng.normal(size=400), "g": g})
    d["y"] = d["x"] + rng.normal(size=40)[g] + rng.normal(size=400)
    clustered = specs.GLMSpec("y ~ x", family="gaussian", cluster="g").fit(d).term("x")["se"]
    model = specs.GLMSpec("y ~ x", family="gaussian", cluster="g", variance="model").fit(d).term("x")["se"]
    plain = models.ols(d, "y ~ x", cluster=None).term("x")["se"]
    assert model == pytest.approx(plain, rel=1e-12) and abs(model - clustered) > 1e-3 * clustered


def test_truth_table_says_when_a_miss_hides_behind_rounding():
    checks = pd.DataFrame({"label": ["a", "b", "c"], "estimate": [1.07, 0.5, 0.59], "se": [0.087, 0.05, 0.09],
                           "ci_low": [0.9004, 0.40, 0.41], "ci_high": [1.24, 0.60, 0.76], "truth": [0.9, 0.45, 0.4],
                           "covered": [False, True, False]})
    t = claims.truth_table(checks)
    assert list(t.columns) == ["Effect", "Estimate (95% CI)", "Planted value", "Inside the interval"]
    assert t["Inside the interval"].tolist() == ["no (just outside: the bound rounds to it)", "yes", "no"]
    assert t.loc[0, "Planted value"] == "0.90" and t.loc[0, "Estimate (95% CI)"] == "1.07 (0.90 to 1.24)"
