# The multiverse of analytic choices (config `analyses: [..., multiverse]`): the specifications of
# every group are scattered into `multiverse_chunks` jobs (cluster jobs, or processes locally) and
# gathered into one table; the table is the same, byte for byte, whatever the number of chunks.

from premeta.groups.pooling import dependence_mode
from premeta.groups.multiverse_analysis import CHOICES

# the analysis as configured (the primary specification) and the choices, with the config's own values
MULTIVERSE_PRIMARY = {"measure": config["measure"], "method": config["method"], "test": config["test"],
                      "dependence": dependence_mode(SHEET, config["dependence"])[0]}
MULTIVERSE_CHOICES = {c: list(dict.fromkeys([*CHOICES[c], MULTIVERSE_PRIMARY.get(c, CHOICES[c][0])]))
                      for c in CHOICES}
MULTIVERSE_CHUNKS = expand("results/multiverse/chunk_{i}.csv", i=range(config["multiverse_chunks"]))


rule multiverse_chunk:
    input:
        config["data"],
    output:
        "results/multiverse/chunk_{i}.csv",
    params:
        chunks=config["multiverse_chunks"],
        choices=MULTIVERSE_CHOICES,
        format=config["format"],
        worksheet=config.get("worksheet"),
        group_by=config["group_by"],
        convert_medians=config["convert_medians"],
        risk_of_bias=config["risk_of_bias"],
        measure=config["measure"],
        orient=config["orient"],
        level=config["level"],
        rho=config["rho"],
        rve_model=config["rve_model"],
    # the chunks and then the gathering job (a specification curve per group) are a chain: started
    # first, so that the gathering job does not run alone at the end
    priority: 10
    log:
        "logs/multiverse_chunk_{i}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/multiverse_chunk.py"


rule multiverse:
    input:
        MULTIVERSE_CHUNKS,
    output:
        table=report(
            "results/multiverse.csv",
            caption="../report/multiverse.rst",
            category="Sensitivity",
        ),
        summary="results/multiverse_summary.csv",
        png=expand("results/plots/multiverse_{stem}.png", stem=sorted(GROUPS)),
        svg=expand("results/plots/multiverse_{stem}.svg", stem=sorted(GROUPS)),
    params:
        groups=GROUPS,
        primary=MULTIVERSE_PRIMARY,
        level=config["level"],
    priority: 10
    log:
        "logs/multiverse.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/multiverse.py"
