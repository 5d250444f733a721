# Reference values for premeta.metareg, computed by metafor on published data sets of the
# metadat package. Run from the repository root:
#
#   Rscript tests/reference/make_metareg_fixtures.R
#
# It writes tests/reference/metafor_metareg.json at full precision (17 significant digits):
# the input data, meta-regressions (coefficient table, QM, tau2, I2, H2, QE, R2) and exact
# permutation tests (permutest(..., exact = TRUE)) on small subsets where every distinct
# permutation is enumerated, so that the tests need neither R nor R's random numbers.
# Note: for method = "FE" metafor 3.8 reports as R2 the adjusted R^2 of the weighted
# least-squares regression (weights 1/vi), not NA.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# ---- data sets: effect sizes and moderators ----------------------------------------------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bd <- dat.bangertdrowns2004
bd$gradef <- as.character(bd$grade)  # grade as a factor (text column in Python)
curtis <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                 data = dat.curtis1998)
data <- list(
  bcg = bcg[, c("yi", "vi", "ablat", "year", "alloc")],
  bangertdrowns2004 = bd[, c("yi", "vi", "length", "grade", "gradef", "wic")],
  curtis1998 = curtis[, c("yi", "vi", "time", "fungrp")],
  raudenbush1985 = dat.raudenbush1985[, c("yi", "vi", "weeks")]
)
data <- lapply(data, function(d) lapply(as.data.frame(d), function(x) if (is.numeric(x)) as.numeric(x) else x))

models <- list(
  list(dataset = "bcg", mods = "ablat"),
  list(dataset = "bcg", mods = "alloc"),
  list(dataset = "bcg", mods = c("ablat", "year", "alloc")),
  list(dataset = "bangertdrowns2004", mods = "length"),
  list(dataset = "bangertdrowns2004", mods = "grade"),
  list(dataset = "bangertdrowns2004", mods = "gradef"),
  list(dataset = "bangertdrowns2004", mods = c("length", "wic", "gradef")),
  list(dataset = "curtis1998", mods = "time"),
  list(dataset = "curtis1998", mods = "fungrp"),
  list(dataset = "curtis1998", mods = c("time", "fungrp"))
)

as_frame <- function(d, rows = NULL) {
  d <- as.data.frame(d)
  if (!is.null(rows)) d <- d[rows, , drop = FALSE]
  for (v in names(d)) if (is.character(d[[v]])) d[[v]] <- factor(d[[v]])
  d
}

fit_model <- function(d, mods, method, test) {
  suppressWarnings(rma(yi, vi, mods = reformulate(mods), data = d, method = method, test = test,
                       control = tight))
}

metareg_fixtures <- list()
for (m in models) for (method in c("REML", "DL", "FE")) for (test in c("z", "knha")) {
  res <- fit_model(as_frame(data[[m$dataset]]), m$mods, method, test)
  metareg_fixtures[[length(metareg_fixtures) + 1]] <- list(
    dataset = m$dataset, mods = I(m$mods), method = method, test = test,
    k = res$k, k_omitted = res$k.all - res$k,
    coef = list(name = rownames(res$beta), estimate = num(res$beta), se = num(res$se),
                stat = num(res$zval), df = rep(num(res$ddf), res$p), p = num(res$pval),
                ci_low = num(res$ci.lb), ci_high = num(res$ci.ub)),
    QM = num(res$QM), QM_df1 = num(res$QMdf[1]), QM_df2 = num(res$QMdf[2]), QMp = num(res$QMp),
    tau2 = num(res$tau2), I2 = num(res$I2), H2 = num(res$H2), QE = num(res$QE),
    QEp = num(res$QEp), R2 = num(res$R2))
}

# Exact permutation tests: all distinct permutations of the rows of the model matrix.
perms <- list(
  list(dataset = "bcg", rows = 1:7, mods = "ablat"),                 # 7!/2! = 2520
  list(dataset = "bcg", rows = 5:12, mods = "alloc"),                # 8!/(2!3!3!) = 560
  list(dataset = "raudenbush1985", rows = 1:8, mods = "weeks")       # 8!/2! = 20160
)
permutest_fixtures <- list()
for (m in perms) for (mt in list(c("REML", "z"), c("REML", "knha"), c("DL", "z"))) {
  res <- fit_model(as_frame(data[[m$dataset]], m$rows), m$mods, mt[1], mt[2])
  pt <- permutest(res, exact = TRUE, progbar = FALSE)
  permutest_fixtures[[length(permutest_fixtures) + 1]] <- list(
    dataset = m$dataset, rows = m$rows - 1L, mods = I(m$mods), method = mt[1], test = mt[2],
    exact_iter = num(pt$exact.iter), n_perm = sum(!is.na(pt$QM.perm)),
    name = rownames(res$beta), stat = num(res$zval), p = num(res$pval), pval = num(pt$pval),
    QM = num(res$QM), QMp = num(res$QMp), QMp_perm = num(pt$QMp))
}

out <- list(
  generated_by = "tests/reference/make_metareg_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = data,
  metareg = metareg_fixtures,
  permutest = permutest_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_metareg.json")
cat("wrote tests/reference/metafor_metareg.json\n")
