import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import time_course, time_regression
from premeta.plots import save, time_course_figure

p = snakemake.params
effects = pd.read_csv(snakemake.input[0], index_col="row")
course = time_course(effects, p.group_by, "time", p.method, p.test, p.level)
course.to_csv(snakemake.output.table, index=False)
time_regression(effects, p.group_by, p.method, p.test, p.level).to_csv(snakemake.output.regression, index=False)
save(time_course_figure(course, p.measure), snakemake.output.png.removesuffix(".png"))
