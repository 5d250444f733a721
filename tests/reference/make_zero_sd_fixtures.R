# Reference values for premeta's effect sizes when one arm has an SD of 0 (issue 8, section 1):
# floor and ceiling effects (every animal at a cut-off latency) give published extractions with
# SD = 0 in one group, and metafor's escalc computes SMD, MD and ROM for them. Run from the
# repository root:
#
#   Rscript tests/reference/make_zero_sd_fixtures.R
#
# It writes tests/reference/metafor_zero_sd.json at full precision (toJSON digits = NA), inputs
# included, so the tests never need R. Debian packages: r-base-core r-cran-metafor
# r-cran-metadat r-cran-jsonlite.
#
# Data: real published group summaries of the metadat package, Normand 1999 (length of stay,
# 9 trials) and Curtis 1998 (plant mass under elevated CO2, 102 comparisons). THE SDs LISTED IN
# `zeroed` BELOW WERE SET TO 0 HERE, BY THIS SCRIPT, TO CREATE THE CASE; they are not the
# published values. Every other number is as published. NMD has no metafor measure: the tests
# hold it to metafor's MD on the same data rescaled by the deficit (NMD = 100 MD / deficit,
# var(NMD) = (100 / deficit)^2 var(MD)), as tests/test_effects.py does for Normand 1999.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

# rows (1-based) whose treatment (sd1i) or control (sd2i) SD is set to 0
zeroed <- list(
  normand1999 = list(sd1i = c(7), sd2i = c(2, 5)),
  curtis1998 = list(sd1i = c(20, 80), sd2i = c(1, 10, 50))
)
raw <- list(
  normand1999 = dat.normand1999[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")],
  curtis1998 = dat.curtis1998[, c("id", "paper", "fungrp", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
)

data <- list()
cases <- list()
for (name in names(raw)) {
  d <- raw[[name]]
  for (col in names(zeroed[[name]])) d[[col]][zeroed[[name]][[col]]] <- 0  # set to 0 to create the case
  data[[name]] <- c(as.list(d), list(zeroed_sd1i = I(zeroed[[name]]$sd1i), zeroed_sd2i = I(zeroed[[name]]$sd2i)))
  for (measure in c("SMD", "MD", "ROM")) {
    es <- if (measure == "SMD") {
      escalc(measure = "SMD", vtype = "LS", m1i = m1i, sd1i = sd1i, n1i = n1i,
             m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    } else {
      escalc(measure = measure, m1i = m1i, sd1i = sd1i, n1i = n1i,
             m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    }
    stopifnot(all(is.finite(es$yi)), all(es$vi > 0))
    cases[[length(cases) + 1]] <- list(dataset = name, measure = measure,
                                       vtype = if (measure == "SMD") "LS" else NA,
                                       yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  }
}

out <- list(
  generated_by = "tests/reference/make_zero_sd_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  note = "SDs listed in zeroed_sd1i / zeroed_sd2i (1-based rows) were set to 0 to create the case",
  data = data,
  escalc = cases
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_zero_sd.json")
cat("wrote tests/reference/metafor_zero_sd.json\n")
