"""The project's core concepts (helpers.data.concepts), each checked by hand or by brute force:
the organisation-year rule, coverage panels, the member panel, respondents and the survey design."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import concepts


@pytest.fixture
def orgs():
    return pd.DataFrame({
        "org_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
        "community_id": ["C1", "C1", "C2", "C3", "C3", "C3"],
        "kind": ["non_public_enterprise", "social_organisation", "non_public_enterprise",
                 "non_public_enterprise", "social_organisation", "non_public_enterprise"],
        "party_members": [3, 0, 1, 5, 2, 0],
        "year_founded": [2010, 2019, 2015, 2020, 2000, 2018],
        "year_closed": pd.array([pd.NA, pd.NA, 2021, pd.NA, 2019, pd.NA], dtype="Int64"),
        "party_org_mode": ["own", "joint", "joint", "none", "own", "joint"],
        "party_org_year": pd.array([2012, 2020, 2016, pd.NA, 2005, 2023], dtype="Int64"),
        "work_coverage": [1, 0, 1, 1, 0, 0],
    })


@pytest.fixture
def lookup():
    return pd.DataFrame({"community_id": ["C1", "C2", "C3"], "subdistrict_id": ["S1", "S1", "S2"],
                         "district_id": ["D1", "D1", "D2"]})


def test_organisation_years_match_a_brute_force_loop(orgs, lookup):
    before = orgs.copy()
    panel = concepts.organisation_years(orgs, lookup, range(2018, 2025))
    pd.testing.assert_frame_equal(orgs, before)
    for t in range(2018, 2025):
        for _, o in orgs.iterrows():
            closed = o["year_closed"]
            active = o["year_founded"] <= t and (pd.isna(closed) or closed > t)
            rows = panel[(panel["org_id"] == o["org_id"]) & (panel["year"] == t)]
            assert len(rows) == int(active)
            if not active:
                continue
            r = rows.iloc[0]
            dated = o["party_org_mode"] != "none" and not pd.isna(o["party_org_year"])
            has = dated and o["party_org_year"] <= t
            assert r["covered"] == int(has)
            assert r["own"] == int(has and o["party_org_mode"] == "own")
            assert r["joint"] == int(has and o["party_org_mode"] == "joint")
            assert r["work_covered"] == int(has or o["work_coverage"] == 1)
            assert r["work_only"] == int((not has) and o["work_coverage"] == 1)
            assert r["new_cover"] == int(dated and o["party_org_year"] == t)
            assert r["covered_before"] == int(dated and o["party_org_year"] < t)
            assert r["district_id"] == lookup.set_index("community_id").loc[o["community_id"], "district_id"]
    # O5 closed in 2019: active in 2018 only
    assert set(panel.loc[panel["org_id"] == "O5", "year"]) == {2018}


def test_organisation_years_reject_unknown_communities(orgs, lookup):
    with pytest.raises(ValueError, match="missing from the community boundaries.*'C3'"):
        concepts.organisation_years(orgs, lookup[lookup["community_id"] != "C3"], [2018])


def test_coverage_panel_by_hand(orgs, lookup):
    oy = concepts.organisation_years(orgs, lookup, [2018, 2019, 2020, 2021])
    p = concepts.coverage_panel(oy, lookup, "subdistrict_id").set_index(["subdistrict_id", "year"])
    # S1, 2018: O1 covered (2012), O3 covered (2016) -> 2/2; 2019: + O2 founded, uncovered -> 2/3
    assert p.loc[("S1", 2018), ["active", "covered"]].tolist() == [2, 2]
    assert p.loc[("S1", 2019), ["active", "covered"]].tolist() == [3, 2]
    assert p.loc[("S1", 2020), "coverage"] == 100.0
    # S2, 2018: O5 (closes 2019) covered, O6 uncovered -> 1/2; 2020: O4 founded uncovered, O6 -> 0/2
    assert p.loc[("S2", 2018), ["active", "covered"]].tolist() == [2, 1]
    assert p.loc[("S2", 2020), ["active", "covered"]].tolist() == [2, 0]


def test_coverage_panel_keeps_units_without_organisations(orgs, lookup):
    lk = pd.concat([lookup, pd.DataFrame({"community_id": ["C4"], "subdistrict_id": ["S3"],
                                          "district_id": ["D2"]})], ignore_index=True)
    oy = concepts.organisation_years(orgs, lk, [2018, 2019])
    p = concepts.coverage_panel(oy, lk, "community_id").set_index(["community_id", "year"])
    assert p.loc[("C4", 2018), "active"] == 0 and pd.isna(p.loc[("C4", 2018), "coverage"])
    assert p.loc[("C1", 2019), ["active", "covered"]].tolist() == [2, 1]
    assert len(p) == 8


def test_member_panel_agreement_share(lookup):
    m = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "year": 2020, "registered": [5, 6, 0],
                      "in_service_resident": [10, 12, 0], "volunteer_hours": [50.0, 30.0, 0.0]})
    j = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "year": 2020, "resident_units": [4, 0, 2],
                      "signed_agreements": [1, 0, 2], "joint_events": [3, 0, 1]})
    p = concepts.member_panel(m, j, lookup)
    assert p.set_index("community_id")["agreement_share"].to_dict() == {"C1": 0.25, "C2": 0.0, "C3": 1.0}
    assert p["district_id"].tolist() == ["D1", "D1", "D2"]


def test_resident_respondents_bands_and_design():
    survey = pd.DataFrame({"community_id": ["C1", "C1", "C2", "C2"], "district_id": ["D1"] * 4,
                           "year": [2020] * 4, "responded": [1, 1, 1, 0],
                           "walk_minutes": [10.0, 15.1, np.nan, np.nan], "weight": [2.0, 3.0, 4.0, np.nan],
                           "n_psu_stratum": [5, 5, 5, 5], "y": [1.0, 0.0, 1.0, np.nan]})
    com = pd.DataFrame({"community_id": ["C1", "C2"], "migrant_share": [0.1, 0.3], "share_60plus": [0.2, 0.25]})
    r = concepts.resident_respondents(survey, com)
    assert len(r) == 3
    assert r["within15"].tolist()[:2] == [1.0, 0.0] and r["band15_30"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(r["within15"].iloc[2]) and r["migrant_share"].tolist() == [0.1, 0.1, 0.3]
    d = concepts.resident_survey_design(r)
    est = d.mean("y")
    assert est["estimate"].iloc[0] == pytest.approx((2 * 1 + 3 * 0 + 4 * 1) / 9)


def test_community_lookup_one_row_per_community():
    b = pd.DataFrame({"community_id": ["C1", "C2", "C1"], "subdistrict_id": ["S1", "S1", "S1"],
                      "district_id": ["D1", "D1", "D1"], "name_en": ["a", "b", "a"]})
    lk = concepts.community_lookup({"community_boundaries": b})
    assert lk.columns.tolist() == ["community_id", "subdistrict_id", "district_id"] and len(lk) == 2


def test_resident_survey_design_on_the_shipped_data():
    from helpers import paths
    from helpers.data.load import load_all

    if not (paths.DATA_DIR / "survey.csv").exists():
        pytest.skip("default data not generated yet")
    t = load_all()
    r = concepts.resident_respondents(t["survey"], t["communities"])
    assert len(r) == int(t["survey"]["responded"].sum())
    d = concepts.resident_survey_design(r)
    dist = d.proportion("sat_overall", by="year")
    assert sorted(dist.level.unique()) == [1, 2, 3, 4, 5]
    # strata are districts within years: as many as district-years sampled
    assert d.mean("sat_score", by="year")["df"].min() > 0
