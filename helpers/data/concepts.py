"""The project's core concepts, each defined once, on tables loaded through the data contract.

Every notebook, study module, test and the coverage study use these definitions; none re-derives
them. Each takes frames and returns a new frame (inputs are never changed).

* :func:`community_lookup` - ``community_id -> subdistrict_id, district_id`` from the boundaries.
* :func:`organisation_years` - each organisation in each year it is *active*, and whether it is
  *covered* (has a party organisation) by the end of that year: the one organisation-year rule.
* :func:`coverage_panel` - organisational coverage (%) of every sub-district (or other unit) and year.
* :func:`resident_respondents` - the survey's respondents with their community's attributes and
  the walking-time bands used throughout (within 15 minutes; 15-30 minutes).
* :func:`resident_survey_design` - the resident survey's sampling design (:data:`SURVEY_DESIGN`).
* :func:`member_panel` - community-years of party members joined to joint building, with the
  agreement share.

The rules, in words:

- An organisation is **active** in year ``t`` when ``year_founded <= t`` and it has not closed by
  then (``year_closed`` empty or ``> t``).
- An active organisation is **covered** in ``t`` when it has a party organisation of its own or a
  joint one (``party_org_mode`` ``own``/``joint``) set up by the end of ``t``
  (``party_org_year <= t``); **work coverage** adds organisations with a party-building
  instructor or contact (``work_coverage``; the flag is not dated, so it is taken to hold in
  every active year).
- The **resident survey** is a fresh stratified two-stage sample each year: strata are districts
  within a year, primary sampling units communities (nested in their stratum, so a community
  drawn in two years is two PSUs), weights ``weight``, and the finite-population correction the
  number of communities in the district (``n_psu_stratum``). Only respondents carry weights.
- **Walking time** to the nearest service point is self-reported (``walk_minutes``):
  ``within15`` is ``walk_minutes <= 15`` and ``band15_30`` is ``15 < walk_minutes <= 30`` (both
  missing when the walking time is).
- The **agreement share** of a community-year is signed agreements over resident units (0 where
  a community has no resident units).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SURVEY_DESIGN", "community_lookup", "organisation_years", "coverage_panel", "resident_respondents",
           "resident_survey_design", "member_panel"]

#: The resident survey's design, in the columns of the data contract's ``survey`` table.
SURVEY_DESIGN: dict = {"weight": "weight", "strata": ("year", "district_id"), "psu": "community_id",
                       "fpc": "n_psu_stratum"}


def community_lookup(tables: dict) -> pd.DataFrame:
    """``community_id, subdistrict_id, district_id``, one row per community, from the community boundaries."""
    b = tables["community_boundaries"]
    return pd.DataFrame(b[["community_id", "subdistrict_id", "district_id"]]).drop_duplicates(
        "community_id").reset_index(drop=True)


def organisation_years(organisations: pd.DataFrame, lookup: pd.DataFrame, years) -> pd.DataFrame:
    """Organisation-years: each organisation in each of ``years`` in which it is active.

    Parameters
    ----------
    organisations : the ``organisations`` table.
    lookup : :func:`community_lookup` (``community_id, subdistrict_id, district_id``).
    years : the years to expand over (e.g. the study period of the data folder).

    Returns
    -------
    DataFrame with ``org_id, community_id, subdistrict_id, district_id, kind, party_members, year``
    and the 0/1 columns ``active`` (always 1), ``covered`` (own or joint party organisation by the
    end of the year), ``own``, ``joint``, ``work_covered`` (covered or an instructor/contact),
    ``work_only`` (instructor/contact, no organisation), ``new_cover`` (the party organisation was
    set up in this year) and ``covered_before`` (it existed before this year). Counts summed over
    rows are numerators over ``active``.

    Raises
    ------
    ValueError
        When an organisation lies in a community that ``lookup`` does not know.
    """
    o = organisations.merge(lookup[["community_id", "subdistrict_id", "district_id"]], on="community_id",
                            how="left", validate="many_to_one")
    if o["district_id"].isna().any():
        bad = o.loc[o["district_id"].isna(), "community_id"].iloc[0]
        raise ValueError(f"{int(o['district_id'].isna().sum())} organisations lie in communities missing from "
                         f"the community boundaries (first: {bad!r})")
    founded = pd.to_numeric(o["year_founded"]).astype("float64").to_numpy()
    closed = pd.to_numeric(o["year_closed"]).astype("float64").to_numpy()
    porg = pd.to_numeric(o["party_org_year"]).astype("float64").to_numpy()
    mode = o["party_org_mode"].astype(str).to_numpy()
    has_org = mode != "none"
    work = pd.to_numeric(o["work_coverage"]).fillna(0).to_numpy(int) == 1
    keep = ["org_id", "community_id", "subdistrict_id", "district_id", "kind", "party_members"]
    frames = []
    for t in years:
        act = (founded <= t) & (np.isnan(closed) | (closed > t))
        cov = (has_org & (porg <= t))[act]
        f = pd.DataFrame(o.loc[act, keep]).reset_index(drop=True)
        f["year"] = int(t)
        f["active"] = 1
        f["covered"] = cov.astype(int)
        f["own"] = (cov & (mode[act] == "own")).astype(int)
        f["joint"] = (cov & (mode[act] == "joint")).astype(int)
        f["work_covered"] = (cov | work[act]).astype(int)
        f["work_only"] = (~cov & work[act]).astype(int)
        f["new_cover"] = (has_org & (porg == t))[act].astype(int)
        f["covered_before"] = (has_org & (porg < t))[act].astype(int)
        frames.append(f)
    if not frames:
        raise ValueError("no years to expand the organisations over")
    return pd.concat(frames, ignore_index=True)


def coverage_panel(org_years: pd.DataFrame, lookup: pd.DataFrame, unit: str = "subdistrict_id") -> pd.DataFrame:
    """Organisational coverage of every ``unit`` (a column of ``lookup``) in every year of ``org_years``.

    Returns ``<unit>, year, active, covered, coverage``: counts of active and covered organisations
    and the coverage rate in percent (NaN where no organisation is active; units without any
    organisation keep their rows, with zero counts).
    """
    years = sorted(org_years["year"].unique())
    units = pd.Index(sorted(lookup[unit].unique()), name=unit)
    g = org_years.groupby([unit, "year"])[["active", "covered"]].sum()
    full = pd.MultiIndex.from_product([units, years], names=[unit, "year"])
    out = g.reindex(full, fill_value=0).reset_index()
    act = out["active"].to_numpy(float)
    out["coverage"] = np.divide(100.0 * out["covered"].to_numpy(float), act, out=np.full(len(out), np.nan),
                                where=act > 0)
    return out


def resident_respondents(survey: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """The survey's respondents with their community's ``migrant_share`` and ``share_60plus`` and the
    walking-time bands ``within15`` and ``band15_30`` (0/1, missing where ``walk_minutes`` is).

    Nonrespondents (``responded == 0``) are dropped: they carry no weight and no answers."""
    s = survey[survey["responded"] == 1]
    s = s.merge(communities[["community_id", "migrant_share", "share_60plus"]], on="community_id", how="left",
                validate="many_to_one")
    wm = s["walk_minutes"]
    return s.assign(within15=(wm <= 15).astype(float).where(wm.notna()),
                    band15_30=((wm > 15) & (wm <= 30)).astype(float).where(wm.notna())).reset_index(drop=True)


def resident_survey_design(respondents: pd.DataFrame, **kwargs):
    """The resident survey's design (:data:`SURVEY_DESIGN`) over respondents.

    ``respondents`` holds respondents only (e.g. :func:`resident_respondents`, or a subset of it
    such as one year: within one year the strata are the districts). ``kwargs`` go to
    :class:`helpers.stats.survey.SurveyDesign` (e.g. ``lonely_psu``). Returns the design."""
    from helpers.stats.survey import SurveyDesign

    d = SURVEY_DESIGN
    return SurveyDesign(respondents, weight=d["weight"], strata=list(d["strata"]), psu=d["psu"], fpc=d["fpc"],
                        **kwargs)


def member_panel(members: pd.DataFrame, joint_building: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """Community-years of party members joined to joint building (inner join on community and year),
    with the community's ``subdistrict_id`` and ``district_id`` and ``agreement_share`` (0-1; 0 when
    the community has no resident units)."""
    m = members.merge(joint_building, on=["community_id", "year"], how="inner", validate="one_to_one")
    m = m.merge(lookup[["community_id", "subdistrict_id", "district_id"]], on="community_id", how="left",
                validate="many_to_one")
    units = m["resident_units"].to_numpy(float)
    signed = m["signed_agreements"].to_numpy(float)
    m["agreement_share"] = np.divide(signed, units, out=np.zeros_like(signed), where=units > 0)
    return m
