# Reference values for premeta.multiverse: specifications of the multiverse computed with metafor,
# clubSandwich and robumeta on real published data, the group-level sheet of the open replication
# of Reis et al. (2019, Sci Rep, doi:10.1038/s41598-018-36507-9; data/minocycline/, CC BY 4.0):
# data/minocycline/minocycline_sheet.csv, each experiment (exp_id) a cohort. Run from the
# repository root:
#
#   Rscript tests/reference/make_multiverse_fixtures.R
#
# It writes tests/reference/metafor_multiverse.json at full precision (17 significant digits).
# Debian packages: r-base-core r-cran-metafor r-cran-clubsandwich r-cran-robumeta r-cran-jsonlite.
#
# Effect sizes: escalc("SMD") and escalc("MD"), minocycline as group 1, negated where better is
# "lower" (premeta's orient = "benefit"). In each of three groups (mechanism: Forced swim,
# Sucrose preference, Tail suspension) and each measure (MD only where the group has one outcome):
#   dependence none:       rma(yi, vi, method, test) for method REML, DL, PM and test z, knha;
#   dependence aggregate:  aggregate(escalc, cluster = exp_id, rho = 0.5, struct = "CS"), then rma;
#   dependence multilevel: rma.mv(yi, vi, random = ~ 1 | study/id), REML, then
#                          robust(cluster = study, clubSandwich = TRUE) (CR2, Satterthwaite);
#   dependence rve:        robumeta robu(yi ~ 1, studynum = study, modelweights = "CORR", rho = 0.5,
#                          small = TRUE);
# each with inclusion all, without the comparisons influence() flags (is.infl, from the rma of the
# same method and test; REML and z for multilevel and rve) and without studies of one comparison.

suppressPackageStartupMessages({
  library(metafor)
  library(robumeta)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
# The REML surface of the three-level model is flat here: of nlminb (rel.tol 1e-10, as
# make_multilevel_fixtures.R) and Nelder-Mead (reltol 1e-14), the fit with the higher logLik is kept.
optimisers <- list(list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                   list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000))

sheet <- read.csv("data/minocycline/minocycline_sheet.csv", check.names = FALSE, strip.white = TRUE)
sheet$id <- seq_len(nrow(sheet))
sign <- ifelse(sheet$better == "lower", -1, 1)
effects <- function(measure) {
  es <- escalc(measure, m1i = trt_mean, sd1i = trt_sd, n1i = trt_n, m2i = ctl_mean, sd2i = ctl_sd,
               n2i = ctl_n, data = sheet)
  es$yi <- es$yi * sign
  es
}

pooled <- function(res) list(
  k = res$k, estimate = as.numeric(res$beta), se = res$se, stat = res$zval,
  df = if (is.null(res$ddf) || is.na(res$ddf)) NA else as.numeric(res$ddf), p = res$pval,
  ci_low = res$ci.lb, ci_high = res$ci.ub, tau2 = res$tau2, i2 = res$I2, q = res$QE, q_p = res$QEp)

multilevel <- function(d) {
  fits <- lapply(optimisers, function(control)
    rma.mv(yi, vi, random = ~ 1 | study / id, data = d, method = "REML", control = control))
  res <- fits[[which.max(sapply(fits, logLik))]]
  rob <- robust(res, cluster = d$study, clubSandwich = TRUE)
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (res$k - res$p) / sum(diag(P))
  list(k = res$k, estimate = as.numeric(rob$beta), se = as.numeric(rob$se), stat = as.numeric(rob$zval),
       df = as.numeric(rob$ddf), p = as.numeric(rob$pval), ci_low = as.numeric(rob$ci.lb),
       ci_high = as.numeric(rob$ci.ub), tau2 = sum(res$sigma2),
       i2 = 100 * sum(res$sigma2) / (sum(res$sigma2) + vt), q = res$QE, q_p = res$QEp)
}

rve <- function(d) {
  d <- as.data.frame(d)
  rownames(d) <- NULL
  fit <- robumeta::robu(yi ~ 1, data = d, studynum = study, var.eff.size = vi, modelweights = "CORR",
                        rho = 0.5, small = TRUE)
  tab <- fit$reg_table
  list(k = nrow(d), estimate = tab$b.r, se = tab$SE, stat = tab$t, df = tab$dfs, p = tab$prob,
       ci_low = tab$CI.L, ci_high = tab$CI.U, tau2 = as.numeric(fit$mod_info$tau.sq),
       i2 = as.numeric(fit$mod_info$I.2), q = NA, q_p = NA)
}

include <- function(d, inclusion, method, test) {
  if (inclusion == "all") return(d)
  if (inclusion == "no_single") return(d[d$study %in% names(which(table(d$study) > 1)), ])
  res <- rma(yi, vi, data = d, method = method, test = test, control = tight)
  d[!influence(res)$is.infl, ]
}

groups <- c("Forced swim", "Sucrose preference", "Tail suspension")
inclusions <- c("all", "no_influential", "no_single")
specs <- list()
add <- function(group, measure, method, test, dependence, inclusion, result) {
  specs[[length(specs) + 1]] <<- c(list(group = group, measure = measure, method = method, test = test,
                                        dependence = dependence, inclusion = inclusion), result)
}
for (measure in c("SMD", "MD")) {
  es <- effects(measure)
  for (g in groups) {
    d <- es[es$mechanism == g, ]
    if (measure == "MD" && length(unique(d$outcome)) > 1) next
    for (inclusion in inclusions) {
      for (method in c("REML", "DL", "PM")) for (test in c("z", "knha")) {
        e <- include(d, inclusion, method, test)
        add(g, measure, method, test, "none", inclusion,
            pooled(rma(yi, vi, data = e, method = method, test = test, control = tight)))
        a <- aggregate(e, cluster = exp_id, rho = 0.5, struct = "CS")
        add(g, measure, method, test, "aggregate", inclusion,
            pooled(rma(yi, vi, data = a, method = method, test = test, control = tight)))
      }
      e <- include(d, inclusion, "REML", "z")
      add(g, measure, "REML", "CR2", "multilevel", inclusion, multilevel(e))
      add(g, measure, "MoM", "CR2", "rve", inclusion, rve(e))
    }
  }
}

out <- list(
  generated_by = "tests/reference/make_multiverse_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich")),
                  robumeta = as.character(packageVersion("robumeta"))),
  data = "data/minocycline/minocycline_sheet.csv", cohort = "exp_id", rho = 0.5,
  specifications = specs
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"), "tests/reference/metafor_multiverse.json")
