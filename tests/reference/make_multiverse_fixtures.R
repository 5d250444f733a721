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
# same method and test; REML and z for multilevel, rve and the adjusted estimates) and without
# studies of one comparison. With dependence none, the two estimates adjusted for publication bias:
#   adjustment pet_peese:  PET-PEESE as Stanley's weighted least squares: PET = rma(yi, vi, mods = ~ x,
#                          method = "FE", test = "knha"), and where PET's intercept has a two-sided
#                          p < 0.10, PEESE = the same with mods = ~ I(x^2); its intercept. x is the
#                          modified SE sqrt(1/n1i + 1/n2i) for SMD (Pustejovsky and Rodgers 2019; every
#                          comparison here has its group sizes, no control is shared), sqrt(vi) for MD;
#   adjustment selmodel:   selmodel(rma(yi, vi, method = "ML"), type = "stepfun", steps = 0.025,
#                          alternative = "greater" if rma(yi, vi, method = "FE") gives >= 0, else "less").
#                          metafor's optim stops early (up to 1e-3 relative from the optimum), so the fit is
#                          polished exactly as make_selmodel_fixtures.R does it, by that script's own
#                          functions (polished, at_optimum, newton, one: evaluated from it below, not copied):
#                          restarts at reltol 1e-15, Newton steps on metafor's log-likelihood, the SEs of
#                          numDeriv at the optimum, and tau2 fixed at 0 where its optimum is the bound.
#                          A stratum metafor refuses (an interval of p-values without any) keeps its message.

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

# the selection-model reference of make_selmodel_fixtures.R: its definitions only (the script itself
# would write its own JSON)
for (e in parse("tests/reference/make_selmodel_fixtures.R")) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.name(e[[2]]) &&
      as.character(e[[2]]) %in% c("INT", "INT_HESS", "polished", "at_optimum", "newton", "one")) eval(e)
}

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

pet_peese <- function(d, measure) {
  x <- if (measure == "SMD") sqrt(1 / d$trt_n + 1 / d$ctl_n) else sqrt(d$vi)
  # metafor warns that Knapp-Hartung is "not meant to be used in the context of FE models": with FE it
  # is Stanley's WLS (a multiplicative dispersion), which PET-PEESE is, on purpose
  pet <- suppressWarnings(rma(d$yi, d$vi, mods = ~ x, method = "FE", test = "knha"))
  chosen <- if (pet$pval[1] < 0.10) "PEESE" else "PET"
  res <- if (chosen == "PEESE") suppressWarnings(rma(d$yi, d$vi, mods = ~ I(x^2), method = "FE", test = "knha")) else pet
  list(k = res$k, estimate = res$beta[1], se = res$se[1], stat = res$zval[1], df = res$ddf[1], p = res$pval[1],
       ci_low = res$ci.lb[1], ci_high = res$ci.ub[1], tau2 = res$tau2, chosen = chosen,
       pet_p = pet$pval[1])
}

selection <- function(d) {
  alternative <- if (rma(d$yi, d$vi, method = "FE")$beta[1] >= 0) "greater" else "less"
  r <- tryCatch(one(d$yi, d$vi, "stepfun", 0.025, alternative), error = function(e) conditionMessage(e))
  if (is.character(r)) return(list(k = nrow(d), alternative = alternative, error = r))
  list(k = r$k, estimate = r$estimate, se = r$se, stat = r$stat, p = r$p, ci_low = r$ci_low, ci_high = r$ci_high,
       tau2 = r$tau2, delta = r$delta[2], loglik = r$loglik, alternative = alternative,
       tau2_fixed = !is.na(r$tau2_free))
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
add <- function(group, measure, method, test, dependence, inclusion, result, adjustment = "none") {
  specs[[length(specs) + 1]] <<- c(list(group = group, measure = measure, method = method, test = test,
                                        dependence = dependence, adjustment = adjustment, inclusion = inclusion),
                                   result)
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
      add(g, measure, "FE", "knha", "none", inclusion, pet_peese(e, measure), "pet_peese")
      add(g, measure, "ML", "z", "none", inclusion, selection(e), "selmodel")
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
