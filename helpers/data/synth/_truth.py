"""Assessment scores and the ground-truth file."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _params as P
from ._world import World


def assessment(w: World, rng, esat_ct: np.ndarray) -> None:
    """score = 75 + 6*std(coverage_ct) + 2*std(E[sat|c]) + N(0, 5^2), clipped to 0-100."""
    o = w._org
    nc = len(w.communities)
    cov = np.full((nc, len(P.YEARS)), np.nan)
    for j, t in enumerate(P.YEARS):
        act = (o["founded"] <= t) & (t < o["end"])
        n_act = np.bincount(o["c"][act], minlength=nc)
        n_cov = np.bincount(o["c"][act & (o["covered"] >= 0) & (o["covered"] <= t)], minlength=nc)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov[:, j] = np.where(n_act > 0, n_cov / n_act, np.nan)
    cov = np.where(np.isnan(cov), np.nanmean(cov), cov)
    cov_std = (cov - cov.mean()) / cov.std()
    esat_c = esat_ct.mean(axis=1)
    sat_std = (esat_c - esat_c.mean()) / esat_c.std()
    score = (P.ASSESS_BASE + P.ASSESS_COVERAGE * cov_std + P.ASSESS_SATISFACTION * sat_std[:, None]
             + rng.normal(0, P.ASSESS_NOISE_SD, cov.shape))
    score = np.round(np.clip(score, 0, 100), 1)
    ids = w.communities["community_id"].to_numpy()
    w.assessment = pd.DataFrame({"community_id": np.repeat(ids, len(P.YEARS)),
                                 "year": np.tile(P.YEARS, nc), "score": score.ravel()}
                                ).sort_values(["community_id", "year"], kind="stable").reset_index(drop=True)
    corr = float(np.corrcoef(score.mean(axis=1), esat_c)[0, 1])
    w.truth["assessment_satisfaction_corr"] = corr
    w.esat_c = esat_c
    w.notes["assessment"] = (
        "coverage_ct = organisational coverage rate of community c at the end of year t (covered active "
        "organisations / active organisations; the city-wide mean where a community has none); std() "
        "standardises over all community-years (coverage) or communities (satisfaction), population sd. "
        "E[sat_score | c] = mean over 2018-2024 of the expected sat_score of c's residents (Monte Carlo over "
        "100 home points per community; clipping ignored).")


def _e(value, description, estimator, table, scale):
    if isinstance(value, float):
        value = round(value, 6)
    return {"value": value, "description": description, "estimator": estimator, "table": table, "scale": scale}


def ground_truth(w: World, seed: int, version: str) -> dict:
    fe = "district fixed effects, cluster-robust SEs by community"
    eff = {
        "aware_within15_logit": _e(P.AWARE_WITHIN15_LOGIT, "log-odds of awareness of the service centre for a "
                                   "resident within a 15-minute walk (walk_minutes <= 15) versus beyond 30 minutes",
                                   f"binomial GLM (logit) of aware_center on within15, band15_30, migrant_share; {fe}",
                                   "survey", "log-odds"),
        "aware_15to30_logit": _e(P.AWARE_15TO30_LOGIT, "log-odds of awareness for 15 < walk_minutes <= 30 versus "
                                 "beyond 30 minutes", "same model as aware_within15_logit", "survey", "log-odds"),
        "aware_migrant_share_logit": _e(P.AWARE_MIGRANT_SHARE_LOGIT, "log-odds of awareness per unit of the "
                                        "community's migrant_share (0-1)", "same model as aware_within15_logit",
                                        "survey + communities", "log-odds per share"),
        "participate_aware_lpm": _e(P.PARTICIPATE_AWARE_LPM, "change in the probability of having participated "
                                    "for residents aware of the centre", f"OLS linear probability model of "
                                    f"participated on aware_center and share_60plus; {fe}", "survey + communities",
                                    "probability"),
        "participate_share60_lpm": _e(P.PARTICIPATE_SHARE60_LPM, "change in the probability of having participated "
                                      "per unit of the community's share_60plus", "same model as "
                                      "participate_aware_lpm", "survey + communities", "probability per share"),
        "sat_participated": _e(P.SAT_PARTICIPATED, "sat_score points for residents who participated",
                               "MixedLM of sat_score on participated, aware_center, within15 with district and "
                               "community random intercepts (or community random intercept + district dummies)",
                               "survey", "points (0-100)"),
        "sat_aware": _e(P.SAT_AWARE, "sat_score points for residents aware of the centre (the direct effect)",
                        "same model as sat_participated", "survey", "points (0-100)"),
        "sat_within15": _e(P.SAT_WITHIN15, "sat_score points for residents within a 15-minute walk",
                           "same model as sat_participated", "survey", "points (0-100)"),
        "sat_district_sd": _e(P.SAT_DISTRICT_SD, "sd of the district random intercept u_d of sat_score (the "
                              "distribution it was drawn from; the 12 realised values are in district_effects)",
                              "MixedLM variance component", "survey", "points"),
        "sat_community_sd": _e(P.SAT_COMMUNITY_SD, "sd of the community random intercept v_c of sat_score "
                               "(v_c = 1.5 z_c + independent normal)", "MixedLM variance component", "survey", "points"),
        "sat_residual_sd": _e(P.SAT_RESIDUAL_SD, "sd of the resident-level error of sat_score (before clipping)",
                              "MixedLM residual sd", "survey", "points"),
        "mediation_indirect": _e(P.PARTICIPATE_AWARE_LPM * P.SAT_PARTICIPATED, "indirect effect of awareness on "
                                 "sat_score through participation = participate_aware_lpm * sat_participated",
                                 "product of coefficients (LPM of participated; MixedLM of sat_score)", "survey",
                                 "points (0-100)"),
        "mediation_direct": _e(P.SAT_AWARE, "direct effect of awareness on sat_score = sat_aware",
                               "MixedLM of sat_score (coefficient of aware_center)", "survey", "points (0-100)"),
        "sat_service_within15_ologit": _e(P.SAT_SERVICE_WITHIN15_OLOGIT, "ordered-logit coefficient of within15 "
                                          "on sat_service", "statsmodels OrderedModel (logit) of sat_service on "
                                          "within15, aware_center and district dummies", "survey", "log-odds"),
        "sat_service_aware_ologit": _e(P.SAT_SERVICE_AWARE_OLOGIT, "ordered-logit coefficient of aware_center on "
                                       "sat_service", "same model as sat_service_within15_ologit", "survey", "log-odds"),
        "platform_logit_hazard": _e(P.PLATFORM_LOGIT_HAZARD, "shift in the log-odds of an uncovered active "
                                    "organisation setting up a party organisation in a year once its sub-district "
                                    "has adopted the platform", "discrete-time logit hazard on organisation-years "
                                    "(at risk: founded <= t < year_closed, not yet covered) with district fixed "
                                    "effects and log1p(party_members)", "organisations + platform", "log-odds"),
        "platform_att_by_event_time": _e({k: round(v, 6) for k, v in w.truth["platform_att_by_event_time"].items()},
                                         "expected effect of adoption on the sub-district organisational coverage rate "
                                         "(covered active orgs / active orgs, end of year) at event time e = t - "
                                         "platform_year, averaged with equal weight over treated sub-districts "
                                         "observed at e; analytic: treated minus untreated survival path given each "
                                         "organisation's realised status before adoption",
                                         "staggered DiD / event study (e.g. Callaway-Sant'Anna with never- and "
                                         "not-yet-treated controls, base year platform_year - 1) on the "
                                         "sub-district x year coverage panel", "organisations + platform",
                                         "percentage points"),
        "platform_att": _e(round(w.truth["platform_att"], 6), "mean of platform_att_by_event_time over e = 0..3",
                           "same as platform_att_by_event_time, simple average over e", "organisations + platform",
                           "percentage points"),
        "registration_agreement_logit": _e(P.REGISTRATION_AGREEMENT_LOGIT, "log-odds of an in-service member "
                                           "registering per unit of the community-year agreement share "
                                           "(signed_agreements / resident_units, 0 if no units)",
                                           f"binomial GLM of registered out of in_service_resident; {fe}",
                                           "members + joint_building", "log-odds per share"),
        "eight_haves_funding_logit": _e(P.EIGHT_HAVES_FUNDING_LOGIT, "log-odds of each eight-haves item per sd of "
                                        "community funding_10k_yuan", "binomial GLM of the 0-8 score out of 8 on "
                                        "standardised funding and staff (notes.eight_haves_standardisation)",
                                        "service_points + communities", "log-odds per sd"),
        "eight_haves_staff_logit": _e(P.EIGHT_HAVES_STAFF_LOGIT, "log-odds of each eight-haves item per sd of "
                                      "community staff", "same model as eight_haves_funding_logit",
                                      "service_points + communities", "log-odds per sd"),
        "assessment_satisfaction_corr": _e(round(w.truth["assessment_satisfaction_corr"], 6),
                                           "population correlation across all communities between the 2018-2024 "
                                           "mean assessment score (as published) and E[sat_score | c]",
                                           "correlation of community mean scores with survey-based community "
                                           "satisfaction (attenuated by sampling noise; compare with shrinkage)",
                                           "assessment + survey", "correlation"),
    }
    dids = w.districts["district_id"].tolist()
    deff = {dids[k]: {name: round(float(v[k]), 6) for name, v in w.eff.items()} for k in range(len(dids))}
    notes = {
        "synthetic": "All data are SYNTHETIC, generated by helpers.data.synth; no real place, person or organisation.",
        "latent_field": f"z_c: Gaussian field on community centroids, covariance exp(-d / {P.FIELD_RANGE_M:.0f} m), "
                        "sd 1; enters org hazard (0.3), registration (0.2), sat_score v_c (1.5).",
        "survey_design": f"strata = districts; {P.PSU_PER_STRATUM} PSUs (communities) per stratum and year drawn by "
                         f"randomised systematic PPS (size = population); {P.RESP_PER_PSU} residents per PSU by SRS; "
                         "weight = 1 / (psu_prob * m / population) * m / respondents in the PSU.",
        "walk_minutes": f"round(dist_m * {P.DETOUR} / {P.WALK_SPEED_M_PER_MIN:.0f}, 1); within15 = walk_minutes "
                        "<= 15; band15_30 = 15 < walk_minutes <= 30.",
        "sat_service_cutpoints": list(P.SAT_SERVICE_CUTS),
        "sat_overall_cuts": list(P.SAT_OVERALL_CUTS),
        "trust_committee": {"slope_on_sat_score": P.TRUST_SLOPE, "cutpoints": list(P.TRUST_CUTS)},
        "platform_att_treated_subdistricts_by_event_time": w.truth["_platform_att_n"],
        "org_hazard": f"logit h = {P.ORG_HAZARD_INTERCEPT} + district shift + {P.ORG_HAZARD_FIELD} z_c + "
                      f"{P.ORG_HAZARD_MEMBERS} log1p(party_members) + platform_logit_hazard * 1[t >= platform_year]; "
                      f"simulated yearly from max(year_founded, {P.ORG_SIM_START}) while founded <= t < year_closed.",
        **{k: v for k, v in w.notes.items()},
    }
    return {"synthetic": True, "seed": seed, "generator_version": version, "effects": eff,
            "district_effects": deff, "notes": notes}
