"""Risk of bias and study quality: the tools (items, their columns and judgements), tables and subsets.

A *tool* is a list of *items*; each item is a column of the sheet (one judgement per row, the
study's judgement the worst of its rows) with its label and its allowed judgements ordered from
the best to the worst. The default is SYRCLE's risk of bias tool (Hooijmans et al. 2014, BMC Med
Res Methodol 14:43): ten items judged ``low``, ``unclear`` or ``high`` risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from premeta.errors import SettingsError


@dataclass(frozen=True)
class Item:
    """One item of a tool.

    Attributes
    ----------
    column : str
        The sheet's column of the judgements.
    label : str
        The item's name in tables, figures and the report.
    values : tuple of str
        The allowed judgements, from the best (e.g. ``"low"`` risk, ``"yes"``: reported) to the worst.
    """

    column: str
    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    """A risk-of-bias or study-quality tool: its name, label and items (:class:`Item`).

    ``checklist`` is true for a study-quality checklist (each item met or not, e.g.
    :data:`CAMARADES`): its overall judgement is the number of items met (:func:`overall`), not the
    worst item.
    """

    name: str
    label: str
    items: tuple[Item, ...]
    checklist: bool = False

    @property
    def columns(self) -> list[str]:
        """The items' columns, in the tool's order."""
        return [i.column for i in self.items]

    @property
    def labels(self) -> dict[str, str]:
        """Column -> label of every item."""
        return {i.column: i.label for i in self.items}

    def item(self, column: str) -> Item:
        """The item of ``column``."""
        return next(i for i in self.items if i.column == column)


LEVELS = ("low", "unclear", "high")
#: SYRCLE's risk of bias tool, its ten items in the paper's order (Table 2).
SYRCLE = Tool("syrcle", "SYRCLE risk of bias", tuple(Item(c, label, LEVELS) for c, label in {
    "rob_sequence": "Sequence generation",
    "rob_baseline": "Baseline characteristics",
    "rob_allocation": "Allocation concealment",
    "rob_housing": "Random housing",
    "rob_blinding_caregivers": "Blinding (caregivers, investigators)",
    "rob_random_assessment": "Random outcome assessment",
    "rob_blinding_assessor": "Blinding (outcome assessor)",
    "rob_incomplete_data": "Incomplete outcome data",
    "rob_selective_reporting": "Selective outcome reporting",
    "rob_other": "Other sources of bias",
}.items()))
#: The CAMARADES study-quality checklist (Macleod et al. 2004, Stroke 35:1203), ten items each met
#: (``yes``: reported) or not (``no``), in the order and words of reviews that quote it (see
#: :data:`CAMARADES_SOURCES`); its items 2, 4, 6 and 7 were written for experimental stroke.
CAMARADES = Tool("camarades", "CAMARADES study quality checklist", tuple(Item(c, label, ("yes", "no")) for c, label in {
    "quality_peer_review": "Peer-reviewed publication",
    "quality_temperature": "Control of temperature",
    "quality_randomisation": "Random allocation to treatment or control",
    "quality_blinded_induction": "Blinded induction of the model (allocation concealment)",
    "quality_blinded_assessment": "Blinded assessment of outcome",
    "quality_anaesthetic": "Anaesthetic without intrinsic neuroprotective activity",
    "quality_comorbidity": "Animals with relevant comorbidities",
    "quality_sample_size": "Sample size calculation",
    "quality_animal_welfare": "Compliance with animal welfare regulations",
    "quality_conflict_of_interest": "Statement of potential conflict of interest",
}.items()), checklist=True)
#: Where the words of :data:`CAMARADES` were checked (Macleod et al. 2004 itself was not readable).
CAMARADES_SOURCES = (
    "the ten items, numbered in this order, in the legend of Table 2 of PMC9213726 "
    "(https://pmc.ncbi.nlm.nih.gov/articles/PMC9213726/table/T2): peer-reviewed publication; statements "
    "describing control of temperature; randomization to treatment group; allocation concealment; blinded "
    "assessment of outcome; use of anesthetic with no apparent intrinsic (myocardial or) neuroprotective effect; "
    "use of animals with relevant comorbidities; sample size calculation; compliance with animal welfare "
    "regulations; declared any potential conflict of interest",
    "the same ten as the original CAMARADES tool in a protocol that adapts it "
    "(https://cn.bio-protocol.org/bio101/r10074045): randomization, blinding of outcome assessment, blinding of "
    "induction, comorbidities, temperature control, anesthesia agents, conflict of interest, sample size, "
    "peer-reviewed publications, animal welfare",
)
#: The built-in tools by name, the values of the config's ``risk_of_bias``.
TOOLS = {t.name: t for t in (SYRCLE, CAMARADES)}
#: SYRCLE's items, column -> label.
ITEMS = SYRCLE.labels
#: Items a study must be at low risk on to enter the "low risk of bias" sensitivity analysis:
#: random allocation and blinded outcome assessment, the two CAMARADES reviews rely on most.
KEY_ITEMS = ("rob_sequence", "rob_blinding_assessor")


def per_study(sheet: pd.DataFrame, tool: Tool = SYRCLE) -> pd.DataFrame:
    """One row per study with its judgement on each item of ``tool`` present in the sheet.

    A study whose rows disagree on an item gets the worst judgement of its rows (the item's last
    value first: high over unclear over low), so a reviewer's inconsistency never makes a study
    look better.
    """
    items = [i for i in tool.items if i.column in sheet]

    def worst(values: pd.Series, item: Item):
        rank = {v: j for j, v in enumerate(item.values)}
        return max(values.dropna(), key=rank.get, default=pd.NA)

    grouped = sheet.groupby("study", sort=True)
    return pd.DataFrame({i.column: grouped[i.column].agg(worst, item=i) for i in items},
                        index=grouped.size().index)


def summary(studies: pd.DataFrame, tool: Tool = SYRCLE) -> pd.DataFrame:
    """Share (percent) of studies at each judgement of each item (rows in the tool's order)."""
    items = [tool.item(c) for c in studies]
    values = list(dict.fromkeys(v for i in items or tool.items for v in i.values))
    out = pd.DataFrame({v: [100 * (studies[i.column] == v).mean() for i in items] for v in values},
                       index=pd.Index([i.label for i in items], name="item"))
    out["studies"] = [int(studies[i.column].notna().sum()) for i in items]
    return out


def low_risk(effects: pd.DataFrame, studies: pd.DataFrame, items=KEY_ITEMS) -> pd.DataFrame:
    """The comparisons of studies at low risk of bias on every one of ``items``."""
    items = [c for c in items if c in studies]
    keep = studies.index[(studies[items] == "low").all(axis=1)] if items else studies.index[:0]
    return effects[effects["study"].isin(keep)]


def tool(spec="syrcle") -> Tool:
    """The tool the config's ``risk_of_bias`` names or lists.

    Parameters
    ----------
    spec : str, list of dict or Tool
        A built-in tool's name, whatever its case (:data:`TOOLS`: ``syrcle``, the default, or
        ``camarades``); or a list of items, each a mapping with ``column`` (the sheet's column),
        ``label`` (its name in tables and figures) and ``values`` (the allowed judgements, from the
        best to the worst, at least 2); or a :class:`Tool`, returned as it is.

    Returns
    -------
    Tool
        A listed tool is named ``custom`` and judged as a risk-of-bias tool (:func:`overall`: the
        worst item).

    Raises
    ------
    premeta.errors.SettingsError
        Naming the key ``risk_of_bias``, the value and the rule it breaks (every problem at once).

    Examples
    --------
    >>> from premeta import rob
    >>> rob.tool("CAMARADES").columns[:2]
    ['quality_peer_review', 'quality_temperature']
    >>> rob.tool([{"column": "rob_blinding", "label": "Blinding", "values": ["low", "high"]}]).labels
    {'rob_blinding': 'Blinding'}
    """
    if isinstance(spec, Tool):
        return spec
    if isinstance(spec, str):
        if spec.lower() in TOOLS:
            return TOOLS[spec.lower()]
        raise SettingsError(f"key 'risk_of_bias', value {spec!r}: must be one of {', '.join(TOOLS)} "
                            "or a list of items (column, label, values)")
    if not isinstance(spec, (list, tuple)) or not spec:
        raise SettingsError(f"key 'risk_of_bias', value {spec!r}: must be one of {', '.join(TOOLS)} "
                            "or a non-empty list of items (column, label, values)")
    problems, items = [], []
    for i, entry in enumerate(spec):
        key = f"key 'risk_of_bias[{i}]', value {entry!r}"
        if not isinstance(entry, dict):
            problems.append(f"{key}: must be a mapping with column, label and values")
            continue
        unknown, missing = sorted(set(entry) - {"column", "label", "values"}), [
            k for k in ("column", "label", "values") if k not in entry]
        if unknown or missing:
            problems.append(f"{key}: " + "; ".join(
                ([f"{', '.join(map(str, unknown))} not an item's key"] if unknown else [])
                + ([f"{', '.join(missing)} missing"] if missing else []))
                + " (an item has column, label and values)")
            continue
        column, label, values = entry["column"], entry["label"], entry["values"]
        why = []
        if not isinstance(column, str) or not column.strip():
            why.append("column must be a column name (text)")
        if not isinstance(label, str) or not label.strip():
            why.append("label must be text")
        if (not isinstance(values, (list, tuple)) or len(values) < 2
                or not all(isinstance(v, str) and v.strip() for v in values)):
            why.append("values must be a list of at least 2 judgements (text), the best first")
        elif len({v.strip().lower() for v in values}) < len(values):
            why.append("values must not name a judgement twice (whatever the case)")
        if why:
            problems.append(f"{key}: " + "; ".join(why))
            continue
        items.append(Item(column.strip(), label.strip(), tuple(v.strip().lower() for v in values)))
    seen = [i.column for i in items]
    problems += [f"key 'risk_of_bias', value {spec!r}: the column {c!r} is listed twice"
                 for c in sorted({c for c in seen if seen.count(c) > 1})]
    if problems:
        raise SettingsError("; ".join(problems))
    return Tool("custom", "Risk of bias", tuple(items))


#: How :func:`overall` judges a study on a risk-of-bias tool, as the figures and the report state it.
OVERALL_RULE = "the worst judgement over the items rated (the worst-domain rule of RoB 2; SYRCLE defines none)"


def overall(studies: pd.DataFrame, tool: Tool = SYRCLE) -> pd.Series:
    """One overall judgement per study.

    A risk-of-bias tool (SYRCLE, a tool listed in the config): the worst judgement over the items
    rated (the last of an item's values first), the worst-domain rule of RoB 2 (Sterne et al.
    2019, BMJ 366:l4898) and of robvis's overall column (McGuinness & Higgins 2021, Res Synth
    Methods 12:55); SYRCLE defines no overall judgement, so this is premeta's rule, stated in the
    report. Items rated on different scales are ranked by their position in each item's values,
    worst last. A checklist (:data:`CAMARADES`): the number of items met out of the items rated,
    e.g. ``"7/10"``, as CAMARADES reviews report the quality score (:func:`quality_score`). A study
    rated on no item has no judgement (missing).

    Parameters
    ----------
    studies : DataFrame
        As from :func:`per_study`: index study, one column per item of ``tool``.
    tool : Tool
        The tool (:func:`tool`).

    Returns
    -------
    Series
        Named ``overall``, indexed by study.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import rob
    >>> studies = pd.DataFrame({"rob_sequence": ["low", "unclear"], "rob_other": ["low", "high"]},
    ...                        index=pd.Index(["a", "b"], name="study"))
    >>> rob.overall(studies).tolist()
    ['low', 'high']
    """
    items = [tool.item(c) for c in studies if c in tool.columns]
    if tool.checklist:
        score = quality_score(studies, tool)
        text = score["met"].astype("Int64").astype(str) + "/" + score["rated"].astype(str)
        return text.where(score["rated"] > 0).rename("overall")
    # the worst position over the items, as a fraction of each item's scale (0 best, 1 worst)
    rank = pd.DataFrame({i.column: studies[i.column].map({v: j / (len(i.values) - 1) for j, v in
                                                          enumerate(i.values)}) for i in items}, index=studies.index)
    worst = rank.idxmax(axis=1, skipna=True) if items and rank.notna().any().any() else None
    out = pd.Series(pd.NA, index=studies.index, dtype=object, name="overall")
    if worst is not None:
        rated = rank.notna().any(axis=1)
        out[rated] = [studies.at[s, worst[s]] for s in studies.index[rated]]
    return out


def quality_score(studies: pd.DataFrame, tool: Tool = SYRCLE) -> pd.DataFrame:
    """Each study's quality score: the share of the items rated on which it has the best judgement.

    ``quality_score = met / rated``: ``met`` the items at their best value (``low`` risk of bias,
    ``yes`` of a checklist), ``rated`` the items of ``tool`` with a judgement; from 0 to 1, so
    that a study not rated on every item is on the same scale (CAMARADES reviews count the items
    met out of 10, Macleod et al. 2004; with every item rated the score is that count over the
    number of items). As a moderator (the config's ``moderators: [quality_score]``) its
    meta-regression slope is the change in effect from no item to every item met, metafor
    ``rma(yi, vi, mods = ~ quality_score)``.

    Parameters
    ----------
    studies : DataFrame
        As from :func:`per_study`.
    tool : Tool
        The tool (:func:`tool`).

    Returns
    -------
    DataFrame
        Index study; ``met``, ``rated`` (whole numbers) and ``quality_score`` (NaN when no item is rated).

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import rob
    >>> studies = pd.DataFrame({"rob_sequence": ["low", "unclear"], "rob_other": ["low", None]},
    ...                        index=pd.Index(["a", "b"], name="study"))
    >>> rob.quality_score(studies)
           met  rated  quality_score
    study
    a        2      2            1.0
    b        0      1            0.0
    """
    items = [tool.item(c) for c in studies if c in tool.columns]
    met = sum(((studies[i.column] == i.values[0]).astype(int) for i in items), pd.Series(0, index=studies.index))
    rated = sum((studies[i.column].notna().astype(int) for i in items), pd.Series(0, index=studies.index))
    return pd.DataFrame({"met": met, "rated": rated, "quality_score": met / rated.where(rated > 0)},
                        index=studies.index)


def study_weights(effects: pd.DataFrame, weights: pd.DataFrame) -> pd.Series:
    """Each study's weight in the primary model over every comparison: the sum of its comparisons'
    ``weight_overall`` (percent; ``results/weights.csv``, matched on ``row``), metafor
    ``tapply(weights(fit), study, sum)``. A comparison the model left out weighs 0; a study all of
    whose comparisons have no weight (no overall model) is missing.

    Parameters
    ----------
    effects : DataFrame
        ``study`` of every comparison and its ``row`` (a column, else the index, as
        :func:`premeta.groups.common.read_effects` reads ``effect_sizes.csv``).
    weights : DataFrame
        ``row`` and ``weight_overall`` (``weights.csv``, :func:`premeta.primary`'s ``weights``).

    Returns
    -------
    Series
        Named ``weight``, indexed by study (sorted).
    """
    rows = effects["row"].to_numpy() if "row" in effects.columns else effects.index.to_numpy()
    w = pd.DataFrame({"row": rows, "study": effects["study"].to_numpy()}).merge(
        weights[["row", "weight_overall"]].reset_index(drop=True), on="row", how="left")
    return w.groupby("study", sort=True)["weight_overall"].sum(min_count=1).rename("weight")


def weighted_summary(studies: pd.DataFrame, weights: pd.Series, tool: Tool = SYRCLE) -> pd.DataFrame:
    """The share of studies and of the meta-analytic weight at each judgement of each item.

    For item j and judgement v, over the studies rated on j (R_j):
    ``share_studies = 100 · #{s ∈ R_j: v} / #R_j`` and
    ``share_weight = 100 · Σ_{s ∈ R_j: v} w_s / Σ_{s ∈ R_j} w_s``, with ``w_s`` the study's weight
    in the primary model over every comparison (:func:`study_weights`): robvis
    ``rob_summary(data, tool = "Generic", weighted = TRUE)`` (McGuinness & Higgins 2021), whose bars
    are these shares; metafor ``tapply(weights(fit), judgement, sum)`` over the studies. A study
    without a weight counts as 0; ``share_weight`` is NaN when the rated studies have no weight.

    Parameters
    ----------
    studies : DataFrame
        As from :func:`per_study`.
    weights : Series
        Each study's weight (any scale), indexed by study.
    tool : Tool
        The tool (:func:`tool`).

    Returns
    -------
    DataFrame
        One row per item (in the tool's order) and judgement (best first): ``item`` (its label),
        ``judgement``, ``studies`` (how many), ``share_studies`` and ``share_weight`` (percent).

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import rob
    >>> studies = pd.DataFrame({"rob_sequence": ["low", "high", "low"]},
    ...                        index=pd.Index(["a", "b", "c"], name="study"))
    >>> weights = pd.Series([50.0, 30.0, 20.0], index=["a", "b", "c"])
    >>> rob.weighted_summary(studies, weights)
                      item judgement  studies  share_studies  share_weight
    0  Sequence generation       low        2      66.666667          70.0
    1  Sequence generation   unclear        0       0.000000           0.0
    2  Sequence generation      high        1      33.333333          30.0
    """
    w = weights.reindex(studies.index).astype(float).fillna(0.0).to_numpy()
    rows = []
    for item in (tool.item(c) for c in tool.columns if c in studies):
        judged = studies[item.column].to_numpy(object)
        rated = pd.notna(judged)
        total = w[rated].sum()
        for v in item.values:
            at = rated & (judged == v)
            rows.append({"item": item.label, "judgement": v, "studies": int(at.sum()),
                         "share_studies": 100 * at.sum() / rated.sum() if rated.any() else np.nan,
                         "share_weight": 100 * w[at].sum() / total if total > 0 else np.nan})
    return pd.DataFrame(rows, columns=["item", "judgement", "studies", "share_studies", "share_weight"])


#: The pseudo-moderator of the config's ``moderators``: each study's :func:`quality_score`.
QUALITY_SCORE = "quality_score"


def quality_score_column(effects: pd.DataFrame, tool: Tool = SYRCLE, moderators=(QUALITY_SCORE,)) -> pd.DataFrame:
    """``effects`` with a ``quality_score`` column, each comparison its study's :func:`quality_score`
    (from the tool's columns present), when ``moderators`` names it; else ``effects`` as it is. A
    sheet with a ``quality_score`` column of its own keeps it; a sheet without any of the tool's
    columns gets none.

    Parameters
    ----------
    effects : DataFrame
        One row per comparison, with ``study`` and the tool's columns.
    tool : Tool
        The tool (:func:`tool`).
    moderators : sequence of str
        The config's ``moderators``.

    Returns
    -------
    DataFrame
        A copy with the column, or ``effects``.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import rob
    >>> effects = pd.DataFrame({"study": ["a", "a", "b"], "rob_sequence": ["low", "low", "high"],
    ...                         "rob_other": ["low", "unclear", "low"]})
    >>> rob.quality_score_column(effects)["quality_score"].tolist()
    [0.5, 0.5, 0.5]
    """
    if QUALITY_SCORE not in moderators or QUALITY_SCORE in effects or not any(c in effects for c in tool.columns):
        return effects
    score = quality_score(per_study(effects, tool), tool)[QUALITY_SCORE]
    return effects.assign(**{QUALITY_SCORE: effects["study"].map(score).astype(float)})
