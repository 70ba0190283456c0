"""Numbers as a careful author writes them: the one formatter of every report, table and index.

Rules (applied everywhere, so that the same number reads the same on every page):

- Thousands separators for counts and large numbers (``11,244``); never scientific notation for
  ordinary quantities; no trailing ``.000`` on whole numbers.
- Shares are shown as percentages (``58.3%``); differences of percentages as percentage points
  (``4.2 points``). A column of a table uses one kind and one number of decimals.
- Decimals follow the precision of the estimate: down to the first significant digit of its
  standard error (one further when that digit is 1 or 2), between 0 and 4 (``1.210 (1.193 to
  1.227)`` for a standard error of 0.0085, ``7.9 (3.7 to 12.2)`` for 2.2); one column of a table
  uses one number of decimals (:func:`column_digits`); an estimate without an uncertainty keeps
  three significant digits.
- Intervals are written ``estimate (low to high)``. An interval that collapses at the precision
  shown - a rate of 0 or 100% with no uncertainty, a fully shrunk estimate - is written without
  its interval and with a note (:func:`interval` returns the note's marker).
- p-values: ``< 0.001``, else three decimals below 0.1 and two above (``0.042``, ``0.45``).
- Missing values are an en dash (``–``), never ``NaN``; booleans are ``yes``/``no``.

Every function takes plain numbers and returns text.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["MISSING", "DEGENERATE_NOTE", "digits_for", "column_digits", "number", "count", "percent", "points",
           "interval", "pvalue", "yes_no", "ordinal", "share_or_count"]

#: Text for a missing value.
MISSING = "–"
#: The footnote marker and text for intervals that collapse at the precision shown.
DEGENERATE_NOTE = ("†", "no sampling uncertainty at this precision: every unit counted, or the estimate rests on "
                         "the model alone")


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def digits_for(se: float | None = None, estimate: float | None = None, max_digits: int = 4) -> int:
    """Decimals for an estimate with standard error ``se``: down to the first significant digit of
    ``se`` (one digit further when that digit is 1 or 2, whose rounding would be coarse), within
    0..``max_digits``: se 0.79 -> 1 decimal, 2.17 -> 1, 0.0085 -> 3. Without ``se``, three
    significant digits of ``estimate`` (0 decimals for numbers of 100 or more)."""
    if _finite(se) and float(se) > 0:
        e = math.floor(math.log10(float(se)))
        lead = int(float(se) / 10.0**e)  # the first significant digit of se
        return int(min(max(-e + (1 if lead <= 2 else 0), 0), max_digits))
    if _finite(estimate) and float(estimate) != 0:
        e = abs(float(estimate))
        return int(min(max(2 - math.floor(math.log10(e)), 0), max_digits))
    return 0


def column_digits(ses, estimates=None, max_digits: int = 4) -> int:
    """One number of decimals for a whole column: :func:`digits_for` of the median standard error."""
    s = np.asarray([float(x) for x in ses if _finite(x) and float(x) > 0], float)
    if s.size:
        return digits_for(float(np.median(s)), max_digits=max_digits)
    e = np.asarray([abs(float(x)) for x in (estimates if estimates is not None else []) if _finite(x) and x != 0],
                   float)
    return digits_for(estimate=float(np.median(e)), max_digits=max_digits) if e.size else 0


def number(x, digits: int | None = None, se: float | None = None) -> str:
    """A number with thousands separators and ``digits`` decimals (default: from ``se``, see
    :func:`digits_for`). ``-0.0`` prints as ``0.0``; missing as :data:`MISSING`."""
    if not _finite(x):
        return MISSING
    x = float(x)
    d = digits_for(se, x) if digits is None else int(digits)
    s = f"{x:,.{d}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]
    return s.replace("-", "−")


def count(n) -> str:
    """A whole number with thousands separators (``11,244``)."""
    return MISSING if not _finite(n) else f"{int(round(float(n))):,}"


def percent(share, digits: int = 1, se: float | None = None) -> str:
    """A share (0-1) as a percentage: ``0.5834`` -> ``58.3%`` (``digits`` decimals, or from ``se``)."""
    if not _finite(share):
        return MISSING
    d = digits_for(100 * float(se)) if se is not None and _finite(se) else digits
    return number(100 * float(share), d) + "%"


def points(diff_share, digits: int = 1) -> str:
    """A difference of shares in percentage points: ``0.042`` -> ``4.2 points``."""
    return MISSING if not _finite(diff_share) else f"{number(100 * float(diff_share), digits)} points"


def interval(estimate, low, high, digits: int | None = None, scale: float = 1.0, unit: str = "",
             se: float | None = None) -> str:
    """``estimate (low to high)`` with one number of decimals; ``unit`` is appended to the estimate
    (``"%"`` gives ``58.3% (56.7 to 59.8)``). ``scale`` multiplies all three (100 for shares shown as
    percentages). Decimals: ``digits``, else from ``se``, else from the half-width of the interval.

    An interval that collapses at the precision shown (low and high print as the estimate) is
    written as the estimate followed by the :data:`DEGENERATE_NOTE` marker."""
    if not _finite(estimate):
        return MISSING
    e = float(estimate) * scale
    if not (_finite(low) and _finite(high)):
        if digits is None and e.is_integer():
            return count(e) + unit
        d = digits_for(None, e) if digits is None else digits
        return number(e, d) + unit
    lo, hi = float(low) * scale, float(high) * scale
    if digits is None:
        ref = float(se) * scale if _finite(se) else (hi - lo) / 3.92
        digits = digits_for(ref if ref > 0 else None, e)
    a, b, c = number(e, digits), number(lo, digits), number(hi, digits)
    if a == b == c:
        return f"{a}{unit}{DEGENERATE_NOTE[0]}"
    if lo * hi > 0:  # the interval excludes zero: a bound must not print as zero
        b, c = _not_zero(lo, b, digits), _not_zero(hi, c, digits)
    return f"{a}{unit} ({b} to {c})"


def _not_zero(x: float, shown: str, digits: int, extra: int = 3) -> str:
    """``shown`` (``x`` at ``digits``), or ``x`` with up to ``extra`` more decimals when ``shown`` reads as
    zero although ``x`` is not (``-0.004`` at two decimals: ``−0.004``, not ``0.00``)."""
    if x == 0 or shown.strip("0.,") != "":
        return shown
    for d in range(digits + 1, digits + extra + 1):
        more = number(x, d)
        if more.strip("0.,−-") != "":
            return more
    return shown


def pvalue(p) -> str:
    """``< 0.001``; three decimals below 0.1, two above."""
    if not _finite(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def yes_no(flag) -> str:
    if flag is None or (isinstance(flag, float) and math.isnan(flag)):
        return MISSING
    return "yes" if bool(flag) else "no"


def ordinal(k: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``12`` -> ``12th``."""
    k = int(k)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def share_or_count(numerator, denominator) -> str:
    """``k of n (p%)``: ``12 of 100 (12.0%)``."""
    if not (_finite(numerator) and _finite(denominator)) or float(denominator) <= 0:
        return MISSING
    return f"{count(numerator)} of {count(denominator)} ({percent(float(numerator) / float(denominator))})"
