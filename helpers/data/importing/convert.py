"""Turn the sheets read from the source files into contract tables, cell by cell, counting every
conversion and recording every value that could not be converted."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from helpers.data.importing.mapping import TableMap
from helpers.data.importing.sources import Sheet, SourceError, close_match
from helpers.data.importing.values import Cell, Target, Unconvertible, convert, fold_width
from helpers.data.schema import Column


#: Keys of the coordinate columns of a point table read from a spreadsheet (x:/y: in the mapping).
X, Y = "__x__", "__y__"
_COORD = {X: Target(Column("x", "float", "x coordinate (easting or longitude)")),
          Y: Target(Column("y", "float", "y coordinate (northing or latitude)"))}


def column_letter(i: int) -> str:
    """0-based column index -> Excel's column letters (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _norm(h: str) -> str:
    return re.sub(r"\s+", "", fold_width(str(h))).lower()


@dataclass(frozen=True)
class BadValue:
    """A value that could not be converted, located as the user sees it."""

    where: str          # file (and sheet)
    row_word: str       # "row" or "feature"
    row: int
    letter: str | None  # Excel column letter (spreadsheets and CSV)
    source: str         # source column header
    target: str         # contract column
    value: object
    rule: str
    hint: str

    def line(self) -> str:
        col = f"column {self.letter} '{self.source}'" if self.letter else f"attribute '{self.source}'"
        return (f"{self.where}, {self.row_word} {self.row}, {col} -> {self.target}: cannot convert "
                f"{_show(self.value)}: rule '{self.rule}': {self.hint}")

    __str__ = line


def _show(v) -> str:
    if isinstance(v, str):
        return repr(v)
    if hasattr(v, "isoformat"):
        midnight = hasattr(v, "hour") and not (v.hour or v.minute or v.second or v.microsecond)
        return f"the date {v.date().isoformat() if midnight else v.isoformat()}"
    return str(v)


@dataclass
class TableImport:
    """One contract table converted from its source sheet.

    ``rows`` holds the written rows (contract order, text), ``keep`` which source rows they are;
    ``conversions`` counts (source column, contract column, kind) and ``examples`` keeps the first
    value of each. Rows read = written + rejected (blank source rows are skipped and counted apart).
    """

    tmap: TableMap
    sheet: Sheet
    rows: list[list[str]] = field(default_factory=list)
    keep: list[int] = field(default_factory=list)
    bad: list[BadValue] = field(default_factory=list)
    rejected: dict[int, list[BadValue]] = field(default_factory=dict)
    conversions: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)
    points: list = field(default_factory=list)  # (x, y) or None per source row, for x/y point tables

    @property
    def rows_read(self) -> int:
        return len(self.sheet.rows)

    @property
    def written(self) -> int:
        return len(self.rows)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)

    @property
    def row_offset(self) -> int | None:
        """``s`` such that written data row N is source row N + s, or None when it varies (skipped rows)."""
        offs = {self.sheet.row_no[k] - j for j, k in enumerate(self.keep, start=1)}
        if len(offs) > 1:
            return None
        return offs.pop() if offs else self.sheet.header_row


def locate_columns(tmap: TableMap, sheet: Sheet) -> tuple[dict[str, int], list[str]]:
    """Find each mapped source column in the sheet's header.

    Returns
    -------
    positions : dict
        contract column -> 0-based position in the source row.
    unused : list of str
        Source headers that no mapping uses.

    Raises
    ------
    SourceError
        One line per mapped column that is absent (naming the file, sheet, headers found and a
        close match) or that the header names twice.
    """
    header = sheet.header
    exact: dict[str, list[int]] = {}
    loose: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        exact.setdefault(h, []).append(i)
        loose.setdefault(_norm(h), []).append(i)
    pos: dict[str, int] = {}
    problems = []
    wanted = [(cm.source, cm.to, cm.to) for cm in tmap.columns]
    if tmap.x is not None and sheet.geometry is None:
        wanted += [(tmap.x, X, "x coordinate"), (tmap.y, Y, "y coordinate")]
    for source, key, label in wanted:
        hits = exact.get(source) or loose.get(_norm(source)) or []
        if not hits:
            found = ", ".join(f"'{h}'" for h in header if h) or "none"
            problems.append(
                f"{sheet.where}: the mapping names column '{source}' (-> {label}, table {tmap.name}) but the "
                f"header (row {sheet.header_row}) has no such column{close_match(source, header)} "
                f"Headers found: {found}. Fix the mapping or header_row.")
        elif len(hits) > 1:
            cols = " and ".join(column_letter(i) for i in hits[:2])
            problems.append(f"{sheet.where}: the header names '{header[hits[0]]}' twice (columns {cols}); rename "
                            f"one so the mapping of '{source}' is unambiguous")
        else:
            pos[key] = hits[0]
    if problems:
        raise SourceError("\n".join(problems))
    used = set(pos.values())
    unused = [h or f"(unnamed column {column_letter(i)})" for i, h in enumerate(header)
              if i not in used and (h or any(i < len(r) and _raw(r[i]) not in (None, "") for r in sheet.rows[:50]))]
    return pos, unused


def _raw(v):
    return v.value if type(v) is Cell else v


def _converted(memo: dict, v, target):
    """:func:`convert` of a raw value (or a Cell), or the Unconvertible it raised; memoised per column,
    since the result depends on the value (its type, and its Excel percentage format) alone."""
    try:
        key = (type(v), v)
        hit = memo.get(key)
    except TypeError:  # an unhashable value: no memo
        key, hit = None, None
    if hit is None:
        try:
            hit = convert(v if type(v) is Cell else Cell(v), target)
        except Unconvertible as e:
            hit = e
        if key is not None:
            memo[key] = hit
    return hit


def convert_table(tmap: TableMap, sheet: Sheet) -> TableImport:
    """Convert every mapped cell of ``sheet``; a row with any unconvertible value is rejected whole."""
    pos, unused = locate_columns(tmap, sheet)
    res = TableImport(tmap, sheet, unused=unused)
    targets = {cm.to: cm for cm in tmap.columns}
    order = tmap.table.column_names
    spreadsheet = sheet.geometry is None
    memo: dict[str, dict] = {name: {} for name in targets}
    for k, (cells, rn) in enumerate(zip(sheet.rows, sheet.row_no)):
        out: list[str] = []
        bad_here: list[BadValue] = []
        for name in order:
            cm = targets.get(name)
            if cm is None:  # listed under absent
                out.append("")
                continue
            i = pos[name]
            v = cells[i] if i < len(cells) else None
            got = _converted(memo[name], v, cm.target)
            if isinstance(got, Unconvertible):
                bad_here.append(BadValue(sheet.where, sheet.row_word, rn, column_letter(i) if spreadsheet else None,
                                         cm.source, name, _raw(v), got.rule, got.hint))
                out.append("")
                continue
            text, kinds = got
            for kind in kinds:
                ckey = (cm.source, name, kind)
                res.conversions[ckey] += 1
                if ckey not in res.examples:
                    res.examples[ckey] = (_raw(v), text)
            out.append(text)
        if X in pos:
            xy = []
            for key in (X, Y):
                v = cells[pos[key]] if pos[key] < len(cells) else None
                got = _converted(memo.setdefault(key, {}), v, _COORD[key])
                if isinstance(got, Unconvertible):
                    src = tmap.x if key == X else tmap.y
                    bad_here.append(BadValue(sheet.where, sheet.row_word, rn, column_letter(pos[key]), src,
                                             "geometry " + _COORD[key].column.name, _raw(v), "number", got.hint))
                else:
                    xy.append(got[0])
                    for kind in got[1]:
                        ckey = (tmap.x if key == X else tmap.y, "geometry " + _COORD[key].column.name, kind)
                        res.conversions[ckey] += 1
                        res.examples.setdefault(ckey, (_raw(v), got[0]))
            res.points.append((float(xy[0]), float(xy[1])) if len(xy) == 2 and all(xy) else None)
        if bad_here:
            res.bad.extend(bad_here)
            res.rejected[k] = bad_here
        else:
            res.rows.append(out)
            res.keep.append(k)
    assert res.written + res.n_rejected == res.rows_read, "rows lost while converting"
    return res
