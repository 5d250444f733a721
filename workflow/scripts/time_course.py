from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta.groups.common import read_effects
    from premeta.groups.moderators import time_course, time_regression
    from premeta.plots import save, time_course_figure
    from premeta.tables import write_csv
    from premeta.vocabulary import column_words

p, out = snakemake.params, snakemake.output


def axis_title(column: str) -> str:
    """What a column holds (the config's data dictionary ``columns``, else its name and unit), capitalised."""
    words = column_words(column, p.columns)
    return words[:1].upper() + words[1:]


effects = read_effects(snakemake.input[0])
model = dict(method=p.method, test=p.test, level=p.level)
course = time_course(effects, p.group_by, "time", **model)
write_csv(course, out.table)
write_csv(time_regression(effects, p.group_by, **model), out.regression)
save(time_course_figure(course, p.measure, axis_title("time")), out.png.removesuffix(".png"))
if out.weeks:  # the sheet has a numeric `weeks` column
    by_weeks = time_course(effects, p.group_by, "weeks", **model)
    write_csv(by_weeks, out.weeks[0])
    save(time_course_figure(by_weeks, p.measure, axis_title("weeks"), "weeks"), out.weeks[1].removesuffix(".png"))
