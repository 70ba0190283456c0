"""The same number with the same digits everywhere in a report (issue 12: "no false precision").

Every headline finding is printed in the report's table of findings (and on the index) by
:func:`helpers.publish.findings.table`, with the digits of the site's one rule
(:func:`helpers.publish.fmt.estimate_digits`). Where the report's text or its other tables state the same
estimate - the estimate, or the estimate with its interval, rounded from the recorded numbers - it
must be printed with the same digits. :func:`digit_mismatches` finds every place where it is not; the
site test applies it to every report of the built site.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from helpers.publish import findings, fmt

#: A number as the site prints it: a minus sign (− or -), thousands separators, decimals.
_NUM = r"[−-]?\d{1,3}(?:,\d{3})*(?:\.\d+)?|[−-]?\d+(?:\.\d+)?"
_TOKEN = re.compile(rf"(?<![\w.,])({_NUM})(?![\w]|\.\d|,\d)")
#: ``low to high`` in the first brackets after the estimate, no other number between (``19 (13 to 26)``, ``37.3% (95% CI 34.5% to 40.3%``).
_BOUNDS = re.compile(rf"^[^()\d]{{0,60}}\([^()]{{0,40}}?({_NUM})%? to ({_NUM})%?")


def page_text(page: str) -> str:
    """A report page's reader text before its table of headline findings (prose, tables, captions)."""
    body = page.split('id="Headline-findings"')[0]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'src="data:[^"]+"', "", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _value(token: str) -> float:
    return float(token.replace("−", "-").replace(",", ""))


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def _rounds_to(x: float, token: str) -> bool:
    """``token`` is ``x`` rounded to the token's decimals."""
    d = _decimals(token)
    return abs(_value(token) - x) <= 0.5 * 10.0 ** -d + 1e-9 * max(1.0, abs(x))


def _significant(token: str) -> int:
    return len(token.replace("−", "").replace("-", "").replace(",", "").replace(".", "").lstrip("0"))


def digit_mismatches(text: str, items: list[dict]) -> list[str]:
    """Where ``text`` states a finding of ``items`` (finding dicts) with other digits than its table.

    A finding with an interval is stated where an estimate is followed, within a few characters, by
    ``(... low to high)`` and all three round from the recorded numbers (a bare number is not taken
    for it: the city's 29.5% beside a district's 29.5% is another quantity). A finding without an
    interval (other than a whole number) is stated by any number with decimals and two or more
    significant digits that rounds from it. Bounds of intervals (after ``(``, ``to``, ``CI``) are never
    taken for an estimate. Each statement must carry the table's digits. Returns one line per mismatch.
    """
    out = []
    # a bound of some interval ("(3.03 to 3.67)") is not a statement of an estimate
    tokens = [(m.group(1), m.end()) for m in _TOKEN.finditer(text)
              if not re.search(r"(\(|\bto|\bCI|:)\s*$", text[max(0, m.start() - 4):m.start()])]
    for f in items:
        value, ci = float(f["value"]), f.get("ci")
        unit = "%" if str(f.get("unit", "")).startswith("%") else ""
        want = fmt.estimate_digits(value, *(ci or (None, None)), unit=unit, level=f.get("level", 0.95))
        shown = findings.table([findings.Finding(**{k: v for k, v in f.items()
                                                    if k in findings.Finding.__dataclass_fields__})]).iloc[0, 1]
        if ci is None and float(value).is_integer():
            continue
        for token, end in tokens:
            if _decimals(token) == want or not _rounds_to(value, token):
                continue
            if ci is not None:
                m = _BOUNDS.match(text[end:])
                stated = m is not None and _rounds_to(ci[0], m.group(1)) and _rounds_to(ci[1], m.group(2))
            else:  # a number with decimals: whole numbers are too often counts of something else
                stated = _significant(token) >= 2 and "." in token
            if stated:
                context = text[max(0, end - len(token) - 40): end + 40]
                out.append(f"{f['name']}: the text prints {token} where the findings table prints {shown} "
                           f"(…{context}…)")
    return out


#: Statements with more digits than the findings table on purpose, each with its reason. Validation prints
#: the SIDS Moran's I to the four decimals of the published value it reproduces (0.1662 against 0.1662);
#: the findings table keeps the site's three significant digits. (Whether 90 should record the
#: published value beside it instead is the lead's call.)
KNOWN = {("90_validation", "sids_moran_eb_1979_vs_esda_doc")}


def site_mismatches(site: Path) -> list[str]:
    """:func:`digit_mismatches` of every report of a built site, ``report: problem`` per line (less
    :data:`KNOWN`)."""
    out = []
    for js in sorted((site / "findings").glob("*.json")):
        page = site / f"{js.stem}.html"
        if not page.exists():
            continue
        items = json.loads(js.read_text(encoding="utf-8")).get("findings", [])
        items = [f for f in items if (js.stem, f["name"]) not in KNOWN]
        out += [f"{js.stem}: {p}" for p in digit_mismatches(page_text(page.read_text(encoding="utf-8")), items)]
    return out


# ---------------------------------------------------------------------------------------------------


def test_a_statement_with_other_digits_is_found():
    items = [{"name": "es3", "value": 19.31, "ci": [12.84, 25.73], "unit": "percentage points"},
             {"name": "shift", "value": 0.1662, "ci": None, "unit": "points (1-5)"},
             {"name": "share", "value": 37.31, "ci": [34.52, 40.27], "unit": "% of residents"},
             {"name": "count", "value": 3.0, "ci": None, "unit": "districts"}]
    bad = ("The effect is 19.3 (12.8 to 25.7) points 3 years on. Calibration moves it by at most 0.1662 points. "
           "In 2024, 37.31% of residents (95% CI 34.52% to 40.27%) were satisfied; 3 districts differ.")
    problems = digit_mismatches(bad, items)
    assert [p.split(":")[0] for p in problems] == ["es3", "shift", "share"], problems
    assert "prints 19.3 where the findings table prints 19 (13 to 26)" in problems[0]
    good = ("The effect is 19 (13 to 26) points 3 years on. Calibration moves it by at most 0.166 points. "
            "In 2024, 37.3% of residents (95% CI 34.5% to 40.3%) were satisfied; 3 districts differ.")
    assert digit_mismatches(good, items) == []


def test_other_numbers_are_not_taken_for_a_finding():
    items = [{"name": "es3", "value": 19.31, "ci": [12.84, 25.73], "unit": "percentage points"},
             {"name": "r", "value": 0.31, "ci": [0.24, 0.38], "unit": "correlation"}]
    # 19 alone (two digits), a 19.3 with another interval, 0.3 of something else: none is the finding
    text = "19 districts; 19.3 (15.0 to 22.0) elsewhere; 0.3 of a point; 0.31 (0.24 to 0.38); the city 19.3."
    assert digit_mismatches(text, items) == []


def test_page_text_stops_at_the_headline_findings():
    page = ('<p>It is <b>0.021</b> points.</p><h2 id="Headline-findings">Headline findings</h2>'
            "<table><tr><td>0.0208</td></tr></table>")
    text = page_text(page)
    assert "0.021" in text and "0.0208" not in text


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_every_report_states_its_findings_with_the_tables_digits(built_site):
    assert built_site.returncode == 0, built_site.log[-4000:]
    assert list((built_site.out / "findings").glob("*.json")), "the build wrote no findings"
    problems = site_mismatches(built_site.out)
    assert problems == [], f"{len(problems)} numbers printed with other digits than the findings table:\n" + \
        "\n".join(problems)
