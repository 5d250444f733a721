import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from helpers import EVERY_ANALYSIS, REFERENCE, REPO, SHEET, SMALL_GROUPS, SNAKEMAKE, run


@pytest.fixture(scope="session")
def metafor():
    return json.loads(REFERENCE.read_text())


def once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``make`` fills, made once per test session even when pytest-xdist runs several
    workers: the first to take the lock makes it, the others wait for it and share it. The tests
    given such a folder only read it (a test that changes a run copies it first)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' common folder
    work, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(work, ignore_errors=True)  # a worker's failed attempt
            work.mkdir()
            make(work)
            done.touch()
    return work


@pytest.fixture(scope="session")
def bundled(tmp_path_factory):
    """A workflow run on the bundled sheet, shared by the tests that read its outputs."""
    return once(tmp_path_factory, "bundled", lambda work: run(work, "--config", f"data={SHEET}"))


@pytest.fixture(scope="session")
def every_analysis(tmp_path_factory):
    """A workflow run with every analysis switched on (:data:`EVERY_ANALYSIS`; 300 GOSH subsets, the
    multiverse in 3 chunks) on three groups of the bundled sheet (``small.csv`` in its folder),
    shared by the tests of GOSH, of the multiverse and of a rerun's bytes."""
    def make(work: Path) -> None:
        sheet = pd.read_csv(SHEET)
        sheet[sheet["mechanism"].isin(SMALL_GROUPS)].to_csv(work / "small.csv", index=False)
        run(work, "--config", f"data={work / 'small.csv'}", EVERY_ANALYSIS, "gosh_subsets=300", "multiverse_chunks=3")

    return once(tmp_path_factory, "every_analysis", make)


def _from_the_repository(tmp_path_factory, name: str, command: list[str]) -> tuple[Path, subprocess.CompletedProcess]:
    """``command`` run once (:func:`once`) in the repository (the minocycline configs' paths are
    relative to it) with ``workdir`` set to its folder and 10 permutations; (the run's results
    folder, its output)."""
    def make(work: Path) -> None:
        out = subprocess.run([*command, "--config", f"workdir={work}", "permutations=10"],
                             capture_output=True, text=True, check=False, cwd=REPO)
        assert out.returncode == 0, out.stderr[-3000:]
        (work / "stdout.txt").write_text(out.stdout)
        (work / "stderr.txt").write_text(out.stderr)

    work = once(tmp_path_factory, name, make)
    return work / "results", subprocess.CompletedProcess(command, 0, (work / "stdout.txt").read_text(),
                                                         (work / "stderr.txt").read_text())


@pytest.fixture(scope="session")
def minocycline_a(tmp_path_factory):
    """`snakemake --configfile config/minocycline.yaml`, shared by test_minocycline.py and test_words.py."""
    return _from_the_repository(tmp_path_factory, "minocycline_a", [
        *SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--cores", "2", "--configfile", "config/minocycline.yaml"])


@pytest.fixture(scope="session")
def minocycline_c(tmp_path_factory):
    """`premeta run --configfile config/minocycline_c.yaml` (Snakemake underneath), shared by
    test_minocycline.py and test_words.py."""
    premeta = str(Path(sys.executable).parent / "premeta")
    return _from_the_repository(tmp_path_factory, "minocycline_c",
                                [premeta, "run", "--configfile", "config/minocycline_c.yaml"])
