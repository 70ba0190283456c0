"""Numbered, captioned tables and figures with downloadable data (helpers.publish.report)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.publish import report  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh():
    report.reset_numbering()
    yield
    report.reset_numbering()


def test_tables_and_figures_are_numbered_and_captioned(tmp_path, monkeypatch):
    monkeypatch.setenv(report.ASSETS_ENV, str(tmp_path))
    monkeypatch.setenv("HELPERS_REPORT_NAME", "02_participation")
    shown = pd.DataFrame({"District": ["A <b>", "B"], "Share (95% CI)": ["58.3% (56.7 to 59.8)", "–"], "n": [50, 5]})
    raw = pd.DataFrame({"district_id": ["D1", "D2"], "estimate": [0.583, 0.4], "n": [50, 5]})
    t1 = report.table(shown, caption="Residents who took part, by district", n="n", data=raw)
    t2 = report.table(shown, caption="Again", n="n")
    html = t1._repr_html_()
    assert t1.label == "Table 1" and t2.label == "Table 2"
    assert "<strong>Table 1.</strong> Residents who took part, by district" in html
    assert "A &lt;b&gt;" in html and "<th></th>" not in html  # escaped, no index column
    assert 'href="02_participation/table-1.csv"' in html
    csv = pd.read_csv(tmp_path / "table-1.csv")
    assert csv.loc[1, "estimate"] == "suppressed (n < 10)"  # the downloadable numbers are suppressed too
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    f1 = report.figure(fig, caption="A line", alt="A rising line from 3 to 4.", data=pd.DataFrame({"x": [1, 2]}))
    assert f1.label == "Figure 1" and 'alt="A rising line from 3 to 4."' in f1._repr_html_()
    assert (tmp_path / "figure-1.csv").exists() and not plt.get_fignums()


def test_a_figure_needs_alt_text_and_nothing_is_written_outside_the_build(tmp_path, monkeypatch):
    monkeypatch.delenv(report.ASSETS_ENV, raising=False)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="give alt="):
        report.figure(fig, caption="No alt")
    fig._helpers_alt = "A blank map."
    f = report.figure(fig, caption="Carries its own alt")
    assert f.link is None and 'alt="A blank map."' in f._repr_html_()
    plt.close("all")


def test_a_respondents_column_says_why_counts_differ():
    import pandas as pd

    from helpers.publish import report

    report.reset_numbering()
    df = pd.DataFrame({"District": ["A", "B"], "Share": ["50%", "40%"], "Respondents": [40, 50]})
    t = report.table(df, n="Respondents", columns=["Share"], caption="Shares.")
    assert report.RESPONDENTS_NOTE in t._repr_html_()
    t = report.table(df.rename(columns={"Respondents": "n"}), n="n", columns=["Share"], caption="Shares.")
    assert report.RESPONDENTS_NOTE not in t._repr_html_()
