if PAIRED:

    localrules: pair

    rule pair:
        input:
            config["data"],
        output:
            sheet=PAIRED[0],
            pairing=report(PAIRED[1], caption="../report/pairing.rst", category="Tables"),
        params:
            format=FORMAT,
            worksheet=config.get("worksheet"),
        log:
            "logs/pair.log",
        conda:
            "../../environment.yml"
        script:
            "../scripts/pair.py"


rule effect_sizes:
    input:
        sheet=config["data"],
    output:
        effects=report(
            "results/effect_sizes.csv",
            caption="../report/effect_sizes.rst",
            category="Tables",
        ),
        flags=report(
            "results/flags.csv",
            caption="../report/flags.rst",
            category="Tables",
        ),
    params:
        measure=config["measure"],
        orient=config["orient"],
        shared_control=config["shared_control"],
        group_by=config["group_by"],
        convert_medians=config["convert_medians"],
        risk_of_bias=config["risk_of_bias"],
        worksheet=config.get("worksheet"),
        format=FORMAT,
    log:
        "logs/effect_sizes.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/effect_sizes.py"
