# Reference values for premeta.next_experiment (issue 23, part 1): animals per arm of the next two-arm
# experiment by power (R's power.t.test) and by assurance (O'Hagan, Stevens & Campbell 2005, Pharm Stat
# 4:187), the power averaged over the predictive distribution N(estimate, se^2 + tau2) of the new
# experiment's true effect. Run from the repository root:
#
#   Rscript tests/reference/make_next_experiment_fixtures.R
#
# It writes tests/reference/metafor_next_experiment.json at full precision (toJSON digits = NA).
# Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
#
# Inputs: real pooled estimates, rma(method = "REML") of Hedges' g on metadat's dat.besson2016 (maternal
# diet and offspring behaviour; SD = SE * sqrt(n) as its help page), one model per species and per sex
# and of dat.curtis1998 below (the comparisons treated as independent: these are inputs to the design, not a claim about the data).
# Power: the two-sided two-sample t test in the direction of the estimate, power.t.test's default
# strict = FALSE. Assurance at n: integrate() of power(n, delta) * dnorm(delta, est, sqrt(se^2 + tau2))
# (rel.tol = 1e-10, tighter than its default, so that the reference is the integral to 1e-10), and a
# seeded simulation of 1e6 experiments (delta drawn from the predictive distribution, then the
# t statistic from its normal and chi-square parts), with its Monte Carlo standard error.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

d <- dat.besson2016
d <- d[with(d, !is.na(exp_mean) & !is.na(con_mean) & exp_se > 0 & con_se > 0 & exp_n > 1 & con_n > 1), ]
d <- escalc(measure = "SMD", m1i = exp_mean, sd1i = exp_se * sqrt(exp_n), n1i = exp_n,
            m2i = con_mean, sd2i = con_se * sqrt(con_n), n2i = con_n, data = d)
strata <- list(species_mice = d$species == "mice", species_rats = d$species == "rats",
               sex_f = d$sex == "f", sex_m = d$sex == "m", sex_both = d$sex == "both")
# besson2016 is so heterogeneous that no assurance reaches 0.8 (its limit is below): a less heterogeneous
# real dataset as well, metadat's dat.curtis1998 (plant mass under elevated CO2), overall and per
# functional group, so that n_assurance is finite
curtis <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                 data = dat.curtis1998)
data_of <- c(setNames(rep(list(d), length(strata)), names(strata)),
             list(curtis_all = curtis, curtis_angio = curtis, curtis_gymno = curtis))
strata <- c(strata, list(curtis_all = rep(TRUE, nrow(curtis)), curtis_angio = curtis$fungrp == "ANGIO",
                         curtis_gymno = curtis$fungrp == "GYMNO"))
target <- 0.8
alpha <- 0.05

power_at <- function(n, delta) {
  # power.t.test(n, delta, sd = 1, sig.level = alpha)$power for delta > 0, extended to delta of either sign:
  # the probability of rejecting in the direction of delta > 0
  nu <- 2 * (n - 1)
  pt(qt(alpha / 2, nu, lower.tail = FALSE), nu, ncp = sqrt(n / 2) * delta, lower.tail = FALSE)
}
assurance <- function(n, est, v) {
  s <- sign(est)
  integrate(function(x) power_at(n, s * x) * dnorm(x, est, sqrt(v)), -Inf, Inf, rel.tol = 1e-10)$value
}
simulate <- function(n, est, v, draws = 1e6) {
  s <- sign(est)
  nu <- 2 * (n - 1)
  delta <- rnorm(draws, est, sqrt(v))
  tstat <- (rnorm(draws) + sqrt(n / 2) * delta) / sqrt(rchisq(draws, nu) / nu)
  hit <- s * tstat > qt(alpha / 2, nu, lower.tail = FALSE)
  c(mean(hit), sd(hit) / sqrt(draws))
}

set.seed(20230)
rows <- lapply(names(strata), function(g) {
  fit <- rma(yi, vi, data = data_of[[g]], subset = strata[[g]], method = "REML")
  est <- as.numeric(fit$beta)
  v <- fit$se^2 + fit$tau2
  pw <- power.t.test(delta = est, sd = 1, sig.level = alpha, power = target)
  n_power <- ceiling(pw$n)
  a_power <- assurance(n_power, est, v)
  limit <- pnorm(abs(est) / sqrt(v))
  n_assurance <- NA
  if (limit > target) {  # smallest whole n with assurance >= target, by doubling then bisection
    hi <- 2
    while (assurance(hi, est, v) < target) hi <- 2 * hi
    lo <- if (hi > 2) hi / 2 else 1
    while (hi - lo > 1) {
      mid <- floor((lo + hi) / 2)
      if (assurance(mid, est, v) >= target) hi <- mid else lo <- mid
    }
    n_assurance <- hi
  }
  sim <- simulate(n_power, est, v)
  list(group = g, k = fit$k, estimate = est, se = fit$se, tau2 = fit$tau2,
       n_power_exact = pw$n, n_power = n_power, power_at_n_power = power.t.test(n = n_power, delta = est,
       sd = 1, sig.level = alpha)$power, assurance_at_n_power = a_power, assurance_limit = limit,
       n_assurance = n_assurance,
       assurance_at_n_assurance = if (is.na(n_assurance)) NA else assurance(n_assurance, est, v),
       simulated_assurance_at_n_power = sim[1], simulation_se = sim[2])
})

out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  target = target, alpha = alpha, draws = 1e6, seed = 20230,
  groups = rows
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/metafor_next_experiment.json")
