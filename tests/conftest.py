"""Shared test set-up: headless plotting, and the data folder the tests read."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
