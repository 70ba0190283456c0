"""Pieces of the build that need no kernel: parameters, cleaning, rendering, the index."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.publish.build import plan, render, site, worker


def _nb():
    nb = new_notebook(cells=[
        new_markdown_cell("# Title\n\nSummary."),
        new_code_cell("district_id = 'D01'", metadata={"tags": ["parameters"]}),
        new_code_cell("x", outputs=[
            new_output("stream", name="stdout", text="read /work/repo/data/a.csv\n"),
            new_output("stream", name="stderr", text="UserWarning: noisy\n"),
            new_output("display_data", data={"application/javascript": "alert(1)"}),
            new_output("execute_result", data={"text/plain": "1"}, execution_count=3),
        ], execution_count=3),
        new_code_cell("secret", metadata={"tags": ["remove-cell"]}),
    ])
    nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00"}
    return nb


def test_inject_parameters_after_the_parameters_cell():
    nb = _nb()
    worker.inject_parameters(nb, {"district_id": "D07"}, "p")
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    assert "district_id = 'D07'" in nb.cells[2].source
    nb2 = new_notebook(cells=[new_code_cell("x = 1")])
    with pytest.raises(RuntimeError, match="tagged 'parameters'"):
        worker.inject_parameters(nb2, {"district_id": "D07"}, "p")


def test_clean_notebook_drops_what_varies_or_must_not_be_published():
    nb = _nb()
    worker.inject_parameters(nb, {"district_id": "D07"}, "p")
    render.clean_notebook(nb, render.path_replacements({"/work/repo": "."}))
    assert [c.get("id") for c in nb.cells] == ["c000", "c001", "c002"]  # injected + remove-cell gone
    outs = nb.cells[2].outputs
    assert [o.output_type for o in outs] == ["stream", "execute_result"]
    assert outs[0].text == "read ./data/a.csv\n"
    assert nb.cells[2].execution_count is None and outs[1].execution_count is None
    assert "papermill" not in nb.metadata


def test_render_html_has_no_script_and_escapes_title():
    nb = _nb()
    render.clean_notebook(nb, [])
    page = render.render_html(nb, title="T <script>", banner_html="<div>B</div>", footer_html="<footer>F</footer>")
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "<title>T &lt;script&gt;</title>" in page
    assert page.index("<div>B</div>") < page.index("<h1") < page.index("<footer>F</footer>")
    assert render.check_html(page, {}) == []
    # deterministic
    nb2 = _nb()
    render.clean_notebook(nb2, [])
    assert render.render_html(nb2, title="T <script>", banner_html="<div>B</div>",
                              footer_html="<footer>F</footer>") == page


def test_index_escapes_and_reports_states(tmp_path):
    base = {"summary": "", "parameters": {}, "group": None, "status": "done", "exists": True, "current": True,
            "skip_reason": None, "error": None, "error_href": None, "findings_href": None}
    entries = [
        dict(base, name="a", href="a.html", title="<b>A</b>", summary="s", findings_href="findings/a.json"),
        dict(base, name="b", href="b.html", title="B", status="failed", exists=False, error_href="errors/b.txt",
             error={"cell": 4, "line": 7, "source": "fit()", "message": "ValueError: <bad>"}),
        dict(base, name="c", href="c.html", title="C", status="failed", error={"message": "boom"}),
        dict(base, name="d", href="d.html", title="D", current=False, parameters={"year": 2023}),
        dict(base, name="e", href="e.html", title="E", status="skipped", exists=False,
             skip_reason="needs survey.csv, which the data folder does not have"),
        dict(base, name="p-D1", href="p-D1.html", title="P: <script>alert(1)</script>", group="p",
             group_title="Profile", status=None, exists=False),
    ]
    finding = {"name": "f1", "value": 0.5, "ci": [0.1, 0.9], "level": 0.95, "unit": "pp", "truth": 0.4, "note": ""}
    kw = dict(entries=entries, git={"commit": "abc", "dirty": False}, lock_hash="l" * 64, k=10, params={},
              findings_by_report={"a": [finding], "d": [dict(finding, name="f2")]})
    page = site.render_index(data={"name": "Test city", "display": "data", "synthetic": True}, **kw)
    assert "<script" not in page and "&lt;script&gt;" in page and "&lt;b&gt;A&lt;/b&gt;" in page
    assert "code cell 4, line 7 (fit()): ValueError: &lt;bad&gt;" in page and 'href="errors/b.txt"' in page
    assert "showing its last good version, which is out of date" in page  # c: failed, page kept
    assert "out of date (not rebuilt in the last build)" in page and "<code>year = 2023</code>" in page  # d
    assert "skipped: needs survey.csv, which the data folder does not have" in page  # e
    assert "Profile: one report per district" in page and "not built" in page
    assert "<code>a</code>" not in page and "<code>p-D1</code>" not in page  # titles, not file names
    assert ">ok<" not in page and "<th>Not up to date</th>" in page  # only what is not up to date says so
    assert 'href="a.html#finding-f1"' in page and 'href="findings/a.json"' in page
    assert "0.50 (0.10 to 0.90)" in page  # the site's one number format (helpers.publish.fmt)
    assert "Data: Test city" in page and "Synthetic data." in page and "Planted value" in page
    from helpers.publish import lint

    index = tmp_path / "index.html"
    index.write_text(page)
    assert lint.lint_page(index) == []  # the index passes the site lint
    assert render.check_html(page, {}) == []
    real = site.render_index(data={"name": "Real city", "display": "../real", "synthetic": False}, **kw)
    assert "ynthetic" not in real and "lanted" not in real and "Truth" not in real


def test_nbformat_roundtrip_of_cleaned_notebook_is_valid():
    nb = _nb()
    render.clean_notebook(nb, [])
    nbformat.validate(nb)


def test_assets_variable_is_the_one_report_writes_to():
    from helpers.publish import provenance, report

    assert provenance.ENV_REPORT_ASSETS == report.ASSETS_ENV == "HELPERS_REPORT_ASSETS"


def test_setup_cell_resets_per_report_state():
    src = worker.setup_cell_source({"A": "1"}, __import__("pathlib").Path("/x"))
    compile(src.replace("get_ipython()", "None"), "setup", "exec")
    assert "reset_numbering" in src and "clear_stated" in src and "%reset" not in src


def test_links_to_skipped_reports_point_at_their_row_of_the_index():
    """A skipped report has no page: a link to it goes to the index row that says why (the site lint's
    "broken link" otherwise); other links, and the link text, are left alone."""
    why = {"03_satisfaction": "needs assessment.csv, which the data folder does not have",
           "district_profile": "needs members.csv, which the data folder does not have"}
    page = ('<p>See <a href="03_satisfaction.html">Satisfaction</a>, <a href="03_satisfaction.html#claims">its '
            "claims</a>, <a href='district_profile-D03.html'>D03</a>, <a href=\"04_drivers.html\">Drivers</a>, "
            '<a href="03_satisfaction_x.html">x</a> and <a class="k" href="03_satisfaction/table-1.csv">data</a>.</p>')
    got = render.relink_skipped(page, why)
    title = 'title="Not built for this data: needs assessment.csv, which the data folder does not have"'
    assert got == ('<p>See <a href="index.html#report-03_satisfaction" ' + title + '>Satisfaction</a>, '
                   '<a href="index.html#report-03_satisfaction" ' + title + '>its claims</a>, '
                   '<a href="index.html#report-district_profile" title="Not built for this data: needs members.csv, '
                   'which the data folder does not have">D03</a>, <a href="04_drivers.html">Drivers</a>, '
                   '<a href="03_satisfaction_x.html">x</a> and <a class="k" href="03_satisfaction/table-1.csv">data'
                   '</a>.</p>')
    assert render.relink_skipped(page, {}) == page


def test_index_is_a_readable_summary_without_machinery():
    """No column of "defaults" when no report ran with other parameters; a profile row is named by its
    district (the group's title and question once, above the table); an unnamed data folder is called a
    folder, not "Data: data"; a report's summary is whole sentences, never cut mid-sentence."""
    base = {"parameters": {}, "status": "done", "exists": True, "current": True, "skip_reason": None,
            "error": None, "error_href": None, "findings_href": None}
    entries = [dict(base, name="a", href="a.html", title="A", summary="What is A?", group=None),
               dict(base, name="p-D1", href="p-D1.html", title="Profile: North District", summary="Why a profile?",
                    group="p", group_title="Profile")]
    page = site.render_index(entries=entries, git={"commit": "abc", "dirty": False}, lock_hash="l" * 64, k=10,
                             params={}, findings_by_report={},
                             data={"name": "data", "display": "data", "synthetic": False})
    assert "<th>Parameters</th>" not in page and ">defaults<" not in page
    # every report up to date: no state column at all, no file names, the profile group named once
    assert "Not up to date" not in page and ">ok<" not in page and "<code>p-D1</code>" not in page
    assert "2 reports, all up to date" in page and "Profile: one report per district" in page
    # one study skipped: its table says why; the profiles' table, all up to date, has no such column
    skipped = dict(entries[0], status="skipped", exists=False, skip_reason="needs survey.csv")
    page = site.render_index(entries=[skipped, entries[1]], git={"commit": "abc", "dirty": False},
                             lock_hash="l" * 64, k=10, params={}, findings_by_report={},
                             data={"name": "data", "display": "data", "synthetic": False})
    assert page.count("<th>Not up to date</th>") == 1 and "skipped: needs survey.csv" in page
    assert "every report ran with its default parameters" in page
    assert ">North District</a>" in page and page.count("Why a profile?") == 1
    with_findings = site.render_index(entries=entries, git={"commit": "abc", "dirty": False}, lock_hash="l" * 64,
                                      k=10, params={}, data={"name": "data", "display": "data", "synthetic": False},
                                      findings_by_report={"p-D1": [{"name": "f", "value": 1.0, "ci": None,
                                                                    "level": 0.95, "unit": "", "truth": None,
                                                                    "note": ""}]})
    assert "Headline findings of <a href=\"p-D1.html\">Profile: North District</a>" in with_findings
    assert "<strong>Data:</strong> the folder <code>data</code>" in page and "Data: data" not in page
    assert plan._whole_sentences("Question. How far? Three kinds are measured:") == "How far?"
    long = "First sentence here. " + "More " * 60 + "end."
    assert plan._whole_sentences(long) == "First sentence here."


def test_lint_names_reports_that_disagree_on_a_verdict(tmp_path):
    from helpers.publish import lint

    head = "measure,level,unit,year,verdict\n"
    for report, rows in {"01_coverage": "org_coverage,district_id,D01,2024,not distinguishable\n"
                                        "org_coverage,district_id,D02,2024,below\n",
                         "district_profile-D01": "org_coverage,district_id,D01,2024,below\n"
                                                 "org_coverage,district_id,D02,2024,below\n"
                                                 "org_coverage,district_id,D01,2023,above\n"}.items():
        (tmp_path / report).mkdir()
        (tmp_path / report / "verdicts.csv").write_text(head + rows)
    out = lint.verdict_conflicts(tmp_path)
    assert out == ["verdicts: org_coverage of D01 (district_id) in 2024 differs between reports: 01_coverage says "
                   "'not distinguishable'; district_profile-D01 says 'below'"]


def test_contents_list_the_sections_after_the_title():
    from helpers.publish.build.render import add_contents

    page = ('<h1 id="T">Title<a class="anchor-link" href="#T">\u00b6</a></h1><p>x</p>'
            '<h2 id="Data">Data<a class="anchor-link" href="#Data">\u00b6</a></h2>'
            '<h2 id="A-&amp;-B">A &amp; B</h2><h2 id="Caveats">Caveats</h2><h2>Provenance</h2>')
    out = add_contents(page)
    nav = out[out.index('<nav class="report-toc"'):out.index("</nav>")]
    assert out.index("</h1>") < out.index("<nav") < out.index('<h2 id="Data"')
    assert nav.count("<li>") == 3 and '<a href="#Data">Data</a>' in nav and "A &amp; B" in nav
    assert 'href="#A-&amp;-B"' in nav
    assert "Provenance" not in nav and "\u00b6" not in nav
    assert add_contents("<h1>T</h1><h2 id='a'>a</h2>") == "<h1>T</h1><h2 id='a'>a</h2>"  # too few sections


def test_lint_flags_a_hyphen_used_as_a_dash_outside_the_footer(tmp_path):
    from helpers.publish import lint

    page = tmp_path / "r.html"
    page.write_text("<html><body><h1>T</h1><p>It is not that effect - it mixes cohorts.</p>"
                    "<p>A well-known one-year change, 2024-05-01, −3 and 1 − 2 — fine.</p>"
                    '<footer class="report-footer"><p>numpy - 2.1</p></footer></body></html>', encoding="utf-8")
    out = lint.lint_page(page)
    assert len(out) == 1 and out[0].startswith("r.html: hyphen used as a dash") and "that effect - it mixes" in out[0]
    page.write_text("<html><body><h1>T</h1><p>It is not that effect — it mixes cohorts.</p></body></html>",
                    encoding="utf-8")
    assert lint.lint_page(page) == []


def test_index_banner_names_the_reports_on_other_data_and_findings_read_as_a_summary(tmp_path):
    """The synthetic-data banner excepts a report that read no file of the data folder (90 on published
    real data); a report's findings are grouped by subject, with variants (another method for the same
    quantity) left to a note; the planted value stays beside its own finding."""
    base = {"summary": "", "parameters": {}, "group": None, "status": "done", "exists": True, "current": True,
            "skip_reason": None, "error": None, "error_href": None, "findings_href": None}
    entries = [dict(base, name="a", href="a.html", title="Drivers: what goes with what", reads_data=True),
               dict(base, name="v", href="v.html", title="Validation: against published results",
                    reads_data=False)]

    def f(name, label, truth=None):
        return {"name": name, "value": 0.5, "ci": None, "level": 0.95, "unit": "points (0–100)", "truth": truth,
                "note": "", "label": label}

    items = [f("x0", "Event effect in year 0 (points)", truth=0.4), f("t1", "Thermometer: took part (points)"),
             f("s1", "Service: aware (points)"), f("t2", "Thermometer: aware (points)"),
             f("t1d", "Thermometer (design-based): took part (points)"),
             f("t2d", "Thermometer (design-based): aware (points)")]
    kw = dict(git={"commit": "abc", "dirty": False}, lock_hash="l" * 64, k=10, params={},
              findings_by_report={"a": items})
    page = site.render_index(entries=entries, data={"name": "Test city", "display": "data", "synthetic": True},
                             **kw)
    assert ('fictional city, not from real people or places, except <a href="v.html">Validation</a>, which uses '
            "published real data") in page
    rows, notes = site.summarise_findings(worker.format_findings(items))
    assert [r["name"] for r in rows] == ["x0", "s1", "t1", "t2"]  # ungrouped first, then the group in order
    assert rows[2]["group"] == "Thermometer" and rows[2]["short"] == "Took part (points)" and "group" not in rows[3]
    assert notes == ["Left out here: the design-based estimates of 2 of these findings, reported for comparison; "
                     "the report and its findings file give them."]
    assert "(design-based)" not in page and "the design-based estimates of 2 of these findings" in page
    assert '<th colspan="4" scope="colgroup">Thermometer</th>' in page and ">Took part (points)</a>" in page
    index = tmp_path / "index.html"
    index.write_text(page)
    from helpers.publish import lint

    assert lint.lint_page(index) == []
    # every report on the city's data: no exception; real data: no banner
    one = site.render_index(entries=entries[:1], data={"name": "Test city", "display": "data", "synthetic": True},
                            **kw)
    assert "places.</p>" in one and "except" not in one
    real = site.render_index(entries=entries, data={"name": "Real", "display": "../r", "synthetic": False}, **kw)
    assert "fictional" not in real
