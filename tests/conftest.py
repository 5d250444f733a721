import json

import pytest

from helpers import REFERENCE, SHEET, run


@pytest.fixture(scope="session")
def metafor():
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="session")
def bundled(tmp_path_factory):
    """A workflow run on the bundled sheet, shared by the tests that read its outputs."""
    work = tmp_path_factory.mktemp("bundled")
    run(work, "--config", f"data={SHEET}")
    return work
