from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.groups.multiverse_analysis import multiverse
    from premeta.effects import checked
    from premeta.tables import write_csv

p = snakemake.params
sheet = checked(snakemake.input[0], p.format, p.worksheet, p.measure, p.orient, p.group_by,
                convert_medians=p.convert_medians, tool=p.risk_of_bias)[0]
table = multiverse(sheet, p.choices, p.group_by, p.measure, p.orient, p.level, p.rho, p.rve_model,
                   chunk=(int(snakemake.wildcards.i), p.chunks))
write_csv(table, snakemake.output[0])
