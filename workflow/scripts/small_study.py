from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    import numpy as np

    from premeta.groups.bias import (cumulative, excess_significance, fail_safe_n, funnel_centres, selection_models,
                                     small_study)
    from premeta.groups.common import read_effects
    from premeta.vocabulary import group_labels
    from premeta.plots import cumulative_figure, funnels, save, sunset_figure
    from premeta.tables import write_csv

p, out = snakemake.params, snakemake.output
effects = read_effects(snakemake.input[0])
write_csv(small_study(effects, p.group_by, p.method, p.test, p.level), out.table)
write_csv(selection_models(effects, p.group_by, p.level), out.selection_models)
write_csv(fail_safe_n(effects, p.group_by, p.level), out.fail_safe_n)
excess, power = excess_significance(effects, p.group_by, p.measure, p.level)
write_csv(excess, out.excess_significance)
write_csv(power, out.power)
save(sunset_figure(power, p.measure, p.level), out.sunset_png.removesuffix(".png"))
steps = cumulative(effects, p.group_by, p.method, p.test, p.level)
write_csv(steps, out.cumulative)
save(cumulative_figure(steps, p.measure, p.level), out.cumulative_png.removesuffix(".png"))
# the funnel plots by the total number of animals (precomputed effects may have none)
n_total = effects.trt_n + effects.ctl_n if {"trt_n", "ctl_n"} <= set(effects) else np.nan
rows = effects.assign(n_total=n_total, group=group_labels(effects, p.group_by)).dropna(subset=["n_total"])
funnels(rows, funnel_centres(rows, "group", p.method), p.measure, out.png.removesuffix(".png"), precision="n",
        level=p.level, group_by=p.group_by)
