"""Summaries of a data folder: table sizes and the survey's sample sizes."""
from __future__ import annotations

import pandas as pd

from helpers.data import schema


def table_sizes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table: file, description, rows, columns and the years it covers.

    Parameters
    ----------
    tables : dict of table name -> frame, as returned by :func:`helpers.data.load.load_all`.

    Returns
    -------
    DataFrame with columns table, file, rows, columns, years, description.
    """
    rows = []
    for name, df in tables.items():
        spec = schema.TABLES[name]
        years = ""
        if "year" in df.columns and len(df):
            years = f"{int(df['year'].min())}–{int(df['year'].max())}"
        ncols = len([c for c in df.columns if c != "geometry"])
        rows.append({"table": name, "file": spec.file, "rows": len(df), "columns": ncols,
                     "years": years, "description": spec.description})
    return pd.DataFrame(rows)


def survey_sample_sizes(survey: pd.DataFrame, districts: pd.DataFrame | None = None,
                        by: tuple[str, str] = ("district_id", "year")) -> pd.DataFrame:
    """Respondents, sampled residents, response rate and PSUs by district and year.

    Parameters
    ----------
    survey : the survey table *including* nonrespondents (``load_table("survey")``).
    districts : optional districts table, to add ``name_en`` and ``name_zh``.
    by : grouping columns.

    Returns
    -------
    Tidy DataFrame: the ``by`` columns, sampled, respondents, response_rate, psus.
    """
    by = list(by)
    g = survey.groupby(by, observed=True)
    out = pd.DataFrame({
        "sampled": g.size(),
        "respondents": g["responded"].sum(),
        "psus": g["community_id"].nunique(),
    }).reset_index()
    out["response_rate"] = out["respondents"] / out["sampled"]
    if districts is not None and "district_id" in by:
        names = pd.DataFrame(districts)[["district_id", "name_en", "name_zh"]]
        out = out.merge(names, on="district_id", how="left")
        out = out[[*by, "name_en", "name_zh", "sampled", "respondents", "response_rate", "psus"]]
    return out


#: Readable names of the districts' zones, in legend order.
ZONE_LABELS: dict[str, str] = {"core": "Urban core", "inner_suburb": "Inner suburb", "outer_county": "Outer county"}


def label_zones(districts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A copy of ``districts`` with readable zone names, and the zone colours for a legend.

    Returns
    -------
    (frame, colours): ``colours`` maps each readable zone name to its colour, in legend order.
    """
    from helpers.viz import style

    colours = dict(zip(ZONE_LABELS.values(), style.QUALITATIVE[:3]))
    return districts.assign(zone=districts["zone"].map(ZONE_LABELS)), colours
