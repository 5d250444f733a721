# Called by bench_multiverse.py: times metafor (with clubSandwich and robumeta) on a sample of the
# multiverse's specifications, each computed from the sheet as premeta does: escalc (NMD by its
# formula, which metafor lacks), the inclusion rule (risk of bias, influence(), single-comparison
# studies), then rma(), aggregate() + rma(), rma.mv() + robust(), robu(), or for the adjusted
# estimates PET-PEESE (rma(mods =, method = "FE", test = "knha"), PEESE where PET's p < 0.10) or
# selmodel(rma(method = "ML"), type = "stepfun", steps = 0.025) in the direction of the FE estimate.
# Reading the sheet and R's start-up are excluded. Prints one JSON object {specifications, seconds, failed}.
#
#   Rscript benchmarks/bench_multiverse.R specs.json
suppressPackageStartupMessages({
  library(metafor)
  library(robumeta)
  library(jsonlite)
})

args <- fromJSON(commandArgs(TRUE)[1])
sheet <- read.csv(args$sheet, check.names = FALSE, stringsAsFactors = FALSE)
sheet$id <- seq_len(nrow(sheet))
sd_of <- function(arm) {
  sd <- sheet[[paste0(arm, "_sd")]]
  sem <- sheet[[paste0(arm, "_sem")]]
  ifelse(is.na(sd) & !is.na(sem), sem * sqrt(sheet[[paste0(arm, "_n")]]), sd)
}
sheet$sd_t <- sd_of("trt")
sheet$sd_c <- sd_of("ctl")
shared <- paste(sheet$study, sheet$control_group, sheet$outcome, sheet$time, sep = "\r")
sheet$n_c <- sheet$ctl_n / ifelse(is.na(sheet$control_group), 1, ave(sheet$id, shared, FUN = length))
sheet$sign <- ifelse(sheet$better == "lower", -1, 1)
sheet$cohort_key <- paste(sheet$study, sheet$cohort, sep = "\r")
low <- function(item) tapply(sheet[[item]], sheet$study, function(x) all(x[!is.na(x)] == "low") && any(!is.na(x)))
low_studies <- names(which(low("rob_sequence") & low("rob_blinding_assessor")))

effects <- function(d, measure) {
  if (measure == "NMD") {
    deficit <- abs(d$ctl_mean - d$sham_mean)
    es <- escalc("GEN", yi = 100 * (d$trt_mean - d$ctl_mean) / deficit,
                 vi = (100 * d$sd_t / deficit)^2 / d$trt_n + (100 * d$sd_c / deficit)^2 / d$n_c, data = d)
  } else {
    es <- escalc(measure, m1i = trt_mean, sd1i = sd_t, n1i = trt_n, m2i = ctl_mean, sd2i = sd_c, n2i = n_c, data = d)
  }
  es$yi <- es$yi * d$sign
  es
}

specification <- function(s) {
  e <- effects(sheet[sheet$mechanism == s$group, ], s$measure)
  own <- s$dependence %in% c("multilevel", "rve") || s$adjustment != "none"
  method <- if (own) "REML" else s$method
  test <- if (own) "z" else s$test
  if (s$inclusion == "low_rob") e <- e[e$study %in% low_studies, ]
  if (s$inclusion == "no_single") e <- e[e$study %in% names(which(table(e$study) > 1)), ]
  if (s$inclusion == "no_influential") e <- e[!influence(rma(yi, vi, data = e, method = method, test = test))$is.infl, ]
  if (s$adjustment == "pet_peese") {
    x <- if (s$measure == "SMD") sqrt(1 / e$trt_n + 1 / e$n_c) else sqrt(e$vi)
    pet <- suppressWarnings(rma(e$yi, e$vi, mods = ~ x, method = "FE", test = "knha"))
    return(if (pet$pval[1] < 0.10) suppressWarnings(rma(e$yi, e$vi, mods = ~ I(x^2), method = "FE", test = "knha"))
           else pet)
  }
  if (s$adjustment == "selmodel") {
    side <- if (rma(yi, vi, data = e, method = "FE")$beta[1] >= 0) "greater" else "less"
    return(selmodel(rma(yi, vi, data = e, method = "ML"), type = "stepfun", steps = 0.025, alternative = side))
  }
  switch(s$dependence,
    none = rma(yi, vi, data = e, method = method, test = test),
    aggregate = rma(yi, vi, data = aggregate(e, cluster = cohort_key, rho = args$rho, struct = "CS"),
                    method = method, test = test),
    multilevel = robust(rma.mv(yi, vi, random = ~ 1 | study / id, data = e), cluster = e$study, clubSandwich = TRUE),
    rve = robu(yi ~ 1, data = as.data.frame(e), studynum = study, var.eff.size = vi, modelweights = "CORR",
               rho = args$rho, small = TRUE))
}

specs <- args$specs
failed <- 0
seconds <- unname(system.time(for (i in seq_len(nrow(specs))) {
  if (inherits(try(specification(specs[i, ]), silent = TRUE), "try-error")) failed <- failed + 1
})["elapsed"])
cat(toJSON(list(specifications = nrow(specs), seconds = seconds, failed = failed), auto_unbox = TRUE, digits = NA), "\n")
