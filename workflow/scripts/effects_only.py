import gc
import sys

gc.disable()  # while importing (objects only, no garbage): a tenth of a second less per job
sys.stderr = open(snakemake.log[0], "w")

import numpy as np

from premeta import rob
from premeta.groups.bias import funnel_centres, small_study
from premeta.groups.common import read_effects
from premeta.groups.moderators import time_course, time_regression
from premeta.groups.rob import rob_strata
from premeta.groups.sensitivity import sensitivity
from premeta.vocabulary import group_labels
from premeta.plots import funnels, rob_figure, save, time_course_figure
from premeta.tables import write_csv

gc.freeze()  # the imports' objects are never garbage: later collections skip them
gc.enable()

p, out = snakemake.params, snakemake.output


def axis_title(column: str) -> str:
    """What a column holds, from the config's data dictionary (``columns``), capitalised; else its name."""
    words = p.columns.get(column) or column
    return words[:1].upper() + words[1:]


effects = read_effects(snakemake.input[0])
model = dict(method=p.method, test=p.test, level=p.level)

if "risk_of_bias" in p.analyses:
    studies = rob.per_study(effects)
    summary = rob.summary(studies)
    write_csv(studies, out.rob_studies, index=True)
    write_csv(summary, out.rob_summary, index=True)
    write_csv(rob_strata(effects, studies, p.group_by, **model), out.rob_strata)
    save(rob_figure(summary), out.rob_png.removesuffix(".png"))

if "time_course" in p.analyses:
    course = time_course(effects, p.group_by, "time", **model)
    write_csv(course, out.time_table)
    write_csv(time_regression(effects, p.group_by, **model), out.time_regression)
    save(time_course_figure(course, p.measure, axis_title("time")), out.time_png.removesuffix(".png"))
    if out.time_weeks:
        by_weeks = time_course(effects, p.group_by, "weeks", **model)
        write_csv(by_weeks, out.time_weeks[0])
        save(time_course_figure(by_weeks, p.measure, axis_title("weeks"), "weeks"),
             out.time_weeks[1].removesuffix(".png"))

if "small_study" in p.analyses:
    write_csv(small_study(effects, p.group_by, p.method, p.test), out.small_table)
    n_total = effects.trt_n + effects.ctl_n if {"trt_n", "ctl_n"} <= set(effects) else np.nan
    rows = effects.assign(n_total=n_total, group=group_labels(effects, p.group_by)).dropna(subset=["n_total"])
    funnels(rows, funnel_centres(rows, "group", p.method), p.measure, out.small_png.removesuffix(".png"),
            precision="n", level=p.level, group_by=p.group_by)

if "sensitivity" in p.analyses:
    loo, inf = sensitivity(effects, p.group_by, **model)
    write_csv(loo, out.leave1out)
    write_csv(inf, out.influence)
