# Reference values for premeta.sensitivity: metafor's leave1out() and influence() on published
# data sets of the metadat package. Run from the repository root:
#
#   Rscript tests/reference/make_sensitivity_fixtures.R
#
# It writes tests/reference/metafor_sensitivity.json at full precision (17 significant digits),
# inputs included, so the tests never need R. Debian packages: r-base-core r-cran-metafor
# r-cran-metadat r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
tests <- c("z", "knha")

# ---- data sets: effect sizes and sampling variances, rows with missing values dropped -------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
smd <- function(d) escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                          m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
sets <- list(
  bcg_RR = bcg,
  bangertdrowns2004 = dat.bangertdrowns2004,
  normand1999_SMD = smd(dat.normand1999),
  gibson2002_SMD = smd(dat.gibson2002)
)
data <- lapply(sets, function(es) {
  ok <- is.finite(es$yi) & is.finite(es$vi)
  list(yi = as.numeric(es$yi[ok]), vi = as.numeric(es$vi[ok]))
})

cols <- function(x, drop) lapply(unclass(x)[setdiff(names(x), drop)], as.numeric)

leave1out_fixtures <- list()
influence_fixtures <- list()
for (name in names(data)) {
  d <- data[[name]]
  for (method in c("REML", "DL", "FE")) for (test in tests) {
    if (method == "FE" && test == "knha") next  # metafor warns: knha is not meant for FE
    res <- rma(d$yi, d$vi, method = method, test = test, control = tight)
    leave1out_fixtures[[length(leave1out_fixtures) + 1]] <- list(
      dataset = name, method = method, test = test,
      results = cols(leave1out(res), c("slab", "digits", "transf")))
    if (method == "FE") next
    inf <- influence(res)
    influence_fixtures[[length(influence_fixtures) + 1]] <- list(
      dataset = name, method = method, test = test,
      results = c(cols(inf$inf, c("slab", "digits", "inf")),
                  list(dfbs = as.numeric(inf$dfbs$intrcpt), inf = inf$inf$inf)))
  }
}

out <- list(
  generated_by = "tests/reference/make_sensitivity_fixtures.R",
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  data = data,
  leave1out = leave1out_fixtures,
  influence = influence_fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/metafor_sensitivity.json")
cat("wrote tests/reference/metafor_sensitivity.json\n")
