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
#: The site built from the default data (``make reports``; not in git).
SITE_DIR: Path = REPORTS_DIR / "site"
#: Sites built from other data folders: ``reports/sites/<name of the data folder>/`` (not in git).
SITES_DIR: Path = REPORTS_DIR / "sites"
#: The committed findings of the default data (``python -m helpers findings --update`` writes it).
LEDGER_DIR: Path = REPORTS_DIR / "findings"
#: The build's caches, one folder per site (not in git, never published).
BUILD_CACHE_DIR: Path = ROOT / ".build-cache"
