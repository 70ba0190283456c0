"""Progress display for the build: one line per report (queued, running, done, failed, cached, skipped).

On a terminal the table is redrawn in place; in a log (CI, a pipe) each change
of state is printed as one line, so the log reads top to bottom.
"""
from __future__ import annotations

import sys
import time

STATES = ("queued", "running", "done", "failed", "cached", "skipped")


class Progress:
    def __init__(self, names: list[str], mode: str = "auto", stream=None):
        self.stream = stream or sys.stdout
        if mode == "auto":
            mode = "live" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode  # live | lines | none
        self.t0 = time.monotonic()
        self.state = {n: "queued" for n in names}
        self.start: dict[str, float] = {}
        self.duration: dict[str, float] = {}
        self.width = max([len(n) for n in names] + [10])
        self._drawn = 0
        self._last_draw = 0.0

    # -- updates -------------------------------------------------------------
    def set(self, name: str, state: str, duration: float | None = None) -> None:
        if state not in STATES:
            raise ValueError(state)
        if self.state.get(name) == state and duration is None:
            return
        self.state[name] = state
        now = time.monotonic()
        if state == "running":
            self.start[name] = now
        if duration is not None:
            self.duration[name] = duration
        elif state in ("done", "failed") and name in self.start:
            self.duration[name] = now - self.start[name]
        if self.mode == "lines":
            self._line(name)
        elif self.mode == "live":
            self.draw(force=True)

    def _fmt_time(self, name: str) -> str:
        st = self.state[name]
        if st == "running":
            return f"{time.monotonic() - self.start.get(name, self.t0):6.1f}s"
        if name in self.duration:
            return f"{self.duration[name]:6.1f}s"
        return " " * 7

    def _line(self, name: str) -> None:
        elapsed = time.monotonic() - self.t0
        self.stream.write(f"[{elapsed:7.1f}s] {self.state[name]:<7} {name:<{self.width}} {self._fmt_time(name)}\n")
        self.stream.flush()

    def tick(self) -> None:
        """Redraw running times (live mode only, at most 4 times a second)."""
        if self.mode == "live":
            self.draw()

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.25:
            return
        self._last_draw = now
        lines = [f"  {self.state[n]:<7} {n:<{self.width}} {self._fmt_time(n)}" for n in self.state]
        counts = {s: sum(1 for v in self.state.values() if v == s) for s in STATES}
        lines.append("  " + ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
                     + f"  [{now - self.t0:.1f}s]")
        out = ""
        if self._drawn:
            out += f"\x1b[{self._drawn}F"  # cursor up to the first line of the table
        out += "".join(f"\x1b[2K{line}\n" for line in lines)
        self.stream.write(out)
        self.stream.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        if self.mode == "live":
            self.draw(force=True)
