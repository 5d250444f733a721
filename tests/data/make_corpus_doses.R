# Real-data sheets of issue 19 section 3: dose-response designs with one control shared by many
# doses, sample sizes reported as ranges (fractional n), and a SyRF export of a living review.
#
# Two steps, both run from the repository root:
#
#   Rscript tests/data/make_corpus_doses.R MARTINS_XLSX LSR3_CSV   # (re)writes the sheets
#   Rscript tests/data/make_corpus_doses.R                         # reference only
#
# MARTINS_XLSX is data/Dataclean_200FST.xlsx of github.com/tamimart/martins2025 (commit
# 3fa3a51c0ac316b5e9c9c67f6e9aa3c25251476f, MIT licence); LSR3_CSV is
# archive/reconciled_records_2025-12-03.csv of github.com/galenos-project/LSR3_taar1_A (commit
# 9df14dd8c1abb03a0b156aa2cf406b03def4a766, CC BY 4.0). tests/data/README.md says what was taken
# and every change.
#
# The reference (tests/data/corpus_doses_metafor.json) is computed from the sheets as committed
# (read back with read.csv), the way premeta's config asks of a wide sheet: escalc("SMD", vtype =
# "LS") with SD = SEM * sqrt(n) from the arm's own n (fractional where the sheet's n is), a control
# group shared by m rows (same study, control_group, outcome) entering each with n/m, the sign
# flipped where better = lower, and rma(method = "REML", test = "knha") per `mechanism` and overall.
# The SyRF export is paired first, by the rules premeta.pairing documents (below). The JSON is read
# by tests/test_shared_control.py.
#
# Packages: metafor, jsonlite, and readxl for the first step.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- file.path("tests", "data")
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
args <- commandArgs(trailingOnly = TRUE)

write_sheet <- function(d, path) {
  write.csv(d, path, row.names = FALSE, na = "", fileEncoding = "UTF-8")
  path
}

# ---- 1. the sheets (only with the two source files) --------------------------------------------
if (length(args) == 2) {
  suppressPackageStartupMessages(library(readxl))
  x <- as.data.frame(read_excel(args[1]))
  # "6 a 8" (Portuguese "6 to 8") or "10-50": a range; its midpoint is the sheet's n.
  range_mid <- function(s) {
    s <- trimws(as.character(s))
    parts <- strsplit(s, " a |-")
    vapply(parts, function(p) mean(as.numeric(p)), numeric(1))
  }
  is_range <- function(s) grepl(" a |-", as.character(s))
  stopifnot(!anyNA(range_mid(x$ctr_n_ext)), !anyNA(range_mid(x$atd_n_ext)))
  # One control group: the rows of one record (idgeral) with the same control mean and SE. This
  # agrees with the review's own count of comparisons per control (n_comparisons) on every row but
  # 8: MARROCCO (idgeral 242, 4 rows, n_comparisons 2) and BERROCOSO (567, 4 rows, 4) give each
  # row a different control mean, so no control group is inferred there (README).
  key <- paste(x$idgeral, x$ctr_mean, x$ctr_se)
  m <- as.numeric(ave(rep(1, nrow(x)), key, FUN = length))
  stopifnot(sum(m != x$n_comparisons) == 8, all(x$idgeral[m != x$n_comparisons] %in% c(242, 567)))
  year <- substr(as.character(x$year), 1, 4)
  sheet <- data.frame(
    study = paste(x$first_author, year),
    record = x$idgeral,
    comparison = paste("seq", x$seq),
    control_group = ifelse(m > 1, paste0("C", as.integer(factor(key, levels = unique(key)))), NA),
    outcome = "FST immobility",
    mechanism = x$atd_class,
    better = "lower",
    drug = x$atd_type, dose = x$dose, dose_unit = x$dose_unit, route = x$treatment_via,
    species = x$species, strain = x$strain, sex = x$sex, measure_unit = as.character(x$measure_unit),
    trt_mean = x$atd_mean, trt_sem = x$atd_se, trt_n = range_mid(x$atd_n_ext),
    trt_n_reported = as.character(x$atd_n_ext), trt_n_review = x$atd_n_round,
    ctl_mean = x$ctr_mean, ctl_sem = x$ctr_se, ctl_n = range_mid(x$ctr_n_ext),
    ctl_n_reported = as.character(x$ctr_n_ext), ctl_n_review = x$ctr_n_round,
    ctl_n_split_review = x$ctr_n_corr,
    stringsAsFactors = FALSE)
  sheet$trt_n_reported <- sub(" a ", " to ", sheet$trt_n_reported)
  sheet$ctl_n_reported <- sub(" a ", " to ", sheet$ctl_n_reported)
  has_sem <- !is.na(x$atd_se) & !is.na(x$ctr_se)
  ranged <- is_range(x$ctr_n_ext) | is_range(x$atd_n_ext)
  # (a) a control shared by 5 or more doses, every n exact
  doses <- has_sem & !ranged & x$n_comparisons >= 5
  write_sheet(sheet[doses, setdiff(names(sheet), c("trt_n_reported", "ctl_n_reported"))],
              file.path(out_dir, "martins2025_fst_doses.csv"))
  # (b) every row whose n was extracted as a range: n is the midpoint
  write_sheet(sheet[has_sem & ranged, ], file.path(out_dir, "martins2025_fst_n_ranges.csv"))

  # (c) SyRF export: two studies of the TAAR1 living review (LSR3), dose-response experiments
  l <- read.csv(args[2], check.names = FALSE, stringsAsFactors = FALSE, na.strings = c("", "NA"))
  revel <- "4f31dcd6-e041-4882-acc8-dbf3ccfd2368"
  krasavin <- "35d77994-fbb3-4126-9852-29663d25c892"
  lmas <- c("Cocaine LMA RO5256390", "Cocaine LMA RO5263397", "PCP LMA RO5256390",
            "PCP LMA RO5263397", "L687 LMA RO5256390", "L687 LMA RO5263397")
  keep <- (l$StudyId == revel & l$ExperimentLabel %in% lmas) | l$StudyId == krasavin
  s <- l[keep, ]
  # The LSR3 wrangling script renamed five SyRF columns; they get their export names back.
  back <- c(ModelID = "DiseaseModelId(s)", ExperimentID = "ExperimentId", InterventionLabel = "TreatmentLabel(s)",
            InterventionID = "TreatmentId(s)", OutcomeResult = "OutcomeAverage")
  names(s)[match(names(back), names(s))] <- back
  cols <- c("StudyId", "Title", "Authors", "PublicationName", "Year", "Doi", "ExperimentId", "ExperimentLabel",
            "CohortId", "CohortLabel", "NumberOfAnimals", "IsDiseaseModelControl", "DiseaseModelId(s)",
            "DiseaseModelLabel(s)", "IsTreatmentControl", "TreatmentId(s)", "TreatmentLabel(s)", "OutcomeId",
            "OutcomeLabel", "GreaterIsWorse", "TimeInMinute", "OutcomeAverage", "OutcomeAverageType",
            "OutcomeUnit", "OutcomeError", "ErrorType", "Species of animals?", "Sex of animals?",
            "Animal strain?", "Dose of treatment used:", "Measurement unit of treatment dose:")
  s <- s[order(s$StudyId, s$ExperimentLabel, s$OutcomeLabel, s$CohortLabel), cols]
  dir.create(file.path(out_dir, "syrf"), showWarnings = FALSE)
  write.csv(s, file.path(out_dir, "syrf", "lsr3_taar1_doses.csv"), row.names = FALSE, na = "",
            fileEncoding = "UTF-8")
}

# ---- 2. the metafor reference of the three sheets ------------------------------------------------
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

shared_m <- function(d) {
  key <- paste(d$study, d$control_group, d$outcome, sep = "\002")
  m <- as.numeric(ave(rep(1, nrow(d)), key, FUN = length))
  ifelse(is.na(d$control_group), 1, m)
}

summarise_fit <- function(res, group, d) {
  list(group = group, k = res$k, studies = length(unique(d$study)),
       estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
       ci_high = num(res$ci.ub), df = num(res$ddf), p = num(res$pval), tau2 = num(res$tau2),
       i2 = num(res$I2), q = num(res$QE), q_p = num(res$QEp))
}

fit <- function(s, group) {
  ok <- s[is.finite(s$yi), ]
  if (nrow(ok) < 2) return(list(group = group, k = nrow(ok), studies = length(unique(ok$study)),
                                note = "k < 2: no random-effects fit"))
  summarise_fit(suppressWarnings(rma(ok$yi, ok$vi, method = "REML", test = "knha", control = tight)),
                group, ok)
}

corpus <- list()
for (name in c("martins2025_fst_doses", "martins2025_fst_n_ranges")) {
  d <- read.csv(file.path(out_dir, paste0(name, ".csv")), stringsAsFactors = FALSE, na.strings = "",
                check.names = FALSE)
  m <- shared_m(d)
  es <- suppressWarnings(escalc("SMD", m1i = d$trt_mean, sd1i = d$trt_sem * sqrt(d$trt_n), n1i = d$trt_n,
                                m2i = d$ctl_mean, sd2i = d$ctl_sem * sqrt(d$ctl_n), n2i = d$ctl_n / m,
                                vtype = "LS"))
  d$yi <- ifelse(d$better == "lower", -1, 1) * as.numeric(es$yi)
  d$vi <- as.numeric(es$vi)
  groups <- sort(unique(d$mechanism))
  results <- c(lapply(groups, function(g) fit(d[d$mechanism == g, ], g)), list(fit(d, "overall")))
  corpus[[name]] <- list(sheet = paste0(name, ".csv"), rows = nrow(d), studies = length(unique(d$study)),
                         fractional_n = sum(d$trt_n %% 1 != 0 | d$ctl_n %% 1 != 0),
                         split_below_2 = sum(d$ctl_n / m < 2),
                         shared_m = m, ctl_n_split = d$ctl_n / m, yi = d$yi, vi = d$vi, results = results)
}

# The SyRF export, paired as premeta.pairing documents it: within study, experiment, outcome and
# time, each treated cohort (IsDiseaseModelControl and IsTreatmentControl both False) against the
# one control (False, True); a control serving m cohorts enters each with n/m; sign flipped where
# GreaterIsWorse; `mechanism` is the outcome label, as premeta's reader sets it. Shams (empty
# IsDiseaseModelControl here) are not needed for the SMD.
s <- read.csv(file.path(out_dir, "syrf", "lsr3_taar1_doses.csv"), check.names = FALSE,
              stringsAsFactors = FALSE, na.strings = "")
flag <- function(v) toupper(trimws(as.character(v))) == "TRUE"
s$key <- paste(s$StudyId, s$ExperimentId, s$OutcomeId, s$TimeInMinute, sep = "\002")
rows <- list()
for (k in unique(s$key)) {
  g <- s[s$key == k, ]
  known <- !is.na(g$IsDiseaseModelControl)
  ctl <- g[known & !flag(g$IsDiseaseModelControl) & flag(g$IsTreatmentControl), ]
  trt <- g[known & !flag(g$IsDiseaseModelControl) & !flag(g$IsTreatmentControl), ]
  stopifnot(nrow(ctl) == 1, nrow(trt) >= 1)
  sd_of <- function(x) ifelse(toupper(x$ErrorType) == "SEM", x$OutcomeError * sqrt(x$NumberOfAnimals),
                              x$OutcomeError)
  rows[[k]] <- data.frame(study = trt$StudyId, experiment = trt$ExperimentLabel, mechanism = trt$OutcomeLabel,
                          trt_cohort = trt$CohortId, ctl_cohort = ctl$CohortId, m = nrow(trt),
                          better = ifelse(flag(trt$GreaterIsWorse), "lower", "higher"),
                          m1i = trt$OutcomeAverage, sd1i = sd_of(trt), n1i = trt$NumberOfAnimals,
                          m2i = ctl$OutcomeAverage, sd2i = sd_of(ctl), n2i = ctl$NumberOfAnimals / nrow(trt),
                          stringsAsFactors = FALSE)
}
p <- do.call(rbind, unname(rows))
es <- escalc("SMD", m1i = p$m1i, sd1i = p$sd1i, n1i = p$n1i, m2i = p$m2i, sd2i = p$sd2i, n2i = p$n2i,
             vtype = "LS")
p$yi <- ifelse(p$better == "lower", -1, 1) * as.numeric(es$yi)
p$vi <- as.numeric(es$vi)
groups <- sort(unique(p$mechanism))
# shared_control: full (each comparison with the control's whole n) and covariance (those effects, the
# sampling covariance of the comparisons sharing a control, metafor vcalc, in a three-level model with
# CR2 tests, as tests/reference/make_shared_control_fixtures.R: each comparison its own treatment group,
# a control shared within one outcome; over all outcomes, the only set with 2 studies)
p$n2_full <- p$n2i * p$m
full <- escalc("SMD", m1i = p$m1i, sd1i = p$sd1i, n1i = p$n1i, m2i = p$m2i, sd2i = p$sd2i, n2i = p$n2_full,
               vtype = "LS")
d <- data.frame(study = p$study, id = seq_len(nrow(p)), mechanism = p$mechanism,
                yi = ifelse(p$better == "lower", -1, 1) * as.numeric(full$yi), vi = as.numeric(full$vi),
                trt = paste("treatment of row", seq_len(nrow(p))), ctl = paste(p$ctl_cohort, p$mechanism),
                w1 = p$n1i, w2 = p$n2_full)
covariance <- function(d) {
  V <- vcalc(vi, cluster = study, grp1 = trt, grp2 = ctl, w1 = w1, w2 = w2, data = d)
  fits <- lapply(list(list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                      list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000)),
                 function(control) rma.mv(yi, V, random = ~ 1 | study / id, data = d, control = control))
  res <- fits[[which.max(sapply(fits, logLik))]]
  rob <- robust(res, cluster = d$study, clubSandwich = TRUE)
  list(k = res$k, estimate = as.numeric(rob$beta), se = as.numeric(rob$se), df = as.numeric(rob$ddf),
       ci_low = as.numeric(rob$ci.lb), ci_high = as.numeric(rob$ci.ub), sigma2 = res$sigma2)
}
corpus[["syrf/lsr3_taar1_doses"]] <- list(
  full = list(yi = d$yi, vi = d$vi), covariance_overall = covariance(d),
  sheet = "syrf/lsr3_taar1_doses.csv", rows = nrow(s), comparisons = nrow(p),
  studies = length(unique(p$study)), split_below_2 = sum(p$n2i < 2),
  comparison = p[, c("study", "experiment", "mechanism", "trt_cohort", "ctl_cohort", "m")],
  ctl_n_split = p$n2i, yi = p$yi, vi = p$vi,
  results = c(lapply(groups, function(g) fit(p[p$mechanism == g, ], g)), list(fit(p, "overall"))))

meta <- list(
  generated_by = "tests/data/make_corpus_doses.R",
  metafor = as.character(packageVersion("metafor")),
  R = paste(R.version$major, R.version$minor, sep = "."),
  settings = paste("escalc SMD (vtype LS), SD = SEM * sqrt(n) with the arm's own n (a range's midpoint",
                   "where n was reported as a range), n of a shared control divided by the comparisons it",
                   "serves, sign flipped where better = lower; rma(method = 'REML', test = 'knha') per",
                   "mechanism and overall"))
writeLines(toJSON(c(list(meta = meta), corpus), auto_unbox = TRUE, digits = I(17), na = "null", pretty = TRUE),
           file.path(out_dir, "corpus_doses_metafor.json"))
cat("wrote corpus_doses_metafor.json:", paste(names(corpus), collapse = ", "), "\n")
