"""``python -m helpers verify``: re-execute everything and compare findings with the committed ones.

Builds every report from scratch into a temporary folder (``--force``, the
findings redirected there, the committed ``reports/`` untouched), then
compares every finding (value, interval bounds, truth) with
``reports/findings/*.json``. Two numbers agree when

    |rebuilt - committed| <= ABS_TOL + REL_TOL * |committed|

with ``REL_TOL = 1e-6`` and ``ABS_TOL = 1e-9`` by default: the build is
deterministic (seeded randomness, pinned environment), so any larger change is
a real change of a result. Units and notes are compared as text.

Exit status: 0 every finding reproduced; 1 some differ, are missing or are new;
2 a notebook failed (nothing to compare for it).
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

from helpers.publish import findings as findings_mod
from helpers import paths

REL_TOL = 1e-6
ABS_TOL = 1e-9


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers verify",
        description="Re-execute every notebook into a temporary folder and compare each recorded finding "
                    "with the committed reports/findings/*.json. Numbers agree when |new - old| <= "
                    "ABS_TOL + REL_TOL * |old|.",
        epilog="Exit status: 0 all findings reproduced; 1 differences (a table is printed); 2 a notebook failed.",
    )
    p.add_argument("--rel-tol", type=float, default=REL_TOL, help=f"relative tolerance (default {REL_TOL:g})")
    p.add_argument("--abs-tol", type=float, default=ABS_TOL, help=f"absolute tolerance (default {ABS_TOL:g})")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N", help="reports built at once (default: cores)")
    p.add_argument("--committed", type=Path, default=paths.REPORTS_DIR / "findings", metavar="DIR",
                   help="folder of committed findings (default reports/findings)")
    p.add_argument("--notebooks", type=Path, default=paths.NOTEBOOKS_DIR, metavar="DIR",
                   help="folder of notebooks (default notebooks/)")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="data folder (default data/)")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR",
                   help="build into DIR and keep it (default: a temporary folder, deleted afterwards)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="limit per report (default 600)")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto")
    return p


def close(a, b, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= abs_tol + rel_tol * abs(b)


def compare(committed: dict[str, list[dict]], rebuilt: dict[str, list[dict]],
            rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> list[dict]:
    """Differences between two ``{report: [finding dicts]}`` maps, one row per field that differs."""
    rows = []
    for report in sorted(set(committed) | set(rebuilt)):
        old = {f["name"]: f for f in committed.get(report, [])}
        new = {f["name"]: f for f in rebuilt.get(report, [])}
        for name in sorted(set(old) | set(new)):
            if name not in new:
                rows.append(dict(report=report, finding=name, field="(all)", committed="recorded",
                                 rebuilt="missing", diff=""))
                continue
            if name not in old:
                rows.append(dict(report=report, finding=name, field="(all)", committed="missing",
                                 rebuilt=f"{new[name].get('value')!r} (new; commit reports/findings)", diff=""))
                continue
            o, n = old[name], new[name]
            pairs = [("value", o.get("value"), n.get("value")), ("truth", o.get("truth"), n.get("truth"))]
            oci, nci = o.get("ci") or [None, None], n.get("ci") or [None, None]
            pairs += [("ci_lo", oci[0], nci[0]), ("ci_hi", oci[1], nci[1])]
            for field, a, b in pairs:
                if not close(b, a, rel_tol, abs_tol):
                    diff = "" if a is None or b is None else f"{b - a:+.3g}"
                    rows.append(dict(report=report, finding=name, field=field, committed=_s(a), rebuilt=_s(b),
                                     diff=diff))
            for field in ("unit", "level"):
                if o.get(field) != n.get(field):
                    rows.append(dict(report=report, finding=name, field=field, committed=_s(o.get(field)),
                                     rebuilt=_s(n.get(field)), diff=""))
    return rows


def _s(x) -> str:
    return "none" if x is None else (f"{x:.10g}" if isinstance(x, float) else str(x))


def format_table(rows: list[dict]) -> str:
    cols = ["report", "finding", "field", "committed", "rebuilt", "diff"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols), "  ".join("-" * widths[c] for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from helpers.publish import build

    with tempfile.TemporaryDirectory(prefix="helpers-verify-") as tmp:
        out = args.keep or Path(tmp) / "reports"
        fdir = out / "findings"
        bargs = ["--force", "--out", str(out), "--findings-dir", str(fdir), "--notebooks", str(args.notebooks),
                 "--timeout", str(args.timeout), "--progress", args.progress]
        if args.jobs:
            bargs += ["--jobs", str(args.jobs)]
        if args.data_dir:
            bargs += ["--data-dir", str(args.data_dir)]
        print(f"verify: building every report from scratch into {'a temporary folder' if not args.keep else out}")
        rc = build.main(bargs)
        rebuilt = findings_mod.load_dir(fdir) if fdir.is_dir() else {}
    committed = findings_mod.load_dir(args.committed) if args.committed.is_dir() else {}
    if rc != 0:
        # only compare reports that built; a failed one is reported by the build above
        rebuilt_names = set(rebuilt)
        committed = {k: v for k, v in committed.items() if k in rebuilt_names}
    rows = compare(committed, rebuilt, args.rel_tol, args.abs_tol)
    n = sum(len(v) for v in rebuilt.values())
    if rows:
        print(f"\nverify: {len(rows)} difference(s) between the rebuilt and the committed findings "
              f"(tolerance: abs {args.abs_tol:g} + rel {args.rel_tol:g}):\n")
        print(format_table(rows))
        print("\nIf the change is intended, rebuild with 'make reports' and commit reports/findings/.")
    else:
        print(f"verify: all {n} finding(s) in {len(rebuilt)} report(s) reproduced within abs {args.abs_tol:g} "
              f"+ rel {args.rel_tol:g}")
    if rc != 0:
        print("verify: some notebooks failed (see above); their findings could not be checked", file=sys.stderr)
        return 2
    return 1 if rows else 0
