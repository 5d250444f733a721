"""Time premeta.gosh beside metafor's gosh() in one run: every one of the 2^k - 1 subsets.

    python benchmarks/bench_gosh.py            # metafor at k = 15 (REML takes minutes)
    python benchmarks/bench_gosh.py --no-r     # premeta only

premeta is timed at k = 15 and k = 20 (1,048,575 fits) for FE, DL and REML, each in a fresh
process that reports its wall time and peak resident memory (and the memory after importing
premeta, so the part GOSH adds is visible), then at k = 20 with chunks of 2^15 to 2^24
membership cells (default 2^18), to show that the chunk, not the number of subsets, sets the
memory beyond the result itself (1,048,575 x 6 doubles and the k-column membership matrix).
metafor is timed at k = 15 inside R (start-up excluded); at k = 20 it would take 32 times as many
fits, so its time there is extrapolated as (2^20 - 1)/(2^15 - 1) times the k = 15 time, and
printed as such (a lower bound: each of its fits also grows with k). The data are simulated and
seeded; nothing is asserted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from premeta.sensitivity import CHUNK_CELLS

METHODS = ("FE", "DL", "REML")
R_SCRIPT = Path(__file__).with_name("bench_gosh.R")
CHILD = """
import json, resource, sys, time
import numpy as np
import premeta
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
d = json.loads(sys.argv[1])
t0 = time.perf_counter()
g = premeta.gosh(d["yi"], d["vi"], method=d["method"], subsets=2 ** len(d["yi"]), chunk=d["chunk"])
wall = time.perf_counter() - t0
assert g.subsets == "all" and len(g.res) == 2 ** len(d["yi"]) - 1 and g.res["estimate"].notna().all()
print(json.dumps({"wall": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "import_mb": base}))
"""


def data(k: int, seed: int = 2024) -> dict:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.02, 0.4, k)
    yi = rng.normal(0.5, np.sqrt(vi + 0.1))
    return {"yi": yi.tolist(), "vi": vi.tolist()}


def premeta_run(d: dict, method: str, chunk: int = CHUNK_CELLS) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(d | {"method": method, "chunk": chunk})],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def metafor_run(d: dict) -> dict:
    if shutil.which("Rscript") is None:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(d, f)
        f.flush()
        out = subprocess.run(["Rscript", str(R_SCRIPT), f.name, *METHODS], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def main(with_r: bool = True) -> None:
    full = data(20)
    small = {key: v[:15] for key, v in full.items()}
    factor = (2**20 - 1) / (2**15 - 1)
    r15 = metafor_run(small) if with_r else {}
    print(f"{'k':>3} {'subsets':>10} {'method':>6} {'premeta s':>10} {'peak MB':>8} {'(import MB)':>11} "
          f"{'metafor s':>12} {'ratio':>7}")
    for k, d in ((15, small), (20, full)):
        for m in METHODS:
            p = premeta_run(d, m)
            r = r15.get(m)
            if r is not None and k == 20:
                r, note = r * factor, " (extrap.)"
            else:
                note = ""
            rtxt = f"{r:.1f}{note}" if r is not None else "-"
            ratio = f"{r / p['wall']:.0f}x" if r is not None else "-"
            print(f"{k:>3} {2**k - 1:>10,} {m:>6} {p['wall']:>10.2f} {p['peak_mb']:>8.0f} {p['import_mb']:>11.0f} "
                  f"{rtxt:>12} {ratio:>7}", flush=True)
    default = CHUNK_CELLS.bit_length() - 1
    print(f"\nMemory is bounded by the chunk (membership cells fitted at a time; default 2^{default}), k = 20:")
    for m in METHODS:
        for e in (15, 18, 21, 24):
            p = premeta_run(full, m, 2**e)
            print(f"  {m:>4} chunk 2^{e}: {p['wall']:6.2f} s, peak {p['peak_mb']:5.0f} MB", flush=True)


if __name__ == "__main__":
    main(with_r="--no-r" not in sys.argv)
