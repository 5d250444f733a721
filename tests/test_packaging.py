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
    wanted = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    names = {d.split(">")[0].split("=")[0].split("<")[0].lower() for d in wanted}
    assert names <= lock, names - lock


def test_slurm_profile_uses_the_executor_plugin():
    """The profile docs/cluster.md's command reads (tests/cluster/slurm.sh runs it on SLURM)."""
    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/profile.yaml").read_text())
    assert profile["executor"] == "slurm"
    # without accounting the plugin's default (sacct) never learns that a job finished
    assert profile["slurm-status-command"] == "squeue"
    assert {"runtime", "mem_mb", "cpus_per_task"} <= set(profile["default-resources"])
    # no placeholder account or partition that sbatch would reject
    assert not {"slurm_account", "slurm_partition"} & set(profile["default-resources"])
    # Snakemake reads a profile.yaml from 9.19 on
    assert 'min_version("9.19")' in (REPO / "Snakefile").read_text()
    plugins = (REPO / "requirements-slurm.lock").read_text()
    assert "snakemake-executor-plugin-slurm==" in plugins


def test_version_in_one_place():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    import premeta

    assert premeta.__version__ == project["version"]
    assert yaml.safe_load((REPO / "CITATION.cff").read_text())["version"] == project["version"]
    assert f"## {project['version']}" in (REPO / "CHANGELOG.md").read_text()
    assert "MIT License" in (REPO / "LICENSE").read_text() and project["license"] == "MIT"


def test_import_premeta_needs_neither_snakemake_nor_pymare():
    import subprocess
    import sys

    code = ("import sys, premeta, premeta.groups.pooling, premeta.plots, premeta.report; "
            "print(sorted(m for m in ('snakemake', 'pymare') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_what_the_workflow_imports_to_parse_leaves_scipy_stats_out():
    """The Snakefile's parse imports these (every run, a no-op rerun included): scipy.stats would add
    about a second to each (premeta.distributions gives the same quantiles)."""
    import re
    import subprocess
    import sys

    rules = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    modules = sorted({m for f in rules for m in re.findall(r"^from (premeta[\w.]*) import", f.read_text(), re.M)})
    assert "premeta.effects" in modules and "premeta.groups.multiverse_analysis" in modules
    code = f"import sys, {', '.join(modules)}; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
