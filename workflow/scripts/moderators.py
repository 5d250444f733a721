from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import rob
    from premeta.groups.moderators import moderator_analysis
    from premeta.groups.pooling import multiple_testing
    from premeta.groups.common import read_effects
    from premeta.plots import bubble_figure, save
    from premeta.tables import read_csv, write_csv
    from premeta.vocabulary import column_words

p = snakemake.params
out = snakemake.output
# the pseudo-moderator quality_score: each study's share of the tool's items at the best judgement
effects = rob.quality_score_column(read_effects(snakemake.input.effects), rob.tool(p.tool), p.moderators)
primary = read_csv(snakemake.input.primary, dtype={"group": str}, keep_default_na=False, na_values=[""])
res = moderator_analysis(effects, p.moderators, p.group_by, p.method, p.test, p.level, p.permutations, p.seed)
write_csv(res["coefs"], out.coefs)
write_csv(res["models"], out.models)
write_csv(multiple_testing(primary, res["models"]), out.multiple_testing)
for m, png in zip(p.numeric, out.bubble):
    notes = res["models"].loc[res["models"].moderator == m, "note"]
    fig = bubble_figure(res["weights"][res["weights"].moderator == m], res["lines"][res["lines"].moderator == m],
                        column_words(m, p.columns), p.measure, why="; ".join(dict.fromkeys(notes[notes != ""])))
    save(fig, png.removesuffix(".png"))
