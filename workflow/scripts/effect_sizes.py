import gc
import sys

gc.disable()  # while importing (objects only, no garbage): a tenth of a second less per job
sys.stderr = open(snakemake.log[0], "w")

from premeta import escalc
from premeta.flags import flagged, flags
from premeta.effects import checked
from premeta.tables import write_csv

gc.freeze()  # the imports' objects are never garbage: later collections skip them
gc.enable()

p = snakemake.params
# the same derivation as the pool job's (workflow/scripts/pool.py), which does not wait for this one
sheet = checked(snakemake.input.sheet, p.format, p.sheet, p.measure, p.orient, p.group_by, p.shared_control,
                p.convert_medians)[0]
print(f"read {snakemake.input.sheet} ({p.format}): {sheet.attrs['source'].describe()}", file=sys.stderr)
effects = escalc(sheet, p.measure, p.orient, p.shared_control)
# suspicious values: listed, never refused (premeta.flags)
write_csv(effects.assign(flags=flagged(effects)), snakemake.output.effects, index=True)
write_csv(flags(effects), snakemake.output.flags)
