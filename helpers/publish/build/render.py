"""Turn an executed notebook into one self-contained, deterministic, safe HTML file.

Pipeline (as :func:`helpers.publish.build.worker.build_report` runs it):

1. :func:`clean_notebook` drops what must not be published or varies between
   runs: stderr streams, JavaScript and widget outputs, the injected
   parameters cell, cells tagged ``remove-cell``/outputs tagged
   ``remove-output``, cell ids (renumbered), execution counts and metadata;
   machine paths in text outputs are rewritten (repo root -> ``.``, home -> ``~``).
2. :func:`check_outputs` fails the report if a displayed table shows an
   estimate with ``n`` below the disclosure threshold, or a respondent id column
   (the rule itself: :func:`check_rows`).
3. :func:`render_html`: nbconvert's HTMLExporter with the ``report`` template
   (``helpers/publish/templates/report``): no code, no prompts, images embedded, no
   require.js, MathJax, mermaid or widget scripts; banner and provenance footer.
4. :func:`check_html` fails the report on any ``<script>``, event-handler
   attribute, resource from another host, or machine path / user name.
5. :func:`check_assets` applies what applies of 2 and 4 to the CSV files a report
   writes for download, and :func:`check_asset_links` fails a page that links to
   one it did not write.
"""
from __future__ import annotations

import html.parser
import re
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

#: Output mime types that would put scripts into the page; dropped.
DROPPED_MIMETYPES = (
    "application/javascript", "text/javascript", "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json", "application/vnd.plotly.v1+json",
    "application/vnd.bokehjs_exec.v0+json", "application/vnd.bokehjs_load.v0+json",
    "application/vnd.holoviews_exec.v0+json", "application/vnd.holoviews_load.v0+json",
)
REMOVE_CELL_TAGS = {"remove-cell", "remove_cell", "injected-parameters", "injected-provenance", "injected-setup"}
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output"}


class SafetyError(Exception):
    """The rendered report breaks a publishing rule; the message says which and where."""


# ---------------------------------------------------------------------------
# 1. cleaning
# ---------------------------------------------------------------------------

def path_replacements(paths: dict[str, str]) -> list[tuple[re.Pattern, str]]:
    """Regexes replacing each absolute path (longest first) by its stand-in."""
    out = []
    for p, rep in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        p = p.rstrip("/")
        if len(p) < 2:
            continue
        out.append((re.compile(re.escape(p) + r"(?![\w.-])"), rep))
    return out


def _sub_paths(text: str, reps) -> str:
    for rx, rep in reps:
        text = rx.sub(rep, text)
    return text


def clean_notebook(nb, reps) -> None:
    """Clean ``nb`` (an nbformat NotebookNode) in place; see the module docstring."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            if not tags & REMOVE_OUTPUT_TAGS:
                for out in cell.get("outputs", []):
                    ot = out.get("output_type")
                    if ot == "stream":
                        if out.get("name") != "stdout":
                            continue
                        out["text"] = _sub_paths(out.get("text", ""), reps)
                    elif ot in ("display_data", "execute_result"):
                        data = out.get("data", {})
                        for m in DROPPED_MIMETYPES:
                            data.pop(m, None)
                        if not data:
                            continue
                        for m, v in list(data.items()):
                            if m.startswith("text/") and isinstance(v, str):
                                data[m] = _sub_paths(v, reps)
                        out["metadata"] = {k: v for k, v in out.get("metadata", {}).items()
                                           if k in ("image/png", "image/jpeg")}
                        if "execution_count" in out:
                            out["execution_count"] = None
                    elif ot == "error":
                        continue
                    outputs.append(out)
            cell["outputs"] = outputs
            cell["execution_count"] = None
        cell["metadata"] = {"tags": sorted(tags)} if tags else {}
        cells.append(cell)
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i:03d}"
    nb.cells = cells
    meta = nb.metadata
    nb.metadata = {k: meta[k] for k in ("kernelspec", "language_info") if k in meta}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}


# ---------------------------------------------------------------------------
# 2. checks on outputs (disclosure, microdata)
# ---------------------------------------------------------------------------

class _TableParser(html.parser.HTMLParser):
    """Collects tables as lists of rows of (tag, text, in_thead)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, str, bool]]]] = []
        self._stack = 0
        self._row = None
        self._cell = None
        self._thead = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack += 1
            self.tables.append([])
        elif tag == "thead":
            self._thead = True
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag == "thead":
            self._thead = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], self._cell[1].strip(), self._thead))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


def _number(text: str) -> float | None:
    t = text.replace(",", "").replace("%", "").strip()
    try:
        v = float(t)
    except ValueError:
        return None
    return None if v != v else v  # NaN is not a shown number


def _is_identifier(name: str) -> bool:
    c = name.lower()
    return c in ("year", "wave", "") or c.endswith("_id") or c.endswith("_code")


def check_rows(names: list[str], rows: list[list[tuple[str, str]]], k: int, n_columns: tuple[str, ...],
               where: str) -> list[str]:
    """Disclosure problems in one table given as cells: respondent ids, numbers shown with n < k.

    ``names`` are the column headers; each row is a list of ``(kind, text)`` cells, ``kind``
    ``"th"`` for a row label (an HTML index cell) and ``"td"`` otherwise. ``where`` starts
    each message (e.g. ``"table 2"`` or ``"coverage.csv"``). The rule is the one of
    :func:`helpers.publish.report.table`: a row whose count column (the first of
    ``n_columns`` present) is below ``k`` may show identifiers and the count, no other number.
    """
    lower = [n.lower() for n in names]
    if "resp_id" in lower or "respondent_id" in lower:
        return [f"{where} has a respondent id column: reports may not show respondent-level rows"]
    n_pos = next((i for i, n in enumerate(lower) if n in n_columns), None)
    if n_pos is None:
        return []
    problems = []
    for i_row, r in enumerate(rows, 1):
        if len(r) != len(names):
            continue
        n = _number(r[n_pos][1])
        if n is None or n >= k:
            continue
        shown = [names[i] for i, (kind, txt) in enumerate(r)
                 if i != n_pos and kind == "td" and not _is_identifier(names[i]) and _number(txt) is not None]
        if shown:
            label = " / ".join(c[1] for c in r if c[0] == "th") or " / ".join(
                r[i][1] for i, nm in enumerate(names) if _is_identifier(nm) and nm) or f"row {i_row}"
            problems.append(
                f"{where}, row {label!r}: n = {r[n_pos][1]} < {k} but {', '.join(shown)} shown; "
                f"display estimates through helpers.publish.report.table(df), which suppresses them")
    return problems


def check_table_html(text: str, k: int, n_columns: tuple[str, ...]) -> list[str]:
    """Problems in the HTML tables of one output: respondent ids, numbers shown with n < k."""
    problems = []
    p = _TableParser()
    p.feed(text)
    for t_i, rows in enumerate(p.tables, 1):
        header = next((r for r in rows if r and r[0][2]), rows[0] if rows else [])
        names = [c[1] for c in header]
        body = [[(tag, txt) for tag, txt, _ in r] for r in rows if r is not header and not (r and r[0][2])]
        problems += check_rows(names, body, k, n_columns, f"table {t_i}")
    return problems


def check_outputs(nb, k: int, n_columns: tuple[str, ...]) -> list[str]:
    """Disclosure and microdata problems in the outputs of ``nb`` (after cleaning)."""
    problems = []
    for idx, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            h = data.get("text/html")
            if isinstance(h, str) and "<table" in h:
                problems += [f"cell {idx}: {m}" for m in check_table_html(h, k, n_columns)]
            elif isinstance(data.get("text/plain"), str) and re.search(r"^\s*resp_id\b", data["text/plain"], re.M):
                problems.append(f"cell {idx}: output shows a resp_id column (respondent-level rows)")
    return problems


# ---------------------------------------------------------------------------
# 3. rendering
# ---------------------------------------------------------------------------

_EXPORTER = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        e = HTMLExporter(
            template_name="report",
            extra_template_basedirs=[str(TEMPLATES_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
        )
        _EXPORTER = e
    return _EXPORTER


#: What a link to a report that this site does not hold becomes (the text, then this note).
ABSENT_NOTE = " (not built: the data lack the tables it needs)"


def unlink_absent(page: str, absent: list[str], note: str = ABSENT_NOTE) -> str:
    """``page`` with every link to a page in ``absent`` (``"03_satisfaction.html"``; a report skipped
    because the data lack its tables) replaced by the link's text and ``note``, so that a report never
    links to a page its site does not hold."""
    if not absent:
        return page
    targets = "|".join(re.escape(a) for a in absent)
    pattern = re.compile(r'<a\s+href="(?:\./)?(?:' + targets + r')(?:#[^"]*)?"[^>]*>(.*?)</a>', re.S)
    return pattern.sub(lambda m: m.group(1) + note, page)


def render_html(nb, *, title: str, banner_html: str, footer_html: str) -> str:
    nb.metadata["title"] = title
    resources = {"metadata": {"name": title, "path": ""}, "report_banner": banner_html,
                 "report_footer": footer_html}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    # trailing whitespace differs with nothing but template formatting; normalise it
    body = "\n".join(line.rstrip() for line in body.splitlines()) + "\n"
    return add_contents(body)


_H1_END = re.compile(r"</h1>", re.I)
_H2 = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def add_contents(page: str) -> str:
    """Insert a table of contents (the page's section headings, ``<h2 id=...>``) after its title.

    Pages with fewer than three sections, or no title, are returned unchanged; the headings' own
    ids (which nbconvert derives from their text) are the link targets."""
    sections = []
    for anchor, inner in _H2.findall(page):
        text = html.unescape(_TAGS.sub("", inner)).replace("\u00b6", "").strip()
        if text:
            sections.append((anchor, text))
    first = _H1_END.search(page)
    if first is None or len(sections) < 3:
        return page
    items = "".join(f'<li><a href="#{html.escape(html.unescape(a), quote=True)}">{html.escape(t)}</a></li>'
                    for a, t in sections)
    toc = f'\n<nav class="report-toc" aria-label="Contents"><strong>Contents</strong><ol>{items}</ol></nav>\n'
    return page[:first.end()] + toc + page[first.end():]


# ---------------------------------------------------------------------------
# 4. checks on the page
# ---------------------------------------------------------------------------

_URL_ATTRS = {"src", "srcset", "href", "poster", "data", "action", "formaction", "background", "xlink:href"}
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
_CSS_EXTERNAL = re.compile(r"(?:@import|url\()\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)


class _PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        if tag in ("script", "iframe", "object", "embed", "base"):
            self.problems.append(f"line {line}: <{tag}> element")
        if tag == "style":
            self._in_style = True
        for name, value in attrs:
            name = name.lower()
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"line {line}: event handler attribute {name}= on <{tag}>")
            if name in _URL_ATTRS:
                if value.strip().lower().startswith("javascript:"):
                    self.problems.append(f"line {line}: javascript: URL on <{tag}>")
                elif _EXTERNAL.match(value) and not (tag == "a" and name == "href"):
                    self.problems.append(f"line {line}: <{tag} {name}=...> loads from another host: {value[:80]}")
            if name == "style" and _CSS_EXTERNAL.search(value):
                self.problems.append(f"line {line}: inline style loads from another host")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and _CSS_EXTERNAL.search(data):
            self.problems.append(f"line {self.getpos()[0]}: stylesheet loads from another host")


def check_html(page: str, forbidden: dict[str, str], allowed: tuple[str, ...] = ()) -> list[str]:
    """Publishing problems in a rendered page.

    ``forbidden`` maps strings that must not appear (machine paths, the user
    name) to a description used in the message; ``allowed`` are strings that may
    appear although they contain one (the data folder as the user gave it).
    """
    p = _PageParser()
    p.feed(page)
    p.close()
    problems = list(p.problems)
    for a in sorted(allowed, key=len, reverse=True):
        if a:
            page = page.replace(a, "")
    for s, what in forbidden.items():
        if not s:
            continue
        rx = re.compile(r"(?<![\w.-])" + re.escape(s) + r"(?![\w-])")
        m = rx.search(page)
        if m:
            line = page.count("\n", 0, m.start()) + 1
            problems.append(f"line {line}: contains {what} ({s!r})")
    return problems


def redact(text: str, forbidden: dict[str, str]) -> str:
    """``text`` with every forbidden string (machine paths, the user name) replaced by ``<redacted>``."""
    for s_ in sorted(forbidden, key=len, reverse=True):
        if s_:
            text = re.sub(r"(?<![\w.-])" + re.escape(s_) + r"(?![\w-])", "<redacted>", text)
    return text


# ---------------------------------------------------------------------------
# 5. the data files published beside a report
# ---------------------------------------------------------------------------

#: A data file's name: letters, digits, ``.``, ``_``, ``-``, ending in ``.csv``.
ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.csv$")
_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*:)?//[a-z0-9.-]+\.[a-z]{2,}|\bjavascript:")


def check_csv_text(text: str, name: str, k: int, n_columns: tuple[str, ...],
                   forbidden: dict[str, str]) -> list[str]:
    """Publishing problems in one CSV file written for download.

    The page checks that apply to a file a reader downloads: no machine path or user
    name (``forbidden``), no address of another host, and the disclosure rule of
    :func:`check_rows` (no respondent id column; no number beside a count below ``k``).
    """
    import csv
    import io

    problems = []
    for s_, what in forbidden.items():
        m = re.search(r"(?<![\w.-])" + re.escape(s_) + r"(?![\w-])", text) if s_ else None
        if m:
            problems.append(f"{name}, line {text.count(chr(10), 0, m.start()) + 1}: contains {what} ({s_!r})")
    m = _URL.search(text)
    if m:
        problems.append(f"{name}, line {text.count(chr(10), 0, m.start()) + 1}: contains an address of another "
                        f"host ({m.group(0)!r}); data files may not point elsewhere")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        return [*problems, f"{name}: not a readable CSV file ({e})"]
    if rows:
        problems += check_rows(rows[0], [[("td", c) for c in r] for r in rows[1:]], k, n_columns, name)
    return problems


def check_assets(folder: Path, k: int, n_columns: tuple[str, ...],
                 forbidden: dict[str, str]) -> tuple[list[str], list[str]]:
    """The data files a report wrote into ``folder`` and the problems found in them.

    Returns ``(names, problems)``: the file names (sorted) and one line per problem (a
    name that is not ``*.csv`` of safe characters, a sub-folder, a file that is not
    UTF-8 text, and what :func:`check_csv_text` finds).
    """
    names, problems = [], []
    if not folder.is_dir():
        return names, problems
    for p in sorted(folder.iterdir()):
        if p.is_dir() or p.is_symlink():
            problems.append(f"{p.name}: a {'folder' if p.is_dir() else 'link'}; write plain CSV files only")
            continue
        if not ASSET_NAME.match(p.name):
            problems.append(f"{p.name}: data files must be named like 'table-1.csv' (letters, digits, . _ -, "
                            "ending in .csv)")
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{p.name}: not UTF-8 text")
            continue
        problems += check_csv_text(text, p.name, k, n_columns, forbidden)
        names.append(p.name)
    return names, problems


class _LinkParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower() in ("href", "src") and value:
                self.links.append((self.getpos()[0], value))


def check_asset_links(page: str, report: str, assets: list[str]) -> list[str]:
    """Links of ``page`` into its own data folder (``<report>/...``) that name no file it wrote."""
    p = _LinkParser()
    p.feed(page)
    p.close()
    have = set(assets)
    prefix = f"{report}/"
    out = []
    for line, url in p.links:
        target = url.split("#", 1)[0].split("?", 1)[0]
        if target.startswith(prefix) and target[len(prefix):] not in have:
            out.append(f"line {line}: links to {target}, which the report did not write "
                       f"(write it into ${{HELPERS_REPORT_ASSETS}})")
    return out
