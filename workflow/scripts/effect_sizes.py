import gc
import sys

gc.disable()  # while importing (objects only, no garbage): a tenth of a second less per job
sys.stderr = open(snakemake.log[0], "w")

import premeta
from premeta.pairing import load
from premeta.sheet import validate
from premeta.tables import write_csv

gc.freeze()  # the imports' objects are never garbage: later collections skip them
gc.enable()

p = snakemake.params
sheet = load(snakemake.input.sheet, p.format, p.sheet)[0]
print(f"read {snakemake.input.sheet} ({p.format}): {sheet.attrs['source'].describe()}", file=sys.stderr)
sheet = validate(sheet, snakemake.input.sheet, p.measure, p.orient, p.group_by)
write_csv(premeta.escalc(sheet, snakemake.params.measure, snakemake.params.orient), snakemake.output[0], index=True)
