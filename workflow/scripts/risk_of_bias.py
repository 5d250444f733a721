from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import rob
    from premeta.groups.common import read_effects
    from premeta.groups.rob import rob_strata
    from premeta.plots import message_figure, rob_figure, save
    from premeta.tables import read_csv, write_csv

p, out = snakemake.params, snakemake.output
tool = rob.tool(p.tool)
effects = read_effects(snakemake.input.effects)
weights = read_csv(snakemake.input.weights, usecols=["row", "weight_overall"])
studies = rob.per_study(effects, tool)
summary = rob.summary(studies, tool)
write_csv(studies.assign(overall=rob.overall(studies, tool)), out.studies, index=True)
write_csv(summary, out.summary, index=True)
write_csv(rob.weighted_summary(studies, rob.study_weights(effects, weights), tool), out.weighted)
write_csv(rob_strata(effects, studies, p.group_by, method=p.method, test=p.test, level=p.level, tool=tool), out.strata)
# rob_figure draws the low/unclear/high judgements of a risk-of-bias tool such as SYRCLE
values = ", ".join(dict.fromkeys(v for i in tool.items for v in i.values))
save(rob_figure(summary) if set(rob.LEVELS) <= set(summary) else message_figure(
    f"{tool.label}: summary", f"the summary bars are drawn for the judgements low, unclear and high; {tool.label} "
    f"judges {values} (rob_summary.csv and rob_weighted.csv give the shares)"), out.png.removesuffix(".png"))
