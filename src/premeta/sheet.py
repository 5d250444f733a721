"""Reading and validating extraction sheets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: the spreadsheet row, the column, the offending value and the rule."""

    row: object
    column: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"row {self.row}, column '{self.column}', value {self.value!r}: {self.rule}"


class SheetError(ValueError):
    """Every problem found in a sheet, reported at once."""

    def __init__(self, problems: list[Problem], file: str | None = None):
        self.problems, self.file = list(problems), file
        where = f"{file}: " if file else ""
        lines = [f"{where}{len(self.problems)} problem(s) in the extraction sheet:"]
        lines += [f"  {where}{p}" for p in self.problems]
        super().__init__("\n".join(lines))
