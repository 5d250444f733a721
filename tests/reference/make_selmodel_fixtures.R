# Reference values for premeta.selmodel: metafor 3.8.1's selmodel(rma(yi, vi, method = "ML"), ...)
# on published data. Run from the repository root:
#   Rscript tests/reference/make_selmodel_fixtures.R   -> tests/reference/metafor_selmodel.json
#
# metafor's optimiser stops early: optim's BFGS with its default reltol (1e-8) and finite-difference
# gradients (ndeps 1e-3) leaves the multi-step and beta fits 1e-4 to 1e-3 (relative) away from the
# optimum, and integrate()'s default rel.tol (1.2e-4) moves the log-likelihood of the continuous types
# in its 5th digit. So every fit is polished: it is restarted from its own solution (control beta.init,
# tau2.init, delta.init) with control = list(reltol = 1e-15, ndeps = 1e-6) until the log-likelihood
# stops rising, and the continuous types integrate with intCtrl = list(lower = -20, upper = 20,
# rel.tol = 1e-10, subdivisions = 10000) (the studies' densities have no mass beyond +-20; a tighter
# rel.tol over (-Inf, Inf) makes integrate() stop with a roundoff error).
# The standard errors are metafor's own (numDeriv::hessian), computed once more at the polished optimum
# (control maxit = 0: optim returns the start) with hessianCtrl = list(r = 4, d = 0.05) instead of
# numDeriv's default r = 6, d = 0.1, whose last Richardson steps are so small that rounding moves the
# SEs by up to 1e-6 (relative) even for the closed-form step function; for the continuous types with
# integrate()'s rel.tol = 1e-12 over the tightest range (+-20, else +-10) at which it does not stop,
# else 1e-11, else 1e-10 (recorded as int_rel_tol), as the Hessian's finite differences magnify the
# integration error.
# The polished fit is then finished by Newton steps on metafor's own log-likelihood (function newton).
# Where tau2's optimum is its bound 0 (metafor's optimiser stops near it, at about 1e-6, and its
# numDeriv steps cross the bound), the reference is selmodel(..., tau2 = 0): tau2 fixed at 0, no SE of
# tau2, the SEs of mu and delta with tau2 fixed, as premeta reports that case; the free fit's tau2 and
# log-likelihood are kept beside it (tau2_free, loglik_free).
suppressMessages({library(metafor); library(jsonlite)})

INT <- list(lower = -20, upper = 20, rel.tol = 1e-10, subdivisions = 10000L)

polished <- function(res, type, steps, alternative) {
  args <- list(res, type = type, alternative = alternative, skiphes = TRUE, skiphet = TRUE)
  if (!is.null(steps)) args$steps <- steps
  ctrl <- if (type == "stepfun") list() else list(intCtrl = INT)
  s <- try(do.call(selmodel, c(args, list(control = ctrl))), silent = TRUE)
  if (inherits(s, "try-error")) s <- do.call(selmodel, args)   # start from metafor's defaults
  lo <- s$delta.min + 1e-8; hi <- s$delta.max - 1e-8
  for (i in 1:20) {
    c2 <- c(list(intCtrl = INT)[type != "stepfun"],
            list(beta.init = c(s$beta), tau2.init = max(s$tau2, 1e-8),
                 delta.init = pmin(pmax(s$delta, lo), hi), reltol = 1e-15,
                 ndeps = rep(1e-6, 2 + length(s$delta))))
    s2 <- try(do.call(selmodel, c(args, list(control = c2))), silent = TRUE)
    if (inherits(s2, "try-error") || s2$ll <= s$ll) break
    moved <- max(abs(c(s2$beta - s$beta, s2$tau2 - s$tau2, s2$delta - s$delta)) /
                 pmax(abs(c(s$beta, s$tau2, s$delta)), 1e-6))
    s <- s2
    if (moved < 1e-10) break
  }
  s
}

# metafor's SEs (and every other output) at the optimum s, without moving from it
at_optimum <- function(res, type, steps, alternative, s, tau2 = NULL) {
  args <- list(res, type = type, alternative = alternative)
  if (!is.null(steps)) args$steps <- steps
  if (!is.null(tau2)) args$tau2 <- tau2
  ctrl <- list(beta.init = c(s$beta), tau2.init = max(s$tau2, 1e-8), delta.init = s$delta, maxit = 0,
               hessianCtrl = list(r = 4, d = 0.05))
  if (type == "stepfun") return(c(do.call(selmodel, c(args, list(control = ctrl))), int_rel_tol = NA, int_L = NA))
  for (rt in c(1e-12, 1e-11, 1e-10)) for (L in c(20, 10)) {
    ctrl$intCtrl <- list(lower = -L, upper = L, rel.tol = rt, subdivisions = 10000L)
    f <- tryCatch(do.call(selmodel, c(args, list(control = ctrl))), warning = function(w) NULL,
                  error = function(e) NULL)
    if (!is.null(f) && !anyNA(f$se)) return(c(f, int_rel_tol = rt, int_L = L))
  }
  stop("no integration setting gave a Hessian")
}

# Newton steps on metafor's own log-likelihood (.selmodel.ll.stepfun / .selmodel.ll.cont of the fit s,
# on the untransformed free parameters mu, tau2 unless fixed, the free deltas), numDeriv's gradient and
# Hessian: optim's BFGS cannot resolve the last digits where the likelihood is flat (tau2 and delta of
# the logistic model on Baskerville 2012 move 2e-5 for a log-likelihood change of 2e-10).
newton <- function(s, tau2_fixed, intCtrl) {
  ll <- get(if (s$type == "stepfun") ".selmodel.ll.stepfun" else ".selmodel.ll.cont", asNamespace("metafor"))
  free_delta <- if (s$type == "stepfun") -1 else seq_along(s$delta)
  full <- function(x) {
    tau2 <- if (tau2_fixed) 0 else x[2]
    d <- s$delta; d[free_delta] <- x[(3 - tau2_fixed):length(x)]
    c(x[1], tau2, d)
  }
  fn <- function(x) ll(par = full(x), yi = c(s$yi), vi = s$vi, X = s$X, preci = rep(1, s$k), k = s$k, pX = 1,
                       pvals = s$pvals, deltas = s$deltas,
                       delta.val = ifelse(seq_along(s$delta) %in% seq_along(s$delta)[free_delta], NA, s$delta),
                       delta.transf = FALSE, mapfun = NA, delta.min = s$delta.min, delta.max = s$delta.max,
                       tau2.val = if (tau2_fixed) 0 else NA, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA,
                       wi.fun = s$wi.fun, steps = s$steps, pgrp = s$pgrp, alternative = s$alternative,
                       pval.min = s$pval.min, intCtrl = intCtrl, verbose = FALSE, digits = s$digits)
  x <- c(c(s$beta), if (!tau2_fixed) s$tau2, s$delta[free_delta])
  f0 <- fn(x)
  for (i in 1:10) {
    g <- numDeriv::grad(fn, x, method.args = list(r = 4, d = 0.01))
    H <- numDeriv::hessian(fn, x, method.args = list(r = 4, d = 0.05))
    step <- solve(H, g)
    f1 <- fn(x - step)
    if (!is.finite(f1) || f1 > f0) break
    x <- x - step; f0 <- f1
    if (max(abs(step) / pmax(abs(x), 1e-8)) < 1e-11) break
  }
  f <- full(x)
  list(beta = f[1], tau2 = f[2], delta = f[-(1:2)])
}

INT_HESS <- function(L, rt) list(lower = -L, upper = L, rel.tol = rt, subdivisions = 10000L)

one <- function(yi, vi, type, steps, alternative) {
  res <- rma(yi, vi, method = "ML")
  s <- polished(res, type, steps, alternative)
  free <- list(tau2 = NA, ll = NA)
  if (s$tau2 < 1e-4 * mean(vi)) {   # is the optimum at tau2 = 0?
    args <- list(res, type = type, alternative = alternative, tau2 = 0, skiphes = TRUE,
                 control = c(list(intCtrl = INT)[type != "stepfun"], list(reltol = 1e-15)))
    if (!is.null(steps)) args$steps <- steps
    s0 <- do.call(selmodel, args)
    if (s0$ll >= s$ll - 1e-12) { free <- list(tau2 = s$tau2, ll = s$ll); s <- s0 }
  }
  tau2_fixed <- !is.na(free$tau2)
  s <- at_optimum(res, type, steps, alternative, s, tau2 = if (tau2_fixed) 0 else NULL)
  ic <- if (type == "stepfun") INT else INT_HESS(s$int_L, s$int_rel_tol)
  opt <- newton(s, tau2_fixed, ic)
  s <- at_optimum(res, type, steps, alternative, opt, tau2 = if (tau2_fixed) 0 else NULL)
  list(k = s$k, estimate = c(s$beta), se = s$se, stat = s$zval, p = s$pval,
       ci_low = s$ci.lb, ci_high = s$ci.ub, tau2 = s$tau2, tau2_se = s$se.tau2,
       delta = s$delta, delta_se = s$se.delta, lrt = s$LRT, lrt_df = s$LRTdf, lrt_p = s$LRTp,
       loglik = s$ll, steps = s$steps,
       ptable = if (is.data.frame(s$ptable)) s$ptable$k else NULL,
       int_rel_tol = s$int_rel_tol, tau2_free = free$tau2, loglik_free = free$ll)
}

case <- function(name, data, yi, vi, type, steps = NULL, alternative = "greater", groups = NULL) {
  cat(name, "\n")
  strata <- if (is.null(groups)) list(overall = seq_along(yi)) else split(seq_along(yi), groups)
  list(name = name, data = data, type = type, steps = steps, alternative = alternative,
       yi = yi, vi = vi, groups = groups,
       results = lapply(strata, function(i) one(yi[i], vi[i], type, steps, alternative)))
}

h <- dat.hackshaw1998
l <- dat.lehmann2018
b <- dat.baskerville2012
# Besson et al. 2016 (metadat dat.besson2016) as the corpus sheet holds it: Hedges' g from the means and
# SEMs (SD = SEM * sqrt(n)), oriented so that a positive g is the benefit; one model per species.
r <- read.csv("tests/data/besson2016_rodents.csv")
r <- escalc("SMD", m1i = trt_mean, sd1i = trt_sem * sqrt(trt_n), n1i = trt_n,
            m2i = ctl_mean, sd2i = ctl_sem * sqrt(ctl_n), n2i = ctl_n, data = r, vtype = "LS")
r$yi <- ifelse(r$better == "lower", -1, 1) * r$yi
r <- r[r$vi > 0, ]

cases <- list(
  case("hackshaw_step", "dat.hackshaw1998", h$yi, h$vi, "stepfun", 0.025),
  case("hackshaw_steps4", "dat.hackshaw1998", h$yi, h$vi, "stepfun", c(0.025, 0.10, 0.50, 1)),
  case("hackshaw_step_less", "dat.hackshaw1998", h$yi, h$vi, "stepfun", c(0.05, 0.5), "less"),
  case("hackshaw_step_two_sided", "dat.hackshaw1998", h$yi, h$vi, "stepfun", 0.05, "two.sided"),
  case("lehmann_step", "dat.lehmann2018", l$yi, l$vi, "stepfun", 0.025),
  case("lehmann_beta", "dat.lehmann2018", l$yi, l$vi, "beta"),
  case("baskerville_beta", "dat.baskerville2012", b$smd, b$se^2, "beta"),
  case("baskerville_halfnorm", "dat.baskerville2012", b$smd, b$se^2, "halfnorm"),
  case("baskerville_negexp", "dat.baskerville2012", b$smd, b$se^2, "negexp"),
  case("baskerville_logistic", "dat.baskerville2012", b$smd, b$se^2, "logistic"),
  case("baskerville_power", "dat.baskerville2012", b$smd, b$se^2, "power"),
  case("baskerville_negexp_step", "dat.baskerville2012", b$smd, b$se^2, "negexp", 0.05),
  case("besson_step", "besson2016_rodents.csv", c(r$yi), r$vi, "stepfun", c(0.025, 0.5), groups = r$species),
  case("besson_beta", "besson2016_rodents.csv", c(r$yi), r$vi, "beta", groups = r$species)
)

# An interval without p-values: metafor stops ("One or more intervals do not contain any observed
# p-values"); premeta raises NotComputable.
empty <- tryCatch(selmodel(rma(h$yi, h$vi, method = "ML"), type = "stepfun", steps = c(0.001, 0.002)),
                  error = function(e) conditionMessage(e))

out <- list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
            cases = setNames(cases, vapply(cases, `[[`, "", "name")),
            empty_interval = list(yi = h$yi, vi = h$vi, steps = c(0.001, 0.002), error = empty))
write_json(out, "tests/reference/metafor_selmodel.json", digits = NA, auto_unbox = TRUE, null = "null",
           na = "null", pretty = TRUE)
