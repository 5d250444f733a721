from _job import start

with start(snakemake):  # the log; the imports uncollected (_job.py)
    import pandas as pd

    from premeta.groups.pooling import dependence_estimates, rho_sensitivity
    from premeta.groups.common import read_effects
    from premeta.plots import comparison_figure, save
    from premeta.tables import read_csv, write_csv

p, i = snakemake.params, snakemake.input
effects = read_effects(i.effects)
text = dict(dtype={"group": str}, keep_default_na=False, na_values=[""])
main = read_csv(i.primary, **text)
mode = main.dependence.iloc[0]  # the primary analysis' (dependence: auto resolved)
rhos = (rho_sensitivity(effects, p.group_by, p.level, p.rve_model) if mode == "rve" and p.rve_model == "CORR" else
        pd.DataFrame({"note": ["the sensitivity to rho is computed for dependence: rve with rve_model: CORR; "
                               + ("this run's HIER working model has no rho" if mode == "rve" else
                                  f"this run's primary analysis is dependence: {mode}")]}))
write_csv(rhos, snakemake.output.rho)
estimates = dependence_estimates(read_csv(i.pooled, **text), main)
save(comparison_figure(estimates, p.measure), snakemake.output.png.removesuffix(".png"))
