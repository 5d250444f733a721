# Reference values for premeta.bias (Egger-type regression tests and trim-and-fill), computed by
# metafor's regtest() and trimfill() on published data sets of the metadat package. Run from the
# repository root:
#
#   Rscript tests/reference/make_bias_fixtures.R
#
# It writes tests/reference/metafor_bias.json at full precision (toJSON digits = NA), inputs
# included, so the tests never need R.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
smd <- function(d) escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)

# ---- data sets: yi, vi and (where known) the total sample size ni -----------------------------
normand <- smd(dat.normand1999)
curtis <- smd(dat.curtis1998)
lehmann <- dat.lehmann2018
datasets <- list(
  bangertdrowns2004 = list(yi = dat.bangertdrowns2004$yi, vi = dat.bangertdrowns2004$vi,
                           ni = dat.bangertdrowns2004$ni),
  hackshaw1998 = list(yi = dat.hackshaw1998$yi, vi = dat.hackshaw1998$vi, ni = NULL),
  lehmann2018 = list(yi = lehmann$yi, vi = lehmann$vi, ni = lehmann$Total.SampleSize),
  normand1999_SMD = list(yi = as.numeric(normand$yi), vi = as.numeric(normand$vi),
                         ni = dat.normand1999$n1i + dat.normand1999$n2i),
  curtis1998_SMD = list(yi = as.numeric(curtis$yi), vi = as.numeric(curtis$vi),
                        ni = dat.curtis1998$n1i + dat.curtis1998$n2i)
)

# ---- regtest: model rma (methods, tests) and lm, predictors sei and sqrtninv ------------------
regtest_fixtures <- list()
add_regtest <- function(name, d, model, predictor, method, test) {
  res <- rma(d$yi, d$vi, method = method, test = test, control = tight)
  rt <- if (is.null(d$ni)) regtest(res, model = model, predictor = predictor)
        else regtest(res, model = model, predictor = predictor, ni = d$ni)
  if (model == "rma") {
    slope <- num(rt$fit$beta[2]); slope_se <- num(rt$fit$se[2]); tau2 <- num(rt$fit$tau2)
  } else {
    cf <- coef(summary(rt$fit)); slope <- cf[2, 1]; slope_se <- cf[2, 2]; tau2 <- NA
  }
  regtest_fixtures[[length(regtest_fixtures) + 1]] <<- list(
    dataset = name, model = model, predictor = predictor,
    method = if (model == "rma") method else NA, test = if (model == "rma") test else NA,
    zval = num(rt$zval), pval = num(rt$pval), ddf = num(rt$ddf), est = num(rt$est),
    ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub), slope = slope, slope_se = slope_se, tau2 = tau2)
}
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (predictor in if (is.null(d$ni)) "sei" else c("sei", "sqrtninv")) {
    add_regtest(name, d, "rma", predictor, "FE", "z")
    for (method in c("DL", "REML")) for (test in c("z", "knha"))
      add_regtest(name, d, "rma", predictor, method, test)
    add_regtest(name, d, "lm", predictor, "REML", "z")
  }
}

# ---- trimfill: estimators L0 and R0, side estimated or given, methods FE, DL and REML ---------
trimfill_fixtures <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (method in c("FE", "DL", "REML")) for (estimator in c("L0", "R0"))
    for (side in list(NULL, "left", "right")) {
      res <- rma(d$yi, d$vi, method = method, control = tight)
      tf <- if (is.null(side)) trimfill(res, estimator = estimator, control = tight)
            else trimfill(res, estimator = estimator, side = side, control = tight)
      trimfill_fixtures[[length(trimfill_fixtures) + 1]] <- list(
        dataset = name, method = method, estimator = estimator,
        side_given = if (is.null(side)) NA else side,
        k0 = tf$k0, se_k0 = num(tf$se.k0), p_k0 = num(tf$p.k0), side = tf$side,
        yi = as.numeric(tf$yi), vi = as.numeric(tf$vi), fill = tf$fill,
        estimate = num(tf$beta), se = num(tf$se), zval = num(tf$zval), pval = num(tf$pval),
        ci_lb = num(tf$ci.lb), ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2))
    }
}

out <- list(
  generated_by = "tests/reference/make_bias_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = lapply(datasets, function(d) list(yi = d$yi, vi = d$vi, ni = d$ni)),
  regtest = regtest_fixtures,
  trimfill = trimfill_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_bias.json")
cat("wrote tests/reference/metafor_bias.json\n")
