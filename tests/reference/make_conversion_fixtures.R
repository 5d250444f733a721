# Reference values for premeta.convert: SD from a 95% CI of the mean (Cochrane Handbook 6.5.2.2)
# and mean and SD from a median with quartiles and/or range (Luo et al. 2016, Wan et al. 2014,
# Shi et al. 2020) with the skewness test of Shi et al. (2023). metafor 3.8.1 has no conv.fivenum
# (it came with metafor 4.0), so the formulas are written out here in base R, case by case, as
# conv.fivenum(min, q1, median, q3, max, n, dist = "norm", test = TRUE) computes them (its "tval"
# and "crit" attributes are the test's statistic and critical value). Run from the repository root:
#
#   Rscript tests/reference/make_conversion_fixtures.R
#
# It writes tests/reference/conversions.json. Debian packages: r-base-core r-cran-jsonlite.

suppressPackageStartupMessages(library(jsonlite))

# 95% CI of the mean -> SD, with the t quantile on n - 1 degrees of freedom
ci <- data.frame(
  lower = c(25.54, 10.2, 3.1, -4.0, 0.52, 101.0),
  upper = c(28.10, 14.6, 7.9, 2.5, 0.61, 139.0),
  n     = c(25, 8, 5, 10, 12, 60)
)
ci$sd <- sqrt(ci$n) * (ci$upper - ci$lower) / (2 * qt(0.975, ci$n - 1))

xi  <- function(n) 2 * qnorm((n - 0.375) / (n + 0.25))         # Wan et al. (2014) eq. 9
eta <- function(n) 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))  # Wan et al. (2014) eq. 16

convert <- function(n, min, q1, median, q3, max) {
  range <- !is.na(min) && !is.na(max)
  iqr <- !is.na(q1) && !is.na(q3)
  if (range && iqr) {
    # Luo et al. (2016) eq. 15; Shi et al. (2020) eq. 10; Shi et al. (2023) test
    w1 <- 2.2 / (2.2 + n^0.75)
    w2 <- 0.7 - 0.72 / n^0.55
    mean <- w1 * (min + max) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
    w <- 1 / (1 + 0.07 * n^0.6)
    sd <- w * (max - min) / xi(n) + (1 - w) * (q3 - q1) / eta(n)
    stat <- max(2.65 * log(0.6 * n) / sqrt(n) * abs((min + max - 2 * median) / (max - min)),
                abs((q1 + q3 - 2 * median) / (q3 - q1)))
    crit <- 3 / sqrt(n) - 40 / n^3
  } else if (iqr) {
    # Luo et al. (2016) eq. 11; Wan et al. (2014) eq. 16
    w <- 0.7 + 0.39 / n
    mean <- w * (q1 + q3) / 2 + (1 - w) * median
    sd <- (q3 - q1) / eta(n)
    stat <- abs((q1 + q3 - 2 * median) / (q3 - q1))
    crit <- 2.65 / sqrt(n) - 6 / n^2
  } else {
    # Luo et al. (2016) eq. 7; Wan et al. (2014) eq. 9
    w <- 4 / (4 + n^0.75)
    mean <- w * (min + max) / 2 + (1 - w) * median
    sd <- (max - min) / xi(n)
    stat <- abs((min + max - 2 * median) / (max - min))
    crit <- 1 / log(n + 9) + 2.5 / (n + 1)
  }
  c(mean = mean, sd = sd, stat = stat, crit = crit)
}

five <- data.frame(
  n      = c(5,    6,    8,    10,   12,   20,   50,   8,    10,   15,   6,    40,   9,    7,    20),
  min    = c(10,   NA,   2.0,  NA,   31,   NA,   12,   0.1,  NA,   4,    NA,   NA,   5,    100,  NA),
  q1     = c(NA,   14.2, 3.5,  40,   35,   1.10, NA,   0.4,  3,    NA,   0.8,  21,   NA,   130,  1.0),
  median = c(13,   16.0, 4.1,  47,   38,   1.45, 20,   0.5,  4,    9,    1.1,  25,   8,    150,  1.2),
  q3     = c(NA,   18.9, 5.0,  52,   40,   1.70, NA,   0.7,  9,    NA,   1.3,  27,   NA,   165,  5.0),
  max    = c(17,   NA,   6.8,  NA,   47,   NA,   31,   1.2,  NA,   30,   NA,   NA,   10,   190,  NA)
)
out <- t(mapply(convert, five$n, five$min, five$q1, five$median, five$q3, five$max))
five <- cbind(five, out)
five$skewed <- five$stat >= five$crit

write_json(list(
  source = paste("tests/reference/make_conversion_fixtures.R,", R.version.string),
  ci = ci, fivenum = five,
  xi = data.frame(n = 2:50, xi = xi(2:50)), eta = data.frame(n = 2:50, eta = eta(2:50))
), "tests/reference/conversions.json", digits = NA, pretty = TRUE, na = "null")
