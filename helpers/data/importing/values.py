"""Convert one source cell to the text the data contract wants, or say why it cannot.

A cell comes from a spreadsheet (a Python ``str``, ``int``, ``float``, ``bool``, ``datetime`` or
``None``, with its Excel number format) or from a CSV or GeoJSON file (text or JSON values). The
contract column (:class:`helpers.data.schema.Column`) decides the rule:

=================  ============================================================================
contract type      what is accepted (after trimming spaces and folding full-width characters)
=================  ============================================================================
``int``            ``1234``, ``1,234``, ``1234.0``; a number cell holding a whole number
``float``          ``12.5``, ``1,234.5``; a number cell
share (0-1)        ``0.224``, ``22.4%`` (-> 0.224), an Excel cell formatted as a percentage
                   (it holds 0.224 already); with ``percent: true`` in the mapping a plain
                   ``22.4`` means 22.4 % (-> 0.224). A plain number above 1 without
                   ``percent: true`` is an error, never a silent division by 100.
``year``           ``2021``, ``2021年``, ``2021年度``, a number cell 2021, an Excel date (its year;
                   a date cell whose serial number is 1900-2100 -- Excel shows 1905-07-13 for 2021
                   typed into a date-formatted cell -- is read as that year)
``bool``           ``1``/``0``, ``是``/``否``, ``有``/``无``, ``yes``/``no``, ``true``/``false``,
                   ``Y``/``N``, Excel TRUE/FALSE
``category``       one of the contract's categories (after the mapping's ``values:``)
``str``            any text; a number cell becomes its digits (``110101`` not ``110101.0``)
=================  ============================================================================

An empty cell (or one holding only spaces) is missing; the validator then decides whether the
column may be empty. Values are handled as exact decimals (:class:`decimal.Decimal`), so
``22.43%`` becomes exactly ``0.2243``, not ``0.22430000000000003``.

Each successful conversion that changed the value is returned with a *kind* (a short label such
as ``"thousands separator removed"``) so the caller can count them per file and column.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from helpers.data.schema import Column

#: Words read as yes (1) and no (0) in 0/1 columns (compared after trimming, case-insensitive).
YES_WORDS: tuple[str, ...] = ("是", "有", "yes", "y", "true", "√", "✓")
NO_WORDS: tuple[str, ...] = ("否", "无", "no", "n", "false", "×", "✗")

#: What Excel shows (and writes to CSV) for a formula that failed.
EXCEL_ERRORS: frozenset[str] = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                                          "#SPILL!", "#CALC!", "#GETTING_DATA"})

#: Space characters trimmed from both ends of a cell (ASCII, no-break, ideographic, zero-width).
_SPACES = " \t\r\n\u00a0\u3000\u200b\ufeff"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_YEAR_SUFFIX = re.compile(r"(\d{4})\s*年度?")
_PERCENT = re.compile(r"(.*?)\s*%")
_UNIT = re.compile(r"[+-]?[\d,]*\.?\d+\s*([^\d\s.,%+-][^\d]*)")


class Unconvertible(ValueError):
    """A cell that cannot be converted: ``rule`` names the rule, ``hint`` says what to do."""

    def __init__(self, rule: str, hint: str):
        super().__init__(f"{rule}: {hint}")
        self.rule = rule
        self.hint = hint


@dataclass(frozen=True)
class Target:
    """How cells become one contract column: the column, the mapping's options.

    ``percent``: plain numbers in this share column are percentages (divide by 100).
    ``values``: exact source value -> contract value (``None`` = missing), applied after trimming
    and before the type rules, e.g. ``{"社区": "community", "村": "village"}``.
    ``suffixes``: unit words removed from the end of numbers in this column, e.g. ``("人",)`` reads
    ``4436人`` as 4436 (only these: a unit is never guessed, since ``38元`` is not ``38万元``).
    """

    column: Column
    percent: bool = False
    values: dict = field(default_factory=dict)
    suffixes: tuple[str, ...] = ()

    @property
    def is_share(self) -> bool:
        return is_share(self.column)

    @property
    def is_year(self) -> bool:
        return self.column.dtype == "year" or (self.column.dtype == "int" and self.column.unit == "year")


def is_share(col: Column) -> bool:
    """A real-valued column bounded to 0-1 (a share or probability): percentages convert into it."""
    return col.dtype == "float" and col.min == 0 and col.max == 1


@dataclass(frozen=True)
class Cell:
    """A source cell: its value, whether Excel displays it as a percentage (``0.0%`` format), and
    whether the value is that of the first cell of a merged range it belongs to."""

    value: object
    percent_format: bool = False
    merged: bool = False


def fold_width(s: str) -> str:
    """Full-width ASCII (``１２３，４５６．７％``) -> half-width (``123,456.7%``); other text unchanged."""
    return s.translate(_FOLD)


_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _fmt(d: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros after the point (``0.2243``, ``1234``)."""
    if d == d.to_integral_value():
        return str(int(d))
    t = format(d, "f")
    return t.rstrip("0").rstrip(".") if "." in t else t


def _decimal_of_float(v: float) -> Decimal:
    # repr is the shortest text that reads back as the same double: what Excel showed / stored
    return Decimal(repr(float(v)))


def convert(cell: Cell, target: Target) -> tuple[str, list[str]]:
    """Convert one cell for ``target``.

    Returns
    -------
    text : str
        The value as the contract file will hold it; ``""`` for missing.
    kinds : list of str
        One label per conversion applied that changed the value (empty when the value was taken
        as it was), e.g. ``["thousands separator removed"]``.

    Raises
    ------
    Unconvertible
        When the value cannot be read under the column's rule (``rule`` and ``hint`` say why).
    """
    col = target.column
    v = cell.value
    if cell.merged:
        text, kinds = convert(Cell(v, cell.percent_format), target)
        return text, ["merged cell: value of the merge's first cell", *kinds]
    kinds: list[str] = []
    if v is None:
        return "", ["empty -> missing"]
    if isinstance(v, str):
        s = v.strip(_SPACES)
        if s != v:
            kinds.append("spaces trimmed")
        if s == "":
            return "", kinds + ["empty -> missing"]
        if s in target.values:
            out = target.values[s]
            kinds.append(f"value map {s} -> {'(missing)' if out is None else out}")
            if out is None:
                return "", kinds
            v = s = str(out)
        if s.upper() in EXCEL_ERRORS:
            raise Unconvertible("Excel error value", "the cell holds an Excel error; fix the formula or enter "
                                "the value")
        if col.dtype in ("str", "category"):
            return _text(s, target, kinds)
        f = fold_width(s)
        if f != s:
            kinds.append("full-width characters -> ASCII")
        return _number_text(f, cell, target, kinds)
    # non-text cells (spreadsheet or GeoJSON values)
    if isinstance(v, bool):
        if col.dtype == "bool":
            return ("1" if v else "0"), ["TRUE/FALSE -> 1/0"]
        raise Unconvertible(_type_rule(target), f"a TRUE/FALSE cell in a {_what(target)} column; "
                            "enter the value")
    if isinstance(v, (_dt.datetime, _dt.date)):
        if target.is_year:
            serial = _excel_serial(v)
            if serial is not None and 1900 <= serial <= 2100:
                # a year typed into a date-formatted cell: Excel shows 1905-07-13 for 2021
                return str(serial), ["date-formatted cell holding a year (Excel shows 2021 as 1905-07-13)"]
            return str(v.year), ["Excel date -> year"]
        raise Unconvertible("Excel date", f"a date cell in a {_what(target)} column; enter the "
                            "value (format the cell as General or Text)")
    if isinstance(v, (_dt.time, _dt.timedelta)):
        raise Unconvertible("Excel date", f"a time cell in a {_what(target)} column; enter the value")
    if isinstance(v, (int, float)):
        if isinstance(v, float) and v != v:
            return "", ["empty -> missing"]
        d = Decimal(v) if isinstance(v, int) else _decimal_of_float(v)
        if not d.is_finite():
            raise Unconvertible(_type_rule(target), "not a finite number; enter the value")
        if target.values and _fmt(d) in target.values:  # a numeric code, e.g. 1 -> core
            return convert(Cell(_fmt(d), cell.percent_format), target)
        if col.dtype in ("str", "category"):
            txt = _fmt(d)
            kinds.append("number cell -> text")
            return _text(txt, target, kinds)
        if cell.percent_format and target.is_share:
            kinds.append("Excel percentage cell (already a share)")
            return _finish(d, target, kinds, already_share=True)
        return _finish(d, target, kinds)
    raise Unconvertible(_type_rule(target), f"an unsupported value of type {type(v).__name__}; enter the "
                        "value as text or a number")


def _excel_serial(v) -> int | None:
    """The whole-day serial number Excel stores for a date (1900 date system), or None."""
    if isinstance(v, _dt.datetime):
        if v.time() != _dt.time(0):
            return None
        v = v.date()
    return (v - _dt.date(1899, 12, 30)).days


def _what(target: Target) -> str:
    c = target.column
    if target.is_share:
        return "share (0-1)"
    if target.is_year:
        return "year"
    return {"int": "whole-number", "float": "number", "bool": "0/1", "str": "text",
            "category": "category"}[c.dtype]


def _type_rule(target: Target) -> str:
    c = target.column
    if target.is_share:
        return "share 0-1"
    if target.is_year:
        return "year"
    return {"int": "whole number", "float": "number", "bool": "0/1 (yes/no)", "str": "text",
            "category": "categories"}[c.dtype]


def _text(s: str, target: Target, kinds: list[str]) -> tuple[str, list[str]]:
    col = target.column
    if col.dtype == "category" and col.categories and s not in col.categories:
        import difflib

        low = {c.lower(): c for c in col.categories}
        close = low.get(s.lower()) or next(iter(difflib.get_close_matches(s, col.categories, 1, 0.6)), None)
        hint = f"did you mean '{close}'? " if close else ""
        raise Unconvertible("categories", f"{hint}allowed values are {', '.join(col.categories)}; "
                            "add the source value under this column's values: in the mapping")
    if col.name.endswith("_id"):
        f = fold_width(s)
        if f != s:
            kinds.append("full-width characters -> ASCII")
            s = f
    return s, kinds


def _number_text(s: str, cell: Cell, target: Target, kinds: list[str]) -> tuple[str, list[str]]:
    col = target.column
    if col.dtype == "bool":
        low = s.lower()
        if low in YES_WORDS or low in NO_WORDS:
            out = "1" if low in YES_WORDS else "0"
            kinds.append(f"yes/no word -> 1/0 ({s} -> {out})")
            return out, kinds
    for suf in target.suffixes:
        if s.endswith(suf) and s != suf:
            s = s[: -len(suf)].rstrip(_SPACES)
            kinds.append(f"unit suffix '{suf}' removed")
            break
    if target.is_year:
        m = _YEAR_SUFFIX.fullmatch(s)
        if m:
            kinds.append("year suffix removed (2021年 -> 2021)")
            s = m.group(1)
    pct = _PERCENT.fullmatch(s)
    if pct:
        if not target.is_share:
            raise Unconvertible("percent sign", f"a percentage in a {_what(target)} column "
                                f"({col.unit or col.dtype}); write the number without '%'")
        s = pct.group(1)
    if _THOUSANDS.fullmatch(s):
        kinds.append("thousands separator removed")
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s):
        hint = {"bool": "write 1/0 or 是/否 (or map the value under values: in the mapping)",
                "year": "write a four-digit year such as 2021 or 2021年",
                "int": "write a whole number such as 1234 or 1,234"}.get(
            "year" if target.is_year else col.dtype, "write a number such as 12.5 or 1,234.5")
        if target.is_share:
            hint = "write a share such as 0.224 or a percentage such as 22.4%"
        unit = _UNIT.fullmatch(s)
        if unit:
            hint += f"; if '{unit.group(1)}' is a unit, add suffix: {unit.group(1)} to this column in the mapping"
        raise Unconvertible(_type_rule(target), f"not a number; {hint}")
    try:
        d = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid decimals
        raise Unconvertible(_type_rule(target), "not a number")
    if pct:
        kinds.append("percentage -> share (22.4% -> 0.224)")
        return _finish(d.scaleb(-2), target, kinds, already_share=True, shown=s + "%")
    return _finish(d, target, kinds)


def _finish(d: Decimal, target: Target, kinds: list[str], already_share: bool = False,
            shown: str | None = None) -> tuple[str, list[str]]:
    col = target.column
    if target.is_share:
        if not already_share and target.percent:
            d = d.scaleb(-2)
            kinds.append("percent column -> share (22.4 -> 0.224)")
            already_share = True
        if d < 0 or d > 1:
            if already_share:
                shown = shown or f"{_fmt(d.scaleb(2))}%"
                raise Unconvertible("share 0-1", f"{shown} is outside 0-100%; correct the value")
            raise Unconvertible("share 0-1", "a plain number above 1 in a share (0-1) column; write it as "
                                "a percentage (22.4%) or a share (0.224), or set percent: true for this "
                                "column in the mapping if every value is a percentage")
    if col.dtype in ("int", "year", "bool"):
        if d != d.to_integral_value():
            raise Unconvertible(_type_rule(target), "not a whole number; correct it")
        if target.is_year and not (1000 <= d <= 9999):
            raise Unconvertible("year", "not a four-digit year; write a year such as 2021")
        if col.dtype == "bool" and d not in (0, 1):
            raise Unconvertible("0/1 (yes/no)", "must be 1 (yes) or 0 (no), 是 or 否")
    return _fmt(d), kinds
