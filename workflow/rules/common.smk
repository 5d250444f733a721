import sys

from snakemake.utils import validate

from premeta.analysis import numeric_moderators, slug
from premeta.sheet import COLUMNS, SheetError, read_sheet
from premeta.sheet import validate as validate_sheet


validate(config, schema="../schemas/config.schema.yaml")


def checked_sheet():
    """The extraction sheet, validated before any job runs: an invalid sheet stops here."""
    try:
        sheet = read_sheet(config["data"])
        return validate_sheet(sheet, config["data"], config["measure"], config["orient"])
    except (SheetError, OSError, ValueError) as error:
        sys.exit(f"premeta: {error}")


SHEET = checked_sheet()
GROUPS = {slug(g): g for g in SHEET[config["group_by"]].dropna().unique()}
NUMERIC_MODERATORS = numeric_moderators(SHEET, config["moderators"])
WEEKS_OUTPUTS = (
    [
        "results/time_course_weeks.csv",
        "results/plots/time_course_weeks.png",
        "results/plots/time_course_weeks.svg",
    ]
    if numeric_moderators(SHEET, ["weeks"])
    else []
)


wildcard_constraints:
    group="|".join(sorted(GROUPS) + ["overall"]),


def group_label(wildcards):
    """The sheet's own label of a group slug ('overall' for the all-groups plot)."""
    return GROUPS.get(wildcards.group, "overall")


ANALYSIS_OUTPUTS = {
    "dependence": [
        "results/dependence.csv",
        "results/dependence_choice.csv",
        "results/plots/dependence.png",
    ],
    "risk_of_bias": [
        "results/rob_studies.csv",
        "results/rob_summary.csv",
        "results/rob_strata.csv",
        "results/plots/rob_summary.png",
    ],
    "time_course": [
        "results/time_course.csv",
        "results/time_regression.csv",
        "results/plots/time_course.png",
    ]
    + WEEKS_OUTPUTS[:2],
    "small_study": ["results/small_study.csv", "results/plots/funnel_n.png"],
    "sensitivity": ["results/leave1out.csv", "results/influence.csv"],
    "moderators": [
        "results/moderators.csv",
        "results/moderator_tests.csv",
        "results/multiple_testing.csv",
    ]
    + [f"results/plots/bubble_{m}.png" for m in NUMERIC_MODERATORS],
}


def missing_columns(analysis):
    """Why an analysis switched on cannot run on this sheet ('' when it can)."""
    if analysis == "time_course" and "time" not in SHEET:
        return "the sheet has no time column"
    if analysis == "risk_of_bias" and not any(c.startswith("rob_") for c in SHEET):
        return "the sheet has no rob_* (SYRCLE) columns"
    if analysis == "moderators" and not any(m in SHEET for m in config["moderators"]):
        return "none of the moderators of the config is a column of the sheet"
    return ""


SKIPPED = {a: why for a in config["analyses"] if (why := missing_columns(a))}


def analysis_outputs(wildcards):
    """The outputs of the further analyses switched on in config `analyses` that can run."""
    return [f for a in config["analyses"] if a not in SKIPPED for f in ANALYSIS_OUTPUTS[a]]
