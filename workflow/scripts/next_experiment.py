from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.groups.common import read_effects
    from premeta.groups.planning import next_experiment_curves, next_experiments
    from premeta.plots import next_experiment_figure, save
    from premeta.tables import read_csv, write_csv

p, i, o = snakemake.params, snakemake.input, snakemake.output
effects = read_effects(i.effects)
primary = read_csv(i.primary, dtype={"group": str}, keep_default_na=False, na_values=[""])
table = next_experiments(effects, primary, p.group_by, p.measure, power=p.target_power, alpha=(100 - p.level) / 100)
write_csv(table, o.table)
save(next_experiment_figure(next_experiment_curves(table), table), o.png.removesuffix(".png"))
