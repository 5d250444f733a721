import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects, time_course, time_regression
from premeta.plots import save, time_course_figure
from premeta.tables import write_csv

p = snakemake.params
out = snakemake.output
effects = read_effects(snakemake.input[0])
course = time_course(effects, p.group_by, "time", p.method, p.test, p.level)
write_csv(course, out.table)
write_csv(time_regression(effects, p.group_by, p.method, p.test, p.level), out.regression)
save(time_course_figure(course, p.measure), out.png.removesuffix(".png"))
if out.weeks:
    by_weeks = time_course(effects, p.group_by, "weeks", p.method, p.test, p.level)
    write_csv(by_weeks, out.weeks[0])
    save(time_course_figure(by_weeks, p.measure, "Weeks of exercise", "weeks"), out.weeks[1].removesuffix(".png"))
