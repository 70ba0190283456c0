"""Command line: ``python -m helpers <command> ...``; ``--help`` lists the commands."""
from __future__ import annotations

import argparse
import importlib
import sys

#: command -> (module with a ``main(argv) -> int`` function, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("helpers.data.validate", "check a data folder against the data contract"),
    "import": ("helpers.data.importing.command",
               "convert Excel workbooks and GBK/UTF-8 CSVs into a data folder, as a mapping file says"),
    "codebook": ("helpers.data.codebook", "write the codebook (data/README.md) from the data contract"),
    "synth": ("helpers.data.synth", "generate the synthetic city (the default data)"),
    "build": ("helpers.publish.build", "execute the notebooks and build the HTML report site"),
    "verify": ("helpers.publish.verify", "re-execute everything and compare findings with the committed ones"),
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
    ns, rest = parser.parse_known_args(argv[:1])
    module = importlib.import_module(COMMANDS[ns.command][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
