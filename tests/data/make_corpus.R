# Real-data regression corpus for premeta's workflow (issue 7, section 4).
#
# Writes, from datasets of the metadat package, premeta extraction sheets (tests/data/*.csv) and
# the metafor reference for what the workflow computes on each of them with the repository's
# config/config.yaml (SMD = Hedges' g, vtype "LS", orient: benefit, REML, Knapp-Hartung, per
# `mechanism` and overall): tests/data/corpus_metafor.json. Run from the repository root:
#
#   Rscript tests/data/make_corpus.R
#
# Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# tests/data/README.md says where every dataset comes from and what was changed.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

out_dir <- file.path("tests", "data")
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)

write_sheet <- function(d, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  # 15 significant digits: every value of these datasets has far fewer, so nothing is rounded.
  write.csv(d, path, row.names = FALSE, na = "", fileEncoding = "UTF-8")
  path
}

# ---- 1. Besson et al. 2016: maternal diet and offspring coping styles in rodents ----------
# Group means with S.E. (reported as SEM in the sheet), shared control groups (con_ID),
# rats and mice, up to 48 comparisons per study.
b <- dat.besson2016
# Dropped: 84 rows without an SE (82 whose SE Besson et al. imputed, not stored in metadat; 4 of
# them also without n). Kept: 4 rows with an SE of 0 in one arm (floor or ceiling effects), which
# escalc computes (the pooled SD stays > 0) and premeta accepts and flags (zero_sd).
usable <- !is.na(b$exp_se) & !is.na(b$con_se) & !is.na(b$exp_n) & !is.na(b$con_n) &
  !(b$exp_se == 0 & b$con_se == 0)
besson <- data.frame(
  study = b$study_ID,
  reference = b$Reference,
  comparison = b$comp_ID,
  cohort = b$animal_ID,
  control_group = b$con_ID,
  outcome = b$measure,
  mechanism = b$our_behaviour_classification,
  better = ifelse(b$high_better == "yes", "higher", "lower"),
  species = b$species,
  strain = b$strain,
  sex = b$sex,
  manip_type = b$manip_type,
  manip_direction = ifelse(b$manip_direction == "-", "restriction", "overfeeding"),
  diet_label = b$diet_label,
  response_test = b$response_test,
  response_age_dPP = b$response_age_dPP,
  se_imputed = b$SE_imputed,
  trt_mean = b$exp_mean, trt_sem = b$exp_se, trt_n = b$exp_n,
  ctl_mean = b$con_mean, ctl_sem = b$con_se, ctl_n = b$con_n,
  stringsAsFactors = FALSE)[usable, ]
stopifnot(all(b$manip_direction %in% c("-", "+")), all(b$high_better %in% c("yes", "no")))

# Two studies (s_42, s_74) have controls that, divided among the comparisons sharing them
# (CAMARADES), leave fewer than 2 animals per comparison (s_42: 5 controls for 8 comparisons;
# s_74: 4 for 4); Hedges' g is then undefined for some rows (metafor: NA). They get their own
# sheet, so that the main sheets stay a plain regression test.
split_n <- besson$ctl_n / ave(rep(1, nrow(besson)), besson$study, besson$control_group,
                              besson$outcome, FUN = length)
tiny <- besson$study %in% besson$study[split_n < 2]
sheets <- list(
  besson2016_rodents = besson[!tiny, ],
  # One species only: `species` is constant ("mice"), a moderator with a single level.
  besson2016_mice = besson[!tiny & besson$species == "mice", ],
  # One sex and one species: `sex` ("m") and `species` ("rats") are constant.
  besson2016_male_rats = besson[!tiny & besson$species == "rats" & besson$sex == "m", ],
  besson2016_split_controls = besson[tiny, ]
)

# ---- 2. Curtis et al. 1998 (via Hedges et al. 1999): elevated CO2 and woody plant mass ------
# Group means with SD; 29 papers, one with 18 comparisons; a control group that serves two
# comparisons (same paper, same control mean, SD, n and exposure time).
cu <- dat.curtis1998
shared <- paste(cu$paper, cu$m2i, cu$sd2i, cu$n2i, cu$time)
multi <- shared %in% shared[duplicated(shared)]
sheets$curtis1998_co2 <- data.frame(
  study = paste("paper", cu$paper),
  comparison = paste("id", cu$id),
  control_group = ifelse(multi, paste0("C", as.integer(factor(shared))), NA),
  outcome = "total plant biomass (g)",
  mechanism = cu$fungrp,
  better = "higher",
  species = paste(cu$genus, cu$species),
  time = cu$time,
  pot = cu$pot, method = cu$method, stock = cu$stock, xtrt = cu$xtrt, level = cu$level,
  co2_ambient = cu$co2.ambi, co2_elevated = cu$co2.elev, co2_units = cu$units,
  trt_mean = cu$m1i, trt_sd = cu$sd1i, trt_n = cu$n1i,
  ctl_mean = cu$m2i, ctl_sd = cu$sd2i, ctl_n = cu$n2i,
  stringsAsFactors = FALSE)

# ---- 3. Normand 1999: length of hospital stay, specialist stroke unit vs routine care ------
# Group means with SD, 9 studies with one comparison each; shorter stay is better, so every
# row changes sign under orient: benefit. The dataset has no grouping variable: one mechanism.
no <- dat.normand1999
sheets$normand1999_stroke <- data.frame(
  study = no$source,
  outcome = "length of hospital stay (days)",
  mechanism = "stroke unit care",
  better = "lower",
  trt_mean = no$m1i, trt_sd = no$sd1i, trt_n = no$n1i,
  ctl_mean = no$m2i, ctl_sd = no$sd2i, ctl_n = no$n2i,
  stringsAsFactors = FALSE)

# ---- reference: what premeta's workflow computes, by metafor ------------------------------
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

arm_sd <- function(d, arm) {
  sd <- d[[paste0(arm, "_sd")]]
  sem <- d[[paste0(arm, "_sem")]]
  n <- d[[paste0(arm, "_n")]]
  if (is.null(sd)) sd <- rep(NA_real_, nrow(d))
  if (is.null(sem)) sem <- rep(NA_real_, nrow(d))
  ifelse(is.na(sd), sem * sqrt(n), sd)  # SD = SEM * sqrt(n) with the arm's real n
}

shared_m <- function(d) {
  # Rows with the same study, control_group, outcome and time share one control group.
  if (!("control_group" %in% names(d))) return(rep(1, nrow(d)))
  keys <- intersect(c("study", "control_group", "outcome", "time"), names(d))
  key <- do.call(paste, c(lapply(d[keys], function(x) ifelse(is.na(x), "\001", as.character(x))),
                          sep = "\002"))
  m <- as.numeric(ave(rep(1, nrow(d)), key, FUN = length))
  ifelse(is.na(d$control_group), 1, m)
}

summarise_fit <- function(res, group, d) {
  list(group = group, k = res$k, studies = length(unique(d$study)),
       estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
       ci_high = num(res$ci.ub), df = num(res$ddf), p = num(res$pval), tau2 = num(res$tau2),
       i2 = num(res$I2), q = num(res$QE), q_p = num(res$QEp))
}

corpus <- list()
for (name in names(sheets)) {
  path <- write_sheet(sheets[[name]], name)
  # The reference is computed from the CSV as written, i.e. from exactly what premeta reads.
  d <- read.csv(path, stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
  m <- shared_m(d)
  es <- suppressWarnings(escalc("SMD", m1i = d$trt_mean, sd1i = arm_sd(d, "trt"), n1i = d$trt_n,
               m2i = d$ctl_mean, sd2i = arm_sd(d, "ctl"), n2i = d$ctl_n / m, vtype = "LS"))
  sign <- ifelse(d$better == "lower", -1, 1)  # orient: benefit
  d$yi <- sign * as.numeric(es$yi)
  d$vi <- as.numeric(es$vi)
  # metafor gives NA where g is undefined (the split control leaves Hedges' df <= 1 or a
  # negative pooled variance); rma() omits those rows. Only besson2016_split_controls has any.
  stopifnot(all(is.finite(d$yi) == is.finite(d$vi)), all(d$vi[is.finite(d$vi)] > 0))
  stopifnot(name == "besson2016_split_controls" || all(is.finite(d$yi)))
  groups <- sort(unique(d$mechanism))
  results <- lapply(groups, function(g) {
    s <- d[d$mechanism == g, ]
    summarise_fit(suppressWarnings(rma(s$yi, s$vi, method = "REML", test = "knha", control = tight)),
                  g, s[is.finite(s$yi), ])
  })
  results[[length(results) + 1]] <- summarise_fit(
    suppressWarnings(rma(d$yi, d$vi, method = "REML", test = "knha", control = tight)), "overall",
    d[is.finite(d$yi), ])
  corpus[[name]] <- list(
    sheet = basename(path), rows = nrow(d), studies = length(unique(d$study)),
    shared_m = m, yi = d$yi, vi = d$vi, results = results)
}

meta <- list(
  generated_by = "tests/data/make_corpus.R",
  metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")),
  R = paste(R.version$major, R.version$minor, sep = "."),
  settings = "escalc SMD (vtype LS), n of a shared control divided by the comparisons it serves, sign flipped where better = lower; rma(method = 'REML', test = 'knha') per mechanism and overall")
writeLines(toJSON(c(list(meta = meta), corpus), auto_unbox = TRUE, digits = I(17), na = "null",
                  pretty = TRUE),
           file.path(out_dir, "corpus_metafor.json"))
cat("wrote", paste(names(sheets), collapse = ", "), "and corpus_metafor.json\n")
