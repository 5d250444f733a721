from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    import pandas as pd

    from premeta.groups.sensitivity import GOSH_COLUMNS, gosh_groups
    from premeta.groups.common import read_effects
    from premeta.plots import gosh_figure, message_figure, save
    from premeta.tables import write_csv

p = snakemake.params
stems = {label: stem for stem, label in p.groups.items()}
rows = []
for row, fits, names in gosh_groups(read_effects(snakemake.input[0]), p.group_by, p.method, p.subsets, p.seed):
    stem = f"gosh_{stems[row['group']]}"
    rows.append(row | {"figure": f"plots/{stem}.png"})
    title = f"GOSH: {row['group']} ({p.method}, {row['sampling']} subsets of its {row['k']} comparisons)"
    fig = (message_figure(f"GOSH: {row['group']}", row["note"]) if fits is None
           else gosh_figure(fits.res, fits.incl, p.measure, (row["estimate"], row["i2"]), names, title,
                             unit="comparison"))
    save(fig, f"results/plots/{stem}")
write_csv(pd.DataFrame(rows, columns=GOSH_COLUMNS), snakemake.output.table)
