from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from pathlib import Path

    from premeta.groups.multiverse_analysis import combine, read_chunk, summary
    from premeta.plots import save, spec_curve_figure
    from premeta.tables import write_csv

p = snakemake.params
table = combine(read_chunk(path) for path in snakemake.input)
write_csv(table, snakemake.output.table)
stems = {group: stem for stem, group in p.groups.items()}
write_csv(summary(table, p.primary).assign(figure=lambda s: [f"plots/multiverse_{stems[g]}.png" for g in s["group"]]),
          snakemake.output.summary)
for png in snakemake.output.png:
    group = p.groups[Path(png).stem.removeprefix("multiverse_")]
    fig = spec_curve_figure(table[table["group"] == group], p.primary, p.level, f"Multiverse: {group}")
    save(fig, png.removesuffix(".png"))
