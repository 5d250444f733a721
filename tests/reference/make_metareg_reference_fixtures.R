# Reference values for premeta.metareg in a stratum that lacks a text moderator's reference level
# (the first level over all rows): metafor fits the stratum's own rows, whose factor starts at the
# first level present there,
#
#   rma(yi, vi, mods = ~ <moderators>, data = dat[dat$fungrp == g, ], method, test)
#
# on metadat's dat.curtis1998 (Curtis & Wang 1998, via Hedges et al. 1999; GPL >= 2), log ratio
# of means escalc("ROM"), strata fungrp (ANGIO 78, GYMNO 22, N2FIX 2 rows). Moderators: genus (ACER,
# the first genus, is absent from GYMNO: PICEA is its reference there), pot (text; the first pot,
# 0.04, is absent from ANGIO), genus with time. For method REML with test "knha" and DL with "z".
#
# Run from the repository root:
#
#   Rscript tests/reference/make_metareg_reference_fixtures.R
#
# It writes tests/reference/metafor_metareg_reference.json at full precision (toJSON digits = NA),
# the data included (yi, vi, fungrp, genus, pot, time), so the tests never need R. rma's control:
# threshold and tol 1e-12 (tightened so that the reference is the optimum).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
dat <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = dat.curtis1998)
dat <- data.frame(yi = as.numeric(dat$yi), vi = as.numeric(dat$vi), fungrp = dat$fungrp,
                  genus = dat$genus, pot = dat$pot, time = dat$time, stringsAsFactors = FALSE)

fixtures <- list()
for (mods in list("genus", "pot", c("genus", "time"))) {
  for (mt in list(c("REML", "knha"), c("DL", "z"))) {
    for (g in c("ANGIO", "GYMNO")) {
      d <- dat[dat$fungrp == g, ]
      f <- rma(yi, vi, mods = reformulate(mods), data = d, method = mt[1], test = mt[2], control = tight)
      fixtures[[length(fixtures) + 1]] <- list(
        mods = I(mods), method = mt[1], test = mt[2], group = g,
        first_level = sort(unique(d[[mods[1]]]))[1],
        term = rownames(f$beta), estimate = as.numeric(f$beta), se = as.numeric(f$se),
        stat = as.numeric(f$zval), p = as.numeric(f$pval), ci_low = as.numeric(f$ci.lb),
        ci_high = as.numeric(f$ci.ub), QM = f$QM, QMdf = as.numeric(f$QMdf), QMp = f$QMp,
        tau2 = f$tau2, I2 = f$I2, QE = f$QE, QEp = f$QEp, R2 = if (is.null(f$R2)) NA else f$R2)
    }
  }
}

out <- list(
  generated_by = "tests/reference/make_metareg_reference_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = as.list(dat),
  metareg = fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_metareg_reference.json")
cat("wrote tests/reference/metafor_metareg_reference.json\n")
