# Reference values for metafor's modified Knapp-Hartung test (test = "adhoc": the scale factor
# s2 = Q(tau2)/(k - p) never below 1), on published data sets of the metadat package. Run from the
# repository root:
#
#   Rscript tests/reference/make_adhoc_fixtures.R
#
# It writes tests/reference/metafor_adhoc.json. Debian packages: r-base-core r-cran-metafor
# r-cran-metadat r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
smd <- function(d) escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
md <- function(d) escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
curtis <- dat.curtis1998
# s2 < 1 (homogeneous: adhoc sets it to 1) and s2 > 1 (adhoc equals knha) cases, plus a small k
data <- list(
  normand1999_MD = md(dat.normand1999),
  gibson2002_SMD = smd(dat.gibson2002),
  normand1999_first3_SMD = smd(dat.normand1999[1:3, ]),
  curtis1998_N_SMD = smd(curtis[curtis$fungrp == "N2FIX", ])
)
fits <- list()
for (name in names(data)) {
  es <- data[[name]]
  es <- es[!is.na(es$yi), ]  # Gibson 2002 has studies without the summaries
  for (method in c("FE", "DL", "REML")) {
    r <- rma(yi, vi, data = es, method = method, test = "adhoc", control = tight)
    k <- rma(yi, vi, data = es, method = method, test = "knha", control = tight)
    l1 <- leave1out(r)
    inf <- influence(r)$inf
    fits[[length(fits) + 1]] <- list(
      dataset = name, method = method, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
      beta = as.numeric(r$beta), se = r$se, tval = r$zval, df = r$ddf, pval = r$pval,
      ci_lb = r$ci.lb, ci_ub = r$ci.ub, pi_lb = predict(r)$pi.lb, pi_ub = predict(r)$pi.ub,
      tau2 = r$tau2, se_knha = k$se, s2w = r$s2w,
      leave1out = list(estimate = as.numeric(l1$estimate), se = as.numeric(l1$se),
                       tval = as.numeric(l1$tval), pval = as.numeric(l1$pval),
                       ci_lb = as.numeric(l1$ci.lb), ci_ub = as.numeric(l1$ci.ub)),
      influence = list(rstudent = as.numeric(inf$rstudent), dffits = as.numeric(inf$dffits),
                       cook_d = as.numeric(inf$cook.d), cov_r = as.numeric(inf$cov.r)))
  }
}
# Subgroup moderator test (F test under adhoc), Curtis 1998 by functional group
cd <- smd(curtis)
qm <- list()
for (method in c("DL", "REML")) {
  r <- rma(yi, vi, mods = ~ factor(fungrp), data = cd, method = method, test = "adhoc", control = tight)
  qm[[length(qm) + 1]] <- list(method = method, yi = as.numeric(cd$yi), vi = as.numeric(cd$vi),
                               group = as.character(cd$fungrp), QM = r$QM, QMdf = as.numeric(r$QMdf),
                               QMp = r$QMp, tau2 = r$tau2)
}
out <- list(metafor = as.character(packageVersion("metafor")), fits = fits, subgroup = qm)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"), "tests/reference/metafor_adhoc.json")
