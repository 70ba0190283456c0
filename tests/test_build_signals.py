"""Interrupting the build: Ctrl-C, SIGTERM and kill -9 leave no process behind and a consistent site.

Each test starts a real build in a subprocess (its own session, as a terminal runs it) of two reports,
one quick and one that sleeps, waits until the quick one is published and the slow one's kernel runs,
then interrupts it and checks from /proc that every process the build started has ended.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import paths
from test_build_nbkit import PASSING, cmdline, descendants, make_data, still_running, write_nb

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("build-signals")]

#: Seconds the processes get to end after the build was interrupted or killed.
GRACE = 5.0


@pytest.fixture()
def folder(tmp_path):
    make_data(tmp_path / "data")
    write_nb(tmp_path / "nbs" / "10_pass.ipynb", PASSING)
    write_nb(tmp_path / "nbs" / "30_slow.ipynb", [("md", "# Slow\n\nSleeps."), "import time\ntime.sleep(600)"])
    return tmp_path


def command(folder, *extra):
    return [sys.executable, "-m", "helpers", "build", "--notebooks", str(folder / "nbs"), "--data-dir",
            str(folder / "data"), "--out", str(folder / "site"), "--cache-dir", str(folder / "cache"),
            "--jobs", "2", *extra]


def start_and_wait(folder):
    """Start a build; return it once 10_pass is published and 30_slow's kernel is running."""
    p = subprocess.Popen(command(folder, "--progress", "lines"), cwd=paths.ROOT, start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        log.append(line)
        if "done    10_pass" in line:
            break
    assert any("done    10_pass" in x for x in log), "".join(log) + p.stdout.read()
    while time.monotonic() < deadline:  # the slow report's kernel is up
        kernels = [c for c in descendants(p.pid) if "kernel_launcher" in cmdline(c)]
        if kernels:
            break
        time.sleep(0.2)
    assert kernels, "".join(log)
    return p, log


def wait_gone(pids, grace=GRACE) -> list[int]:
    deadline = time.monotonic() + grace
    while still_running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return still_running(pids)


def listing(folder) -> dict[str, str]:
    r = subprocess.run(command(folder, "--list"), cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {line.split()[0]: line for line in r.stdout.splitlines()}


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupt_stops_soon_and_keeps_what_finished(folder, how):
    p, log = start_and_wait(folder)
    procs = descendants(p.pid)
    assert len([c for c in procs if "spawn_main" in cmdline(c)]) == 2  # two workers
    t0 = time.monotonic()
    if how == "ctrl-c":
        os.killpg(p.pid, signal.SIGINT)  # what the terminal does: the whole foreground group gets it
    else:
        os.kill(p.pid, signal.SIGTERM)
    rest, _ = p.communicate(timeout=60)
    stopped = time.monotonic() - t0
    output = "".join(log) + rest
    assert p.returncode == 128 + (signal.SIGINT if how == "ctrl-c" else signal.SIGTERM), output
    assert stopped < 5.0, f"the build took {stopped:.1f}s to stop"
    assert wait_gone(procs) == [], [cmdline(x) for x in still_running(procs)]
    # a stopped report is not a failed one
    assert "AssertionError" not in output and "FAILED" not in output and "failed" not in output, output
    assert "interrupted; 1 report(s) built and published, 1 not built" in output
    site = folder / "site"
    assert (site / "10_pass.html").exists() and (site / "findings" / "10_pass.json").exists()
    assert not (site / "30_slow.html").exists() and not (site / "errors").exists()
    assert not [x for x in site.rglob("*") if x.name.startswith(".")]  # nothing half-written
    index = (site / "index.html").read_text()
    assert 'href="10_pass.html"' in index and "not built" in index
    manifest = json.loads((folder / "cache" / "manifest.json").read_text())
    assert manifest["reports"]["10_pass"]["status"] == "done" and "30_slow" not in manifest["reports"]
    again = listing(folder)
    assert "up to date" in again["10_pass"] and "failed last time" not in again["30_slow"]


def test_kill_9_leaves_no_process_and_the_rerun_reuses_what_finished(folder):
    p, log = start_and_wait(folder)
    procs = descendants(p.pid)
    assert any("kernel_launcher" in cmdline(c) for c in procs)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    assert wait_gone(procs) == [], [cmdline(x) for x in still_running(procs)]
    again = listing(folder)
    assert "up to date" in again["10_pass"] and "to build" in again["30_slow"]
    # the rerun finishes the site: quick now, and nothing left over from the killed build
    write_nb(folder / "nbs" / "30_slow.ipynb", [("md", "# Slow\n\nNot any more."), "x = 1"])
    r = subprocess.run(command(folder, "--progress", "lines"), cwd=paths.ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "cached  10_pass" in r.stdout and "done    30_slow" in r.stdout
    assert not [x for x in (folder / "site").rglob("*") if x.name.startswith(".")]
