import os
import sys
from pathlib import Path

from snakemake.io import WILDCARD_REGEX
from snakemake.utils import validate

from premeta.effects import checked
from premeta.errors import ReadError, SettingsError, SheetError
from premeta.groups.changes import read_run
from premeta.groups.flow import read_prisma_counts
from premeta.groups.moderators import numeric_moderators
from premeta.groups.rows import STUDY_LEVEL_K
from premeta.models import METHODS, TESTS
from premeta.pairing import FORMATS
from premeta.rob import quality_score_column, tool
from premeta.settings import problems, read_config_file
from premeta.vocabulary import DEPENDENCE, MEASURES, ORIENTS, SHARED_CONTROL, Labels, file_names, group_labels


# premeta 0.2's name of the worksheet key, still read (with a warning) until 0.4
if "sheet" in config:
    print("premeta: the setting `sheet` is deprecated, use `worksheet`", file=sys.stderr)
    config.setdefault("worksheet", config.pop("sheet"))
# method, measure and test names are accepted in any case (nmd, reml, KNHA)
for key, names in {"measure": MEASURES, "method": METHODS, "test": TESTS, "orient": ORIENTS,
                   "dependence": ("auto", *DEPENDENCE), "format": FORMATS, "shared_control": SHARED_CONTROL, "rve_model": ("CORR", "HIER")}.items():
    if isinstance(config.get(key), str):
        config[key] = next((n for n in names if n.lower() == config[key].lower()), config[key])
# snakemake reads only True and False on the command line as booleans: true, false in any case too
for key in ("convert_medians",):
    if isinstance(config.get(key), str) and config[key].lower() in ("true", "false"):
        config[key] = config[key].lower() == "true"
# every problem of the settings at once, each with its key, value and rule (the risk-of-bias tool's
# too, when its shape is right); then snakemake's validate fills in the defaults
errors = problems(config, read_config_file(workflow.source_path("../schemas/config.schema.yaml")),
                  workflow.config_settings.config, workflow.configfiles)
if not any(e.startswith("key 'risk_of_bias") for e in errors):
    try:
        TOOL = tool(config.get("risk_of_bias", "syrcle"))
    except SettingsError as error:
        errors.append(str(error))
if errors:
    sys.exit(f"premeta: {len(errors)} problem{'s' * (len(errors) != 1)} in the settings (config/README.md describes every key):\n  "
             + "\n  ".join(errors))
validate(config, schema="../schemas/config.schema.yaml")

OUTPUT_FOLDERS = ("results", "logs")


def check_writable():
    """Stop before any job when results/ or logs/ (or, before the first run, the working
    directory that will hold them) cannot be written."""
    for folder in map(Path, OUTPUT_FOLDERS):
        where = folder if folder.is_dir() else Path(".")
        if not os.access(where, os.W_OK | os.X_OK):
            sys.exit(f"premeta: {where.resolve()} is read-only: this run writes {folder}/ there; make it "
                     "writable, or set `workdir` to a folder you can write")


check_writable()


def checked_sheet():
    """The extraction sheet, validated and its effect sizes computed before any job runs: a sheet
    that cannot be read or analysed stops here, before anything is written."""
    if wildcard := WILDCARD_REGEX.search(config["data"]):
        sys.exit(f"premeta: {config['data']}: `data` is an input of the workflow's rules, and Snakemake "
                 f"reads {wildcard[0]} in an input's path as a wildcard (no escape exists for input files); "
                 "rename the sheet, or copy it to a name without braces, and point `data` there")
    data = Path(config["data"]).resolve()
    for folder in OUTPUT_FOLDERS:
        if data.is_relative_to(Path(folder).resolve()):
            sys.exit(f"premeta: {config['data']}: the extraction sheet is inside {folder}/, which premeta "
                     "writes and cleans on every run; copy the sheet elsewhere and point `data` there")
    try:
        sheet, _, fmt = checked(config["data"], config["format"], config.get("worksheet"), config["measure"],
                                config["orient"], config["group_by"], config["shared_control"],
                                config["convert_medians"], TOOL)
    except SheetError as error:
        sys.exit(f"premeta: {error if error.file else SheetError(error.problems, config['data'])}")
    except (OSError, ValueError) as error:
        sys.exit(f"premeta: {error}")
    return sheet, fmt


SHEET, FORMAT = checked_sheet()
# the search and screening counts of the flow of records, read before any job: a bad file stops the run here
if config["prisma_counts"]:
    try:
        read_prisma_counts(config["prisma_counts"])
    except (ReadError, OSError) as error:
        sys.exit(f"premeta: prisma_counts: {error}")
# the previous run's results folder (living reviews: what changed since then), read before any job
if config["previous"]:
    if Path(config["previous"]).resolve() == Path("results").resolve():
        sys.exit(f"premeta: previous: {config['previous']} is this run's own results folder, which it rewrites; "
                 "copy the previous run's results elsewhere and point `previous` there")
    try:
        read_run(config["previous"])
    except (ReadError, OSError) as error:
        sys.exit(f"premeta: previous: {error}")
# the names of the arms in every figure and text: the config's, else (SyRF export, long sheet) what the groups were given
config["labels"] = vars(Labels.from_sheet(config, SHEET))
# the comparison sheet the analysis reads: the data itself, or its pairing (SyRF export, long sheet)
PAIRED = [] if FORMAT == "wide" else [f"results/sheet_from_{FORMAT}.csv", "results/pairing.csv"]
# file-name stem -> the sheet's label of each group ('overall' names the all-groups plot)
GROUPS = {stem: label for label, stem in file_names(group_labels(SHEET, config["group_by"]).dropna().unique()).items()}
# file-name stems of the forest plots: one per group and the all-groups figure
FOREST_STEMS = sorted(GROUPS) + ["overall"]
# file-name stems of the groups large enough for a study-level forest plot as well
STUDY_LEVEL = sorted(s for s, n in group_labels(SHEET, config["group_by"]).map(
    {label: stem for stem, label in GROUPS.items()}).value_counts().items() if n > STUDY_LEVEL_K)
NUMERIC_MODERATORS = numeric_moderators(quality_score_column(SHEET, TOOL, config["moderators"]), config["moderators"])
# moderator -> file-name stem of its bubble plot
BUBBLES = file_names(NUMERIC_MODERATORS, reserved=())
WEEKS_OUTPUTS = (
    [
        "results/time_course_weeks.csv",
        "results/plots/time_course_weeks.png",
        "results/plots/time_course_weeks.svg",
    ]
    if numeric_moderators(SHEET, ["weeks"])
    else []
)


def missing_columns(analysis):
    """Why an analysis switched on cannot run on this sheet ('' when it can)."""
    if analysis == "time_course" and "time" not in SHEET:
        return "the sheet has no time column"
    if analysis == "sex" and ("sex" not in SHEET or SHEET["sex"].isna().all()):
        return "the sheet has no sex column"
    if analysis == "sex" and (absent := [c for c in config["sex_match"] if c not in SHEET]):
        return f"`sex_match` names columns the sheet does not have: {', '.join(absent)}"
    if analysis == "risk_of_bias" and not any(c in SHEET for c in TOOL.columns):
        return f"the sheet has none of the columns of {TOOL.label} ({', '.join(TOOL.columns)})"
    if analysis == "moderators" and not any(m in quality_score_column(SHEET, TOOL, config["moderators"])
                                            for m in config["moderators"]):
        return "none of the moderators of the config is a column of the sheet"
    return ""


SKIPPED = {a: why for a in config["analyses"] if (why := missing_columns(a))}
RUN_ANALYSES = [a for a in config["analyses"] if a not in SKIPPED]


def analysis_outputs(wildcards):
    """The outputs of the further analyses switched on in config `analyses` that can run (each
    analysis is the rule of its name)."""
    return [str(f) for a in RUN_ANALYSES for f in getattr(rules, a).output]


def this_run():
    """Every file this run writes under results/."""
    names = ("effect_sizes", "pool", "flow", "figures", "report") + (("changes",) if config["previous"] else ())
    own = {str(f) for name in names for f in getattr(rules, name).output}
    chunks = MULTIVERSE_CHUNKS if "multiverse" in RUN_ANALYSES else []  # the multiverse's intermediate files
    return own | set(analysis_outputs(None)) | set(PAIRED) | set(chunks)


def remove_stale(keep):
    """Delete what an earlier run left in results/ that this run does not write (another sheet's
    groups, an analysis switched off), so that no reader takes it for this run's output."""
    for path in sorted(Path("results").rglob("*"), reverse=True):
        if path.is_file() and str(path) not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


onstart:
    # onstart runs only when there are jobs, and every job is upstream of the report: the report of
    # an earlier run (another sheet, or a run killed before it ended) goes before any table is rewritten
    Path("results/report.html").unlink(missing_ok=True)
    remove_stale(this_run())


onerror:
    # a failed run leaves no report beside tables it does not describe
    Path("results/report.html").unlink(missing_ok=True)
