# Reference values for premeta.gosh: metafor's gosh() on published data sets of the metadat
# package. Run from the repository root:
#
#   Rscript tests/reference/make_gosh_fixtures.R
#
# It writes tests/reference/metafor_gosh.json at full precision (17 significant digits), inputs
# included, so the tests never need R. Subsets are given as integer codes: subset c holds study i
# (1-based) when bit i - 1 of c is set, i.e. code = sum(2^(i - 1) * incl[, i]).
# Debian packages: r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)

smd <- function(d) escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                          m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
sets <- list(
  normand1999_SMD = smd(dat.normand1999),  # k = 9: all 511 subsets
  bcg_RR = escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)  # k = 13: 300 random subsets
)
data <- lapply(sets, function(es) list(yi = as.numeric(es$yi), vi = as.numeric(es$vi)))
codes <- function(incl) as.numeric(incl %*% 2^(seq_len(ncol(incl)) - 1))

fixtures <- list()
for (name in names(data)) {
  d <- data[[name]]
  for (method in c("FE", "DL", "REML")) {
    res <- rma(d$yi, d$vi, method = method, control = tight)
    g <- if (name == "bcg_RR") gosh(res, subsets = 300, progbar = FALSE, seed = 13)
         else gosh(res, progbar = FALSE)
    fixtures[[length(fixtures) + 1]] <- list(
      dataset = name, method = method, all = nrow(g$res) == 2^length(d$yi) - 1,
      incl = codes(g$incl), results = lapply(as.list(g$res), as.numeric),
      full = list(estimate = as.numeric(coef(res)), I2 = res$I2))
  }
}

out <- list(
  generated_by = "tests/reference/make_gosh_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = data,
  gosh = fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"), "tests/reference/metafor_gosh.json")
