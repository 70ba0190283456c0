"""The pinned environment: environment.yml, requirements.in and requirements.lock agree."""
from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_environment as se  # noqa: E402


def _env_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins: dict[str, str] = {}
    back = {v: k for k, v in se.CONDA_NAME.items()}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            m = re.match(r"^([A-Za-z0-9_.\-]+)\s*==?\s*([^\s]+)$", item)
            if m:
                pins[back.get(m.group(1), m.group(1)).lower()] = m.group(2)
    return pins


def test_every_direct_dependency_is_pinned_in_environment_yml():
    pins = _env_pins()
    missing = [d for d in se.direct_dependencies() if d.lower() not in pins]
    assert not missing, f"environment.yml lacks these direct dependencies: {missing}"


def test_environment_yml_versions_equal_lock():
    lock = se.lock_versions()
    pins = _env_pins()
    pins.pop("python", None)
    differ = {k: (v, lock.get(k)) for k, v in pins.items() if lock.get(k) != v}
    assert not differ, f"environment.yml and requirements.lock disagree (env, lock): {differ}"


def test_python_is_3_11():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert sys.version_info[:2] == (3, 11)


def test_lock_pins_every_package_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==", text, flags=re.M)
    assert len(pins) > 50
    blocks = re.split(r"^(?=[A-Za-z0-9_.\-]+==)", text, flags=re.M)[1:]
    unhashed = [b.split("==")[0] for b in blocks if "--hash=sha256:" not in b]
    assert not unhashed, f"packages without hashes in the lock: {unhashed}"


def test_installed_versions_match_lock():
    """The running environment is the locked one (catches a stale .venv)."""
    lock = se.lock_versions()
    wrong = {}
    for name in se.direct_dependencies():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != lock[name.lower()]:
            wrong[name] = (have, lock[name.lower()])
    assert not wrong, f"installed (have, lock): {wrong}; run `make venv`"


def test_generated_environment_yml_is_current():
    assert (ROOT / "environment.yml").read_text() == se.render(), "run: python tools/sync_environment.py"


def test_venv_setup_is_a_no_op_when_nothing_changed():
    """`make test` / `make reports` must not reinstall anything on a second run."""
    import subprocess

    if not (ROOT / ".venv" / ".env-hash").exists():
        import pytest

        pytest.skip("not running from the project's .venv")
    out = subprocess.run(["bash", str(ROOT / "tools" / "ensure-venv.sh")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"ensure-venv.sh did work on an unchanged environment: {out.stdout}"
