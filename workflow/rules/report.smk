rule report:
    input:
        sheet=config["data"],
        effects="results/effect_sizes.csv",
        pooled="results/pooled.csv",
        tests="results/subgroup_tests.csv",
        forest=expand(
            "results/plots/forest_{group}.png", group=sorted(GROUPS) + ["overall"]
        ),
        studies=expand("results/plots/studies_{group}.png", group=STUDY_LEVEL),
        funnel="results/plots/funnel.png",
        extra=analysis_outputs,
        paired=PAIRED,
    output:
        "results/report.html",
    params:
        config=config,
        groups=GROUPS,
        skipped=SKIPPED,
        bubbles=BUBBLES,
        format=FORMAT,
        workflow_dir=workflow.basedir,
    log:
        "logs/report.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/report.py"
