from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import escalc
    from premeta.flags import flags_and_column
    from premeta.effects import checked
    from premeta.tables import write_csv

p = snakemake.params
# the same derivation as the pool job's (workflow/scripts/pool.py), which does not wait for this one
sheet = checked(snakemake.input.sheet, p.format, p.worksheet, p.measure, p.orient, p.group_by, p.shared_control,
                p.convert_medians, p.risk_of_bias)[0]
print(f"read {snakemake.input.sheet} ({p.format}): {sheet.attrs['source'].describe()}")
effects = escalc(sheet, p.measure, p.orient, p.shared_control)
# suspicious values: listed, never refused (premeta.flags)
table, column = flags_and_column(effects)
write_csv(effects.assign(flags=column), snakemake.output.effects, index=True)
write_csv(table, snakemake.output.flags)
