"""Units and ranges as the site writes them: from the glossary (helpers.studies.measures), one name per
kind of scale, en dashes in ranges; and how the index and the provenance footer show findings."""
from __future__ import annotations

import json
import re

import pytest

from helpers import paths
from helpers.publish.build import worker
from helpers.studies import measures

HYPHEN_RANGE = re.compile(r"(?<![\w.\-–])\d+(?:\.\d+)?-\d+(?:\.\d+)?(?![\w.\-])")


@pytest.mark.parametrize("raw, shown", [
    ("score (1-5)", "points (1–5)"), ("points (1-5)", "points (1–5)"), ("squared points (1-5)",
                                                                          "squared points (1–5)"),
    ("points (0-100)", "points (0–100)"), ("points (0–100)", "points (0–100)"),
    ("index points (0-100, min-max)", "index points (0–100, min–max)"),
    ("log-odds", "log-odds ratio"), ("log-odds per SD", "log-odds ratio per SD"),
    ("% of active organisations", "% of active eligible organisations"),
    ("probability per unit share", "difference in probability per unit share"),
    ("Moran's I", "Moran's I"), ("  communities ", "communities"),
])
def test_recorded_units_read_in_the_glossary_words(raw, shown):
    assert measures.unit_text(raw) == shown
    assert shown in measures.UNITS


def test_en_dash_ranges_leave_dates_ids_and_minus_signs_alone():
    assert measures.en_dash_ranges("reported walk of 15-30 minutes, 1-5 and 0.5-1.5") == \
        "reported walk of 15–30 minutes, 1–5 and 0.5–1.5"
    for same in ("2024-05-01", "table-1.csv", "D01-S02", "COVID-19", "−1.2", "x-1", "1.2-beta"):
        assert measures.en_dash_ranges(same) == same


def test_every_unit_of_the_glossary_and_of_the_committed_findings_is_a_glossary_unit():
    """A report that records a unit the glossary does not know (or writes a known one in other words
    than a synonym the glossary lists) fails here: add it to measures.UNITS, or use measures.unit(key)."""
    assert all(measures.unit(k) in measures.UNITS for k in measures.MEASURES)
    assert not [u for u in measures.UNITS if HYPHEN_RANGE.search(u)]
    unknown = {}
    for f in sorted((paths.ROOT / "reports" / "findings").glob("*.json")):
        for d in json.loads(f.read_text(encoding="utf-8"))["findings"]:
            if measures.unit_text(d["unit"]) not in measures.UNITS:
                unknown[d["unit"]] = f.name
    assert unknown == {}


def test_the_glossary_writes_its_ranges_with_an_en_dash():
    for m in measures.MEASURES.values():
        for text in (m.name, m.definition, m.scale):
            assert not HYPHEN_RANGE.search(text), (m.key, text)
    assert measures.glossary(["sat_score"])["Scale"].tolist() == ["0–100"]


def test_findings_shown_with_glossary_units_and_coefficients_named_for_what_they_are():
    items = [
        {"name": "platform_org", "label": "Platform in place: log-odds of setting up a party organisation",
         "value": 1.05, "ci": [0.85, 1.25], "level": 0.95, "unit": "log-odds", "truth": 0.9, "note": ""},
        {"name": "band", "label": "Awareness: reported walk of 15-30 minutes vs over 30 (log-odds)", "value": 0.59,
         "ci": [0.41, 0.76], "level": 0.95, "unit": "log-odds", "truth": None, "note": ""},
        {"name": "lpm", "label": "Taking part: aware of the centre (probability)", "value": 0.146,
         "ci": [0.129, 0.163], "level": 0.95, "unit": "probability", "truth": None, "note": ""},
        {"name": "sat", "label": "Satisfaction with service (1–5), city mean", "value": 3.03, "ci": [2.96, 3.09],
         "level": 0.95, "unit": "score (1-5)", "truth": None, "note": ""},
        {"name": "reg", "label": "Member registration, city", "value": 63.3, "ci": [62.9, 63.7], "level": 0.95,
         "unit": "% of in-service members resident", "truth": 63.31, "note": ""},
    ]
    rows = {r["name"]: r for r in worker.format_findings(items)}
    assert rows["platform_org"]["label"] == "Platform in place: log-odds ratio of setting up a party organisation"
    assert rows["platform_org"]["unit_text"] == "log-odds ratio"
    assert rows["band"]["label"] == "Awareness: reported walk of 15–30 minutes vs over 30 (log-odds ratio)"
    assert rows["lpm"]["label"] == "Taking part: aware of the centre (difference in probability)"
    assert rows["sat"]["unit_text"] == "points (1–5)"
    assert rows["reg"]["estimate"].endswith("%)") is False and rows["reg"]["estimate"].startswith("63.3%")
    assert rows["reg"]["unit_text"] == "of in-service members resident" and rows["reg"]["truth_text"] == "63.3%"
    assert [r["value"] for r in rows.values()] == [d["value"] for d in items]  # values are never changed


def test_reproduce_commands_name_the_report_data_and_parameters():
    base = {"name": "05_spatial", "data": {"display": "data"}, "default_data": True, "build_params": {}}
    got = worker.reproduce_commands(base)
    assert got == {"build_cmd": ".venv/bin/python -m helpers build --only 05_spatial --force",
                   "verify_cmd": "make verify", "default_data": True}
    other = worker.reproduce_commands(dict(base, name="district_profile-D03", default_data=False,
                                           data={"display": "~/my city"}, build_params={"year": 2023, "tag": "a b"}))
    assert other["build_cmd"] == (".venv/bin/python -m helpers build --data-dir ~/'my city' --param year=2023 "
                                  "--param \"tag='a b'\" --only district_profile-D03 --force")
    assert other["verify_cmd"] == (".venv/bin/python -m helpers verify --data-dir ~/'my city' --param year=2023 "
                                   "--param \"tag='a b'\"")
    assert other["default_data"] is False
