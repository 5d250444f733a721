# Called by bench_gosh.py: times metafor's gosh() (all 2^k - 1 subsets) on the same data, start-up
# excluded; prints one JSON object {method: seconds}.
suppressPackageStartupMessages(library(metafor))
d <- jsonlite::fromJSON(commandArgs(TRUE)[1])
methods <- commandArgs(TRUE)[-1]
out <- list()
for (m in methods) {
  fit <- rma(d$yi, d$vi, method = m)
  out[[m]] <- unname(system.time(g <- gosh(fit, progbar = FALSE))["elapsed"])
  stopifnot(nrow(g$res) == 2^length(d$yi) - 1)
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
