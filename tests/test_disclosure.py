"""The one disclosure threshold and the suppression helper."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.publish import disclosure
from helpers.publish.disclosure import MIN_RESPONDENTS, suppress, suppression_label


def test_threshold_lives_here():
    assert MIN_RESPONDENTS == 10
    assert suppression_label() == "Suppressed (n < 10)"
    assert suppression_label(5) == "Suppressed (n < 5)"


def test_suppress_blanks_values_below_k_and_flags_them():
    df = pd.DataFrame({"unit": list("abcd"), "n": [3, 10, 25, np.nan], "p": [0.5, 0.6, 0.7, 0.8],
                       "se": [0.2, 0.1, 0.05, 0.04], "label": list("wxyz")})
    out = suppress(df, "n", ("p", "se"))
    assert out["suppressed"].tolist() == [True, False, False, True]
    assert out["p"].isna().tolist() == [True, False, False, True]
    assert out["se"].isna().tolist() == [True, False, False, True]
    assert out["label"].tolist() == list("wxyz")  # other columns untouched
    assert out.loc[0, "suppressed_reason"] == "n = 3 < 10"
    assert out.loc[1, "suppressed_reason"] == ""
    assert "missing" in out.loc[3, "suppressed_reason"]


def test_suppress_does_not_mutate_and_accepts_one_column_name():
    df = pd.DataFrame({"n": [1, 50], "v": [1, 2]})
    before = df.copy()
    out = suppress(df, value_cols="v", k=2)
    pd.testing.assert_frame_equal(df, before)
    assert out["v"].isna().tolist() == [True, False]  # int column became float to hold NaN


def test_suppress_flag_only_and_custom_k():
    df = pd.DataFrame({"n": [4, 5, 6]})
    out = suppress(df, k=5)
    assert out["suppressed"].tolist() == [True, False, False]


def test_suppress_errors():
    df = pd.DataFrame({"n": [1], "v": [1.0]})
    with pytest.raises(KeyError):
        suppress(df, "count", "v")
    with pytest.raises(KeyError):
        suppress(df, "n", "nope")
    with pytest.raises(ValueError):
        suppress(df, "n", "v", k=0)


def test_module_constant_is_the_default():
    import inspect

    assert inspect.signature(disclosure.suppress).parameters["k"].default == MIN_RESPONDENTS
