"""What a data folder says about itself: its metadata and, for synthetic data only, the planted truth.

Every reader of the planted truth goes through this module, and every one of them checks the
folder's ``synthetic`` flag first: real data never yield a "truth", even when a stray
``ground_truth.json`` lies beside them.

* :func:`metadata` - the folder's ``metadata.json`` (``{}`` when it has none).
* :func:`is_synthetic` - whether the folder declares itself synthetic.
* :func:`ground_truth` - the planted effects (``ground_truth.json``) or ``None``.
* :func:`truth_value`, :func:`truth_values` - one planted value by key, or all of them flat.
* :func:`truth_registration` - the generator's true registration probabilities or ``None``.

Keys of dict-valued effects (e.g. the effect of the platform by event time) are written
``"name[e]"``: ``truth_value(gt, "platform_att_by_event_time[2]")``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.data import schema

__all__ = ["metadata", "is_synthetic", "ground_truth", "truth_value", "truth_values", "truth_registration",
           "TRUTH_REGISTRATION_FILE"]

#: File of true registration probabilities written by the synthetic generator.
TRUTH_REGISTRATION_FILE = "truth_registration.csv"


def _folder(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else paths.DATA_DIR


def metadata(data_dir=None) -> dict:
    """The data folder's ``metadata.json`` as a dict (``{}`` for a folder without one)."""
    path = _folder(data_dir) / schema.METADATA_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def is_synthetic(data_dir=None) -> bool:
    """True when the folder's metadata declares ``"synthetic": true``."""
    return bool(metadata(data_dir).get("synthetic", False))


def ground_truth(data_dir=None) -> dict | None:
    """The planted truth (``ground_truth.json``) of synthetic data; ``None`` for real data or when absent."""
    path = _folder(data_dir) / schema.GROUND_TRUTH_FILE
    if not is_synthetic(data_dir) or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def truth_values(truth: dict | None) -> dict[str, float]:
    """Every planted effect of ``truth["effects"]`` as ``key -> value`` (dict-valued effects as ``key[e]``).

    Returns ``{}`` when ``truth`` is ``None``."""
    out: dict[str, float] = {}
    for k, v in ((truth or {}).get("effects") or {}).items():
        val = v["value"] if isinstance(v, dict) and "value" in v else v
        if isinstance(val, dict):
            out.update({f"{k}[{e}]": float(x) for e, x in val.items()})
        else:
            out[k] = float(val)
    return out


def truth_value(truth: dict | None, key: str) -> float | None:
    """One planted effect by key (``"name"`` or ``"name[e]"``); ``None`` without a truth or the key."""
    if not truth:
        return None
    m = re.fullmatch(r"(.+)\[(.+)\]", key)
    name, sub = (m.group(1), m.group(2)) if m else (key, None)
    eff = truth.get("effects", {}).get(name)
    if isinstance(eff, dict) and "value" in eff:
        eff = eff["value"]
    if sub is not None:
        eff = eff.get(str(sub)) if isinstance(eff, dict) else None
    return None if eff is None or isinstance(eff, dict) else float(eff)


def truth_registration(data_dir=None) -> pd.DataFrame | None:
    """``community_id, year, p_registered``: the generator's true registration probabilities.

    ``None`` for real data (the ``synthetic`` flag is not set) or when the file is absent."""
    path = _folder(data_dir) / TRUTH_REGISTRATION_FILE
    if not is_synthetic(data_dir) or not path.is_file():
        return None
    return pd.read_csv(path, dtype={"community_id": str})
