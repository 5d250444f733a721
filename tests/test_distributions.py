"""premeta.distributions gives scipy.stats' numbers to the last bit, NaN for invalid degrees of freedom."""

import numpy as np
import pytest
from scipy import stats

from premeta import distributions as dist

X = np.array([-3.5, -1.0, 0.0, 0.3, 1.96, 7.2, 40.0])
Q = np.array([1e-12, 0.001, 0.025, 0.05, 0.5, 0.975])
DF = np.array([0.0, -1.0, np.nan, 0.5, 1.0, 2.0, 7.0, 30.0, 1e6])


@pytest.mark.parametrize(("ours", "theirs", "args"), [
    (dist.norm_sf, stats.norm.sf, (X,)),
    (dist.norm_isf, stats.norm.isf, (Q,)),
    (dist.t_sf, stats.t.sf, (X[:, None], DF)),
    (dist.t_isf, stats.t.isf, (Q[:, None], DF)),
    (dist.chi2_sf, stats.chi2.sf, (np.abs(X)[:, None], DF)),
    (dist.chi2_cdf, stats.chi2.cdf, (np.abs(X)[:, None], DF)),
    (dist.chi2_isf, stats.chi2.isf, (Q[:, None], DF)),
    (dist.chi2_ppf, stats.chi2.ppf, (Q[:, None], DF)),
    (dist.f_sf, stats.f.sf, (np.abs(X)[:, None, None], DF[:, None], DF)),
])
def test_same_numbers_as_scipy_stats(ours, theirs, args):
    np.testing.assert_array_equal(ours(*args), theirs(*args))


def test_scalars_stay_scalars():
    assert isinstance(dist.t_isf(0.025, 10), float) and dist.t_isf(0.025, 10) == stats.t.isf(0.025, 10)
    assert np.isnan(dist.chi2_sf(3.0, 0))
