"""The study period of a data folder: the years its yearly tables cover.

A data folder declares its period in ``metadata.json``::

    {"study_period": [2018, 2024]}

(first and last year, inclusive). Without the key, the period is the span of the years present in
its yearly tables (:attr:`helpers.data.schema.Table.yearly`). :mod:`helpers.data.validate` checks
year columns against it and :mod:`helpers.data.load` stamps it on every frame it returns
(``df.attrs["study_period"]``), so that code given frames can find the years without being told:
:func:`of` reads it back.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from helpers.data import schema

#: The key of ``metadata.json`` that declares the period.
KEY: str = "study_period"
#: The key of ``DataFrame.attrs`` that carries the period of a loaded frame.
ATTR: str = "study_period"


@dataclass(frozen=True)
class StudyPeriod:
    """First and last year of a study period (inclusive) and where they come from.

    Attributes
    ----------
    first, last : int
        The first and last year.
    source : str
        ``"metadata.json"`` when declared, else ``"the years in <files>"``.
    """

    first: int
    last: int
    source: str

    @property
    def years(self) -> list[int]:
        """Every year of the period, in order."""
        return list(range(self.first, self.last + 1))

    @property
    def declared(self) -> bool:
        """True when ``metadata.json`` declares the period."""
        return self.source == schema.METADATA_FILE

    def __contains__(self, year) -> bool:
        return self.first <= year <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


class PeriodError(ValueError):
    """``metadata.json`` declares a study period that is not ``[first, last]``."""


def declared(metadata: Mapping) -> StudyPeriod | None:
    """The period ``metadata`` (a parsed ``metadata.json``) declares, or None without the key.

    Raises
    ------
    PeriodError
        The value is not two whole years ``[first, last]`` with ``first <= last`` inside
        :data:`helpers.data.schema.HISTORY_START`-:data:`helpers.data.schema.YEAR_MAX`; the message
        (one line) says what is wrong and what to write.
    """
    if KEY not in metadata:
        return None
    v = metadata[KEY]
    fix = (f'write two whole years, first and last, e.g. "{KEY}": [2018, 2024], or remove the key to take '
           "the period from the years in the tables")
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                       for x in v)):
        raise PeriodError(f"{KEY} is {_json(v)}, not [first year, last year]; {fix}")
    first, last = v
    if first > last:
        raise PeriodError(f"{KEY} {_json(v)} ends before it starts; {fix}")
    if first < schema.HISTORY_START or last > schema.YEAR_MAX:
        raise PeriodError(f"{KEY} {_json(v)} is outside the plausible years {schema.HISTORY_START}-"
                          f"{schema.YEAR_MAX}; {fix}")
    return StudyPeriod(first, last, schema.METADATA_FILE)


def from_years(years: Mapping[str, Iterable]) -> StudyPeriod | None:
    """The span of the plausible years (:data:`~helpers.data.schema.HISTORY_START`-
    :data:`~helpers.data.schema.YEAR_MAX`) in ``years`` (file -> year values), or None when there are none."""
    seen: dict[str, tuple[int, int]] = {}
    for file, ys in years.items():
        ok = [int(y) for y in ys if schema.HISTORY_START <= y <= schema.YEAR_MAX]
        if ok:
            seen[file] = (min(ok), max(ok))
    if not seen:
        return None
    return StudyPeriod(min(a for a, _ in seen.values()), max(b for _, b in seen.values()),
                       f"the years in {', '.join(seen)}")


def of(obj) -> StudyPeriod | None:
    """The period stamped on a loaded frame, or on the first frame of a ``{name: frame}`` dict that carries it."""
    frames = obj.values() if isinstance(obj, Mapping) else (obj,)
    for f in frames:
        p = getattr(f, "attrs", {}).get(ATTR)
        if isinstance(p, StudyPeriod):
            return p
    return None


def stamp(obj, period: StudyPeriod):
    """Stamp ``period`` on a frame, or on every frame of a ``{name: frame}`` dict, as
    :mod:`helpers.data.load` does (for frames built in memory, e.g. by the synthetic generator).
    Changes ``attrs`` in place and returns ``obj``."""
    for f in (obj.values() if isinstance(obj, Mapping) else (obj,)):
        f.attrs[ATTR] = period
    return obj


def years_of(obj, what: str = "the data") -> list[int]:
    """Every year of the period stamped on ``obj`` (see :func:`of`).

    For helpers with a ``years=None`` default: frames from :mod:`helpers.data.load` carry their
    folder's period, so the default follows the data.

    Raises
    ------
    ValueError
        ``obj`` carries no period (it was not loaded through :mod:`helpers.data.load`, or was built
        anew); the message names ``what`` and says to pass ``years=``.
    """
    p = of(obj)
    if p is None:
        raise ValueError(f"{what} carries no study period (frames loaded with helpers.data.load do, in "
                         f"df.attrs[{ATTR!r}]); pass years=..., e.g. helpers.data.load.study_years(data_dir)")
    return p.years


def _json(v) -> str:
    import json

    try:
        return json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(v)
