# Reference values for premeta.multilevel: metafor's three-level rma.mv() with its multilevel
# I2, clubSandwich's CR2 cluster-robust tests and metafor's aggregate.escalc(), on published
# data sets of the metadat package. Run from the repository root:
#
#   Rscript tests/reference/make_multilevel_fixtures.R
#
# It writes tests/reference/metafor_multilevel.json at full precision (17 significant digits),
# inputs included, so the tests never need R. Debian packages: r-base-core r-cran-metafor
# r-cran-metadat r-cran-clubsandwich r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(clubSandwich)
  library(jsonlite)
})

# nlminb on log(sigma2); a smaller rel.tol ends in "false convergence" on assink2016
tight <- list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)

konst <- dat.konstantopoulos2011
assink <- dat.assink2016
cases <- list(
  list(name = "konstantopoulos2011", data = konst, study = "district", cluster2 = "school", mods = NULL),
  list(name = "konstantopoulos2011_year", data = konst, study = "district", cluster2 = "school", mods = ~ year),
  list(name = "assink2016", data = assink, study = "study", cluster2 = "esid", mods = NULL),
  list(name = "assink2016_deltype", data = assink, study = "study", cluster2 = "esid", mods = ~ deltype),
  list(name = "assink2016_year", data = assink, study = "study", cluster2 = "esid", mods = ~ year),
  # the esid-within-study component ends at the boundary (sigma2[2] about 1e-13 in metafor)
  list(name = "assink2016_overt", data = assink[assink$deltype == "overt", ], study = "study",
       cluster2 = "esid", mods = NULL)
)

# Multilevel I2 (metafor FAQ; Cheung 2014): typical sampling variance from the FE weights.
multilevel_i2 <- function(res) {
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (res$k - res$p) / sum(diag(P))
  list(I2 = 100 * res$sigma2 / (sum(res$sigma2) + vt), I2_total = 100 * sum(res$sigma2) / (sum(res$sigma2) + vt))
}

rma_mv_fixtures <- lapply(cases, function(case) {
  d <- case$data
  d$s <- d[[case$study]]
  d$c2 <- d[[case$cluster2]]
  for (level in c(95, 90)) {
    res <- if (is.null(case$mods)) {
      rma.mv(yi, vi, random = ~ 1 | s / c2, data = d, method = "REML", level = level, control = tight)
    } else {
      rma.mv(yi, vi, mods = case$mods, random = ~ 1 | s / c2, data = d, method = "REML",
             level = level, control = tight)
    }
    if (level == 95) res95 <- res
  }
  X <- model.matrix(res95)
  cr2 <- coef_test(res95, vcov = "CR2", cluster = d$s, test = "Satterthwaite")
  ci2 <- conf_int(res95, vcov = "CR2", cluster = d$s, level = 0.95)
  ci2_90 <- conf_int(res95, vcov = "CR2", cluster = d$s, level = 0.90)
  rob <- robust(res95, cluster = d$s, clubSandwich = TRUE)
  # CR2 with clusters coarser than the studies: studies paired in order of their labels
  d$pair <- as.integer(factor(d$s)) %/% 2
  outer <- coef_test(res95, vcov = "CR2", cluster = d$pair, test = "Satterthwaite")
  i2 <- multilevel_i2(res95)
  fit_values <- function(r) list(
    beta = as.numeric(r$beta), se = as.numeric(r$se), zval = as.numeric(r$zval),
    pval = as.numeric(r$pval), ci_lb = as.numeric(r$ci.lb), ci_ub = as.numeric(r$ci.ub))
  list(
    dataset = case$name,
    yi = as.numeric(d$yi), vi = as.numeric(d$vi), study = d$s, cluster2 = d$c2,
    mods = if (ncol(X) > 1) unname(X[, -1, drop = FALSE]) else NULL,
    coef_names = colnames(X),
    k = res95$k, p = res95$p,
    sigma2 = as.numeric(res95$sigma2), s_nlevels = as.numeric(res95$s.nlevels),
    vb = unname(res95$vb),
    QE = as.numeric(res95$QE), QEp = as.numeric(res95$QEp),
    logLik = as.numeric(logLik(res95)),
    I2 = i2$I2, I2_total = i2$I2_total,
    level95 = fit_values(res95), level90 = fit_values(res),
    cr2 = list(
      vcov = unname(as.matrix(vcovCR(res95, cluster = d$s, type = "CR2"))),
      beta = cr2$beta, se = cr2$SE, tstat = cr2$tstat, df = cr2$df_Satt, p = cr2$p_Satt,
      ci_lb = ci2$CI_L, ci_ub = ci2$CI_U, ci90_lb = ci2_90$CI_L, ci90_ub = ci2_90$CI_U,
      robust_se = as.numeric(rob$se), robust_df = as.numeric(rob$ddf), robust_p = as.numeric(rob$pval)),
    cr2_pairs = list(cluster = d$pair, se = outer$SE, df = outer$df_Satt, p = outer$p_Satt)
  )
})

aggregate_fixtures <- list()
for (rho in c(0.5, 0.8)) {
  es <- escalc(measure = "GEN", yi = yi, vi = vi, data = assink)
  agg <- aggregate(es, cluster = study, rho = rho, struct = "CS")
  aggregate_fixtures[[length(aggregate_fixtures) + 1]] <- list(
    dataset = "assink2016", rho = rho, yi_in = as.numeric(assink$yi), vi_in = as.numeric(assink$vi),
    cluster_in = assink$study, cluster = agg$study, yi = as.numeric(agg$yi), vi = as.numeric(agg$vi))
}

out <- list(
  generated_by = "tests/reference/make_multilevel_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  control = tight,
  rma_mv = rma_mv_fixtures,
  aggregate = aggregate_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_multilevel.json")
cat("wrote tests/reference/metafor_multilevel.json\n")
