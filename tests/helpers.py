"""Plain helpers shared by the test modules (``from helpers import close``): tests/ is on the
import path through pytest's ``pythonpath`` setting. Fixtures live in conftest.py."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REFERENCE = Path(__file__).parent / "reference" / "metafor.json"
REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SHEET = REPO / "data" / "simulated_treadmill_neuropathic_pain.csv"
#: Every analysis the workflow has, GOSH and the multiverse included (the schema's ``analyses``).
EVERY_ANALYSIS = "analyses=[{}]".format(",".join(yaml.safe_load(
    (REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"]["analyses"]["items"]["enum"]))
#: Three groups of the bundled sheet: of 7 and 8 comparisons (GOSH fits every subset) and of 9 (300 random ones).
SMALL_GROUPS = ["GABA", "Mu-opioid receptor (RVM)", "Anti-inflammatory cytokines"]


def close(actual, expected, rtol=1e-6, atol=1e-9):
    """metafor agreement: 1e-6 relative, or 1e-9 absolute near zero; None in JSON is NaN."""
    expected = np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], dtype=float)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(actual, dtype=float)), expected,
                               rtol=rtol, atol=atol, equal_nan=True)


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """snakemake in ``workdir`` with the repository's workflow and config, as a user runs it."""
    out = subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(REPO / "config" / "config.yaml"), "--cores", "2", *args],
        capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise AssertionError(out.stdout + out.stderr)
    return out


#: metafor's names (as in the fixtures) of the quantities premeta names in its own vocabulary.
FROM_METAFOR = {"zval": "stat", "tval": "stat", "pval": "p", "ci.lb": "ci_low", "ci.ub": "ci_high",
                "ci_lb": "ci_low", "ci_ub": "ci_high", "Q": "q", "Qp": "q_p", "QE": "q", "QEp": "q_p",
                "I2": "i2", "H2": "h2", "se_tau2": "tau2_se", "cook.d": "cook_d", "cov.r": "cov_r",
                "tau2.del": "tau2_del", "QE.del": "q_del", "QM": "qm", "QMp": "qm_p", "QM_df1": "qm_df1",
                "QM_df2": "qm_df2", "R2": "r2", "est": "estimate", "ddf": "df",
                "I2_total": "i2_total", "logLik": "loglik"}


def ours(name: str) -> str:
    """premeta's name of a quantity that a metafor fixture calls ``name``."""
    return FROM_METAFOR.get(name, name)


def sheet_effects(path: Path, orient: str = "benefit", group_by: str = "mechanism"):
    """premeta's own effect sizes of a sheet, as the workflow reads them (checked, escalc, written)."""
    from premeta.effects import checked, escalc
    from premeta.groups.common import effects_as_written

    return effects_as_written(escalc(checked(path, orient=orient, group_by=group_by)[0], orient=orient))
