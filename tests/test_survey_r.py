"""helpers.survey against R's survey package, run live (no pasted reference numbers).

Each design below runs tests/r/survey_reference.R once (all of its estimates in one
Rscript call) and compares every estimate, SE, confidence interval (R's normal
``confint`` and the t interval on the domain's design df), deff, design df and
respondent count with ours to a relative 1e-8. Designs: the California API samples
shipped with R's survey package (apisrs, apistrat with population counts and with
sampling fractions as fpc, apiclus1, apiclus2 as a genuine two-stage design and as
ultimate clusters, a stratified cluster design with a lonely PSU under each
``survey.lonely.psu`` option) and the synthetic resident survey (data/survey.csv).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.paths import DATA_DIR
from helpers.survey import LonelyPSUError, SurveyDesign

from _rhelpers import api_data, compare

pytestmark = [pytest.mark.r, pytest.mark.slow]


@pytest.fixture(scope="module")
def api():
    frames = api_data()
    for k in ("apisrs", "apistrat", "apiclus1", "apiclus2"):
        df = frames[k]
        # item nonresponse to exercise na.rm=TRUE: every 7th school's api00 missing
        df["api00_na"] = df["api00"].astype("Float64").mask(df["snum"] % 7 == 0).astype(float)
        df["api99"] = df["api99"].astype(float)
        df["enroll"] = df["enroll"].astype(float)
        df["api00"] = df["api00"].astype(float)
    return frames


def _tasks(by_sets, prop_by_sets=2):
    """Every statistic on the first by-sets; proportions (slow in R: one glm per domain) on
    the first ``prop_by_sets`` of them only."""
    tasks = []
    for i, by in enumerate(by_sets):
        tasks += [
            dict(id=f"mean{i}", stat="mean", var="api00", by=by),
            dict(id=f"meanna{i}", stat="mean", var="api00_na", by=by),
            dict(id=f"total{i}", stat="total", var="enroll", by=by),
            dict(id=f"totalna{i}", stat="total", var="api00_na", by=by),
            dict(id=f"ratio{i}", stat="ratio", var="api00_na", den="api99", by=by),
        ]
        if i < prop_by_sets:  # (no by-set splits on sch.wide/awards: a share of 0 or 1 is R glm noise ~1e-11)
            tasks += [
                dict(id=f"prop{i}", stat="prop", var="sch.wide", level=["Yes"], by=by),
                dict(id=f"propb{i}", stat="prop", var="awards", level=["No"], by=by),
            ]
    return tasks


def _check(d, data, tasks, **design):
    worst = compare(d, data, tasks, **design)
    print(f"max relative error vs R: {worst:.3g}")
    assert worst <= 1e-8


def test_apisrs(api):
    df = api["apisrs"]
    d = SurveyDesign(df, weight="pw", fpc="fpc")
    _check(d, df, _tasks([[], ["stype"], ["stype", "sch.wide"]]), weight="pw", fpc="fpc")


def test_apistrat_popsize(api):
    df = api["apistrat"]
    d = SurveyDesign(df, weight="pw", strata="stype", fpc="fpc")
    _check(d, df, _tasks([[], ["stype"], ["yr.rnd", "awards"]]), weight="pw", strata="stype", fpc="fpc")


def test_apistrat_fraction_and_no_fpc(api):
    df = api["apistrat"].copy()
    nh = df.groupby("stype")["snum"].transform("size")
    df["frac"] = nh / df["fpc"]
    d = SurveyDesign(df, weight="pw", strata="stype", fpc="frac")
    _check(d, df, _tasks([[], ["awards"]], 1), weight="pw", strata="stype", fpc="frac")
    d = SurveyDesign(df, weight="pw", strata="stype")
    _check(d, df, _tasks([["yr.rnd"]], 1), weight="pw", strata="stype")


def test_apiclus1(api):
    df = api["apiclus1"]
    d = SurveyDesign(df, weight="pw", psu="dnum", fpc="fpc")
    _check(d, df, _tasks([[], ["stype"], ["stype", "awards"]]), weight="pw", psu="dnum", fpc="fpc")


def test_apiclus2_two_stage(api):
    df = api["apiclus2"]
    d = SurveyDesign(df, weight="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    _check(d, df, _tasks([[], ["stype"]]), weight="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])


def test_apiclus2_ultimate_cluster(api):
    df = api["apiclus2"]
    d = SurveyDesign(df, weight="pw", psu="dnum")
    _check(d, df, _tasks([[], ["stype"]], 1), weight="pw", psu="dnum")


@pytest.mark.parametrize("lonely", ["adjust", "remove", "certainty", "average"])
def test_lonely_psu(api, lonely):
    df = api["apiclus1"].copy()
    first = df["dnum"].min()
    df["grp"] = np.where(df["dnum"] == first, "a", "b")  # stratum "a" holds a single PSU
    d = SurveyDesign(df, weight="pw", strata="grp", psu="dnum", lonely_psu=lonely)
    _check(d, df, _tasks([[], ["stype"]], 1), weight="pw", strata="grp", psu="dnum", lonely=lonely)
    with pytest.raises(LonelyPSUError, match="only one PSU"):
        SurveyDesign(df, weight="pw", strata="grp", psu="dnum").mean("api00")


def test_synthetic_survey():
    path = DATA_DIR / "survey.csv"
    if not path.exists():
        pytest.skip(f"{path} not generated yet (make data)")
    raw = pd.read_csv(path)
    df = raw[raw["responded"] == 1].copy()
    # each year is a fresh sample: strata = district x year, PSU = community x year
    df["stratum"] = df["district_id"].astype(str) + "_" + df["year"].astype(str)
    df["psu"] = df["community_id"].astype(str) + "_" + df["year"].astype(str)
    d = SurveyDesign(df, weight="weight", strata="stratum", psu="psu", fpc="n_psu_stratum")
    tasks = []
    for i, by in enumerate([[], ["district_id"], ["district_id", "year"]]):
        tasks += [
            dict(id=f"m{i}", stat="mean", var="sat_overall", by=by),
            dict(id=f"a{i}", stat="mean", var="aware_center", by=by),
            dict(id=f"s{i}", stat="mean", var="sat_score", by=by),
            dict(id=f"t{i}", stat="total", var="participated", by=by),
            dict(id=f"r{i}", stat="ratio", var="complaint_resolved", den="complaint_made", by=by),
        ]
        if i < 2:  # proportions are slow in R (one glm per domain): not by district x year
            tasks += [
                dict(id=f"p{i}", stat="prop", var="sat_overall", level=[4, 5], by=by),
                dict(id=f"q{i}", stat="prop", var="aware_center", level=[1], by=by),
            ]
    _check(d, df, tasks, weight="weight", strata="stratum", psu="psu", fpc="n_psu_stratum")
    # the same design as the issue writes it, within one year (strata = districts)
    y = df[df["year"] == df["year"].max()]
    d = SurveyDesign(y, weight="weight", strata="district_id", psu="community_id", fpc="n_psu_stratum")
    _check(d, y, [t for t in tasks if t['by'] == ['district_id']], weight="weight", strata="district_id", psu="community_id", fpc="n_psu_stratum")
