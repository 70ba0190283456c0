"""Numbers as a careful author writes them: the one formatter of every report, table and index.

Rules (applied everywhere, so that the same number reads the same on every page):

- Thousands separators for counts and large numbers (``11,244``); never scientific notation for
  ordinary quantities; no trailing ``.000`` on whole numbers.
- Shares are shown as percentages (``58.3%``); differences of percentages as percentage points
  (``4.2 points``). A column of a table uses one kind and one number of decimals.
- Decimals follow the precision of the estimate: down to the first significant digit of its
  standard error (one further when that digit is 1 or 2), between 0 and 4 (``1.210 (1.193 to
  1.227)`` for a standard error of 0.0085, ``7.9 (3.7 to 12.2)`` for 2.2). **One rule for every
  estimate, wherever it is printed** (:func:`estimate_digits`): an estimate with an interval takes
  its decimals from the interval's width (the standard error it implies, ``width / (2 z)``), so the
  prose, a report's tables, its headline findings and the index, which all hold the interval, print
  the same quantity with the same digits; an estimate without an interval takes them from its
  standard error, and one with neither keeps three significant digits, at most three decimals
  (whole numbers none).
  Percentages keep one decimal at most (:data:`PERCENT_MAX_DIGITS`). A column of bare numbers
  (no intervals: before/after values, standard errors) uses one number of decimals
  (:func:`column_digits`).
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

__all__ = ["MISSING", "DEGENERATE_NOTE", "PERCENT_MAX_DIGITS", "BARE_MAX_DIGITS", "digits_for", "estimate_digits", "column_digits", "number", "count", "percent", "points",
           "interval", "pvalue", "yes_no", "ordinal", "share_or_count"]

#: Text for a missing value.
MISSING = "–"
#: The footnote marker and text for intervals that collapse at the precision shown.
DEGENERATE_NOTE = ("†", "no sampling uncertainty at this precision: every unit counted, or the estimate rests on "
                         "the model alone")
#: An estimate with neither an interval nor a standard error keeps three significant digits but at most
#: this many decimals (``0.0208`` prints ``0.021``): with no stated uncertainty, more would be false precision.
BARE_MAX_DIGITS = 3
#: Percentages are printed with at most this many decimals, however precise (``63.3%``, not ``63.27%``).
PERCENT_MAX_DIGITS = 1


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def digits_for(se: float | None = None, estimate: float | None = None, max_digits: int = 4) -> int:
    """Decimals for an estimate with standard error ``se``: down to the first significant digit of
    ``se`` (one digit further when that digit is 1 or 2, whose rounding would be coarse), within
    0..``max_digits``: se 0.79 -> 1 decimal, 2.17 -> 1, 0.0085 -> 3. Without ``se``, three
    significant digits of ``estimate`` but at most :data:`BARE_MAX_DIGITS` decimals (0 decimals
    for numbers of 100 or more; 0.0855 -> 0.086), as :func:`estimate_digits` prints a bare value."""
    if _finite(se) and float(se) > 0:
        e = math.floor(math.log10(float(se)))
        lead = int(float(se) / 10.0**e)  # the first significant digit of se
        return int(min(max(-e + (1 if lead <= 2 else 0), 0), max_digits))
    if _finite(estimate) and float(estimate) != 0:
        e = abs(float(estimate))
        return int(min(max(2 - math.floor(math.log10(e)), 0), max_digits, BARE_MAX_DIGITS))
    return 0


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + float(level) / 2)


def estimate_digits(estimate=None, low=None, high=None, *, se=None, scale: float = 1.0, unit: str = "",
                    level: float = 0.95, max_digits: int = 4) -> int:
    """The decimals of one estimate: the site's one rule (see the module's docstring).

    Parameters
    ----------
    estimate : number or None
        The estimate (on its own scale; ``scale`` multiplies it).
    low, high : numbers or None
        Its interval at ``level``. When both are finite and ``high > low``, the decimals come from
        the interval alone: :func:`digits_for` of the standard error it implies,
        ``(high - low) * scale / (2 z)`` with ``z`` the normal quantile of ``level`` (1.96 at 95%).
        A prose sentence, a table and the headline findings that hold the same interval therefore
        print the estimate with the same digits.
    se : number or None
        Used only without an interval: :func:`digits_for` of ``se * scale``.
    scale : float
        The factor from the estimate's scale to the one printed (100 for shares shown as %).
    unit : str
        ``"%"`` caps the decimals at :data:`PERCENT_MAX_DIGITS`.
    level : float
        The interval's coverage.
    max_digits : int
        The most decimals ever printed.

    Returns
    -------
    int
        The number of decimals. With neither an interval nor a standard error: 0 for a whole
        number, else three significant digits of ``estimate * scale``, at most
        :data:`BARE_MAX_DIGITS` decimals.
    """
    d = None
    if _finite(low) and _finite(high) and float(high) > float(low):
        d = digits_for((float(high) - float(low)) * scale / (2 * _z(level)), max_digits=max_digits)
    elif _finite(se) and float(se) > 0:
        d = digits_for(float(se) * scale, max_digits=max_digits)
    elif _finite(estimate):
        e = float(estimate) * scale
        d = 0 if e.is_integer() else digits_for(None, e, max_digits=min(max_digits, BARE_MAX_DIGITS))
    else:
        d = 0
    return min(d, PERCENT_MAX_DIGITS) if unit == "%" else d


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
    """A share (0-1) as a percentage: ``0.5834`` -> ``58.3%`` (``digits`` decimals, or from ``se``, at most
    :data:`PERCENT_MAX_DIGITS`). A share printed beside its interval takes
    ``digits=estimate_digits(share, low, high, scale=100, unit="%")``, as :func:`interval` does."""
    if not _finite(share):
        return MISSING
    d = estimate_digits(share, se=se, scale=100, unit="%") if se is not None and _finite(se) else digits
    return number(100 * float(share), d) + "%"


def points(diff_share, digits: int = 1) -> str:
    """A difference of shares in percentage points: ``0.042`` -> ``4.2 points``."""
    return MISSING if not _finite(diff_share) else f"{number(100 * float(diff_share), digits)} points"


def interval(estimate, low, high, digits: int | None = None, scale: float = 1.0, unit: str = "",
             se: float | None = None, level: float = 0.95) -> str:
    """``estimate (low to high)`` with one number of decimals; ``unit`` is appended to the estimate
    (``"%"`` gives ``58.3% (56.7 to 59.8)``). ``scale`` multiplies all three (100 for shares shown as
    percentages). Decimals: ``digits``, else the site's one rule, :func:`estimate_digits` (from the
    interval's width; ``se`` counts only when the interval is missing).

    An interval that collapses at the precision shown (low and high print as the estimate) is
    written as the estimate followed by the :data:`DEGENERATE_NOTE` marker."""
    if not _finite(estimate):
        return MISSING
    e = float(estimate) * scale
    if digits is None:
        digits = estimate_digits(estimate, low, high, se=se, scale=scale, unit=unit, level=level)
    if not (_finite(low) and _finite(high)):
        return (count(e) if digits == 0 and e.is_integer() else number(e, digits)) + unit
    lo, hi = float(low) * scale, float(high) * scale
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
