"""What premeta raises when it refuses an input, in one place.

Every error names what the reviewer can fix: the file, row, column, value and rule of a sheet
(:class:`SheetError` of :class:`Problem` s), the file of a table that cannot be read
(:class:`ReadError`), the key of a setting (:class:`SettingsError`). :class:`NotComputable` is
the one error the per-group tables turn into a note in a row ("not computed: ..."): a method
raises it when it decides that its input cannot be analysed (too few studies, a degenerate
design, identical effects). Any other exception is a bug and fails the job with its traceback.
"""

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
        n = len(self.problems)
        lines = [f"{where}{n} problem{'s' * (n != 1)} in the extraction sheet:"]
        lines += [f"  {where}{p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ReadError(ValueError):
    """A file that cannot be read as an extraction sheet, said in the reviewer's words."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class SettingsError(ValueError):
    """Settings that cannot be used; the text lists every problem, one a line."""


class NotComputable(ValueError):
    """An input that a method cannot analyse, said in words (e.g. "leave-one-out needs at least
    2 studies"); the per-group tables write the text as the row's ``note``.

    A subclass of :class:`ValueError`, so that code catching ``ValueError`` keeps working.
    ``notes``, where a method fitted to several strata refuses every one of them, maps each
    stratum to its own reason (:func:`premeta.groups.common.attempt_strata` writes them into
    the strata's rows); None otherwise.
    """

    def __init__(self, message: str, notes: dict | None = None):
        super().__init__(message)
        self.notes = notes
