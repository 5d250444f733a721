# Reference values for premeta's small-study analysis (premeta.groups.bias.small_study and
# premeta.bias.egger with mods): metafor's regtest() and trimfill() within each group, and
# regtest() on the model with the group as moderator, on real published preclinical data:
#
#   besson2016_rodents       tests/data/besson2016_rodents.csv (Besson et al. 2016, via metadat;
#                            tests/data/README.md), 3 groups of `mechanism`
#   minocycline_c            data/minocycline/analysis_c_sheet.csv (Reis et al. 2019, open
#                            replication, CC BY 4.0; data/minocycline/README.md), 7 groups
#   minocycline_a            data/minocycline/analysis_a_sheet.csv (the paper's published Hedges' g
#                            and SE), 5 groups; no group sizes, so predictor "sei" only
#
# Run from the repository root:
#
#   Rscript tests/reference/make_small_study_fixtures.R
#
# It writes tests/reference/metafor_small_study.json at full precision (toJSON digits = NA),
# inputs included (yi, vi, ni, group per row), so the tests never need R.
#
# Effect sizes, as premeta's workflow computes them (the config of each sheet):
#   besson2016_rodents: escalc("SMD", vtype = "LS") with SD = SEM * sqrt(n), a control shared by m
#     rows (same study, control_group, outcome) entering each with n/m, negated where better is
#     "lower" (orient: benefit); as tests/data/make_corpus.R (besson2016_effects.R, shared with
#     make_egger_mv_fixtures.R and make_sex_fixtures.R);
#   minocycline_c: escalc("SMD"), minocycline as group 1, negated where better is "lower";
#   minocycline_a: yi and sei as published (orient: raw, config/minocycline.yaml), vi = sei^2.
# ni is the total number of animals of a comparison, trt_n + ctl_n (the real arm sizes).
#
# For each method "REML" and test "z" and "knha":
#   within each group of k >= 10: regtest(rma(yi, vi, method, test), model = "rma" | "lm",
#     predictor = "sei" | "sqrtninv", ni = ni) and trimfill(rma(yi, vi, method), estimator =
#     "R0" | "L0");
#   all groups: regtest(rma(yi, vi, mods = ~ factor(group), method, test), model, predictor):
#     the predictor added to the model's moderators, its coefficient tested (no limit estimate;
#     model = "lm" is lm(yi ~ factor(group) + predictor, weights = 1/vi)).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

# ---- data -------------------------------------------------------------------------------------
source("tests/reference/besson2016_effects.R")
besson <- besson_effects()[c("yi", "vi", "ni", "group")]

c0 <- read.csv("data/minocycline/analysis_c_sheet.csv", stringsAsFactors = FALSE, check.names = FALSE)
es <- escalc("SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n, m2i = ctl_mean, sd2i = ctl_sd,
             n2i = ctl_n, data = c0)
mino_c <- list(yi = ifelse(c0$better == "lower", -1, 1) * as.numeric(es$yi), vi = as.numeric(es$vi),
               ni = c0$trt_n + c0$ctl_n, group = c0$mechanism)

a0 <- read.csv("data/minocycline/analysis_a_sheet.csv", stringsAsFactors = FALSE, check.names = FALSE)
mino_a <- list(yi = a0$yi, vi = a0$sei^2, ni = NULL, group = a0$mechanism)

datasets <- list(besson2016_rodents = besson, minocycline_c = mino_c, minocycline_a = mino_a)

# ---- regtest and trimfill ---------------------------------------------------------------------
regtest_row <- function(res, model, predictor, ni) {
  rt <- if (is.null(ni)) regtest(res, model = model, predictor = predictor)
        else regtest(res, model = model, predictor = predictor, ni = ni)
  if (model == "rma") {
    p <- length(rt$fit$beta)
    slope <- num(rt$fit$beta[p]); slope_se <- num(rt$fit$se[p]); tau2 <- num(rt$fit$tau2)
  } else {
    cf <- coef(summary(rt$fit)); p <- nrow(cf)
    slope <- cf[p, 1]; slope_se <- cf[p, 2]; tau2 <- NA
  }
  list(model = model, predictor = predictor, k = res$k, zval = num(rt$zval), pval = num(rt$pval),
       ddf = num(rt$ddf), slope = slope, slope_se = slope_se, tau2 = tau2,
       est = num(rt$est), ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub))
}

fixtures <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  predictors <- if (is.null(d$ni)) "sei" else c("sei", "sqrtninv")
  for (test in c("z", "knha")) {
    method <- "REML"
    for (g in sort(unique(d$group))) {
      s <- d$group == g
      if (sum(s) < 10) next
      res <- rma(d$yi[s], d$vi[s], method = method, test = test, control = tight)
      for (predictor in predictors) for (model in c("rma", "lm"))
        fixtures[[length(fixtures) + 1]] <- c(list(dataset = name, block = "group", group = g,
                                                   method = method, test = test),
                                              regtest_row(res, model, predictor, d$ni[s]))
      for (estimator in c("R0", "L0")) {
        tf <- trimfill(rma(d$yi[s], d$vi[s], method = method, control = tight), estimator = estimator,
                       control = tight)
        fixtures[[length(fixtures) + 1]] <- list(
          dataset = name, block = "group", group = g, method = method, test = test,
          model = paste0("trimfill_", estimator), k = sum(s), k0 = tf$k0, side = tf$side,
          zval = num(tf$zval), pval = num(tf$pval), est = num(tf$beta), ci_lb = num(tf$ci.lb),
          ci_ub = num(tf$ci.ub))
      }
    }
    group <- factor(d$group)
    res <- rma(d$yi, d$vi, mods = ~ group, method = method, test = test, control = tight)
    for (predictor in predictors) for (model in c("rma", "lm"))
      fixtures[[length(fixtures) + 1]] <- c(list(dataset = name, block = "moderator", group = NA,
                                                 method = method, test = test),
                                            regtest_row(res, model, predictor, d$ni))
  }
}

out <- list(
  generated_by = "tests/reference/make_small_study_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor"))),
  data = lapply(datasets, function(d) list(yi = d$yi, vi = d$vi, ni = d$ni, group = d$group)),
  small_study = fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_small_study.json")
cat("wrote tests/reference/metafor_small_study.json\n")
