from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.groups.common import read_effects
    from premeta.groups.sex import sex_contrasts, sex_table
    from premeta.tables import write_csv

p, out = snakemake.params, snakemake.output
effects = read_effects(snakemake.input[0])
write_csv(sex_table(effects, p.group_by), out.table)
contrasts = sex_contrasts(effects, p.group_by, p.match, p.rho, p.method, p.test, p.level)
write_csv(contrasts["contrasts"], out.contrasts)
