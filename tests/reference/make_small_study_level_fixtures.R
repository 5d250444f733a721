# Reference values for the small-study table at a confidence level other than 95%
# (premeta.groups.bias.small_study with level = 90, the workflow's `level: 90`): every interval of
# the table is at that level, as metafor's regtest() of a model fitted with level = 90, trimfill()
# given level = 90 and clubSandwich's conf_int(level = 0.90). On real published preclinical data,
# tests/data/besson2016_rodents.csv (Besson et al. 2016, via metadat; tests/data/README.md), its 3
# groups of `mechanism` (31 to 175 comparisons), with premeta's effect sizes (besson2016_effects.R:
# escalc("SMD", vtype = "LS"), SD = SEM * sqrt(n), a control shared by m rows entering each with
# n/m, negated where better is "lower"; ni = trt_n + ctl_n, the real arm sizes).
#
# Per group, for test "z" and "knha" (method REML):
#   regtest(rma(yi, vi, method = "REML", test, level = 90), model = "rma" | "lm",
#           predictor = "sei" | "sqrtninv", ni = ni): the limit estimate and its interval;
#   trimfill(rma(yi, vi, method = "REML", level = 90), estimator = "R0" | "L0", level = 90);
#   the three-level Egger test (Rodgers & Pustejovsky 2021) against the SE and the modified SE
#     sqrt(1/n1i + 1/n2i): rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/comparison, "REML"),
#     conf_int(vcov = "CR2", cluster = study, level = 0.90) of the intercept;
#   PET and PEESE as Stanley's weighted least squares on the modified SE and its square:
#     lm(yi ~ x, weights = 1/vi), confint(level = 0.90) of the intercept.
#
# Run from the repository root:
#
#   Rscript tests/reference/make_small_study_level_fixtures.R
#
# It writes tests/reference/metafor_small_study_level.json at full precision (toJSON digits = NA).
# rma's control as make_small_study_fixtures.R (threshold and tol 1e-12); rma.mv as
# make_egger_mv_fixtures.R (nlminb at rel.tol 1e-12, its default and BFGS at reltol 1e-14, the fit
# of largest log-likelihood kept: nlminb reports false convergence at 1e-12 on some of these data).

suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

level <- 90
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
tight_mv <- list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

source("tests/reference/besson2016_effects.R")
d <- besson_effects()

three_level <- function(s, x) {
  yi <- d$yi[s]; vi <- d$vi[s]; study <- d$study[s]; comparison <- d$comparison[s]; x <- x[s]
  fits <- lapply(list(tight_mv, list(optimizer = "nlminb", iter.max = 10000, eval.max = 10000),
                      list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)),
                 function(ctrl) tryCatch(rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study / comparison,
                                                method = "REML", control = ctrl),
                                         error = function(e) NULL))
  fits <- Filter(Negate(is.null), fits)
  fit <- fits[[which.max(sapply(fits, function(f) as.numeric(logLik(f))))]]
  ci <- conf_int(fit, vcov = "CR2", cluster = study, level = level / 100)
  list(est = num(fit$beta[1]), ci_lb = num(ci$CI_L[1]), ci_ub = num(ci$CI_U[1]))
}

wls <- function(s, x) {
  l <- lm(d$yi[s] ~ x[s], weights = 1 / d$vi[s])
  ci <- confint(l, level = level / 100)
  list(est = num(coef(l)[1]), ci_lb = num(ci[1, 1]), ci_ub = num(ci[1, 2]))
}

fixtures <- list()
add <- function(x) fixtures[[length(fixtures) + 1]] <<- x
sei <- sqrt(d$vi)
msei <- sqrt(1 / d$n1i + 1 / d$n2i)
for (g in sort(unique(d$group))) {
  s <- d$group == g
  for (test in c("z", "knha")) {
    res <- rma(d$yi[s], d$vi[s], method = "REML", test = test, level = level, control = tight)
    for (predictor in c("sei", "sqrtninv")) for (model in c("rma", "lm")) {
      rt <- regtest(res, model = model, predictor = predictor, ni = d$ni[s])
      add(list(group = g, test = test, analysis = model, predictor = predictor,
               est = num(rt$est), ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub)))
    }
  }
  for (estimator in c("R0", "L0")) {
    # level given to both: with k0 = 0 metafor returns the model given, at its own level
    tf <- trimfill(rma(d$yi[s], d$vi[s], method = "REML", level = level, control = tight),
                   estimator = estimator, level = level, control = tight)
    add(list(group = g, test = "z", analysis = paste0("trimfill_", estimator), predictor = "sei",
             k0 = tf$k0, est = num(tf$beta), ci_lb = num(tf$ci.lb), ci_ub = num(tf$ci.ub)))
  }
  add(c(list(group = g, test = "CR2", analysis = "three_level", predictor = "sei"), three_level(s, sei)))
  add(c(list(group = g, test = "CR2", analysis = "three_level", predictor = "msei"), three_level(s, msei)))
  add(c(list(group = g, test = "t", analysis = "PET", predictor = "msei"), wls(s, msei)))
  add(c(list(group = g, test = "t", analysis = "PEESE", predictor = "msei"), wls(s, msei^2)))
}

out <- list(
  generated_by = "tests/reference/make_small_study_level_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  level = level,
  small_study_level = fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_small_study_level.json")
cat("wrote tests/reference/metafor_small_study_level.json\n")
