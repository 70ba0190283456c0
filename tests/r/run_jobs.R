# Run several R snippets in one R session and write each one's `result` data frame.
#
# Usage: Rscript run_jobs.R manifest.csv
#   manifest.csv: columns name, code (path of an R file), out (path of the CSV to write).
#   Each code file is sourced into a fresh environment (survey loaded once, here); it must
#   leave a data frame called `result`. Numbers are written with 17 significant digits.
#   A snippet that fails writes its error message to out + ".err" and the others still run.
suppressMessages(library(survey))
jobs <- read.csv(commandArgs(TRUE)[1], stringsAsFactors = FALSE)
full <- function(df) {
  for (k in names(df)) if (is.numeric(df[[k]])) df[[k]] <- sprintf("%.17g", df[[k]])
  df
}
for (i in seq_len(nrow(jobs))) {
  env <- new.env(parent = globalenv())
  tryCatch({
    withCallingHandlers(sys.source(jobs$code[i], envir = env),
                        warning = function(w) invokeRestart("muffleWarning"))
    write.csv(full(as.data.frame(env$result)), jobs$out[i], row.names = FALSE)
  }, error = function(e) writeLines(conditionMessage(e), paste0(jobs$out[i], ".err")))
}
