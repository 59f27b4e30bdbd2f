"""Regenerate tests/vectors/protocol_v1.json by running the firmware's packers in MicroPython.

    python tools/gen_vectors.py          # write the file
    python tools/gen_vectors.py --check  # exit 1 if the committed file is stale
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "vectors" / "protocol_v1.json"


def produce() -> str:
    exe = Path(sys.executable).with_name("micropython")
    env = dict(os.environ, MICROPYPATH=f".frozen{os.pathsep}{ROOT / 'firmware'}")
    proc = subprocess.run([str(exe) if exe.exists() else "micropython",
                           str(ROOT / "tools" / "fw_vectors.py")],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"fw_vectors.py failed under MicroPython:\n{proc.stdout}{proc.stderr}")
    data = json.loads(proc.stdout)
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    text = produce()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            raise SystemExit(f"{OUT} is stale: run `make vectors`")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
