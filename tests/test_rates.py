"""helpers.stats.rates: binomial intervals against statsmodels, aggregation, zero denominators."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from helpers.stats.rates import proportion_ci, rates, rates_by_level

X = np.array([1, 3, 7, 19, 50, 99, 250])
N = np.array([10, 10, 40, 20, 100, 100, 1000])


@pytest.mark.parametrize("method,sm", [("wilson", "wilson"), ("clopper-pearson", "beta"), ("jeffreys", "jeffreys")])
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_intervals_match_statsmodels(method, sm, level):
    est, lo, hi, flag = proportion_ci(X, N, method, level)
    slo, shi = proportion_confint(X, N, alpha=1 - level, method=sm)
    np.testing.assert_allclose(est, X / N, rtol=1e-12)
    np.testing.assert_allclose(lo, slo, rtol=1e-9)
    np.testing.assert_allclose(hi, shi, rtol=1e-9)
    assert (flag == "").all()


def test_boundaries():
    for m in ("wilson", "clopper-pearson", "jeffreys"):
        est, lo, hi, _ = proportion_ci([0, 10], [10, 10], m)
        assert lo[0] == 0 and hi[1] == 1 and est[0] == 0 and est[1] == 1
        assert 0 < hi[0] < 0.5 and 0.5 < lo[1] < 1
    # Clopper-Pearson at x=0: upper = 1 - (alpha/2)^(1/n)
    _, _, hi, _ = proportion_ci(0, 10, "clopper-pearson")
    assert hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-10)


def test_zero_denominator_and_bad_counts():
    est, lo, hi, flag = proportion_ci([0, 5, 3], [0, 4, 6])
    assert np.isnan(est[0]) and np.isnan(lo[0]) and flag[0] == "zero_denominator"
    assert np.isnan(est[1]) and flag[1] == "numerator_exceeds_denominator"
    assert est[2] == 0.5 and flag[2] == ""
    with pytest.raises(ValueError):
        proportion_ci([-1], [3])
    with pytest.raises(ValueError):
        proportion_ci([1], [3], method="wald")


def _counts():
    return pd.DataFrame({
        "community_id": ["c1", "c2", "c3", "c4", "c5", "c1", "c2", "c3", "c4", "c5"],
        "subdistrict_id": ["s1", "s1", "s2", "s3", "s3"] * 2,
        "district_id": ["d1", "d1", "d1", "d2", "d2"] * 2,
        "year": [2020] * 5 + [2021] * 5,
        "registered": [1, 9, 0, 0, 4, 2, 8, 1, 0, 5],
        "in_service": [2, 30, 0, 0, 10, 3, 30, 5, 0, 10],
        "units": [1, 1, 2, 0, 3, 1, 1, 2, 0, 3],
        "agreements": [0, 1, 1, 0, 2, 1, 1, 2, 0, 3],
    })


def test_rates_aggregate_before_dividing():
    df = _counts()
    r = rates(df, {"registration": ("registered", "in_service"), "agreements": ("agreements", "units")},
              by="district_id", method="jeffreys", level=0.9)
    assert list(r.columns[:1]) == ["district_id"]
    assert {"measure", "numerator", "denominator", "estimate", "ci_low", "ci_high", "method", "flag"} <= set(r.columns)
    d1 = r[(r.district_id == "d1") & (r.measure == "registration")].iloc[0]
    assert d1.numerator == 21 and d1.denominator == 70 and d1.estimate == pytest.approx(0.3)
    # not the mean of the community rates
    assert d1.estimate != pytest.approx(np.mean([1 / 2, 9 / 30, 2 / 3, 8 / 30, 1 / 5]))
    assert (r.method == "jeffreys").all() and len(r) == 4


def test_rates_zero_denominator_group_flagged():
    df = _counts()
    r = rates(df, ("registered", "in_service"), by=["community_id", "year"])
    c4 = r[r.community_id == "c4"]
    assert len(c4) == 2 and c4.estimate.isna().all() and (c4.flag == "zero_denominator").all()
    zero = (r.community_id == "c4") | ((r.community_id == "c3") & (r.year == 2020))
    assert (r[zero].flag == "zero_denominator").all()
    ok = r[~zero]
    assert ok.estimate.notna().all() and (ok.flag == "").all()


def test_rates_by_level():
    df = _counts()
    r = rates_by_level(df, {"registration": ("registered", "in_service")},
                       levels=["community_id", "subdistrict_id", "district_id"], also_by="year")
    assert set(r.level_name) == {"community_id", "subdistrict_id", "district_id", "city"}
    city = r[(r.level_name == "city") & (r.year == 2021)].iloc[0]
    assert city.numerator == 16 and city.denominator == 48
    s1 = r[(r.level_name == "subdistrict_id") & (r.unit_id == "s1") & (r.year == 2020)].iloc[0]
    assert s1.numerator == 10 and s1.denominator == 32
