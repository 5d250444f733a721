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


rule risk_of_bias:
    input:
        effects="results/effect_sizes.csv",
        weights="results/weights.csv",
    output:
        studies="results/rob_studies.csv",
        summary="results/rob_summary.csv",
        weighted=report(
            "results/rob_weighted.csv",
            caption="../report/rob_weighted.rst",
            category="Risk of bias",
        ),
        strata=report(
            "results/rob_strata.csv",
            caption="../report/rob_strata.rst",
            category="Risk of bias",
        ),
        png=report(
            "results/plots/rob_summary.png",
            caption="../report/rob.rst",
            category="Risk of bias",
        ),
        svg="results/plots/rob_summary.svg",
        traffic_light=report(
            "results/plots/rob_traffic_light.png",
            caption="../report/rob_traffic_light.rst",
            category="Risk of bias",
        ),
        traffic_light_svg="results/plots/rob_traffic_light.svg",
    params:
        tool=config["risk_of_bias"],
        group_by=config["group_by"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/risk_of_bias.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/risk_of_bias.py"


rule time_course:
    input:
        "results/effect_sizes.csv",
    output:
        table="results/time_course.csv",
        regression="results/time_regression.csv",
        png=report(
            "results/plots/time_course.png",
            caption="../report/time_course.rst",
            category="Time course",
        ),
        svg="results/plots/time_course.svg",
        # by weeks as well, when the sheet has a numeric `weeks` column: table, PNG, SVG
        weeks=WEEKS_OUTPUTS,
    params:
        columns=config["columns"],
        group_by=config["group_by"],
        measure=config["measure"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/time_course.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/time_course.py"


rule small_study:
    input:
        "results/effect_sizes.csv",
    output:
        table=report(
            "results/small_study.csv",
            caption="../report/small_study.rst",
            category="Small-study effects",
        ),
        png="results/plots/funnel_n.png",
        svg="results/plots/funnel_n.svg",
        selection_models=report(
            "results/selection_models.csv",
            caption="../report/selection_models.rst",
            category="Small-study effects",
        ),
        fail_safe_n="results/fail_safe_n.csv",
        excess_significance=report(
            "results/excess_significance.csv",
            caption="../report/excess_significance.rst",
            category="Small-study effects",
        ),
        power="results/power.csv",
        sunset_png="results/plots/sunset.png",
        sunset_svg="results/plots/sunset.svg",
        cumulative="results/cumulative.csv",
        cumulative_png="results/plots/cumulative.png",
        cumulative_svg="results/plots/cumulative.svg",
    params:
        group_by=config["group_by"],
        measure=config["measure"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/small_study.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/small_study.py"


rule sensitivity:
    input:
        "results/effect_sizes.csv",
    output:
        leave1out="results/leave1out.csv",
        influence=report(
            "results/influence.csv",
            caption="../report/sensitivity.rst",
            category="Sensitivity",
        ),
    params:
        group_by=config["group_by"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/sensitivity.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/sensitivity.py"


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
        columns={"quality_score": f"quality score (share of the {TOOL.label} items at the best judgement)"}
        | config["columns"],
        tool=config["risk_of_bias"],
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
    # with moderators the longest job (10^5 REML fits per large group, a figure per group): started
    # first, not left to run alone at the end
    priority: 10
    log:
        "logs/gosh.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/gosh.py"


# The next experiment per group: animals per arm by power and by assurance (premeta.next_experiment).
rule next_experiment:
    input:
        effects="results/effect_sizes.csv",
        primary="results/primary.csv",
    output:
        table=report(
            "results/next_experiment.csv",
            caption="../report/next_experiment.rst",
            category="The next experiment",
        ),
        png="results/plots/next_experiment.png",
        svg="results/plots/next_experiment.svg",
    params:
        group_by=config["group_by"],
        measure=config["measure"],
        level=config["level"],
        target_power=config["target_power"],
    log:
        "logs/next_experiment.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/next_experiment.py"


# Sex as a biological variable: studies and animals by sex, and the male-female contrast within
# studies that tested both sexes under one design, beside the between-study moderator estimate.
rule sex:
    input:
        "results/effect_sizes.csv",
    output:
        table=report(
            "results/sex.csv",
            caption="../report/sex.rst",
            category="Sex as a biological variable",
        ),
        contrasts=report(
            "results/sex_contrasts.csv",
            caption="../report/sex_contrasts.rst",
            category="Sex as a biological variable",
        ),
    params:
        group_by=config["group_by"],
        match=config["sex_match"],
        rho=config["rho"],
        method=config["method"],
        test=config["test"],
        level=config["level"],
    log:
        "logs/sex.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/sex.py"
