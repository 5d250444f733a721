# Reference values for tests/test_che.py: the correlated-and-hierarchical-effects (CHE) working
# model of Pustejovsky & Tipton (2022, Prev Sci 23:425) as metafor users fit it,
#
#   V   <- vcalc(vi, cluster = study, obs = es_id, rho = r)
#   fit <- rma.mv(yi, V, random = ~ 1 | study/es_id, method = "REML")
#   coef_test(fit, vcov = "CR2", cluster = study, test = "Satterthwaite"),
#
# on real data: metadat's dat.assink2016 (study, esid) with r = 0.6 and 0.8, and Reis et al.
# (2019) minocycline data (data/minocycline/41598_2018_36507_MOESM2_ESM.csv: yi = hedges,
# vi = se^2, cluster = study, one effect per row) with r = 0.8. Run from the repository root:
#
#   Rscript tests/reference/make_che_fixtures.R
#
# It writes tests/reference/metafor_che.json at full precision (17 significant digits), inputs
# included. Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-clubsandwich
# r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(clubSandwich)
  library(jsonlite)
})

tight <- list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)

assink <- dat.assink2016
mino <- read.csv("data/minocycline/41598_2018_36507_MOESM2_ESM.csv")
mino <- data.frame(yi = mino$hedges, vi = mino$se^2, study = mino$study, es_id = seq_len(nrow(mino)))
cases <- list(
  list(name = "assink2016_r0.6", data = data.frame(yi = assink$yi, vi = assink$vi, study = assink$study,
                                                   es_id = assink$esid), rho = 0.6),
  list(name = "assink2016_r0.8", data = data.frame(yi = assink$yi, vi = assink$vi, study = assink$study,
                                                   es_id = assink$esid), rho = 0.8),
  list(name = "minocycline_r0.8", data = mino, rho = 0.8)
)

che <- lapply(cases, function(case) {
  d <- case$data
  V <- vcalc(vi, cluster = study, obs = es_id, rho = case$rho, data = d)
  # the same matrix as clubSandwich's impute_covariance_matrix (checked, not stored)
  V2 <- impute_covariance_matrix(d$vi, cluster = d$study, r = case$rho, return_list = FALSE)
  stopifnot(max(abs(as.matrix(V) - as.matrix(V2))) < 1e-12)
  fit <- rma.mv(yi, V, random = ~ 1 | study / es_id, data = d, method = "REML", control = tight)
  ct <- coef_test(fit, vcov = "CR2", cluster = d$study, test = "Satterthwaite")
  ci <- conf_int(fit, vcov = "CR2", cluster = d$study, level = 0.95)
  # multilevel I2 (metafor FAQ) with the sampling covariance: W = V^-1, P = W - WX(X'WX)^-1X'W
  W <- solve(as.matrix(V))
  X <- model.matrix(fit)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (fit$k - fit$p) / sum(diag(P))
  list(
    dataset = case$name, rho = case$rho,
    yi = as.numeric(d$yi), vi = as.numeric(d$vi), study = d$study, es_id = d$es_id,
    k = fit$k, beta = as.numeric(fit$beta), se = as.numeric(fit$se), zval = as.numeric(fit$zval),
    pval = as.numeric(fit$pval), ci_lb = as.numeric(fit$ci.lb), ci_ub = as.numeric(fit$ci.ub),
    sigma2 = as.numeric(fit$sigma2), s_nlevels = as.numeric(fit$s.nlevels),
    logLik = as.numeric(logLik(fit)), QE = as.numeric(fit$QE), QEp = as.numeric(fit$QEp),
    I2 = 100 * fit$sigma2 / (sum(fit$sigma2) + vt), I2_total = 100 * sum(fit$sigma2) / (sum(fit$sigma2) + vt),
    cr2 = list(beta = ct$beta, tstat = ct$tstat, se = ct$SE, df = ct$df_Satt, p = ct$p_Satt, ci_lb = ci$CI_L, ci_ub = ci$CI_U)
  )
})

out <- list(
  generated_by = "tests/reference/make_che_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  control = tight,
  che = che
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_che.json")
cat("wrote tests/reference/metafor_che.json\n")
