"""The codebook (data/README.md) is generated from the contract and never drifts from it."""
from __future__ import annotations

from helpers import paths
from helpers.data import schema
from helpers.cli import codebook as main
from helpers.data.codebook import render


def test_codebook_on_disk_is_current(capsys):
    assert main(["--check", "--out", str(paths.ROOT / "data" / "README.md")]) == 0, (
        "data/README.md is out of date: run `python -m helpers codebook`")


def test_codebook_mentions_every_table_and_column():
    text = render()
    for t in schema.TABLES.values():
        assert f"### `{t.file}`" in text
        for c in t.columns:
            assert f"| `{c.name}` |" in text.split(f"### `{t.file}`")[1].split("### ")[0], (t.name, c.name)
        for r in t.rules:
            assert f"`{r.left}` {r.op} `{r.right}`" in text
    from helpers.data.synth import STUDY_PERIOD

    assert f'"study_period": [first, last]' in text and f"declare [{STUDY_PERIOD[0]}, {STUDY_PERIOD[1]}]" in text
    assert "## `metadata.json`" in text and "| `study_period` |" in text
    for name in schema.OPTIONAL_TABLES:  # each table says whether a folder must have it
        assert "- **Required**: no (optional)" in text.split(f"### `{schema.TABLES[name].file}`")[1].split("### ")[0]
    assert "python -m helpers validate" in text and "--quarantine" in text and "UTF-8" in text


def test_check_detects_drift(tmp_path, capsys):
    out = tmp_path / "README.md"
    assert main(["--check", "--out", str(out)]) == 1  # missing
    assert main(["--out", str(out)]) == 0
    assert main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert main(["--check", "--out", str(out)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_render_is_deterministic():
    assert render() == render()
