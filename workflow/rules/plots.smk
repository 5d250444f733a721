# Every forest plot and the funnel plots in one job: most of a figure job's time is starting Python.
rule figures:
    input:
        effects="results/effect_sizes.csv",
        primary="results/primary.csv",
        tests="results/subgroup_tests.csv",
        weights="results/weights.csv",
    output:
        forest=[
            report(
                f"results/plots/forest_{stem}.png",
                caption="../report/forest.rst",
                category="Forest plots",
                labels={"group": stem},
            )
            for stem in FOREST_STEMS
        ],
        forest_svg=expand("results/plots/forest_{stem}.svg", stem=FOREST_STEMS),
        studies=[
            report(
                f"results/plots/studies_{stem}.png",
                caption="../report/forest.rst",
                category="Forest plots",
                labels={"group": stem, "level": "study"},
            )
            for stem in STUDY_LEVEL
        ],
        studies_svg=expand("results/plots/studies_{stem}.svg", stem=STUDY_LEVEL),
        funnel=report(
            "results/plots/funnel.png",
            caption="../report/funnel.rst",
            category="Funnel plot",
        ),
        funnel_svg="results/plots/funnel.svg",
    params:
        groups=GROUPS,
        group_by=config["group_by"],
        measure=config["measure"],
        orient=config["orient"],
        labels=config["labels"],
        method=config["method"],
        level=config["level"],
        rho=config["rho"],
        rob_forest=config.get("rob_forest", True),
    priority: 5  # the second longest job, after the moderators
    log:
        "logs/figures.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/figures.py"
