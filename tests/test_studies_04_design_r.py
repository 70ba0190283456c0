"""The design-based fits of 04_drivers' survey claims against R's survey package, run live.

Every claim of the registry with a design-based specification (``Claim.design_based``) is fitted
by the registry (``Claim.fit_design_based``) on the shipped data's respondents, and R fits
``svyglm`` (or ``svyolr``) with the same formula, family and design (strata = district x year,
PSU = community, fpc, ``survey.lonely.psu = "adjust"``) on the same rows in one Rscript session.
The formula, family and design R uses are read from the registry, so a change there is checked
too.

Tolerances: relative 1e-8 for svyglm (R run to its fixed point with a deviance criterion it never
meets, as in tests/test_survey_models_r.py); 1e-7 for svyolr, as there: R maximises with optim's
BFGS (stopped by a relative change of the log-likelihood, here 1e-15; measured: 3e-8 of an SE on
one cut-point) and takes the Hessian as a central difference with step 1e-5. Coefficients and SEs are compared
relative to ``max(|R value|, R's SE)`` (a district dummy near 0 would make a purely relative
comparison meaningless).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers.data import concepts, load
from helpers.paths import DATA_DIR
from helpers.studies import claims

from _rhelpers import RTOL, run_r_snippets

pytestmark = [pytest.mark.r, pytest.mark.slow, pytest.mark.xdist_group("survey_r")]

OLR_RTOL = 1e-7
R_FAMILY = {"gaussian": "gaussian()", "quasibinomial": "quasibinomial()", "binomial": "binomial()",
            "poisson": "poisson()", "quasipoisson": "quasipoisson()"}
NAMES = [n for n, c in claims.CLAIMS.items() if c.design_based is not None]


def _r_formula(spec) -> str:
    f = re.sub(r"C\((\w+)\)", r"factor(\1)", spec.formula)
    if spec.family == "ordinal":
        lhs, rhs = f.split("~", 1)
        f = f"factor({lhs.strip()}) ~{rhs}"
    return f


@pytest.fixture(scope="module")
def tables():
    if not (DATA_DIR / "survey.csv").exists():
        pytest.skip("the shipped data have no survey table")
    return load.load_all(None, tables=["community_boundaries", "communities", "survey"])


@pytest.fixture(scope="module")
def compared(tables):
    """name -> (our design-based terms, R's estimate/se/df by position)."""
    d = concepts.SURVEY_DESIGN
    frames, jobs = {}, {}
    for n in NAMES:
        spec = claims.CLAIMS[n].design_based
        assert spec.design is d, f"{n}: the design-based fit must use the resident survey's design"
        frame = claims.CLAIMS[n].inputs(tables)[0]
        strata = spec.design["strata"]
        frame = frame.assign(stratum=frame[list(strata)].astype(str).agg("_".join, axis=1))
        frames[n] = frame
        design = (f"des <- svydesign(ids = ~{spec.design['psu']}, strata = ~stratum, weights = ~{spec.design['weight']}, "
                  f"fpc = ~{spec.design['fpc']}, data = dat, nest = TRUE)")
        if spec.family == "ordinal":
            fit = (f"f <- {_r_formula(spec)}\n"
                   "mf <- model.frame(f, model.frame(des))\n"
                   "np <- ncol(model.matrix(f, mf)) - 1 + nlevels(model.response(mf)) - 1\n"
                   "m <- svyolr(f, des, control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, np)))\n"
                   "df <- if (is.null(m$df.residual)) NA else m$df.residual")
        else:
            fit = (f"m <- svyglm({_r_formula(spec)}, des, family = {R_FAMILY[spec.family]}, "
                   "control = glm.control(epsilon = 1e-30, maxit = 60))\n"
                   "df <- m$df.residual")
        code = (f'options(survey.lonely.psu = "{spec.lonely_psu}")\n{design}\n{fit}\n'
                "result <- data.frame(estimate = unname(coef(m)), se = unname(sqrt(diag(vcov(m)))), df = df)")
        cols = sorted(set(frame.columns) & set(re.findall(r"\w+", spec.formula) + ["community_id", "stratum", "weight",
                                                                                   "n_psu_stratum"]))
        jobs[n] = {"code": code, "data": {"dat": frame[cols]}}
    ref = run_r_snippets(jobs)
    out = {}
    for n in NAMES:
        assert not isinstance(ref[n], str), f"R failed on {n}: {ref[n]}"
        fit = claims.CLAIMS[n].fit_design_based(tables)
        out[n] = (fit, ref[n])
    return out


@pytest.mark.parametrize("name", NAMES)
def test_design_based_claim_matches_r(compared, name):
    fit, r = compared[name]
    ours = fit.terms
    assert len(ours) == len(r), f"{name}: {len(ours)} terms, R {len(r)}"
    scale = np.maximum(np.abs(r["estimate"].to_numpy()), r["se"].to_numpy())
    err_est = np.abs(ours["estimate"].to_numpy() - r["estimate"].to_numpy()) / scale
    err_se = np.abs(ours["se"].to_numpy() - r["se"].to_numpy()) / r["se"].to_numpy()
    tol = OLR_RTOL if claims.CLAIMS[name].design_based.family == "ordinal" else RTOL
    print(f"{name}: worst relative difference from R, coefficients {err_est.max():.1e}, SEs {err_se.max():.1e}")
    assert err_est.max() < tol, f"{name}: coefficients differ from R by {err_est.max():.2e} of max(|coef|, SE)"
    assert err_se.max() < tol, f"{name}: SEs differ from R by {err_se.max():.2e}"
    if r["df"].notna().all():
        assert float(fit.df_residual) == float(r["df"].iloc[0])
    # the intervals are t intervals on the design's residual df
    from scipy import stats
    q = stats.t.ppf(0.975, fit.df_residual)
    np.testing.assert_allclose(ours["ci_high"], ours["estimate"] + q * ours["se"], rtol=1e-12)
