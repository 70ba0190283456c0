"""Reproducing the findings: ``python -m helpers verify`` and ``python -m helpers findings``.

``verify`` builds every report from scratch into a temporary folder (the sites
and the ledger untouched) and compares every finding (value, interval bounds,
truth) with a reference:

- for the default data, the committed ledger ``reports/findings/*.json``;
- with ``--site DIR`` (or ``--data-dir`` of another data folder, whose site is
  ``reports/sites/NAME``), that site's own recorded findings ``DIR/findings/``,
  re-executed on the data folder and parameters the site was built with.

Two numbers agree when

    |rebuilt - reference| <= ABS_TOL + REL_TOL * |reference|

with ``REL_TOL = 1e-6`` and ``ABS_TOL = 1e-9`` by default: the build is seeded and
the environment pinned, so a larger change is a change of a result, while the
last digits an optimiser gives on another machine are not. Units and levels are
compared as text.

``findings`` compares the default site's findings (``reports/site/findings/``,
written by ``make reports``) with the ledger without re-executing anything;
``findings --update`` copies the reports whose findings changed beyond the
tolerance into the ledger, leaving the files of the others byte for byte as
they are. It is the only command that writes the ledger.

Exit status of ``verify``: 0 every finding reproduced; 1 some differ, are missing
or are new; 2 a notebook failed or usage error. Of ``findings``: 0 the ledger
matches (or was updated); 1 differences (without ``--update``) or an incomplete
site; 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

from helpers import paths
from helpers.publish import findings as findings_mod

REL_TOL = 1e-6
ABS_TOL = 1e-9


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers verify",
        description="Re-execute every notebook into a temporary folder and compare each recorded finding with the "
                    "reference: for the default data the committed ledger reports/findings/; for a site (--site "
                    "DIR, or --data-dir of another data folder) that site's own findings. Numbers agree when "
                    "|new - old| <= ABS_TOL + REL_TOL * |old|.",
        epilog="Exit status: 0 all findings reproduced; 1 differences (a table is printed); 2 a notebook failed "
               "or usage error. Examples: 'python -m helpers verify'; "
               "'python -m helpers verify --site reports/sites/my_city'.",
    )
    p.add_argument("--site", default=None, metavar="DIR",
                   help="verify this site against its own recorded findings (re-executed with the data folder and "
                        "parameters it was built with)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="data folder (default: the default data, compared with the ledger; another folder is "
                        "compared with its site reports/sites/NAME)")
    p.add_argument("--param", action="append", default=None, metavar="NAME=VALUE",
                   help="parameters as for build (default: those the site was built with)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="the build cache of --site, which records how it was built (default .build-cache/SITE/)")
    p.add_argument("--rel-tol", type=float, default=REL_TOL, help=f"relative tolerance (default {REL_TOL:g})")
    p.add_argument("--abs-tol", type=float, default=ABS_TOL, help=f"absolute tolerance (default {ABS_TOL:g})")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N", help="reports built at once (default: cores)")
    p.add_argument("--committed", default=None, metavar="DIR",
                   help="compare with the findings in DIR instead (default: the ledger reports/findings for the "
                        "default data)")
    p.add_argument("--notebooks", default=None, metavar="DIR",
                   help="folder of notebooks (default notebooks/, or the one the site was built from)")
    p.add_argument("--keep", default=None, metavar="DIR",
                   help="build into DIR and keep it (default: a temporary folder, deleted afterwards)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="limit per report (default 600)")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto")
    return p


def close(a, b, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    """``a`` agrees with the reference ``b``: both None, or both finite and within tolerance of ``b``."""
    if a is None or b is None:
        return a is None and b is None
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= abs_tol + rel_tol * abs(b)


def compare(committed: dict[str, list[dict]], rebuilt: dict[str, list[dict]],
            rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> list[dict]:
    """Differences between two ``{report: [finding dicts]}`` maps, one row per field that differs.

    ``committed`` is the reference. Returns rows with ``report, finding, field,
    committed, rebuilt, diff`` (``field`` is ``(all)`` for a finding only one side has).
    """
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
                                 rebuilt=f"{_s(new[name].get('value'))} (new)", diff=""))
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


def format_table(rows: list[dict], reference: str = "committed", new: str = "rebuilt") -> str:
    cols = ["report", "finding", "field", "committed", "rebuilt", "diff"]
    heads = {**{c: c for c in cols}, "committed": reference, "rebuilt": new}
    widths = {c: max(len(heads[c]), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(heads[c].ljust(widths[c]) for c in cols), "  ".join("-" * widths[c] for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def site_record(site: Path, cache_dir: str | None = None) -> dict | None:
    """How a site was built (data folder, notebooks, parameters, each report's state), from the build's
    manifest in its cache (``cache_dir``, default ``.build-cache/SITE``); None if unknown."""
    from helpers.publish.build import inputs

    manifest = inputs.cache_folder(cache_dir, site.resolve()) / "manifest.json"
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc.get("build"), dict) else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from helpers.publish import build
    from helpers.publish.build import inputs

    try:
        data = inputs.data_folder(args.data_dir)
        if args.site is None and args.committed is None and not data.is_default:
            args.site = inputs.out_folder(None, data)[1]
        if args.site is not None:
            site = Path(args.site)
            if not (site / "index.html").is_file():
                raise inputs.UsageError(f"--site {args.site}: no site there (no index.html); build it first")
            record = site_record(site, args.cache_dir)
            if record is None and args.data_dir is None:
                raise inputs.UsageError(f"--site {args.site}: the build's record of it is gone (the build cache); "
                                        "give --data-dir DIR (and --param as it was built)")
            reference, kind = site / "findings", "site"
            build_info = (record or {}).get("build", {})
            data_dir = args.data_dir or build_info.get("data_dir")
            params = args.param if args.param is not None else [
                f"{k}={v!r}" for k, v in build_info.get("params", {}).items()]
            notebooks = args.notebooks or build_info.get("notebooks") or str(paths.NOTEBOOKS_DIR)
        else:
            reference = Path(args.committed or paths.LEDGER_DIR)
            kind = "ledger" if data.is_default and args.committed is None else "folder"
            data_dir, params = args.data_dir, args.param or []
            notebooks = args.notebooks or str(paths.NOTEBOOKS_DIR)
    except inputs.UsageError as e:
        print(f"verify: error: {e}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="helpers-verify-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "site"
        bargs = ["--force", "--out", str(out), "--cache-dir", str(Path(tmp) / "cache"), "--notebooks", notebooks,
                 "--timeout", str(args.timeout), "--progress", args.progress]
        bargs += [x for p in params for x in ("--param", p)]
        if args.jobs:
            bargs += ["--jobs", str(args.jobs)]
        if data_dir:
            bargs += ["--data-dir", str(data_dir)]
        print(f"verify: building every report from scratch into {'a temporary folder' if not args.keep else out}")
        rc = build.main(bargs)
        fdir = out / "findings"
        rebuilt = findings_mod.load_dir(fdir) if fdir.is_dir() else {}
    if rc not in (0, 1):
        print("verify: the build did not run to the end (see above); nothing was compared", file=sys.stderr)
        return 2
    committed = findings_mod.load_dir(reference) if reference.is_dir() else {}
    if rc != 0:
        # only compare reports that built; a failed one is reported by the build above
        committed = {k: v for k, v in committed.items() if k in rebuilt}
    rows = compare(committed, rebuilt, args.rel_tol, args.abs_tol)
    n = sum(len(v) for v in rebuilt.values())
    label = {"ledger": "the ledger", "site": "the site's findings", "folder": "the findings"}[kind]
    if rows:
        print(f"\nverify: {len(rows)} difference(s) between the rebuilt findings and {label} ({reference}; "
              f"tolerance: abs {args.abs_tol:g} + rel {args.rel_tol:g}):\n")
        print(format_table(rows, {"ledger": "ledger", "site": "site", "folder": "reference"}[kind]))
        if kind == "ledger":
            print("\nIf the change is intended, update the ledger with 'make findings' (it rebuilds the default "
                  "site and copies its changed findings into reports/findings/), review 'git diff' and commit it.")
        elif kind == "site":
            print(f"\nThe site {args.site} no longer matches a fresh run of its notebooks on its data; rebuild it "
                  "with 'python -m helpers build --force' and the same --data-dir and --param.")
    else:
        print(f"verify: all {n} finding(s) in {len(rebuilt)} report(s) reproduced {label} within "
              f"abs {args.abs_tol:g} + rel {args.rel_tol:g}")
    if rc != 0:
        print("verify: some notebooks failed (see above); their findings could not be checked", file=sys.stderr)
        return 2
    return 1 if rows else 0


# ---------------------------------------------------------------------------
# python -m helpers findings
# ---------------------------------------------------------------------------

def _shown(p: Path) -> str:
    """A path as messages show it: relative to the repository when inside it."""
    try:
        return Path(p).resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        return str(p)


def _text_changed(old: dict[str, list[dict]], new: dict[str, list[dict]]) -> set[str]:
    """Reports whose findings differ in what is not a number (labels, notes): no machine noise there."""
    def text(items):
        return [{k: v for k, v in f.items() if k not in ("value", "ci", "truth")} for f in items]

    return {r for r in set(old) & set(new) if text(old[r]) != text(new[r])}


def findings_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers findings",
        description="Compare the findings of the default data's site (reports/site/findings/, written by 'make "
                    "reports') with the committed ledger reports/findings/, within verify's tolerance. With "
                    "--update, copy the reports whose findings changed into the ledger (files of unchanged "
                    "reports stay byte for byte as they are); this is the only command that writes the ledger.",
        epilog="Exit status: 0 the ledger matches the site (or was updated); 1 differences without --update, or "
               "the site is incomplete (a report failed or was not built); 2 usage error. "
               "'make findings' runs 'make reports' and then this command with --update.",
    )
    p.add_argument("--update", action="store_true", help="write the changed findings into the ledger")
    p.add_argument("--rel-tol", type=float, default=REL_TOL, help=f"relative tolerance (default {REL_TOL:g})")
    p.add_argument("--abs-tol", type=float, default=ABS_TOL, help=f"absolute tolerance (default {ABS_TOL:g})")
    p.add_argument("--site", default=str(paths.SITE_DIR), help=argparse.SUPPRESS)
    p.add_argument("--ledger", default=str(paths.LEDGER_DIR), help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    return p


def findings_main(argv: list[str] | None = None) -> int:
    """``python -m helpers findings [--update]`` (see :func:`findings_parser`)."""
    from helpers.publish.build import inputs

    args = findings_parser().parse_args(argv)
    site, ledger = Path(args.site), Path(args.ledger)
    prog = "python -m helpers findings"
    record = site_record(site, args.cache_dir) if (site / "index.html").is_file() else None
    if record is None:
        print(f"{prog}: error: no site of the default data in {_shown(site)}; build it first (make reports)",
              file=sys.stderr)
        return 2
    if Path(record["build"]["data_dir"]) != inputs.DEFAULT_DATA.resolve():
        print(f"{prog}: error: {_shown(site)} was built from {record['build'].get('data_given')}, not the default data; "
              "the ledger holds the default data's findings only", file=sys.stderr)
        return 2
    if record["build"].get("params"):
        given = ", ".join(f"{k}={v!r}" for k, v in record["build"]["params"].items())
        print(f"{prog}: error: {_shown(site)} was built with parameters ({given}); the ledger holds the findings of the "
              "notebooks' defaults: rebuild without --param (make reports)", file=sys.stderr)
        return 2
    entries = record.get("reports", {})
    bad = sorted(n for n, e in entries.items() if e.get("status") not in ("done", "skipped"))
    site_findings = findings_mod.load_dir(site / "findings") if (site / "findings").is_dir() else {}
    current = findings_mod.load_dir(ledger) if ledger.is_dir() else {}
    rows = compare(current, site_findings, args.rel_tol, args.abs_tol)
    text_only = sorted(_text_changed(current, site_findings) - {r["report"] for r in rows})
    if not args.update:
        if text_only:
            print(f"{prog}: labels or notes differ (not the numbers) for: {', '.join(text_only)}")
        if rows:
            print(format_table(rows, "ledger", "site"))
            print(f"\n{prog}: {len(rows)} difference(s) between the site's findings and the ledger {_shown(ledger)}; "
                  f"update the ledger with '{prog} --update' (or 'make findings') and commit it")
        elif not text_only:
            print(f"{prog}: the ledger matches the site: {sum(map(len, site_findings.values()))} finding(s) in "
                  f"{len(site_findings)} report(s), within abs {args.abs_tol:g} + rel {args.rel_tol:g}")
        if bad:
            print(f"{prog}: the site is incomplete (not built or failed: {', '.join(bad)})", file=sys.stderr)
        return 1 if rows or bad or text_only else 0
    if bad:
        print(f"{prog}: error: the site is incomplete (not built or failed: {', '.join(bad)}); fix them and "
              "rebuild (make reports) before updating the ledger", file=sys.stderr)
        return 1
    changed = sorted({r["report"] for r in rows} | _text_changed(current, site_findings))
    written, removed = [], []
    ledger.mkdir(parents=True, exist_ok=True)
    for report in changed:
        src, dst = site / "findings" / f"{report}.json", ledger / f"{report}.json"
        if src.is_file():
            dst.write_bytes(src.read_bytes())
            written.append(report)
        elif dst.is_file():
            dst.unlink()
            removed.append(report)
    unchanged = len(set(site_findings) - set(changed))
    print(f"{prog}: ledger {_shown(ledger)}: {len(written)} report(s) written ({', '.join(written) or 'none'}), "
          f"{len(removed)} removed ({', '.join(removed) or 'none'}), {unchanged} unchanged within tolerance"
          + ("; review 'git diff' and commit it" if written or removed else ""))
    return 0
