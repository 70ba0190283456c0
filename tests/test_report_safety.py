"""What is published is safe: escaping, disclosure control, no microdata, no scripts/hosts/paths."""
from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers.publish import report
from helpers.publish.build import render
from helpers import paths
from test_build_nbkit import (PROFILE, PROFILE_PARAMS, SMALL_N, SMALL_N_CSV, XSS, XSS_NB, assets_nb, make_data,
                              write_nb)

# ---------------------------------------------------------------------------
# notebook helpers (fast)
# ---------------------------------------------------------------------------


def test_escape_and_md():
    assert "<" not in report.escape(XSS) and "&lt;script&gt;" in report.escape(XSS)
    assert report.escape("a*b_[c](d)") == r"a\*b\_\[c\]\(d\)"
    m = report.md("District **{name}**: {share:.0%}", name=XSS, share=0.5)
    assert "<script" not in m.data and "50%" in m.data


def test_table_suppresses_small_n():
    df = pd.DataFrame({"district_id": ["D01", "D02"], "year": [2020, 2020], "n": [5, 40],
                       "estimate": [0.81, 0.54], "se": [0.1, 0.02]})
    out = report.table(df)
    label = f"suppressed (n < {report.min_respondents()})"
    assert out.loc[0, "estimate"] == label and out.loc[0, "se"] == label
    assert out.loc[1, "estimate"] == 0.54
    assert out.loc[0, "year"] == 2020 and out.loc[0, "n"] == 5  # identifiers and the count stay
    assert df.loc[0, "estimate"] == 0.81  # input not changed
    html = out.to_html()
    assert "0.81" not in html and "suppressed (n &lt; 10)" in html
    # the build's own check agrees: the suppressed table passes, the raw one does not
    assert render.check_table_html(html, 10, report.N_COLUMNS) == []
    problems = render.check_table_html(df.to_html(), 10, report.N_COLUMNS)
    assert len(problems) == 1 and "n = 5 < 10" in problems[0]


def test_threshold_is_the_disclosure_module_one():
    from helpers.publish.disclosure import MIN_RESPONDENTS

    assert report.min_respondents() == MIN_RESPONDENTS
    from helpers.publish.build import _disclosure_k

    assert _disclosure_k() == MIN_RESPONDENTS


def test_suppress_for_plot():
    df = pd.DataFrame({"district_id": ["D01", "D02"], "n": [5, 40], "estimate": [0.81, 0.54]})
    out = report.suppress_for_plot(df)
    assert out["estimate"].isna().tolist() == [True, False]
    assert out["suppressed"].tolist() == [True, False]


def test_table_refuses_microdata():
    with pytest.raises(report.MicrodataError, match="respondent identifier"):
        report.table(pd.DataFrame({"resp_id": ["r1"], "age": [30]}))
    with pytest.raises(report.MicrodataError, match="microdata"):
        report.table(pd.DataFrame({"weight": [1.0] * 200, "age": [30] * 200}))
    report.table(pd.DataFrame({"weight": [1.0] * 5, "district_id": ["D"] * 5}))  # a small summary is fine


@pytest.mark.parametrize("page, what", [
    ('<script>alert(1)</script>', "<script>"),
    ('<img src="x" onerror="alert(1)">', "event handler"),
    ('<img src="https://example.org/a.png">', "another host"),
    ('<link rel="stylesheet" href="//cdn.example.org/a.css">', "another host"),
    ('<style>@import url("https://fonts.example.org/a.css");</style>', "stylesheet loads"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<iframe src="x.html"></iframe>', "<iframe>"),
    ('<p>/work/secret/file.csv</p>', "repository"),
])
def test_check_html_catches(page, what):
    problems = render.check_html(page, {"/work/secret": "the repository's absolute path"})
    assert problems and what in " ".join(problems)


def test_check_html_allows_plain_report():
    page = ('<html><head><style>body{color:red}</style></head><body><a href="https://example.org">link</a>'
            '<img src="data:image/png;base64,AAAA"><p>&lt;script&gt;alert(1)&lt;/script&gt;</p></body></html>')
    assert render.check_html(page, {"/work/secret": "x"}) == []


def test_path_replacement():
    reps = render.path_replacements({"/work/main": ".", "/root": "~"})
    assert render._sub_paths("File /work/main/data/a.csv and /root/.cache/x and /rooted",
                             reps) == "File ./data/a.csv and ~/.cache/x and /rooted"


# ---------------------------------------------------------------------------
# end to end: a real build of throwaway notebooks
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("build-safety")
def test_built_reports_escape_and_suppress(tmp_path):
    nbdir, out = tmp_path / "notebooks", tmp_path / "out"
    data = make_data(tmp_path / "data")
    write_nb(nbdir / "30_xss.ipynb", XSS_NB)
    write_nb(nbdir / "40_small.ipynb", SMALL_N)
    write_nb(nbdir / "district_profile.ipynb", PROFILE, PROFILE_PARAMS)
    write_nb(nbdir / "50_leak.ipynb", [("md", "# Leak"), "import pandas as pd\n"
                                       "pd.DataFrame({'district_id': ['D01'], 'n': [3], 'share': [0.9]})"])
    write_nb(nbdir / "60_micro.ipynb", [("md", "# Micro"), "from helpers.publish import report\nimport pandas as pd\n"
                                        "report.table(pd.DataFrame({'resp_id': ['r1'], 'age': [30]}))"])
    # the data files published beside a page get the page's checks
    write_nb(nbdir / "70_csv_small_n.ipynb", assets_nb("70_csv_small_n", SMALL_N_CSV))
    write_nb(nbdir / "71_csv_path.ipynb", assets_nb("71_csv_path", f"district_id,n,source\nD01,40,{paths.ROOT}/x\n"))
    write_nb(nbdir / "72_csv_missing.ipynb", assets_nb("72_csv_missing", None))
    write_nb(nbdir / "73_csv_micro.ipynb", assets_nb("73_csv_micro", "resp_id,age\nr1,30\n"))
    r = subprocess.run([sys.executable, "-m", "helpers", "build", "--notebooks", str(nbdir), "--out", str(out),
                        "--cache-dir", str(tmp_path / "cache"), "--data-dir", str(data), "--progress", "lines"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    # a table displayed without report.table and with n < k fails the safety check; microdata is refused
    assert "FAILED 50_leak" in r.stderr and "n = 3 < 10" in r.stderr
    assert "FAILED 60_micro" in r.stderr and "MicrodataError" in r.stderr
    assert not (out / "50_leak.html").exists() and not (out / "60_micro.html").exists()
    assert "FAILED 70_csv_small_n" in r.stderr and "table-1.csv, row 'D01': n = 3 < 10 but share shown" in r.stderr
    assert "FAILED 71_csv_path" in r.stderr and "table-1.csv, line 2: contains the repository's absolute path" in r.stderr
    assert "FAILED 72_csv_missing" in r.stderr and "links to 72_csv_missing/table-1.csv, which the report did not" in r.stderr
    assert "FAILED 73_csv_micro" in r.stderr and "table-1.csv has a respondent id column" in r.stderr
    for n in ("70_csv_small_n", "71_csv_path", "72_csv_missing", "73_csv_micro"):
        assert not (out / n).exists() and not (out / f"{n}.html").exists()
        assert (out / "errors" / f"{n}.txt").exists()

    pages = {p.name: p.read_text() for p in out.glob("*.html")}
    assert str(paths.ROOT) not in "".join(p.read_text() for p in (out / "errors").iterdir())
    assert set(pages) == {"30_xss.html", "40_small.html", "district_profile-D01.html",
                          "district_profile-D02.html", "index.html"}
    for name, page in pages.items():
        assert "<script" not in page.lower(), name  # XSS text is escaped everywhere, and no script tag at all
        assert render.check_html(page, {str(tmp_path): "tmp", "/root/": "home"}, allowed=(str(data),)) == [], name
    xss = pages["30_xss.html"]
    assert xss.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # DataFrame, Markdown, print
    assert re.search(r"<img[^>]+src=\"data:image/png;base64,", xss)  # the figure with the title is an image
    profile = pages["district_profile-D02.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["index.html"]
    small = pages["40_small.html"]
    assert "suppressed (n &lt; 10)" in small and "0.8123" not in small and "0.5432" in small


def test_check_csv_text():
    k, n_cols = 10, report.N_COLUMNS
    assert render.check_csv_text("district_id,n,share\nD01,40,0.5\nD02,5,suppressed (n < 10)\n", "a.csv", k, n_cols,
                                 {}) == []
    assert render.check_csv_text("year,n,share\n2019,5,0.5\n", "a.csv", k, n_cols, {}) == [
        "a.csv, row '2019': n = 5 < 10 but share shown; display estimates through helpers.publish.report.table(df), "
        "which suppresses them"]
    probs = render.check_csv_text("name,url\nx,https://example.org/a\n", "b.csv", k, n_cols, {})
    assert len(probs) == 1 and "address of another host" in probs[0]
    probs = render.check_csv_text("name\n/work/secret/x\n", "c.csv", k, n_cols, {"/work/secret": "the repository"})
    assert probs == ["c.csv, line 2: contains the repository ('/work/secret')"]


def test_check_assets_names_and_kinds(tmp_path):
    (tmp_path / "good-1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00")
    names, problems = render.check_assets(tmp_path, 10, report.N_COLUMNS, {})
    assert names == ["good-1.csv"]
    assert len(problems) == 3 and any("notes.txt" in p for p in problems) and any("sub" in p for p in problems)
    assert any("bin.csv: not UTF-8" in p for p in problems)
