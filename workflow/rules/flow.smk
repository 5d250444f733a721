# The flow of records (always run: every review reports it): from the search and screening counts
# (config `prisma_counts`, when given) through the rows of the sheet to the comparisons analysed per group.
rule flow:
    input:
        effects="results/effect_sizes.csv",
        primary="results/primary.csv",
        paired=PAIRED,
        counts=[config["prisma_counts"]] if config["prisma_counts"] else [],
    output:
        table=report("results/flow.csv", caption="../report/flow.rst", category="Tables"),
        png=report("results/plots/flow.png", caption="../report/flow.rst", category="Flow of records"),
        svg="results/plots/flow.svg",
    params:
        group_by=config["group_by"],
        format=FORMAT,
    log:
        "logs/flow.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/flow.py"
