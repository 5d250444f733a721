import gc
import sys

gc.disable()  # while importing (objects only, no garbage): a tenth of a second less per job
sys.stderr = open(snakemake.log[0], "w")

from premeta.pairing import load
from premeta.tables import write_csv

gc.freeze()  # the imports' objects are never garbage: later collections skip them
gc.enable()

sheet, pairing, fmt = load(snakemake.input[0], snakemake.params.format, snakemake.params.sheet)
print(f"paired {snakemake.input[0]} ({fmt}): {len(sheet)} comparisons; "
      + ", ".join(f"{n} {s}" for s, n in pairing.status.value_counts().items()), file=sys.stderr)
write_csv(sheet, snakemake.output.sheet, index=False)
write_csv(pairing, snakemake.output.pairing, index=False)
