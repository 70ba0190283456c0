"""Read every page of a built site as a copy-editor would, and list what must not be published.

:func:`lint_site` returns one line per problem (``page: rule: what``); an empty list means the
site passes. The rules are the defects a referee found in earlier builds:

- numbers: scientific notation (outside provenance hashes), ``NaN``/``None``/``True``/``False``
  shown as values, ``p 0.000`` or ``0.0e+00``, trailing zeros on thousands (``6,194.000``);
- machinery: object reprs (``Finding(``, ``object at 0x``, ``dtype:``), module names
  (``helpers.``), raw column names (``snake_case`` words such as ``p_adj`` or ``null_low``),
  pandas index columns (an empty first header cell or a first column counting 0, 1, 2, ...);
- documents: images without alt text or with the default "No description has been provided for
  this image", figures and tables without a number and caption ("Figure N." / "Table N."),
  internal links that lead nowhere;
- data statements: more than one synthetic-data banner on a page;
- verdicts: two reports that state different verdicts for the same unit, measure and year (each
  report lists the verdicts it states in ``<report>/verdicts.csv``; see
  :func:`helpers.studies.verdicts.stated`);
- the published folder: anything that is not part of the site (caches, screenshots);
- ranges written with a hyphen (``1-5``, ``15-30 minutes``) instead of an en dash, on every page
  and in its provenance footer (see :func:`helpers.studies.measures.en_dash_ranges`);
- a hyphen used as a dash in reader text (``" - "``, a space on either side): prose takes an em
  dash (``—``) or a rewrite; the provenance footer is exempt.

The provenance footer (``<footer class="report-footer">``) is exempt from the machinery rules: it
lists hashes, versions and file names on purpose.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["lint_site", "lint_page", "verdict_conflicts", "ALLOWED_FILES"]

#: What a published site may hold besides HTML pages: the data behind tables and figures (CSV) in
#: one folder per report, the recorded findings (JSON) and error logs of failed reports (text).
ALLOWED_FILES = re.compile(r"^(index\.html|[^/]+\.html|[^/]+/[^/]+\.csv|findings/[^/]+\.json|errors/[^/]+\.txt)$")

_SCI = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?e[+-]?\d+\b", re.I)
_BAD_WORDS = re.compile(r"(?<![\w-])(NaN|nan|None(?! of\b)|True|False|inf)(?![\w-])")  # "None of the ..." is English
_REPR = re.compile(r"Finding\(|object at 0x|dtype: |<bound method|Name: \w+, dtype|DataFrame\(|Series\(")
_MODULE = re.compile(r"\bhelpers\.[a-z_]+")
_SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*_[a-z0-9_]+(?![\w(/.-])")
_ZEROS = re.compile(r"\d,\d{3}\.0{3,}\b|\.\d*0{4,}\b|\bp\s*[=<]?\s*0\.000\b|0\.0e\+00")
_DEFAULT_ALT = "No description has been provided for this image"
#: a numeric range with a hyphen ("1-5", "0.5-1.5"); dates (2024-05-01) and ids (table-1) do not match
#: a hyphen between spaces, used as a dash ("that effect - it mixes"), with a few words either side
_SPACED_HYPHEN = re.compile(r"(?:\S+\s){0,3}\S*\s-\s\S*(?:\s\S+){0,3}")
_HYPHEN_RANGE = re.compile(r"(?<![\w.\-–])\d+(?:\.\d+)?-\d+(?:\.\d+)?(?![\w.\-])")
#: snake_case words that are not machinery (none so far; a word here must be a real English term)
SNAKE_ALLOWED: frozenset[str] = frozenset()


class _Page(HTMLParser):
    """Collect visible text (outside the footer, scripts and styles), images, links, tables, figures."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.footer_text: list[str] = []
        self.images: list[dict] = []
        self.links: list[str] = []
        self.tables: list[dict] = []  # {"in_figure": bool, "first_header": str, "first_col": [...]}
        self.figures: list[dict] = []  # {"kind": "table"|"figure", "caption": str}
        self.banners = 0
        self._skip = 0
        self._footer = 0
        self._figure = None
        self._caption = None
        self._table = None
        self._cell = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "footer" or "report-footer" in cls:
            self._footer += 1
        if "report-banner" in cls:
            self.banners += 1
        if tag == "img":
            self.images.append({"alt": a.get("alt"), "in_figure": self._figure is not None})
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "figure":
            self._figure = {"kind": "table" if "report-table" in cls else "figure", "caption": ""}
        if tag == "figcaption":
            self._caption = []
        if tag == "table" and not self._footer:
            self._table = {"in_figure": self._figure is not None, "first_header": None, "first_col": []}
        if tag == "tr" and self._table is not None:
            self._row = []
        if tag in ("td", "th") and self._table is not None:
            self._cell = {"tag": tag, "text": []}

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "footer" and self._footer:
            self._footer -= 1
        if tag == "figcaption" and self._caption is not None and self._figure is not None:
            self._figure["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        if tag == "figure" and self._figure is not None:
            self.figures.append(self._figure)
            self._figure = None
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((self._cell["tag"], "".join(self._cell["text"]).strip()))
            self._cell = None
        if tag == "tr" and self._row is not None and self._table is not None:
            if self._row:
                if self._table["first_header"] is None and self._row[0][0] == "th":
                    self._table["first_header"] = self._row[0][1]
                elif self._row[0][0] == "td" or (self._row[0][0] == "th" and self._table["first_header"] is not None):
                    self._table["first_col"].append(self._row[0][1])
            self._row = None
        if tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell["text"].append(data)
        if not self._footer:
            self.text.append(data)
        else:
            self.footer_text.append(data)


def lint_page(path: Path, site: Path | None = None) -> list[str]:
    """The problems of one HTML page (see the module docstring)."""
    path = Path(path)
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    name = path.name
    out: list[str] = []
    text = html.unescape(" ".join(" ".join(page.text).split()))
    for rx, rule in ((_SCI, "scientific notation"), (_REPR, "object repr"), (_MODULE, "module name"),
                     (_ZEROS, "false precision")):
        for m in sorted(set(rx.findall(text) if rx.groups == 0 else [x.group(0) for x in rx.finditer(text)])):
            out.append(f"{name}: {rule}: {m!r}")
    footer = html.unescape(" ".join(" ".join(page.footer_text).split()))
    for m in sorted(set(_HYPHEN_RANGE.findall(footer + " " + text))):
        out.append(f"{name}: range with a hyphen, not an en dash: {m!r}")
    for m in sorted(set(_SPACED_HYPHEN.findall(text))):
        out.append(f"{name}: hyphen used as a dash (write an em dash '—' or rewrite): {m!r}")
    for m in sorted({x.group(1) for x in _BAD_WORDS.finditer(text)}):
        out.append(f"{name}: raw value: {m!r}")
    for m in sorted({x.group(0) for x in _SNAKE.finditer(text)} - SNAKE_ALLOWED):
        out.append(f"{name}: raw name: {m!r}")
    for i, img in enumerate(page.images, 1):
        if not img["alt"] or img["alt"].strip() == _DEFAULT_ALT:
            out.append(f"{name}: image {i} has no alt text")
        if not img["in_figure"]:
            out.append(f"{name}: image {i} is not a numbered, captioned figure")
    for t in page.tables:
        if not t["in_figure"]:
            out.append(f"{name}: a table is not numbered and captioned (report.table(..., caption=))")
        if t["first_header"] == "":
            out.append(f"{name}: a table shows its index column (empty first header)")
        col = t["first_col"]
        if len(col) >= 3 and col[:3] == ["0", "1", "2"]:
            out.append(f"{name}: a table shows its index column (0, 1, 2, ...)")
    counts = {"figure": 0, "table": 0}
    for f in page.figures:
        counts[f["kind"]] += 1
        want = f"{'Figure' if f['kind'] == 'figure' else 'Table'} {counts[f['kind']]}."
        if not f["caption"].startswith(want):
            out.append(f"{name}: expected a caption starting {want!r}, found {f['caption'][:40]!r}")
        elif len(f["caption"]) <= len(want) + 3:
            out.append(f"{name}: {want} has no caption text")
    if page.banners > 1:
        out.append(f"{name}: {page.banners} synthetic-data banners (one per page)")
    if site is not None:
        for href in page.links:
            target = href.split("#")[0]
            if not target or re.match(r"^[a-z]+:", target):
                continue
            if not (site / target).exists():
                out.append(f"{name}: broken link {href!r}")
    return out


def lint_site(site) -> list[str]:
    """Every problem of every page of the site folder ``site``, and files that do not belong in it."""
    site = Path(site)
    out: list[str] = []
    for p in sorted(site.rglob("*")):
        rel = p.relative_to(site).as_posix()
        if p.is_dir():
            continue
        if not ALLOWED_FILES.match(rel):
            out.append(f"{rel}: not part of the site (only pages, their CSV data, findings and error logs)")
    for page in sorted(site.glob("*.html")):
        out += lint_page(page, site)
    return out + verdict_conflicts(site)


def verdict_conflicts(site) -> list[str]:
    """One line per unit, measure and year on which the site's reports state different verdicts
    (``"above"``, ``"below"``, ``"not distinguishable"``), naming the reports and what each says."""
    import csv

    said: dict[tuple, dict[str, str]] = {}
    for f in sorted(Path(site).glob("*/verdicts.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                key = (row.get("measure", ""), row.get("level", ""), row.get("unit", ""), row.get("year", ""))
                said.setdefault(key, {})[f.parent.name] = row.get("verdict", "")
    out = []
    for (measure, level, unit, year), by_report in sorted(said.items()):
        if len(set(by_report.values())) > 1:
            out.append(f"verdicts: {measure} of {unit} ({level}) in {year or 'no year'} differs between reports: "
                       + "; ".join(f"{r} says {v!r}" for r, v in sorted(by_report.items())))
    return out
