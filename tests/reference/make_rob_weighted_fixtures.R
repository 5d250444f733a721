# Reference values for premeta.rob.weighted_summary (results/rob_weighted.csv) and the quality score
# as a moderator, on real published data: the group-level sheet of the open replication of Reis et
# al. (2019, Sci Rep, doi:10.1038/s41598-018-36507-9; data/minocycline/minocycline_sheet.csv,
# CC BY 4.0). The sheet has no risk-of-bias judgements, so this script ASSIGNS them, deterministically
# from each study's position in the sheet (order of first appearance), and writes them to the JSON;
# the weights are real metafor weights of the real data. Run from the repository root:
#
#   Rscript tests/reference/make_rob_weighted_fixtures.R
#
# It writes tests/reference/metafor_rob_weighted.json at full precision (digits = NA).
# Debian packages: r-base-core r-cran-metafor r-cran-jsonlite.
#
# Effects: escalc("SMD"), minocycline as group 1, negated where better is "lower" (premeta's
# orient = "benefit"). Weights: the primary model over every comparison, rma.mv(yi, vi, random =
# ~ 1 | study / id) by REML (of nlminb and Nelder-Mead with tightened tolerances, the fit with the
# higher logLik, so that the reference is the optimum), weights(fit) in percent, summed per study.
# Shares, per item over the studies rated on it: 100 * (studies at the judgement) / (studies rated)
# and 100 * (their summed weight) / (the rated studies' summed weight), robvis rob_summary(weighted =
# TRUE). Quality score: per study, the share of its rated SYRCLE items at "low"; then
# rma(yi, vi, mods = ~ quality_score, method = "REML", test = "knha") over every comparison and within
# each mechanism.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

sheet <- read.csv("data/minocycline/minocycline_sheet.csv", check.names = FALSE, strip.white = TRUE)
sheet$id <- seq_len(nrow(sheet))
es <- escalc("SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n, m2i = ctl_mean, sd2i = ctl_sd, n2i = ctl_n,
             data = sheet)
es$yi <- es$yi * ifelse(sheet$better == "lower", -1, 1)

optimisers <- list(list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                   list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000))
fits <- lapply(optimisers, function(control)
  rma.mv(yi, vi, random = ~ 1 | study / id, data = es, method = "REML", control = control))
fit <- fits[[which.max(sapply(fits, logLik))]]
w <- as.numeric(weights(fit))
studies <- unique(es$study)                      # order of first appearance
study_weight <- sapply(studies, function(s) sum(w[es$study == s]))

# the assigned judgements (not the studies' own: the sheet has none), by study position i
i <- seq_along(studies)
levels3 <- c("low", "unclear", "high")
judgements <- list(
  rob_sequence = levels3[(i - 1) %% 3 + 1],
  rob_blinding_assessor = ifelse(i == 2, NA, levels3[((i - 1) %/% 2) %% 3 + 1]),  # study 2 not rated
  rob_other = ifelse(i %% 4 == 0, "high", "low"),
  quality_randomisation = ifelse(i %% 2 == 1, "yes", "no"),
  quality_blinded_assessment = ifelse(i %% 3 == 0, "yes", "no")
)
values <- list(rob_sequence = levels3, rob_blinding_assessor = levels3, rob_other = levels3,
               quality_randomisation = c("yes", "no"), quality_blinded_assessment = c("yes", "no"))

shares <- do.call(rbind, lapply(names(judgements), function(item) {
  j <- judgements[[item]]
  rated <- !is.na(j)
  do.call(rbind, lapply(values[[item]], function(v) {
    at <- rated & j == v
    data.frame(column = item, judgement = v, studies = sum(at),
               share_studies = 100 * sum(at) / sum(rated),
               share_weight = 100 * sum(study_weight[at]) / sum(study_weight[rated]))
  }))
}))

syrcle <- c("rob_sequence", "rob_blinding_assessor", "rob_other")
met <- Reduce(`+`, lapply(syrcle, function(c) as.integer(!is.na(judgements[[c]]) & judgements[[c]] == "low")))
rated <- Reduce(`+`, lapply(syrcle, function(c) as.integer(!is.na(judgements[[c]]))))
score <- met / rated
es$quality_score <- score[match(es$study, studies)]

metareg <- function(d) {
  res <- rma(yi, vi, mods = ~ quality_score, data = d, method = "REML", test = "knha",
             control = list(threshold = 1e-12, tol = 1e-12, maxiter = 10000))
  list(k = res$k, term = rownames(res$beta), estimate = as.numeric(res$beta), se = as.numeric(res$se),
       stat = as.numeric(res$zval), df = res$ddf[[1]], p = as.numeric(res$pval), ci_low = as.numeric(res$ci.lb),
       ci_high = as.numeric(res$ci.ub), tau2 = res$tau2, qm = res$QM, qm_p = res$QMp)
}
groups <- sort(unique(es$mechanism))
fitted <- groups[sapply(groups, function(g) {
  d <- es[es$mechanism == g, ]
  nrow(d) >= 3 && length(unique(d$quality_score)) >= 2
})]

out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor"))),
  studies = studies, study_weight = unname(study_weight), weights = w, rows = es$id,
  judgements = judgements, shares = shares,
  quality = list(met = met, rated = rated, quality_score = score),
  metareg = c(list(overall = metareg(es)), lapply(setNames(fitted, fitted), function(g) metareg(es[es$mechanism == g, ])))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_rob_weighted.json")
