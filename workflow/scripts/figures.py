from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from pathlib import Path

    import pandas as pd

    from premeta import rob
    from premeta.groups.bias import funnel_centres
    from premeta.groups.common import NOT_COMPUTABLE, read_effects
    from premeta.groups.rows import forest_rows, study_rows
    from premeta.vocabulary import group_labels, Labels, better_of
    from premeta.plots import forest, funnels, message_figure, save, summary_forest
    from premeta.tables import read_csv

p, i, o = snakemake.params, snakemake.input, snakemake.output
labels = Labels.from_config({"labels": p.labels})
effects = read_effects(i.effects)
text = dict(dtype={"group": str}, keep_default_na=False, na_values=[""])
main = read_csv(i.primary, **text)  # the primary model: every diamond
tests = read_csv(i.tests, keep_default_na=False, na_values=[""])
weights = read_csv(i.weights, index_col="row")
groups = main.iloc[:-1]
group_of = group_labels(effects, p.group_by)
better = effects.get("better", pd.Series(None, index=effects.index, dtype=object))

def sides(rows) -> tuple[str, str]:
    """What left and right of 0 mean for these rows (premeta.vocabulary.Labels.sides)."""
    return labels.sides(p.orient, better_of(better[rows]), p.measure)

def draw(png: str, title: str, how) -> None:
    """One figure; one that cannot be drawn says why in its place and never stops the others."""
    try:
        how(png.removesuffix(".png"))
    except NOT_COMPUTABLE as error:
        print(f"{png}: {error}")
        save(message_figure(title, str(error)), png.removesuffix(".png"))

rows = forest_rows(effects, weights, p.group_by)
# risk of bias beside every forest plot (config rob_forest), on the items the sheet rates
tool = rob.tool(p.tool)
rated = [c for c in tool.columns if c in effects and effects[c].notna().any()] if p.rob_forest else []
judged = rob.per_study(effects[["study", *rated]], tool) if rated else None
judgements = judged.reindex(effects["study"]).set_axis(effects.index) if rated else None
# the n of each arm, where the sheet gives any (not for precomputed effects)
arms = {f"{labels.treatment[:1].upper()}{labels.treatment[1:]} n": "n_trt",
        f"{labels.control[:1].upper()}{labels.control[1:]} n": "n_ctl"} if rows.n_trt.notna().any() else {}
for png in o.forest:
    stem = Path(png).stem.removeprefix("forest_")
    if stem == "overall":  # one row per group, then all groups
        draw(png, "All groups", lambda out: summary_forest(
            main, tests, p.measure, out, title=f"All groups by {p.group_by}", sides=sides(effects.index),
            level=p.level, group_by=p.group_by))
    else:
        label = p.groups[stem]
        draw(png, label, lambda out: forest(
            rows[rows.group == label], groups[groups.group == label], p.measure, out, title=label,
            sides=sides(group_of == label), level=p.level, ilab=arms, rob=judgements, tool=tool))
if o.studies:  # large groups: the comparisons of each study combined
    studies = study_rows(effects, weights, p.group_by, p.rho)
    by_study = judged.set_axis(judged.index.astype(str)).reindex(studies["label"]).set_axis(studies.index) \
        if rated else None
for png in o.studies:
    label = p.groups[Path(png).stem.removeprefix("studies_")]
    draw(png, label, lambda out: forest(
        studies[studies.group == label], groups[groups.group == label], p.measure, out, level=p.level,
        title=f"{label}: each study's comparisons combined (rho = {p.rho:g})", sides=sides(group_of == label),
        ilab={"Comparisons": "comparisons", "Animals": "animals"}, header="Study (comparisons combined)",
        rob=by_study, tool=tool))
draw(o.funnel, "Funnel plots", lambda out: funnels(
    effects.assign(group=group_of), funnel_centres(effects, p.group_by, p.method), p.measure, out, level=p.level,
    group_by=p.group_by))
