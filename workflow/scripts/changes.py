from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from pathlib import Path

    from premeta.groups.changes import compare_runs
    from premeta.tables import write_csv

p = snakemake.params
out = compare_runs(p.previous, Path(snakemake.input.effects).parent, p.group_by, p.method, p.test, p.level)
c = out["comparisons"]
print(f"since {p.previous}: " + ", ".join(f"{(c['change'] == x).sum()} {x}" for x in ("added", "removed", "changed")))
write_csv(c, snakemake.output.comparisons)
write_csv(out["groups"], snakemake.output.groups)
