rule effect_sizes:
    input:
        sheet=config["data"],
    output:
        report(
            "results/effect_sizes.csv",
            caption="../report/effect_sizes.rst",
            category="Tables",
        ),
    params:
        measure=config["measure"],
        orient=config["orient"],
    log:
        "logs/effect_sizes.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/effect_sizes.py"
