# Reference values for tests/test_minocycline_sensitivity.py: the sensitivity analyses of the open
# replication (github.com/matheusglls/minocycline, doi:10.5281/zenodo.19642432,
# meta_analyses_main_report.Rmd) of Reis et al. (2019, Sci Rep, doi:10.1038/s41598-018-36507-9), on
# data/minocycline/ (CC BY 4.0; see data/minocycline/README.md). Run from the repository root:
#
#   Rscript tests/reference/make_minocycline_sensitivity_fixtures.R
#
# It writes tests/reference/minocycline_sensitivity.json at full precision (17 significant digits).
# Packages: robumeta, metafor, clubSandwich, jsonlite.
#
# Data, prepared as tests/reference/make_minocycline_fixtures.R (and the Rmd) does:
#   Analysis A: 41598_2018_36507_MOESM2_ESM.csv, hedges, vi = se^2, clusters `study`, n = tx_n + c_n.
#   Analysis C: `Complete data.csv` without study_id Wong_2016, escalc(measure = "SMD", minocycline
#     as group 1), yi negated where effect_direction is "Auto"; clusters exp_id; n = n_mino + n_ctrl.
#
# 1. Leave-one-cluster-out, as the Rmd's make_loo_table: for each cluster (in order of first
#    appearance, unique()) all its rows dropped, robu(hedges ~ 1, studynum, var.eff.size = vi,
#    modelweights = "CORR", rho = 0.8, small = TRUE) refitted; Delta = estimate - full estimate,
#    % change = 100 * Delta / |full estimate|. A and C.
#    The same with the three-level model (A only): rma.mv(hedges, vi, random = ~ 1 | study/row,
#    method = "REML") and clubSandwich coef_test(vcov = "CR2", cluster = study,
#    test = "Satterthwaite") / conf_int. The REML likelihood is flat in sigma2_1 here: metafor's
#    default nlminb stops ~5e-6 (relative) short of the optimum (log-likelihood 1e-10 lower), so
#    the fit uses control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14), which
#    reaches it.
# 2. The Rmd's make_egger_table, as coded there: lm(Z ~ Prec), Z = hedges / se, Prec = 1 / se; and
#    lm(I(hedges * sqrt(n)) ~ sqrt(n)); intercept t tests on the residual df (n - 2), p from the
#    upper tail.

suppressPackageStartupMessages({
  library(robumeta)
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

dir <- "data/minocycline"
upper_p <- function(t, df) 2 * pt(abs(t), df, lower.tail = FALSE)

robu_fit <- function(d, rho = 0.8) {
  d$study_tmp <- as.integer(factor(d$cl))
  fit <- robumeta::robu(hedges ~ 1, data = d, studynum = study_tmp, var.eff.size = d$vi,
                        modelweights = "CORR", rho = rho, small = TRUE)
  tab <- fit$reg_table
  c(estimate = tab$b.r[1], se = tab$SE[1], t = tab$t[1], df = tab$dfs[1],
    p = upper_p(tab$t[1], tab$dfs[1]), ci_lb = tab$CI.L[1], ci_ub = tab$CI.U[1])
}

mv_fit <- function(d) {
  d$row <- seq_len(nrow(d))
  fit <- metafor::rma.mv(hedges, vi, random = ~ 1 | cl / row, data = d, method = "REML",
                         control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14))
  ct <- clubSandwich::coef_test(fit, vcov = "CR2", cluster = d$cl, test = "Satterthwaite")
  ci <- clubSandwich::conf_int(fit, vcov = "CR2", cluster = d$cl, level = 0.95)
  c(estimate = as.numeric(fit$b[1]), se = ct$SE[1], t = ct$tstat[1], df = ct$df_Satt[1],
    p = upper_p(ct$tstat[1], ct$df_Satt[1]), ci_lb = ci$CI_L[1], ci_ub = ci$CI_U[1],
    sigma2_1 = fit$sigma2[1], sigma2_2 = fit$sigma2[2])
}

leave1cluster <- function(d, fitter) {
  full <- fitter(d)
  uniq <- unique(d$cl)
  rows <- t(sapply(uniq, function(drop_id) {
    dd <- d[d$cl != drop_id, ]
    rownames(dd) <- NULL
    c(k = nrow(dd), fitter(dd))
  }))
  res <- as.list(as.data.frame(rows))
  res$delta <- res$estimate - full[["estimate"]]
  res$pct_change <- 100 * res$delta / abs(full[["estimate"]])
  list(cluster = uniq, full = as.list(full), results = res)
}

egger_table <- function(d) {
  eg1 <- d[is.finite(d$se) & d$se > 0, ]
  eg1$Z <- eg1$hedges / eg1$se
  eg1$Prec <- 1 / eg1$se
  s1 <- summary(lm(Z ~ Prec, data = eg1))
  eg2 <- d
  eg2$prec_n <- sqrt(eg2$n_total)
  eg2 <- eg2[is.finite(eg2$prec_n) & eg2$prec_n > 0, ]
  s2 <- summary(lm(I(hedges * prec_n) ~ prec_n, data = eg2))
  one <- function(s, n_used) {
    cf <- coef(s)
    ti <- cf[1, 1] / cf[1, 2]
    list(intercept = cf[1, 1], intercept_se = cf[1, 2], intercept_t = ti, df = s$df[2],
         intercept_p = upper_p(ti, s$df[2]), slope = cf[2, 1], slope_se = cf[2, 2],
         slope_t = cf[2, 3], slope_p = cf[2, 4], slope_p_upper = upper_p(cf[2, 3], s$df[2]),
         sigma = s$sigma, n_used = n_used)
  }
  list(SE = one(s1, nrow(eg1)), sqrtn = one(s2, nrow(eg2)))
}

# Analysis A
a <- read.csv(file.path(dir, "41598_2018_36507_MOESM2_ESM.csv"), stringsAsFactors = FALSE)
a$vi <- a$se^2
a$se <- sqrt(a$vi)  # as the Rmd
a$cl <- a$study
a$n_total <- a$tx_n + a$c_n

# Analysis C
c0 <- read.csv(file.path(dir, "Complete data.csv"), stringsAsFactors = FALSE, check.names = TRUE)
c0 <- c0[c0$study_id != "Wong_2016", ]
rownames(c0) <- NULL
esc <- escalc(measure = "SMD", m1i = mean_mino, sd1i = sd_mino, n1i = n_mino,
              m2i = mean_ctrl, sd2i = sd_ctrl, n2i = n_ctrl, data = c0)
flip <- tolower(trimws(c0$effect_direction)) == "auto"
yi <- as.numeric(esc$yi)
yi[flip] <- -yi[flip]
cd <- data.frame(hedges = yi, vi = as.numeric(esc$vi), cl = c0$exp_id,
                 n_total = c0$n_mino + c0$n_ctrl, stringsAsFactors = FALSE)
cd$se <- sqrt(cd$vi)

out <- list(
  generated_by = "tests/reference/make_minocycline_sensitivity_fixtures.R",
  versions = list(R = R.version.string, robumeta = as.character(packageVersion("robumeta")),
                  metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  A = list(yi = a$hedges, vi = a$vi, cluster = a$cl, n_total = a$n_total,
           leave1cluster_rve = leave1cluster(a, robu_fit),
           leave1cluster_multilevel = leave1cluster(a, mv_fit),
           egger = egger_table(a)),
  C = list(yi = cd$hedges, vi = cd$vi, cluster = cd$cl, n_total = cd$n_total,
           leave1cluster_rve = leave1cluster(cd, robu_fit),
           egger = egger_table(cd))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/minocycline_sensitivity.json")
cat("wrote tests/reference/minocycline_sensitivity.json\n")
