"""The ``premeta`` command: what a reviewer does before and around a run."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from premeta.effects import checked, escalc
from premeta.errors import SettingsError, SheetError
from premeta.pairing import FORMATS, LONG
from premeta.rob import TOOLS
from premeta.settings import read_config_file
from premeta.sheet import COLUMNS, DICTIONARY, RULES
from premeta.tables import write_csv
from premeta.vocabulary import MEASURES, ORIENTS, number, plural

VALIDATE_EXAMPLES = """examples:
  premeta validate my_sheet.csv
  premeta validate extraction.xlsx --worksheet Data --measure NMD
  premeta validate my_sheet.csv --group-by tissue --orient raw
  premeta validate my_sheet.csv --risk-of-bias camarades   # the quality_* columns of the checklist
  premeta validate --rules        # every rule checked, and every column

Exit code 0: the sheet can be analysed (what was read is printed); 1: every problem is printed,
each with the file, the spreadsheet row, the column, the value and the rule it breaks."""


TEMPLATE_EXAMPLES = """examples:
  premeta template                      # my_sheet.csv: one row per comparison
  premeta template --format long -o groups.csv   # one row per group; premeta pairs them

Writes the empty sheet (its header) and, beside it, <name>_dictionary.csv: every column and what it
holds. Columns you add are kept as moderators."""

PAIR_EXAMPLES = """examples:
  premeta pair SyRF_export.csv -o comparisons.csv
  premeta pair groups.csv --format long -o comparisons.csv

Writes the comparison sheet (-o) and <name>_pairing.csv beside it: for every input row, what became
of it (paired, control, sham, unpaired, excluded, not used) and why. Check the pairing, edit the
comparisons if needed, and run them as a sheet of their own. Existing files are not overwritten
(they may hold your edits) unless --force is given."""

RUN_EXAMPLES = """examples:
  premeta run
  premeta run --config data=my_sheet.csv measure=NMD method=DL
  premeta run --cores 4 --config data=SyRF_export.csv group_by="Pain model"
  premeta run --configfile config/minocycline.yaml   # a real example, into runs/minocycline/
  premeta run --recover   # after an interrupted run (killed, power loss), once no other run is going on

Runs the workflow of the premeta checkout in the current directory (its Snakefile) with Snakemake,
then prints the report's path. Settings: config/README.md. Jobs an interrupted run left
unfinished are rerun; a working directory it left locked is unlocked with --recover."""


DIFF_EXAMPLES = """examples:
  premeta diff old_run/results results                 # writes changes_comparisons.csv, changes_groups.csv here
  premeta diff runs/2023/results runs/2024/results --out changes/ --group-by mechanism --method REML --test knha

OLD and NEW are the results folders of two runs (effect_sizes.csv and primary.csv at least; pooled.csv,
small_study.csv, multiverse_summary.csv, leave1out.csv are compared where both have them). To compare
two sheets, run each first with the same config (`premeta run`, a workdir each) and compare their
results folders. Comparisons are known by the sheet's `id` column, else by study, outcome, group,
comparison and arm labels, cohort, control group and time; a key shared by two rows is an error."""


def _template(args) -> int:
    columns = COLUMNS if args.format == "wide" else LONG
    out = Path(args.output or ("my_sheet.csv" if args.format == "wide" else "my_groups.csv"))
    dictionary = out.with_name(f"{out.stem}_dictionary.csv")
    if out.suffix.lower() != ".csv":
        print(f"premeta: -o {out}: the sheet is written as CSV: name it .csv (Excel opens it; save it from there as "
              ".xlsx if you prefer a workbook)", file=sys.stderr)
        return 1
    there = [str(f) for f in (out, dictionary) if f.exists()]
    if there and not args.force:
        print(f"premeta: {' and '.join(there)} already exist{'s' if len(there) == 1 else ''}: not overwritten "
              "(it may be a filled-in sheet); choose another name with -o, or replace it with --force",
              file=sys.stderr)
        return 1
    with out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(columns)
    with dictionary.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["column", "meaning"])
        w.writerows(columns.items())
    print(f"wrote {out} ({args.format}: one row per {'comparison' if args.format == 'wide' else 'group'}) "
          f"and {dictionary}")
    return 0


def _fail(error, path) -> int:
    if isinstance(error, SheetError) and not error.file:
        error = SheetError(error.problems, str(path))
    print(f"premeta: {error}", file=sys.stderr)
    return 1


def _pair(args) -> int:
    out = Path(args.output)
    side = out.with_name(f"{out.stem}_pairing.csv")
    if out.suffix.lower() != ".csv":
        print(f"premeta: -o {out}: the comparison sheet is written as CSV: name it .csv", file=sys.stderr)
        return 1
    if Path(args.sheet).exists() and any(f.exists() and f.samefile(args.sheet) for f in (out, side)):
        print(f"premeta: -o {out} would overwrite the sheet being paired, {args.sheet}: choose another name",
              file=sys.stderr)
        return 1
    there = [str(f) for f in (out, side) if f.exists()]
    if there and not args.force:
        print(f"premeta: {' and '.join(there)} already exist{'s' if len(there) == 1 else ''}: not overwritten "
              "(the comparisons may have been checked and edited); choose another name with -o, or replace "
              f"{'it' if len(there) == 1 else 'them'} with --force", file=sys.stderr)
        return 1
    try:
        sheet, pairing, fmt = checked(args.sheet, args.format, args.worksheet, "SMD", "benefit", None)
    except (SheetError, OSError, ValueError) as error:
        return _fail(error, args.sheet)
    if pairing is None:
        return _fail(ValueError(f"{args.sheet}: is already one row per comparison (wide): nothing to pair"),
                     args.sheet)
    write_csv(sheet, out)
    write_csv(pairing, side)
    print(f"{args.sheet} ({fmt}): {_accounting(sheet, pairing)}")
    for line in _set_aside(pairing):
        print(line)
    print(f"wrote {out} ({plural(len(sheet), 'comparison')}) and {side}")
    return 0


def _accounting(sheet, pairing) -> str:
    """Where every row of a group sheet went, e.g. ``12 rows: 3 paired, 3 control, ...; 3 comparisons``."""
    counts = ", ".join(f"{n} {s}" for s, n in pairing["status"].value_counts().items())
    return f"{len(pairing)} rows: {counts}; {plural(len(sheet), 'comparison')} made"


SET_ASIDE = ("unpaired", "excluded", "not used")


def _set_aside(pairing) -> list[str]:
    """One line per row of a group sheet that is in no comparison, with its reason."""
    aside = pairing[pairing["status"].isin(SET_ASIDE)]
    head = [f"{len(aside)} row{'s' if len(aside) != 1 else ''} set aside (in the pairing table):"] if len(aside) else []
    return head + [
        f"  row {r.row} ({r.status}): {r.study}, {r.group!s}, {r.outcome}: {r.detail}" for r in aside.itertuples()]


def _run(args) -> int:
    snakefile = Path(args.snakefile)
    if not snakefile.is_file():
        print(f"premeta: no {snakefile} here: run `premeta run` in a premeta checkout, or give --snakefile",
              file=sys.stderr)
        return 1
    if importlib.util.find_spec("snakemake") is None:
        print("premeta: the workflow needs Snakemake: pip install 'premeta[workflow]'", file=sys.stderr)
        return 1
    try:
        workdir = _workdir(snakefile, args)
    except SettingsError as error:
        print(f"premeta: {error}", file=sys.stderr)
        return 1
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--cores", str(args.cores)]
    if args.configfile:
        cmd += ["--configfile", *args.configfile]
    if args.config:
        cmd += ["--config", *args.config]
    state = workdir / ".snakemake"
    if any((state / "locks").glob("*.lock")):
        if not args.recover:
            print(f"premeta: {workdir.resolve()} is locked: another run is going on there, or one was "
                  "interrupted (killed, power loss) and left its lock. Once no other run is going on (and "
                  "the interrupted run's jobs have ended), run `premeta run --recover` with the same "
                  "settings; it does what `snakemake --unlock` followed by `snakemake --rerun-incomplete` do",
                  file=sys.stderr)
            return 1
        unlock = subprocess.run([*cmd, "--unlock"], check=False, capture_output=True, text=True)
        if unlock.returncode:
            print(unlock.stderr.strip(), file=sys.stderr)
            return unlock.returncode
        print(f"premeta: unlocked {workdir.resolve()} (snakemake --unlock)", flush=True)
    if args.recover or any((state / "incomplete").iterdir() if (state / "incomplete").is_dir() else ()):
        print("premeta: rerunning the jobs an interrupted run left unfinished (snakemake --rerun-incomplete)",
              flush=True)
        cmd.append("--rerun-incomplete")
    done = subprocess.run(cmd, check=False)
    if done.returncode:
        return done.returncode
    print(f"Report: {(workdir / 'results' / 'report.html').resolve()}")
    return 0


def _workdir(snakefile: Path, args) -> Path:
    """The folder the run writes into: ``workdir`` as the workflow resolves the config (each
    --configfile, or without one the workflow's config/config.yaml; then --config), else the
    current directory. A config file that is not plain YAML raises
    :class:`premeta.errors.SettingsError` naming it (Snakemake's message does not)."""
    workdir = None
    for file in map(Path, args.configfile or [snakefile.parent / "config" / "config.yaml"]):
        if file.is_file() or args.configfile:
            workdir = read_config_file(file).get("workdir", workdir)
    for item in args.config or []:
        key, _, value = item.partition("=")
        if key.strip() == "workdir":
            workdir = yaml.safe_load(value)
    return Path(workdir or ".")


def _diff(args) -> int:
    from premeta.groups.changes import compare_runs, read_run

    try:
        old, new = read_run(args.old), read_run(args.new)
        pooled = new.tables.get("pooled")
        method = args.method or (pooled["method"].iloc[0] if pooled is not None and len(pooled) else "REML")
        # a group of one comparison has a z test whatever the config's: NEW's test is any other one
        tests = set(pooled["test"]) - {"z"} if pooled is not None else set()
        test = args.test or (tests.pop() if len(tests) == 1 else "z")
        out = compare_runs(old, new, args.group_by, method, test, args.level)
    except (OSError, ValueError) as error:
        print(f"premeta: {error}", file=sys.stderr)
        return 1
    c, g = out["comparisons"], out["groups"]
    counts = ", ".join(f"{(c['change'] == x).sum()} {x}" for x in ("added", "removed", "changed"))
    print(f"{args.old} -> {args.new}: comparisons {counts}")
    for r in g.itertuples():
        line = f"  {r.group}: {r.change}" + (f" ({r.what})" if r.change == "same comparisons" else "")
        if r.change == "changed" or r.change == "new group":
            line += (f"; k {_num(r.k_old)} -> {_num(r.k_new)}, estimate {_num(r.estimate_old)} -> "
                     f"{_num(r.estimate_new)}")
        if r.influential:
            line += f"; moved most by {r.influential} ({r.influential_shift:+.3g})"
        print(line)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(c, folder / "changes_comparisons.csv")
    write_csv(g, folder / "changes_groups.csv")
    print(f"wrote {folder / 'changes_comparisons.csv'} and {folder / 'changes_groups.csv'}")
    return 0


def _num(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.4g}"


def _rules() -> int:
    """Print every rule of :data:`premeta.sheet.RULES` and every column of :data:`premeta.sheet.DICTIONARY`."""
    width = max(len(r.name) for r in RULES)
    print("Rules, checked in this order (docs/sheet_rules.md):")
    for r in RULES:
        print(f"  {r.name:<{width}}  {r.description}")
    width = max(len(c.name) for c in DICTIONARY)
    print("Columns (docs/data_dictionary.md):")
    for c in DICTIONARY:
        required = c.required and ("required" if c.required == "yes" else f"required {c.required}")
        about = ", ".join(x for x in (c.type, required, c.values, c.unit) if x)
        print(f"  {c.name:<{width}}  {about}: {c.meaning}")
    return 0


def _validate(args) -> int:
    if args.rules:
        return _rules()
    if args.sheet is None:
        print("premeta validate: give the sheet to check (or --rules)", file=sys.stderr)
        return 2
    measure = next((m for m in MEASURES if m.lower() == args.measure.lower()), args.measure)
    try:
        sheet, pairing, fmt = checked(args.sheet, args.format, args.worksheet, measure, args.orient.lower(),
                                      args.group_by, convert_medians=args.convert_medians, tool=args.risk_of_bias)
    except (SheetError, OSError, ValueError) as error:
        return _fail(error, args.sheet)
    groups = sheet[args.group_by].nunique() if args.group_by else None
    print(f"{args.sheet}: OK, read as {sheet.attrs['source'].describe()}"
          + ("" if fmt == "wide" else f" ({fmt} format: {_accounting(sheet, pairing)})"))
    for line in [] if pairing is None else _set_aside(pairing):
        print(line)
    # a split shared control can leave a comparison without an effect size: left out of every model, said here
    left_out = escalc(sheet, measure, args.orient.lower())["omitted"]
    left_out = left_out[left_out != ""]
    print(f"{plural(len(sheet), 'comparison')} from {plural(sheet['study'].nunique(), 'study')}"
          + (f" in {plural(groups, 'group')} of {args.group_by}" if groups else "")
          + (f"; {measure} can be computed for every row" if left_out.empty else
             f"; {measure} can be computed for {number(len(sheet) - len(left_out))} of them, not for "
             f"{number(len(left_out))}:"))
    for row, why in left_out.items():
        where = (f"row {row}" if pairing is None else
                 f"row {str(sheet.at[row, 'source_rows']).split(';')[0]} (comparison {sheet.at[row, 'comparison']!r})")
        print(f"  {where}: {sheet.at[row, 'study']}, {sheet.at[row, 'outcome']}: {why}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="premeta", description="Reproducible meta-analysis of preclinical "
                                  "(rodent) studies. `premeta <command> --help` for each command.")
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    v = sub.add_parser("validate", help="check an extraction sheet and print every problem",
                       description="Read an extraction sheet as the workflow does, check every rule, and "
                       "print every problem at once (nothing is written).",
                       epilog=VALIDATE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("sheet", nargs="?", help="the sheet: .csv, .tsv, .txt, .xlsx, .xlsm or .xls")
    v.add_argument("--rules", action="store_true", help="print every rule checked and every column, and stop")
    v.add_argument("--worksheet", "--sheet", dest="worksheet", action=_Worksheet,
                   help="worksheet of a workbook (name or position from 1); the first by default")
    v.add_argument("--measure", default="SMD", help=f"effect size: {', '.join(MEASURES)} (default SMD)")
    v.add_argument("--orient", default="benefit", help=f"{' or '.join(ORIENTS)} (default benefit: needs `better`)")
    v.add_argument("--group-by", default="mechanism", help="grouping column, never empty (default mechanism)")
    v.add_argument("--format", default="auto", choices=FORMATS, help="sheet format (default: told from the header)")
    v.add_argument("--convert-medians", action="store_true",
                   help="accept medians with quartiles and/or range, as the config's convert_medians: true")
    v.add_argument("--risk-of-bias", default="syrcle", metavar="NAME",
                   help=f"the risk-of-bias or study-quality tool whose columns to check: {', '.join(TOOLS)} "
                   "(default syrcle), as the config's risk_of_bias")
    v.set_defaults(run=_validate)

    t = sub.add_parser("template", help="write an empty sheet and its data dictionary",
                       description="Write an empty extraction sheet and its data dictionary.",
                       epilog=TEMPLATE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--format", default="wide", choices=("wide", "long"),
                   help="wide: one row per comparison (default); long: one row per group")
    t.add_argument("-o", "--output", help="where to write it (default my_sheet.csv, or my_groups.csv for long)")
    t.add_argument("--force", action="store_true", help="overwrite the sheet and its dictionary if they exist")
    t.set_defaults(run=_template)

    p = sub.add_parser("pair", help="turn a SyRF export or one-row-per-group sheet into comparisons",
                       description="Pair each treated group with its control (and sham) and write premeta's "
                       "comparison sheet and the pairing.",
                       epilog=PAIR_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sheet", help="a SyRF quantitative export or a one-row-per-group sheet")
    p.add_argument("-o", "--output", required=True, help="the comparison sheet to write (CSV)")
    p.add_argument("--format", default="auto", choices=FORMATS, help="default: told from the header")
    p.add_argument("--worksheet", "--sheet", dest="worksheet", action=_Worksheet, help="worksheet of a workbook")
    p.add_argument("--force", action="store_true", help="overwrite the comparison sheet and its pairing if they exist")
    p.set_defaults(run=_pair)

    r = sub.add_parser("run", help="run the workflow and print the report's path",
                       description="Run premeta's Snakemake workflow in the current directory.",
                       epilog=RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--configfile", nargs="+", metavar="FILE", help="settings files, as snakemake --configfile "
                   "(e.g. config/minocycline.yaml)")
    r.add_argument("--config", nargs="+", metavar="KEY=VALUE", help="settings, as snakemake --config")
    r.add_argument("--cores", type=int, default=2, help="cores to use (default 2)")
    r.add_argument("--snakefile", default="Snakefile", help="the workflow (default ./Snakefile)")
    r.add_argument("--recover", action="store_true", help="after an interrupted run (killed, power loss): "
                   "unlock the working directory and rerun the jobs it left unfinished; only when no other "
                   "run is going on there")
    r.set_defaults(run=_run)

    d = sub.add_parser("diff", help="what changed from one run to the next (two results folders)",
                       description="Compare two runs' results folders: the comparisons added, removed and "
                       "changed, and per group the change in k, estimate, CI, PI, tau2, Egger's test and the "
                       "multiverse verdict, with how much each added comparison moved its group's estimate.",
                       epilog=DIFF_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("old", help="the previous run's results folder")
    d.add_argument("new", help="this run's results folder")
    d.add_argument("--out", default=".", help="where to write changes_comparisons.csv and changes_groups.csv "
                   "(default: the current folder)")
    d.add_argument("--group-by", default="mechanism", help="the runs' grouping column (default mechanism)")
    d.add_argument("--method", help="tau2 estimator of the added comparisons' leave-one-out (default: NEW's, "
                   "from its pooled.csv, else REML)")
    d.add_argument("--test", choices=("z", "knha", "adhoc"), help="its test (default: NEW's, else z)")
    d.add_argument("--level", type=float, default=95, help="its confidence level in percent (default 95)")
    d.set_defaults(run=_diff)
    return top


class _Worksheet(argparse.Action):
    """``--worksheet``; ``--sheet``, its name in premeta 0.2, still works with a warning."""

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string == "--sheet":
            print("premeta: --sheet is deprecated, use --worksheet", file=sys.stderr)
        setattr(namespace, self.dest, values)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
