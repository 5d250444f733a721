import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

import pandas as pd

from premeta.report import render

i = snakemake.input
effects = pd.read_csv(i.effects, index_col="row")
pooled = pd.read_csv(i.pooled, keep_default_na=False, na_values=[""])
tests = pd.read_csv(i.tests)
labels = {Path(p).stem.removeprefix("forest_"): p for p in i.forest}
forest = {snakemake.params.groups.get(s, "all groups"): p for s, p in labels.items()}
html = render(sheet_path=i.sheet, effects=effects, pooled=pooled, tests=tests,
              config=dict(snakemake.params.config), forest=forest, funnel=i.funnel,
              workflow_dir=snakemake.params.workflow_dir, extra=i.extra, skipped=snakemake.params.skipped)
Path(snakemake.output[0]).write_text(html)
