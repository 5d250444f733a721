# Reference values for premeta's tests, computed by metafor on published data sets of the
# metadat package. Run from the repository root:
#
#   Rscript tests/reference/make_fixtures.R
#
# It writes tests/reference/metafor.json at full precision (17 significant digits). The tests
# read that file and never need R. Debian packages: r-base-core r-cran-metafor r-cran-metadat
# r-cran-clubsandwich r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
methods <- c("FE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML")
tests <- c("z", "knha")
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# ---- data sets --------------------------------------------------------------------------
# Group summaries (two-arm continuous outcomes) and precomputed effects with a grouping column.
curtis <- dat.curtis1998
# Real shared controls: rows of one paper with the same control group summary and duration.
curtis$control_group <- as.integer(factor(paste(curtis$paper, curtis$m2i, curtis$sd2i, curtis$n2i, curtis$time)))
curtis$shared_m <- ave(rep(1, nrow(curtis)), curtis$control_group, FUN = length)

summaries <- list(
  gibson2002 = dat.gibson2002[, c("author", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")],
  normand1999 = dat.normand1999[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")],
  curtis1998 = curtis[, c("id", "paper", "fungrp", "time", "control_group", "shared_m",
                          "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
)

escalc_fixtures <- list()
for (name in names(summaries)) {
  d <- summaries[[name]]
  for (measure in c("SMD", "MD", "ROM")) {
    es <- escalc(measure = measure, m1i = m1i, sd1i = sd1i, n1i = n1i,
                 m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    escalc_fixtures[[length(escalc_fixtures) + 1]] <- list(
      dataset = name, measure = measure, shared_control = FALSE,
      yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  }
}
# Shared controls (CAMARADES): the control n divided by the number of comparisons it serves.
for (measure in c("SMD", "MD", "ROM")) {
  es <- escalc(measure = measure, m1i = m1i, sd1i = sd1i, n1i = n1i,
               m2i = m2i, sd2i = sd2i, n2i = n2i / shared_m, data = curtis)
  escalc_fixtures[[length(escalc_fixtures) + 1]] <- list(
    dataset = "curtis1998", measure = measure, shared_control = TRUE,
    yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

# Effect sizes to be pooled, with the column that forms strata.
pool <- list(
  list(name = "gibson2002_SMD", es = escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
       m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.gibson2002), group = NULL),
  list(name = "normand1999_MD", es = escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
       m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999), group = NULL),
  list(name = "curtis1998_ROM", es = escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i,
       m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.curtis1998), group = "fungrp"),
  list(name = "bangertdrowns2004", es = dat.bangertdrowns2004, group = "grade"),
  list(name = "raudenbush1985", es = dat.raudenbush1985, group = "tester")
)

summarise_fit <- function(res, level) {
  ci <- if (res$method == "FE" || res$k < 2) NULL else confint(res, level = level, control = list(tol = 1e-12))$random
  pr <- predict(res, level = level)
  list(
    k = res$k, estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
    ci_high = num(res$ci.ub), stat = num(res$zval), df = num(res$ddf), p = num(res$pval),
    pi_low = num(pr$pi.lb), pi_high = num(pr$pi.ub), tau2 = num(res$tau2),
    tau2_se = num(res$se.tau2),
    tau2_ci_low = if (is.null(ci)) NA else ci["tau^2", "ci.lb"],
    tau2_ci_high = if (is.null(ci)) NA else ci["tau^2", "ci.ub"],
    i2 = num(res$I2),
    i2_ci_low = if (is.null(ci)) NA else ci["I^2(%)", "ci.lb"],
    i2_ci_high = if (is.null(ci)) NA else ci["I^2(%)", "ci.ub"],
    h2 = num(res$H2), q = num(res$QE), q_df = res$k - res$p, q_p = num(res$QEp),
    weights = as.numeric(weights(res)))
}

rma_fixtures <- list()
subgroup_fixtures <- list()
for (item in pool) {
  es <- item$es
  for (method in methods) for (test in tests) for (level in c(95, 90)) {
    if (level == 90 && !(method %in% c("REML", "DL"))) next
    fit <- suppressWarnings(rma(es$yi, es$vi, method = method, test = test, level = level, control = tight))
    entry <- list(dataset = item$name, method = method, test = test, level = level,
                  yi = as.numeric(es$yi), vi = as.numeric(es$vi), groups = NULL,
                  results = list(c(list(group = "overall"), summarise_fit(fit, level))))
    if (!is.null(item$group)) {
      g <- as.character(es[[item$group]])
      entry$groups <- g
      per <- lapply(sort(unique(g)), function(lv) {
        sub <- suppressWarnings(rma(es$yi[g == lv], es$vi[g == lv], method = method, test = test,
                                    level = level, control = tight))
        c(list(group = lv), summarise_fit(sub, level))
      })
      entry$results <- per
      if (level == 95) {
        est <- sapply(per, `[[`, "estimate")
        se <- sapply(per, `[[`, "se")
        qb <- rma(est, sei = se, method = "FE")
        qm <- suppressWarnings(rma(es$yi, es$vi, mods = ~ factor(g), method = method,
                                   test = test, control = tight))
        subgroup_fixtures[[length(subgroup_fixtures) + 1]] <- list(
          dataset = item$name, method = method, test = test,
          qb = num(qb$QE), qb_df = qb$k - 1, qb_p = num(qb$QEp),
          qm = num(qm$QM), qm_df1 = num(qm$QMdf[1]), qm_df2 = num(qm$QMdf[2]), qm_p = num(qm$QMp),
          qm_tau2 = num(qm$tau2),
          p_holm = p.adjust(sapply(per, `[[`, "p"), "holm"),
          p_bonferroni = p.adjust(sapply(per, `[[`, "p"), "bonferroni"))
      }
    }
    rma_fixtures[[length(rma_fixtures) + 1]] <- entry
  }
}

out <- list(
  generated_by = "tests/reference/make_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = lapply(summaries, as.list),
  escalc = escalc_fixtures,
  rma = rma_fixtures,
  subgroup = subgroup_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor.json")
cat("wrote tests/reference/metafor.json\n")
