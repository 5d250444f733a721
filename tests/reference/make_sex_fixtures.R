# Reference values for premeta's sex-as-a-biological-variable analysis (premeta.sex_pairs,
# premeta.pool_contrasts, premeta.sex_contrasts), computed by metafor on dat.besson2016 (metadat)
# as tests/data/besson2016_rodents.csv holds it. Run from the repository root:
#
#   Rscript tests/reference/make_sex_fixtures.R
#
# It writes tests/reference/metafor_sex.json at full precision (digits = NA):
# * effect sizes as premeta's workflow computes them (tests/data/make_corpus.R: escalc SMD,
#   vtype LS, SD = SEM * sqrt(n), a shared control's n divided by the comparisons it serves,
#   the sign flipped where better = lower);
# * the within-study pairs: rows with the same study, outcome, mechanism and the design columns
#   MATCH (besson2016 has no `time`; response_age_dPP is its age at testing) form a design; a
#   design with exactly one male ("m") and one female ("f") comparison gives the pair
#   yi = yi_m - yi_f, vi = vi_m + vi_f (males and females are different animals: independent);
# * per mechanism and overall, the pairs of a study combined by aggregate(struct = "CS",
#   rho = 0.5) and pooled by rma(method = "REML"), with test = "knha" (the workflow's default)
#   and test = "z" (the library's default);
# * per mechanism and overall, the between-study moderator model on the male and female
#   comparisons: rma(yi, vi, mods = ~ factor(sex, levels = c("f", "m"))), both tests.
# REML is iterated to convergence (threshold and tol 1e-12) so that the reference is the optimum.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)
RHO <- 0.5
MATCH <- c("response_age_dPP", "diet_label", "manip_type", "manip_direction", "response_test")

d <- read.csv("tests/data/besson2016_rodents.csv", stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
d$row <- seq_len(nrow(d)) + 1  # the spreadsheet row (the header is row 1), premeta's index
source("tests/reference/besson2016_effects.R")
es <- besson_effects()
d$yi <- es$yi
d$vi <- es$vi
stopifnot(all(is.finite(d$yi)))

# ---- within-study pairs ---------------------------------------------------------------------
keys <- c("study", "outcome", "mechanism", MATCH)
mf <- d[d$sex %in% c("m", "f"), ]
mf$design <- do.call(paste, c(lapply(mf[keys], function(x) ifelse(is.na(x), "\001", as.character(x))), sep = "\002"))
counts <- table(mf$design, mf$sex)
one <- rownames(counts)[counts[, "m"] == 1 & counts[, "f"] == 1]
ambiguous <- rownames(counts)[counts[, "m"] >= 1 & counts[, "f"] >= 1 & (counts[, "m"] > 1 | counts[, "f"] > 1)]
males <- mf[mf$sex == "m" & mf$design %in% one, ]
females <- mf[mf$sex == "f" & mf$design %in% one, ]
pairs <- merge(males[c("design", keys, "row", "yi", "vi")], females[c("design", "row", "yi", "vi")],
               by = "design", suffixes = c("_male", "_female"))
pairs <- pairs[order(pmin(pairs$row_male, pairs$row_female)), ]
pairs$yi <- pairs$yi_male - pairs$yi_female
pairs$vi <- pairs$vi_male + pairs$vi_female

summarise <- function(res, extra = list()) {
  c(list(k = res$k, estimate = num(res$beta[length(res$beta)]), se = num(res$se[length(res$se)]),
         stat = num(res$zval[length(res$zval)]), df = num(res$ddf[length(res$ddf)]),
         p = num(res$pval[length(res$pval)]), ci_low = num(res$ci.lb[length(res$ci.lb)]),
         ci_high = num(res$ci.ub[length(res$ci.ub)]), tau2 = num(res$tau2), i2 = num(res$I2),
         q = num(res$QE), q_p = num(res$QEp)), extra)
}

strata <- c(sort(unique(d$mechanism)), "overall")
within <- list()
between <- list()
for (g in strata) {
  p <- if (g == "overall") pairs else pairs[pairs$mechanism == g, ]
  s <- if (g == "overall") mf else mf[mf$mechanism == g, ]
  within[[g]] <- list(pairs = nrow(p), studies = length(unique(p$study)))
  if (length(unique(p$study)) >= 2) {
    agg <- aggregate(escalc(yi = yi, vi = vi, data = p), cluster = study, rho = RHO, struct = "CS")
    for (test in c("knha", "z")) {
      within[[g]][[test]] <- summarise(rma(yi, vi, data = agg, method = "REML", test = test, control = tight))
    }
    within[[g]]$study_yi <- setNames(as.list(as.numeric(agg$yi)), agg$study)
    within[[g]]$study_vi <- setNames(as.list(as.numeric(agg$vi)), agg$study)
  }
  between[[g]] <- list(studies = length(unique(s$study)))
  if (length(unique(s$sex)) == 2) {
    for (test in c("knha", "z")) {
      res <- rma(yi, vi, mods = ~ factor(sex, levels = c("f", "m")), data = s, method = "REML", test = test,
                 control = tight)
      between[[g]][[test]] <- summarise(res, list(qm = num(res$QM), qm_p = num(res$QMp)))
    }
  }
}

# ---- the table: studies by sex per mechanism and overall ---------------------------------------
counts <- list()
for (g in strata) {
  s <- if (g == "overall") d else d[d$mechanism == g, ]
  per <- tapply(s$sex, s$study, function(x) all(c("m", "f") %in% x))
  counts[[g]] <- list(k = nrow(s), studies = length(unique(s$study)),
                      studies_male = length(unique(s$study[s$sex == "m"])),
                      studies_female = length(unique(s$study[s$sex == "f"])),
                      studies_both = length(unique(s$study[s$sex == "both"])),
                      studies_male_and_female = sum(per))
}

out <- list(
  meta = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
              metadat = as.character(packageVersion("metadat")), rho = RHO, match = MATCH,
              sheet = "tests/data/besson2016_rodents.csv"),
  rows = d$row, yi = d$yi, vi = d$vi,
  pairs = list(study = pairs$study, outcome = pairs$outcome, mechanism = pairs$mechanism,
               row_male = pairs$row_male, row_female = pairs$row_female,
               yi = pairs$yi, vi = pairs$vi),
  ambiguous = length(ambiguous),
  within = within, between = between, counts = counts)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null"),
           "tests/reference/metafor_sex.json")
