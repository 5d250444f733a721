"""How every job script starts: its imports in a ``with start(snakemake):`` block, the first lines.

A module beside the scripts, not in the library: Snakemake puts a ``script:`` rule's folder on the
job's ``sys.path``, and this module imports nothing but the standard library, so the log is in place
before pandas, matplotlib or premeta are imported, and what they say while importing (a warning, an
``ImportError``) is in the job's log too.
"""

import gc
import sys
import warnings
from contextlib import contextmanager


@contextmanager
def start(snakemake):
    """Send everything the job writes to its rule's log; its imports, in the block, uncollected.

    From the start of the block to the end of the job, ``print``, warnings and a traceback go to the
    log (``log:`` of the rule, its first file), line-buffered, so a job that is killed leaves what it
    had written. Every warning is shown once where it is raised (Python's ``default`` filter:
    ``DeprecationWarning`` included, such as premeta's for an old name).

    While the block imports, the garbage collector does not run (importing makes objects, never
    garbage); after it, those objects are frozen out of every later collection (:func:`gc.freeze`),
    which then scans only what the job made: statsmodels' Holm correction (``premeta.models.adjust_p``)
    runs a full collection, 50 ms over the imported objects of a drawing job. Measured on a job that
    imports premeta's analyses and figures and then computes and draws (benchmarks/README.md, "The
    pipeline"): 0.15 CPU-s of its 2.1 (7 %) less, 0.1 of them while importing.

    Parameters
    ----------
    snakemake : snakemake.script.Snakemake
        The object Snakemake gives a ``script:`` job.
    """
    log = open(snakemake.log[0], "w", buffering=1)  # open until the job's process ends
    sys.stdout = sys.stderr = log
    warnings.simplefilter("default")
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
