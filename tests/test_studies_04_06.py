"""Glue of the notebooks 04_drivers and 06_index, checked against independent computations
(statsmodels directly, hand-written formulas, plain pandas/NumPy, and the index module's own
indicator builder)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats import models
from helpers.studies import claims, drivers, measures
from helpers.studies import index as ix

RNG_SEED = 20261122


# ============================================================================ 04_drivers
@pytest.fixture(scope="module")
def logit_data():
    """Respondent-like rows: 0/1 outcome on two 0/1 bands and a community share, 60 clusters."""
    rng = np.random.default_rng(RNG_SEED)
    n, g = 3000, 60
    cl = rng.integers(0, g, n)
    share = rng.uniform(0, 0.6, g)[cl]
    u = rng.uniform(size=n)
    within = (u < 0.6).astype(float)
    band = ((u >= 0.6) & (u < 0.85)).astype(float)
    eta = -0.4 + 0.9 * within + 0.4 * band - 1.5 * share + rng.normal(0, 0.3, g)[cl]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "within15": within, "band15_30": band, "share": share,
                         "cluster": [f"C{c:02d}" for c in cl]})




def test_average_predictions_match_uncollapsed_logit(logit_data):
    import statsmodels.formula.api as smf

    fit = models.binomial_glm(logit_data, "y ~ within15 + band15_30 + share", cluster="cluster")  # collapsed rows
    ref = smf.logit("y ~ within15 + band15_30 + share", logit_data).fit(disp=False)
    p = drivers.average_predictions(fit, {"in": {"within15": 1, "band15_30": 0}, "none": {"within15": 0, "band15_30": 0}})
    for label, w in (("in", 1.0), ("none", 0.0)):
        expect = ref.predict(logit_data.assign(within15=w, band15_30=0.0)).mean()
        got = p.set_index("scenario").loc[label, "prediction"]
        assert got == pytest.approx(expect, rel=1e-6)


def test_variance_components_by_hand():
    rng = np.random.default_rng(RNG_SEED)
    rows = []
    for d in range(10):
        u = rng.normal(0, 4)
        for c in range(12):
            v = rng.normal(0, 3)
            for _ in range(15):
                x = rng.integers(0, 2)
                rows.append({"district_id": f"D{d}", "community_id": f"D{d}C{c}", "x": x,
                             "y": 50 + 5 * x + u + v + rng.normal(0, 10)})
    data = pd.DataFrame(rows)
    fit = models.mixed_model(data, "y ~ x")
    vc = models.variance_components(fit).set_index("term")
    t = fit.terms.set_index("term")["estimate"]
    # standard deviations are the square roots of the fitted variances
    assert vc.loc["sd(district_id)", "estimate"] == pytest.approx(np.sqrt(t["var(district_id)"]))
    assert vc.loc["sd(residual)", "estimate"] == pytest.approx(np.sqrt(t["var(residual)"]))
    # district interval: chi-square on G - 1 = 9 df, by hand
    v = t["var(district_id)"]
    assert vc.loc["sd(district_id)", "ci_low"] == pytest.approx(np.sqrt(v * 9 / stats.chi2.ppf(0.975, 9)))
    assert vc.loc["sd(district_id)", "ci_high"] == pytest.approx(np.sqrt(v * 9 / stats.chi2.ppf(0.025, 9)))
    # the simulated sds are recovered roughly, and lie inside their intervals
    for term, true in (("sd(district_id)", 4), ("sd(community_id)", 3), ("sd(residual)", 10)):
        assert vc.loc[term, "ci_low"] <= true <= vc.loc[term, "ci_high"], term


def test_twfe_recovers_a_constant_effect_without_noise():
    units = [f"S{i}" for i in range(8)]
    adopt = pd.DataFrame({"subdistrict_id": units, "platform_year": [2018, 2020, 2020, 2021, 2022, np.nan, np.nan, 2023]})
    rows = []
    for i, u in enumerate(units):
        g = adopt.loc[i, "platform_year"]
        for t in range(2018, 2025):
            rows.append({"subdistrict_id": u, "year": t,
                         "coverage": 10 * i + 2 * (t - 2018) + (5.0 if np.isfinite(g) and t >= g else 0.0)})
    fit = drivers.twfe(pd.DataFrame(rows), adopt)
    assert fit.term("treated")["estimate"] == pytest.approx(5.0, abs=1e-9)
    assert fit.nobs == 7 * 7  # the unit adopting in the first year (no pre-period) is left out


def test_pretrend_summary():
    b = pd.DataFrame({"event_time": [-4, -3, -2, -1, 0], "estimate": [3.0, -5.0, 1.0, 0.0, 7.0],
                      "se": [1.0, 1.0, 1.0, np.nan, 1.0], "ci_low": [1.0, -7.0, -1.0, np.nan, 5.0],
                      "ci_high": [5.0, -3.0, 3.0, np.nan, 9.0], "n_treated": [5, 6, 7, 0, 9]})
    s = drivers.pretrend_summary(b)
    assert s == {"n": 3, "n_cover_zero": 1, "max_abs": 5.0, "e_max_abs": -3, "n_treated_max_abs": 6}


def test_finding_name():
    assert drivers.finding_name("att[1]") == "att_e1" and drivers.finding_name("a") == "a"


def test_finding_note_names_its_own_event_time():
    from helpers.studies import claims

    avg = claims.CLAIMS["platform_event_study"].describe()
    assert "the average effect over event times 0 to 3" in avg
    notes = {e: drivers.finding_note(f"platform_att_by_event_time[{e}]", avg) for e in range(4)}
    assert "event time 0 (the adoption year)" in notes[0] and "event time 1 (1 year after adoption)" in notes[1]
    assert "event time 3 (3 years after adoption)" in notes[3]
    assert all("average" not in n for n in notes.values()) and len(set(notes.values())) == 4
    assert notes[2].replace("the effect at event time 2 (2 years after adoption)", "X") == avg.replace(
        "the average effect over event times 0 to 3", "X")  # the rest of the description is kept
    assert drivers.finding_note("platform_att", avg) == avg and drivers.finding_note("aware_within15_logit", "m") == "m"


def test_eight_haves_frame_scores_and_standardisation():
    from helpers.data.schema import EIGHT_HAVES

    com = pd.DataFrame({"community_id": ["A", "B", "C"], "funding_10k_yuan": [10.0, 20.0, 60.0], "staff": [2, 4, 6]})
    items = {h: [1, 0, 1, 1] for h in EIGHT_HAVES}
    items["has_space"] = [0, 0, 1, 1]
    sp = pd.DataFrame({"point_id": ["p1", "p2", "p3", "p4"], "community_id": ["A", "B", "C", "C"],
                       "level": "community_station", **items})
    f = claims.eight_haves_frame(sp, com).set_index("point_id")
    assert f["score"].tolist() == [7, 0, 8, 8]
    assert (f["items"] == 8).all()
    mean, sd = 30.0, np.sqrt(((10 - 30) ** 2 + (20 - 30) ** 2 + (60 - 30) ** 2) / 3)  # population sd
    assert f.loc["p1", "funding_std"] == pytest.approx((10 - mean) / sd)
    assert f.loc["p3", "staff_std"] == pytest.approx((6 - 4) / np.sqrt(8 / 3))


def test_model_variables_are_the_columns_a_specification_names():
    from helpers.stats import specs

    cols = ["resp_id", "district_id", "community_id", "aware_center", "within15", "band15_30", "migrant_share",
            "sat_score", "participated", "share_60plus", "weight"]
    glm = specs.GLMSpec("aware_center ~ within15 + band15_30 + migrant_share + C(district_id)", cluster="community_id")
    assert drivers.model_variables(glm, cols) == ["district_id", "community_id", "aware_center", "within15",
                                                  "band15_30", "migrant_share"]
    med = specs.MediationSpec("aware_center", "participated", "sat_score", mediator_covariates=("share_60plus",),
                              outcome_covariates=("within15", "C(district_id)"), cluster="community_id")
    assert drivers.model_variables(med, cols) == ["district_id", "community_id", "aware_center", "within15",
                                                  "sat_score", "participated", "share_60plus"]
    mixed = specs.MixedSpec("sat_score ~ participated", group="district_id", nested="community_id")
    assert drivers.model_variables(mixed, cols) == ["district_id", "community_id", "sat_score", "participated"]
    with pytest.raises(TypeError, match="specification"):
        drivers.model_variables("y ~ x", cols)


def test_item_nonresponse_counts_by_hand():
    f = pd.DataFrame({"a": [1, np.nan, 1, np.nan, 1], "w1": [1, 1, np.nan, np.nan, 0], "w2": [0, 0, np.nan, 1, 1],
                      "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    tab, complete = drivers.item_nonresponse(f, ["a", "w1", "w2", "b"], {"w1": "walk", "w2": "walk", "a": "Aware"})
    assert tab.to_dict("records") == [{"label": "Aware", "variables": "a", "missing": 2},
                                      {"label": "walk", "variables": "w1, w2", "missing": 2},  # rows 3 and 4
                                      {"label": "b", "variables": "b", "missing": 0}]
    assert complete == 2  # rows 1 and 5
    with pytest.raises(KeyError, match="'zz'"):
        drivers.item_nonresponse(f, ["a", "zz"])


def test_complete_rows_are_the_rows_a_fit_uses(logit_data):
    """The rows item_nonresponse counts as complete are those statsmodels keeps (missing='drop')."""
    import statsmodels.formula.api as smf

    from helpers.stats import specs

    rng = np.random.default_rng(RNG_SEED + 1)
    d = logit_data.copy()
    for c in ("y", "within15", "share"):
        d.loc[rng.uniform(size=len(d)) < 0.04, c] = np.nan
    spec = specs.GLMSpec("y ~ within15 + band15_30 + share", cluster="cluster")
    _, complete = drivers.item_nonresponse(d, drivers.model_variables(spec, d.columns))
    ref = smf.logit("y ~ within15 + band15_30 + share", d, missing="drop").fit(disp=False)
    assert complete == int(ref.nobs) == spec.fit(d).nobs < len(d)


def test_adoption_summary_and_what_the_event_study_can_estimate():
    from helpers.stats import eventstudy

    units = [f"S{i}" for i in range(7)]
    adopt = pd.DataFrame({"subdistrict_id": units, "platform_year": [2019, 2021, 2022, 2022, 2026, np.nan, 2021]})
    panel = pd.DataFrame([{"subdistrict_id": u, "year": t, "coverage": float(i + t - 2021)}
                          for i, u in enumerate(units) for t in (2021, 2022, 2023)])
    s = drivers.adoption_summary(panel, adopt)
    assert s == {"first": 2021, "last": 2023, "units": 7, "before": 3, "staggered": 2, "cohorts": [2022], "later": 1,
                 "never": 1, "identifiable": True}
    eventstudy.event_study(panel, adopt)  # identifiable: it runs
    # no never-adopter, but two cohorts: the later one is the earlier one's control until it adopts
    two_cohorts = adopt.assign(platform_year=[2019, 2021, 2022, 2022, 2023, 2023, 2021])
    s = drivers.adoption_summary(panel, two_cohorts)
    assert s["staggered"] == 4 and s["cohorts"] == [2022, 2023] and s["identifiable"]
    eventstudy.event_study(panel, two_cohorts)
    # one cohort and no one left to compare it with: nothing to estimate
    one_cohort = adopt.assign(platform_year=[2019, 2021, 2022, 2022, 2021, 2020, 2021])
    assert not drivers.adoption_summary(panel, one_cohort)["identifiable"]
    with pytest.raises(ValueError, match="no identifiable"):
        eventstudy.event_study(panel, one_cohort)
    all_before = adopt.assign(platform_year=[2019, 2021, 2020, 2021, np.nan, np.nan, 2021])
    assert not drivers.adoption_summary(panel, all_before)["identifiable"]
    with pytest.raises(ValueError, match="no identifiable"):
        eventstudy.event_study(panel, all_before)


def test_coef_table_takes_the_claims_labels_and_keys(logit_data):
    from helpers.stats import specs

    spec = specs.GLMSpec("y ~ within15 + band15_30 + share", cluster="cluster")
    claim = claims.Claim("toy", (2,), "statement", "observational", (), lambda t: (t,), spec,
                         truth={"within15": "key_w"}, labels={"within15": "Toy: near (log-odds)",
                                                              "share": "Toy: share (log-odds)"})
    fit = spec.fit(logit_data)
    t = drivers.coef_table({"Toy model": (claim, fit)}, scales={"Toy model": "log-odds"})
    assert t["term"].tolist() == ["within15", "share"] and t["label"].tolist() == ["Toy: near (log-odds)",
                                                                                  "Toy: share (log-odds)"]
    assert t["key"].tolist() == ["key_w", ""] and (t["scale"] == "log-odds").all() and (t["nobs"] == len(logit_data)).all()
    for r in t.itertuples():
        ref = fit.term(r.term)
        assert (r.estimate, r.se, r.ci_low, r.ci_high, r.p) == (ref["estimate"], ref["se"], ref["ci_low"],
                                                                ref["ci_high"], ref["p"])
    assert drivers.coef_table({"Toy model": (claim, fit)}, terms={"Toy model": ["band15_30"]})["term"].tolist() == [
        "band15_30"]
    with pytest.raises(KeyError, match="no terms"):
        drivers.coef_table({"Toy model": (claim, fit)}, terms={"Toy model": ["nope"]})
    fig = drivers.coef_plot(t, {"key_w": 0.9})
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["Near", "Share"]
    assert ax.get_xlabel() == "log-odds" and ax.get_title(loc="left") == "Toy model"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_format_rows_writes_numbers_as_fmt_does():
    df = pd.DataFrame({"term": ["a", "b", "c"], "estimate": [0.15321, 6.1562, 2.0], "se": [0.0094, 0.25, np.nan],
                       "ci_low": [0.1348, 5.66, 1.0], "ci_high": [0.1716, 6.64, 3.0], "p": [0.0002, 0.0456, np.nan]})
    t = drivers.format_rows(df, {"b": "B path", "a": "A path", "c": "C"}, header="Path")
    assert t.columns.tolist() == ["Path", "Estimate (95% CI)", "SE", "p"]
    assert t["Path"].tolist() == ["B path", "A path", "C"]
    assert t["Estimate (95% CI)"].tolist() == ["6.16 (5.66 to 6.64)", "0.153 (0.135 to 0.172)", "2.0 (1.0 to 3.0)"]
    assert t["SE"].tolist() == ["0.25", "0.009", "–"] and t["p"].tolist() == ["0.046", "< 0.001", "–"]
    assert drivers.format_rows(df.drop(columns=["se", "p"]), {"a": "A"}).columns.tolist() == ["Quantity",
                                                                                            "Estimate (95% CI)"]
    with pytest.raises(KeyError, match="'z'"):
        drivers.format_rows(df, {"z": "Z"})


# ============================================================================ 06_index
@pytest.fixture(scope="module")
def tables():
    from helpers.data.load import load_all

    return load_all(tables=ix.TABLES)


@pytest.fixture(scope="module")
def long(tables):
    return ix.district_indicators(tables, 2024, 2024)


def _indicators_by_hand(tables, yr):
    """The ten indicators by plain pandas (pooled ratios, weighted means), independent of helpers.studies.index."""
    from helpers.data.schema import EIGHT_HAVES

    cmap = tables["community_boundaries"][["community_id", "district_id"]].drop_duplicates()

    def pooled(df, num, den):
        g = df.merge(cmap, on="community_id").groupby("district_id")[[num, den]].sum()
        return 100.0 * g[num] / g[den]

    m = tables["members"][tables["members"]["year"] == yr]
    jb = tables["joint_building"][tables["joint_building"]["year"] == yr]
    o = tables["organisations"]
    closed = pd.to_numeric(o["year_closed"], errors="coerce").astype("float64")
    porg = pd.to_numeric(o["party_org_year"], errors="coerce").astype("float64")
    o = o.assign(active=((o["year_founded"] <= yr) & (closed.isna() | (closed > yr))).astype(int))
    o = o.assign(covered=((o["active"] == 1) & (o["party_org_mode"] != "none") & (porg <= yr)).astype(int))
    sv = tables["survey"]
    sv = sv[(sv["year"] == yr) & (sv["responded"] == 1)].copy()
    sv["within15"] = (sv["walk_minutes"] <= 15).astype(float).where(sv["walk_minutes"].notna())

    def wmean(col, scale=1.0):
        s = sv[["district_id", "weight", col]].dropna()
        return s.groupby("district_id").apply(lambda f: scale * np.average(f[col], weights=f["weight"]),
                                              include_groups=False)

    sp = tables["service_points"]
    sp = sp[sp["year_opened"] <= yr].merge(cmap, on="community_id")
    return pd.DataFrame({
        "org_coverage": pooled(o, "covered", "active"),
        "mobile_organised": pooled(m, "mobile_organised", "mobile_in"),
        "walk15_reported": wmean("within15", 100.0),
        "eight_haves": sp.assign(h=sp[list(EIGHT_HAVES)].sum(axis=1)).groupby("district_id")["h"].mean(),
        "registration": pooled(m, "registered", "in_service_resident"),
        "agreement_share": pooled(jb, "signed_agreements", "resident_units"),
        "participated": wmean("participated", 100.0),
        "sat_score": wmean("sat_score"),
        "aware": wmean("aware_center", 100.0),
        "trust": wmean("trust_committee"),
    })


def test_district_indicators_match_a_computation_by_hand(tables, long):
    ref = _indicators_by_hand(tables, 2024)
    got = ix.indicator_matrix(long).set_index("district_id").loc[ref.index]
    assert list(got.columns) == list(ix.INDICATORS)
    for c in ix.INDICATORS:
        np.testing.assert_allclose(got[c].to_numpy(), ref[c].to_numpy(), rtol=1e-10, err_msg=c)
    assert set(long["label"]) == {measures.label(k) for k in ix.INDICATORS}


def test_indicators_are_glossary_measures_and_the_spec_uses_them():
    spec = ix.default_spec()
    assert set(spec.indicators) == set(ix.INDICATORS)
    for k in ix.INDICATORS:
        measures.measure(k)  # raises when the glossary lacks it
    # the survey's walking time is self-reported: never the distance-based service circle's name
    assert measures.label("walk15_reported") != measures.label("service_circle")
    assert ix.INDICATORS["walk15_reported"].source == "survey"


def test_indicator_uncertainty_by_hand(tables, long):
    from helpers.data.concepts import community_lookup
    from helpers.data.schema import EIGHT_HAVES

    cmap = community_lookup(tables)
    # registration: binomial SE of the pooled rate, and Wilson limits
    m = tables["members"].query("year == 2024").merge(cmap, on="community_id")
    g = m.groupby("district_id")[["registered", "in_service_resident"]].sum()
    p = g["registered"] / g["in_service_resident"]
    r = long.query("indicator == 'registration'").set_index("district_id").loc[g.index]
    np.testing.assert_allclose(r["se"], 100 * np.sqrt(p * (1 - p) / g["in_service_resident"]), rtol=1e-10)
    n, z = g["in_service_resident"], stats.norm.ppf(0.975)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    np.testing.assert_allclose(r["ci_low"], 100 * (centre - half), rtol=1e-9)
    # eight-haves: mean and sd / sqrt(n) over the points open in 2024
    sp = tables["service_points"].query("year_opened <= 2024").merge(cmap, on="community_id")
    h = sp.assign(h=sp[list(EIGHT_HAVES)].sum(axis=1)).groupby("district_id")["h"]
    e = long.query("indicator == 'eight_haves'").set_index("district_id").loc[h.mean().index]
    np.testing.assert_allclose(e["se"], h.std(ddof=1) / np.sqrt(h.size()), rtol=1e-10)
    # survey percentages: intervals clipped to [0, 100], estimate inside
    s = long[long["indicator"].isin(["walk15_reported", "participated", "aware"])]
    assert len(s) == 3 * 12
    assert (s["ci_low"] >= 0).all() and (s["ci_high"] <= 100).all()
    assert ((s["ci_low"] <= s["estimate"]) & (s["estimate"] <= s["ci_high"])).all()
    assert (long.query("source == 'survey'")["n"] >= 10).all()


def test_index_years_come_from_the_data(tables):
    from helpers.data import period as periods
    from helpers.data.period import StudyPeriod

    assert ix.index_years(tables) == (2024, 2024)
    assert ix.index_years(tables, 2021) == (2021, 2021)
    # a survey that stops before the year: its last year up to it
    t = periods.stamp({**tables, "survey": tables["survey"].query("year <= 2022")}, StudyPeriod(2018, 2024, "test"))
    assert ix.index_years(t) == (2024, 2022)
    t = periods.stamp({k: v for k, v in tables.items() if k != "survey"}, StudyPeriod(2018, 2024, "test"))
    assert ix.index_years(t) == (2024, None)
    with pytest.raises(ValueError, match="outside the study period 2018-2024"):
        ix.index_years(tables, 2030)


def test_index_spec_leaves_out_what_the_data_lack(tables, long):
    spec, out = ix.index_spec(long)
    assert out.empty and spec.indicators == ix.default_spec().indicators
    # absent tables: their indicators are left out, the others keep their weights
    no_sp = {k: v for k, v in tables.items() if k not in ("service_points", "members")}
    part = ix.district_indicators(no_sp, 2024, 2024)
    spec, out = ix.index_spec(part)
    assert set(out["indicator"]) == {"eight_haves", "mobile_organised", "registration"}
    assert set(out["reason"]) == {"absent table"} and "service_points" in set(out["table"])
    assert spec.pillars["coverage"] == {"org_coverage": "higher", "walk15_reported": "higher"}
    assert spec.pillars["participation"] == {"agreement_share": "higher", "participated": "higher"}
    # a value missing for a district, or an indicator equal everywhere: left out with the reason
    odd = long.copy()
    odd.loc[(odd["indicator"] == "agreement_share") & (odd["district_id"] == "D03"), "estimate"] = np.nan
    odd.loc[odd["indicator"] == "trust", "estimate"] = 3.0
    _, out = ix.index_spec(odd)
    got = out.set_index("indicator")
    assert got.loc["agreement_share", "reason"] == "missing for some districts"
    assert got.loc["agreement_share", "districts"] == "D03"
    assert got.loc["trust", "reason"] == "the same in every district"
    # without the survey the satisfaction pillar is empty: the index is not built
    no_survey = ix.district_indicators({k: v for k, v in tables.items() if k != "survey"}, 2024)
    with pytest.raises(ValueError, match="pillar.s. satisfaction would have no indicator"):
        ix.index_spec(no_survey)


def test_the_study_uses_the_one_monte_carlo(long):
    """The study's noise analysis is composite's Monte Carlo with the indicators' SEs and ranges:
    zero SEs reproduce the base exactly; with SEs, draws stay inside each indicator's range."""
    spec, _ = ix.index_spec(long)
    base = spec.compute(ix.indicator_matrix(long))
    quiet = ix.indicator_matrix(long.assign(se=0.0), "se")
    u = base.uncertainty(n_sim=20, seed=1, level=0.95, method=False, se=quiet, bounds=ix.bounds(spec))
    s = u.summary.set_index("district_id").loc[base.scores["district_id"]]
    np.testing.assert_allclose(s["score_low"], base.scores["index"], rtol=1e-12)
    np.testing.assert_allclose(s["score_high"], base.scores["index"], rtol=1e-12)
    assert (s["rank_low"].to_numpy() == base.scores["rank"].to_numpy()).all()
    assert ix.bounds(spec)["trust"] == (1.0, 5.0) and ix.bounds(spec)["eight_haves"] == (0.0, 8.0)
    a = base.uncertainty(n_sim=60, seed=7, level=0.95, se=ix.indicator_matrix(long, "se"), bounds=ix.bounds(spec))
    b = base.uncertainty(n_sim=60, seed=7, level=0.95, se=ix.indicator_matrix(long, "se"), bounds=ix.bounds(spec))
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.varied == ("method", "indicators")
    assert ((a.summary["rank_low"] >= 1) & (a.summary["rank_high"] <= 12)).all()


def test_separable_pairs_and_separation():
    s = pd.DataFrame({"district_id": ["A", "B", "C"], "rank": [1, 2, 3], "rank_low": [1, 1, 3], "rank_high": [1, 2, 3]})
    p = ix.separable_pairs(s).set_index(["unit_a", "unit_b"])["overlap"]
    assert p[("A", "B")] and not p[("A", "C")] and not p[("B", "C")]
    shown, data = ix.separation(s)
    t = data.set_index("district_id")
    assert t["apart_from"].to_dict() == {"A": 1, "B": 1, "C": 2}
    assert t.loc["C", "above"] == "A, B" and t.loc["A", "below"] == "C" and t.loc["B", "above"] == ""
    assert shown["Rank (95% interval)"].tolist() == ["1st of 3", "between 1st and 2nd of 3", "3rd of 3"]
    assert shown.loc[1, "Districts placed above it"] == "none"


def test_score_table_states_ranks_under_the_rank_rule():
    scores = pd.DataFrame({"district_id": ["A", "B", "C"], "coverage": [90.0, 50.0, 10.0],
                           "index": [80.0, 50.0, 20.0], "rank": [1.0, 2.0, 3.0]})

    def summ(lo, hi):
        return pd.DataFrame({"district_id": ["A", "B", "C"], "score_low": [70.0, 40.0, 10.0],
                             "score_high": [90.0, 60.0, 30.0], "rank_low": lo, "rank_high": hi})

    units = pd.DataFrame({"district_id": ["A", "B", "C"], "name_en": ["Aa", "Bb", "Cc"]})
    shown, data = ix.score_table(summ([1, 2, 3], [1, 2, 3]), summ([1, 1, 2], [2, 3, 3]), summ([1, 1, 3], [1, 3, 3]),
                                 units, scores)
    assert shown["District"].tolist() == ["Aa", "Bb", "Cc"]
    assert shown["Rank (noise and method)"].tolist() == ["1st of 3", "between 1st and 3rd of 3", "3rd of 3"]
    assert shown["Rank (method choices only)"].tolist()[0] == "between 1st and 2nd of 3"
    assert shown["Index (95% interval, indicator noise)"].tolist()[0] == "80 (70 to 90)"
    assert data.loc[1, "rank_high"] == 3 and data.loc[1, "rank_high_method"] == 3


def test_rank_agreement_by_hand():
    rng = np.random.default_rng(RNG_SEED)
    x = pd.DataFrame({"district_id": list("ABCDEFGHIJKL"), "a": rng.normal(size=12)})
    y = pd.DataFrame({"district_id": list("ABCDEFGHIJKL"), "b": x["a"] + rng.normal(size=12)})
    r = ix.rank_agreement(x, "a", y, "b")
    rho = stats.spearmanr(x["a"], y["b"]).statistic
    h = 1.959963984540054 * 1.06 / np.sqrt(9)
    assert r["estimate"] == pytest.approx(rho)
    assert r["ci_low"] == pytest.approx(np.tanh(np.arctanh(rho) - h))
    assert r["ci_high"] == pytest.approx(np.tanh(np.arctanh(rho) + h))
    assert r["n"] == 12
    three = ix.rank_agreement(x.head(3), "a", y.head(3), "b")
    assert three["n"] == 3 and np.isnan(three["ci_low"])


def test_assessment_by_district():
    a = pd.DataFrame({"community_id": ["c1", "c2", "c3", "c1"], "year": [2024, 2024, 2024, 2023],
                      "score": [70.0, 80.0, 60.0, 10.0]})
    cmap = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "district_id": ["D1", "D1", "D2"]})
    t = ix.assessment_by_district(a, cmap, 2024).set_index("district_id")
    assert t.loc["D1", "assessment_mean"] == 75.0 and t.loc["D1", "communities"] == 2
    assert t.loc["D2", "assessment_mean"] == 60.0


def test_planted_agreement_uses_the_district_effects(long):
    w = ix.indicator_matrix(long)
    eff = {d: {"sat_score_district_effect": float(v)} for d, v in zip(w["district_id"], w["sat_score"])}
    t = ix.planted_agreement(long, {"district_effects": eff})
    assert list(t["indicator"]) == ["sat_score"] and list(t["label"]) == [measures.label("sat_score")]
    assert t.loc[0, "estimate"] == pytest.approx(1.0)
    assert ix.planted_agreement(long, None) is None
    assert t.loc[0, "districts"] == 12


def test_indicator_data_suppresses_thin_survey_rows_only(long):
    thin = long.copy()
    thin.loc[thin["district_id"] == "D01", "n"] = 5.0  # both a survey row and administrative rows
    d = ix.indicator_data(thin)
    assert "n" not in d.columns and "count" in d.columns
    d01 = d[d["district_id"] == "D01"].set_index("indicator")
    assert d01.loc["sat_score", "estimate"] == "suppressed (n < 10)"
    assert d01.loc["eight_haves", "estimate"] == long.query("district_id == 'D01' and indicator == 'eight_haves'")[
        "estimate"].iloc[0]  # five service points are not five respondents
    assert (d[d["district_id"] != "D01"]["estimate"].map(type) != str).all()


def test_spec_table_weights_sum_to_one_per_pillar():
    spec = ix.default_spec()
    shown, data = ix.spec_table(spec)
    assert set(data["indicator"]) == set(spec.indicators)
    np.testing.assert_allclose(data.groupby("pillar")["weight_in_pillar"].sum(), 1.0)
    np.testing.assert_allclose(data.drop_duplicates("pillar")["pillar_weight"].sum(), 1.0)
    assert shown["Measure"].tolist() == [measures.label(k) for k in spec.indicators]


def test_sensitivity_table_names_choices_in_words():
    sens = pd.DataFrame({"factor": ["aggregation", "drop indicator", "weight", "normalisation"],
                         "choice": ["geometric", "walk15_reported", "coverage", "rank"],
                         "mean_abs_rank_shift": [1.5, 1.0, 0.5, 0.25], "max_abs_rank_shift": [4.0, 3.0, 1.0, 1.0],
                         "share_units_moved": [1.0, 0.5, 0.25, 0.125]})
    shown, data = ix.sensitivity_table(sens, top=3)
    assert shown["Choice"].tolist() == ["aggregate geometrically",
                                        f"leave out “{measures.label('walk15_reported')}”",
                                        "perturb the weight of the coverage pillar"]
    assert shown["Districts moved"].tolist() == ["100%", "50%", "25%"]
    assert shown["Mean rank shift"].tolist() == ["1.50", "1.00", "0.50"]


# ---------------------------------------------------------------------------- 04: design-based fits
SURVEY_CLAIMS = ("awareness", "participation", "service_satisfaction", "satisfaction")


def test_design_based_specification_is_declared_once_in_the_registry():
    from helpers.data import concepts
    from helpers.stats import specs

    have = {n for n, c in claims.CLAIMS.items() if c.design_based is not None}
    assert have == set(SURVEY_CLAIMS)
    for n in SURVEY_CLAIMS:
        c = claims.CLAIMS[n]
        db = c.design_based
        assert isinstance(db, specs.SurveyModelSpec)
        assert db.design is concepts.SURVEY_DESIGN  # the resident survey's design, not a copy
        assert "survey" in c.tables
        # same outcome, and every coefficient the claim labels (but random-effect SDs) is in the design-based formula
        lhs, rhs = (x.strip() for x in db.formula.split("~"))
        assert lhs == c.spec.formula.split("~")[0].strip()
        for t in c.labels:
            if not t.startswith("sd("):
                assert t in rhs.replace(" ", "").split("+"), (n, t)
        assert (db.family == "ordinal") == isinstance(c.spec, specs.OrdinalSpec)
        assert c.design_note
    with pytest.raises(ValueError, match="registration.*not a sample survey"):
        claims.CLAIMS["registration"].fit_design_based({})
    # the notebook fits the registry's specification and writes none of its own
    from helpers.paths import ROOT

    src = (ROOT / "notebooks" / "04_drivers.py").read_text()
    assert "fit_design_based" in src and "equal_weights_fit" in src
    assert "svyglm(" not in src and "svyolr(" not in src and "SurveyDesign(" not in src


def test_survey_model_spec_errors():
    from helpers.stats import specs

    with pytest.raises(ValueError, match="family 'logit'"):
        specs.SurveyModelSpec("y ~ x", family="logit", design={"weight": "w"})
    with pytest.raises(ValueError, match="needs design="):
        specs.SurveyModelSpec("y ~ x")


@pytest.fixture(scope="module")
def weighted_claim():
    """A claim-like registry entry on simulated respondents: strata, PSUs, unequal weights that go
    with the size of the association (so weighting moves the estimate)."""
    from helpers.stats import specs

    rng = np.random.default_rng(RNG_SEED)
    rows = []
    for h in range(4):
        for j in range(8):
            n = 25
            x = rng.integers(0, 2, n).astype(float)
            u = rng.normal(0, 1)
            slope = 1.0 + h  # the association grows with the stratum, whose weight differs
            rows.append(pd.DataFrame({"stratum": f"S{h}", "psu": f"S{h}P{j}", "x": x, "fpc": 30.0,
                                      "w": (h + 1) * 10 * rng.uniform(0.8, 1.2, n),
                                      "y": 2 + slope * x + u + rng.normal(0, 1, n)}))
    frame = pd.concat(rows, ignore_index=True)
    frame.loc[3, "y"] = np.nan  # item nonresponse: left out of both fits
    design = {"weight": "w", "strata": "stratum", "psu": "psu", "fpc": "fpc"}
    claim = claims.Claim("toy", (0,), "x goes with y", "observational", ("toy",), lambda t: (t["toy"],),
                         specs.GLMSpec("y ~ x + C(stratum)", family="gaussian", cluster="psu"),
                         labels={"x": "Toy: x (points)"},
                         design_based=specs.SurveyModelSpec("y ~ x + C(stratum)", "gaussian", design=design))
    return claim, {"toy": frame}, frame


def test_design_comparison_against_statsmodels(weighted_claim):
    import statsmodels.formula.api as smf

    claim, tables, frame = weighted_claim
    model, design = claim.fit(tables), claim.fit_design_based(tables)
    equal = drivers.equal_weights_fit(claim, tables)
    cmp = drivers.design_comparison(claim, model, design, equal).set_index("term")
    d = frame.dropna(subset=["y"])
    wls = smf.wls("y ~ x + C(stratum)", d, weights=d["w"]).fit()
    ols = smf.ols("y ~ x + C(stratum)", d).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d["psu"])[0]})
    r = cmp.loc["x"]
    assert r["estimate_design"] == pytest.approx(wls.params["x"], rel=1e-10)  # survey-weighted = WLS point estimate
    assert r["estimate"] == pytest.approx(ols.params["x"], rel=1e-10)
    assert r["estimate_equal"] == pytest.approx(ols.params["x"], rel=1e-10)  # same formula: only the weights differ
    assert r["specification"] == pytest.approx(0, abs=1e-10)
    assert r["weighting"] + r["specification"] == pytest.approx(r["difference"], rel=1e-12)
    assert r["difference"] == pytest.approx(wls.params["x"] - ols.params["x"], rel=1e-9)
    assert r["difference_se"] == pytest.approx(r["difference"] / r["se"])
    assert r["se_ratio"] == pytest.approx(r["se_design"] / r["se"])
    assert r["estimable"]
    assert r["weighting"] > 0  # heavier weights where the association is stronger
    assert r["nobs"] == r["nobs_design"] == len(d)
    # design df: PSUs minus strata, less the coefficients but one
    assert r["df_design"] == 32 - 4 - (5 - 1)
    assert list(cmp.index) == ["x"] and r["label"] == "Toy: x (points)"
    with pytest.raises(KeyError, match="no terms"):
        drivers.design_comparison(claim, model, design, terms=["z"])


def test_weight_variation_by_hand():
    df = pd.DataFrame({"w": [1.0, 3.0, 10.0, 14.0], "h": ["a", "a", "b", "b"]})
    w = df["w"].to_numpy()
    out = drivers.weight_variation(df, "w", "h")
    assert out["cv"] == pytest.approx(w.std() / w.mean())
    assert out["deff"] == pytest.approx(len(w) * (w ** 2).sum() / w.sum() ** 2)  # Kish: n sum w^2 / (sum w)^2
    assert out["ratio"] == pytest.approx(14.0)
    within = np.mean([1.0, 1.0, 4.0, 4.0])  # squared deviations from the stratum means 2 and 12
    assert out["share_within"] == pytest.approx(within / w.var())
    assert out["cv_within"] == pytest.approx(np.sqrt(within) / w.mean())
    with pytest.raises(ValueError, match="'w'.*positive"):
        drivers.weight_variation(df.assign(w=[1.0, 0.0, 2.0, 3.0]), "w")


def test_term_text():
    assert drivers.term_text("Thermometer: took part (points)") == "took part"
    assert drivers.term_text("Awareness: community migrant share, per unit (log-odds)") == \
        "community migrant share, per unit"


def test_estimate_reads_the_design_based_specification(weighted_claim, monkeypatch):
    """claims.estimate(design_based=True) - what the coverage study would call - fits Claim.design_based."""
    claim, tables, frame = weighted_claim
    toy = claims.Claim(**{**{f: getattr(claim, f) for f in claim.__dataclass_fields__}, "truth": {"x": "toy_x"}})
    monkeypatch.setitem(claims.CLAIMS, "toy", toy)
    rows = claims.estimate(tables, ["toy"], design_based=True, truth={"effects": {"toy_x": 2.5}}).set_index("term")
    direct = toy.design_based.fit(frame).term("x")
    assert rows.loc["x", "estimate"] == pytest.approx(direct["estimate"], rel=1e-12)
    assert rows.loc["x", "ci_low"] == pytest.approx(direct["ci_low"], rel=1e-12)
    assert rows.loc["x", "truth"] == 2.5
    model = claims.estimate(tables, ["toy"]).set_index("term")
    assert model.loc["x", "estimate"] != pytest.approx(direct["estimate"], rel=1e-6)


@pytest.mark.parametrize("ids", [None, ["D01", "D02", "D03", "D04", "D05"]], ids=["12 districts", "5 districts"])
def test_index_map_names_every_district_unambiguously(tables, long, ids):
    """06's map: every district named, no name on another district or on another name, at the report's dpi."""
    import matplotlib.pyplot as plt
    import shapely

    from helpers.viz import labels as vlabels
    from helpers.viz import style

    style.use_project_style()  # as every report does (the fonts decide what fits)
    districts = tables["districts"]
    spec, _ = ix.index_spec(long)
    scores = spec.compute(ix.indicator_matrix(long)).scores
    if ids is not None:
        districts = districts[districts["district_id"].isin(ids)]
        scores = scores[scores["district_id"].isin(ids)]
    ax = ix.plot_index_map(districts, scores)
    fig = ax.figure
    fig.set_dpi(110)  # the dpi of the report's figures
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    (res,) = [a for a in ax.artists if isinstance(a, vlabels.LabelResolver)]
    assert sorted(t.full_text for t in res.labels) == sorted(districts["name_en"])
    assert res.n_dropped == 0 and all(t.get_visible() for t in res.labels)
    assert vlabels.overlapping_pairs(res.labels, r) == []
    assert vlabels.region_conflicts(res, r) == []
    # each label's anchor is inside its own district, and a label inside a district is wholly inside it
    geom = districts.set_index("name_en").geometry
    for t in res.labels:
        assert geom[t.full_text].contains(shapely.Point(t.anchor))
        if t.placement == "inside":
            e = t.get_window_extent(r)
            own = shapely.transform(geom[t.full_text], ax.transData.transform)
            assert own.contains(shapely.box(e.x0, e.y0, e.x1, e.y1)), t.full_text
    # area labels (each knows its district), each inside it or a callout: none left at a point that may spill
    assert all(t.region is not None and t.placement in ("inside", "callout") for t in res.labels)
    plt.close(fig)


def test_hazard_units_account_for_every_sub_district_as_the_fixed_effects_logit_does():
    """hazard_units' statuses agree with what the absorbed logit itself drops and keeps, and the units with
    no row at risk, which the fit never sees, are counted too."""
    from helpers.studies import drivers

    rng = np.random.default_rng(7)
    rows = []
    for s, (n, kind) in enumerate([(40, "mixed")] * 6 + [(12, "none"), (5, "all"), (1, "none")]):
        x = rng.normal(size=n)
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 0.5)))).astype(int) if kind == "mixed" else \
            np.full(n, int(kind == "all"))
        if kind == "mixed":
            y[:2] = [0, 1]
        rows.append(pd.DataFrame({"subdistrict_id": f"S{s}", "x": x, "event": y}))
    at_risk = pd.concat(rows, ignore_index=True)
    units = [f"S{s}" for s in range(10)]  # S9 has no row at risk
    u = drivers.hazard_units(at_risk, units)
    assert u["subdistrict_id"].tolist() == units
    assert u.set_index("subdistrict_id")["status"].to_dict() == {
        **{f"S{s}": "used" for s in range(6)}, "S6": "no event", "S7": "all events", "S8": "no event",
        "S9": "no row at risk"}
    from helpers.stats import specs

    spec = specs.GLMSpec("event ~ x", absorb="subdistrict_id", cluster="subdistrict_id")
    fit = spec.fit(at_risk)
    assert fit.info["absorbed_groups"] == (u["status"] == "used").sum()
    assert fit.info["dropped_groups"] == u["status"].isin(["no event", "all events"]).sum()
    assert fit.info["fitted_rows"] == u.loc[u["status"] == "used", "rows"].sum()
    # the coefficient table reports the rows the fit used, as Table 1 of the report does
    claim = claims.Claim("toy_hazard", (1,), "toy", "staggered roll-out", (), lambda t: (t,), spec,
                         labels={"x": "Toy: x (log-odds)"})
    t = drivers.coef_table({"Toy": (claim, fit)})
    assert t["nobs"].tolist() == [fit.info["fitted_rows"]] and fit.nobs == len(at_risk)
    with pytest.raises(KeyError, match="event"):
        drivers.hazard_units(at_risk.drop(columns="event"), units)
