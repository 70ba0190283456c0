"""The one number formatter (helpers.publish.fmt): the rules a careful author follows."""
from __future__ import annotations

import math

import pytest

from helpers.publish import fmt


@pytest.mark.parametrize("se, digits", [(0.79, 1), (2.17, 1), (0.0085, 3), (0.31, 1), (12.0, 0), (150.0, 0),
                                        (0.00001, 4), (0.15, 2)])
def test_digits_follow_the_standard_error(se, digits):
    assert fmt.digits_for(se) == digits


def test_numbers_counts_and_percentages():
    assert fmt.count(11244) == "11,244" and fmt.count(6194.0) == "6,194"
    assert fmt.number(3621074.34, 0) == "3,621,074" and fmt.number(-0.0001, 2) == "0.00"
    assert fmt.number(-1.5, 1) == "−1.5"
    assert fmt.percent(0.5834) == "58.3%" and fmt.points(0.042) == "4.2 points"
    assert fmt.number(float("nan")) == fmt.MISSING and fmt.percent(None) == fmt.MISSING
    assert "e" not in fmt.number(1.124e4) and fmt.number(1.124e4, 0) == "11,240"


def test_intervals_and_degenerate_intervals():
    assert fmt.interval(1.2099, 1.1932, 1.2266) == "1.210 (1.193 to 1.227)"
    assert fmt.interval(0.583, 0.567, 0.598, scale=100, unit="%", digits=1) == "58.3% (56.7 to 59.8)"
    assert fmt.interval(1.0, 1.0, 1.0, scale=100, digits=1) == "100.0" + fmt.DEGENERATE_NOTE[0]
    assert fmt.interval(7.93, None, None) == "7.93"


def test_p_values_and_words():
    assert fmt.pvalue(2.063e-15) == "< 0.001" and fmt.pvalue(0.0421) == "0.042" and fmt.pvalue(0.452) == "0.45"
    assert fmt.pvalue(math.nan) == fmt.MISSING
    assert fmt.yes_no(True) == "yes" and fmt.yes_no(False) == "no"
    assert [fmt.ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
    assert fmt.share_or_count(12, 100) == "12 of 100 (12.0%)"


def test_column_digits_use_the_median_standard_error():
    assert fmt.column_digits([0.8, 0.9, 5.0]) == 1
    assert fmt.column_digits([], [1833.0, 1830.0]) == 0


def test_a_bound_of_an_interval_that_excludes_zero_never_prints_as_zero():
    from helpers.publish import fmt

    assert fmt.interval(-0.22, -0.44, -0.004, digits=2) == "−0.22 (−0.44 to −0.004)"
    assert fmt.interval(-10, -21, -0.3, digits=0) == "−10 (−21 to −0.3)"
    assert fmt.interval(0.5, -0.001, 1.0, digits=2) == "0.50 (0.00 to 1.00)"  # spans zero: as it was
    assert fmt.interval(0.3, 0.2, 0.4, digits=1) == "0.3 (0.2 to 0.4)"


def test_one_rule_digits_come_from_the_interval_width_not_a_separate_se():
    # 19.3 (12.8 to 25.7): width 12.9 implies se 3.29, whose first digit is 3 -> no decimals, whatever se
    # a caller holds (a t interval on few degrees of freedom is wider than 1.96 se)
    assert fmt.estimate_digits(19.3, 12.8, 25.7) == 0
    assert fmt.interval(19.3, 12.8, 25.7) == "19 (13 to 26)"
    assert fmt.interval(19.3, 12.8, 25.7, se=2.4) == "19 (13 to 26)"
    # width 5.8 implies se 1.48 (first digit 1 -> one further): one decimal
    assert fmt.estimate_digits(0.373, 0.345, 0.403, scale=100, unit="%") == 1
    assert fmt.interval(0.373, 0.345, 0.403, scale=100, unit="%") == "37.3% (34.5 to 40.3)"
    # the level of the interval sets the implied standard error: a 50% interval of the same width is
    # about three times as precise
    assert fmt.estimate_digits(1.0, 0.9, 1.1) == 2 and fmt.estimate_digits(1.0, 0.9, 1.1, level=0.5) == 1 + 1


@pytest.mark.parametrize("args, kwargs, digits", [
    ((0.0208,), {}, 3),                              # no interval, no se: three significant digits, 3 decimals at most
    ((12.0,), {}, 0),                                # a whole number: none
    ((0.00208,), {"se": 0.0004}, 4),                 # no interval: the se (not capped at three)
    ((0.0208, None, 0.03), {"se": 0.004}, 3),        # half an interval is no interval
    ((0.633, 0.629, 0.637), {"scale": 100, "unit": "%"}, 1),   # percentages: one decimal at most
    ((0.633, 0.629, 0.637), {"scale": 100}, 2),      # the same numbers not as a percentage
    ((1.0, 1.0, 1.0), {"scale": 100, "unit": "%"}, 0),         # a collapsed interval: the estimate's own
])
def test_estimate_digits_cases(args, kwargs, digits):
    assert fmt.estimate_digits(*args, **kwargs) == digits


def test_percent_and_interval_agree_on_the_rule():
    share, lo, hi = 0.2674, 0.1612, 0.3735
    d = fmt.estimate_digits(share, lo, hi, scale=100, unit="%")
    assert d == 0 and fmt.percent(share, d) == "27%"
    assert fmt.interval(share, lo, hi, scale=100, unit="%") == "27% (16 to 37)"
    assert fmt.percent(0.5834, se=0.0004) == "58.3%"  # precise, but one decimal at most


def test_a_bare_value_has_one_rule():
    """digits_for without an SE and estimate_digits without an interval print a bare value alike."""
    from helpers.publish import fmt

    for x in (0.0855, 0.00123, 1.83, 12.5, 123.4, 0.5):
        assert fmt.digits_for(estimate=x) == fmt.estimate_digits(x), x
    assert fmt.number(0.0855, fmt.digits_for(estimate=0.0855)) == "0.086"
