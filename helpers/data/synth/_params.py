"""Planted parameters of the synthetic city (see docs/synthetic_dgp.md)."""
from __future__ import annotations

YEARS = tuple(range(2018, 2025))

#: Component names -> index of the child random stream (append only: never reorder).
STREAMS = ("geo", "names", "attributes", "field", "effects", "platform", "orgs", "points",
           "members", "joint", "assessment", "survey", "truth_mc", "big_survey", "census")

# --- census (population margins) ---------------------------------------------
CENSUS_YEAR = 2020
CENSUS_FEMALE_SHARE = 0.5   # as the survey's sex draw
# ages are uniform on 18-59 (under 60) and 60-90 (60 and over), as the survey's age draw
AGE_UNDER60 = (18, 59)
AGE_60PLUS = (60, 90)

# --- survey ---------------------------------------------------------------
PSU_PER_STRATUM = 8
RESP_PER_PSU = 20
ITEM_MISSING = 0.02
WALK_SPEED_M_PER_MIN = 80.0
DETOUR = 1.25

AWARE_WITHIN15_LOGIT = 0.9
AWARE_15TO30_LOGIT = 0.4
AWARE_MIGRANT_SHARE_LOGIT = -1.5
AWARE_INTERCEPT_MEAN, AWARE_INTERCEPT_SD = -0.3, 0.35

PARTICIPATE_AWARE_LPM = 0.15
PARTICIPATE_SHARE60_LPM = 0.40
PARTICIPATE_INTERCEPT_RANGE = (0.10, 0.22)

SAT_BASE = 55.0
SAT_PARTICIPATED = 6.0
SAT_AWARE = 4.0
SAT_WITHIN15 = 3.0
SAT_DISTRICT_SD = 4.0
SAT_COMMUNITY_SD = 3.0
SAT_FIELD_LOADING = 1.5
SAT_RESIDUAL_SD = 12.0

SAT_SERVICE_WITHIN15_OLOGIT = 0.5
SAT_SERVICE_AWARE_OLOGIT = 0.8
SAT_SERVICE_DISTRICT_SD = 0.3
SAT_SERVICE_CUTS = (-1.2, 0.0, 1.3, 2.6)
SAT_OVERALL_CUTS = (35.0, 50.0, 65.0, 80.0)
TRUST_SLOPE = 0.05
TRUST_CUTS = (1.2, 2.2, 3.2, 4.2)
COMPLAINT_MADE_P = 0.12
COMPLAINT_RESOLVED_P = 0.6

# --- organisations and platform --------------------------------------------
PLATFORM_COHORTS = (2019, 2020, 2021, 2022, 2023)
PLATFORM_NEVER_SHARE = 0.20
ORG_HAZARD_INTERCEPT = -2.6
ORG_HAZARD_DISTRICT_SD = 0.3
ORG_HAZARD_FIELD = 0.3
ORG_HAZARD_MEMBERS = 0.3
PLATFORM_LOGIT_HAZARD = 0.9
ORG_SIM_START = 1990

# --- members and joint building ---------------------------------------------
REGISTRATION_AGREEMENT_LOGIT = 1.2
REGISTRATION_FIELD = 0.2
REGISTRATION_INTERCEPT_MEAN, REGISTRATION_INTERCEPT_SD = -0.6, 0.35

# --- service points ----------------------------------------------------------
EIGHT_HAVES_INTERCEPT = 0.8
EIGHT_HAVES_FUNDING_LOGIT = 0.5
EIGHT_HAVES_STAFF_LOGIT = 0.3

# --- latent field and assessment ---------------------------------------------
FIELD_RANGE_M = 6000.0
ASSESS_BASE = 75.0
ASSESS_COVERAGE = 6.0
ASSESS_SATISFACTION = 1.6
ASSESS_NOISE_SD = 5.0
