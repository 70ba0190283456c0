"""One verdict per district, measure and year across the whole site (issue 12: "a test builds the site and
checks that each district's verdict is the same in every report that states one").

Every report that calls :func:`helpers.studies.verdicts.rate_verdicts` or ``estimate_verdicts`` with a
``measure`` records the verdicts it states in ``<site>/<report>/verdicts.csv`` (``measure, level, unit,
year, verdict``); here all of them are read together. A failure names the unit and the reports that disagree.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.studies import verdicts

KEY = ["measure", "level", "unit", "year"]


def stated_verdicts(site: Path) -> pd.DataFrame:
    """Every ``<report>/verdicts.csv`` of ``site``, with a ``report`` column."""
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False).assign(report=f.parent.name)
              for f in sorted(site.glob(f"*/{verdicts.STATED_FILE}"))]
    if not frames:
        return pd.DataFrame(columns=[*KEY, "verdict", "report"])
    return pd.concat(frames, ignore_index=True)


def disagreements(table: pd.DataFrame) -> list[str]:
    """One line per (measure, level, unit, year) stated with more than one verdict: each verdict and the
    reports that state it."""
    out = []
    for key, g in table.groupby(KEY, sort=True):
        if g["verdict"].nunique() > 1:
            says = "; ".join(f"{v!r} in {', '.join(sorted(r['report']))}" for v, r in g.groupby("verdict"))
            out.append(f"{'/'.join(key)}: {says}")
    return out


def test_disagreements_are_found_and_named():
    """The check itself: a unit called two things by two reports is reported with both reports."""
    t = pd.DataFrame({"measure": ["registration"] * 3, "level": ["district_id"] * 3, "unit": ["D01"] * 3,
                      "year": ["2024"] * 3, "verdict": ["below", "below", "not distinguishable"],
                      "report": ["02_participation", "district_profile-D01", "district_profile-D02"]})
    assert disagreements(t) == ["registration/district_id/D01/2024: 'below' in 02_participation, "
                                "district_profile-D01; 'not distinguishable' in district_profile-D02"]
    assert disagreements(t.iloc[:2]) == []
    assert disagreements(t.assign(year=["2023", "2024", "2024"]).iloc[[0, 2]]) == []


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_each_unit_has_one_verdict_per_measure_and_year_across_the_site(built_site):
    assert built_site.returncode == 0, built_site.log[-4000:]
    table = stated_verdicts(built_site.out)
    # the check must have something to check: the reports that state verdicts wrote them
    assert len(table) and table["report"].nunique() >= 2, sorted(built_site.out.glob("*/*.csv"))
    assert set(table["verdict"]) <= {"above", "below", "not distinguishable"}, set(table["verdict"])
    bad = disagreements(table)
    assert bad == [], f"{len(bad)} units with more than one verdict:\n" + "\n".join(bad)
