"""Readers of a data folder's metadata and planted truth (helpers.data.truth): real data never yield a truth."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers.data import truth
from helpers.studies import claims

GT = {"synthetic": True, "effects": {"a": {"value": 1.5}, "b": {"value": {"0": 2.0, "1": 3.0}}, "c": 4}}


def test_truth_values_and_value_flatten_dict_valued_effects():
    assert truth.truth_values(GT) == {"a": 1.5, "b[0]": 2.0, "b[1]": 3.0, "c": 4.0}
    assert truth.truth_value(GT, "b[1]") == 3.0 and truth.truth_value(GT, "a") == 1.5
    assert truth.truth_value(GT, "b") is None and truth.truth_value(GT, "b[7]") is None
    assert truth.truth_value(GT, "nope") is None and truth.truth_value(None, "a") is None
    assert truth.truth_values(None) == {}


@pytest.mark.parametrize("synthetic", [True, False, None])
def test_readers_check_the_synthetic_flag(tmp_path, synthetic):
    if synthetic is not None:
        (tmp_path / "metadata.json").write_text(json.dumps({"synthetic": synthetic}))
    (tmp_path / "ground_truth.json").write_text(json.dumps(GT))
    (tmp_path / "truth_registration.csv").write_text("community_id,year,p_registered\nC1,2020,0.5\n")
    assert truth.is_synthetic(tmp_path) is bool(synthetic)
    if synthetic:
        assert truth.ground_truth(tmp_path)["effects"]["a"]["value"] == 1.5
        assert truth.truth_registration(tmp_path).loc[0, "p_registered"] == 0.5
    else:
        assert truth.ground_truth(tmp_path) is None and truth.truth_registration(tmp_path) is None
    assert truth.metadata(tmp_path) == ({} if synthetic is None else {"synthetic": synthetic})


def test_beside_truth_keeps_the_keys_the_truth_holds():
    rows = pd.DataFrame({"key": ["a", "b[0]", "zzz", ""], "estimate": [1.6, 2.5, 0.0, 9.0],
                         "ci_low": [1.0, 2.1, -1.0, 8.0], "ci_high": [2.0, 2.9, 1.0, 10.0]})
    t = claims.beside_truth(rows, GT)
    assert t["key"].tolist() == ["a", "b[0]"]
    assert t["error"].tolist() == pytest.approx([0.1, 0.5]) and t["covered"].tolist() == [True, False]
    assert claims.beside_truth(rows, None) is None
