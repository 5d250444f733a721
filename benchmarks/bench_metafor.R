# Called by bench.py: times metafor on the same simulated data, start-up excluded.
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

# three-level model (sparse matrices: the dense k x k fit is far slower), then CR2 tests by
# clubSandwich; each timed once (the fit takes minutes)
ml <- read.csv(files$ml)
t_ml <- timeit(fit_ml <- rma.mv(yi, vi, random = ~ 1 | study / cluster2, data = ml, method = "REML",
                                sparse = TRUE))
t_cr2 <- timeit(robust(fit_ml, cluster = ml$study, clubSandwich = TRUE))

# leave-one-out and influence diagnostics (each includes the full rma() fit they start from)
l1o <- read.csv(files$l1o)
t_l1o <- timeit(leave1out(rma(l1o$yi, l1o$vi, method = "REML")))
t_inf <- timeit(influence(rma(l1o$yi, l1o$vi, method = "REML")))

# permutation test of a meta-regression with two moderators
perm <- read.csv(files$perm)
set.seed(2024)
t_perm <- timeit(permutest(rma(yi, vi, mods = ~ x1 + x2, data = perm, method = "REML", test = "knha"),
                           iter = 1000, progbar = FALSE))

cat(jsonlite::toJSON(list(many = t_many, many_failed = failed, qp = t_qp, ml = t_ml, cr2 = t_cr2,
                          l1o = t_l1o, inf = t_inf, perm = t_perm),
                     auto_unbox = TRUE, digits = NA), "\n")
