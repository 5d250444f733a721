# Reference values for premeta's variability measures lnCVR and lnVR (issue 23, part 3): metafor's
# escalc(measure = "CVR") and escalc(measure = "VR") (Nakagawa et al. 2015, Methods Ecol Evol 6:143),
# with metafor 3.8's small-sample corrections 1/(2(n - 1)) of each log SD. Run from the repository root:
#
#   Rscript tests/reference/make_variability_fixtures.R
#
# It writes tests/reference/metafor_variability.json at full precision (toJSON digits = NA), inputs
# included, so the tests never need R. Debian packages: r-base-core r-cran-metafor r-cran-metadat
# r-cran-jsonlite.
#
# Data: metadat's dat.besson2016 (Besson et al. 2016, maternal diet and offspring behaviour in rats and
# mice; 473 published comparisons with each arm's mean, SE and n, and the offspring's sex). The SD is
# SE * sqrt(n), as the dataset's help page does. CVR needs positive means, both measures an SD above 0
# and n above 1: the rows kept are those, as published (none changed).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

d <- dat.besson2016
keep <- with(d, !is.na(exp_mean) & !is.na(con_mean) & exp_mean > 0 & con_mean > 0 &
               !is.na(exp_se) & !is.na(con_se) & exp_se > 0 & con_se > 0 & exp_n > 1 & con_n > 1)
d <- d[keep, ]
d$sd_e <- d$exp_se * sqrt(d$exp_n)
d$sd_c <- d$con_se * sqrt(d$con_n)

cvr <- escalc(measure = "CVR", m1i = exp_mean, sd1i = sd_e, n1i = exp_n,
              m2i = con_mean, sd2i = sd_c, n2i = con_n, data = d)
vr <- escalc(measure = "VR", m1i = exp_mean, sd1i = sd_e, n1i = exp_n,
             m2i = con_mean, sd2i = sd_c, n2i = con_n, data = d)

out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = list(study = d$study_ID, comparison = d$comp_ID, species = d$species, sex = d$sex,
              trt_mean = d$exp_mean, trt_sem = d$exp_se, trt_n = d$exp_n,
              ctl_mean = d$con_mean, ctl_sem = d$con_se, ctl_n = d$con_n),
  CVR = list(yi = as.numeric(cvr$yi), vi = as.numeric(cvr$vi)),
  VR = list(yi = as.numeric(vr$yi), vi = as.numeric(vr$vi))
)
# The workflow with measure: CVR on tests/data/besson2016_mice.csv (a corpus sheet written from the same
# dataset by tests/data/make_corpus.R) and shared_control: full (every comparison keeps its control's n):
# its pooled table's rows are rma(yi, vi, method = "REML", test = "knha") per mechanism.
mice <- read.csv("tests/data/besson2016_mice.csv")
mice$sd_e <- mice$trt_sem * sqrt(mice$trt_n)
mice$sd_c <- mice$ctl_sem * sqrt(mice$ctl_n)
mcvr <- escalc(measure = "CVR", m1i = trt_mean, sd1i = sd_e, n1i = trt_n,
               m2i = ctl_mean, sd2i = sd_c, n2i = ctl_n, data = mice)
out$mice_cvr <- lapply(sort(unique(mcvr$mechanism)), function(g) {
  f <- rma(yi, vi, data = mcvr[mcvr$mechanism == g, ], method = "REML", test = "knha",
           control = list(threshold = 1e-12, tol = 1e-12, maxiter = 1000))
  list(group = g, k = f$k, estimate = as.numeric(f$beta), se = f$se, ci_low = f$ci.lb, ci_high = f$ci.ub,
       p = f$pval, tau2 = f$tau2)
})
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
           "tests/reference/metafor_variability.json")
