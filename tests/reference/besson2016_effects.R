# Hedges' g of tests/data/besson2016_rodents.csv as premeta's workflow computes them (orient:
# benefit, shared_control: split): escalc("SMD", vtype = "LS") with SD = SEM * sqrt(n), a control
# shared by m rows (same study, control_group, outcome) entering each with n/m, negated where
# better is "lower"; as tests/data/make_corpus.R. Sourced, from the repository root, by
# make_small_study_fixtures.R, make_egger_mv_fixtures.R and make_sex_fixtures.R; needs metafor.
besson_effects <- function() {
  b <- read.csv("tests/data/besson2016_rodents.csv", stringsAsFactors = FALSE, na.strings = "",
                check.names = FALSE)
  m <- ifelse(is.na(b$control_group), 1,
              ave(rep(1, nrow(b)), b$study, b$control_group, b$outcome, FUN = length))
  es <- escalc("SMD", m1i = b$trt_mean, sd1i = b$trt_sem * sqrt(b$trt_n), n1i = b$trt_n,
               m2i = b$ctl_mean, sd2i = b$ctl_sem * sqrt(b$ctl_n), n2i = b$ctl_n / m, vtype = "LS")
  list(yi = ifelse(b$better == "lower", -1, 1) * as.numeric(es$yi), vi = as.numeric(es$vi),
       n1i = b$trt_n, n2i = b$ctl_n / m, ni = b$trt_n + b$ctl_n, study = b$study,
       comparison = b$comparison, group = b$mechanism)
}
