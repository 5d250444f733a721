from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from pathlib import Path

    from premeta.groups.common import read_effects
    from premeta.groups.flow import flow_table, read_prisma_counts
    from premeta.plots import flow_figure, save
    from premeta.tables import read_csv, write_csv

i, p = snakemake.input, snakemake.params
effects = read_effects(i.effects, omitted=True)  # the comparisons left out are steps of the flow
primary = read_csv(i.primary, dtype={"group": str}, keep_default_na=False, na_values=[""])
pairing = read_csv(i.paired[1], keep_default_na=False, na_values=[""]) if i.paired else None
counts = read_prisma_counts(i.counts[0]) if i.counts else None
flow = flow_table(effects, primary, p.group_by, pairing, p.format, counts)
print(f"flow of records: {len(flow)} steps" + (f", the counts of {i.counts[0]}" if i.counts else ""))
write_csv(flow, snakemake.output.table)
save(flow_figure(flow), Path(snakemake.output.png).with_suffix(""))
