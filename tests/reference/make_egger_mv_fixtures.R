# Reference values for premeta's small-study test with dependent effects (premeta.egger with
# model = "rma.mv", and its row in premeta.groups.bias.small_study): Egger/PET as a three-level
# meta-regression with CR2 cluster-robust tests (Rodgers & Pustejovsky 2021, Psychol Methods
# 26:141),
#
#   fit <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/comparison, method = "REML")
#   coef_test(fit, vcov = "CR2", cluster = study, test = "Satterthwaite"); conf_int(...)
#
# with x = sqrt(vi) ("sei") or the modified SE sqrt(1/n1i + 1/n2i) ("msei"; Pustejovsky & Rodgers
# 2019), on real published data:
#
#   assink2016           metadat dat.assink2016 (its study / esid structure, yi and vi given;
#                        100 effects in 17 studies), predictor sei
#   besson2016_rodents   tests/data/besson2016_rodents.csv (Besson et al. 2016, via metadat;
#                        tests/data/README.md), 329 comparisons in 44 studies, sei and msei
#   minocycline          data/minocycline/minocycline_sheet.csv (Reis et al. 2019, open
#                        replication, CC BY 4.0; data/minocycline/README.md), 110 comparisons in
#                        29 studies (its study column), sei and msei
#   minocycline_a        data/minocycline/analysis_a_sheet.csv (the paper's published Hedges' g
#                        and SE, 71 effects in 39 clusters), sei only (no group sizes)
#
# For each: all effects; each group of `mechanism` with at least 10 comparisons and 3 studies (as
# premeta's small_study); and all effects on the model with the group as moderator
# (mods = ~ factor(group) + x; no limit estimate). For the modified SE also metafor's rma and
# lm with it as predictor (metafor's regtest has none): rma(yi, vi, mods = ~ msei, test) and
# lm(yi ~ msei, weights = 1/vi).
#
# Run from the repository root:
#
#   Rscript tests/reference/make_egger_mv_fixtures.R
#
# It writes tests/reference/metafor_egger_mv.json at full precision (toJSON digits = NA), inputs
# included (yi, vi, n1i, n2i, study, group per row), so the tests never need R.
#
# Effect sizes, as premeta's workflow computes them (as tests/reference/make_small_study_fixtures.R):
#   besson2016_rodents: escalc("SMD", vtype = "LS") with SD = SEM * sqrt(n), a control shared by m
#     rows (same study, control_group, outcome) entering each with n/m, negated where better is
#     "lower"; n1i = trt_n, n2i = ctl_n / m (the sizes that entered the effect size);
#   minocycline: escalc("SMD") from the arms' SD, negated where better is "lower";
#   minocycline_a: yi and sei as published, vi = sei^2.
#
# Optimiser: rma.mv is fitted with nlminb at rel.tol 1e-12 (tightened so that the reference is the
# REML optimum), with its default and BFGS (reltol 1e-14) as well, since nlminb reports false
# convergence at 1e-12 on some of these data; the fit of largest log-likelihood is kept. rma's
# control as tests/reference/make_small_study_fixtures.R.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(clubSandwich)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
tight_mv <- list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)

# ---- data -------------------------------------------------------------------------------------
a <- dat.assink2016
assink <- list(yi = a$yi, vi = a$vi, n1i = NULL, n2i = NULL, study = as.character(a$study),
               comparison = as.character(a$esid), group = NULL)

source("tests/reference/besson2016_effects.R")
besson <- besson_effects()[c("yi", "vi", "n1i", "n2i", "study", "comparison", "group")]

c0 <- read.csv("data/minocycline/minocycline_sheet.csv", stringsAsFactors = FALSE, check.names = FALSE)
es <- escalc("SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n, m2i = ctl_mean, sd2i = ctl_sd,
             n2i = ctl_n, data = c0)
mino <- list(yi = ifelse(c0$better == "lower", -1, 1) * as.numeric(es$yi), vi = as.numeric(es$vi),
             n1i = c0$trt_n, n2i = c0$ctl_n, study = c0$study, comparison = as.character(c0$id),
             group = trimws(c0$mechanism))

a0 <- read.csv("data/minocycline/analysis_a_sheet.csv", stringsAsFactors = FALSE, check.names = FALSE)
mino_a <- list(yi = a0$yi, vi = a0$sei^2, n1i = NULL, n2i = NULL, study = a0$study,
               comparison = as.character(seq_len(nrow(a0))), group = a0$mechanism)

datasets <- list(assink2016 = assink, besson2016_rodents = besson, minocycline = mino,
                 minocycline_a = mino_a)
for (d in datasets) stopifnot(!anyNA(d$yi), !anyNA(d$vi))

# ---- the three-level Egger test with CR2 tests ------------------------------------------------
predictor_of <- function(d, predictor) if (predictor == "sei") sqrt(d$vi) else sqrt(1 / d$n1i + 1 / d$n2i)

egger_mv <- function(d, s, predictor, group = NULL) {
  x <- predictor_of(d, predictor)[s]
  yi <- d$yi[s]; vi <- d$vi[s]; study <- d$study[s]; comparison <- d$comparison[s]
  g <- if (is.null(group)) NULL else factor(group[s])
  form <- if (is.null(group)) ~ x else ~ g + x
  # nlminb at rel.tol 1e-12 where it converges; where it reports false convergence at 1e-12,
  # its default (1e-10) and then BFGS at reltol 1e-14, whichever has the larger log-likelihood
  fits <- lapply(list(tight_mv, list(optimizer = "nlminb", iter.max = 10000, eval.max = 10000),
                      list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)),
                 function(ctrl) tryCatch(rma.mv(yi, vi, mods = form, random = ~ 1 | study / comparison,
                                                method = "REML", control = ctrl),
                                         error = function(e) NULL))
  fits <- Filter(Negate(is.null), fits)
  fit <- fits[[which.max(sapply(fits, function(f) as.numeric(logLik(f))))]]
  ct <- coef_test(fit, vcov = "CR2", cluster = study, test = "Satterthwaite")
  ci <- conf_int(fit, vcov = "CR2", cluster = study, level = 0.95)
  p <- length(fit$beta)
  list(k = fit$k, studies = length(unique(study)), sigma2 = as.numeric(fit$sigma2),
       beta = as.numeric(fit$beta), se_model = as.numeric(fit$se),
       se = as.numeric(ct$SE), tstat = as.numeric(ct$tstat), df_Satt = as.numeric(ct$df_Satt),
       p_Satt = as.numeric(ct$p_Satt), CI_L = as.numeric(ci$CI_L), CI_U = as.numeric(ci$CI_U),
       slope = as.numeric(fit$beta[p]))
}

fixtures <- list()
add <- function(x) fixtures[[length(fixtures) + 1]] <<- x
for (name in names(datasets)) {
  d <- datasets[[name]]
  predictors <- if (is.null(d$n1i)) "sei" else c("sei", "msei")
  all <- rep(TRUE, length(d$yi))
  for (predictor in predictors) {
    add(c(list(dataset = name, block = "all", group = NA, predictor = predictor), egger_mv(d, all, predictor)))
    if (is.null(d$group)) next
    for (g in sort(unique(d$group))) {
      s <- d$group == g
      if (sum(s) < 10 || length(unique(d$study[s])) < 3) next
      add(c(list(dataset = name, block = "group", group = g, predictor = predictor), egger_mv(d, s, predictor)))
    }
    add(c(list(dataset = name, block = "moderator", group = NA, predictor = predictor),
          egger_mv(d, all, predictor, d$group)))
  }
}

# ---- the modified SE in metafor's rma and in lm (regtest has no such predictor) ---------------
msei <- list()
for (name in c("besson2016_rodents", "minocycline")) {
  d <- datasets[[name]]
  x <- predictor_of(d, "msei")
  for (test in c("z", "knha")) {
    fit <- rma(d$yi, d$vi, mods = ~ x, method = "REML", test = test, control = tight)
    msei[[length(msei) + 1]] <- list(
      dataset = name, model = "rma", test = test, zval = fit$zval[2], pval = fit$pval[2],
      ddf = if (test == "z") NA else fit$ddf[1], slope = fit$beta[2], slope_se = fit$se[2], tau2 = fit$tau2,
      est = fit$beta[1], ci_lb = fit$ci.lb[1], ci_ub = fit$ci.ub[1])
  }
  l <- lm(d$yi ~ x, weights = 1 / d$vi)
  cf <- coef(summary(l)); ci <- confint(l)
  msei[[length(msei) + 1]] <- list(
    dataset = name, model = "lm", test = "t", zval = cf[2, 3], pval = cf[2, 4], ddf = l$df.residual,
    slope = cf[2, 1], slope_se = cf[2, 2], tau2 = NA, est = cf[1, 1], ci_lb = ci[1, 1], ci_ub = ci[1, 2])
}

out <- list(
  generated_by = "tests/reference/make_egger_mv_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich")),
                  metadat = as.character(packageVersion("metadat"))),
  data = lapply(datasets, function(d) list(yi = d$yi, vi = d$vi, n1i = d$n1i, n2i = d$n2i, study = d$study,
                                           comparison = d$comparison, group = d$group)),
  egger_mv = fixtures,
  msei = msei
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_egger_mv.json")
cat("wrote tests/reference/metafor_egger_mv.json\n")
