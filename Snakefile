# premeta: extraction sheet -> effect sizes -> models by group -> forest plots -> report.
import os
import sys

from snakemake.utils import min_version

from premeta.errors import SettingsError
from premeta.settings import read_config_file

min_version("9.19")


# Where the run was started, passed on to its jobs: the executor plugin's job step starts the inner
# snakemake of a SLURM job in `workdir`, so relative paths are resolved against this, not the current folder.
RUN_DIR = os.environ.setdefault("PREMETA_RUN_DIR", os.getcwd())


# The bundled review's settings, unless the command line gives a config file of its own: that one then
# stands alone (with the schema's defaults), so that nothing of the bundled review (its `labels`, its
# `columns`) leaks into another review's run.
if not workflow.overwrite_configfiles:
    try:  # Snakemake's message on a file that is not plain YAML (a tag: !foo) does not name it
        read_config_file(os.path.join(RUN_DIR, "config/config.yaml"))
    except SettingsError as error:
        sys.exit(f"premeta: {error}")

    configfile: os.path.join(RUN_DIR, "config/config.yaml")



# `workdir` in the config: this run writes its results/ and logs/ there (e.g. config/minocycline.yaml)
if isinstance(config.get("workdir"), str) and isinstance(config.get("data"), str):  # else the schema says why
    config["data"] = os.path.join(RUN_DIR, config["data"])
    if isinstance(config.get("prisma_counts"), str) and config["prisma_counts"]:
        config["prisma_counts"] = os.path.join(RUN_DIR, config["prisma_counts"])
    if isinstance(config.get("previous"), str) and config["previous"]:
        config["previous"] = os.path.join(RUN_DIR, config["previous"])

    workdir: os.path.join(RUN_DIR, config["workdir"])


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/flow.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/multiverse.smk"
include: "workflow/rules/changes.smk"
include: "workflow/rules/report.smk"


# seconds of work each: run beside snakemake itself, not as cluster jobs (workflow/profiles/slurm)
localrules: all, effect_sizes, report, changes


rule all:
    default_target: True
    input:
        "results/report.html",
