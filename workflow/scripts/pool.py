from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    from premeta import escalc
    from premeta.groups.common import effects_as_written
    from premeta.groups.pooling import primary, stratified
    from premeta.effects import checked
    from premeta.tables import write_csv

p = snakemake.params
# the effect sizes computed here, as effect_sizes.csv holds them: this job need not wait for that one
sheet = checked(snakemake.input.sheet, p.format, p.worksheet, p.measure, p.orient, p.group_by, p.shared_control,
                p.convert_medians, p.risk_of_bias)[0]
effects = effects_as_written(escalc(sheet, p.measure, p.orient, p.shared_control))
model = dict(method=p.method, test=p.test, level=p.level)
main = primary(effects, p.group_by, p.dependence, p.rho, rve_model=p.rve_model, shared_control=p.shared_control,
               **model)
out = stratified(effects, group_by=p.group_by, **model)
write_csv(main["table"], snakemake.output.primary)
write_csv(main["weights"], snakemake.output.weights, index=False)
write_csv(out["pooled"], snakemake.output.pooled)
write_csv(out["subgroup_tests"], snakemake.output.tests)
