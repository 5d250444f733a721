"""Time the full default multiverse (premeta.multiverse) beside a loop of metafor calls.

    python benchmarks/bench_multiverse.py            # with metafor on a sample (if Rscript exists)
    python benchmarks/bench_multiverse.py --no-r     # premeta only

Two sheets: the bundled one (data/simulated_treadmill_neuropathic_pain.csv, 8 groups of 7 to 175
comparisons) and a 100-group sheet, its rows repeated 13 times with the groups and studies renamed
(``Behaviour #3``, ``Sim01 (simulated) #3``) and the first 100 groups kept. premeta computes the
default specifications of every group (``premeta.specifications()``: 240) in a fresh process that
reports its wall time, CPU time and peak resident memory (and the memory after importing premeta).
metafor is timed inside R (bench_multiverse.R; start-up and reading excluded) on a seeded random
sample of the fitted specifications, each computed from the sheet as premeta does (escalc, the
inclusion rule with influence(), then rma, aggregate + rma, rma.mv + robust, robu, the PET-PEESE
meta-regressions or selmodel); its time for
all of them is the sample's mean times their number, printed as "extrapolated from N of M".
Nothing is asserted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "simulated_treadmill_neuropathic_pain.csv"
R_SCRIPT = Path(__file__).with_name("bench_multiverse.R")
SAMPLE = 60
CHILD = """
import json, resource, sys, time
import premeta
from premeta.effects import checked
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sheet = checked(sys.argv[1])[0]
t0, c0 = time.perf_counter(), time.process_time()
table = premeta.multiverse(sheet)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
table.to_csv(sys.argv[2], index=False)
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "import_mb": base}))
"""


def hundred_groups(path: Path) -> None:
    """The bundled rows repeated with renamed groups and studies, the first 100 groups kept."""
    bundled = pd.read_csv(BUNDLED)
    copies = [bundled.assign(mechanism=bundled["mechanism"] + f" #{c}", study=bundled["study"] + f" #{c}")
              for c in range(13)]
    sheet = pd.concat(copies, ignore_index=True)
    keep = list(dict.fromkeys(sheet["mechanism"]))[:100]
    sheet[sheet["mechanism"].isin(keep)].to_csv(path, index=False)


def premeta_run(sheet: Path, table: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(sheet), str(table)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def metafor_run(sheet: Path, table: pd.DataFrame, work: Path) -> dict:
    """metafor's seconds for all fitted specifications, extrapolated from a sample."""
    if shutil.which("Rscript") is None:
        return {}
    fitted = table[table["estimate"].notna()]
    sample = fitted.sample(min(SAMPLE, len(fitted)), random_state=2024)
    args = work / "specs.json"
    cols = ["group", "measure", "method", "test", "dependence", "adjustment", "inclusion"]
    args.write_text(json.dumps({"sheet": str(sheet), "rho": 0.5, "specs": sample[cols].to_dict("records")}))
    out = subprocess.run(["Rscript", str(R_SCRIPT), str(args)], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return {}
    r = json.loads(out.stdout)
    return r | {"total": r["seconds"] / r["specifications"] * len(fitted), "of": len(fitted)}


def main(with_r: bool = True) -> None:
    print(f"{'sheet':>14} {'groups':>6} {'rows':>6} {'specs':>6} {'fitted':>6} {'premeta s':>9} {'CPU s':>6} "
          f"{'fits/s':>7} {'peak MB':>7} {'(import)':>8} {'metafor s':>10}  note")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big = work / "hundred_groups.csv"
        hundred_groups(big)
        for name, sheet in (("bundled", BUNDLED), ("100 groups", big)):
            p = premeta_run(sheet, work / "table.csv")
            table = pd.read_csv(work / "table.csv", keep_default_na=False, na_values=[""])
            fitted = int(table["estimate"].notna().sum())
            r = metafor_run(sheet, table, work) if with_r else {}
            rtxt = f"{r['total']:.0f}" if r else "-"
            note = (f"extrapolated from {r['specifications']} of {r['of']} ({r['seconds']:.1f} s"
                    f"{', %d failed' % r['failed'] if r['failed'] else ''}); {r['total'] / p['wall']:.0f}x"
                    if r else "")
            rows = len(pd.read_csv(sheet))
            print(f"{name:>14} {table['group'].nunique():>6} {rows:>6} {len(table):>6} {fitted:>6} {p['wall']:>9.1f} "
                  f"{p['cpu']:>6.1f} {fitted / p['wall']:>7.0f} {p['peak_mb']:>7.0f} {p['import_mb']:>8.0f} "
                  f"{rtxt:>10}  {note}", flush=True)


if __name__ == "__main__":
    main(with_r="--no-r" not in sys.argv)
