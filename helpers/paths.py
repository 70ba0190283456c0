"""Where things live in the repository."""
from __future__ import annotations

import os
from pathlib import Path

#: Root of the repository (the folder holding pyproject.toml).
ROOT: Path = Path(__file__).resolve().parent.parent
#: The shipped default data (synthetic city). Override with $HELPERS_DATA_DIR.
DATA_DIR: Path = Path(os.environ.get("HELPERS_DATA_DIR", ROOT / "data"))
NOTEBOOKS_DIR: Path = ROOT / "notebooks"
REPORTS_DIR: Path = ROOT / "reports"
