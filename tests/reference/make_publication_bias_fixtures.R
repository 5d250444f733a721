# Reference values for premeta's classic small-study and publication-bias methods: the rank
# correlation test (metafor ranktest), fail-safe N (fsn), PET-PEESE (rma with mods = ~ sqrt(vi)
# and ~ vi), the test of excess significance with per-study power (tes) and cumulative
# meta-analysis (cumul), computed by metafor on published data. Run from the repository root:
#
#   Rscript tests/reference/make_publication_bias_fixtures.R
#
# It writes tests/reference/metafor_publication_bias.json at full precision (toJSON digits = NA),
# inputs included, so the tests never need R.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

# REML and the other iterative estimators to convergence (metafor's default threshold is 1e-5).
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# ---- data sets ----------------------------------------------------------------------------------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
dorn <- escalc("RR", ai = x.a, n1i = n.a, ci = x.p, n2i = n.p, data = dat.dorn2007)
hack <- dat.hackshaw1998
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
# dat.besson2016 as tests/data/besson2016_rodents.csv holds it (README beside it): Hedges' g of
# each comparison from the SEM (SD = SEM * sqrt(n)), every comparison with its own control arm
# (a shared control is used as it is, not split); the year is that of the reference.
rod <- read.csv("tests/data/besson2016_rodents.csv")
rod <- escalc("SMD", m1i = trt_mean, sd1i = trt_sem * sqrt(trt_n), n1i = trt_n,
              m2i = ctl_mean, sd2i = ctl_sem * sqrt(ctl_n), n2i = ctl_n, data = rod)
rod$year <- as.numeric(sub(".*\\((\\d{4})[a-z]?\\).*", "\\1", rod$reference))
stopifnot(!anyNA(rod$year))

datasets <- list(
  bcg = list(yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), year = bcg$year,
             label = paste(bcg$author, bcg$year)),
  dorn2007 = list(yi = as.numeric(dorn$yi), vi = as.numeric(dorn$vi)),
  hackshaw1998 = list(yi = hack$yi, vi = hack$vi),
  normand1999 = list(yi = as.numeric(normand$yi), vi = as.numeric(normand$vi),
                     n1i = normand$n1i, n2i = normand$n2i),
  rodents = list(yi = as.numeric(rod$yi), vi = as.numeric(rod$vi), n1i = rod$trt_n,
                 n2i = rod$ctl_n, year = rod$year, label = rod$comparison, species = rod$species,
                 mechanism = rod$mechanism)
)
# the strata of a data set: every row (overall), or the rows of each species of the rodents
strata <- function(name) {
  d <- datasets[[name]]
  if (name == "rodents") split(seq_along(d$yi), d$species) else list(overall = seq_along(d$yi))
}

# ---- ranktest: Kendall's tau of the standardised effects and vi, exact p where no ties ---------
ranktest_fixtures <- list()
for (name in c("bcg", "dorn2007", "hackshaw1998", "normand1999", "rodents")) {
  d <- datasets[[name]]
  for (g in names(strata(name))) {
    i <- strata(name)[[g]]
    rt <- suppressWarnings(ranktest(d$yi[i], d$vi[i]))
    ranktest_fixtures[[length(ranktest_fixtures) + 1]] <- list(
      dataset = name, group = g, k = length(i), tau = num(rt$tau), pval = num(rt$pval),
      ties = anyDuplicated(d$vi[i]) > 0)
  }
}

# ---- fsn: Rosenthal (Stouffer), Orwin (default and given target, unweighted and weighted),
# Rosenberg; alpha 0.05 and 0.01 ---------------------------------------------------------------
fsn_fixtures <- list()
add_fsn <- function(name, g, i, type, alpha, target = NULL, weighted = FALSE) {
  d <- datasets[[name]]
  f <- if (is.null(target)) fsn(d$yi[i], d$vi[i], type = type, alpha = alpha, weighted = weighted)
       else fsn(d$yi[i], d$vi[i], type = type, alpha = alpha, target = target, weighted = weighted)
  fsn_fixtures[[length(fsn_fixtures) + 1]] <<- list(
    dataset = name, group = g, type = type, alpha = alpha, target_given = num(target),
    weighted = weighted, fsnum = num(f$fsnum), pval = num(f$pval), meanes = num(f$meanes),
    target = num(f$target))
}
for (name in c("bcg", "dorn2007", "hackshaw1998", "rodents")) {
  for (g in names(strata(name))) {
    i <- strata(name)[[g]]
    for (alpha in c(0.05, 0.01)) {
      add_fsn(name, g, i, "Rosenthal", alpha)
      add_fsn(name, g, i, "Rosenberg", alpha)
    }
    add_fsn(name, g, i, "Orwin", 0.05)
    add_fsn(name, g, i, "Orwin", 0.05, weighted = TRUE)
    add_fsn(name, g, i, "Orwin", 0.05, target = 0.1)
    add_fsn(name, g, i, "Orwin", 0.05, target = -0.1, weighted = TRUE)
  }
}

# ---- PET and PEESE: meta-regressions of yi on a precision measure and on its square ------------
# predictor "sei": sqrt(vi) and vi (Stanley and Doucouliagos 2014); "n1i_n2i": sqrt(1/n1i + 1/n2i)
# and 1/n1i + 1/n2i (Pustejovsky and Rodgers 2019); "ni": 1/sqrt(n1i + n2i) and 1/(n1i + n2i).
pet_fixtures <- list()
add_pet <- function(name, g, i, predictor, method, test) {
  d <- datasets[[name]]
  x <- switch(predictor, sei = sqrt(d$vi[i]),
              n1i_n2i = sqrt(1 / d$n1i[i] + 1 / d$n2i[i]),
              ni = 1 / sqrt(d$n1i[i] + d$n2i[i]))
  for (model in c("PET", "PEESE")) {
    xx <- if (model == "PET") x else x^2
    r <- rma(d$yi[i], d$vi[i], mods = ~ xx, method = method, test = test, control = tight)
    pet_fixtures[[length(pet_fixtures) + 1]] <<- list(
      dataset = name, group = g, predictor = predictor, method = method, test = test, model = model,
      k = r$k, estimate = num(r$beta[1]), se = num(r$se[1]), zval = num(r$zval[1]),
      pval = num(r$pval[1]), ci_lb = num(r$ci.lb[1]), ci_ub = num(r$ci.ub[1]),
      ddf = if (test == "z") NA_real_ else num(r$ddf[1]), slope = num(r$beta[2]),
      slope_se = num(r$se[2]), tau2 = num(r$tau2))
  }
}
for (name in c("normand1999", "rodents", "dorn2007", "hackshaw1998")) {
  predictors <- if (is.null(datasets[[name]]$n1i)) "sei" else c("sei", "n1i_n2i", "ni")
  for (g in names(strata(name))) {
    i <- strata(name)[[g]]
    for (predictor in predictors) for (method in c("FE", "DL", "REML"))
      for (test in c("z", "knha")) add_pet(name, g, i, predictor, method, test)
  }
}
# Stanley's weighted least squares is the common-effect meta-regression with Knapp-Hartung:
# lm(yi ~ sqrt(vi), weights = 1 / vi) gives the same intercept, SE and t.
wls <- lapply(c("dorn2007", "hackshaw1998"), function(name) {
  d <- datasets[[name]]
  cf <- coef(summary(lm(d$yi ~ sqrt(d$vi), weights = 1 / d$vi)))
  list(dataset = name, estimate = cf[1, 1], se = cf[1, 2], tval = cf[1, 3], pval = cf[1, 4])
})

# ---- tes: test of excess significance, per-study power, limit estimate --------------------------
# metafor finds theta_lim by uniroot at its default tolerance (about 1e-4): the same search is
# repeated here to 1e-13 (tight_lim, metafor's own .tes.lim as the function) so that the
# reference is the root; metafor's value is kept beside it.
tes_lim_f <- function(theta, yi, vi, alternative, alpha, test, tes.alternative, tes.alpha)
  metafor:::.tes.lim(theta, yi = yi, vi = vi, H0 = 0, alternative = alternative, alpha = alpha,
                     tau2 = NULL, test = test, tes.alternative = tes.alternative,
                     progbar = FALSE, tes.alpha = tes.alpha, correct = FALSE,
                     rel.tol = .Machine$double.eps^0.25, subdivisions = 100L, tau2.lb = 0)
tight_lim <- function(yi, vi, theta1, alternative, alpha, test, tes.alternative, tes.alpha) {
  f <- function(theta) tes_lim_f(theta, yi, vi, alternative, alpha, test, tes.alternative, tes.alpha)
  d0 <- f(0)
  if ((tes.alternative == "greater" && d0 >= 0) || (tes.alternative == "less" && d0 <= 0)) return(NA)
  up <- (tes.alternative == "greater") == (theta1 >= 0)
  r <- try(uniroot(f, interval = sort(c(0, theta1)), extendInt = if (up) "upX" else "downX",
                   tol = 1e-13, maxiter = 10000)$root, silent = TRUE)
  if (inherits(r, "try-error")) NA else r
}
tes_fixtures <- list()
add_tes <- function(name, g, i, test, tes.alternative = "greater", alternative = "two.sided",
                    alpha = 0.05, theta = NULL, tes.alpha = 0.1) {
  d <- datasets[[name]]
  yi <- d$yi[i]; vi <- d$vi[i]
  t <- if (is.null(theta)) tes(yi, vi, test = test, tes.alternative = tes.alternative,
                               alternative = alternative, alpha = alpha, tes.alpha = tes.alpha,
                               progbar = FALSE)
       else tes(yi, vi, test = test, tes.alternative = tes.alternative, alternative = alternative,
                alpha = alpha, theta = theta, tes.alpha = tes.alpha, progbar = FALSE)
  lim <- if (tes.alternative == "two.sided")
    c(tight_lim(yi, vi, t$theta, alternative, alpha, test, "greater", tes.alpha / 2),
      tight_lim(yi, vi, t$theta, alternative, alpha, test, "less", tes.alpha / 2))
  else tight_lim(yi, vi, t$theta, alternative, alpha, test, tes.alternative, tes.alpha)
  tes_fixtures[[length(tes_fixtures) + 1]] <<- list(
    dataset = name, group = g, test_given = test, test = t$test, tes_alternative = tes.alternative,
    alternative = alternative, alpha = alpha, tes_alpha = tes.alpha, theta_given = num(theta),
    k = t$k, O = t$O, E = t$E, OEratio = t$OEratio, X2 = num(t$X2), pval = t$pval,
    power = as.numeric(t$power), power_quantiles = as.numeric(quantile(t$power)),
    theta = t$theta, theta_lim_metafor = if (is.null(t$theta.lim)) NA else as.numeric(t$theta.lim),
    theta_lim = lim)
}
for (test in c("chi2", "binom", "exact")) for (ta in c("greater", "less", "two.sided"))
  add_tes("dorn2007", "overall", seq_along(datasets$dorn2007$yi), test, ta)
add_tes("dorn2007", "overall", seq_along(datasets$dorn2007$yi), "chi2", alternative = "greater")
add_tes("dorn2007", "overall", seq_along(datasets$dorn2007$yi), "binom", alternative = "less",
        alpha = 0.1)
add_tes("dorn2007", "overall", seq_along(datasets$dorn2007$yi), "exact", theta = 0.2)
add_tes("bcg", "overall", seq_along(datasets$bcg$yi), "exact", tes.alternative = "two.sided")
add_tes("bcg", "overall", seq_along(datasets$bcg$yi), "exact", tes.alternative = "less")
for (g in names(strata("rodents"))) for (test in c("chi2", "binom")) {
  i <- strata("rodents")[[g]]
  add_tes("rodents", g, i, test)
  add_tes("rodents", g, i, test, tes.alternative = "two.sided")
  add_tes("rodents", g, i, test, theta = 0.5)
}
# metafor's default test: exact where it sums at most 10^6 terms (k = 19 here), else chi2
tes_default <- list(
  dorn2007 = tes(datasets$dorn2007$yi, datasets$dorn2007$vi, progbar = FALSE)$test,
  rats = tes(datasets$rodents$yi[strata("rodents")$rats], datasets$rodents$vi[strata("rodents")$rats],
             progbar = FALSE, find.lim = FALSE)$test)

# ---- cumul: cumulative meta-analysis in order of the year --------------------------------------
cumul_fixtures <- list()
add_cumul <- function(name, g, i, method, test) {
  d <- datasets[[name]]
  r <- rma(d$yi[i], d$vi[i], method = method, test = test, control = tight, slab = d$label[i])
  year <- d$year[i]
  cm <- cumul(r, order = year)
  o <- order(year)
  cumul_fixtures[[length(cumul_fixtures) + 1]] <<- list(
    dataset = name, group = g, method = method, test = test, order = year[o], label = cm$slab,
    estimate = cm$estimate, se = cm$se, zval = if (test == "z") cm$zval else cm$tval,
    pval = cm$pvals, ci_lb = cm$ci.lb, ci_ub = cm$ci.ub, Q = cm$Q, Qp = cm$Qp,
    tau2 = if (method == "FE") rep(NA_real_, length(i)) else cm$tau2, I2 = cm$I2, H2 = cm$H2)
}
for (method in c("FE", "DL", "REML")) for (test in c("z", "knha"))
  add_cumul("bcg", "overall", seq_along(datasets$bcg$yi), method, test)
for (g in names(strata("rodents"))) add_cumul("rodents", g, strata("rodents")[[g]], "REML", "z")
add_cumul("rodents", "mice", strata("rodents")$mice, "DL", "knha")

out <- list(
  generated_by = "tests/reference/make_publication_bias_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = datasets,
  ranktest = ranktest_fixtures,
  fsn = fsn_fixtures,
  pet_peese = pet_fixtures,
  wls = wls,
  tes = tes_fixtures,
  tes_default = tes_default,
  cumul = cumul_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_publication_bias.json")
cat("wrote tests/reference/metafor_publication_bias.json\n")
