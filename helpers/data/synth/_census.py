"""Population margins: a census count of residents by district x age band x sex.

Each community's residents (``population``) are counted into age bands and sexes by the
same model the survey draws its respondents from (age 60 and over with probability
``share_60plus``, ages uniform on 18-59 and 60-90; female with probability 1/2), as a
census realises it: binomial and multinomial counts, then summed to districts. The draws
come from their own random stream ("census"), so every other table is unchanged.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import AGE_BANDS
from . import _params as P
from ._world import World


def _band_shares(lo: int, hi: int) -> np.ndarray:
    """Share of each age band among ages lo..hi drawn uniformly (0 for bands outside)."""
    ages = np.arange(lo, hi + 1)
    return np.array([((ages >= a) & (ages <= b)).mean() for _, a, b in AGE_BANDS])


def population_margins(w: World, rng: np.random.Generator) -> pd.DataFrame:
    """Residents by district, age band and sex (columns of schema table ``population``)."""
    com, geo = w.communities, w.geo
    pop = com["population"].to_numpy().astype(np.int64)
    s60 = com["share_60plus"].to_numpy()
    n60 = rng.binomial(pop, s60)
    under = pop - n60
    young = _band_shares(*P.AGE_UNDER60)
    old = _band_shares(*P.AGE_60PLUS)
    counts = rng.multinomial(under, young) + rng.multinomial(n60, old)      # communities x bands
    female = rng.binomial(counts, P.CENSUS_FEMALE_SHARE)
    male = counts - female
    d = geo.district
    D, B = len(w.districts), len(AGE_BANDS)
    rows = []
    ids = w.districts["district_id"].to_numpy()
    for sex, c in (("female", female), ("male", male)):
        tot = np.zeros((D, B), dtype=np.int64)
        np.add.at(tot, d, c)
        for k in range(D):
            for b in range(B):
                rows.append((ids[k], AGE_BANDS[b][0], sex, int(tot[k, b])))
    return pd.DataFrame(rows, columns=["district_id", "age_band", "sex", "residents"])
