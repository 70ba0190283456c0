"""Computations of the district_profile notebook, checked against plain pandas sums, the
collection's rules applied as the other reports apply them, and folders without a survey."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.data import concepts, load
from helpers.data.truth import truth_registration
from helpers.publish import report
from helpers.studies import participation, profile, verdicts


@pytest.fixture(scope="module")
def tables():
    return load.load_all(tables=list(profile.TABLES) + ["joint_building"])


@pytest.fixture(scope="module")
def year(tables):
    return load.study_period(tables).last


@pytest.fixture(scope="module")
def pdata(tables):
    return profile.build(tables, truth_registration=truth_registration(None), n_sim=400)


def _est(data, unit, measure):
    e = data.estimates
    return e[(e["unit"] == unit) & (e["measure"] == measure)].iloc[0]


def test_the_year_is_the_latest_of_the_data(pdata, year, tables):
    assert pdata.year == year and pdata.survey_year == int(tables["survey"]["year"].max())
    assert pdata.absent == {} and pdata.available == list(profile.MEASURE_KEYS)


def test_rates_and_survey_means_match_direct_computation(pdata, tables, year):
    m = tables["members"]
    m = m[m["year"] == year].merge(concepts.community_lookup(tables), on="community_id")
    g = m.groupby("district_id")[["registered", "in_service_resident"]].sum()
    for d, row in g.iterrows():
        assert _est(pdata, d, "registration")["estimate"] == pytest.approx(row["registered"] / row["in_service_resident"])
    assert _est(pdata, "city", "registration")["estimate"] == pytest.approx(g["registered"].sum()
                                                                            / g["in_service_resident"].sum())
    # organisational coverage by the organisation-year rule, written out with plain pandas
    o = tables["organisations"].merge(concepts.community_lookup(tables), on="community_id")
    closed = pd.to_numeric(o["year_closed"]).astype(float)
    porg = pd.to_numeric(o["party_org_year"]).astype(float)
    active = (o["year_founded"] <= year) & (closed.isna() | (closed > year))
    covered = active & (o["party_org_mode"] != "none") & (porg <= year)
    rate = covered.groupby(o["district_id"]).sum() / active.groupby(o["district_id"]).sum()
    for d, r in rate.items():
        assert _est(pdata, d, "org_coverage")["estimate"] == pytest.approx(r)
    # the thermometer: weighted means of respondents of the survey year
    sv = tables["survey"]
    s = sv[(sv["year"] == pdata.survey_year) & (sv["responded"] == 1) & sv["sat_score"].notna()]
    wm = (s["weight"] * s["sat_score"]).groupby(s["district_id"]).sum() / s["weight"].groupby(s["district_id"]).sum()
    for d, v in wm.items():
        assert _est(pdata, d, "sat_score")["estimate"] == pytest.approx(v, rel=1e-12)
    assert _est(pdata, "city", "sat_score")["estimate"] == pytest.approx(
        (s["weight"] * s["sat_score"]).sum() / s["weight"].sum(), rel=1e-12)


def test_verdicts_are_those_of_the_other_reports(pdata, tables, year):
    """The same rule on the same inputs as 01 (coverage) and 02 (registration, residents taking part)."""
    v = pdata.verdicts.set_index(["unit", "measure"])["verdict"]
    panel = participation.member_frame(tables)  # as 02_participation
    _, reg = verdicts.rate_verdicts(panel[panel["year"] == year].groupby("district_id", as_index=False)[
        ["registered", "in_service_resident"]].sum(), "registered", "in_service_resident", "district_id")
    org = concepts.organisation_years(tables["organisations"], concepts.community_lookup(tables),
                                      load.study_years(tables))
    _, cov = verdicts.rate_verdicts(org[org["year"] == year].groupby("district_id", as_index=False)[
        ["covered", "active"]].sum(), "covered", "active", "district_id")
    resp = concepts.resident_respondents(tables["survey"], tables["communities"])
    design = concepts.resident_survey_design(resp)
    for item in profile.SURVEY_ITEMS:
        city = design.mean(item, by="year").query("year == @pdata.survey_year").iloc[0]
        dist = design.mean(item, by=["district_id", "year"]).query("year == @pdata.survey_year")
        _, sv = verdicts.estimate_verdicts(dist[dist["n"] >= report.min_respondents()], "estimate", "se",
                                           "district_id", city=city["estimate"])
        assert [v[(u, item)] for u in sv["unit"]] == sv["verdict"].tolist()
    assert [v[(u, "registration")] for u in reg["unit"]] == reg["verdict"].tolist()
    assert [v[(u, "org_coverage")] for u in cov["unit"]] == cov["verdict"].tolist()
    # the headline table shows exactly these verdicts
    for d in pdata.districts["district_id"]:
        shown, _ = profile.headline_table(pdata, d)
        assert shown["Against the city"].tolist() == [v[(d, m)] for m in profile.MEASURE_KEYS]


def test_sub_district_verdicts_use_the_funnel_of_all_sub_districts(pdata, tables, year):
    m = tables["members"]
    m = m[m["year"] == year].merge(concepts.community_lookup(tables), on="community_id")
    _, ref = verdicts.rate_verdicts(m.groupby("subdistrict_id", as_index=False)[["registered", "in_service_resident"]]
                                    .sum(), "registered", "in_service_resident", "subdistrict_id")
    sv = pdata.sub_verdicts[pdata.sub_verdicts["measure"] == "registration"].set_index("unit")["verdict"]
    assert sv.reindex(ref["unit"]).tolist() == ref["verdict"].tolist()
    shown, raw = profile.subdistrict_table(pdata, "D01")
    subs = tables["subdistricts"]
    assert len(shown) == (subs["district_id"] == "D01").sum()
    col = "Member registration: against the city"
    assert shown[col].tolist() == sv.reindex(subs.loc[subs["district_id"] == "D01", "subdistrict_id"]).tolist()


def test_ranks_follow_the_estimates_and_the_rank_rule(pdata):
    for meas in profile.MEASURE_KEYS:
        r = pdata.ranks[pdata.ranks["measure"] == meas]
        e = pdata.estimates[(pdata.estimates["measure"] == meas) & (pdata.estimates["unit"] != "city")]
        order = e.sort_values("estimate", ascending=False)["unit"].tolist()
        assert r.sort_values("rank")["unit"].tolist() == order
        assert ((r["rank_low"] <= r["rank"]) & (r["rank"] <= r["rank_high"])).all()
    shown, raw = profile.headline_table(pdata, "D01")
    for text, (_, row) in zip(shown["Rank among the districts"], raw.iterrows()):
        assert text == verdicts.rank_statement(row["rank"], row["rank_low"], row["rank_high"], int(row["ranked"]))
        assert text.startswith("between") == (row["rank_low"] != row["rank_high"])


def test_standout_is_the_largest_relative_gap_among_differing_measures(pdata):
    for d in pdata.districts["district_id"]:
        f = profile.district_frame(pdata, d)
        differ = f[f["verdict"].isin(["above", "below"])]
        top = profile.standout(pdata, d)
        if differ.empty:
            assert top is None
        else:
            gap = (differ["estimate"] - differ["city"]).abs() / differ["city"].abs()
            assert top == gap.idxmax()


def test_peer_table_marks_only_differing_districts(pdata):
    shown, raw = profile.peer_table(pdata, "D01")
    zone = pdata.districts.set_index("district_id").loc["D01", "zone"]
    peers = pdata.districts.loc[pdata.districts["zone"] == zone, "district_id"].tolist()
    assert shown["district_id"].tolist() == peers + ["city"]
    v = pdata.verdicts.set_index(["unit", "measure"])["verdict"]
    for _, row in shown[shown["district_id"] != "city"].iterrows():
        for m in profile.MEASURE_KEYS:
            cell = row[profile.measures.label(m)]
            assert cell.endswith(f"({v[(row['district_id'], m)]})") == (v[(row["district_id"], m)] != "not distinguishable")


def test_truth_check_is_the_member_weighted_mean(pdata, tables, year):
    t = truth_registration(None)
    t = t[t["year"] == year]
    m = tables["members"]
    m = m[m["year"] == year].merge(concepts.community_lookup(tables), on="community_id").merge(t, on="community_id")
    d1 = m[m["district_id"] == "D01"]
    expected = (d1["p_registered"] * d1["in_service_resident"]).sum() / d1["in_service_resident"].sum()
    chk = profile.truth_check(pdata)
    assert chk.loc["D01", "truth"] == pytest.approx(expected)
    assert chk["inside"].tolist() == ((chk["ci_low"] <= chk["truth"]) & (chk["truth"] <= chk["ci_high"])).tolist()


def test_unknown_district_and_year_are_named(pdata, tables):
    with pytest.raises(KeyError, match="D99"):
        profile.headline_table(pdata, "D99")
    with pytest.raises(ValueError, match="year 1990 is outside the data's study period"):
        profile.build(tables, 1990)


def test_without_a_survey_the_survey_measures_are_absent(tables):
    no_survey = {k: v for k, v in tables.items() if k != "survey"}
    data = profile.build(no_survey, n_sim=100)
    assert data.absent == {"participated": "survey", "sat_score": "survey"} and data.survey_year is None
    shown, _ = profile.headline_table(data, "D02")
    assert shown["Measure"].tolist() == [profile.measures.label("org_coverage"), profile.measures.label("registration")]
    peer, _ = profile.peer_table(data, "D02")
    assert profile.measures.label("sat_score") not in peer.columns
    assert profile.truth_check(data) is None


def test_small_survey_samples_are_suppressed(tables):
    sv = tables["survey"]
    last = sv["year"].max()
    d05 = sv[(sv["year"] == last) & (sv["district_id"] == "D05") & (sv["responded"] == 1)]
    two = d05["community_id"].drop_duplicates().iloc[:2]
    kept = d05[d05["community_id"].isin(two)].groupby("community_id").head(3).index  # 6 respondents, 2 communities
    keep = sv.drop(d05.index.difference(kept))
    data = profile.build({**tables, "survey": keep}, n_sim=100)
    shown, raw = profile.headline_table(data, "D05")
    survey_rows = shown["Measure"].isin([profile.measures.label(m) for m in profile.SURVEY_ITEMS])
    assert (shown.loc[survey_rows, "District (95% CI)"] == report.suppressed_label()).all()
    assert raw.loc[raw["measure"].isin(profile.SURVEY_ITEMS), "estimate"].isna().all()
    assert not ((data.verdicts["unit"] == "D05") & data.verdicts["measure"].isin(profile.SURVEY_ITEMS)).any()
    peer, praw = profile.peer_table(data, "D05")
    row = peer[peer["district_id"] == "D05"].iloc[0]
    assert row[profile.measures.label("sat_score")] == report.suppressed_label()


def test_picker_is_off_under_the_build(pdata, monkeypatch):
    monkeypatch.setenv("HELPERS_REPORT_NAME", "district_profile-D03")
    assert profile.picker(pdata, "D03") is None


def test_display_name_avoids_escaped_apostrophes():
    assert profile.display_name("Yong'an County") == "Yong\u2019an County"


def test_the_profile_states_its_verdicts_for_the_site_check(tables):
    verdicts.clear_stated()
    data = profile.build(tables, n_sim=100)
    st = verdicts.stated()
    for m in profile.MEASURE_KEYS:
        mine = data.verdicts[data.verdicts["measure"] == m].set_index("unit")["verdict"]
        s = st[(st["measure"] == m) & (st["level"] == "district_id")].set_index("unit")
        assert s["verdict"].reindex(mine.index).tolist() == mine.tolist()
        assert set(s["year"]) == {data.year_of(m)}
    assert (st["level"] == "subdistrict_id").any()
    verdicts.clear_stated()


def test_a_survey_without_the_profile_year_uses_its_latest_year(tables, year):
    sv = tables["survey"]
    data = profile.build({**tables, "survey": sv[sv["year"] < year]}, n_sim=100)
    assert data.year == year and data.survey_year == year - 1
    shown, raw = profile.headline_table(data, "D01")
    assert shown["Year"].tolist() == [str(year), str(year), str(year - 1), str(year - 1)]
    assert raw.set_index("measure")["year"].to_dict() == {"org_coverage": year, "registration": year,
                                                           "participated": year - 1, "sat_score": year - 1}


@pytest.mark.parametrize("district_id", ["D01", "D02", "D07"])
def test_sub_district_map_names_every_sub_district_unambiguously(pdata, district_id):
    """The profile's sub-district map at the report's size and dpi: every sub-district named,
    inside its own polygon or by a leader into it, no name on another unit or another name.
    D01 and D02 are the dense core (long names did not fit before the shared word was dropped)."""
    import matplotlib.pyplot as plt

    from helpers.viz import labels as vlabels
    from helpers.viz import style

    style.use_project_style()
    fig, axs = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
    fig.set_dpi(110)
    profile.subdistrict_map(pdata, district_id, "registration", ax=axs[1])
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    (res,) = [a for a in axs[1].artists if isinstance(a, vlabels.LabelResolver)]
    subs = pdata.subdistricts[pdata.subdistricts["district_id"] == district_id]
    assert len(res.labels) == len(subs) and res.n_dropped == 0
    assert all(t.get_visible() for t in res.labels)
    assert vlabels.overlapping_pairs(res.labels, r) == [] and vlabels.region_conflicts(res, r) == []
    assert not any(t.full_text.endswith("Subdistrict") for t in res.labels)  # said once, in the title
    plt.close(fig)


def test_limits_read_beside_the_value_for_rates_and_survey_means(pdata):
    """The limits the profile prints after a district's value are on the value's scale for every measure
    (a survey measure is judged on its difference from the city, whose limits are shifted by the city):
    "above" exactly when the value exceeds the upper limit, "below" when it falls under the lower."""
    seen = set()
    for d in pdata.districts["district_id"]:
        f = profile.district_frame(pdata, d)
        f = f[f["verdict"].notna()]
        assert (f["lower"] < f["upper"]).all()
        above, below = f["estimate"] > f["upper"], f["estimate"] < f["lower"]
        assert ((f["verdict"] == "above") == above).all() and ((f["verdict"] == "below") == below).all(), f
        survey = f[f.index.isin(profile.SURVEY_ITEMS)]
        # the survey limits straddle the city value (limits of the difference around zero, shifted by the city)
        assert ((survey["lower"] < survey["city"]) & (survey["city"] < survey["upper"])).all()
        seen |= set(f.index)
    assert set(profile.SURVEY_ITEMS) <= seen
