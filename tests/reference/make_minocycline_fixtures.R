# Reference values for tests/test_minocycline.py: robumeta's robu() on a real published preclinical
# meta-analysis, Reis et al. (2019, Sci Rep, doi:10.1038/s41598-018-36507-9; minocycline's
# antidepressant-like effect in rodents), as its open replication (github.com/matheusglls/minocycline,
# doi:10.5281/zenodo.19642432, meta_analyses_main_report.Rmd) runs it. Data: data/minocycline/
# (CC BY 4.0; see data/minocycline/README.md). Run from the repository root:
#
#   Rscript tests/reference/make_minocycline_fixtures.R
#
# It writes tests/reference/robumeta_minocycline.json at full precision (17 significant digits),
# inputs included. Debian packages: r-base-core r-cran-robumeta r-cran-metafor r-cran-jsonlite.
#
# Analysis A ("computational reproduction"): the published effect sizes (supplementary file
#   41598_2018_36507_MOESM2_ESM.csv, 71 rows, 39 clusters `study`):
#   robu(hedges ~ 1, studynum = study, var.eff.size = se^2, modelweights = "CORR", rho, small),
#   rho 0, 0.2, 0.5, 0.8 (the replication's), 1; small TRUE (the replication's) and FALSE.
#   Also per `paradigm` (premeta's groups, `mechanism` in analysis_a_sheet.csv) at rho 0.8, small
#   TRUE, as config/minocycline.yaml pools each group.
# Analysis C ("direct replication"): `Complete data.csv` without study_id Wong_2016; metafor
#   escalc(measure = "SMD", minocycline arm as group 1, control as group 2; default vtype "LS");
#   yi negated where effect_direction is "Auto" (negative = antidepressant-like); the same robu
#   clustered by exp_id (the Rmd's study = as.integer(factor(exp_id))).

suppressPackageStartupMessages({
  library(robumeta)
  library(metafor)
  library(jsonlite)
})

dir <- "data/minocycline"
rve_env <- new.env()
invisible(suppressMessages(trace("robu", exit = quote(assign("Qe", as.numeric(Qe), envir = rve_env)),
                where = asNamespace("robumeta"), print = FALSE)))

fit_robu <- function(d, rho, small) {
  rownames(d) <- NULL
  if (exists("Qe", envir = rve_env)) rm("Qe", envir = rve_env)
  fit <- robumeta::robu(hedges ~ 1, data = d, studynum = study, var.eff.size = vi,
                        modelweights = "CORR", rho = rho, small = small)
  w <- numeric(nrow(d))
  w[as.integer(rownames(fit$data.full))] <- fit$data.full$r.weights
  tab <- fit$reg_table
  list(rho = rho, small = small, N = fit$N, M = fit$M,
       b_r = as.numeric(tab$b.r), SE = as.numeric(tab$SE), t = as.numeric(tab$t),
       dfs = as.numeric(tab$dfs), prob = as.numeric(tab$prob),
       # robumeta's prob is 2 * (1 - pt(|t|, dfs)): 1 - pt cancels, leaving ~1e-16 absolute error,
       # 1e-9 relative at p ~ 1e-7; the same p from the upper tail, accurate to full precision
       prob_upper = 2 * pt(abs(as.numeric(tab$t)), as.numeric(tab$dfs), lower.tail = FALSE),
       CI_L = as.numeric(tab$CI.L), CI_U = as.numeric(tab$CI.U),
       tau_sq = as.numeric(fit$mod_info$tau.sq), I_2 = as.numeric(fit$mod_info$I.2),
       QE = get("Qe", envir = rve_env), r_weights = w)
}
grid <- expand.grid(rho = c(0, 0.2, 0.5, 0.8, 1), small = c(TRUE, FALSE))

# Analysis A
a <- read.csv(file.path(dir, "41598_2018_36507_MOESM2_ESM.csv"), stringsAsFactors = FALSE)
a$vi <- a$se^2
fits_a <- lapply(seq_len(nrow(grid)), function(i) fit_robu(a, grid$rho[i], grid$small[i]))
# per paradigm, as config/minocycline.yaml pools each group (CORR, rho 0.8, small-sample corrected):
# in most, every study gives one comparison (clusters of one); Social Interaction has k = 1 (no fit)
paradigms <- sort(unique(a$paradigm))
paradigms <- paradigms[sapply(paradigms, function(p) sum(a$paradigm == p) > 1)]
groups_a <- setNames(lapply(paradigms, function(p) fit_robu(a[a$paradigm == p, ], 0.8, TRUE)), paradigms)

# Analysis C
c0 <- read.csv(file.path(dir, "Complete data.csv"), stringsAsFactors = FALSE, check.names = TRUE)
c0 <- c0[c0$study_id != "Wong_2016", ]
rownames(c0) <- NULL
esc <- escalc(measure = "SMD", m1i = mean_mino, sd1i = sd_mino, n1i = n_mino,
              m2i = mean_ctrl, sd2i = sd_ctrl, n2i = n_ctrl, data = c0)
flip <- tolower(trimws(c0$effect_direction)) == "auto"
esc_yi <- as.numeric(esc$yi)
yi <- ifelse(flip, -esc_yi, esc_yi)
cd <- data.frame(hedges = yi, vi = as.numeric(esc$vi), study = as.integer(factor(c0$exp_id)))
fits_c <- lapply(seq_len(nrow(grid)), function(i) fit_robu(cd, grid$rho[i], grid$small[i]))
suppressMessages(untrace("robu", where = asNamespace("robumeta")))

out <- list(
  generated_by = "tests/reference/make_minocycline_fixtures.R",
  versions = list(R = R.version.string, robumeta = as.character(packageVersion("robumeta")),
                  metafor = as.character(packageVersion("metafor"))),
  A = list(file = "41598_2018_36507_MOESM2_ESM.csv", yi = a$hedges, vi = a$vi, cluster = a$study,
           fits = fits_a, groups = groups_a),
  C = list(file = "Complete data.csv", excluded_study_id = "Wong_2016", id = c0$id,
           exp_id = c0$exp_id, effect_direction = c0$effect_direction,
           escalc_yi = esc_yi, escalc_vi = as.numeric(esc$vi), flipped = flip, yi = yi,
           fits = fits_c)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/robumeta_minocycline.json")
cat("wrote tests/reference/robumeta_minocycline.json\n")
