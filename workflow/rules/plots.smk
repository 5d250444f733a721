rule forest:
    input:
        effects="results/effect_sizes.csv",
        pooled="results/pooled.csv",
        weights="results/weights.csv",
    output:
        png=report(
            "results/plots/forest_{group}.png",
            caption="../report/forest.rst",
            category="Forest plots",
            labels={"group": "{group}"},
        ),
        svg="results/plots/forest_{group}.svg",
    params:
        group_by=config["group_by"],
        measure=config["measure"],
        level=config["level"],
        label=group_label,
    log:
        "logs/forest_{group}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/forest.py"


rule funnel:
    input:
        effects="results/effect_sizes.csv",
        pooled="results/pooled.csv",
    output:
        png=report(
            "results/plots/funnel.png",
            caption="../report/funnel.rst",
            category="Funnel plot",
        ),
        svg="results/plots/funnel.svg",
    params:
        measure=config["measure"],
        level=config["level"],
    log:
        "logs/funnel.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/funnel.py"
