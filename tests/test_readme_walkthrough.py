"""README's "Your own city, step by step", followed as written (issue 11: "README ... becomes a
walk-through that works as written, from Excel files to a published site, and a test follows it").

The commands are read from the README's fenced blocks, not copied here. Every one must be accepted by
its command's own argument parser. Then the walk-through is run on a city made from the derived data
folder of conftest's ``derived_site`` (five districts, 2023-2025, one district of a single sub-district, no
assessment table): its tables written as Excel workbooks with Chinese headers (as ``tests/test_import.py``
makes them). ``import`` and ``validate`` run for real, and the imported folder must equal the derived
folder table for table. ``build`` runs as written with ``--list`` added (what it would build, where);
the full build of that same data is the one ``tests/test_derived_site.py`` checks. ``verify`` (a second
full execution) is only parsed.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pandas as pd
import pytest

from helpers import cli, paths
from helpers.data import schema
from test_derived_site import states

SECTION = "## Your own city, step by step"
PROGRAM = [".venv/bin/python", "-m", "helpers"]


def walkthrough() -> list[tuple[list[str], str | None]]:
    """The commands of the README's walk-through in order: (argv after ``python -m helpers``, file that
    stdout is redirected to or None)."""
    text = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    sec = text[text.index(SECTION) + len(SECTION):]
    sec = sec[: sec.index("\n## ")]
    out = []
    for block in re.findall(r"```bash\n(.*?)```", sec, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            assert words[:3] == PROGRAM, f"not a helpers command as the README runs them: {line!r}"
            argv, redirect = words[3:], None
            if ">" in argv:
                k = argv.index(">")
                argv, redirect = argv[:k], argv[k + 1]
            out.append((argv, redirect))
    return out


def parsers():
    from helpers.data.importing import command as importing
    from helpers.publish import build, verify

    return {"import": importing._parser, "validate": cli._validate_parser, "build": build.build_parser,
            "verify": verify.build_parser, "findings": verify.findings_parser}


def test_the_walkthrough_is_import_validate_build_verify():
    assert [argv[0] for argv, _ in walkthrough()] == ["import", "import", "validate", "build", "verify"]


def test_every_command_of_the_walkthrough_is_accepted_by_its_parser():
    for argv, _ in walkthrough():
        assert argv[0] in cli.COMMANDS
        try:
            parsers()[argv[0]]().parse_args(argv[1:])
        except SystemExit as e:  # argparse's way of refusing (it printed why)
            pytest.fail(f"python -m helpers {shlex.join(argv)}: refused by its parser (exit {e.code})")


def run(argv, cwd, stdout_file=None):
    env = {k: v for k, v in os.environ.items() if k != "HELPERS_DATA_DIR"}
    with open(cwd / stdout_file, "w", encoding="utf-8") if stdout_file else open(os.devnull, "w") as sink:
        r = subprocess.run([sys.executable, "-m", "helpers", *argv], cwd=cwd, env=env, text=True, timeout=900,
                           stdout=sink if stdout_file else subprocess.PIPE, stderr=subprocess.PIPE)
    return r


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_the_walkthrough_works_as_written_on_a_city_of_excel_files(derived_site, tmp_path, monkeypatch):
    import yaml

    import test_import
    from helpers.data.load import available_tables, clear_cache, load_all

    steps = walkthrough()
    src = derived_site.data
    have = available_tables(src)
    absent = [t for t in schema.TABLES if t not in have]
    assert absent == ["assessment"], absent
    # the city's files: the derived folder's tables as Excel workbooks (and a CSV) with Chinese headers
    monkeypatch.setattr(test_import, "SHIPPED", src)
    monkeypatch.setattr(test_import, "CSV_TABLES", [t for t in test_import.CSV_TABLES if t in have])
    edited = test_import.write_excel_city(tmp_path / "my_files")

    # 1. import (the example mapping, edited as the README says: the files of this city, its tables only)
    (argv, redirect), = [s for s in steps if "--example-mapping" in s[0]]
    assert run(argv, tmp_path, redirect).returncode == 0
    mapping = tmp_path / redirect
    assert yaml.safe_load(mapping.read_text(encoding="utf-8")) == test_import.example_doc()
    doc = yaml.safe_load(edited.read_text(encoding="utf-8"))
    for t in absent:  # "delete the tables your city does not have"
        del doc["tables"][t]
    mapping.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    argv, _ = next(s for s in steps if s[0][0] == "import" and "--mapping" in s[0])
    r = run(argv, tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
    city = tmp_path / argv[argv.index("--out") + 1]
    clear_cache()
    got, want = load_all(city), load_all(src)
    assert list(got) == list(want) == have
    for name in have:
        cols = schema.TABLES[name].column_names
        pd.testing.assert_frame_equal(pd.DataFrame(got[name][cols]), pd.DataFrame(want[name][cols]),
                                      check_exact=True, obj=name)

    # 2. validate
    argv, _ = next(s for s in steps if s[0][0] == "validate")
    r = run(argv, tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
    # the notice: the table is absent, and no study is skipped for it (03 skips its claim-6 section alone)
    assert "assessment.csv is absent: no study is skipped" in r.stdout, r.stdout

    # 3. build, as written plus --list: the reports it would build, into reports/sites/<folder name>/
    argv, _ = next(s for s in steps if s[0][0] == "build")
    site = paths.ROOT / "reports" / "sites" / city.name
    existed = site.exists()
    r = run([*argv, "--list", "--cache-dir", str(tmp_path / "cache")], tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
    listed = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()
              if re.match(r"^(\d\d_|district_profile)", line)}
    assert {n for n, state in listed.items() if state == "skipped"} == set(), r.stdout
    assert "03_satisfaction" in listed, r.stdout
    # the same reports as the build of the derived folder itself (tests/test_derived_site.py)
    assert set(listed) == set(states(derived_site.log)), r.stdout
    assert site.exists() == existed  # --list writes no site
    assert str(city) not in r.stdout + r.stderr  # the folder is named as the user typed it

    # 4. verify: parsed (above); it points at the site the build writes
    argv, _ = next(s for s in steps if s[0][0] == "verify")
    assert argv[argv.index("--site") + 1] == f"reports/sites/{city.name}"
