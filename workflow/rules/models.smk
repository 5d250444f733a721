rule pool:
    input:
        "results/effect_sizes.csv",
    output:
        pooled=report(
            "results/pooled.csv", caption="../report/pooled.rst", category="Tables"
        ),
        tests=report(
            "results/subgroup_tests.csv",
            caption="../report/subgroup_tests.rst",
            category="Tables",
        ),
        weights="results/weights.csv",
    params:
        group_by=config["group_by"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    priority: 10  # the moderators and the figures, the longest jobs, wait for it
    log:
        "logs/pool.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/pool.py"
