"""Host orientation (postureclip.analysis.orientation: offline VQF 6D) on the BROAD trials.

    python benchmarks/host_broad.py

Offline (forward-backward) estimation is allowed on the host, which has the whole recording;
the figure is therefore compared with BROAD's offlineVQF anchor, not the online one. Needs the
BROAD data in ../shared/data/broad; says so and exits 0 without it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from postureclip.analysis import orientation
from postureclip.recording import Uniform

ROOT = Path(__file__).resolve().parents[1]
BROAD = ROOT.parent / "shared" / "data" / "broad"
DT = 0.0035


def main() -> int:
    if not (BROAD / "inclination.py").exists():
        print(f"BROAD data not found at {BROAD}: nothing measured.")
        return 0
    sys.path.insert(0, str(BROAD))
    import inclination

    res = []
    for path in sorted(BROAD.glob("trial_*.csv.gz")):
        d = inclination.load_csv(str(path))
        acc = np.column_stack([d["ax"], d["ay"], d["az"]])
        gyr = np.column_stack([d["gx"], d["gy"], d["gz"]])
        u = Uniform(d["t"], acc, gyr, np.ones(len(acc), bool), 1.0 / DT)
        q = orientation(u)
        qt = np.column_stack([d[k] for k in ("qw", "qx", "qy", "qz")])
        r = inclination.inclination_rmse(d["t"], q, qt, d["movement"])
        res.append(r)
        print(f"{path.name[6:8]}  {r:.4f}")
    print(f"mean inclination RMSE over {len(res)} trials: {np.mean(res):.4f} deg; "
          f"worst {np.max(res):.4f} deg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
