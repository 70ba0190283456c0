"""Safe display helpers for notebooks that become published reports.

- :func:`escape` and :func:`md`: text that comes from data (district names,
  labels) is escaped before it goes into Markdown, so a district called
  ``<script>alert(1)</script>`` shows as those characters, never as code.
- :func:`table`: the way to show a table of estimates. It refuses frames that
  look like respondent-level microdata and replaces every estimate resting on
  fewer than :data:`helpers.publish.disclosure.MIN_RESPONDENTS` respondents with
  ``"suppressed (n < 10)"``.
- :func:`suppress_for_plot`: the same rule for figures and maps (estimates
  become NaN, with a reason column).

The build (:mod:`helpers.publish.build`) checks every rendered report again: no
``<script>``, no request to another host, no machine paths, no ``resp_id``
column, and no displayed DataFrame row with ``n`` below the threshold that
still shows numbers.
"""
from __future__ import annotations

import html
import re

#: Column names recognised as "number of respondents behind this row".
N_COLUMNS: tuple[str, ...] = ("n", "n_resp", "n_respondents", "respondents", "n_unweighted")
#: Columns that identify a respondent; a frame with one of them is microdata.
RESPONDENT_ID_COLUMNS: tuple[str, ...] = ("resp_id", "respondent_id", "person_id")
#: A frame with a ``weight`` column and more rows than this is treated as microdata.
MAX_WEIGHTED_ROWS = 50


class MicrodataError(ValueError):
    """Raised when a frame about to be shown looks like respondent-level rows."""


def min_respondents() -> int:
    """The disclosure threshold k (from :mod:`helpers.publish.disclosure`, the one place it is set)."""
    try:
        from helpers.publish.disclosure import MIN_RESPONDENTS
    except ImportError:  # pragma: no cover - only before helpers.publish.disclosure exists
        return 10
    return int(MIN_RESPONDENTS)


def suppressed_label(k: int | None = None) -> str:
    return f"suppressed (n < {min_respondents() if k is None else k})"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def escape(value) -> str:
    """``value`` as text safe inside Markdown or HTML: HTML-escaped, Markdown punctuation backslashed."""
    # quote=False: quotes are harmless in Markdown text, and "&#x27;" would have its "#"
    # backslashed below and render literally (Yong'an -> "Yong&#x27;an").
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))


def md(template: str, **values):
    """Markdown from a trusted ``template`` with data-derived ``values`` escaped.

    >>> md("**{name}** has {n} communities.", name=row.name_en, n=42)  # doctest: +SKIP

    Numbers are formatted by ``str.format`` as usual (``{share:.1%}``); strings are
    passed through :func:`escape` first. Returns an :class:`IPython.display.Markdown`.
    """
    from IPython.display import Markdown

    safe = {k: (escape(v) if isinstance(v, str) else v) for k, v in values.items()}
    return Markdown(template.format(**safe))


def check_not_microdata(df) -> None:
    """Raise :class:`MicrodataError` if ``df`` looks like respondent-level rows."""
    cols = {str(c).lower() for c in df.columns} | {str(n).lower() for n in (df.index.names or []) if n}
    ids = sorted(cols & set(RESPONDENT_ID_COLUMNS))
    if ids:
        raise MicrodataError(
            f"refusing to show a table with respondent identifier column(s) {ids}: reports may not contain "
            "respondent-level rows. Aggregate first (e.g. helpers.stats.survey estimates by district) and show those.")
    if "weight" in cols and len(df) > MAX_WEIGHTED_ROWS:
        raise MicrodataError(
            f"refusing to show a table with a 'weight' column and {len(df)} rows (> {MAX_WEIGHTED_ROWS}): "
            "this looks like survey microdata. Show weighted estimates per unit instead.")


def _n_column(df, n):
    if n is not None:
        if n not in df.columns:
            raise KeyError(f"respondent count column {n!r} not in the table (columns: {list(df.columns)})")
        return n
    for c in df.columns:
        if str(c).lower() in N_COLUMNS:
            return c
    return None


def _is_identifier(col) -> bool:
    c = str(col).lower()
    return c in ("year", "wave") or c.endswith("_id") or c.endswith("_code")


def table(df, n: str | None = None, columns=None, k: int | None = None, *, caption: str | None = None,
          data=None, notes: str | None = None, name: str | None = None):
    """A table ready to show: microdata refused, small-n estimates suppressed; with ``caption``, a
    numbered, captioned table whose data can be downloaded (see :func:`numbered_table`).

    Without ``caption`` (exploration), returns the suppressed copy of ``df`` as a DataFrame.

    Parameters
    ----------
    df : DataFrame
        A tidy table of estimates, one row per unit (and year).
    n : str, optional
        Column holding the number of respondents behind each row. By default the
        first of :data:`N_COLUMNS` present; without one the table is shown as is
        (administrative counts are not survey estimates).
    columns : list of str, optional
        Estimate columns to suppress; by default every numeric column except the
        count and identifiers (``year``, ``*_id``).
    k : int, optional
        Threshold; by default :data:`helpers.publish.disclosure.MIN_RESPONDENTS`.

    Returns
    -------
    DataFrame or Captioned
        Suppressed cells hold the text ``"suppressed (n < k)"``.
    """
    import pandas as pd

    if caption is not None:
        return numbered_table(df, caption, n=n, columns=columns, k=k, data=data, notes=notes, name=name)
    check_not_microdata(df)
    k = min_respondents() if k is None else int(k)
    ncol = _n_column(df, n)
    out = df.copy()
    if ncol is None:
        return out
    if columns is None:
        columns = [c for c in out.columns
                   if c != ncol and not _is_identifier(c) and pd.api.types.is_numeric_dtype(out[c])]
    counts = pd.to_numeric(out[ncol], errors="coerce").fillna(0)
    mask = counts < k
    if mask.any():
        label = suppressed_label(k)
        for c in columns:
            out[c] = out[c].astype(object)
            out.loc[mask, c] = label
    return out


def suppress_for_plot(df, n: str | None = None, columns=None, k: int | None = None):
    """For figures and maps: estimates with fewer than k respondents set to NaN.

    Adds ``suppressed`` (bool) and ``suppressed_reason`` columns (as
    :func:`helpers.publish.disclosure.suppress` does) so a map can draw those units
    hatched and a legend can say why.
    """
    import pandas as pd

    check_not_microdata(df)
    k = min_respondents() if k is None else int(k)
    ncol = _n_column(df, n) or "n"
    if columns is None:
        columns = [c for c in df.columns
                   if c != ncol and not _is_identifier(c) and pd.api.types.is_numeric_dtype(df[c])]
    try:
        from helpers.publish.disclosure import suppress
    except ImportError:  # pragma: no cover
        suppress = None
    if suppress is not None:
        return suppress(df, n_col=ncol, value_cols=list(columns), k=k)
    out = df.copy()
    mask = pd.to_numeric(out[ncol], errors="coerce").fillna(0) < k
    for c in columns:
        out[c] = out[c].astype("float64")
        out.loc[mask, c] = float("nan")
    out["suppressed"] = mask
    out["suppressed_reason"] = [suppressed_label(k) if m else "" for m in mask]
    return out


# ------------------------------------------------------------------ numbered tables and figures
#: Environment variable naming the folder where a report's downloadable data files go (set by the
#: build for each report; unset in an interactive session, where nothing is written).
ASSETS_ENV = "HELPERS_REPORT_ASSETS"
_COUNTERS = {"Table": 0, "Figure": 0}


def reset_numbering() -> None:
    """Start numbering tables and figures from 1 (the build calls it before each report)."""
    for key in _COUNTERS:
        _COUNTERS[key] = 0


def _next(kind: str) -> int:
    _COUNTERS[kind] += 1
    return _COUNTERS[kind]


def _write_asset(frame, filename: str) -> str | None:
    """Write ``frame`` as CSV into ``$HELPERS_REPORT_ASSETS``; return the link the page uses, or None."""
    import os

    folder = os.environ.get(ASSETS_ENV)
    report = os.environ.get("HELPERS_REPORT_NAME")
    if not folder or frame is None:
        return None
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / filename, index=False, lineterminator="\n", float_format="%.10g")
    return f"{report}/{filename}" if report else filename


class Captioned:
    """A numbered table or figure with its caption and data link, displayed as HTML.

    Attributes: ``kind`` ("Table" or "Figure"), ``number``, ``caption``, ``html`` (the body),
    ``link`` (the data file's relative address, or None outside the build)."""

    def __init__(self, kind: str, number: int, caption: str, body_html: str, link: str | None,
                 notes: str | None = None):
        self.kind, self.number, self.caption, self.body_html, self.link, self.notes = (
            kind, number, caption, body_html, link, notes)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.number}"

    def _repr_html_(self) -> str:
        anchor = f"{self.kind.lower()}-{self.number}"
        cap = f"<strong>{self.label}.</strong> {html.escape(self.caption, quote=False)}"
        parts = [f'<figure class="report-{self.kind.lower()}" id="{anchor}">']
        if self.kind == "Table":
            parts.append(f"<figcaption>{cap}</figcaption>")
            parts.append(self.body_html)
        else:
            parts.append(self.body_html)
            parts.append(f"<figcaption>{cap}</figcaption>")
        extra = []
        if self.notes:
            extra.append(html.escape(self.notes, quote=False))
        if self.link:
            extra.append(f'<a class="report-data" href="{html.escape(self.link)}">Data (CSV)</a>')
        if extra:
            parts.append(f'<p class="report-note">{" ".join(extra)}</p>')
        parts.append("</figure>")
        return "\n".join(parts)

    def __repr__(self) -> str:  # plain-text fallback (no object repr on a page)
        return f"{self.label}. {self.caption}"


#: Under every table with a respondents column: why the same district's count differs between tables.
RESPONDENTS_NOTE = ("Respondents: those who answered the question shown (or every question of the row), so the "
                    "count differs slightly between questions and reports.")


def numbered_table(df, caption: str, n: str | None = None, columns=None, k: int | None = None, data=None,
                   notes: str | None = None, name: str | None = None) -> Captioned:
    """Show ``df`` as "Table N." with ``caption``: no index column, missing values as an en dash,
    small-n estimates suppressed (as :func:`table`); the numbers behind it (``data``, default ``df``,
    suppressed the same way) are written as ``table-N.csv`` and linked under the table.

    ``df`` is what a reader sees (formatted text, human column names); ``data`` the raw numbers.
    ``notes`` is a line under the table (e.g. what a dagger means). ``name`` overrides the file name."""
    from helpers.publish.fmt import MISSING

    if n is not None and "respondent" in str(n).lower() and RESPONDENTS_NOTE not in (notes or ""):
        notes = f"{notes} {RESPONDENTS_NOTE}" if notes else RESPONDENTS_NOTE
    shown = table(df, n=n, columns=columns, k=k)
    num = _next("Table")
    raw = None if data is None else table(data, n=n if n in getattr(data, "columns", []) else None, k=k)
    link = _write_asset(raw if raw is not None else shown, name or f"table-{num}.csv")
    body = shown.to_html(index=False, escape=True, na_rep=MISSING, border=0, classes="report-table")
    return Captioned("Table", num, caption, body, link, notes)


def figure(fig, caption: str, alt: str | None = None, data=None, name: str | None = None,
           notes: str | None = None) -> Captioned:
    """Show a matplotlib figure (or axes, or an array of axes) as "Figure N." with ``caption`` and alt
    text, and close it.

    ``alt`` says what the image shows for a reader who cannot see it (required unless the figure
    carries one: every map of :mod:`helpers.viz.maps` sets ``fig._helpers_alt``). ``data`` (a DataFrame of the numbers drawn) is
    written as ``figure-N.csv`` and linked under the figure. The PNG is embedded in the page, with
    fixed metadata so that two builds give the same bytes."""
    import base64
    import io

    import matplotlib.pyplot as plt

    import numpy as np

    if isinstance(fig, (np.ndarray, list, tuple)):  # an array of axes (small multiples)
        fig = np.asarray(fig, dtype=object).ravel()[0]
    f = getattr(fig, "figure", fig)
    alt = alt or getattr(f, "_helpers_alt", None)  # maps describe themselves (helpers.viz.alt)
    if not alt:
        raise ValueError(f"figure {caption!r}: give alt= (what the image shows, in one sentence)")
    buf = io.BytesIO()
    f.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(f)
    num = _next("Figure")
    link = _write_asset(None if data is None else table(data), name or f"figure-{num}.csv")
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    body = f'<img src="{src}" alt="{html.escape(alt)}" style="max-width:100%">'
    return Captioned("Figure", num, caption, body, link, notes)
