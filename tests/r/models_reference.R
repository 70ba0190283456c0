# Reference fits from R's ordinal (clm), MASS (polr) and lme4 (lmer) for tests/test_models_r.py.
#
# Usage: Rscript models_reference.R jobs.csv
#   jobs.csv: one row per fit: id, kind (clm | polr | lmer), data (a CSV path, or "R:<name>"
#   for a dataset shipped with R: wine (ordinal::wine), housing (MASS::housing, one row per
#   respondent), oats (MASS::oats), oats_unbalanced (oats without every 5th row)), formula
#   (R formula; for clm/polr the response is made an ordered factor), out (a CSV path).
#   For an "R:" dataset the frame the fit used is written to out + ".data.csv" (numeric
#   dummies with plain names), so that Python fits exactly the same rows.
# Output per fit: term, estimate, se (17 significant digits) for every coefficient
#   ((Intercept) for lmer), every threshold (clm/polr: "1|2", ...), and for lmer the rows
#   var(<grouping>) and var(residual); plus rows logLik (clm/polr: the log-likelihood;
#   lmer: minus half the REML criterion) and max_grad (clm: its maxGradient; lmer: the
#   largest absolute gradient of the profiled deviance). A fit that fails writes its
#   error to out + ".err".
#
# Optimiser settings: the reference is each package's own converged optimum. clm's Newton
# steps run to gradTol 1e-10; polr's BFGS to reltol 1e-14 (its Hessian stays numerical);
# lmer's default nloptwrap stops at xtol_abs = ftol_abs = 1e-8 on the deviance, which
# leaves the variance components uncertain in the 6th digit, so it runs to 1e-14/1e-16.
suppressMessages({library(ordinal); library(MASS); library(lme4)})
g <- function(x) sprintf("%.17g", as.numeric(x))
builtin <- function(name) {
  if (name == "wine") {
    w <- ordinal::wine
    return(data.frame(rating = as.integer(w$rating), warm = as.numeric(w$temp == "warm"),
                      contact = as.numeric(w$contact == "yes")))
  }
  if (name == "housing") {
    h <- MASS::housing
    h <- h[rep(seq_len(nrow(h)), h$Freq), ]
    return(data.frame(sat = as.integer(h$Sat), infl_medium = as.numeric(h$Infl == "Medium"),
                      infl_high = as.numeric(h$Infl == "High"), type_apartment = as.numeric(h$Type == "Apartment"),
                      type_atrium = as.numeric(h$Type == "Atrium"), type_terrace = as.numeric(h$Type == "Terrace"),
                      cont_high = as.numeric(h$Cont == "High")))
  }
  if (name %in% c("oats", "oats_unbalanced")) {
    o <- MASS::oats
    d <- data.frame(grain = o$Y, nitro = as.numeric(sub("cwt", "", as.character(o$N))),
                    marvellous = as.numeric(o$V == "Marvellous"), victory = as.numeric(o$V == "Victory"),
                    block = as.character(o$B), variety = as.character(o$V))
    if (name == "oats_unbalanced") d <- d[seq_len(nrow(d)) %% 5 != 0, ]
    return(d)
  }
  stop("unknown dataset ", name)
}
lmer_ctl <- lmerControl(optimizer = "nloptwrap",
                        optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-16, xtol_rel = 0, ftol_rel = 0, maxeval = 1e5))
fit_one <- function(j) {
  if (startsWith(j$data, "R:")) {
    d <- builtin(sub("^R:", "", j$data))
    write.csv(d, paste0(j$out, ".data.csv"), row.names = FALSE)
  } else {
    d <- read.csv(j$data, stringsAsFactors = FALSE)
  }
  fm <- as.formula(j$formula)
  if (j$kind %in% c("clm", "polr")) {
    y <- all.vars(fm)[1]
    d[[y]] <- factor(d[[y]], levels = sort(unique(d[[y]])), ordered = TRUE)
  }
  if (j$kind == "clm") {
    m <- clm(fm, data = d, control = clm.control(gradTol = 1e-10))
    cf <- coef(summary(m))
    extra <- data.frame(term = c("logLik", "max_grad"), estimate = g(c(logLik(m), m$maxGradient)), se = "NA")
  } else if (j$kind == "polr") {
    m <- polr(fm, data = d, Hess = TRUE, control = list(reltol = 1e-14, maxit = 10000))
    cf <- coef(summary(m))
    extra <- data.frame(term = "logLik", estimate = g(logLik(m)), se = "NA")
  } else if (j$kind == "lmer") {
    m <- lmer(fm, data = d, REML = TRUE, control = lmer_ctl)
    cf <- cbind(fixef(m), sqrt(diag(as.matrix(vcov(m)))))
    vc <- as.data.frame(VarCorr(m))
    grad <- m@optinfo$derivs$gradient
    extra <- data.frame(term = c(paste0("var(", vc$grp, ")"), "logLik", "max_grad"),
                        estimate = g(c(vc$vcov, -REMLcrit(m) / 2, if (is.null(grad)) NA else max(abs(grad)))),
                        se = "NA")
  } else {
    stop("unknown kind ", j$kind)
  }
  out <- rbind(data.frame(term = rownames(cf), estimate = g(cf[, 1]), se = g(cf[, 2])), extra)
  write.csv(out, j$out, row.names = FALSE)
}
args <- commandArgs(trailingOnly = TRUE)
jobs <- read.csv(args[1], stringsAsFactors = FALSE)
for (i in seq_len(nrow(jobs))) {
  j <- jobs[i, ]
  tryCatch(fit_one(j), error = function(e) writeLines(conditionMessage(e), paste0(j$out, ".err")))
}
