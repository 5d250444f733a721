# Reference values for premeta on degenerate input (issue 7, section 2): what metafor 3.8 and
# clubSandwich answer, or that they stop, for constant Egger predictors, k = 2 and k = 3,
# identical effects, NaN moderators in rma.mv, leave-one-out/influence at k = 2 and k = 3, and
# data to be rescaled by 1e150 / 1e-150. Run from the repository root:
#
#   Rscript tests/reference/make_degenerate_fixtures.R
#
# It writes tests/reference/metafor_degenerate.json at full precision (toJSON digits = NA),
# inputs included, so the tests never need R. A call that stops is recorded with its error
# message (field "error"). Extreme magnitudes: R doubles have the same range as numpy's, so
# metafor is run on the unscaled data and the tests scale inputs and expected values
# (yi, beta, ci by c; vi, tau2, se.tau2, tau2 CI by c^2; Q, I2, H2, p-values unchanged).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(clubSandwich)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
attempt <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
quiet <- function(expr) suppressWarnings(expr)

# small data sets: the first k rows of these
yi5 <- c(0.5, 0.9, 0.1, 1.3, 0.4)
vi5 <- c(0.3, 0.25, 0.28, 0.3, 0.26)
ni5 <- rep(16, 5)  # every comparison 8 + 8 animals

# ---- 1. regtest: constant predictor, k = 2 and 3, identical effects --------------------------
regtest_values <- function(rt, model) {
  if (model == "rma") {
    slope <- num(rt$fit$beta[2]); slope_se <- num(rt$fit$se[2]); tau2 <- num(rt$fit$tau2)
  } else {
    cf <- coef(summary(rt$fit)); slope <- cf[2, 1]; slope_se <- cf[2, 2]; tau2 <- NA
  }
  list(zval = num(rt$zval), pval = num(rt$pval), ddf = num(rt$ddf), est = num(rt$est),
       ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub), slope = slope, slope_se = slope_se, tau2 = tau2)
}
regtest_cases <- list()
add_regtest <- function(name, yi, vi, ni, model, predictor, method, test) {
  res <- attempt(quiet(regtest(yi, vi, ni = ni, model = model, predictor = predictor, method = method,
                               test = test, control = tight)))
  out <- list(name = name, yi = yi, vi = vi, ni = ni, model = model, predictor = predictor,
              method = method, test = test)
  regtest_cases[[length(regtest_cases) + 1]] <<- c(out, if (!is.null(res$error)) res else regtest_values(res, model))
}
for (model in c("rma", "lm")) {
  add_regtest("constant_sqrtninv", yi5, vi5, ni5, model, "sqrtninv", "REML", "z")
  add_regtest("constant_sei", yi5, rep(0.3, 5), ni5, model, "sei", "REML", "z")
  add_regtest("identical_yi_knha", rep(0.5, 5), vi5, ni5, model, "sei", "REML", "knha")
  for (k in 2:3) for (method in c("FE", "REML")) for (test in c("z", "knha"))
    add_regtest(paste0("k", k), yi5[1:k], vi5[1:k], ni5[1:k], model, "sei", method, test)
}
add_regtest("identical_yi_z", rep(0.5, 5), vi5, ni5, "rma", "sei", "REML", "z")

# ---- 1. rma with identical effects and Knapp-Hartung ----------------------------------------
rma_values <- function(res) list(
  beta = as.numeric(res$beta), se = as.numeric(res$se), zval = as.numeric(res$zval),
  pval = as.numeric(res$pval), ci_lb = as.numeric(res$ci.lb), ci_ub = as.numeric(res$ci.ub),
  ddf = num(res$ddf), tau2 = num(res$tau2), se_tau2 = num(res$se.tau2), QE = num(res$QE),
  QEp = num(res$QEp), I2 = num(res$I2), H2 = num(res$H2), QM = num(res$QM), QMp = num(res$QMp))
identical_cases <- list()
for (method in c("REML", "DL", "FE")) for (mods in c(FALSE, TRUE)) {
  res <- quiet(if (mods) rma(rep(0.5, 5), vi5, mods = ~ c(1, 2, 3, 4, 5), method = method, test = "knha", control = tight)
               else rma(rep(0.5, 5), vi5, method = method, test = "knha", control = tight))
  identical_cases[[length(identical_cases) + 1]] <- c(
    list(yi = rep(0.5, 5), vi = vi5, mods = if (mods) c(1, 2, 3, 4, 5) else NULL, method = method, test = "knha"),
    rma_values(res))
}

# ---- 2. trimfill at k = 2 and k = 3, side estimated or given; equal vi; identical effects ----
trimfill_cases <- list()
add_trimfill <- function(name, yi, vi, method, estimator, side) {
  res <- rma(yi, vi, method = method, control = tight)
  tf <- attempt(quiet(if (is.null(side)) trimfill(res, estimator = estimator, control = tight)
                      else trimfill(res, estimator = estimator, side = side, control = tight)))
  out <- list(name = name, yi = yi, vi = vi, method = method, estimator = estimator,
              side_given = if (is.null(side)) NA else side)
  trimfill_cases[[length(trimfill_cases) + 1]] <<- c(out, if (!is.null(tf$error)) tf else list(
    k0 = tf$k0, se_k0 = num(tf$se.k0), p_k0 = num(tf$p.k0), side = tf$side,
    yi_filled = as.numeric(tf$yi), vi_filled = as.numeric(tf$vi), fill = tf$fill,
    estimate = num(tf$beta), se = num(tf$se), zval = num(tf$zval), pval = num(tf$pval),
    ci_lb = num(tf$ci.lb), ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2)))
}
for (k in 2:3) for (method in c("FE", "DL", "REML")) for (estimator in c("L0", "R0"))
  for (side in list(NULL, "left", "right"))
    add_trimfill(paste0("k", k), yi5[1:k], vi5[1:k], method, estimator, side)
for (estimator in c("L0", "R0")) {
  add_trimfill("equal_vi", yi5, rep(0.3, 5), "REML", estimator, NULL)
  add_trimfill("identical_yi", rep(0.3, 2), vi5[1:2], "FE", estimator, NULL)
  add_trimfill("identical_yi", rep(0.3, 5), vi5, "FE", estimator, NULL)
}

# ---- 3. rma.mv with NaN moderators, and clubSandwich's CR2 test -----------------------------
konst <- dat.konstantopoulos2011
konst$year_na <- konst$year
konst$year_na[c(3, 10, 11, 40)] <- NA
res_mv <- quiet(rma.mv(yi, vi, mods = ~ year_na, random = ~ 1 | district / school, data = konst,
                       method = "REML",
                       # nlminb (rel.tol 1e-10) stops short here (score 2e-4); a tighter rel.tol fails
                       control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-15, maxit = 10000)))
cr2 <- coef_test(res_mv, vcov = "CR2", cluster = konst$district, test = "Satterthwaite")
rma_mv_case <- list(
  yi = konst$yi, vi = konst$vi, study = konst$district, cluster2 = konst$school,
  mods = konst$year_na, k = res_mv$k, k_all = res_mv$k.all, k_omitted = res_mv$k.all - res_mv$k,
  p = res_mv$p, sigma2 = as.numeric(res_mv$sigma2), s_nlevels = as.numeric(res_mv$s.nlevels),
  beta = as.numeric(res_mv$beta), se = as.numeric(res_mv$se), pval = as.numeric(res_mv$pval),
  ci_lb = as.numeric(res_mv$ci.lb), ci_ub = as.numeric(res_mv$ci.ub), QE = num(res_mv$QE),
  logLik = as.numeric(logLik(res_mv)),
  cr2 = list(vcov = unname(as.matrix(vcovCR(res_mv, cluster = konst$district, type = "CR2"))),
             se = cr2$SE, tstat = cr2$tstat, df = cr2$df_Satt, p = cr2$p_Satt))

# ---- 4. leave1out and influence at k = 2 and k = 3 ------------------------------------------
loo_cases <- list()
for (k in 2:3) for (method in c("REML", "DL", "FE")) for (test in c("z", "knha")) {
  res <- quiet(rma(yi5[1:k], vi5[1:k], method = method, test = test, control = tight))
  l1 <- as.data.frame(quiet(leave1out(res)))
  inf <- quiet(influence(res))
  infd <- as.data.frame(inf$inf)
  infd$inf <- NULL
  loo_cases[[length(loo_cases) + 1]] <- list(
    yi = yi5[1:k], vi = vi5[1:k], method = method, test = test,
    leave1out = as.list(l1),
    influence = c(as.list(infd), list(dfbs = as.numeric(inf$dfbs[[1]]), is_infl = as.logical(inf$is.infl))))
}

# ---- 5. extreme magnitudes: metafor on ordinary data; the tests scale by 1e150 and 1e-150 ----
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
extreme_cases <- list()
for (method in c("REML", "DL", "PM", "ML", "FE")) for (test in c("z", "knha")) {
  res <- rma(bcg$yi, bcg$vi, method = method, test = test, control = tight)
  ci <- if (method == "FE") NULL else confint(res, control = tight)
  extreme_cases[[length(extreme_cases) + 1]] <- c(
    list(yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), method = method, test = test,
         tau2_ci = if (is.null(ci)) c(NA, NA) else as.numeric(ci$random["tau^2", 2:3]),
         I2_ci = if (is.null(ci)) c(NA, NA) else as.numeric(ci$random["I^2(%)", 2:3])),
    rma_values(res))
}
norm <- dat.normand1999
smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = norm)
smd_case <- list(m1i = norm$m1i, sd1i = norm$sd1i, n1i = norm$n1i, m2i = norm$m2i, sd2i = norm$sd2i,
                 n2i = norm$n2i, yi = as.numeric(smd$yi), vi = as.numeric(smd$vi))

out <- list(
  generated_by = "tests/reference/make_degenerate_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  control = tight,
  regtest = regtest_cases, identical_knha = identical_cases, trimfill = trimfill_cases,
  rma_mv_na = rma_mv_case, leave1out = loo_cases, extreme = extreme_cases, smd = smd_case
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_degenerate.json")
cat("wrote tests/reference/metafor_degenerate.json\n")
