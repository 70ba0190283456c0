"""Findings registry, provenance hooks, build planning and verify's comparison (fast, no kernels)."""
from __future__ import annotations

import io
import json

import pytest

from helpers.publish import findings, provenance, verify
from helpers.publish.build import plan
from helpers.publish.build.progress import Progress


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    findings.clear()
    for var in (findings.ENV_REPORT, findings.ENV_DIR, provenance.ENV_DATA_LOG, "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    yield
    findings.clear()


def test_record_writes_deterministic_json(tmp_path, monkeypatch):
    monkeypatch.setenv(findings.ENV_REPORT, "20_coverage")
    monkeypatch.setenv(findings.ENV_DIR, str(tmp_path))
    findings.record("b_effect", 0.1 + 0.2, ci=(0.05, 0.55), unit="pp", truth=0.3, note="GLM")
    findings.record("a_share", -0.0, unit="share")
    text = (tmp_path / "20_coverage.json").read_text()
    doc = json.loads(text)
    assert doc["report"] == "20_coverage"
    assert [f["name"] for f in doc["findings"]] == ["b_effect", "a_share"]  # order recorded
    assert doc["findings"][0]["value"] == 0.3  # 0.30000000000000004 rounded to 12 significant digits
    assert doc["findings"][0]["ci"] == [0.05, 0.55]
    assert doc["findings"][1]["value"] == 0.0 and "-0.0" not in text
    # keys sorted, stable bytes
    assert text == findings.dumps(findings.recorded(), "20_coverage")
    assert list(doc["findings"][0]) == sorted(doc["findings"][0])
    # re-recording a name replaces it (re-running a cell)
    findings.record("a_share", 0.25)
    assert [f.value for f in findings.recorded()] == [0.3, 0.25]
    assert findings.load_dir(tmp_path) == {"20_coverage": json.loads((tmp_path / "20_coverage.json").read_text())["findings"]}


def test_interactive_session_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "notebooks" / "30_x.ipynb"))
    assert findings.report_name() == "30_x"
    findings.record("x", 1.0)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("kwargs, err", [
    (dict(name="", value=1.0), ValueError),
    (dict(name="bad name", value=1.0), ValueError),
    (dict(name="x", value=float("nan")), ValueError),
    (dict(name="x", value="abc"), TypeError),
    (dict(name="x", value=1.0, ci=(2.0, 1.0)), ValueError),
    (dict(name="x", value=1.0, ci=3.0), TypeError),
])
def test_record_rejects_bad_input(kwargs, err):
    with pytest.raises(err, match="findings"):
        findings.record(**kwargs)


def test_findings_table_reads_as_an_author_writes():
    findings.record("x", 0.123456, ci=(0.1, 0.2), unit="share", truth=0.12, label="A share")
    findings.record("y", 58.3456, ci=(56.71, 59.82), unit="% of residents", truth=57.04)
    findings.record("share_no_ci", 1.51515, unit="% of district pairs")
    findings.record("z", 1234.0, unit="respondents")
    t = findings.table()
    assert list(t.columns) == ["Finding", "Estimate (95% CI)", "Unit", "Planted value"]
    assert t["Finding"].tolist() == ["A share", "y", "share_no_ci", "z"]
    assert t["Estimate (95% CI)"].tolist() == ["0.123 (0.100 to 0.200)", "58.3% (56.7 to 59.8)", "1.5%", "1,234"]
    assert t["Unit"].tolist() == ["share", "of residents", "of district pairs", "respondents"]
    assert t["Planted value"].tolist() == ["0.120", "57.0%", "", ""]  # the estimate's digits and sign
    raw = findings.frame()
    assert raw.loc[0, "value"] == 0.123456 and raw.loc[1, "ci_high"] == 59.82


def test_note_data_read_logs_once(tmp_path, monkeypatch):
    log = tmp_path / "reads.log"
    monkeypatch.setenv(provenance.ENV_DATA_LOG, str(log))
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n")
    provenance.note_data_read(f)
    provenance.note_data_read(str(f))
    assert provenance.read_data_log(log) == [str(f.resolve())]
    assert str(f.resolve()) in provenance.data_reads()
    assert provenance.read_data_log(tmp_path / "none.log") == []


def test_hashes_and_data_files(tmp_path):
    (tmp_path / "b.csv").write_text("1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / ".hidden").write_text("x")
    assert [p.name for p in provenance.data_files(tmp_path)] == ["b.csv", "a.json"]
    h1 = provenance.tree_hash(tmp_path, ("*.csv",))
    (tmp_path / "b.csv").touch()  # timestamps do not matter
    assert provenance.tree_hash(tmp_path, ("*.csv",)) == h1
    (tmp_path / "b.csv").write_text("2")
    assert provenance.tree_hash(tmp_path, ("*.csv",)) != h1
    assert provenance.sha256_file(tmp_path / "b.csv") == provenance.sha256_bytes(b"2")


def test_parameter_defaults_and_percent_scripts(tmp_path):
    assert plan.parameter_defaults("district_id = 'D01'\nk: int = 3\nx = f(1)\n") == \
        {"district_id": "D01", "k": 3, "x": "f(1)"}
    script = tmp_path / "district_profile.py"
    script.write_text('# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n'
                      '# %% [markdown]\n# # District profile\n#\n# One *district* at a time.\n\n'
                      '# %% tags=["parameters"]\ndistrict_id = "D01"\n\n# %%\nprint(district_id)\n')
    nbs = plan.discover(tmp_path)
    assert [n.stem for n in nbs] == ["district_profile"]
    nb = nbs[0]
    assert nb.per_district and nb.has_parameters_cell
    assert nb.title_and_summary() == ("District profile", "One district at a time.")


def test_notebook_hash_ignores_outputs(tmp_path):
    doc = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [],
                      "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "a.ipynb"
    p.write_text(json.dumps(doc))
    h = plan.read_notebook_light(p).input_hash
    doc["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    doc["cells"][0]["execution_count"] = 3
    p.write_text(json.dumps(doc))
    assert plan.read_notebook_light(p).input_hash == h
    doc["cells"][0]["source"] = "x = 2"
    p.write_text(json.dumps(doc))
    assert plan.read_notebook_light(p).input_hash != h


def test_cache_key_changes_with_each_input_and_says_why():
    base = dict(name="a", notebook="n", params={}, core="c", helpers={"helpers/x.py": "1"}, lock="l",
                data={"/d/a.csv": "1"}, settings={})
    k0 = plan.cache_key(base)
    assert plan.cache_key(dict(base)) == k0
    for change, reason in ((dict(params={"district_id": "D02"}), "parameters"),
                           (dict(helpers={"helpers/x.py": "2"}), "helpers changed: helpers/x.py"),
                           (dict(lock="l2"), "requirements.lock"), (dict(data={"/d/a.csv": "2"}), "data changed: a.csv"),
                           (dict(notebook="n2"), "notebook"), (dict(core="c2"), "build code"),
                           (dict(settings={"k": 5}), "settings")):
        new = {**base, **change}
        assert plan.cache_key(new) != k0, change
        assert reason in plan.why_rebuild(base, new)
    assert plan.why_rebuild(None, base).startswith("not built before")


def test_slug():
    assert plan.slug("D01") == "D01"
    assert plan.slug("<script>alert(1)</script>") == "script_alert_1_script"
    assert "/" not in plan.slug("../../etc")


def test_verify_compare_tolerance():
    old = {"r": [{"name": "a", "value": 1.0, "ci": [0.5, 1.5], "unit": "pp", "truth": None, "level": 0.95},
                 {"name": "b", "value": 2.0, "ci": None, "unit": "", "truth": None, "level": 0.95}]}
    same = {"r": [dict(old["r"][0], value=1.0 + 1e-9), dict(old["r"][1])]}
    assert verify.compare(old, same) == []
    moved = {"r": [dict(old["r"][0], value=1.01), dict(old["r"][1])], "new": [{"name": "c", "value": 3.0}]}
    rows = verify.compare(old, moved)
    assert {(r["report"], r["finding"], r["field"]) for r in rows} == {("r", "a", "value"), ("new", "c", "(all)")}
    missing = verify.compare(old, {"r": [old["r"][0]]})
    assert [(r["finding"], r["rebuilt"]) for r in missing] == [("b", "missing")]
    table = verify.format_table(rows)
    assert "committed" in table and "1.01" in table
    assert verify.close(0.0, 1e-10) and not verify.close(0.0, 1e-8)


def test_progress_lines_for_logs():
    buf = io.StringIO()
    p = Progress(["a", "b"], mode="auto", stream=buf)  # StringIO is not a TTY -> one line per change
    assert p.mode == "lines"
    p.set("a", "running")
    p.set("a", "done")
    p.set("b", "cached", duration=0.0)
    out = buf.getvalue().splitlines()
    assert [line.split()[2] for line in out] == ["running", "done", "cached"]


# -- python -m helpers findings: the ledger is written only on request, and only where results changed ------

def _fake_site(tmp_path, reports: dict[str, list[dict]], status=None, data_dir=None, params=None):
    from helpers.publish.build import inputs

    site, cache = tmp_path / "site", tmp_path / "cache"
    (site / "findings").mkdir(parents=True)
    (site / "index.html").write_text("<html></html>")
    for name, items in reports.items():
        (site / "findings" / f"{name}.json").write_text(findings.dumps(items, name))
    cache.mkdir()
    doc = {"build": {"data_dir": str(data_dir or inputs.DEFAULT_DATA.resolve()), "data_given": "data",
                     "params": params or {}, "notebooks": "notebooks"},
           "reports": {n: {"status": (status or {}).get(n, "done")} for n in reports}}
    (cache / "manifest.json").write_text(json.dumps(doc))
    return ["--site", str(site), "--cache-dir", str(cache), "--ledger", str(tmp_path / "ledger")]


def _f(name, value, unit="pp"):
    return {"name": name, "value": value, "ci": None, "level": 0.95, "unit": unit, "truth": None, "note": ""}


def test_findings_update_writes_only_what_changed(tmp_path, capsys):
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    # the ledger as another machine wrote it: the same results to the 9th digit, other bytes
    same_text = json.dumps({"report": "a", "findings": [_f("x", 1.00000000012)]})
    (ledger / "a.json").write_text(same_text)
    (ledger / "b.json").write_text(findings.dumps([_f("y", 2.0)], "b"))
    (ledger / "gone.json").write_text(findings.dumps([_f("z", 3.0)], "gone"))
    args = _fake_site(tmp_path, {"a": [_f("x", 1.0)], "b": [_f("y", 2.5)], "new": [_f("w", 4.0)]})
    assert verify.findings_main(args) == 1  # differences, nothing written
    out = capsys.readouterr().out
    assert "ledger" in out and "site" in out and "2.5" in out and (ledger / "b.json").read_text().count("2.0")
    assert verify.findings_main([*args, "--update"]) == 0
    out = capsys.readouterr().out
    assert "3 report(s) written" not in out and "2 report(s) written (b, new)" in out and "1 removed (gone)" in out
    assert (ledger / "a.json").read_text() == same_text  # within tolerance: untouched, byte for byte
    assert findings.load(ledger / "b.json")[0]["value"] == 2.5 and (ledger / "new.json").exists()
    assert not (ledger / "gone.json").exists()
    assert verify.findings_main(args) == 0
    # a new label (text, not a number) is written too
    (tmp_path / "site" / "findings" / "a.json").write_text(findings.dumps([dict(_f("x", 1.0), label="X")], "a"))
    assert verify.findings_main([*args, "--update"]) == 0
    assert findings.load(ledger / "a.json")[0]["label"] == "X"


def test_findings_update_refuses_an_incomplete_or_foreign_site(tmp_path, capsys):
    args = _fake_site(tmp_path, {"a": [_f("x", 1.0)]}, status={"a": "failed"})
    assert verify.findings_main([*args, "--update"]) == 1
    assert "the site is incomplete (not built or failed: a)" in capsys.readouterr().err
    assert not (tmp_path / "ledger").exists()
    other = tmp_path / "other"
    args = _fake_site(other, {"a": [_f("x", 1.0)]}, data_dir=tmp_path / "my_city")
    assert verify.findings_main([*args, "--update"]) == 2
    assert "not the default data" in capsys.readouterr().err
    args = _fake_site(tmp_path / "p", {"a": [_f("x", 1.0)]}, params={"year": 2023})
    assert verify.findings_main([*args, "--update"]) == 2
    assert "built with parameters (year=2023)" in capsys.readouterr().err
    assert verify.findings_main(["--site", str(tmp_path / "nowhere"), "--update"]) == 2


def test_the_findings_table_prints_an_estimate_as_the_prose_does():
    """The table and a sentence that formats the same interval with fmt.interval agree digit for digit."""
    from helpers.publish import findings, fmt

    cases = [(19.31, (12.84, 25.73), "points", "19 (13 to 26)"),
             (37.31, (34.52, 40.27), "% of residents", "37.3% (34.5 to 40.3)"),
             (0.0855, (0.071, 0.100), "correlation", "0.086 (0.071 to 0.100)"),
             (0.0208, None, "points (1-5)", "0.021"),
             (3.0, None, "districts", "3")]
    items = [findings.Finding(name=f"f{i}", value=v, ci=ci, unit=u) for i, (v, ci, u, _) in enumerate(cases)]
    shown = findings.table(items)["Estimate (95% CI)"].tolist()
    assert shown == [c[3] for c in cases]
    for (v, ci, u, _), text in zip(cases, shown):
        lo, hi = ci if ci else (None, None)
        unit = "%" if u.startswith("%") else ""
        assert fmt.interval(v, lo, hi, unit=unit) == text
