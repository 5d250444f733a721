# Reference values for premeta.rve: robumeta's robu() (Hedges, Tipton & Johnson 2010 robust
# variance estimation; Tipton 2015 small-sample correction), correlated (CORR) and hierarchical
# (HIER) effects working models, on published data: robumeta's corrdat and hierdat (its own
# examples, Fisher & Tipton 2015) and metadat's dat.assink2016 and dat.konstantopoulos2011.
# Run from the repository root:
#
#   Rscript tests/reference/make_rve_fixtures.R
#
# It writes tests/reference/robumeta_rve.json at full precision (17 significant digits),
# inputs included, so the tests never need R. Debian packages: r-base-core r-cran-robumeta
# r-cran-metadat r-cran-jsonlite.

suppressPackageStartupMessages({
  library(robumeta)
  library(metadat)
  library(jsonlite)
})

data(corrdat, package = "robumeta")
data(hierdat, package = "robumeta")
assink <- dat.assink2016
konst <- dat.konstantopoulos2011

# robu() computes the Q statistic of its first (working-weight) fit but does not return it:
# read it from robu's own frame when it exits (the traced copy is the namespace's: call robumeta::robu)
rve_env <- new.env()
invisible(suppressMessages(trace("robu", exit = quote(assign("Qe", as.numeric(Qe), envir = rve_env)),
                where = asNamespace("robumeta"), print = FALSE)))

cases <- list()
add <- function(name, data, y, v, cluster, mods, model, rho, small) {
  cases[[length(cases) + 1]] <<- list(name = name, data = data, y = y, v = v, cluster = cluster,
                                      mods = mods, model = model, rho = rho, small = small)
}
for (small in c(TRUE, FALSE)) {
  for (rho in c(0, 0.2, 0.5, 0.8, 1)) {
    add("corrdat", corrdat, "effectsize", "var", "studyid", NULL, "CORR", rho, small)
  }
  add("corrdat_mods", corrdat, "effectsize", "var", "studyid", c("males", "college", "binge"),
      "CORR", 0.8, small)
  add("assink2016", assink, "yi", "vi", "study", NULL, "CORR", 0.8, small)
  add("assink2016_year", assink, "yi", "vi", "study", "year", "CORR", 0.5, small)
  add("hierdat", hierdat, "effectsize", "var", "studyid", NULL, "HIER", NA, small)
  add("hierdat_mods", hierdat, "effectsize", "var", "studyid", c("binge", "followup", "sreport", "age"),
      "HIER", NA, small)
  # omega.sq truncated at 0 (its moment estimate is negative)
  add("hierdat_binge", hierdat[hierdat$binge == 1, ], "effectsize", "var", "studyid", NULL, "HIER", NA,
      small)
  add("konstantopoulos2011", konst, "yi", "vi", "district", NULL, "HIER", NA, small)
}

fixtures <- lapply(cases, function(case) {
  d <- as.data.frame(case$data)
  rownames(d) <- NULL  # data.full's row names are then the row numbers of d
  d$y <- d[[case$y]]
  d$v <- d[[case$v]]
  d$cl <- d[[case$cluster]]
  rhs <- if (is.null(case$mods)) "1" else paste(case$mods, collapse = " + ")
  f <- as.formula(paste("y ~", rhs))
  if (exists("Qe", envir = rve_env)) rm("Qe", envir = rve_env)
  fit <- if (case$model == "CORR") {
    robumeta::robu(f, data = d, studynum = cl, var.eff.size = v, modelweights = "CORR", rho = case$rho,
         small = case$small)
  } else {
    robumeta::robu(f, data = d, studynum = cl, var.eff.size = v, modelweights = "HIER", small = case$small)
  }
  X <- model.matrix(f, d)
  # data.full is sorted by cluster; put r.weights back in the input order
  w <- numeric(nrow(d))
  w[as.integer(rownames(fit$data.full))] <- fit$data.full$r.weights
  tab <- fit$reg_table
  info <- fit$mod_info
  list(
    dataset = case$name, model = case$model, rho = case$rho, small = case$small,
    yi = as.numeric(d$y), vi = as.numeric(d$v), cluster = d$cl,
    mods = if (ncol(X) > 1) unname(X[, -1, drop = FALSE]) else NULL,
    coef_names = colnames(X), N = fit$N, M = fit$M, p = fit$p,
    b_r = as.numeric(tab$b.r), SE = as.numeric(tab$SE), t = as.numeric(tab$t),
    dfs = as.numeric(tab$dfs), prob = as.numeric(tab$prob),
    CI_L = as.numeric(tab$CI.L), CI_U = as.numeric(tab$CI.U),
    VR_r = unname(fit$VR.r),
    tau_sq = as.numeric(info$tau.sq),
    omega_sq = if (is.null(info$omega.sq)) NULL else as.numeric(info$omega.sq),
    I_2 = if (is.null(info$I.2)) NULL else as.numeric(info$I.2),
    term1 = if (is.null(info$term1)) NULL else as.numeric(info$term1),
    term2 = if (is.null(info$term2)) NULL else as.numeric(info$term2),
    QE = get("Qe", envir = rve_env),
    r_weights = w
  )
})
suppressMessages(untrace("robu", where = asNamespace("robumeta")))

out <- list(
  generated_by = "tests/reference/make_rve_fixtures.R",
  versions = list(R = R.version.string, robumeta = as.character(packageVersion("robumeta")),
                  metadat = as.character(packageVersion("metadat"))),
  robu = fixtures
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE),
           "tests/reference/robumeta_rve.json")
cat("wrote tests/reference/robumeta_rve.json\n")
