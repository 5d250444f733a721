import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REFERENCE, REPO, SHEET, SNAKEMAKE, run


@pytest.fixture(scope="session")
def metafor():
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="session")
def bundled(tmp_path_factory):
    """A workflow run on the bundled sheet, shared by the tests that read its outputs."""
    work = tmp_path_factory.mktemp("bundled")
    run(work, "--config", f"data={SHEET}")
    return work


def _from_the_repository(command: list[str], work: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """``command`` run in the repository (the minocycline configs' paths are relative to it) with
    ``workdir`` set to ``work`` and 10 permutations; (the run's results folder, its output)."""
    out = subprocess.run([*command, "--config", f"workdir={work}", "permutations=10"],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return work / "results", out


@pytest.fixture(scope="session")
def minocycline_a(tmp_path_factory):
    """`snakemake --configfile config/minocycline.yaml`, shared by test_minocycline.py and test_words.py."""
    return _from_the_repository([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--cores", "2",
                                 "--configfile", "config/minocycline.yaml"], tmp_path_factory.mktemp("minocycline_a"))


@pytest.fixture(scope="session")
def minocycline_c(tmp_path_factory):
    """`premeta run --configfile config/minocycline_c.yaml` (Snakemake underneath), shared by
    test_minocycline.py and test_words.py."""
    premeta = str(Path(sys.executable).parent / "premeta")
    return _from_the_repository([premeta, "run", "--configfile", "config/minocycline_c.yaml"],
                                tmp_path_factory.mktemp("minocycline_c"))
