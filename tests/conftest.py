import json
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "reference" / "metafor.json"


@pytest.fixture(scope="session")
def metafor():
    return json.loads(REFERENCE.read_text())


def close(actual, expected, rtol=1e-6, atol=1e-9):
    """metafor agreement: 1e-6 relative, or 1e-9 absolute near zero; None in JSON is NaN."""
    expected = np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], dtype=float)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(actual, dtype=float)), expected,
                               rtol=rtol, atol=atol, equal_nan=True)
