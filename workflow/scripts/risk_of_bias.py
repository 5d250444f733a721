from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import rob
    from premeta.groups.common import read_effects
    from premeta.groups.rob import rob_strata
    from premeta.plots import rob_figure, rob_traffic_light, save
    from premeta.tables import read_csv, write_csv

p, out = snakemake.params, snakemake.output
tool = rob.tool(p.tool)
effects = read_effects(snakemake.input.effects)
weights = read_csv(snakemake.input.weights, usecols=["row", "weight_overall"])
studies = rob.per_study(effects, tool)
summary = rob.summary(studies, tool)
write_csv(studies.assign(overall=rob.overall(studies, tool)), out.studies, index=True)
write_csv(summary, out.summary, index=True)
weighted = rob.weighted_summary(studies, rob.study_weights(effects, weights), tool)
write_csv(weighted, out.weighted)
write_csv(rob_strata(effects, studies, p.group_by, method=p.method, test=p.test, level=p.level, tool=tool), out.strata)
save(rob_figure(summary, weighted, tool), out.png.removesuffix(".png"))
# a checklist's overall is a count of items met, not a judgement: its column is left out
save(rob_traffic_light(studies, tool, **({} if tool.checklist else {"overall": rob.overall(studies, tool),
                                                                   "rule": rob.OVERALL_RULE})),
     out.traffic_light.removesuffix(".png"))
