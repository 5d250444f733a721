# Reference values for premeta's handling of control groups shared by several comparisons
# (config `shared_control`; premeta.escalc(shared_control=...), premeta.effects.shared_control_vcov,
# premeta.primary(shared_control="covariance")) and of fractional group sizes, on real
# published data with shared controls: tests/data/besson2016_split_controls.csv (studies s_42 and
# s_74, whose controls split among their comparisons leave fewer than 2 animals each),
# tests/data/besson2016_rodents.csv (tests/data/README.md: dat.besson2016 of metadat, GPL >= 2), and
# the dose-response and fractional-n sheets of Martins et al. 2025 (tests/data/martins2025_fst_doses.csv,
# martins2025_fst_n_ranges.csv; MIT, tests/data/README.md).
# Run from the repository root:
#
#   Rscript tests/reference/make_shared_control_fixtures.R
#
# It writes tests/reference/metafor_shared_control.json at full precision (17 significant digits).
# Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-clubsandwich r-cran-jsonlite.
#
# Per sheet, as premeta reads it (SD = SEM * sqrt(n) with the arm's real n; sign flipped where
# better = "lower", orient = "benefit"):
# * split: escalc("SMD", vtype = "LS") with n2i = ctl_n / m (m comparisons share the control;
#   fractional n, which escalc accepts; NA where Hedges' df <= 1 or the pooled variance is not positive);
# * full: escalc with n2i = ctl_n;
# * covariance: the full-n effects, V <- vcalc(vi, cluster = study, grp1 = own treatment group,
#   grp2 = shared control, w1 = trt_n, w2 = ctl_n), rma.mv(yi, V, random = ~ 1 | study / id,
#   method = "REML") per mechanism and overall (of nlminb and Nelder-Mead at two tolerances, the fit with the higher
#   logLik), robust(cluster = study, clubSandwich = TRUE) and predict() of it;
# * fractional n: escalc with trt_n - 0.5 (a reported range's midpoint) on besson2016_rodents.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

optimisers <- list(list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                   list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000),
                   # the surface is flat at a variance component near 0: this one reaches its maximum
                   list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-16, maxit = 100000))

arm_sd <- function(d, arm) {
  sd <- d[[paste0(arm, "_sd")]]
  sem <- d[[paste0(arm, "_sem")]]
  if (is.null(sd)) sd <- rep(NA_real_, nrow(d))
  ifelse(is.na(sd), sem * sqrt(d[[paste0(arm, "_n")]]), sd)
}

control_key <- function(d) {
  # rows with the same study, control_group, outcome and time share one control group
  keys <- intersect(c("study", "control_group", "outcome", "time"), names(d))
  key <- do.call(paste, c(lapply(d[keys], function(x) ifelse(is.na(x), "\001", as.character(x))), sep = "\002"))
  ifelse(is.na(d$control_group), paste0("own control of row ", seq_len(nrow(d))), key)
}

smd <- function(d, n1, n2) {
  es <- suppressWarnings(escalc("SMD", m1i = d$trt_mean, sd1i = arm_sd(d, "trt"), n1i = n1,
                                m2i = d$ctl_mean, sd2i = arm_sd(d, "ctl"), n2i = n2, vtype = "LS"))
  list(yi = ifelse(d$better == "lower", -1, 1) * as.numeric(es$yi), vi = as.numeric(es$vi))
}

covariance_model <- function(d) {
  V <- vcalc(vi, cluster = study, grp1 = paste("treatment of row", id), grp2 = control, w1 = trt_n,
             w2 = ctl_n, data = d)
  fits <- lapply(optimisers, function(control)
    rma.mv(yi, V, random = ~ 1 | study / id, data = d, method = "REML", control = control))
  res <- fits[[which.max(sapply(fits, logLik))]]
  rob <- robust(res, cluster = d$study, clubSandwich = TRUE)
  pr <- predict(rob)
  list(k = res$k, studies = length(unique(d$study)), estimate = as.numeric(rob$beta),
       se = as.numeric(rob$se), df = as.numeric(rob$ddf), p = as.numeric(rob$pval),
       ci_low = as.numeric(rob$ci.lb), ci_high = as.numeric(rob$ci.ub), pi_low = as.numeric(pr$pi.lb),
       pi_high = as.numeric(pr$pi.ub), se_model = as.numeric(res$se), sigma2 = res$sigma2,
       q = res$QE, loglik = as.numeric(logLik(res)), weights = as.numeric(weights(res)))
}

out <- list()
for (name in c("besson2016_split_controls", "besson2016_rodents", "martins2025_fst_doses",
               "martins2025_fst_n_ranges")) {
  d <- read.csv(file.path("tests", "data", paste0(name, ".csv")), stringsAsFactors = FALSE,
                na.strings = "", check.names = FALSE)
  d$id <- seq_len(nrow(d))
  d$control <- control_key(d)
  m <- as.numeric(ave(rep(1, nrow(d)), d$control, FUN = length))
  split <- smd(d, d$trt_n, d$ctl_n / m)
  full <- smd(d, d$trt_n, d$ctl_n)
  d$yi <- full$yi
  d$vi <- full$vi
  V <- as.matrix(vcalc(vi, cluster = study, grp1 = paste("treatment of row", id), grp2 = control,
                       w1 = trt_n, w2 = ctl_n, data = d))
  at <- which(V != 0 & row(V) != col(V), arr.ind = TRUE)
  # groups whose comparisons come from at least 2 studies (robust tests need 2 clusters; premeta
  # gives the others a note)
  groups <- sort(unique(d$mechanism))
  groups <- groups[sapply(groups, function(g) length(unique(d$study[d$mechanism == g])) >= 2)]
  models <- lapply(groups, function(g) c(list(group = g), covariance_model(d[d$mechanism == g, ])))
  models[[length(models) + 1]] <- c(list(group = "overall"), covariance_model(d))
  out[[name]] <- list(rows = nrow(d), shared_m = m, split = split, full = full,
                      vcalc = list(i = at[, 1], j = at[, 2], value = V[at]), covariance = models)
}

d <- read.csv(file.path("tests", "data", "besson2016_rodents.csv"), stringsAsFactors = FALSE,
              na.strings = "", check.names = FALSE)
m <- as.numeric(ave(rep(1, nrow(d)), control_key(d), FUN = length))
d$trt_n <- d$trt_n - 0.5  # the sheet as typed: its SEMs converted with this n too
out$fractional <- c(list(sheet = "besson2016_rodents", change = "trt_n - 0.5"), smd(d, d$trt_n, d$ctl_n / m))

meta <- list(generated_by = "tests/reference/make_shared_control_fixtures.R",
             versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                             clubSandwich = as.character(packageVersion("clubSandwich"))))
writeLines(toJSON(c(list(meta = meta), out), auto_unbox = TRUE, digits = I(17), na = "null"),
           file.path("tests", "reference", "metafor_shared_control.json"))
cat("wrote tests/reference/metafor_shared_control.json\n")
