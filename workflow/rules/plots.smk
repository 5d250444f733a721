rule forest:
    input:
        effects="results/effect_sizes.csv",
        pooled="results/pooled.csv",
        tests="results/subgroup_tests.csv",
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
        studies=False,
        rho=config["rho"],
    log:
        "logs/forest_{group}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/forest.py"


# a group of more than STUDY_LEVEL_K comparisons also gets a figure with one row per study
use rule forest as forest_studies with:
    output:
        png=report(
            "results/plots/studies_{group}.png",
            caption="../report/forest.rst",
            category="Forest plots",
            labels={"group": "{group}", "level": "study"},
        ),
        svg="results/plots/studies_{group}.svg",
    params:
        group_by=config["group_by"],
        measure=config["measure"],
        level=config["level"],
        label=group_label,
        studies=True,
        rho=config["rho"],
    log:
        "logs/studies_{group}.log",


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
        group_by=config["group_by"],
        measure=config["measure"],
        level=config["level"],
    log:
        "logs/funnel.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/funnel.py"
