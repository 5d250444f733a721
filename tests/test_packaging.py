"""The files that make a run reproducible agree with each other."""

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    assert {d.replace(" ", "") for d in project["dependencies"]} <= conda
    assert f"python{project['requires-python']}" in conda


def test_lock_pins_every_dependency():
    lock = {line.split("==")[0].lower().replace("_", "-")
            for line in (REPO / "requirements.lock").read_text().splitlines() if "==" in line}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].lower() for d in wanted}
    assert names <= lock, names - lock


def test_slurm_profile_uses_the_executor_plugin():
    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/profile.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert {"slurm_account", "slurm_partition", "runtime", "mem_mb"} <= set(profile["default-resources"])
