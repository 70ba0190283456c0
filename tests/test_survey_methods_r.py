"""Replicate weights, quantiles and calibration against R's survey package, run live.

One Rscript session (tests/r/run_jobs.R, started once by the module fixture) runs every
R snippet below; each test compares our numbers with R's to a relative 1e-8 (the
issue's contract). Nothing here holds reference numbers: R computes them at test time.

Data: the California API samples (apisrs, apistrat, apiclus1, apiclus2), NHANES
(nhanes: 15 strata of 2 PSUs, the classic BRR layout), the ``scd`` replicate-weight
example of R's survey package, and the synthetic resident survey (data/survey.csv).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.paths import DATA_DIR
from helpers.stats.survey import SurveyDesign
from helpers.stats.survey.calibration import calibrate, post_stratify, rake, trim_weights
from helpers.stats.survey.hadamard import hadamard
from helpers.stats.survey.quantiles import QRULES, quantile
from helpers.stats.survey.replicates import ReplicateDesign, as_replicate_design

from _rhelpers import api_data, assert_close, rscript, run_r_snippets

pytestmark = [pytest.mark.r, pytest.mark.slow, pytest.mark.xdist_group("survey_methods_r"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

# R helpers shared by the snippets: one tidy row per domain of a statistic.
R_PRELUDE = r"""
bind <- function(...) {
  l <- Filter(Negate(is.null), list(...))
  cols <- unique(unlist(lapply(l, names)))
  do.call(rbind, lapply(l, function(d) { for (k in setdiff(cols, names(d))) d[[k]] <- NA; d[cols] }))
}
keyof <- function(m, by) {
  if (is.null(by)) return("")
  byv <- all.vars(by)
  do.call(paste, c(lapply(byv, function(b) as.character(m[[b]])), sep = "|"))
}
subset_df <- function(design, dat, by, key) {
  if (is.null(by)) return(degf(design))
  byv <- all.vars(by)
  sapply(key, function(k) {
    idx <- do.call(paste, c(lapply(byv, function(b) as.character(dat[[b]])), sep = "|")) == k
    degf(design[idx, ])
  })
}
stat_rows <- function(id, design, dat, formula, by, FUN, ...) {
  if (is.null(by)) m <- FUN(formula, design, na.rm = TRUE, deff = TRUE, ...)
  else m <- svyby(formula, by, design, FUN, na.rm = TRUE, deff = TRUE, keep.names = FALSE, ...)
  key <- keyof(m, by)
  df <- subset_df(design, dat, by, key)
  est <- as.vector(coef(m)); se <- as.vector(SE(m))
  data.frame(id = id, key = key, estimate = est, se = se, deff = as.vector(deff(m)), df = df,
             ci_low = est - qt(0.975, df) * se, ci_high = est + qt(0.975, df) * se)
}
# svyratio(deff=TRUE) fails on replicate designs in survey 4.1 ("incorrect number of
# dimensions"), so the ratio's deff is computed as R defines it: deff(svytotal(num - R den)).
ratio_rows <- function(id, design, dat, num, den, by) {
  nf <- as.formula(paste("~", num)); df_ <- as.formula(paste("~", den))
  if (is.null(by)) m <- svyratio(nf, df_, design, na.rm = TRUE)
  else m <- svyby(nf, by, design, svyratio, denominator = df_, na.rm = TRUE, keep.names = FALSE)
  key <- keyof(m, by)
  est <- as.vector(coef(m)); se <- as.vector(SE(m))
  df <- subset_df(design, dat, by, key)
  deffs <- sapply(seq_along(key), function(j) {
    idx <- if (is.null(by)) rep(TRUE, nrow(dat)) else
      do.call(paste, c(lapply(all.vars(by), function(b) as.character(dat[[b]])), sep = "|")) == key[j]
    ok <- idx & !is.na(dat[[num]]) & !is.na(dat[[den]])
    z <- ifelse(ok, dat[[num]] - est[j] * dat[[den]], 0)
    sub <- update(design, .z = z)[ok, ]
    deff(svytotal(~.z, sub, deff = TRUE))
  })
  data.frame(id = id, key = key, estimate = est, se = se, deff = deffs, df = df,
             ci_low = est - qt(0.975, df) * se, ci_high = est + qt(0.975, df) * se)
}
# svyciprop(method="logit") is svyglm(.ind ~ 1, family=quasibinomial) and its Wald interval on
# the design df; R's glm stops at a relative deviance change of 1e-8, which on replicate designs
# leaves replicate coefficients off by up to ~1e-8. The reference below is the same computation
# run to convergence (glm.control(epsilon=1e-15)); the default svyciprop interval is returned too
# (ci_low_default, ci_high_default) and compared at the precision R's glm gives it.
prop_rows <- function(id, design, dat, var, lv, by, with_default = FALSE) {
  design <- update(design, .ind = as.numeric(as.character(get(var)) %in% lv))
  design <- update(design, .ind = ifelse(is.na(get(var)), NA, .ind))
  one <- function(sub) {
    m <- svyglm(.ind ~ 1, sub, family = quasibinomial, control = glm.control(epsilon = 1e-15, maxit = 200))
    ci <- as.vector(plogis(confint(m, 1, method = "Wald", ddf = degf(sub))))
    dflt <- if (with_default) attr(svyciprop(~.ind, sub, method = "logit", na.rm = TRUE), "ci") else c(NA, NA)
    mm <- svymean(~.ind, sub, na.rm = TRUE)
    c(estimate = as.vector(coef(mm)), se = as.vector(SE(mm)), ci_low = ci[1], ci_high = ci[2],
      ci_low_default = as.vector(dflt[1]), ci_high_default = as.vector(dflt[2]))
  }
  if (is.null(by)) {
    out <- as.data.frame(t(one(design))); key <- ""
  } else {
    byv <- all.vars(by)
    lab <- do.call(paste, c(lapply(byv, function(b) as.character(dat[[b]])), sep = "|"))
    key <- sort(unique(lab[!is.na(lab)]))
    out <- as.data.frame(do.call(rbind, lapply(key, function(k) one(design[lab == k, ]))))
  }
  cbind(data.frame(id = id, key = key), out)
}
woodruff_rows <- function(id, design, dat, var, by, probs, qrule, method) {
  ns <- asNamespace("survey"); qf <- get(paste0("qrule_", qrule), envir = ns)
  lab <- if (is.null(by)) rep("", nrow(dat)) else
    do.call(paste, c(lapply(all.vars(by), function(b) as.character(dat[[b]])), sep = "|"))
  keys <- sort(unique(lab))
  do.call(rbind, lapply(keys, function(k) {
    ok <- lab == k & !is.na(dat[[var]])
    sub <- design[ok, ]; x <- dat[[var]][ok]; w <- weights(sub, "sampling"); df <- degf(sub)
    do.call(rbind, lapply(probs, function(p) {
      qhat <- qf(x, w, p)
      ci <- ns$woodruffCI(x, qhat, p, sub, qf, 0.05, df, method = method)
      data.frame(id = id, key = k, prob = p, estimate = qhat, se = diff(ci) / (2 * qt(0.975, df)),
                 ci_low = ci[1], ci_high = ci[2])
    }))
  }))
}
quant_rows <- function(id, design, dat, formula, by, probs, ...) {
  if (is.null(by)) {
    q <- svyquantile(formula, design, probs, na.rm = TRUE, ci = TRUE, ...)
    ci <- confint(q)
    return(data.frame(id = id, key = "", prob = probs, estimate = as.vector(coef(q)), se = as.vector(SE(q)),
                      ci_low = ci[, 1], ci_high = ci[, 2]))
  }
  m <- svyby(formula, by, design, svyquantile, quantiles = probs, na.rm = TRUE, ci = TRUE,
             keep.names = FALSE, vartype = c("se", "ci"), ...)
  key <- keyof(m, by)
  k <- length(probs)
  nb <- length(all.vars(by))
  block <- function(j) as.vector(as.matrix(m[, nb + (j - 1) * k + seq_len(k), drop = FALSE]))
  data.frame(id = id, key = rep(key, times = k), prob = rep(probs, each = length(key)),
             estimate = block(1), se = block(2), ci_low = block(3), ci_high = block(4))
}
"""


# ---------------------------------------------------------------------------------- data
def _api() -> dict[str, pd.DataFrame]:
    frames = api_data()
    for k in ("apisrs", "apistrat", "apiclus1", "apiclus2"):
        df = frames[k]
        df["api00_na"] = df["api00"].astype("Float64").mask(df["snum"] % 7 == 0).astype(float)
        for c in ("api00", "api99", "enroll"):
            df[c] = df[c].astype(float)
    lone = frames["apiclus1"].copy()
    lone["grp"] = np.where(lone["dnum"] == lone["dnum"].min(), "a", "b")
    frames["lone"] = lone
    return frames


def _rda(name: str) -> pd.DataFrame:
    import rdata

    rscript()
    d = rdata.read_rda(f"/usr/lib/R/site-library/survey/data/{name}.rda")[name]
    df = pd.DataFrame(d).reset_index(drop=True)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    return df


NH_CAL_TASKS = [("m1", "mean", ("HI_CHOL",), "race"), ("m2", "mean", ("HI_CHOL",), "agecat")]
SYN_CAL_TASKS = [
    ("m1", "mean", ("sat_score",), "district_id"), ("m2", "mean", ("aware_center",), "sex"),
    ("t1", "total", ("participated",), "district_id"),
]


def _synthetic_all_years(years: int = 1):
    """The resident survey's respondents of the last ``years`` years and the census margins
    crossed with those years (R calibrates a year in seconds, seven in minutes)."""
    path, pop_path = DATA_DIR / "survey.csv", DATA_DIR / "population.csv"
    if not path.exists() or not pop_path.exists():
        return None
    raw = pd.read_csv(path)
    df = raw[(raw["responded"] == 1) & (raw["year"] > raw["year"].max() - years)].copy()
    df["stratum"] = df["district_id"].astype(str) + "_" + df["year"].astype(str)
    pop = pd.read_csv(pop_path)
    years = pd.DataFrame({"year": sorted(df["year"].unique())})
    m_age = pop.groupby(["district_id", "age_band"], as_index=False)["residents"].sum().merge(years, how="cross")
    m_sex = pop.groupby(["district_id", "sex"], as_index=False)["residents"].sum().merge(years, how="cross")
    names = {"residents": "Freq"}
    return (df.reset_index(drop=True), m_age.rename(columns=names)[["year", "district_id", "age_band", "Freq"]],
            m_sex.rename(columns=names)[["year", "district_id", "sex", "Freq"]])


def _synthetic_last_year() -> pd.DataFrame | None:
    path = DATA_DIR / "survey.csv"
    if not path.exists():
        return None
    raw = pd.read_csv(path)
    df = raw[(raw["responded"] == 1) & (raw["year"] == raw["year"].max())]
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------------- cases
# A "stat" task: (id, kind, args, by) with kind mean|total|ratio|prop.
STAT_TASKS_API = [
    ("m0", "mean", ("api00",), None), ("m1", "mean", ("api00_na",), "stype"),
    ("m2", "mean", ("api00_na",), "awards"), ("t1", "total", ("enroll",), "stype"),
    ("t0", "total", ("api00_na",), None), ("r1", "ratio", ("api00_na", "api99"), "stype"),
    ("r0", "ratio", ("api00", "api99"), None), ("p1", "prop", ("sch.wide", "Yes"), "stype"),
    ("p0", "prop", ("awards", "No"), None),
]
STAT_TASKS_NHANES = [
    ("m0", "mean", ("HI_CHOL",), None), ("m1", "mean", ("HI_CHOL",), "race"),
    ("m2", "mean", ("HI_CHOL",), "agecat+RIAGENDR"), ("t1", "total", ("HI_CHOL",), "race"),
    ("p1", "prop", ("HI_CHOL", "1"), "race"),
]
STAT_TASKS_SYN = [
    ("m0", "mean", ("sat_overall",), None), ("m1", "mean", ("sat_score",), "district_id"),
    ("r1", "ratio", ("complaint_resolved", "complaint_made"), "district_id"),
    ("p1", "prop", ("aware_center", "1"), "district_id"),
]


def _np(tasks):
    """The tasks without proportions (svyciprop is the slow part in R: a glm per replicate)."""
    return [t for t in tasks if t[1] != "prop"]


def _r_stat_code(design_var: str, data_var: str, tasks, default_ci: bool = False) -> str:
    lines = []
    for tid, kind, args, by in tasks:
        byf = "NULL" if by is None else f"~{by}"
        if kind == "mean":
            lines.append(f'stat_rows("{tid}", {design_var}, {data_var}, ~{args[0]}, {byf}, svymean)')
        elif kind == "total":
            lines.append(f'stat_rows("{tid}", {design_var}, {data_var}, ~{args[0]}, {byf}, svytotal)')
        elif kind == "ratio":
            lines.append(f'ratio_rows("{tid}", {design_var}, {data_var}, "{args[0]}", "{args[1]}", {byf})')
    stat = "rbind(" + ",\n  ".join(lines) + ")"
    props = [f'prop_rows("{tid}", {design_var}, {data_var}, "{a[0]}", "{a[1]}", '
             f'{"NULL" if by is None else "~" + by}, with_default = {"TRUE" if default_ci else "FALSE"})'
             for tid, kind, a, by in tasks if kind == "prop"]
    prop = "rbind(" + ", ".join(props) + ")" if props else "NULL"
    return f"stats_out <- {stat}\nprops_out <- {prop}\n"


def _ours_stat(d, kind, args, by, ci_df="design") -> pd.DataFrame:
    byl = None if by is None else by.split("+")
    if kind == "mean":
        r = d.mean(args[0], by=byl, ci_df=ci_df)
    elif kind == "total":
        r = d.total(args[0], by=byl, ci_df=ci_df)
    elif kind == "ratio":
        r = d.ratio(args[0], args[1], by=byl, ci_df=ci_df)
    else:
        col = d.data[args[0]]
        lv = float(args[1]) if pd.api.types.is_numeric_dtype(col) else args[1]
        r = d.proportion(args[0], level=lv, by=byl)
    r["key"] = "" if byl is None else r[byl].astype(str).agg("|".join, axis=1)
    return r


def _rkey(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str)


def _compare_stats(d, ref: pd.DataFrame | str, tasks, label: str) -> float:
    if isinstance(ref, str):
        raise AssertionError(f"R failed for {label}: {ref}")
    ref = ref.assign(key=_rkey(ref["key"]))
    worst = 0.0
    for tid, kind, args, by in tasks:
        rr = ref[ref.id == tid].set_index("key")
        me = _ours_stat(d, kind, args, by).set_index("key")
        me.index = [_norm_key(k) for k in me.index]
        rr.index = [_norm_key(k) for k in rr.index]
        assert sorted(me.index) == sorted(rr.index), (label, tid, sorted(me.index)[:4], sorted(rr.index)[:4])
        me = me.loc[rr.index]
        cols = ["estimate", "se", "ci_low", "ci_high"] + (["deff", "df"] if kind != "prop" else [])
        for c in cols:
            worst = max(worst, assert_close(me[c], rr[c], f"{label} {tid} {c}"))
        if kind == "prop" and rr["ci_low_default"].notna().any():
            # R's own svyciprop, whose glm stops at a relative deviance change of 1e-8
            for c in ("ci_low", "ci_high"):
                assert_close(me[c], rr[c + "_default"], f"{label} {tid} {c} vs svyciprop", rtol=1e-6)
    return worst


def _norm_key(k: str) -> str:
    """'1.0|2' -> '1|2': integers written as R writes them."""
    parts = []
    for p in str(k).split("|"):
        try:
            f = float(p)
            parts.append(str(int(f)) if f.is_integer() else p)
        except ValueError:
            parts.append(p)
    return "|".join(parts)


# ---------------------------------------------------------------------------------- the jobs
def _jobs(frames, nhanes, scd, syn):
    st, cl1, cl2, srs, lone = (frames[k] for k in ("apistrat", "apiclus1", "apiclus2", "apisrs", "lone"))
    jobs = {}

    def rep_job(name, data, design_r, rep_r, tasks, weights_out=True):
        code = (R_PRELUDE + f"d <- {design_r}\nr <- {rep_r}\n"
                + _r_stat_code("r", "dat", tasks, default_ci=name == "st_jkn"))
        code += ("W <- weights(r, 'analysis')\n"
                 "result <- bind(cbind(part = 'stat', stats_out), if (!is.null(props_out)) cbind(part = 'prop', props_out),\n"
                 "  data.frame(part = 'const', id = c('scale', 'degf', 'R'), estimate = c(r$scale, degf(r), ncol(W))))\n")
        if weights_out:
            code += ("Wd <- as.data.frame(W); names(Wd) <- paste0('w', seq_len(ncol(W)))\n"
                     "result <- bind(result, cbind(part = 'weights', row = seq_len(nrow(W)), Wd,\n"
                     "  rscale = r$rscales[seq_len(nrow(W))]))\n")
        jobs[name] = dict(code=code, data={"dat": data})

    api_design = {
        "st": "svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = dat)",
        "cl1": "svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = dat)",
        "cl2": "svydesign(ids = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + fpc2, data = dat)",
        "srs": "svydesign(ids = ~1, weights = ~pw, fpc = ~fpc, data = dat)",
    }
    rep_job("st_jkn", st, api_design["st"], "as.svrepdesign(d, type = 'JKn')", STAT_TASKS_API)
    rep_job("st_jkn_mse", st, api_design["st"], "as.svrepdesign(d, type = 'JKn', mse = TRUE)", _np(STAT_TASKS_API))
    rep_job("st_brr", st, api_design["st"], "as.svrepdesign(d, type = 'BRR')", _np(STAT_TASKS_API))
    rep_job("st_fay", st, api_design["st"], "as.svrepdesign(d, type = 'Fay', fay.rho = 0.3)", STAT_TASKS_API[:-1])
    rep_job("cl1_jk1", cl1, api_design["cl1"], "as.svrepdesign(d, type = 'JK1')", STAT_TASKS_API)
    rep_job("cl2_jk1", cl2, api_design["cl2"], "as.svrepdesign(d, type = 'JK1')", _np(STAT_TASKS_API))
    rep_job("srs_jk1", srs, api_design["srs"], "as.svrepdesign(d)", STAT_TASKS_API[:3])
    for lonely in ("adjust", "remove", "average"):
        rep_job(f"lone_{lonely}", lone,
                f"{{options(survey.lonely.psu = '{lonely}'); svydesign(ids = ~dnum, strata = ~grp, weights = ~pw, "
                "data = dat)}", "as.svrepdesign(d, type = 'JKn')", STAT_TASKS_API[:3])
    nh_design = "svydesign(ids = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = dat)"
    rep_job("nh_jkn", nhanes, nh_design, "as.svrepdesign(d, type = 'JKn')", STAT_TASKS_NHANES, weights_out=False)
    rep_job("nh_brr", nhanes, nh_design, "as.svrepdesign(d, type = 'BRR', large = 'merge')", _np(STAT_TASKS_NHANES), weights_out=False)
    if syn is not None:
        syn_design = ("svydesign(ids = ~community_id, strata = ~district_id, weights = ~weight, fpc = ~n_psu_stratum, "
                      "data = dat)")
        rep_job("syn_jkn", syn, syn_design, "as.svrepdesign(d, type = 'JKn')", STAT_TASKS_SYN, weights_out=False)
        rep_job("syn_brr", syn, syn_design, "as.svrepdesign(d, type = 'BRR')", _np(STAT_TASKS_SYN), weights_out=False)
    # bootstrap: R draws, we compare given R's replicate weights (exported with its scale)
    code = (R_PRELUDE + "set.seed(20240611)\nd <- " + api_design["st"] + "\n"
            "b <- as.svrepdesign(d, type = 'bootstrap', replicates = 60)\n"
            "W <- weights(b, 'analysis'); colnames(W) <- paste0('bw', seq_len(ncol(W)))\n"
            "dat2 <- cbind(dat, W)\n"
            "r <- svrepdesign(data = dat2, repweights = 'bw[0-9]+', weights = ~pw, type = 'bootstrap', "
            "scale = b$scale, rscales = b$rscales, combined.weights = TRUE)\n"
            + _r_stat_code("r", "dat2", STAT_TASKS_API)
            + "result <- bind(cbind(part = 'stat', stats_out), cbind(part = 'prop', props_out),\n"
              "  data.frame(part = 'const', id = 'scale', estimate = b$scale),\n"
              "  cbind(part = 'weights', row = seq_len(nrow(W)), as.data.frame(W)))\n")
    jobs["st_boot"] = dict(code=code, data={"dat": st})
    # scd: the survey package's own BRR example (weights as adjustment factors)
    code = (R_PRELUDE + "repweights <- 2 * cbind(c(1,0,1,0,1,0), c(1,0,0,1,0,1), c(0,1,1,0,0,1), c(0,1,0,1,1,0))\n"
            "r <- svrepdesign(data = dat, type = 'BRR', repweights = repweights, combined.weights = FALSE)\n"
            "a <- svyratio(~alive, ~arrests, r)\n"
            "dz <- deff(svytotal(~I(alive - coef(a) * arrests), r, deff = TRUE))\n"
            "b <- svytotal(~arrests, r, deff = TRUE)\n"
            "cc <- svymean(~alive, r, deff = TRUE)\n"
            "result <- data.frame(id = c('ratio', 'total', 'mean'), estimate = c(coef(a), coef(b), coef(cc)),\n"
            "  se = c(SE(a), SE(b), SE(cc)), deff = c(dz, deff(b), deff(cc)), df = degf(r))\n")
    jobs["scd"] = dict(code=code, data={"dat": scd})
    # a regression replicated through ReplicateDesign.replicate(): R's svyglm on the JKn design
    code = (R_PRELUDE + "d <- " + api_design["st"] + "\nr <- as.svrepdesign(d, type = 'JKn')\n"
            "m <- svyglm(I(sch.wide == 'Yes') ~ api99 + stype, r, family = quasibinomial,\n"
            "            control = glm.control(epsilon = 1e-14, maxit = 100))\n"
            "result <- data.frame(term = names(coef(m)), estimate = coef(m), se = SE(m))\n")
    jobs["rep_glm"] = dict(code=code, data={"dat": st})
    # Hadamard matrices R chooses for the pair counts used above and a range around them
    jobs["hadamard"] = dict(code="ns <- asNamespace('survey')\nresult <- do.call(rbind, lapply(c(1:40, 47:52, 63:66, 99:104, 127:130), function(n) "
                                 "{ H <- ns$hadamard(n); data.frame(n = n, size = nrow(H), "
                                 "bits = paste(as.vector(t(H)), collapse = '')) }))\n")
    # quantiles
    qcode = R_PRELUDE + "d <- " + api_design["st"] + "\nout <- list()\n"
    # every rule with R's default interval, every interval with three rules
    combos = ([(qr, "mean") for qr in QRULES] + [(qr, it) for qr in ("math", "school", "hf7")
                                                  for it in ("beta", "xlogit", "asin")]
              + [("math", "score"), ("hf7", "score")])
    for qr, it in combos:
        qcode += (f"out[[length(out) + 1]] <- cbind(qrule = '{qr}', itype = '{it}', quant_rows('all', d, dat, "
                  f"~api00_na, NULL, c(0.1, 0.5, 0.9), qrule = '{qr}', interval.type = '{it}'))\n")
    for qr, it in (("math", "mean"), ("math", "score"), ("school", "beta"), ("hf7", "xlogit"), ("shahvaish", "asin")):
        qcode += (f"out[[length(out) + 1]] <- cbind(qrule = '{qr}', itype = '{it}', quant_rows('stype', d, dat, "
                  f"~api00_na, ~stype, c(0.25, 0.5), qrule = '{qr}', interval.type = '{it}'))\n")
    qcode += "result <- do.call(rbind, out)\n"
    jobs["q_st"] = dict(code=qcode, data={"dat": st})
    qcode = R_PRELUDE + "d <- " + api_design["cl1"] + "\nout <- list()\n"
    for it in ("mean", "beta", "xlogit", "asin"):
        qcode += (f"out[[length(out) + 1]] <- cbind(qrule = 'math', itype = '{it}', quant_rows('stype', d, dat, "
                  f"~api00, ~stype, c(0.5, 0.8), qrule = 'math', interval.type = '{it}'))\n")
    # the score interval: overall (by stype R stops: the score does not change sign in a small domain)
    qcode += ("out[[length(out) + 1]] <- cbind(qrule = 'math', itype = 'score', quant_rows('cl1', d, dat, ~api00, "
              "NULL, c(0.5, 0.8), qrule = 'math', interval.type = 'score'))\n")
    qcode += ("d2 <- " + api_design["cl2"].replace("dat)", "dat2)") + "\n"
              "out[[length(out) + 1]] <- cbind(qrule = 'hf8', itype = 'mean', quant_rows('cl2', d2, dat2, ~api00, "
              "NULL, c(0.5, 0.9), qrule = 'hf8', interval.type = 'mean'))\n"
              "result <- do.call(rbind, out)\n")
    jobs["q_cl"] = dict(code=qcode, data={"dat": cl1, "dat2": cl2})
    qcode = R_PRELUDE + "d <- " + api_design["st"] + "\nr <- as.svrepdesign(d, type = 'JKn')\nout <- list()\n"
    for by in ("NULL", "~stype"):
        for it in ("mean", "quantile"):
            qcode += (f"out[[length(out) + 1]] <- cbind(qrule = 'math', itype = '{it}', quant_rows('{by}', r, dat, "
                      f"~api00_na, {by}, c(0.25, 0.5), qrule = 'math', interval.type = '{it}'))\n")
        # svyquantile.svyrep.design (survey 4.1) calls woodruffCI without method=, so on replicate
        # designs it returns the "mean" interval whatever interval.type says; R's woodruffCI itself,
        # called with the method, is the reference for the other types
        for it in ("beta", "xlogit", "asin"):
            qcode += (f"out[[length(out) + 1]] <- cbind(qrule = 'hf2', itype = '{it}', woodruff_rows('{by}', r, dat, "
                      f"'api00_na', {by}, c(0.25, 0.5), 'hf2', '{it}'))\n")
    qcode += ("set.seed(99)\nb <- as.svrepdesign(d, type = 'bootstrap', replicates = 40)\n"
              "out[[length(out) + 1]] <- cbind(qrule = 'school', itype = 'quantile', quant_rows('boot', b, dat, "
              "~api00, ~stype, c(0.5), qrule = 'school', interval.type = 'quantile'))\n"
              "result <- do.call(rbind, out)\n"
              "W <- weights(b, 'analysis'); colnames(W) <- paste0('bw', seq_len(ncol(W)))\n"
              "result$scale <- b$scale\n"
              "result <- merge(result, cbind(itype = 'weights', row = seq_len(nrow(W)), as.data.frame(W)), all = TRUE)\n")
    jobs["q_rep"] = dict(code=qcode, data={"dat": st})
    if syn is not None:
        qcode = (R_PRELUDE + "d <- svydesign(ids = ~community_id, strata = ~district_id, weights = ~weight, "
                 "fpc = ~n_psu_stratum, data = dat)\nout <- list()\n"
                 "out[[1]] <- cbind(qrule = 'math', itype = 'mean', quant_rows('d', d, dat, ~sat_score, ~district_id, "
                 "c(0.25, 0.5, 0.75), qrule = 'math', interval.type = 'mean'))\n"
                 "out[[2]] <- cbind(qrule = 'hf6', itype = 'score', quant_rows('d', d, dat, ~walk_minutes, NULL, "
                 "c(0.5, 0.9), qrule = 'hf6', interval.type = 'score'))\n"
                 "result <- do.call(rbind, out)\n")
        jobs["q_syn"] = dict(code=qcode, data={"dat": syn})
    _calibration_jobs(jobs, frames, nhanes, api_design)
    return jobs


# ---------------------------------------------------------------------------------- calibration jobs
def _pop_tables(frames, nhanes):
    """Population margins: from apipop for the API samples, and made up (fixed) for NHANES."""
    pop = frames["apipop"]
    t = {
        "stype": pop.groupby("stype").size().rename("Freq").reset_index(),
        "sch.wide": pop.groupby("sch.wide").size().rename("Freq").reset_index(),
        "stype_schwide": pop.groupby(["stype", "sch.wide"]).size().rename("Freq").reset_index(),
        "api99": float(pop["api99"].sum()),
        "N": float(len(pop)),
    }
    w = nhanes.groupby("race")["WTMEC2YR"].sum()
    t["race"] = (w * np.array([1.08, 0.93, 1.05, 1.0])[: len(w)]).round().rename("Freq").reset_index()
    n_total = t["race"]["Freq"].sum()
    g = nhanes.groupby("RIAGENDR")["WTMEC2YR"].sum()
    g = (g / g.sum() * n_total * np.array([1.02, 0.98])).round()
    g.iloc[-1] = n_total - g.iloc[0]
    t["gender"] = g.rename("Freq").reset_index()
    return t


# (name, base design key, R calibration call, Python calibration)
CAL_CASES = [
    ("ps", "st", "postStratify(d, ~sch.wide, pop_schwide)",
     lambda d, t: post_stratify(d, "sch.wide", t["sch.wide"])),
    ("ps2", "st", "postStratify(d, ~stype + sch.wide, pop_stype_schwide)",
     lambda d, t: post_stratify(d, ["stype", "sch.wide"], t["stype_schwide"])),
    ("rake", "st", "rake(d, list(~stype, ~sch.wide), list(pop_stype, pop_schwide))",
     lambda d, t: rake(d, [t["stype"], t["sch.wide"]])),
    ("lin", "st", "calibrate(d, ~stype + api99, c(`(Intercept)` = N, stypeH = 755, stypeM = 1018, api99 = api99t))",
     lambda d, t: calibrate(d, [t["stype"]], totals={"api99": t["api99"]})),
    ("lin_b", "st", "calibrate(d, ~sch.wide + api99, c(`(Intercept)` = N, sch.wideYes = 5122, api99 = api99t), "
     "bounds = c(0.8, 1.2))",
     lambda d, t: calibrate(d, [t["sch.wide"]], totals={"api99": t["api99"]}, bounds=(0.8, 1.2))),
    ("rak", "st", "calibrate(d, ~sch.wide + api99, c(`(Intercept)` = N, sch.wideYes = 5122, api99 = api99t), "
     "calfun = 'raking')",
     lambda d, t: calibrate(d, [t["sch.wide"]], totals={"api99": t["api99"]}, calfun="raking")),
    ("logit", "st", "calibrate(d, ~sch.wide + api99, c(`(Intercept)` = N, sch.wideYes = 5122, api99 = api99t), "
     "calfun = 'logit', bounds = c(0.7, 1.7))",
     lambda d, t: calibrate(d, [t["sch.wide"]], totals={"api99": t["api99"]}, calfun="logit", bounds=(0.7, 1.7))),
    # R ignores trim= for unbounded linear calibration (it returns from regcalibrate first): raking here
    ("trimcal", "st", "calibrate(d, ~sch.wide + api99, c(`(Intercept)` = N, sch.wideYes = 5122, api99 = api99t), "
     "calfun = 'raking', trim = c(0.97, 1.03))",
     lambda d, t: calibrate(d, [t["sch.wide"]], totals={"api99": t["api99"]}, calfun="raking", trim=(0.97, 1.03))),
    ("trim", "st", "trimWeights(d, upper = 40, lower = 16)",
     lambda d, t: trim_weights(d, upper=40, lower=16)),
    ("ps_trim", "st", "trimWeights(postStratify(d, ~sch.wide, pop_schwide), upper = 45)",
     lambda d, t: trim_weights(post_stratify(d, "sch.wide", t["sch.wide"]), upper=45)),
    ("cl1_lin", "cl1", "calibrate(d, ~stype + api99, c(`(Intercept)` = N, stypeH = 755, stypeM = 1018, api99 = api99t))",
     lambda d, t: calibrate(d, [t["stype"]], totals={"api99": t["api99"]})),
    ("cl1_rake", "cl1", "rake(d, list(~stype, ~sch.wide), list(pop_stype, pop_schwide))",
     lambda d, t: rake(d, [t["stype"], t["sch.wide"]])),
    ("cl2_lin", "cl2", "calibrate(d, ~stype + api99, c(`(Intercept)` = N, stypeH = 755, stypeM = 1018, api99 = api99t))",
     lambda d, t: calibrate(d, [t["stype"]], totals={"api99": t["api99"]})),
    ("cl1_chain", "cl1", "calibrate(postStratify(d, ~stype, pop_stype), ~sch.wide, c(`(Intercept)` = N, "
     "sch.wideYes = 5122))",
     lambda d, t: calibrate(post_stratify(d, "stype", t["stype"]), [t["sch.wide"]])),
]
CAL_TASKS = [
    ("m0", "mean", ("api00",), None), ("m1", "mean", ("api00_na",), "stype"),
    ("m2", "mean", ("api00",), "awards"), ("t1", "total", ("enroll",), "sch.wide"),
    ("r1", "ratio", ("api00_na", "api99"), "awards"), ("p1", "prop", ("awards", "No"), "stype"),
]
REP_CAL_CASES = [
    ("rep_ps", "postStratify(r, ~sch.wide, pop_schwide)", lambda d, t: post_stratify(d, "sch.wide", t["sch.wide"])),
    ("rep_rake", "rake(r, list(~stype, ~sch.wide), list(pop_stype, pop_schwide))",
     lambda d, t: rake(d, [t["stype"], t["sch.wide"]])),
    ("rep_lin", "calibrate(r, ~stype + api99, c(`(Intercept)` = N, stypeH = 755, stypeM = 1018, api99 = api99t))",
     lambda d, t: calibrate(d, [t["stype"]], totals={"api99": t["api99"]})),
    ("rep_rak", "calibrate(r, ~sch.wide + api99, c(`(Intercept)` = N, sch.wideYes = 5122, api99 = api99t), "
     "calfun = 'raking')", lambda d, t: calibrate(d, [t["sch.wide"]], totals={"api99": t["api99"]}, calfun="raking")),
]


def _calibration_jobs(jobs, frames, nhanes, api_design):
    t = _pop_tables(frames, nhanes)
    pre = ("pop_stype <- stype_t; pop_schwide <- schwide_t; names(pop_schwide)[1] <- 'sch.wide'\n"
           "pop_stype_schwide <- stsw_t; names(pop_stype_schwide)[2] <- 'sch.wide'\n"
           f"N <- {t['N']!r}; api99t <- {t['api99']!r}\n")
    tabs = {"stype_t": t["stype"], "schwide_t": t["sch.wide"], "stsw_t": t["stype_schwide"]}
    data = {"st": frames["apistrat"], "cl1": frames["apiclus1"], "cl2": frames["apiclus2"]}

    def body(design_var):
        return (_r_stat_code(design_var, "dat", CAL_TASKS)
                + f"qq <- quant_rows('q', {design_var}, dat, ~api00, ~awards, c(0.25, 0.5), qrule = 'math', "
                  "interval.type = 'mean')\n"
                + "result <- bind(cbind(part = 'stat', stats_out), cbind(part = 'prop', props_out),\n"
                  "  cbind(part = 'quant', qq),\n"
                  f"  data.frame(part = 'w', id = 'w', row = seq_len(nrow(dat)), estimate = weights({design_var})))\n")

    for name, key, call, _ in CAL_CASES:
        code = R_PRELUDE + pre + f"d <- {api_design[key]}\ncal <- {call}\n" + body("cal")
        jobs[f"cal_{name}"] = dict(code=code, data={"dat": data[key], **tabs})
    for name, call, _ in REP_CAL_CASES:
        # calibrate() with a nonlinear calfun keeps the uncalibrated design's degf on a replicate design
        # (postStratify, rake and linear calibrate recompute it); recomputed here as the others do
        code = (R_PRELUDE + pre + f"d <- {api_design['st']}\nr <- as.svrepdesign(d, type = 'JKn')\n"
                f"cal <- {call}\ncal$degf <- NULL\ncal$degf <- degf(cal)\n"
                + body("cal").replace("weights(cal)", "weights(cal, 'sampling')"))
        jobs[f"cal_{name}"] = dict(code=code, data={"dat": data["st"], **tabs})
    # NHANES: raking to made-up race and gender margins
    # race and gender are numbers in nhanes: as factors, so that calibrate() makes indicators of them
    code = (R_PRELUDE + "for (v in c('race', 'RIAGENDR')) dat[[v]] <- factor(dat[[v]])\n"
            "race_t$race <- factor(race_t$race); gender_t$RIAGENDR <- factor(gender_t$RIAGENDR)\n"
            "d <- svydesign(ids = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, "
            "data = dat)\ncal <- rake(d, list(~race, ~RIAGENDR), list(race_t, gender_t))\n"
            "cal2 <- calibrate(d, list(~race, ~RIAGENDR), list(race_t, gender_t), calfun = 'raking')\n"
            + _r_stat_code("cal", "dat", NH_CAL_TASKS).replace("stats_out", "s1").replace("props_out", "p1")
            + _r_stat_code("cal2", "dat", NH_CAL_TASKS).replace("stats_out", "s2").replace("props_out", "p2")
            + "result <- bind(cbind(part = 'rake', s1), cbind(part = 'calrake', s2))\n")
    jobs["cal_nhanes"] = dict(code=code, data={"dat": nhanes, "race_t": t["race"], "gender_t": t["gender"]})
    syn = _synthetic_all_years()
    if syn is not None:
        df, m_age, m_sex = syn
        # the resident survey of the last year raked and calibrated to the census margins
        code = (R_PRELUDE + "d <- svydesign(ids = ~community_id, strata = ~stratum, weights = ~weight, "
                "fpc = ~n_psu_stratum, nest = TRUE, data = dat)\n"
                "cal <- rake(d, list(~year + district_id + age_band, ~year + district_id + sex), list(m_age, m_sex))\n"
                "a2 <- m_age[, -1]; s2 <- m_sex[, -1]  # one year: no year term (R needs 2 levels for it)\n"
                "cal2 <- calibrate(d, list(~district_id + age_band, ~district_id + sex), list(a2, s2), "
                "calfun = 'raking')\n"
                + _r_stat_code("cal", "dat", SYN_CAL_TASKS).replace("stats_out", "s1").replace("props_out", "p1")
                + _r_stat_code("cal2", "dat", SYN_CAL_TASKS).replace("stats_out", "s2").replace("props_out", "p2")
                + "q1 <- quant_rows('q', cal, dat, ~sat_score, ~district_id, c(0.5), qrule = 'math', "
                  "interval.type = 'mean')\n"
                "result <- bind(cbind(part = 'rake', s1), cbind(part = 'calrake', s2), cbind(part = 'quant', q1),\n"
                "  data.frame(part = 'w', row = seq_len(nrow(dat)), estimate = weights(cal)),\n"
                "  data.frame(part = 'w2', row = seq_len(nrow(dat)), estimate = weights(cal2)))\n")
        jobs["cal_synthetic"] = dict(code=code, data={"dat": df, "m_age": m_age, "m_sex": m_sex})


@pytest.fixture(scope="module")
def ref():
    frames = _api()
    nhanes = _rda("nhanes")
    scd = _rda("scd")
    syn = _synthetic_last_year()
    data = dict(frames=frames, nhanes=nhanes, scd=scd, syn=syn)
    return data, run_r_snippets(_jobs(frames, nhanes, scd, syn))


def _part(res, name, part):
    r = res[name]
    if isinstance(r, str):
        raise AssertionError(f"R failed for {name}: {r}")
    return r[r["part"] == part]


def _r_weights(res, name) -> tuple[np.ndarray, np.ndarray]:
    w = _part(res, name, "weights").sort_values("row")
    cols = [c for c in w.columns if c.startswith("w") and c[1:].isdigit()]
    cols = sorted(cols, key=lambda c: int(c[1:]))
    W = w[cols].to_numpy(float)
    W = W[:, ~np.isnan(W).all(axis=0)]
    return W, w["rscale"].to_numpy(float)


def _check_rep(ref, name, rd, tasks, weights=True):
    data, res = ref
    stats = pd.concat([_part(res, name, "stat"), _part(res, name, "prop")])
    worst = _compare_stats(rd, stats, tasks, name)
    if weights:
        W, rs = _r_weights(res, name)
        worst = max(worst, assert_close(rd.analysis_weights(), W, f"{name} replicate weights", rtol=1e-12))
        worst = max(worst, assert_close(rd.rscales, rs[:W.shape[1]], f"{name} rscales", rtol=1e-12))
        const = _part(res, name, "const").set_index("id")["estimate"]
        assert rd.n_replicates == int(const["R"])
        worst = max(worst, assert_close([rd.scale, rd.degf()], [const["scale"], const["degf"]], f"{name} scale, degf"))
    print(f"{name}: max relative error vs R {worst:.3g}")
    return worst


# ---------------------------------------------------------------------------------- replicate tests
def test_hadamard_matrices_are_rs(ref):
    _, res = ref
    h = res["hadamard"]
    for n, size, bits in h[["n", "size", "bits"]].itertuples(index=False):
        ours = hadamard(int(n))
        assert ours.shape == (size, size), n
        assert "".join(map(str, ours.ravel())) == bits, f"hadamard({n}) differs from R's"


@pytest.mark.parametrize("name,type_,kw,tasks", [
    ("st_jkn", "JKn", {}, STAT_TASKS_API), ("st_jkn_mse", "JKn", {"mse": True}, _np(STAT_TASKS_API)),
    ("st_brr", "BRR", {}, _np(STAT_TASKS_API)), ("st_fay", "Fay", {"fay_rho": 0.3}, STAT_TASKS_API[:-1])])
def test_apistrat_conversions(ref, name, type_, kw, tasks):
    data, _ = ref
    d = SurveyDesign(data["frames"]["apistrat"], weight="pw", strata="stype", fpc="fpc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rd = as_replicate_design(d, type_, **kw)
    _check_rep(ref, name, rd, tasks)


def test_apiclus_jk1(ref):
    data, _ = ref
    f = data["frames"]
    rd = as_replicate_design(SurveyDesign(f["apiclus1"], weight="pw", psu="dnum", fpc="fpc"), "JK1")
    _check_rep(ref, "cl1_jk1", rd, STAT_TASKS_API)
    with pytest.warns(UserWarning, match="after first stage"):
        rd = as_replicate_design(SurveyDesign(f["apiclus2"], weight="pw", psu=["dnum", "snum"],
                                              fpc=["fpc1", "fpc2"]), "JK1")
    _check_rep(ref, "cl2_jk1", rd, _np(STAT_TASKS_API))
    rd = as_replicate_design(SurveyDesign(f["apisrs"], weight="pw", fpc="fpc"))
    assert rd.type == "JK1" and rd.n_replicates == 200
    _check_rep(ref, "srs_jk1", rd, STAT_TASKS_API[:3])


@pytest.mark.parametrize("lonely", ["adjust", "remove", "average"])
def test_jkn_lonely_psu(ref, lonely):
    data, _ = ref
    d = SurveyDesign(data["frames"]["lone"], weight="pw", strata="grp", psu="dnum", lonely_psu=lonely)
    _check_rep(ref, f"lone_{lonely}", as_replicate_design(d, "JKn"), STAT_TASKS_API[:3])


@pytest.mark.parametrize("type_", ["JKn", "BRR"])
def test_nhanes(ref, type_):
    data, _ = ref
    nh = data["nhanes"]
    d = SurveyDesign(nh, weight="WTMEC2YR", strata="SDMVSTRA", psu="SDMVPSU")
    if type_ == "BRR":  # one stratum has 3 PSUs: split into halves (R's large="merge")
        with pytest.raises(ValueError, match="odd number of PSUs into pairs: \\['86'\\]"):
            as_replicate_design(d, type_)
        rd = as_replicate_design(d, type_, large="merge")
        assert rd.n_replicates == 16  # 15 half-sample pairs: R's 16 x 16 Hadamard matrix
    else:
        rd = as_replicate_design(d, type_)
    _check_rep(ref, f"nh_{type_.lower()}", rd, STAT_TASKS_NHANES if type_ == "JKn" else _np(STAT_TASKS_NHANES),
               weights=False)


@pytest.mark.parametrize("type_", ["JKn", "BRR"])
def test_synthetic_survey_replicates(ref, type_):
    data, _ = ref
    if data["syn"] is None:
        pytest.skip(f"{DATA_DIR / 'survey.csv'} is missing (make data generates it)")
    d = SurveyDesign(data["syn"], weight="weight", strata="district_id", psu="community_id", fpc="n_psu_stratum")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rd = as_replicate_design(d, type_)
    _check_rep(ref, f"syn_{type_.lower()}", rd, STAT_TASKS_SYN if type_ == "JKn" else _np(STAT_TASKS_SYN),
               weights=False)


def test_bootstrap_given_rs_replicate_weights(ref):
    data, res = ref
    st = data["frames"]["apistrat"]
    W = _part(res, "st_boot", "weights").sort_values("row")
    cols = [f"bw{i}" for i in range(1, 61)]
    df = pd.concat([st.reset_index(drop=True), W[cols].reset_index(drop=True)], axis=1)
    scale = float(_part(res, "st_boot", "const")["estimate"].iloc[0])
    rd = ReplicateDesign(df, weight="pw", repweights="bw[0-9]+", type="bootstrap", scale=scale, n_replicates=60)
    assert rd.repweight_columns == cols
    stats = pd.concat([_part(res, "st_boot", "stat"), _part(res, "st_boot", "prop")])
    worst = _compare_stats(rd, stats, STAT_TASKS_API, "st_boot")
    print(f"st_boot: max relative error vs R {worst:.3g}")


def test_replicate_hook_reproduces_rs_svyglm_on_a_replicate_design(ref):
    """Any weighted estimator replicates through ReplicateDesign.replicate(): a logistic
    regression fitted by statsmodels per replicate gives R's svyglm on the JKn design."""
    import statsmodels.api as sm

    data, res = ref
    r = res["rep_glm"]
    assert not isinstance(r, str), r
    st = data["frames"]["apistrat"]
    rd = as_replicate_design(SurveyDesign(st, weight="pw", strata="stype", fpc="fpc"), "JKn")
    y = (st["sch.wide"] == "Yes").to_numpy(float)
    X = np.column_stack([np.ones(len(st)), st["api99"], st["stype"] == "H", st["stype"] == "M"]).astype(float)

    def fit(w):
        return sm.GLM(y, X, family=sm.families.Binomial(), var_weights=w).fit(tol=1e-14, maxiter=100).params

    out = rd.replicate(fit)
    assert_close(out.estimate, r["estimate"], "svyglm coefficients")
    assert_close(out.se, r["se"], "svyglm replicate SEs")


def test_scd_brr_example(ref):
    data, res = ref
    scd = data["scd"].copy()
    rw = 2 * np.array([[1, 0, 1, 0, 1, 0], [1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1], [0, 1, 0, 1, 1, 0]]).T
    for j in range(4):
        scd[f"rep{j + 1}"] = rw[:, j]
    scd["one"] = 1.0
    rd = ReplicateDesign(scd, weight="one", repweights=[f"rep{j}" for j in range(1, 5)], type="BRR",
                         combined_weights=False)
    r = res["scd"].set_index("id")
    ours = pd.concat([rd.ratio("alive", "arrests"), rd.total("arrests"), rd.mean("alive")]).reset_index(drop=True)
    ours.index = ["ratio", "total", "mean"]
    for c in ("estimate", "se", "deff", "df"):
        assert_close(ours[c], r.loc[ours.index, c], f"scd {c}")


# ---------------------------------------------------------------------------------- quantile tests
def _compare_quantiles(d, r: pd.DataFrame, var: str, by: str | None, label: str, **kw) -> float:
    probs = sorted(r["prob"].unique())
    me = quantile(d, var, probs, by=by, **kw)
    me["key"] = "" if by is None else me[by].astype(str)
    r = r.assign(key=_rkey(r["key"]).map(_norm_key))
    me["key"] = me["key"].map(_norm_key)
    m = me.set_index(["key", "prob"]).loc[list(zip(r["key"], r["prob"]))]
    worst = 0.0
    for c in ("estimate", "ci_low", "ci_high", "se"):
        worst = max(worst, assert_close(m[c], r[c], f"{label} {c}"))
    return worst


def test_quantiles_every_rule_and_interval_apistrat(ref):
    data, res = ref
    q = res["q_st"]
    assert not isinstance(q, str), q
    d = SurveyDesign(data["frames"]["apistrat"], weight="pw", strata="stype", fpc="fpc")
    worst = 0.0
    for (qr, it, ident), g in q.groupby(["qrule", "itype", "id"], sort=False):
        by = None if ident == "all" else "stype"
        worst = max(worst, _compare_quantiles(d, g, "api00_na", by, f"apistrat {qr} {it} {ident}",
                                              qrule=qr, interval_type=it))
    print(f"quantiles apistrat: max relative error vs R {worst:.3g}")


def test_quantiles_cluster_designs(ref):
    data, res = ref
    q = res["q_cl"]
    assert not isinstance(q, str), q
    f = data["frames"]
    d1 = SurveyDesign(f["apiclus1"], weight="pw", psu="dnum", fpc="fpc")
    d2 = SurveyDesign(f["apiclus2"], weight="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    for (qr, it, ident), g in q.groupby(["qrule", "itype", "id"], sort=False):
        if ident == "cl2":
            _compare_quantiles(d2, g, "api00", None, f"apiclus2 {qr} {it}", qrule=qr, interval_type=it)
        elif ident == "cl1":
            _compare_quantiles(d1, g, "api00", None, f"apiclus1 {qr} {it}", qrule=qr, interval_type=it)
        else:
            _compare_quantiles(d1, g, "api00", "stype", f"apiclus1 {qr} {it}", qrule=qr, interval_type=it)
    with pytest.raises(ValueError, match="does not change sign"):  # where R stops too
        quantile(d1, "api00", [0.5, 0.8], by="stype", interval_type="score")


def test_quantiles_replicate_designs(ref):
    data, res = ref
    q = res["q_rep"]
    assert not isinstance(q, str), q
    st = data["frames"]["apistrat"]
    rd = as_replicate_design(SurveyDesign(st, weight="pw", strata="stype", fpc="fpc"), "JKn")
    rows = q[q["itype"] != "weights"]
    for (qr, it, ident), g in rows.groupby(["qrule", "itype", "id"], sort=False):
        if ident == "boot":
            W = q[q["itype"] == "weights"].sort_values("row")
            cols = [f"bw{i}" for i in range(1, 41)]
            df = pd.concat([st.reset_index(drop=True), W[cols].reset_index(drop=True)], axis=1)
            b = ReplicateDesign(df, weight="pw", repweights=cols, type="bootstrap", scale=float(g["scale"].iloc[0]))
            _compare_quantiles(b, g, "api00", "stype", f"bootstrap {qr} {it}", qrule=qr, interval_type=it)
        else:
            by = None if ident == "NULL" else "stype"
            _compare_quantiles(rd, g, "api00_na", by, f"JKn {qr} {it} {ident}", qrule=qr, interval_type=it)


def test_quantiles_synthetic_survey(ref):
    data, res = ref
    if data["syn"] is None:
        pytest.skip(f"{DATA_DIR / 'survey.csv'} is missing (make data generates it)")
    q = res["q_syn"]
    assert not isinstance(q, str), q
    d = SurveyDesign(data["syn"], weight="weight", strata="district_id", psu="community_id", fpc="n_psu_stratum")
    for (qr, it), g in q.groupby(["qrule", "itype"], sort=False):
        var, by = ("sat_score", "district_id") if it == "mean" else ("walk_minutes", None)
        _compare_quantiles(d, g, var, by, f"synthetic {qr} {it}", qrule=qr, interval_type=it)


# ---------------------------------------------------------------------------------- calibration tests
def _check_cal(ref, name, cal, label):
    data, res = ref
    r = res[f"cal_{name}"]
    assert not isinstance(r, str), f"R failed for {name}: {r}"
    w = r[r["part"] == "w"].sort_values("row")["estimate"].to_numpy(float)
    worst = assert_close(cal.weights, w, f"{label} calibrated weights")
    stats = r[r["part"].isin(["stat", "prop"])]
    worst = max(worst, _compare_stats(cal, stats, CAL_TASKS, label))
    q = r[r["part"] == "quant"]
    worst = max(worst, _compare_quantiles(cal, q, "api00", "awards", f"{label} quantiles"))
    print(f"{label}: max relative error vs R {worst:.3g}")


_BASES = {
    "st": lambda f: SurveyDesign(f["apistrat"], weight="pw", strata="stype", fpc="fpc"),
    "cl1": lambda f: SurveyDesign(f["apiclus1"], weight="pw", psu="dnum", fpc="fpc"),
    "cl2": lambda f: SurveyDesign(f["apiclus2"], weight="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
}


@pytest.mark.parametrize("name,key,fn", [(c[0], c[1], c[3]) for c in CAL_CASES], ids=[c[0] for c in CAL_CASES])
def test_calibration(ref, name, key, fn):
    data, _ = ref
    t = _pop_tables(data["frames"], data["nhanes"])
    cal = fn(_BASES[key](data["frames"]), t)
    _check_cal(ref, name, cal, name)


@pytest.mark.parametrize("name,fn", [(c[0], c[2]) for c in REP_CAL_CASES], ids=[c[0] for c in REP_CAL_CASES])
def test_calibration_of_replicate_designs(ref, name, fn):
    data, _ = ref
    t = _pop_tables(data["frames"], data["nhanes"])
    rd = as_replicate_design(_BASES["st"](data["frames"]), "JKn")
    cal = fn(rd, t)
    assert isinstance(cal, ReplicateDesign)
    _check_cal(ref, name, cal, name)


def test_calibration_nhanes(ref):
    data, res = ref
    r = res["cal_nhanes"]
    assert not isinstance(r, str), r
    nh = data["nhanes"]
    t = _pop_tables(data["frames"], nh)
    d = SurveyDesign(nh, weight="WTMEC2YR", strata="SDMVSTRA", psu="SDMVPSU")
    margins = [t["race"], t["gender"]]
    for part, cal in (("rake", rake(d, margins)), ("calrake", calibrate(d, margins, calfun="raking"))):
        _compare_stats(cal, r[r["part"] == part], NH_CAL_TASKS, f"nhanes {part}")


def test_calibration_synthetic_survey_to_census_margins(ref):
    syn = _synthetic_all_years()
    if syn is None:
        pytest.skip("data/survey.csv or data/population.csv is missing (make data generates them)")
    data, res = ref
    r = res["cal_synthetic"]
    assert not isinstance(r, str), r
    df, m_age, m_sex = syn
    d = SurveyDesign(df, weight="weight", strata=["district_id", "year"], psu="community_id", fpc="n_psu_stratum")
    for part, wpart, cal in (("rake", "w", rake(d, [m_age, m_sex])),
                             ("calrake", "w2", calibrate(d, [m_age.drop(columns="year"), m_sex.drop(columns="year")],
                                                         calfun="raking"))):
        w = r[r["part"] == wpart].sort_values("row")["estimate"].to_numpy(float)
        worst = assert_close(cal.weights, w, f"synthetic {part} weights")
        worst = max(worst, _compare_stats(cal, r[r["part"] == part], SYN_CAL_TASKS, f"synthetic {part}"))
        if part == "rake":
            worst = max(worst, _compare_quantiles(cal, r[r["part"] == "quant"], "sat_score", "district_id",
                                                  "synthetic rake quantiles"))
        print(f"synthetic survey {part}: max relative error vs R {worst:.3g}")
