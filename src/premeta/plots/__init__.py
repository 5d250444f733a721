"""Figures: forest and funnel plots in the convention of metafor's ``forest()`` and ``funnel()``,
and the other figures of the report. Each draws the numbers it is given; none fits a model.

- :mod:`premeta.plots.style`: seaborn's theme and palettes, markers, text, :func:`save`,
  :func:`message_figure`
- :mod:`premeta.plots.axes`: what an automatic axis shows (metafor's ``alim``), clipped intervals
- :mod:`premeta.plots.forestplot`: the forest layout engine, :func:`forest`, :func:`summary_forest`
- :mod:`premeta.plots.funnelplot`: :func:`funnel`, :func:`funnels` (one funnel per group)
- :mod:`premeta.plots.panels`: time course, bubble plots, analyses side by side, sunset funnels
  (power), cumulative meta-analysis, the next experiment's power and assurance
- :mod:`premeta.plots.riskofbias`: risk of bias as robvis draws it: :func:`rob_figure` (summary,
  weighted), :func:`rob_traffic_light`, the judgement cells beside the forest plots
- :mod:`premeta.plots.robustness`: GOSH plot, specification curve
- :mod:`premeta.plots.flowchart`: the flow of records, a PRISMA 2020 flow diagram (:func:`flow_figure`)

Every figure function is importable from here: ``from premeta.plots import forest, save``.
"""

from premeta.plots.flowchart import flow_figure
from premeta.plots.forestplot import forest, forest_figure, summary_forest, summary_forest_figure
from premeta.plots.funnelplot import funnel, funnel_figure, funnel_panels_figure, funnels
from premeta.plots.panels import (bubble_figure, comparison_figure, cumulative_figure, next_experiment_figure,
                                  sunset_figure, time_course_figure)
from premeta.plots.riskofbias import rob_figure, rob_traffic_light
from premeta.plots.robustness import gosh_figure, spec_curve_figure
from premeta.plots.style import message_figure, save

__all__ = ["bubble_figure", "comparison_figure", "cumulative_figure", "flow_figure", "forest", "forest_figure",
           "funnel", "funnel_figure", "funnel_panels_figure", "funnels", "gosh_figure", "message_figure",
           "next_experiment_figure", "rob_figure", "rob_traffic_light", "save", "spec_curve_figure",
           "summary_forest", "summary_forest_figure", "sunset_figure", "time_course_figure"]
