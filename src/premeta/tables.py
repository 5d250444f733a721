"""Result tables that open safely in a spreadsheet, and read back exactly.

Every CSV the workflow writes goes through :func:`write_csv`: a text cell that a spreadsheet
would run as a formula (CSV or formula injection: a study named ``=HYPERLINK(...)``) is written
with a leading single quote, as OWASP advises. :func:`read_csv` strips that quote again, so the
workflow's own scripts and the report see every label exactly as the sheet has it.

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP): ``=``, ``+``,
#: ``-``, ``@``, tab and carriage return.
TRIGGERS = "=+-@\t\r"
#: The prefix that makes a spreadsheet show such a cell as text.
PREFIX = "'"
# A cell to prefix: any run of quotes (none included), then a trigger character.
_DANGEROUS = re.compile(rf"{PREFIX}*[{re.escape(TRIGGERS)}]")
# A cell written by neutralise_cell with its prefix: one or more quotes, then a trigger character.
_PREFIXED = re.compile(rf"{PREFIX}+[{re.escape(TRIGGERS)}]")
# A plain decimal number, as a spreadsheet reads it: -1.5, +3, -.5, 2e-3 (no spaces, no formula).
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: object) -> object:
    """``value`` made safe for a spreadsheet: text starting with a formula character gets a ``'``.

    Parameters
    ----------
    value : object
        One cell. Anything but a ``str`` (numbers, NaN, None, booleans) is returned as is.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is text whose first character is one of :data:`TRIGGERS`
        (``=``, ``+``, ``-``, ``@``, tab, carriage return), or that starts with one or more ``'``
        followed by one of them; otherwise ``value`` unchanged.

    Notes
    -----
    OWASP's CSV-injection guidance is to prefix any cell starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return with a single quote, so that the spreadsheet shows it as text instead
    of running it (``=HYPERLINK(...)``, ``+1+1``, ``@SUM(A1)``, ``\\t=1``).

    One exception, on purpose: text that is a plain decimal number (``-1.5``, ``+3``, ``-.5``,
    ``-2e-3``, nothing else in the cell) is left as is. A spreadsheet reads it as that number, not
    as a formula, so there is nothing to run; prefixing it would turn a group labelled ``-7`` (a
    numeric ``group_by`` such as ``time``) into text for every reader. ``-1+2``, ``-cmd`` or
    ``- 1`` are not plain numbers and are prefixed.

    Text already starting with ``'`` followed by a trigger (``'=x``, ``''-y``) is prefixed too,
    so that :func:`restore_cell`, which removes exactly one ``'`` from a cell of that form, gives
    back every value exactly.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection

    Examples
    --------
    >>> neutralise_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> neutralise_cell("-1.5"), neutralise_cell(-1.5), neutralise_cell("Cytokines")
    ('-1.5', -1.5, 'Cytokines')
    """
    if isinstance(value, str) and _DANGEROUS.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return PREFIX + value
    return value


def restore_cell(value: object) -> object:
    """The inverse of :func:`neutralise_cell`: one leading ``'`` removed from a cell it prefixed.

    Parameters
    ----------
    value : object
        One cell as read from a CSV written by :func:`write_csv`.

    Returns
    -------
    object
        ``value`` without its first character when it is text made of one or more ``'`` followed
        by one of :data:`TRIGGERS`; otherwise ``value`` unchanged.
    """
    if isinstance(value, str) and _PREFIXED.match(value):
        return value[len(PREFIX):]
    return value


def _is_text(values) -> bool:
    """Whether a column or index may hold text cells (numbers and booleans are never touched)."""
    dtype = values.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype))


def _map_column(values: pd.Series, cell) -> pd.Series:
    if not _is_text(values):
        return values
    return values.astype(object).map(cell)


def _map_index(index: pd.Index, cell) -> pd.Index:
    names = [cell(n) for n in index.names]
    if isinstance(index, pd.MultiIndex):
        levels = [lev.astype(object).map(cell) if _is_text(lev) else lev for lev in index.levels]
        return index.set_levels(levels).set_names(names)
    if not _is_text(index):
        return index.copy().set_names(names)
    out = pd.Index(index.astype(object).map(cell), dtype=object)
    return (out if index.dtype == object else out.astype(index.dtype)).set_names(names)  # text stays text


def _apply(table: pd.DataFrame, cell) -> pd.DataFrame:
    out = pd.DataFrame({i: _map_column(table.iloc[:, i], cell) for i in range(table.shape[1])},
                       index=table.index)
    out.columns = _map_index(table.columns, cell)
    out.index = _map_index(table.index, cell)
    return out


def neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell made safe for a spreadsheet (:func:`neutralise_cell`).

    Parameters
    ----------
    table : pandas.DataFrame
        Any table. Text cells of non-numeric columns, of a text index and the column and index
        names are neutralised; numeric, boolean and date columns, a numeric index, numbers and
        missing values inside text columns are left untouched.

    Returns
    -------
    pandas.DataFrame
        A new table (``table`` is not modified): text cells starting with ``=``, ``+``, ``-``,
        ``@``, tab or carriage return (or with ``'`` followed by one of them) get a leading
        ``'``; text that is a plain number such as ``-1.5`` is left as is (see
        :func:`neutralise_cell`). :func:`restore` undoes it exactly.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    return _apply(table, neutralise_cell)


def restore(table: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise`: the prefix ``'`` removed from every text cell it added.

    Parameters
    ----------
    table : pandas.DataFrame
        A table as read from a CSV written by :func:`write_csv`.

    Returns
    -------
    pandas.DataFrame
        A new table whose text cells, column and index names are those :func:`neutralise` was
        given; numeric columns are untouched and text columns keep their dtype.
    """
    out = _apply(table, restore_cell)
    for i in range(table.shape[1]):  # a column read as text stays text (e.g. read_csv(dtype=str))
        dtype = table.dtypes.iloc[i]
        if _is_text(table.iloc[:, i]) and not pd.api.types.is_object_dtype(dtype):
            out.isetitem(i, out.iloc[:, i].astype(dtype))
    return out


def write_csv(table: pd.DataFrame, path, index: bool = False, **kwargs) -> None:
    """Write ``table`` to ``path`` as CSV, safe to open in a spreadsheet.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; it is not modified.
    path : str or os.PathLike
        Where to write.
    index : bool, default False
        Whether to write the index (e.g. ``row`` of ``effect_sizes.csv``, ``study`` of
        ``rob_studies.csv``) as the first column; a text index is neutralised as well.
    **kwargs
        Further arguments of :meth:`pandas.DataFrame.to_csv`.

    Notes
    -----
    The table goes through :func:`neutralise` first: text starting with ``=``, ``+``, ``-``,
    ``@``, tab or carriage return is written with a leading ``'`` (OWASP's guidance against CSV
    injection), visible to anyone reading the file as text. Read it back with :func:`read_csv` to
    get the values without the prefix.

    Lines end with ``\n``; a table with a carriage return inside a text cell is written with
    ``\r\n`` line ends instead (as RFC 4180), because only then does Python's CSV writer quote
    that cell, and an unquoted ``\r`` would end the row for every reader.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    safe = neutralise(table)
    if "lineterminator" not in kwargs and _has_carriage_return(safe, index):
        kwargs["lineterminator"] = "\r\n"
    safe.to_csv(path, index=index, **kwargs)


def _has_carriage_return(table: pd.DataFrame, index: bool) -> bool:
    """Whether a text cell, column name or (written) index of ``table`` contains ``\r``."""
    cells = [*table.columns, *(list(table.index) + list(table.index.names) if index else [])]
    cells += [v for i in range(table.shape[1]) if _is_text(table.iloc[:, i]) for v in table.iloc[:, i]]
    return any(isinstance(v, str) and "\r" in v for v in cells)


def read_csv(path, **kwargs) -> pd.DataFrame:
    """A CSV written by :func:`write_csv`, with the prefix it added removed (:func:`restore`).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV.
    **kwargs
        Arguments of :func:`pandas.read_csv` (``dtype``, ``index_col``, ...). Column names in them
        are the names as written in the file (a column whose name starts with a trigger character
        is named with its ``'`` there).

    Returns
    -------
    pandas.DataFrame
        The table with every text cell, column and index name as it was before :func:`write_csv`.
    """
    return restore(pd.read_csv(path, **kwargs))
