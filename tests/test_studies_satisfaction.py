"""The computations of 03_satisfaction that go beyond the survey library: each district minus the city
(checked against a linearisation written out by hand here, and against R's survey package live), the census
margins and the shift of district estimates under calibration."""
from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats.survey import SurveyDesign, rake
from helpers.studies import satisfaction as sat


def _sample(seed: int = 3, missing: bool = False) -> pd.DataFrame:
    """A stratified cluster sample: 4 districts (strata), 5-8 PSUs each from a population of 30, 6-15
    respondents per PSU, unequal weights, a district effect on y, and age band and sex."""
    rng = np.random.default_rng(seed)
    rows = []
    for h, eff in zip(["D1", "D2", "D3", "D4"], [0.0, 0.4, -0.3, 0.1]):
        for j in range(int(rng.integers(5, 9))):
            m = int(rng.integers(6, 16))
            u = rng.normal(0, 0.3)
            w = float(rng.uniform(50, 200))
            for _ in range(m):
                rows.append({"district_id": h, "community_id": f"{h}-P{j}", "n_psu_stratum": 30,
                             "weight": w * rng.uniform(0.8, 1.25), "y": 3 + eff + u + rng.normal(0, 1),
                             "age_band": rng.choice(["18-29", "30-44", "45-59", "60-74", "75+"]),
                             "sex": rng.choice(["female", "male"])})
    df = pd.DataFrame(rows)
    df["year"] = 2024
    if missing:
        df.loc[rng.random(len(df)) < 0.1, "y"] = np.nan
    return df


def _design(df: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(df, weight="weight", strata="district_id", psu="community_id", fpc="n_psu_stratum")


def _by_hand(df: pd.DataFrame, district: str) -> tuple[float, float, float]:
    """District mean minus the whole sample's mean and its Taylor standard error, written out: the linearised
    variable of the difference, u_i = w_i [1(i in d)(y_i - m_d)/W_d - (y_i - m)/W], summed per PSU, with the
    stratified between-PSU variance and the finite-population correction (Binder 1983; Lumley 2010, 2.3)."""
    d = df.dropna(subset=["y"])
    w, y = d["weight"].to_numpy(), d["y"].to_numpy()
    ind = (d["district_id"] == district).to_numpy()
    m, md = np.sum(w * y) / w.sum(), np.sum(w[ind] * y[ind]) / w[ind].sum()
    u = w * (ind * (y - md) / w[ind].sum() - (y - m) / w.sum())
    full = df.assign(u=0.0)
    full.loc[d.index, "u"] = u  # respondents without the item count as zeros in their PSU
    var = 0.0
    for _, g in full.groupby("district_id"):
        z = g.groupby("community_id")["u"].sum().to_numpy()
        n, big_n = len(z), float(g["n_psu_stratum"].iloc[0])
        var += (1 - n / big_n) * n / (n - 1) * np.sum((z - z.mean()) ** 2)
    return md - m, float(np.sqrt(var)), md


@pytest.mark.parametrize("missing", [False, True])
def test_district_contrasts_match_a_hand_linearisation(missing):
    df = _sample(missing=missing)
    c = sat.district_contrasts(_design(df), "y").set_index("district_id")
    n_df = df["community_id"].nunique() - df["district_id"].nunique()
    worst = 0.0
    for h in c.index:
        diff, se, md = _by_hand(df, h)
        row = c.loc[h]
        worst = max(worst, abs(row["difference"] - diff) / abs(diff), abs(row["se"] - se) / se)
        assert row["estimate"] == pytest.approx(md, rel=1e-12)
        assert row["estimate"] - row["city"] == pytest.approx(row["difference"], rel=1e-12)
        q = stats.t.ppf(0.975, n_df)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((diff - q * se, diff + q * se), rel=1e-10)
        assert row["p"] == pytest.approx(2 * stats.t.sf(abs(diff / se), n_df), rel=1e-8)
        assert row["n"] == df.loc[df["district_id"] == h, "y"].notna().sum()
    assert worst < 1e-10


def test_the_difference_is_not_the_sum_of_separate_variances():
    """The district is part of the city: the difference's variance is below var(d) + var(c)."""
    df = _sample(seed=5)
    d = _design(df)
    c = sat.district_contrasts(d, "y")
    sep = d.mean("y", by="district_id")
    city = d.mean("y")
    assert (c["se"].to_numpy() ** 2 < sep["se"].to_numpy() ** 2 + float(city["se"].iloc[0]) ** 2).all()


@pytest.mark.r
@pytest.mark.slow
def test_district_contrasts_match_r(tmp_path):
    """R: the domain means as ratios of domain totals (svyby(svytotal, covmat = TRUE)), the city as the ratio
    of their sums, and svycontrast of each district minus the city (delta method)."""
    from tests._rhelpers import rscript

    exe = rscript()
    df = _sample(seed=11, missing=True)
    df.assign(one=df["y"].notna().astype(float), y0=df["y"].fillna(0.0)).to_csv(tmp_path / "d.csv", index=False)
    code = f"""suppressMessages(library(survey))
dat <- read.csv("{tmp_path / 'd.csv'}")
d <- svydesign(ids = ~community_id, strata = ~district_id, weights = ~weight, fpc = ~n_psu_stratum, nest = TRUE,
               data = dat)
t <- svyby(~y0 + one, ~district_id, d, svytotal, covmat = TRUE)
ds <- sort(unique(dat$district_id))
all <- parse(text = paste0('(', paste0('`', ds, ':y0`', collapse = '+'), ')/(',
                          paste0('`', ds, ':one`', collapse = '+'), ')'))[[1]]
r <- svycontrast(t, sapply(ds, function(s) bquote(.(as.name(paste0(s, ':y0'))) / .(as.name(paste0(s, ':one'))) -
                                                   .(all)), simplify = FALSE))
write.csv(data.frame(district_id = ds, estimate = coef(r), se = SE(r)), "{tmp_path / 'r.csv'}", row.names = FALSE)
"""
    (tmp_path / "c.R").write_text(code)
    subprocess.run([exe, str(tmp_path / "c.R")], check=True, capture_output=True)
    r = pd.read_csv(tmp_path / "r.csv").set_index("district_id")
    ours = sat.district_contrasts(_design(df), "y").set_index("district_id").loc[r.index]
    np.testing.assert_allclose(ours["difference"], r["estimate"], rtol=1e-8)
    np.testing.assert_allclose(ours["se"], r["se"], rtol=1e-8)


def test_census_margins_sum_the_cells():
    pop = pd.DataFrame([{"district_id": d, "age_band": a, "sex": s, "residents": 100 * i + 7 * j + k}
                        for i, d in enumerate(["D1", "D2"]) for j, a in enumerate(["18-29", "30-44"])
                        for k, s in enumerate(["female", "male"])])
    by_age, by_sex = sat.census_margins(pop)
    assert by_age.set_index(["district_id", "age_band"])["residents"].to_dict() == {
        ("D1", "18-29"): 1, ("D1", "30-44"): 15, ("D2", "18-29"): 201, ("D2", "30-44"): 215}
    assert by_sex["residents"].sum() == by_age["residents"].sum() == pop["residents"].sum()
    only = sat.census_margins(pop, ["D2"])
    assert set(only[0]["district_id"]) == set(only[1]["district_id"]) == {"D2"}


def test_calibration_shift_moves_towards_the_census_mix():
    """The sample over-represents the old, who answer higher; raking to a younger census lowers the mean."""
    df = _sample(seed=9)
    old = df["age_band"].isin(["60-74", "75+"])
    df.loc[old, "y"] += 1.0
    bands = pd.Series({"18-29": 0.3, "30-44": 0.3, "45-59": 0.3, "60-74": 0.05, "75+": 0.05})
    pop = pd.DataFrame([{"district_id": d, "age_band": a, "sex": s, "residents": round(10000 * bands[a] / 2)}
                        for d in df["district_id"].unique() for a in bands.index for s in ("female", "male")])
    d = _design(df)
    cal = rake(d, sat.census_margins(pop))
    w = pd.Series(cal.weights, index=df.index)
    got = w.groupby([df["district_id"], df["age_band"]]).sum()
    want = sat.census_margins(pop)[0].set_index(["district_id", "age_band"])["residents"]
    # raking stops when no cell moves by a whole person between sweeps (R's rule): totals met to within a few
    np.testing.assert_allclose(got.loc[want.index], want, atol=1.0)
    shift = sat.calibration_shift(d, cal, "y")
    before = d.mean("y", by="district_id").set_index("district_id")
    after = cal.mean("y", by="district_id").set_index("district_id")
    s = shift.set_index("district_id")
    np.testing.assert_allclose(s["before"], before.loc[s.index, "estimate"], rtol=1e-12)
    np.testing.assert_allclose(s["after"], after.loc[s.index, "estimate"], rtol=1e-12)
    np.testing.assert_allclose(s["difference"], s["after"] - s["before"], rtol=1e-12)
    assert (s["difference"] < 0).all()


def test_per_ten_points_matches_a_regression_on_the_share_in_tens_of_points():
    """Restating a slope per 10 percentage points equals refitting with the share counted in tens of points."""
    import statsmodels.formula.api as smf

    from helpers.stats.models import tidy
    from helpers.studies import satisfaction as sat

    rng = np.random.default_rng(3)
    d = pd.DataFrame({"share": rng.uniform(0, 0.5, 200), "other": rng.normal(size=200)})
    d["y"] = 3 + 2.4 * d["share"] + 0.3 * d["other"] + rng.normal(0, 0.5, 200)
    per_unit = tidy(smf.ols("y ~ share + other", d).fit())
    tens = tidy(smf.ols("y ~ share10 + other", d.assign(share10=10 * d["share"])).fit()).set_index("term")
    got = sat.per_ten_points(per_unit, ["share"]).set_index("term")
    for col in ("estimate", "se", "ci_low", "ci_high"):
        assert got.loc["share", col] == pytest.approx(tens.loc["share10", col], rel=1e-9)
        assert got.loc["other", col] == pytest.approx(tens.loc["other", col], rel=1e-9)
    assert got.loc["share", "p"] == pytest.approx(tens.loc["share10", "p"], rel=1e-9)
    assert got.loc["share", "per"] == "10 percentage points" and got.loc["other", "per"] == ""
    assert per_unit.loc[per_unit["term"] == "share", "estimate"].iloc[0] == pytest.approx(
        10 * got.loc["share", "estimate"])  # the input is left alone
