# Reference values for premeta.primary, the primary analysis of a run (the model every
# figure's diamond and the report's first table show): per group, metafor's rma.mv three-level
# model with clubSandwich CR2 tests, its prediction interval (metafor predict() of the robust fit)
# and its weights (metafor weights()), and robumeta's robu weights; on real published data, the
# group-level sheet of the open replication of Reis et al. (2019, Sci Rep,
# doi:10.1038/s41598-018-36507-9; data/minocycline/minocycline_sheet.csv, CC BY 4.0) and metadat's
# dat.assink2016 (Assink et al. 2016). Run from the repository root:
#
#   Rscript tests/reference/make_primary_fixtures.R
#
# It writes tests/reference/metafor_primary.json at full precision (17 significant digits).
# Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-clubsandwich r-cran-robumeta
# r-cran-jsonlite.
#
# Minocycline: escalc("SMD"), minocycline as group 1, negated where better is "lower" (premeta's
# orient = "benefit"), grouped by mechanism; rma.mv(yi, vi, random = ~ 1 | study / id) by REML (of
# nlminb and Nelder-Mead, the fit with the higher logLik: the surface is flat here), then
# robust(cluster = study, clubSandwich = TRUE) and predict() of it; robu(modelweights = "CORR",
# rho = 0.8, small = TRUE). assink2016: the same three-level model with random = ~ 1 | study / esid.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(robumeta)
  library(jsonlite)
})

optimisers <- list(list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                   list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000))

three_level <- function(d, level = 95) {
  fits <- lapply(optimisers, function(control)
    rma.mv(yi, vi, random = ~ 1 | study / id, data = d, method = "REML", level = level, control = control))
  res <- fits[[which.max(sapply(fits, logLik))]]
  rob <- robust(res, cluster = d$study, clubSandwich = TRUE)
  pr <- predict(rob)
  list(k = res$k, estimate = as.numeric(rob$beta), se = as.numeric(rob$se), df = as.numeric(rob$ddf),
       p = as.numeric(rob$pval), ci_low = as.numeric(rob$ci.lb), ci_high = as.numeric(rob$ci.ub),
       pi_low = as.numeric(pr$pi.lb), pi_high = as.numeric(pr$pi.ub), sigma2 = res$sigma2,
       weights = as.numeric(weights(res)), loglik = as.numeric(logLik(res)))
}

robu_weights <- function(d) {
  d <- as.data.frame(d)
  rownames(d) <- NULL
  fit <- robumeta::robu(yi ~ 1, data = d, studynum = study, var.eff.size = vi, modelweights = "CORR",
                        rho = 0.8, small = TRUE)
  # data.full is sorted by study; its row names are the input rows
  w <- fit$data.full$r.weights[order(as.integer(rownames(fit$data.full)))]
  list(estimate = as.numeric(fit$b.r), weights = as.numeric(100 * w / sum(w)))
}

sheet <- read.csv("data/minocycline/minocycline_sheet.csv", check.names = FALSE, strip.white = TRUE)
sheet$id <- seq_len(nrow(sheet))
es <- escalc("SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n, m2i = ctl_mean, sd2i = ctl_sd, n2i = ctl_n,
             data = sheet)
es$yi <- es$yi * ifelse(sheet$better == "lower", -1, 1)
# groups whose comparisons come from at least 2 studies (robust tests need 2 clusters)
groups <- sort(unique(es$mechanism))
groups <- groups[sapply(groups, function(g) length(unique(es$study[es$mechanism == g])) >= 2)]
minocycline <- lapply(setNames(groups, groups), function(g) {
  d <- es[es$mechanism == g, ]
  list(rows = d$id, multilevel = three_level(d), multilevel90 = three_level(d, 90), rve = robu_weights(d))
})
minocycline$overall <- list(rows = es$id, multilevel = three_level(es), multilevel90 = three_level(es, 90),
                            rve = robu_weights(es))

assink <- dat.assink2016
assink$id <- assink$esid
a <- three_level(assink)

out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich")),
                  robumeta = as.character(packageVersion("robumeta"))),
  minocycline = minocycline,
  assink2016 = list(yi = assink$yi, vi = assink$vi, study = assink$study, esid = assink$esid, multilevel = a)
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/metafor_primary.json")
