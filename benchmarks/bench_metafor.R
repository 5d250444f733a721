# Called by bench.py: times metafor on the same simulated strata, start-up excluded.
suppressPackageStartupMessages(library(metafor))
files <- jsonlite::fromJSON(commandArgs(TRUE)[1])
timeit <- function(expr) unname(system.time(expr)["elapsed"])
many <- read.csv(files$many)
qp <- read.csv(files$qp)
failed <- 0
t_many <- timeit(for (d in split(many, many$g)) {
  fit <- try(rma(d$yi, d$vi, method = "REML", test = "knha"), silent = TRUE)
  if (inherits(fit, "try-error")) failed <- failed + 1 else predict(fit)
})
t_qp <- timeit(for (d in split(qp, qp$g)) {
  fit <- try(rma(d$yi, d$vi, method = "REML"), silent = TRUE)
  if (!inherits(fit, "try-error")) confint(fit)
})
cat(jsonlite::toJSON(list(many = t_many, many_failed = failed, qp = t_qp), auto_unbox = TRUE,
                     digits = NA), "\n")
