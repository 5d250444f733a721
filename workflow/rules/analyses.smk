# The reviewer's further analyses; each can be switched off in config `analyses`.


# The primary model (results/primary.csv, written by pool) beside the comparisons treated as
# independent, and its sensitivity to the assumed within-study correlation (rve).
rule dependence:
    input:
        effects="results/effect_sizes.csv",
        pooled="results/pooled.csv",
        primary="results/primary.csv",
    output:
        rho=report(
            "results/dependence_rho.csv",
            caption="../report/dependence.rst",
            category="Dependent effects",
        ),
        png="results/plots/dependence.png",
        svg="results/plots/dependence.svg",
    params:
        group_by=config["group_by"],
        measure=config["measure"],
        rve_model=config["rve_model"],
        level=config["level"],
    log:
        "logs/dependence.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/dependence.py"


# Four analyses read nothing but the effect sizes and the model settings: risk of bias, time
# course, small-study effects and sensitivity. Those switched on run in one job, `effects_only`:
# it reruns exactly when any of them would (same input, same settings), and Python and the
# libraries start once instead of four times (half the CPU time of those four jobs, issue 12).
# Their outputs, by analysis (the names are the script's):
EFFECTS_ONLY = {
    "risk_of_bias": dict(
        rob_studies="results/rob_studies.csv",
        rob_summary="results/rob_summary.csv",
        rob_strata=report(
            "results/rob_strata.csv",
            caption="../report/rob_strata.rst",
            category="Risk of bias",
        ),
        rob_png=report(
            "results/plots/rob_summary.png",
            caption="../report/rob.rst",
            category="Risk of bias",
        ),
        rob_svg="results/plots/rob_summary.svg",
    ),
    "time_course": dict(
        time_table="results/time_course.csv",
        time_regression="results/time_regression.csv",
        time_png=report(
            "results/plots/time_course.png",
            caption="../report/time_course.rst",
            category="Time course",
        ),
        time_svg="results/plots/time_course.svg",
        time_weeks=WEEKS_OUTPUTS,
    ),
    "small_study": dict(
        small_table=report(
            "results/small_study.csv",
            caption="../report/small_study.rst",
            category="Small-study effects",
        ),
        small_png="results/plots/funnel_n.png",
        small_svg="results/plots/funnel_n.svg",
    ),
    "sensitivity": dict(
        leave1out="results/leave1out.csv",
        influence=report(
            "results/influence.csv",
            caption="../report/sensitivity.rst",
            category="Sensitivity",
        ),
    ),
}
EFFECTS_ONLY_RUN = [a for a in EFFECTS_ONLY if a in RUN_ANALYSES]

if EFFECTS_ONLY_RUN:

    rule effects_only:
        input:
            "results/effect_sizes.csv",
        output:
            **{name: path for a in EFFECTS_ONLY_RUN for name, path in EFFECTS_ONLY[a].items()},
        params:
            analyses=EFFECTS_ONLY_RUN,
            columns=config["columns"],
            group_by=config["group_by"],
            measure=config["measure"],
            method=config["method"],
            test=config["test"],
            level=config["level"],
        log:
            "logs/effects_only.log",
        conda:
            "../../environment.yml"
        script:
            "../scripts/effects_only.py"


rule moderators:
    input:
        effects="results/effect_sizes.csv",
        primary="results/primary.csv",
    output:
        coefs=report(
            "results/moderators.csv",
            caption="../report/moderators.rst",
            category="Moderators",
        ),
        models="results/moderator_tests.csv",
        multiple_testing="results/multiple_testing.csv",
        bubble=expand("results/plots/bubble_{stem}.png", stem=BUBBLES.values()),
        svg=expand("results/plots/bubble_{stem}.svg", stem=BUBBLES.values()),
    params:
        moderators=config["moderators"],
        numeric=list(BUBBLES),
        columns=COLUMNS | config["columns"],
        group_by=config["group_by"],
        measure=config["measure"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
        permutations=config["permutations"],
        seed=config["seed"],
    # the longest job (permutation tests): started first, not left to run alone at the end
    priority: 10
    log:
        "logs/moderators.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/moderators.py"


rule gosh:
    input:
        "results/effect_sizes.csv",
    output:
        table=report(
            "results/gosh.csv",
            caption="../report/gosh.rst",
            category="Sensitivity",
        ),
        png=expand("results/plots/gosh_{stem}.png", stem=sorted(GROUPS)),
        svg=expand("results/plots/gosh_{stem}.svg", stem=sorted(GROUPS)),
    params:
        groups=GROUPS,
        group_by=config["group_by"],
        measure=config["measure"],
        method=config["method"],
        subsets=config["gosh_subsets"],
        seed=config["seed"],
    log:
        "logs/gosh.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/gosh.py"
