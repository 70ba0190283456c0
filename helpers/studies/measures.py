"""The glossary: one name per measure across the whole collection.

Every label, legend, axis and table header that names a measure takes its words from here, so
the same measure reads the same in every report and two different measures never share a name
(the distance-based "1 km service circle" is not the self-reported "walk of 15 minutes or less";
the 0–100 "satisfaction thermometer" is not the 1–5 "overall satisfaction").

Each :class:`Measure` says what it is (definition), where it comes from (source), its unit and
scale. :func:`glossary` gives the table a report prints in its "Measures" section.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = ["Measure", "MEASURES", "UNITS", "measure", "label", "axis", "glossary", "unit", "unit_text", "label_text",
           "en_dash_ranges"]


@dataclass(frozen=True)
class Measure:
    """One measure: ``name`` (the label everywhere), ``definition``, ``source``, ``unit`` (how values
    are written: ``"%"``, ``"points"``, ...), ``scale`` (e.g. ``"0–100"``, ``"1–5"``, ``"share"``) and
    ``family`` (coverage, participation, satisfaction, assessment)."""

    key: str
    name: str
    definition: str
    source: str
    unit: str
    scale: str
    family: str


_ADMIN = "administrative records"
_SURVEY = "resident survey (design-based)"

MEASURES: dict[str, Measure] = {m.key: m for m in [
    # coverage
    Measure("org_coverage", "Organisational coverage",
            "active eligible organisations (non-public enterprises and social organisations) with their own or a "
            "joint party organisation by the end of the year, over all active eligible organisations",
            f"{_ADMIN}: organisations", "%", "percent", "coverage"),
    Measure("own_org", "Own party organisation (单建)", "active eligible organisations with a party organisation "
            "of their own, over all active eligible organisations", f"{_ADMIN}: organisations", "%", "percent",
            "coverage"),
    Measure("joint_org", "Joint party organisation (联建)", "active eligible organisations belonging to a joint "
            "party organisation, over all active eligible organisations", f"{_ADMIN}: organisations", "%", "percent",
            "coverage"),
    Measure("work_coverage", "Work coverage", "active eligible organisations with a party organisation or a "
            "party-building instructor or contact, over all active eligible organisations",
            f"{_ADMIN}: organisations", "%", "percent", "coverage"),
    Measure("mobile_organised", "Mobile members organised", "mobile party members who moved into a community and "
            "were organised there, over all who moved in", f"{_ADMIN}: members", "%", "percent", "coverage"),
    Measure("service_circle", "Within the 1 km service circle", "residents living within 1,000 m in a straight "
            "line of an open service point (the policy's 15-minute service circle), residents spread evenly over "
            "their community's area", "service points and community boundaries (computed)", "%", "percent",
            "coverage"),
    Measure("eight_haves", "Eight-haves score", "items of the eight-haves checklist a service point meets",
            f"{_ADMIN}: service points", "items", "0–8", "coverage"),
    # participation
    Measure("registration", "Member registration", "in-service party members registered in the community where "
            "they live, over in-service members living there", f"{_ADMIN}: members", "%", "percent",
            "participation"),
    Measure("activity", "Active registered members", "registered members taking part in at least four "
            "activities a year, over registered members", f"{_ADMIN}: members", "%", "percent", "participation"),
    Measure("volunteer_hours", "Volunteer hours per registered member", "volunteer hours in the year over "
            "registered members", f"{_ADMIN}: members", "hours", "per year", "participation"),
    Measure("agreement_share", "Resident units with an agreement", "resident units (agencies, firms, schools, "
            "hospitals) with a signed joint-building agreement, over all resident units",
            f"{_ADMIN}: joint building", "%", "percent", "participation"),
    Measure("joint_events", "Joint events per community", "joint events of resident units and the community in "
            "the year", f"{_ADMIN}: joint building", "events", "per year", "participation"),
    Measure("participated", "Took part in a community activity", "residents who took part in a community activity "
            "in the last 12 months", _SURVEY, "%", "percent", "participation"),
    # satisfaction
    Measure("aware", "Aware of the service centre", "residents who know their community's party-member and "
            "community service centre", _SURVEY, "%", "percent", "satisfaction"),
    Measure("walk15_reported", "Reported walk of 15 minutes or less", "residents who report that the nearest "
            "service point is a walk of 15 minutes or less (self-reported, not measured)", _SURVEY, "%", "percent",
            "satisfaction"),
    Measure("sat_service", "Satisfaction with service (1–5)", "rating of the community's service, 1 (very "
            "dissatisfied) to 5 (very satisfied)", _SURVEY, "mean", "1–5", "satisfaction"),
    Measure("sat_service_top2", "Satisfied with service (4–5 of 5)", "residents rating the service 4 or 5 of 5",
            _SURVEY, "%", "percent", "satisfaction"),
    Measure("sat_overall", "Overall satisfaction (1–5)", "overall satisfaction with the community, 1 to 5",
            _SURVEY, "mean", "1–5", "satisfaction"),
    Measure("sat_overall_top2", "Satisfied overall (4–5 of 5)", "residents rating their overall satisfaction 4 "
            "or 5 of 5", _SURVEY, "%", "percent", "satisfaction"),
    Measure("sat_score", "Satisfaction thermometer (0–100)", "overall feeling about the community's service on a "
            "0–100 thermometer", _SURVEY, "points", "0–100", "satisfaction"),
    Measure("trust", "Trust in the community committee (1–5)", "trust in the community residents' committee, 1 "
            "to 5", _SURVEY, "mean", "1–5", "satisfaction"),
    Measure("complaint_made", "Made a complaint", "residents who made a complaint in the last 12 months", _SURVEY,
            "%", "percent", "satisfaction"),
    Measure("complaint_resolved", "Complaint resolved", "complaints resolved, over residents who made one",
            _SURVEY, "%", "percent", "satisfaction"),
    # assessment (top-down; kept apart from residents' satisfaction)
    Measure("assessment", "Assessment score (考核, 0–100)", "the annual top-down assessment score of the "
            "community", f"{_ADMIN}: assessment", "points", "0–100", "assessment"),
    # community attributes and respondents' circumstances (regressors of the models)
    Measure("walk_band", "Reported walking time", "the walk to the nearest service point that the respondent reports, "
            "in three bands: 15 minutes or less, 15–30 minutes, over 30 minutes (self-reported, not measured)",
            "resident survey", "band", "3 bands", "community"),
    Measure("migrant_share", "Migrant share of the community", "residents without local household registration "
            "(hukou), over all residents of the community", f"{_ADMIN}: communities", "share", "0–1", "community"),
    Measure("share_60plus", "Share of the community aged 60+", "residents aged 60 or over, over all residents of "
            "the community", f"{_ADMIN}: communities", "share", "0–1", "community"),
    Measure("funding", "Community funding", "the community's annual service funding; in the models standardised "
            "over the city's communities (per standard deviation)", f"{_ADMIN}: communities", "10,000 yuan",
            "10,000 yuan a year", "community"),
    Measure("staff", "Community staff", "full-time community workers; in the models standardised over the city's "
            "communities (per standard deviation)", f"{_ADMIN}: communities", "persons", "persons", "community"),
    # the composite index (06_index): scores relative to the districts of one year
    Measure("index_score", "Composite index (0–100)", "the weighted mean of the three pillar scores; each "
            "pillar score is the weighted mean of its indicators, each normalised across districts by min-max "
            "(0 = the lowest district in the year, 100 = the highest)", "computed from the index's indicators",
            "points", "0–100", "index"),
    Measure("pillar_coverage", "Coverage pillar (0–100)", "the weighted mean of the index's coverage indicators, "
            "each normalised across districts by min-max", "computed from the index's indicators", "points",
            "0–100", "index"),
    Measure("pillar_participation", "Participation pillar (0–100)", "the weighted mean of the index's "
            "participation indicators, each normalised across districts by min-max",
            "computed from the index's indicators", "points", "0–100", "index"),
    Measure("pillar_satisfaction", "Satisfaction pillar (0–100)", "the weighted mean of the index's satisfaction "
            "indicators (residents' own judgements, from the survey), each normalised across districts by min-max",
            "computed from the index's indicators", "points", "0–100", "index"),
]}


def measure(key: str) -> Measure:
    """The :class:`Measure` named ``key``; a KeyError lists the known keys."""
    try:
        return MEASURES[key]
    except KeyError:
        raise KeyError(f"no measure {key!r} in the glossary; known: {', '.join(MEASURES)}") from None


def label(key: str, unit: bool = False) -> str:
    """The measure's name (``unit=True``: with its unit, for a column header: ``"Member registration, %"``)."""
    m = measure(key)
    return f"{m.name}, {m.unit}" if unit and m.unit not in ("mean",) else m.name


def axis(key: str) -> str:
    """An axis or legend title: the name and, for percentages, ``"(%)"``."""
    m = measure(key)
    return f"{m.name} (%)" if m.unit == "%" else m.name


def glossary(keys) -> pd.DataFrame:
    """The glossary rows of ``keys`` (in that order): ``Measure, Definition, Source, Scale``."""
    rows = [measure(k) for k in dict.fromkeys(keys)]
    return pd.DataFrame({"Measure": [m.name for m in rows], "Definition": [m.definition for m in rows],
                         "Source": [m.source for m in rows],
                         "Scale": ["percent" if m.scale == "percent" else m.scale for m in rows]})


# -- units ---------------------------------------------------------------------------------------------------------
#: Every unit the site writes beside a number, in the glossary's words: one name per kind of scale (a mean
#: on a 1–5 item and a difference of such means are both "points (1–5)"), ranges with an en dash.
UNITS: frozenset[str] = frozenset({
    # percentages (what they are a percentage of follows the sign)
    "%", "% of active eligible organisations", "% of in-service members resident", "% of mobile members moving in",
    "% of registered members", "% of resident units", "% of residents", "% of sampled residents",
    "% of district pairs", "percentage points",
    # scores and points
    "points (1–5)", "squared points (1–5)", "points (0–100)", "index points (0–100, min–max)", "items (0–8)",
    "API points",
    # model coefficients
    "log-odds ratio", "log-odds ratio per SD", "log-odds ratio per unit share", "odds ratio",
    "difference in probability", "difference in probability per unit share",
    # statistics
    "Moran's I", "correlation", "Spearman correlation", "rank", "ranks", "significant digits",
    # counts
    "communities", "communities and villages", "sub-districts", "districts", "counties", "respondents",
    "hours per year", "events per year", "persons", "10,000 yuan",
    # community attributes as the models use them
    "share", "band",
})

#: Units recorded in other words than the glossary's (left) and the glossary's words for them (right).
_UNIT_SYNONYMS: dict[str, str] = {
    "score (1–5)": "points (1–5)",  # a mean of a 1–5 item is in points, as its differences are
    "mean (1–5)": "points (1–5)",
    "% of active organisations": "% of active eligible organisations",  # the glossary's denominator
    "log-odds": "log-odds ratio",  # a logistic model's coefficient compares two odds: a log-odds ratio
    "log-odds per SD": "log-odds ratio per SD",
    "log-odds per unit share": "log-odds ratio per unit share",
    "probability": "difference in probability",  # a linear probability model's coefficient
    "probability per unit share": "difference in probability per unit share",
    "pp": "percentage points",
}

_RANGE = re.compile(r"(?<![\w.\-–])(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\w.\-])")
_MINMAX = re.compile(r"\bmin-max\b")


def en_dash_ranges(text: str) -> str:
    """``text`` with its numeric ranges written with an en dash (``"1-5"`` -> ``"1–5"``, ``"15-30 minutes"``
    -> ``"15–30 minutes"``, ``"min-max"`` -> ``"min–max"``); dates (``2024-05-01``), identifiers
    (``table-1``) and minus signs are left alone."""
    return _MINMAX.sub("min–max", _RANGE.sub(r"\1–\2", str(text)))


def unit(key: str) -> str:
    """The unit written beside a value of the measure ``key``: ``"%"``, ``"points (1–5)"``,
    ``"points (0–100)"``, ``"items (0–8)"``, ``"hours per year"``, ...."""
    m = measure(key)
    if m.unit == "%":
        return "%"
    if m.unit in ("mean", "points") and m.scale[:1].isdigit():
        return f"points ({m.scale})"
    if m.unit == "items":
        return f"items ({m.scale})"
    if m.scale.startswith("per "):
        return f"{m.unit} {m.scale}"
    return m.unit


def unit_text(raw: str) -> str:
    """A recorded unit (a finding's ``unit``) in the glossary's words (:data:`UNITS`): en dashes in its
    ranges and one name per kind of scale (``"score (1-5)"`` and ``"points (1-5)"`` both read
    ``"points (1–5)"``; ``"log-odds"`` reads ``"log-odds ratio"``). A unit the glossary does not know is
    returned with its ranges mended only (a test lists those in the committed findings)."""
    text = en_dash_ranges(" ".join(str(raw).split()))
    return _UNIT_SYNONYMS.get(text, text)


_LABEL_WORDS = ((re.compile(r"\blog-odds(?! ratio)"), "log-odds ratio"),
                (re.compile(r"\(probability\b"), "(difference in probability"))


def label_text(text: str, raw_unit: str = "") -> str:
    """A finding's label as the site shows it: numeric ranges with an en dash and, for a model coefficient
    recorded in log-odds or as a probability, the name of what it is (``"(log-odds)"`` -> ``"(log-odds
    ratio)"``, ``"(probability)"`` -> ``"(difference in probability)"``)."""
    out = en_dash_ranges(str(text))
    u = unit_text(raw_unit)
    if u.startswith("log-odds ratio"):
        out = _LABEL_WORDS[0][0].sub(_LABEL_WORDS[0][1], out)
    if u.startswith("difference in probability"):
        out = _LABEL_WORDS[1][0].sub(_LABEL_WORDS[1][1], out)
    return out
