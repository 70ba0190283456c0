# Reference values from R's survey package for tests/test_survey_r.py.
#
# Usage: Rscript survey_reference.R data.csv tasks.csv out.csv key=value ...
#   keys: weight, strata, psu (stage columns joined by "+"), fpc (joined by "+"),
#         lonely (survey.lonely.psu), ultimate (TRUE/FALSE: survey.ultimate.cluster)
# tasks.csv: id, stat (mean|total|ratio|prop), var, den, by (columns joined by "+"), level
#   (categories joined by "|"). One run computes every task of one design, writing one
#   row per task and domain: id, key (domain values joined by "|"), estimate, se,
#   ci_low, ci_high (R's confint: normal quantile; for prop: svyciprop's interval),
#   ci_low_t, ci_high_t (estimate -/+ qt(0.975, degf(domain)) * se), deff, df, n.
suppressMessages(library(survey))
args <- commandArgs(TRUE)
opt <- list(weight = "", strata = "", psu = "", fpc = "", lonely = "fail", ultimate = "FALSE")
for (a in args[-(1:3)]) {
  kv <- regmatches(a, regexpr("=", a), invert = TRUE)[[1]]
  opt[[kv[1]]] <- kv[2]
}
options(survey.lonely.psu = opt$lonely, survey.ultimate.cluster = as.logical(opt$ultimate))
dat <- read.csv(args[1], stringsAsFactors = FALSE)
tasks <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = "character")
f <- function(s) if (nzchar(s)) as.formula(paste("~", s)) else NULL
design <- svydesign(ids = if (nzchar(opt$psu)) f(opt$psu) else ~1,
                    strata = f(opt$strata), weights = f(opt$weight), fpc = f(opt$fpc),
                    data = dat, nest = TRUE)
g <- function(x) sprintf("%.17g", as.numeric(x))
rows <- list()
emit <- function(id, key, est, se, lo, hi, deff, df, n) {
  q <- qt(0.975, df)
  rows[[length(rows) + 1]] <<- data.frame(
    id = id, key = key, estimate = g(est), se = g(se), ci_low = g(lo), ci_high = g(hi),
    ci_low_t = g(est - q * se), ci_high_t = g(est + q * se), deff = g(deff), df = g(df), n = n)
}
for (i in seq_len(nrow(tasks))) {
  t <- tasks[i, ]
  if (t$stat == "prop") {
    lv <- strsplit(t$level, "|", fixed = TRUE)[[1]]
    v <- design$variables[[t$var]]
    design$variables$.ind <- ifelse(is.na(v), NA, as.numeric(as.character(v) %in% lv))
    fm <- ~.ind
    cc <- !is.na(v)
  } else if (t$stat == "ratio") {
    cc <- !is.na(design$variables[[t$var]]) & !is.na(design$variables[[t$den]])
  } else {
    fm <- f(t$var)
    cc <- !is.na(design$variables[[t$var]])
  }
  if (!nzchar(t$by)) {
    m <- switch(t$stat,
      mean = svymean(fm, design, na.rm = TRUE, deff = TRUE),
      total = svytotal(fm, design, na.rm = TRUE, deff = TRUE),
      ratio = svyratio(f(t$var), f(t$den), design, na.rm = TRUE, deff = TRUE),
      prop = svyciprop(fm, design, method = "logit", na.rm = TRUE))
    if (t$stat == "prop") {
      ci <- attr(m, "ci")
      dm <- deff(svymean(fm, design, na.rm = TRUE, deff = TRUE))
    } else {
      ci <- confint(m)
      dm <- deff(m)
    }
    emit(t$id, "", coef(m), SE(m), ci[1], ci[2], dm, degf(design), sum(cc))
    next
  }
  byv <- strsplit(t$by, "+", fixed = TRUE)[[1]]
  byf <- f(t$by)
  r <- switch(t$stat,
    mean = svyby(fm, byf, design, svymean, na.rm = TRUE, deff = TRUE, keep.names = FALSE),
    total = svyby(fm, byf, design, svytotal, na.rm = TRUE, deff = TRUE, keep.names = FALSE),
    ratio = svyby(f(t$var), byf, design, svyratio, denominator = f(t$den), na.rm = TRUE,
                  deff = TRUE, keep.names = FALSE),
    prop = svyby(fm, byf, design, svyciprop, method = "logit", na.rm = TRUE,
                 vartype = c("se", "ci"), keep.names = FALSE))
  if (t$stat == "prop") {
    ci <- cbind(r$ci_l, r$ci_u)
    dm <- deff(svyby(fm, byf, design, svymean, na.rm = TRUE, deff = TRUE, keep.names = FALSE))
  } else {
    ci <- confint(r)
    dm <- deff(r)
  }
  est <- coef(r)
  se <- SE(r)
  for (j in seq_len(nrow(r))) {
    idx <- rep(TRUE, nrow(dat))
    for (b in byv) idx <- idx & !is.na(dat[[b]]) & dat[[b]] == r[[b]][j]
    key <- paste(sapply(byv, function(b) as.character(r[[b]][j])), collapse = "|")
    emit(t$id, key, est[j], se[j], ci[j, 1], ci[j, 2], dm[j], degf(design[idx, ]), sum(cc & idx))
  }
}
write.csv(do.call(rbind, rows), args[3], row.names = FALSE)
