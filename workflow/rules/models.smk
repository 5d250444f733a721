# pool computes the effect sizes itself (as effect_sizes.csv holds them), so that it runs beside
# effect_sizes rather than after it: the jobs that need both start half a second sooner
rule pool:
    input:
        sheet=config["data"],
    output:
        primary=report(
            "results/primary.csv", caption="../report/primary.rst", category="Tables"
        ),
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
        format=FORMAT,
        worksheet=config.get("worksheet"),
        measure=config["measure"],
        orient=config["orient"],
        group_by=config["group_by"],
        convert_medians=config["convert_medians"],
        risk_of_bias=config["risk_of_bias"],
        dependence=config["dependence"],
        shared_control=config["shared_control"],
        rho=config["rho"],
        rve_model=config["rve_model"],
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
