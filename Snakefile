# premeta: extraction sheet -> effect sizes -> models by group -> forest plots -> report.
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


# `workdir` in the config: this run writes its results/ and logs/ there (e.g. config/minocycline.yaml)
if config.get("workdir"):
    config["data"] = os.path.abspath(config["data"])

    workdir: config["workdir"]


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/report.html",
