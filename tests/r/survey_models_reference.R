# Reference values from R's survey package for tests/test_survey_models_r.py.
#
# Usage: Rscript survey_models_reference.R designs.csv tasks.csv out.csv
#   designs.csv: one row per design: name, data (CSV path), ids, strata, weights, fpc (R formula
#     right-hand sides, "" for none), lonely (survey.lonely.psu).
#   tasks.csv: id, design, kind, expr: an R expression evaluated with the design bound to `d`
#     (and `dat`, its data frame). kind says how its value is written:
#       glm    a svyglm: coefficients, SEs, t p-values, Wald intervals (confint), vcov,
#              df.residual, deviance (keys by position: coef:1, vcov:1:2, ...)
#       olr    a svyolr: coefficients then cut-points, and vcov (by position)
#       stat   anything with coef() and vcov() (svystat, svyby with covmat, svycontrast):
#              keyed by name (coef:<name>, vcov:<name>:<name>)
#       pred   a predict.svyglm result (by position: fit:1, se:1)
#       htest  svychisq/svyttest: statistic, parameter(s), p.value, estimate, conf.int
# All designs and tasks run in this one R session. Output: id, key, value (a task that fails
# writes key "error" with R's message). Nothing here holds reference numbers.
suppressMessages(library(survey))
args <- commandArgs(TRUE)
designs <- read.csv(args[1], stringsAsFactors = FALSE, colClasses = "character")
tasks <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = "character")
designs[is.na(designs)] <- ""
f <- function(s) if (nzchar(s)) as.formula(paste("~", s)) else NULL
g <- function(x) sprintf("%.17g", as.numeric(x))
out <- list()
emit <- function(id, key, value) out[[length(out) + 1]] <<- data.frame(id = id, key = key, value = value)
made <- list()
for (k in seq_len(nrow(designs))) {
  o <- as.list(designs[k, ])
  dat <- read.csv(o$data, stringsAsFactors = FALSE)
  made[[o$name]] <- list(lonely = if (nzchar(o$lonely)) o$lonely else "fail", dat = dat,
    d = svydesign(ids = if (nzchar(o$ids)) f(o$ids) else ~1, strata = f(o$strata),
                  weights = f(o$weights), fpc = f(o$fpc), data = dat, nest = TRUE))
}
# svyolr run to convergence: optim's reltol far below its default, and a small finite-difference
# step (one per parameter) for the Hessian that R takes numerically
olr_tight <- function(formula, design, method = "logistic", start = NULL) {
  mf <- model.frame(formula, model.frame(design))
  np <- ncol(model.matrix(formula, mf)) - 1 + nlevels(model.response(mf)) - 1
  ctl <- list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, np))
  if (is.null(start)) svyolr(formula, design, method = method, control = ctl)
  else svyolr(formula, design, method = method, control = ctl, start = start)
}
by_position <- function(id, cf, V) {
  for (i in seq_along(cf)) emit(id, paste0("coef:", i), g(cf[i]))
  for (i in seq_along(cf)) for (j in seq_along(cf)) emit(id, paste0("vcov:", i, ":", j), g(V[i, j]))
}
for (i in seq_len(nrow(tasks))) {
  t <- as.list(tasks[i, ])
  m <- made[[t$design]]
  options(survey.lonely.psu = m$lonely)
  env <- new.env()
  env$d <- m$d
  env$dat <- m$dat
  res <- tryCatch(eval(parse(text = t$expr), envir = env), error = function(e) e)
  if (inherits(res, "error")) {
    emit(t$id, "error", conditionMessage(res))
    next
  }
  if (t$kind == "glm") {
    s <- summary(res)$coefficients
    by_position(t$id, coef(res), vcov(res))
    ci <- confint(res)
    for (j in seq_len(nrow(s))) {
      emit(t$id, paste0("se:", j), g(s[j, 2]))
      emit(t$id, paste0("p:", j), g(s[j, 4]))
      emit(t$id, paste0("ci_low:", j), g(ci[j, 1]))
      emit(t$id, paste0("ci_high:", j), g(ci[j, 2]))
    }
    emit(t$id, "df", g(res$df.residual))
    emit(t$id, "deviance", g(deviance(res)))
  } else if (t$kind == "olr") {
    by_position(t$id, coef(res), vcov(res))
    emit(t$id, "df", g(res$df.residual))
  } else if (t$kind == "stat") {
    cf <- coef(res)
    V <- as.matrix(vcov(res))
    nm <- names(cf)
    for (a in seq_along(cf)) {
      emit(t$id, paste0("coef:", nm[a]), g(cf[a]))
      for (b in seq_along(cf)) emit(t$id, paste0("vcov:", nm[a], ":", nm[b]), g(V[a, b]))
    }
  } else if (t$kind == "pred") {
    v <- as.numeric(res)
    se <- sqrt(as.numeric(attr(res, "var")))
    for (a in seq_along(v)) {
      emit(t$id, paste0("fit:", a), g(v[a]))
      emit(t$id, paste0("se:", a), g(se[a]))
    }
  } else if (t$kind == "htest") {
    emit(t$id, "statistic", g(res$statistic))
    pr <- res$parameter
    for (a in seq_along(pr)) emit(t$id, paste0("parameter:", names(pr)[a]), g(pr[a]))
    emit(t$id, "p", g(res$p.value))
    if (!is.null(res$estimate)) emit(t$id, "estimate", g(res$estimate))
    if (!is.null(res$conf.int)) {
      emit(t$id, "ci_low", g(res$conf.int[1]))
      emit(t$id, "ci_high", g(res$conf.int[2]))
    }
  } else {
    emit(t$id, "error", paste("unknown kind", t$kind))
  }
}
write.csv(do.call(rbind, out), args[3], row.names = FALSE)
