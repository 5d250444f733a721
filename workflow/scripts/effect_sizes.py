import sys

sys.stderr = open(snakemake.log[0], "w")

import premeta
from premeta.sheet import read_sheet, validate

sheet = validate(read_sheet(snakemake.input.sheet), snakemake.input.sheet,
                 snakemake.params.measure, snakemake.params.orient)
premeta.escalc(sheet, snakemake.params.measure, snakemake.params.orient).to_csv(snakemake.output[0])
