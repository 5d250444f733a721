"""What every job script does first: ``from _job import start`` then ``start(snakemake)``, before any
other import.

A module beside the scripts, not in the library: Snakemake puts a ``script:`` rule's folder on the
job's ``sys.path``, and this module imports nothing but the standard library, so the log is in place
before pandas, matplotlib or premeta are imported, and what they say while importing (a warning, an
``ImportError``) is in the job's log too.
"""

import sys
import warnings


def start(snakemake) -> None:
    """Send everything the job writes (``print``, warnings, a traceback) to its rule's log.

    The log (``log:`` of the rule, its first file) is line-buffered, so a job that is killed leaves
    what it had written. Every warning is shown once where it is raised (Python's ``default``
    filter: ``DeprecationWarning`` included, such as premeta's for an old name).

    Parameters
    ----------
    snakemake : snakemake.script.Snakemake
        The object Snakemake gives a ``script:`` job.
    """
    log = open(snakemake.log[0], "w", buffering=1)  # open until the job's process ends
    sys.stdout = sys.stderr = log
    warnings.simplefilter("default")
