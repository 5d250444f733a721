from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.pairing import load
    from premeta.tables import write_csv

sheet, pairing, fmt = load(snakemake.input[0], snakemake.params.format, snakemake.params.worksheet)
print(f"paired {snakemake.input[0]} ({fmt}): {len(sheet)} comparisons; "
      + ", ".join(f"{n} {s}" for s, n in pairing.status.value_counts().items()))
write_csv(sheet, snakemake.output.sheet, index=False)
write_csv(pairing, snakemake.output.pairing, index=False)
