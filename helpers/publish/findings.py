"""Headline findings: the one way a notebook records a number worth publishing.

In a notebook::

    from helpers.publish import findings
    findings.record("registration_effect", est, ci=(lo, hi), unit="pp",
                    truth=gt["effects"]["registration"], note="GLM, district FE")
    ...
    findings.display()          # last cell: the table of this report's findings

Each call appends to an in-kernel registry (re-recording a name replaces it,
so re-running a cell is harmless) and, when the notebook runs under the build
(``python -m helpers build``), rewrites ``<findings dir>/<report>.json``.
The build sets ``$HELPERS_REPORT_NAME`` (e.g. ``20_coverage`` or
``district_profile-D03``) and ``$HELPERS_FINDINGS_DIR``; the committed files
live in ``reports/findings/`` and ``python -m helpers verify`` compares a fresh
run with them. In an interactive session nothing is written unless
``$HELPERS_FINDINGS_DIR`` is set, so exploring never changes committed files.

The JSON is deterministic: sorted keys, numbers rounded to
:data:`SIGNIFICANT_DIGITS` significant digits, one finding per entry in the
order recorded.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

#: Environment variables set by the build.
ENV_REPORT = "HELPERS_REPORT_NAME"
ENV_DIR = "HELPERS_FINDINGS_DIR"

#: Numbers are stored with this many significant digits (enough for any
#: estimate, few enough that last-bit noise does not churn committed files).
SIGNIFICANT_DIGITS = 12


@dataclass(frozen=True)
class Finding:
    """One headline number: an estimate, its interval and what it means."""

    name: str
    value: float
    ci: tuple[float, float] | None = None
    level: float = 0.95
    unit: str = ""
    truth: float | None = None
    note: str = ""
    label: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci is not None else None
        return d


_REGISTRY: dict[str, Finding] = {}


def _number(x, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"findings: {what} must be a number, got {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"findings: {what} must be finite, got {v!r}")
    return float(f"{v:.{SIGNIFICANT_DIGITS}g}") + 0.0  # + 0.0 turns -0.0 into 0.0


def report_name() -> str | None:
    """The report being built: ``$HELPERS_REPORT_NAME``, else the notebook's stem if known."""
    name = os.environ.get(ENV_REPORT)
    if name:
        return name
    session = os.environ.get("JPY_SESSION_NAME")  # set by jupyter-server for the notebook's kernel
    if session:
        return Path(session).stem
    return None


def findings_dir() -> Path | None:
    """Where findings files are written: ``$HELPERS_FINDINGS_DIR``; ``None`` interactively."""
    d = os.environ.get(ENV_DIR)
    return Path(d) if d else None


def record(name: str, value, ci=None, unit: str = "", truth=None, note: str = "",
           level: float = 0.95, label: str = "") -> Finding:
    """Record the headline finding ``name`` and return it.

    Parameters
    ----------
    name : str
        Stable identifier, e.g. ``"proximity_effect_awareness"`` (letters,
        digits, ``_``, ``-``, ``.``); used to compare runs, so do not rename lightly.
    value : number
        The point estimate (finite).
    ci : (lo, hi) or None
        Interval at ``level`` (default 95%), ``lo <= hi``.
    unit : str
        e.g. ``"pp"``, ``"share"``, ``"points (0-100)"``.
    truth : number or None
        The planted value from ``ground_truth.json`` when the data are synthetic.
    note : str
        One line on the method, e.g. ``"design-based, Taylor linearisation"``.
    label : str
        What the number is, for a reader (the index page and the report's table of findings), e.g.
        ``"Member registration, city, 2024"``; default: ``name``.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-." for c in name):
        raise ValueError(f"findings: name must be a non-empty identifier (letters, digits, _ - .), got {name!r}")
    v = _number(value, f"value of {name!r}")
    interval = None
    if ci is not None:
        try:
            lo, hi = ci
        except (TypeError, ValueError):
            raise TypeError(f"findings: ci of {name!r} must be a pair (lo, hi), got {ci!r}") from None
        lo, hi = _number(lo, f"ci[0] of {name!r}"), _number(hi, f"ci[1] of {name!r}")
        if lo > hi:
            raise ValueError(f"findings: ci of {name!r} has lo > hi: ({lo}, {hi})")
        interval = (lo, hi)
    f = Finding(
        name=name, value=v, ci=interval, level=_number(level, "level"), unit=str(unit),
        truth=None if truth is None else _number(truth, f"truth of {name!r}"), note=str(note),
        label=str(label),
    )
    _REGISTRY[name] = f
    _write()
    return f


def recorded() -> list[Finding]:
    """Findings recorded in this kernel, in the order first recorded."""
    return list(_REGISTRY.values())


def clear() -> None:
    """Forget the findings recorded in this kernel (does not delete files)."""
    _REGISTRY.clear()


def dumps(findings: list[Finding] | list[dict], report: str) -> str:
    """Deterministic JSON text of a report's findings."""
    items = [f.to_dict() if isinstance(f, Finding) else dict(f) for f in findings]
    doc = {"report": report, "findings": items}
    return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _write() -> None:
    d, name = findings_dir(), report_name()
    if d is None or not name:
        return
    d.mkdir(parents=True, exist_ok=True)
    target = d / f"{name}.json"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(dumps(recorded(), name), encoding="utf-8")
    os.replace(tmp, target)


def load(path: str | os.PathLike) -> list[dict]:
    """The findings (as dicts) in one findings JSON file."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return list(doc.get("findings", []))


def load_dir(directory: str | os.PathLike) -> dict[str, list[dict]]:
    """``{report name: [finding dicts]}`` for every ``*.json`` in ``directory``."""
    out = {}
    for p in sorted(Path(directory).glob("*.json")):
        out[p.stem] = load(p)
    return out


def table(items: list[Finding] | None = None):
    """The findings for a reader (:class:`pandas.DataFrame`): ``Finding`` (label), ``Estimate (95% CI)``
    formatted by :mod:`helpers.publish.fmt` with its unit, and ``Planted value`` when any finding has one.

    Digits follow the site's one rule, :func:`helpers.publish.fmt.estimate_digits`: from the recorded
    interval's width (percentages, units starting with ``%``, at most one decimal), else three
    significant digits (none for whole numbers). A report's prose that prints the same estimate with
    :func:`helpers.publish.fmt.interval` (or with ``fmt.estimate_digits`` of the same interval) prints it
    with the same digits. The planted value takes the estimate's digits."""
    import pandas as pd

    from helpers.publish import fmt

    items = recorded() if items is None else items
    rows = []
    for f in items:
        lo, hi = f.ci if f.ci is not None else (None, None)
        unit = "%" if f.unit.startswith("%") else ""
        rest = f.unit[1:].strip() if unit else f.unit
        digits = fmt.estimate_digits(f.value, lo, hi, unit=unit, level=f.level)
        text = fmt.interval(f.value, lo, hi, unit=unit, digits=digits)
        truth = "" if f.truth is None else fmt.number(f.truth, digits) + unit  # "63.3%", as the estimate
        rows.append({"Finding": f.label or f.name, "Estimate (95% CI)": text, "Unit": rest, "Planted value": truth})
    df = pd.DataFrame(rows, columns=["Finding", "Estimate (95% CI)", "Unit", "Planted value"])
    if not any(f.truth is not None for f in items):
        df = df.drop(columns="Planted value")
    return df


def display(caption: str = "The report's headline findings, as recorded for the index and for reproduction checks."):
    """Show this report's findings as a numbered table (call it in the last cell)."""
    from IPython.display import Markdown, display as _display

    from helpers.publish import report

    if not _REGISTRY:
        _display(Markdown("*No headline findings recorded.*"))
        return
    _display(report.table(table(), caption=caption, data=frame()))


def frame():
    """The recorded findings as raw numbers (``name, label, value, ci_low, ci_high, unit, truth, note``)."""
    import pandas as pd

    return pd.DataFrame([{"name": f.name, "label": f.label, "value": f.value,
                          "ci_low": None if f.ci is None else f.ci[0], "ci_high": None if f.ci is None else f.ci[1],
                          "unit": f.unit, "truth": f.truth, "note": f.note} for f in recorded()])
