"""The collection's decision rules (helpers.studies.verdicts) and glossary (helpers.studies.measures)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import compare
from helpers.studies import claims, measures, verdicts


def test_claim_verdict_words_follow_the_design():
    assert verdicts.claim_verdict(0.1, 0.5, "staggered roll-out") == "supported"
    assert verdicts.claim_verdict(-0.5, -0.1, "staggered roll-out") == "contradicted"
    assert verdicts.claim_verdict(-0.1, 0.5, "staggered roll-out") == "inconclusive"
    for design in ("observational", "within-community change"):
        assert verdicts.claim_verdict(0.1, 0.5, design) == "consistent with the claim"
        assert verdicts.claim_verdict(-0.1, 0.5, design) == "no evidence either way"
        assert verdicts.claim_verdict(0.1, 0.5, design, direction=-1) == "contrary to the claim"
    # every causal design is a design of the registry, and only the roll-out is causal
    assert verdicts.CAUSAL_DESIGNS <= set(claims.DESIGNS)
    assert verdicts.claim_verdict(np.nan, 1, "observational") == "no evidence either way"


def test_rank_statement_obeys_the_rank_interval_rule():
    assert verdicts.rank_statement(3, 3, 3, 12) == "3rd of 12"
    assert verdicts.rank_statement(2, 1, 7, 12) == "between 1st and 7th of 12"


def test_rate_verdicts_flag_only_outside_the_adjusted_limits():
    rng = np.random.default_rng(2)
    n = rng.integers(200, 2000, 30)
    p = np.clip(0.5 + rng.normal(0, 0.05, 30), 0.05, 0.95)
    p[0], p[1] = 0.15, 0.9  # two real outliers
    d = pd.DataFrame({"u": [f"U{i}" for i in range(30)], "x": rng.binomial(n, p), "n": n})
    res, v = verdicts.rate_verdicts(d, "x", "n", "u")
    v = v.set_index("unit")
    assert v.loc["U0", "verdict"] == "below" and v.loc["U1", "verdict"] == "above"
    inside = v[(v["value"] >= v["lower"]) & (v["value"] <= v["upper"])]
    assert (inside["verdict"] == "not distinguishable").all()
    assert set(v["verdict"]) <= {"above", "below", "not distinguishable"}
    # in percent for a plot: the same verdicts, values and limits times 100
    res100, v100 = verdicts.rate_verdicts(d, "x", "n", "u", scale=100)
    v100 = v100.set_index("unit")
    assert (v100["verdict"] == v["verdict"]).all()
    np.testing.assert_allclose(v100[["value", "lower", "upper"]], 100 * v[["value", "lower", "upper"]])
    # a unit without a denominator has no verdict (it is left out, not called "not distinguishable")
    _, v0 = verdicts.rate_verdicts(pd.concat([d, pd.DataFrame({"u": ["Z"], "x": [0], "n": [0]})]), "x", "n", "u")
    assert "Z" not in set(v0["unit"])


def test_rate_verdicts_never_name_a_unit_that_chance_alone_explains():
    """0 of 3 and 3 of 3 against a city rate of one half: chance gives each one time in eight, but the
    adjusted limits (a normal approximation on the arcsine scale) put them just outside. The rule
    names neither; large units keep the verdict of the adjusted limits."""
    from scipy import stats

    rng = np.random.default_rng(7)
    n = np.r_[np.full(40, 3), rng.integers(300, 900, 40)]
    p = np.clip(0.5 + rng.normal(0, 0.12, 80), 0.05, 0.95)
    x = rng.binomial(n, p)
    x[:4] = [0, 0, 3, 3]
    d = pd.DataFrame({"u": [f"U{i}" for i in range(80)], "x": x, "n": n})
    res, v = verdicts.rate_verdicts(d, "x", "n", "u")
    raw = compare.funnel_proportion(d, "x", "n", "u", levels=(0.95, 0.998)).table
    assert (raw.loc[:3, "flag_od_95"] != "").all()  # the approximation alone would name them
    assert (v.loc[:3, "verdict"] == "not distinguishable").all()
    # every named unit fails the exact binomial test in the same direction
    p0 = res.target
    lo_p, hi_p = stats.binom.cdf(x, n, p0), stats.binom.sf(x - 1, n, p0)
    assert (lo_p[v["verdict"] == "below"] < 0.025).all() and (hi_p[v["verdict"] == "above"] < 0.025).all()
    assert set(v.loc[v["verdict"] != "not distinguishable", "chance"]) <= {"above", "below"}
    # for the large units the rule is the adjusted limits
    big = n > 100
    assert (v.loc[big, "verdict"].to_numpy() == raw.loc[big, "flag_od_95"].map(
        {"high": "above", "low": "below", "": "not distinguishable"}).to_numpy()).all()
    # the funnel returned colours what the verdicts name, outside the adjusted lines it draws
    assert (res.table["flag_od_95"].map({"high": "above", "low": "below", "": "not distinguishable"})
            .to_numpy() == v["verdict"].to_numpy()).all()
    drawn = res.limits(res.table["n"].to_numpy())
    np.testing.assert_allclose(drawn["lower_od_95"], res.table["lower_od_95"])
    np.testing.assert_allclose(drawn["upper_od_95"], res.table["upper_od_95"])
    assert (drawn["lower_od_95"] <= stats.binom.ppf(0.025, n, p0) / n + 1e-12).all()


def test_estimate_verdicts_centre_on_the_city_value():
    d = pd.DataFrame({"u": list("ABCD"), "e": [50.0, 60.0, 70.0, 61.0], "se": [2.0, 2.0, 2.0, 2.0]})
    res, v = verdicts.estimate_verdicts(d, "e", "se", "u", city=60.0)
    assert res.target == 60.0
    assert v.set_index("unit").loc["B", "verdict"] == "not distinguishable"


def test_claims_table_states_design_and_verdict():
    shown, data = verdicts.claims_table([
        {"claim": "Platform raises coverage", "estimate": 11.2, "ci": (5.1, 17.3), "unit": "points",
         "design": "staggered roll-out"},
        {"claim": "Funding goes with quality", "estimate": 0.49, "ci": (0.42, 0.55), "unit": "log-odds per SD",
         "design": "observational"}])
    assert shown.columns.tolist() == ["Claim", "Design", "Estimate (95% CI)", "Verdict"]
    assert shown["Verdict"].tolist() == ["supported", "consistent with the claim"]
    assert "association" in shown.loc[1, "Design"] and "effect" in shown.loc[0, "Design"]
    assert data["ci_low"].tolist() == [5.1, 0.42]


def test_glossary_has_one_name_per_measure():
    names = [m.name for m in measures.MEASURES.values()]
    assert len(names) == len(set(names))
    assert measures.label("service_circle") != measures.label("walk15_reported")
    assert measures.label("sat_score") != measures.label("sat_overall")
    assert measures.axis("registration") == "Member registration (%)"
    g = measures.glossary(["sat_score", "registration"])
    assert g.columns.tolist() == ["Measure", "Definition", "Source", "Scale"] and len(g) == 2
    with pytest.raises(KeyError, match="no measure 'nope'"):
        measures.label("nope")


def test_stated_verdicts_are_written_beside_the_report(tmp_path, monkeypatch):
    from helpers.publish.report import ASSETS_ENV

    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    verdicts.clear_stated()
    d = pd.DataFrame({"district_id": ["D1", "D2", "D3"], "x": [50, 500, 900], "n": [1000, 1000, 1000]})
    verdicts.rate_verdicts(d, "x", "n", "district_id", measure="registration", year=2024)
    s = pd.read_csv(tmp_path / verdicts.STATED_FILE)
    assert s.columns.tolist() == ["measure", "level", "unit", "year", "verdict"] and len(s) == 3
    assert set(s["measure"]) == {"registration"} and set(s["level"]) == {"district_id"}
    verdicts.clear_stated()
    assert verdicts.stated().empty
