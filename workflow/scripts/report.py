from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from pathlib import Path

    from premeta.groups.common import read_effects
    from premeta.report import render
    from premeta.tables import read_csv

i = snakemake.input
effects = read_effects(i.effects, omitted=True)  # the report lists the rows left out
pooled = read_csv(i.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
primary = read_csv(i.primary, dtype={"group": str}, keep_default_na=False, na_values=[""])
tests = read_csv(i.tests, keep_default_na=False, na_values=[""])
flags = read_csv(i.flags, dtype=str, keep_default_na=False)
labels = {snakemake.params.groups.get(Path(p).stem.removeprefix("forest_"), pooled.group.iloc[-1]): p for p in i.forest}
forest = {g: labels[g] for g in pooled.group}  # in the order of the pooled table
studies = {snakemake.params.groups[Path(p).stem.removeprefix("studies_")]: p for p in i.studies}
html = render(sheet_path=i.sheet, effects=effects, primary=primary, pooled=pooled, tests=tests,
              config=dict(snakemake.params.config), forest=forest, studies=studies, funnel=i.funnel,
              workflow_dir=snakemake.params.workflow_dir, extra=[*i.extra, i.flow, i.flow_png, *i.changes],
              skipped=snakemake.params.skipped,
              bubbles=snakemake.params.bubbles, fmt=snakemake.params.format, flags=flags,
              pairing=read_csv(i.paired[1], keep_default_na=False, na_values=[""]) if i.paired else None)
Path(snakemake.output[0]).write_text(html)
