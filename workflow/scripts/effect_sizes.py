import sys

sys.stderr = open(snakemake.log[0], "w")

import premeta
from premeta.sheet import read_sheet, validate
from premeta.tables import write_csv

p = snakemake.params
sheet = read_sheet(snakemake.input.sheet, p.sheet)
print(f"read {snakemake.input.sheet}: {sheet.attrs['source'].describe()}", file=sys.stderr)
sheet = validate(sheet, snakemake.input.sheet, p.measure, p.orient, p.group_by)
write_csv(premeta.escalc(sheet, snakemake.params.measure, snakemake.params.orient), snakemake.output[0], index=True)
