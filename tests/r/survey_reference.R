# Reference values from R's survey package for tests/test_survey_r.py.
#
# Usage: Rscript survey_reference.R jobs.csv
#   jobs.csv: one row per design: data, tasks, out (file paths), weight, strata, psu (stage
#   columns joined by "+"), fpc (joined by "+"), lonely (survey.lonely.psu), ultimate
#   (TRUE/FALSE: survey.ultimate.cluster). All designs run in this one R session (R and
#   the survey package load once). A design that fails writes its error to out + ".err".
# tasks: id, stat (mean|total|ratio|prop), var, den, by (columns joined by "+"), level
#   (categories joined by "|"). Output: one row per task and domain: id, key (domain values
#   joined by "|"), estimate, se, ci_low, ci_high (R's confint: normal quantile; for prop:
#   svyciprop's interval), ci_low_t, ci_high_t (estimate -/+ qt(0.975, degf(domain)) * se),
#   deff (NA for prop: it is svymean's deff of the indicator, checked through the mean
#   tasks), df, n.
suppressMessages(library(survey))
f <- function(s) if (nzchar(s)) as.formula(paste("~", s)) else NULL
run_job <- function(opt) {
options(survey.lonely.psu = opt$lonely, survey.ultimate.cluster = as.logical(opt$ultimate))
dat <- read.csv(opt$data, stringsAsFactors = FALSE)
tasks <- read.csv(opt$tasks, stringsAsFactors = FALSE, colClasses = "character")
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
      dm <- NA
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
    dm <- rep(NA, nrow(r))  # the deff of a proportion is svymean's, compared in the mean tasks
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
write.csv(do.call(rbind, rows), opt$out, row.names = FALSE)
}
jobs <- read.csv(commandArgs(TRUE)[1], stringsAsFactors = FALSE, colClasses = "character")
jobs[is.na(jobs)] <- ""
for (k in seq_len(nrow(jobs))) {
  opt <- as.list(jobs[k, ])
  if (!nzchar(opt$lonely)) opt$lonely <- "fail"
  if (!nzchar(opt$ultimate)) opt$ultimate <- "FALSE"
  tryCatch(run_job(opt), error = function(e) writeLines(conditionMessage(e), paste0(opt$out, ".err")))
}
