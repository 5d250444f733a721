"""The ``premeta`` command: what a reviewer does before and around a run."""

from __future__ import annotations

import argparse
import sys

from premeta.effects import MEASURES, ORIENTS, escalc
from premeta.sheet import SheetError, read_sheet, validate

VALIDATE_EXAMPLES = """examples:
  premeta validate my_sheet.csv
  premeta validate extraction.xlsx --sheet Data --measure NMD
  premeta validate my_sheet.csv --group-by tissue --orient raw

Exit code 0: the sheet can be analysed (what was read is printed); 1: every problem is printed,
each with the file, the spreadsheet row, the column, the value and the rule it breaks."""


def _validate(args) -> int:
    measure = next((m for m in MEASURES if m.lower() == args.measure.lower()), args.measure)
    try:
        raw = read_sheet(args.sheet, args.sheet_name)
        sheet = validate(raw, args.sheet, measure, args.orient.lower(), args.group_by)
        escalc(sheet, measure, args.orient.lower())
    except SheetError as error:
        print(f"premeta: {error if error.file else SheetError(error.problems, args.sheet)}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"premeta: {error}", file=sys.stderr)
        return 1
    groups = sheet[args.group_by].nunique() if args.group_by else None
    print(f"{args.sheet}: OK, read as {raw.attrs['source'].describe()}")
    print(f"{len(sheet)} comparisons from {sheet['study'].nunique()} studies"
          + (f" in {groups} groups of {args.group_by}" if groups else "") + f"; {measure} can be computed for every row")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="premeta", description="Reproducible meta-analysis of preclinical "
                                  "(rodent) studies. `premeta <command> --help` for each command.")
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    v = sub.add_parser("validate", help="check an extraction sheet and print every problem",
                       description="Read an extraction sheet as the workflow does, check every rule, and "
                       "print every problem at once (nothing is written).",
                       epilog=VALIDATE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("sheet", help="the sheet: .csv, .tsv, .txt, .xlsx, .xlsm or .xls")
    v.add_argument("--sheet", dest="sheet_name", metavar="WORKSHEET",
                   help="worksheet of a workbook (name or position from 1); the first by default")
    v.add_argument("--measure", default="SMD", help=f"effect size: {', '.join(MEASURES)} (default SMD)")
    v.add_argument("--orient", default="benefit", help=f"{' or '.join(ORIENTS)} (default benefit: needs `better`)")
    v.add_argument("--group-by", default="mechanism", help="grouping column, never empty (default mechanism)")
    v.set_defaults(run=_validate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
