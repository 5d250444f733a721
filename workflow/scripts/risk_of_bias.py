from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import rob
    from premeta.groups.common import read_effects
    from premeta.groups.rob import rob_strata
    from premeta.plots import rob_figure, rob_traffic_light, save
    from premeta.tables import write_csv

p, out = snakemake.params, snakemake.output
effects = read_effects(snakemake.input[0])
studies = rob.per_study(effects)
summary = rob.summary(studies)
write_csv(studies, out.studies, index=True)
write_csv(summary, out.summary, index=True)
write_csv(rob_strata(effects, studies, p.group_by, method=p.method, test=p.test, level=p.level), out.strata)
save(rob_figure(summary), out.png.removesuffix(".png"))
save(rob_traffic_light(studies), out.traffic_light.removesuffix(".png"))
