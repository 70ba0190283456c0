"""Notebook conveniences shared by every notebook in the collection.

A notebook starts with::

    from helpers.publish import notebook as nb
    meta = nb.setup(data_dir)     # project style, display options; returns the data's metadata
    nb.data_statement(meta)       # says plainly whether the data are synthetic
"""
from __future__ import annotations


def setup(data_dir=None) -> dict:
    """Apply the project style (fonts, colours, deterministic figures) and pandas display options.

    Returns the data folder's metadata (:func:`helpers.data.truth.metadata`).
    """
    import pandas as pd

    from helpers.viz import style

    style.use_project_style()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 120)
    pd.set_option("display.float_format", lambda x: f"{x:,.3f}")
    from helpers.data.truth import metadata

    return metadata(data_dir)


def data_statement(meta: dict, data_dir=None):
    """The report's one statement of where its data come from.

    Synthetic data get the banner (an HTML block styled as a warning): a fictional city with planted
    effects, no real place, person or organisation. Real data get a plain paragraph naming the
    dataset (``metadata.json``'s ``title`` or ``name``, else the folder's name) - never the word
    "synthetic". Returns an IPython display object."""
    import html as _html
    from pathlib import Path

    from IPython.display import HTML, Markdown

    if meta.get("synthetic"):
        seed = meta.get("seed")
        return HTML('<div class="report-banner"><strong>Synthetic data.</strong> Every number in this report '
                    "describes a fictional city, generated with planted effects whose true values are known"
                    + (f" (seed {int(seed)})" if seed is not None else "")
                    + ". No real place, person or organisation is described: the results show how the methods "
                    "work, not how any real district performs.</div>")
    name = meta.get("title") or meta.get("name")
    if not name:
        from helpers import paths

        name = Path(data_dir or paths.DATA_DIR).name
    return Markdown(f"**Data.** {_html.escape(str(name), quote=False)}, checked against the collection's data "
                    "contract before use.")
