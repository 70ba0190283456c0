"""Command line: ``python -m helpers <command> ...``; ``--help`` lists the commands.

The command line lives here, apart from the library: the library modules never import it. The
data commands (``validate``, ``codebook``, ``synth``) are defined in this module; other commands
name the ``main(argv) -> int`` of their own module.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

#: command -> (``"module:function"`` or a module with ``main(argv) -> int``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("helpers.cli:validate", "check a data folder against the data contract"),
    "import": ("helpers.data.importing.command",
               "convert Excel workbooks and GBK/UTF-8 CSVs into a data folder, as a mapping file says"),
    "codebook": ("helpers.cli:codebook", "write the codebook (data/README.md) from the data contract"),
    "synth": ("helpers.cli:synth", "generate the synthetic city (the default data)"),
    "build": ("helpers.publish.build", "execute the notebooks and build the HTML report site"),
    "verify": ("helpers.publish.verify",
               "re-execute everything and compare the findings with the ledger (or a site's own findings)"),
    "findings": ("helpers.publish.verify:findings_main",
                 "compare the default site's findings with the committed ledger; --update writes the ledger"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Tools of the district public-service research notebooks.",
        epilog="Run 'python -m helpers COMMAND --help' for a command's options.",
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND",
                        help="; ".join(f"{k}: {v[1]}" for k, v in sorted(COMMANDS.items())))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    ns, _rest = parser.parse_known_args(argv[:1])
    target = COMMANDS[ns.command][0]
    module, _, func = target.partition(":")
    try:
        return int(getattr(importlib.import_module(module), func or "main")(argv[1:]) or 0)
    except BrokenPipeError:  # e.g. `python -m helpers validate DIR | head`: the reader left
        return _closed_stdout(0)


def _closed_stdout(code: int) -> int:
    """Stop writing to a pipe whose reader has gone, quietly (no 'Exception ignored' at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    return code


def _args(parser: argparse.ArgumentParser, argv) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse chose (``--help``: 0, usage error: 2)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)


# ----------------------------------------------------------------------------------------------
# validate
# ----------------------------------------------------------------------------------------------
def _validate_parser() -> argparse.ArgumentParser:
    from helpers.data.reader import ROW_NOTE

    p = argparse.ArgumentParser(
        prog="python -m helpers validate",
        description="Check a data folder (CSV tables and GeoJSON boundaries) against the data contract "
                    "in helpers/data/schema.py (described in data/README.md). Prints one line per problem "
                    "(file, column, rows/keys, rule, what to do) and, for each absent optional table, the "
                    "studies that will be skipped; exits 0 if the folder passes, 1 if not, 2 on usage errors.",
        epilog="Examples:\n  python -m helpers validate data\n"
               "  python -m helpers validate my_data --quarantine my_data_rejected\n\n" + ROW_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="the data folder to check")
    p.add_argument("--quarantine", metavar="OUT_DIR",
                   help="also load every table, setting rows that break row-level rules aside into "
                        "OUT_DIR/<table>.rejected.csv (with _row and _reason columns); then exit 0 "
                        "if what remains is usable")
    p.add_argument("--max-lines", metavar="N", type=int, default=60,
                   help="print at most N problem lines (default 60; 0 = all)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead")
    return p


def skipped_studies(absent: list[str]) -> dict[str, list[str]]:
    """For each absent optional table, the studies that need it (:data:`helpers.studies.REQUIRES`)."""
    from helpers.studies import needing

    return {name: needing(name) for name in absent}


def validate(argv: list[str] | None = None) -> int:
    """``python -m helpers validate DIR``: 0 the folder passes, 1 it does not, 2 usage error."""
    ns = _args(_validate_parser(), argv)
    if isinstance(ns, int):
        return ns
    prog = "python -m helpers validate"
    path = Path(ns.dir)  # kept as typed: every line names the folder the way the user wrote it
    if path.is_file():
        print(f"{prog}: error: {ns.dir} is a file; give the data folder that holds the tables "
              f"(e.g. {path.parent})", file=sys.stderr)
        return 2
    if not path.is_dir():
        print(f"{prog}: error: {ns.dir}: no such folder", file=sys.stderr)
        return 2
    code = 1
    try:
        import json

        from helpers.data import schema
        from helpers.data.validate import validate_dir

        report = validate_dir(path)
        code = 0 if report.ok else 1
        skipped = skipped_studies(report.absent_optional)
        if ns.json:
            print(json.dumps(report.to_dict() | {"skipped_studies": skipped}, ensure_ascii=False, indent=1))
        else:
            print(report.format(max_lines=ns.max_lines))
            for name, studies in skipped.items():
                print(f"{schema.TABLES[name].file} is absent: "
                      + (f"these studies will be skipped: {', '.join(studies)}" if studies
                         else "no study is skipped (the sections that use it say so in their reports)"))
        if not ns.quarantine:
            return code
        import logging

        from helpers.data.load import quarantine_folder

        lg = logging.getLogger("helpers.data.load")
        level = lg.level
        lg.setLevel(logging.ERROR)  # the summary is printed below; no duplicate log lines
        try:
            summary = quarantine_folder(path, ns.quarantine)
        finally:
            lg.setLevel(level)
        print()
        print(summary.format())
        return 0 if summary.ok else 1
    except BrokenPipeError:  # `validate DIR | head`: the reader has what it wanted
        return _closed_stdout(code)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for users
        print(f"{prog}: internal error: {type(e).__name__}: {e} "
              "(please report this; set HELPERS_DEBUG=1 for details)", file=sys.stderr)
        if os.environ.get("HELPERS_DEBUG"):
            traceback.print_exc()
        return 1


# ----------------------------------------------------------------------------------------------
# codebook
# ----------------------------------------------------------------------------------------------
def codebook(argv: list[str] | None = None) -> int:
    """``python -m helpers codebook [--out FILE] [--check]``: write the codebook, or (``--check``)
    write nothing and exit 1 when the file differs from what would be generated."""
    from helpers import paths
    from helpers.data.codebook import render

    p = argparse.ArgumentParser(
        prog="python -m helpers codebook",
        description="Write the codebook (Markdown) describing every table of the data contract in "
                    "helpers/data/schema.py.")
    p.add_argument("--out", metavar="FILE", default=None,
                   help=f"where to write it (default {paths.DATA_DIR / 'README.md'})")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if FILE differs from what would be generated")
    ns = _args(p, argv)
    if isinstance(ns, int):
        return ns
    out = Path(ns.out) if ns.out else Path(paths.DATA_DIR) / "README.md"
    text = render()
    try:
        if ns.check:
            current = out.read_text(encoding="utf-8") if out.is_file() else None
            if current != text:
                print(f"{out} is {'missing' if current is None else 'out of date'}; "
                      "run: python -m helpers codebook", file=sys.stderr)
                return 1
            print(f"{out} is up to date")
            return 0
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
        return 0
    except OSError as e:
        print(f"python -m helpers codebook: error: {e}", file=sys.stderr)
        return 1


# ----------------------------------------------------------------------------------------------
# synth
# ----------------------------------------------------------------------------------------------
def synth(argv: list[str] | None = None) -> int:
    """``python -m helpers synth --out DIR [--seed N] [--respondents N]``: the synthetic city."""
    import time

    from helpers.data import synth as gen

    parser = argparse.ArgumentParser(
        prog="python -m helpers synth",
        description="Generate the SYNTHETIC city (the project's default data) deterministically: the same "
                    "seed gives byte-identical files. Writes every table of helpers/data/schema.py, "
                    "ground_truth.json (planted effects), truth_registration.csv and metadata.json.",
        epilog="Examples: 'python -m helpers synth --out data' (what 'make data' runs); "
               "'python -m helpers synth --respondents 1000000 --out /tmp/big' (benchmark survey only).")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED, help=f"random seed (default {gen.DEFAULT_SEED})")
    parser.add_argument("--respondents", type=int, default=None, metavar="N",
                        help="large-survey mode: write only the survey, with N sampled residents (rows, "
                             "including nonrespondents) in the same stratified PPS design, more PSUs per stratum")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="file format of the large survey (default csv; the full dataset is always CSV)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    ns = _args(parser, argv)
    if isinstance(ns, int):
        return ns
    t0 = time.perf_counter()
    if ns.respondents is not None:
        if ns.respondents < 1:
            print("python -m helpers synth: error: --respondents must be positive", file=sys.stderr)
            return 2
        path = gen.generate_big_survey(ns.out, ns.respondents, ns.seed, ns.format, ns.quiet)
        print(f"wrote {path} ({ns.respondents} sampled residents, SYNTHETIC) in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
        return 0
    meta = gen.generate(ns.out, ns.seed, ns.quiet)
    print(f"wrote {len(meta['files']) + 1} files to {ns.out} (SYNTHETIC, seed {ns.seed}) in "
          f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
