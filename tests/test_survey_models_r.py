"""svyglm, svyolr, svyby(covmat=TRUE), svycontrast, svychisq and svyttest against R's survey, run live.

One Rscript session (tests/r/survey_models_reference.R, started once by a module fixture)
evaluates every R expression below on its design; each test compares our numbers with R's.

Designs: the API samples shipped with R's survey package (apistrat: stratified with fpc;
apiclus1: one-stage cluster; apiclus2: two-stage with both fpcs and item nonresponse),
NHANES (``nhanes`` from survey: strata x 2 PSUs, no fpc, missing outcomes), apiclus1 with a
lonely PSU under ``adjust`` and ``average``, and the synthetic city's resident survey
(data/survey.csv, respondents; strata = district x year, PSU = community, fpc; skipped only
when the file is missing).

Tolerances: relative 1e-8 (``RTOL``) for everything whose R value is exact to rounding, with R's
iterative fits run to convergence (``glm.control(epsilon=1e-14)``; ``svyolr`` with ``optim``'s
``reltol=1e-15`` and a finite-difference step ``ndeps=1e-5`` for its Hessian). Two exceptions,
both from R's own numerical approximations and measured in the tests: svyolr SEs at
``OLR_RTOL`` (R's Hessian is a central difference of the gradient: error ~ndeps^2), and R's
default glm settings at ``DEFAULT_RTOL`` (its deviance criterion 1e-8 leaves ~1e-7 in
non-canonical links). Covariance entries are compared relative to ``sqrt(V_ii V_jj)``, interval
ends and coefficients relative to ``max(|value|, SE)``. R's fits with non-canonical links
(probit, sqrt) reach a fixed point whose Newton step is ~1e-9 of an SE, not 0 (R re-solves the
whole working regression each iteration, whose response ``(y - mu)/mu'`` is large): a
coefficient near 0 then differs by ~1e-8 of itself; ours has a score of ~1e-12
(statsmodels' GLM agrees with ours).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.paths import DATA_DIR
from helpers.stats.survey import SurveyDesign, svychisq, svycontrast, svyolr, svyttest

from _rhelpers import RTOL, api_data, rscript

pytestmark = [pytest.mark.r, pytest.mark.slow, pytest.mark.xdist_group("survey_r")]

R_SCRIPT = Path(__file__).resolve().parent / "r" / "survey_models_reference.R"
OLR_RTOL = 1e-7
DEFAULT_RTOL = 1e-5
# R's glm stops on the relative change of the deviance, which leaves ~sqrt(epsilon) in the
# coefficients and takes the final working weights from the previous iteration: a criterion it
# never meets makes it iterate to maxit, to the fixed point (it then warns of non-convergence)
TIGHT = "control = glm.control(epsilon = 1e-30, maxit = 60)"


# ---------------------------------------------------------------------- data and designs
def _api() -> dict[str, pd.DataFrame]:
    fr = {k: v.rename(columns=lambda c: c.replace(".", "_")) for k, v in api_data().items()}
    st = fr["apistrat"]
    st["hi"] = (st["api00"] > 700).astype(int)
    st["mealcat"] = np.select([st["meals"] <= 33, st["meals"] <= 66], ["a_low", "b_mid"], "c_high")
    c1 = fr["apiclus1"]
    c1["sch_wide01"] = (c1["sch_wide"] == "Yes").astype(int)
    c1["grp"] = np.where(c1["dnum"] == c1["dnum"].min(), "a", "b")  # stratum "a" has one PSU
    return fr


def _nhanes() -> pd.DataFrame:
    import rdata

    path = Path("/usr/lib/R/site-library/survey/data/nhanes.rda")
    if not path.exists():
        out = subprocess.run([rscript(), "-e", 'cat(system.file("data", "nhanes.rda", package="survey"))'],
                             capture_output=True, text=True, check=True).stdout.strip()
        path = Path(out)
    df = pd.DataFrame(rdata.read_rda(str(path))["nhanes"]).reset_index(drop=True)
    df["agecat"] = df["agecat"].astype(str)
    return df


def _synthetic() -> pd.DataFrame | None:
    if not (DATA_DIR / "survey.csv").exists():
        return None
    s = pd.read_csv(DATA_DIR / "survey.csv")
    s = s[s["responded"] == 1]
    com = pd.read_csv(DATA_DIR / "communities.csv")[["community_id", "migrant_share"]]
    s = s.merge(com, on="community_id", how="left", validate="many_to_one")
    wm = s["walk_minutes"]
    s = s.assign(within15=(wm <= 15).astype(float).where(wm.notna()),
                 band15_30=((wm > 15) & (wm <= 30)).astype(float).where(wm.notna()),
                 stratum=s["district_id"] + "_" + s["year"].astype(str))
    # R-side indicators of the item being present, for the district-minus-city reference
    s["aware0"] = s["aware_center"].fillna(0.0)
    s["aware_n"] = s["aware_center"].notna().astype(float)
    return s.reset_index(drop=True)


DESIGNS = {  # name: (R ids, strata, weights, fpc, lonely), and our SurveyDesign arguments
    "apistrat": (("1", "stype", "pw", "fpc", ""), dict(weight="pw", strata="stype", fpc="fpc")),
    "apiclus1": (("dnum", "", "pw", "fpc", ""), dict(weight="pw", psu="dnum", fpc="fpc")),
    "apiclus2": (("dnum + snum", "", "pw", "fpc1 + fpc2", ""),
                 dict(weight="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])),
    "nhanes": (("SDMVPSU", "SDMVSTRA", "WTMEC2YR", "", ""), dict(weight="WTMEC2YR", strata="SDMVSTRA", psu="SDMVPSU")),
    "lonely_adjust": (("dnum", "grp", "pw", "", "adjust"), dict(weight="pw", strata="grp", psu="dnum",
                                                                 lonely_psu="adjust")),
    "lonely_average": (("dnum", "grp", "pw", "", "average"), dict(weight="pw", strata="grp", psu="dnum",
                                                                   lonely_psu="average")),
    "synthetic": (("community_id", "stratum", "weight", "n_psu_stratum", ""),
                  dict(weight="weight", strata="stratum", psu="community_id", fpc="n_psu_stratum")),
}


def _frames() -> dict[str, pd.DataFrame]:
    api = _api()
    out = {"apistrat": api["apistrat"], "apiclus1": api["apiclus1"], "apiclus2": api["apiclus2"],
           "nhanes": _nhanes(), "lonely_adjust": api["apiclus1"], "lonely_average": api["apiclus1"]}
    syn = _synthetic()
    if syn is not None:
        out["synthetic"] = syn
    return out


# ---------------------------------------------------------------------- the R tasks
# glm: id -> (design, our formula, R formula, family, R family, our subset, R subset)
GLMS = {
    "strat_gauss": ("apistrat", "api00 ~ ell + meals + mobility + C(stype)", "api00 ~ ell + meals + mobility + stype",
                    "gaussian", "gaussian()", None, None),
    "strat_logit": ("apistrat", "hi ~ ell + meals + C(stype)", "hi ~ ell + meals + stype", "binomial",
                    "binomial()", None, None),
    "clus1_quasi": ("apiclus1", "sch_wide01 ~ ell + meals + mobility", "sch_wide01 ~ ell + meals + mobility",
                    "quasibinomial", "quasibinomial()", None, None),
    "clus1_domain": ("apiclus1", "sch_wide01 ~ ell + meals", "sch_wide01 ~ ell + meals", "quasibinomial",
                     "quasibinomial()", "stype != 'H'", 'stype != "H"'),
    "clus1_poisson": ("apiclus1", "enroll ~ ell + meals + C(stype)", "enroll ~ ell + meals + stype", "poisson",
                      "poisson()", None, None),
    "clus2_gauss": ("apiclus2", "api00 ~ ell + meals + mobility + C(stype)", "api00 ~ ell + meals + mobility + stype",
                    "gaussian", "gaussian()", None, None),
    "clus2_domain": ("apiclus2", "api00 ~ ell + meals", "api00 ~ ell + meals", "gaussian", "gaussian()",
                     "stype == 'E'", 'stype == "E"'),
    "nhanes_logit": ("nhanes", "HI_CHOL ~ C(race) + agecat + RIAGENDR", "HI_CHOL ~ factor(race) + agecat + RIAGENDR",
                     "quasibinomial", "quasibinomial()", None, None),
    "nhanes_probit": ("nhanes", "HI_CHOL ~ race + agecat + RIAGENDR", "HI_CHOL ~ race + agecat + RIAGENDR",
                      "binomial", "binomial(link = 'probit')", None, None),
    "nhanes_domain": ("nhanes", "HI_CHOL ~ race + RIAGENDR", "HI_CHOL ~ race + RIAGENDR", "quasipoisson",
                      "quasipoisson()", "agecat == '(39,59]'", 'agecat == "(39,59]"'),
    "nhanes_cloglog": ("nhanes", "HI_CHOL ~ race + agecat", "HI_CHOL ~ race + agecat", "binomial",
                       "binomial(link = 'cloglog')", None, None),
    "nhanes_cauchit": ("nhanes", "HI_CHOL ~ race + RIAGENDR", "HI_CHOL ~ race + RIAGENDR", "binomial",
                       "binomial(link = 'cauchit')", None, None),
    "strat_gauss_log": ("apistrat", "api00 ~ ell + meals", "api00 ~ ell + meals", "gaussian",
                        "gaussian(link = 'log')", None, None),
    "clus1_poisson_sqrt": ("apiclus1", "enroll ~ ell + meals", "enroll ~ ell + meals", "poisson",
                           "poisson(link = 'sqrt')", None, None),
    "lonely_adjust": ("lonely_adjust", "api00 ~ ell + meals", "api00 ~ ell + meals", "gaussian", "gaussian()", None,
                      None),
    "lonely_average": ("lonely_average", "sch_wide01 ~ ell + meals", "sch_wide01 ~ ell + meals", "binomial",
                       "binomial()", None, None),
    "strat_formulaic": ("apistrat", "api00 ~ ell * meals + np.log(enroll) + C(stype)",
                        "api00 ~ ell * meals + log(enroll) + stype", "gaussian", "gaussian()", None, None),
    "syn_aware": ("synthetic", "aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                  "aware_center ~ within15 + band15_30 + migrant_share + district_id", "quasibinomial",
                  "quasibinomial()", None, None),
    "syn_aware_2024": ("synthetic", "aware_center ~ within15 + band15_30 + migrant_share",
                       "aware_center ~ within15 + band15_30 + migrant_share", "binomial", "binomial()",
                       "year == 2024", "year == 2024"),
    "syn_sat": ("synthetic", "sat_score ~ participated + aware_center + within15 + C(sex)",
                "sat_score ~ participated + aware_center + within15 + sex", "gaussian", "gaussian()", None, None),
}
#: fits also run with R's default glm.control, compared at DEFAULT_RTOL
DEFAULT_CONTROL = ("nhanes_probit", "strat_logit")

# svyolr: id -> (design, our formula, R formula, method, our subset, R subset)
OLRS = {
    "olr_strat": ("apistrat", "mealcat ~ avg_ed + C(stype)", "factor(mealcat) ~ avg_ed + stype", "logistic", None, None),
    "olr_strat_probit": ("apistrat", "mealcat ~ avg_ed + C(stype)", "factor(mealcat) ~ avg_ed + stype", "probit",
                         None, None),
    "olr_strat_cloglog": ("apistrat", "mealcat ~ avg_ed + C(stype)", "factor(mealcat) ~ avg_ed + stype", "cloglog",
                          None, None),
    "olr_nhanes": ("nhanes", "agecat ~ HI_CHOL + RIAGENDR", "factor(agecat) ~ HI_CHOL + RIAGENDR", "logistic",
                   "race != 1", "race != 1"),
    "olr_syn": ("synthetic", "sat_service ~ within15 + aware_center", "factor(sat_service) ~ within15 + aware_center",
                "logistic", "year == 2024", "year == 2024"),
}

# predictions: id -> (glm id, type); newdata = the first 12 rows of the design's data
PREDS = {"pred_strat_logit_link": ("strat_logit", "link"), "pred_strat_logit_resp": ("strat_logit", "response"),
         "pred_clus2_gauss": ("clus2_gauss", "response"), "pred_nhanes_probit": ("nhanes_probit", "response")}


def _r_design(subset_r):
    return "d" if subset_r is None else f"subset(d, {subset_r})"


def _tasks(frames) -> list[dict]:
    t = []
    for gid, (des, _f, rf, _fam, rfam, _s, rs) in GLMS.items():
        if des not in frames:
            continue
        t.append(dict(id=gid, design=des, kind="glm",
                      expr=f"svyglm({rf}, {_r_design(rs)}, family = {rfam}, {TIGHT})"))
        if gid in DEFAULT_CONTROL:
            t.append(dict(id=gid + "_default", design=des, kind="glm", expr=f"svyglm({rf}, {_r_design(rs)}, family = {rfam})"))
    for pid, (gid, typ) in PREDS.items():
        des, _f, rf, _fam, rfam, _s, rs = GLMS[gid]
        t.append(dict(id=pid, design=des, kind="pred",
                      expr=f"predict(svyglm({rf}, {_r_design(rs)}, family = {rfam}, {TIGHT}), "
                           f"newdata = dat[1:12, ], type = '{typ}')"))
    for oid, (des, _f, rf, method, _s, rs) in OLRS.items():
        if des not in frames:
            continue
        t.append(dict(id=oid, design=des, kind="olr", expr=f"olr_tight({rf}, {_r_design(rs)}, method = '{method}')"))
    # covariances across domains (svyby covmat=TRUE) and contrasts
    t += [
        dict(id="by_clus1_mean", design="apiclus1", kind="stat", expr="svyby(~api00, ~stype, d, svymean, covmat = TRUE)"),
        dict(id="by_strat_mean2", design="apistrat", kind="stat",
             expr="svyby(~api00 + api99, ~awards, d, svymean, covmat = TRUE)"),
        dict(id="by_clus1_total", design="apiclus1", kind="stat",
             expr="svyby(~enroll, ~stype, d, svytotal, covmat = TRUE)"),
        dict(id="by_clus1_ratio", design="apiclus1", kind="stat",
             expr="svyby(~api00, ~stype, d, svyratio, denominator = ~api99, covmat = TRUE)"),
        dict(id="by_clus2_mean", design="apiclus2", kind="stat", expr="svyby(~api00, ~stype, d, svymean, covmat = TRUE)"),
        dict(id="by_nhanes_mean", design="nhanes", kind="stat",
             expr="svyby(~RIAGENDR, ~agecat, d, svymean, covmat = TRUE)"),
        dict(id="by_lonely_adjust", design="lonely_adjust", kind="stat",
             expr="svyby(~api00, ~stype, d, svymean, covmat = TRUE)"),
        dict(id="con_pairs", design="apiclus1", kind="stat",
             expr="svycontrast(svyby(~api00, ~stype, d, svymean, covmat = TRUE), "
                  "list('E - H' = c(E = 1, H = -1), 'E - M' = c(E = 1, M = -1), 'H - M' = c(H = 1, M = -1)))"),
        dict(id="con_logratio", design="apiclus1", kind="stat",
             expr="svycontrast(svyby(~api00, ~stype, d, svymean, covmat = TRUE), quote(log(E / H)))"),
        dict(id="con_quote", design="apistrat", kind="stat",
             expr="svycontrast(svymean(~api00 + api99, d), list(diff = quote(api00 - api99), "
                  "ratio = quote(api00 / api99), lr = quote(log(api00 / api99)), sq = quote(sqrt(api00) * api99^2)))"),
        dict(id="con_glm", design="apistrat", kind="stat",
             expr=f"svycontrast(svyglm(hi ~ ell + meals + stype, d, family = binomial(), {TIGHT}), "
                  "list(lin = c(ell = 1, meals = -1)))"),
        dict(id="con_glm_nl", design="apistrat", kind="stat",
             expr=f"svycontrast(svyglm(hi ~ ell + meals + stype, d, family = binomial(), {TIGHT}), "
                  "list(odds = quote(exp(ell - meals))))"),
        # domain minus population: the means as ratios of domain totals (no one-call R counterpart)
        dict(id="city_clus1", design="apiclus1", kind="stat",
             expr="local({d <- update(d, one = 1); t <- svyby(~api00 + one, ~stype, d, svytotal, covmat = TRUE); "
                  "all <- quote((`E:api00` + `H:api00` + `M:api00`) / (`E:one` + `H:one` + `M:one`)); "
                  "svycontrast(t, sapply(c('E', 'H', 'M'), function(s) bquote(.(as.name(paste0(s, ':api00'))) / "
                  ".(as.name(paste0(s, ':one'))) - .(all)), simplify = FALSE))})"),
        dict(id="htest_t2", design="apiclus1", kind="htest", expr="svyttest(api00 ~ comp_imp, d)"),
        dict(id="htest_t1", design="apiclus1", kind="htest", expr="svyttest(I(api00 - 600) ~ 0, d)"),
        dict(id="htest_t_nhanes", design="nhanes", kind="htest", expr="svyttest(HI_CHOL ~ RIAGENDR, d)"),
        dict(id="htest_t_strat_dom", design="apistrat", kind="htest",
             expr="svyttest(api00 ~ sch_wide, subset(d, stype != 'E'))"),
    ]
    for s in ("F", "Chisq", "Wald", "adjWald"):
        t.append(dict(id=f"chisq_clus1_{s}", design="apiclus1", kind="htest",
                      expr=f"svychisq(~sch_wide + stype, d, statistic = '{s}')"))
        t.append(dict(id=f"chisq_nhanes_{s}", design="nhanes", kind="htest",
                      expr=f"svychisq(~agecat + race, d, statistic = '{s}')"))
    t.append(dict(id="chisq_clus2_F", design="apiclus2", kind="htest", expr="svychisq(~stype + awards, d)"))
    t.append(dict(id="chisq_strat_dom", design="apistrat", kind="htest",
                  expr="svychisq(~awards + sch_wide, subset(d, stype != 'E'), statistic = 'F')"))
    if "synthetic" in frames:
        years = sorted(frames["synthetic"]["year"].unique())
        last = years[-1]
        t += [
            dict(id="syn_by_district", design="synthetic", kind="stat",
                 expr=f"svyby(~walk_minutes, ~district_id, subset(d, year == {last}), svymean, covmat = TRUE)"),
            dict(id="syn_city", design="synthetic", kind="stat",
                 expr=f"local({{dd <- subset(d, year == {last}); t <- svyby(~aware0 + aware_n, ~district_id, dd, "
                      "svytotal, covmat = TRUE); ds <- sort(unique(dd$variables$district_id)); "
                      "all <- parse(text = paste0('(', paste0('`', ds, ':aware0`', collapse = '+'), ')/(', "
                      "paste0('`', ds, ':aware_n`', collapse = '+'), ')'))[[1]]; "
                      "svycontrast(t, sapply(ds, function(s) bquote(.(as.name(paste0(s, ':aware0'))) / "
                      ".(as.name(paste0(s, ':aware_n'))) - .(all)), simplify = FALSE))})"),
            dict(id="syn_chisq_F", design="synthetic", kind="htest", expr="svychisq(~sex + aware_center, d)"),
            dict(id="syn_chisq_Chisq", design="synthetic", kind="htest",
                 expr="svychisq(~sex + sat_overall, d, statistic = 'Chisq')"),
            dict(id="syn_ttest", design="synthetic", kind="htest",
                 expr=f"svyttest(sat_score ~ migrant, subset(d, year == {last}))"),
        ]
    return [x for x in t if x["design"] in frames]


def _run_r(frames, tasks) -> dict[str, dict[str, str]]:
    exe = rscript()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, df in frames.items():
            path = os.path.join(tmp, f"{name}.csv")
            df.to_csv(path, index=False, float_format="%.17g")
            (ids, strata, weights, fpc, lonely), _ = DESIGNS[name]
            rows.append(dict(name=name, data=path, ids=ids, strata=strata, weights=weights, fpc=fpc, lonely=lonely))
        pd.DataFrame(rows).to_csv(os.path.join(tmp, "designs.csv"), index=False)
        pd.DataFrame(tasks).to_csv(os.path.join(tmp, "tasks.csv"), index=False)
        out = os.path.join(tmp, "out.csv")
        res = subprocess.run([exe, str(R_SCRIPT), os.path.join(tmp, "designs.csv"), os.path.join(tmp, "tasks.csv"),
                              out], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"R failed:\n{res.stderr[-3000:]}")
        tab = pd.read_csv(out, dtype=str, keep_default_na=False)
    ref: dict[str, dict[str, str]] = {}
    for r in tab.itertuples(index=False):
        ref.setdefault(r.id, {})[r.key] = r.value
    return ref


@pytest.fixture(scope="module")
def env():
    frames = _frames()
    tasks = _tasks(frames)
    ref = _run_r(frames, tasks)
    designs = {name: SurveyDesign(df, **DESIGNS[name][1]) for name, df in frames.items()}
    return frames, designs, ref


# ---------------------------------------------------------------------- comparison helpers
WORST: dict[str, float] = {}


def _ref(env, tid) -> dict[str, float]:
    _, _, ref = env
    if tid not in ref:
        pytest.skip(f"{tid}: design not available")
    r = ref[tid]
    if "error" in r:
        raise AssertionError(f"R failed on {tid}: {r['error']}")
    return {k: float(v) for k, v in r.items()}


def _close(what, ours, theirs, rtol=RTOL, scale=None):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN pattern")
    m = ~np.isnan(theirs)
    s = np.abs(theirs[m]) if scale is None else np.asarray(scale, dtype=float)[m]
    rel = np.abs(ours[m] - theirs[m]) / np.maximum(s, 1e-300)
    worst = float(rel.max()) if rel.size else 0.0
    WORST[what.split(" ")[0]] = max(WORST.get(what.split(" ")[0], 0.0), worst)
    assert worst <= rtol, f"{what}: max relative difference {worst:.3g} > {rtol:g}\nours   {ours[m]}\nR      {theirs[m]}"
    return worst


def _vcov_scale(V):
    d = np.sqrt(np.abs(np.diag(V)))
    return np.outer(d, d)


def _check_fit(r, fit, tid, rtol=RTOL, full=True):
    p = len(fit.coef)
    assert sum(k.startswith("coef:") for k in r) == p, f"{tid}: R has a different number of coefficients"
    coef = np.array([r[f"coef:{i + 1}"] for i in range(p)])
    V = np.array([[r[f"vcov:{i + 1}:{j + 1}"] for j in range(p)] for i in range(p)])
    _close(f"{tid} coef", fit.coef, coef, rtol, scale=np.maximum(np.abs(coef), np.sqrt(np.diag(V))))
    _close(f"{tid} vcov", fit.vcov.to_numpy(), V, rtol, scale=_vcov_scale(V))
    if full:
        _close(f"{tid} se", fit.terms["se"], [r[f"se:{i + 1}"] for i in range(p)], rtol)
        # interval ends relative to max(|end|, SE): an end near 0 is a difference of two larger numbers
        se = np.array([r[f"se:{i + 1}"] for i in range(p)])
        for end in ("ci_low", "ci_high"):
            theirs = np.array([r[f"{end}:{i + 1}"] for i in range(p)])
            _close(f"{tid} {end}", fit.terms[end], theirs, rtol, scale=np.maximum(np.abs(theirs), se))
        # p-values: compared where R gives more than 1e-250 (the t tails of scipy and R then agree)
        pr = np.array([r[f"p:{i + 1}"] for i in range(p)])
        big = pr > 1e-250
        _close(f"{tid} p", fit.terms["p"].to_numpy()[big], pr[big], max(rtol, 1e-7))
        assert fit.df_residual == r["df"]
        assert (fit.terms["df"] == r["df"]).all()


def _fit_glm(env, gid):
    _, designs, _ = env
    des, f, _rf, fam, rfam, sub, _rs = GLMS[gid]
    link = rfam.split("'")[1] if "link" in rfam else None
    return designs[des].glm(f, family=fam, link=link, subset=sub)


# ---------------------------------------------------------------------- svyglm
@pytest.mark.parametrize("gid", list(GLMS))
def test_svyglm(env, gid):
    r = _ref(env, gid)
    fit = _fit_glm(env, gid)
    _check_fit(r, fit, gid)
    _close(f"{gid} deviance", [fit.deviance], [r["deviance"]])


def test_r_comparisons_cover_both_scoring_paths(env):
    """Fits with only discrete regressors are scored on their distinct patterns, the others on
    the rows: the comparisons above check both against R."""
    compressed = {g for g in GLMS if _fit_glm(env, g)._patterns is not None}
    assert {"nhanes_logit", "nhanes_probit", "nhanes_domain", "nhanes_cloglog"} <= compressed
    assert {"strat_gauss", "clus1_quasi", "clus2_gauss", "strat_formulaic"}.isdisjoint(compressed)


@pytest.mark.parametrize("gid", DEFAULT_CONTROL)
def test_svyglm_against_r_default_convergence(env, gid):
    """R's default glm.control stops at a relative deviance change of 1e-8: its coefficients carry
    ~1e-7 of error for a probit (Fisher scoring converges linearly), so the agreement is looser."""
    r = _ref(env, gid + "_default")
    fit = _fit_glm(env, gid)
    _check_fit(r, fit, gid + "_default", rtol=DEFAULT_RTOL, full=False)


@pytest.mark.parametrize("pid", list(PREDS))
def test_predict(env, pid):
    frames, _, _ = env
    gid, typ = PREDS[pid]
    r = _ref(env, pid)
    fit = _fit_glm(env, gid)
    des = GLMS[gid][0]
    pr = fit.predict(frames[des].iloc[:12], type=typ)
    n = len(pr)
    _close(f"{pid} fit", pr["estimate"], [r[f"fit:{i + 1}"] for i in range(n)])
    _close(f"{pid} se", pr["se"], [r[f"se:{i + 1}"] for i in range(n)])


# ---------------------------------------------------------------------- svyolr
@pytest.mark.parametrize("oid", list(OLRS))
def test_svyolr(env, oid):
    _, designs, _ = env
    r = _ref(env, oid)
    des, f, _rf, method, sub, _rs = OLRS[oid]
    fit = svyolr(designs[des], f, method=method, subset=sub)
    p = len(fit.coef)
    coef = np.array([r[f"coef:{i + 1}"] for i in range(p)])
    V = np.array([[r[f"vcov:{i + 1}:{j + 1}"] for j in range(p)] for i in range(p)])
    _close(f"{oid} coef", fit.coef, coef, OLR_RTOL)
    _close(f"{oid} vcov", fit.vcov.to_numpy(), V, OLR_RTOL, scale=_vcov_scale(V))
    assert fit.df_residual == r["df"]


# ---------------------------------------------------------------------- covariances across domains, contrasts
def _check_stat(r, names, est, V, tid, rtol=RTOL):
    rn = [k[5:] for k in r if k.startswith("coef:")]
    assert sorted(rn) == sorted(names), f"{tid}: names {names} vs R {rn}"
    theirs = np.array([r[f"coef:{n}"] for n in names])
    RV = np.array([[r[f"vcov:{a}:{b}"] for b in names] for a in names])
    _close(f"{tid} estimate", est, theirs, rtol)
    _close(f"{tid} vcov", V, RV, rtol, scale=_vcov_scale(RV))


BYS = {  # id -> (design, kind, variables, by, denominator)
    "by_clus1_mean": ("apiclus1", "mean", "api00", "stype", None),
    "by_strat_mean2": ("apistrat", "mean", ["api00", "api99"], "awards", None),
    "by_clus1_total": ("apiclus1", "total", "enroll", "stype", None),
    "by_clus1_ratio": ("apiclus1", "ratio", "api00", "stype", "api99"),
    "by_clus2_mean": ("apiclus2", "mean", "api00", "stype", None),
    "by_nhanes_mean": ("nhanes", "mean", "RIAGENDR", "agecat", None),
    "by_lonely_adjust": ("lonely_adjust", "mean", "api00", "stype", None),
}


@pytest.mark.parametrize("bid", list(BYS))
def test_covariance_across_domains(env, bid):
    _, designs, _ = env
    r = _ref(env, bid)
    des, kind, var, by, den = BYS[bid]
    d = designs[des]
    est = d.ratio(var, den, by=by, covmat=True) if kind == "ratio" else getattr(d, kind)(var, by=by, covmat=True)
    _check_stat(r, list(est.estimate.index), est.estimate, est.vcov.to_numpy(), bid)
    # the domain rows of the frame are the ordinary estimator's
    plain = d.ratio(var, den, by=by) if kind == "ratio" else getattr(d, kind)(var, by=by)
    np.testing.assert_allclose(est.frame["estimate"], plain["estimate"], rtol=1e-14)


def test_synthetic_covariance_across_districts(env):
    frames, _, _ = env
    r = _ref(env, "syn_by_district")
    last = frames["synthetic"]["year"].max()
    d = SurveyDesign(frames["synthetic"][frames["synthetic"]["year"] == last], **DESIGNS["synthetic"][1])
    est = d.mean("walk_minutes", by="district_id", covmat=True)
    _check_stat(r, list(est.estimate.index), est.estimate, est.vcov.to_numpy(), "syn_by_district")


def _contrast_ref(r):
    names = [k[5:] for k in r if k.startswith("coef:")]
    return names, np.array([r[f"coef:{n}"] for n in names]), np.sqrt([r[f"vcov:{n}:{n}"] for n in names])


def test_contrasts_between_domains(env):
    _, designs, _ = env
    est = designs["apiclus1"].mean("api00", by="stype", covmat=True)
    names, e, se = _contrast_ref(_ref(env, "con_pairs"))
    ours = est.pairwise(df=np.inf).set_index("term").loc[names]
    _close("contrast pairs estimate", ours["estimate"], e)
    _close("contrast pairs se", ours["se"], se)
    # R's confint() of a svycontrast: normal quantile
    np.testing.assert_allclose(ours["ci_low"], e - 1.959963984540054 * se, rtol=1e-12)
    names, e, se = _contrast_ref(_ref(env, "con_logratio"))
    ours = svycontrast(est, "log(E / H)")
    _close("contrast logratio estimate", ours["estimate"], e)
    _close("contrast logratio se", ours["se"], se)


def test_nonlinear_contrasts_of_means(env):
    _, designs, _ = env
    m = designs["apistrat"].mean(["api00", "api99"], covmat=True)
    names, e, se = _contrast_ref(_ref(env, "con_quote"))
    ours = svycontrast(m, {"diff": "api00 - api99", "ratio": "api00 / api99", "lr": "log(api00 / api99)",
                           "sq": "sqrt(api00) * api99^2"}).set_index("term").loc[names]
    _close("contrast quote estimate", ours["estimate"], e)
    _close("contrast quote se", ours["se"], se)
    # a callable gives the same (gradient by complex step)
    c = svycontrast(m, lambda t: np.log(t["api00"] / t["api99"]))
    _close("contrast callable se", c["se"], [se[names.index("lr")]])


def test_contrasts_of_glm_coefficients(env):
    r = dict(_ref(env, "con_glm"))
    r.update(_ref(env, "con_glm_nl"))
    names, e, se = _contrast_ref({k: v for k, v in r.items() if k.count(":") == 1 or k.split(":")[1] == k.split(":")[2]})
    fit = _fit_glm(env, "strat_logit")
    ours = fit.contrast({"lin": {"ell": 1, "meals": -1}, "odds": "exp(ell - meals)"}).set_index("term").loc[names]
    _close("contrast glm estimate", ours["estimate"], e)
    _close("contrast glm se", ours["se"], se)
    # df of a model's contrast: its residual df
    assert (ours["df"] == fit.df_residual).all()


def test_domain_minus_population(env):
    """E, H, M minus the whole population: ours from the joint influence functions, R's as the
    delta method on the domain totals of y and of 1 (svyby(svytotal, covmat=TRUE) + svycontrast)."""
    _, designs, _ = env
    names, e, se = _contrast_ref(_ref(env, "city_clus1"))
    est = designs["apiclus1"].mean("api00", by="stype", covmat=True, overall=True)
    ours = est.difference_from("(all)").set_index("stype").loc[names]
    _close("city estimate", ours["estimate"], e)
    _close("city se", ours["se"], se)


def test_synthetic_district_minus_city(env):
    frames, _, _ = env
    names, e, se = _contrast_ref(_ref(env, "syn_city"))
    last = frames["synthetic"]["year"].max()
    sub = frames["synthetic"][frames["synthetic"]["year"] == last]
    d = SurveyDesign(sub, **DESIGNS["synthetic"][1])  # R: subset(d, year == last) of a design whose strata are years
    est = d.mean("aware_center", by="district_id", covmat=True, overall=True)  # aware_center has missing values
    ours = est.difference_from("(all)").set_index("district_id").loc[names]
    _close("syn city estimate", ours["estimate"], e)
    _close("syn city se", ours["se"], se)


# ---------------------------------------------------------------------- tests of independence, t-tests
def _check_htest(r, res, tid, param_keys):
    _close(f"{tid} statistic", [res.statistic], [r["statistic"]])
    _close(f"{tid} p", [res.p], [r["p"]])
    for ours, key in param_keys:
        _close(f"{tid} {key}", [ours], [r[key]])


@pytest.mark.parametrize("stat", ["F", "Chisq", "Wald", "adjWald"])
@pytest.mark.parametrize("des,a,b", [("apiclus1", "sch_wide", "stype"), ("nhanes", "agecat", "race")])
def test_svychisq(env, stat, des, a, b):
    _, designs, _ = env
    tid = f"chisq_{'clus1' if des == 'apiclus1' else 'nhanes'}_{stat}"
    r = _ref(env, tid)
    res = svychisq(designs[des], a, b, statistic=stat)
    keys = [(res.ndf, "parameter:df")] if stat == "Chisq" else [(res.ndf, "parameter:ndf"), (res.ddf, "parameter:ddf")]
    _check_htest(r, res, tid, keys)


def test_svychisq_two_stage_and_domain(env):
    _, designs, _ = env
    r = _ref(env, "chisq_clus2_F")
    res = svychisq(designs["apiclus2"], "stype", "awards")
    _check_htest(r, res, "chisq_clus2_F", [(res.ndf, "parameter:ndf"), (res.ddf, "parameter:ddf")])
    r = _ref(env, "chisq_strat_dom")
    res = svychisq(designs["apistrat"], "awards", "sch_wide", subset="stype != 'E'")
    _check_htest(r, res, "chisq_strat_dom", [(res.ndf, "parameter:ndf"), (res.ddf, "parameter:ddf")])


def test_svychisq_synthetic(env):
    _, designs, _ = env
    for tid, b, stat in (("syn_chisq_F", "aware_center", "F"), ("syn_chisq_Chisq", "sat_overall", "Chisq")):
        r = _ref(env, tid)
        res = svychisq(designs["synthetic"], "sex", b, statistic=stat)  # both have missing values
        keys = [(res.ndf, "parameter:df")] if stat == "Chisq" else [(res.ndf, "parameter:ndf"), (res.ddf, "parameter:ddf")]
        _check_htest(r, res, tid, keys)


@pytest.mark.parametrize("tid,des,y,group,mu,subset", [
    ("htest_t2", "apiclus1", "api00", "comp_imp", 0.0, None),
    ("htest_t1", "apiclus1", "api00", None, 600.0, None),
    ("htest_t_nhanes", "nhanes", "HI_CHOL", "RIAGENDR", 0.0, None),
    ("htest_t_strat_dom", "apistrat", "api00", "sch_wide", 0.0, "stype != 'E'"),
])
def test_svyttest(env, tid, des, y, group, mu, subset):
    _, designs, _ = env
    r = _ref(env, tid)
    res = svyttest(designs[des], y, group, mu=mu, subset=subset)
    _check_htest(r, res, tid, [(res.df, "parameter:df"), (res.estimate, "estimate"), (res.ci_low, "ci_low"),
                               (res.ci_high, "ci_high")])


def test_svyttest_synthetic(env):
    frames, designs, _ = env
    r = _ref(env, "syn_ttest")
    last = int(frames["synthetic"]["year"].max())
    res = svyttest(designs["synthetic"], "sat_score", "migrant", subset=f"year == {last}")
    _check_htest(r, res, "syn_ttest", [(res.df, "parameter:df"), (res.estimate, "estimate"),
                                       (res.ci_low, "ci_low"), (res.ci_high, "ci_high")])


def test_report_worst_differences(env):
    """Prints the largest relative difference from R per comparison (run with -s to see them)."""
    for k in sorted(WORST):
        print(f"{k:32s} {WORST[k]:.2e}")
