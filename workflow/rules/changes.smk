# What changed since the previous run (a living review; config `previous`: that run's results folder):
# the comparisons added, removed and changed, and per group the change in the pooled results.
rule changes:
    input:
        effects="results/effect_sizes.csv",
        primary="results/primary.csv",
        pooled="results/pooled.csv",
        extra=analysis_outputs,  # small_study.csv, leave1out.csv, multiverse_summary.csv where switched on
        previous=[f"{config['previous']}/effect_sizes.csv", f"{config['previous']}/primary.csv"]
        if config["previous"] else [],
    output:
        comparisons=report("results/changes_comparisons.csv", caption="../report/changes.rst", category="Tables"),
        groups=report("results/changes_groups.csv", caption="../report/changes.rst", category="Tables"),
    params:
        previous=config["previous"],
        group_by=config["group_by"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/changes.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/changes.py"
