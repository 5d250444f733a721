"""The documentation site (docs/, built by `make docs`) and the README stay complete and short."""

import re
from pathlib import Path

import yaml

import premeta

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def test_api_reference_documents_every_public_name():
    api = (DOCS / "api.rst").read_text()
    documented = set(re.findall(r"^\.\. auto(?:function|class|data):: (\w+)$", api, re.M))
    assert set(premeta.__all__) <= documented, set(premeta.__all__) - documented


def test_settings_page_describes_every_key_of_the_schema():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    described = set(re.findall(r"^\| `(\w+)` \|", (REPO / "config/README.md").read_text(), re.M))
    assert set(schema["properties"]) == described
    assert "{include} ../config/README.md" in (DOCS / "settings.md").read_text()


def test_every_page_is_in_the_table_of_contents():
    index = (DOCS / "index.md").read_text()
    pages = {p.stem for p in DOCS.glob("*.md")} | {p.stem for p in DOCS.glob("*.rst")}
    listed = set(re.findall(r"^([\w-]+)$", index, re.M))
    assert pages - {"index"} == listed


def test_readme_is_a_first_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 150
    for command in ("make run", "make test", "make docs", "premeta template", "premeta validate",
                    "premeta run", "--configfile"):
        assert command in readme, command
    # every docs page it names exists
    for page in re.findall(r"`(docs/[\w-]+\.md)`", readme):
        assert (REPO / page).is_file(), page


def test_every_output_file_of_the_workflow_is_described():
    outputs = (DOCS / "outputs.md").read_text()
    rules = "".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    tables = set(re.findall(r"results/(\w+)\.csv", rules))
    described = set(re.findall(r"`(\w+)\.csv`", outputs))
    assert len(tables) > 20 and tables <= described, tables - described
