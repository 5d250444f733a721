from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.groups.common import read_effects
    from premeta.groups.sensitivity import sensitivity
    from premeta.tables import write_csv

p = snakemake.params
loo, inf = sensitivity(read_effects(snakemake.input[0]), p.group_by, method=p.method, test=p.test, level=p.level)
write_csv(loo, snakemake.output.leave1out)
write_csv(inf, snakemake.output.influence)
