from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    import numpy as np

    from premeta.groups.bias import funnel_centres, small_study
    from premeta.groups.common import read_effects
    from premeta.vocabulary import group_labels
    from premeta.plots import funnels
    from premeta.tables import write_csv

p, out = snakemake.params, snakemake.output
effects = read_effects(snakemake.input[0])
write_csv(small_study(effects, p.group_by, p.method, p.test), out.table)
# the funnel plots by the total number of animals (precomputed effects may have none)
n_total = effects.trt_n + effects.ctl_n if {"trt_n", "ctl_n"} <= set(effects) else np.nan
rows = effects.assign(n_total=n_total, group=group_labels(effects, p.group_by)).dropna(subset=["n_total"])
funnels(rows, funnel_centres(rows, "group", p.method), p.measure, out.png.removesuffix(".png"), precision="n",
        level=p.level, group_by=p.group_by)
