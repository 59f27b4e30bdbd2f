"""The radio windows switch BLE off and on hundreds of times a day. On the ESP32 that path has
corrupted the heap (micropython/micropython#15538) and NimBLE's deinit has leaked
(espressif/esp-idf#8136). Here the firmware's own power-down/power-up path runs on the real
NimBLE stack (32-bit build, the virtual controller on its UART) POSTURECLIP_RADIO_CYCLES times
(3,000 in make test, 20,000 in make bench) and both heaps must stay flat: the GC heap's free
memory and largest free block, and the process's resident size (NimBLE's allocations)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .rig import MPBLE32, MPBLE_DIR, ROOT, RadioProcess, require_build

CYCLES = int(os.environ.get("POSTURECLIP_RADIO_CYCLES", "3000"))
REPORT = max(CYCLES // 10, 1)


def test_thousands_of_radio_off_on_cycles_keep_both_heaps_flat(tmp_path: Path) -> None:
    require_build()
    pty = tmp_path / "hci"
    with RadioProcess([pty]):
        env = {**os.environ, "MICROPYBTUART": str(pty),
               "MICROPYPATH": f".frozen:{MPBLE_DIR / 'extmod'}"}
        proc = subprocess.run(
            [str(MPBLE32), "-X", "heapsize=256K", str(ROOT / "tests/realble/mp/radio_cycles.py"),
             str(ROOT), str(tmp_path / "flash"), str(CYCLES), str(REPORT)],
            capture_output=True, text=True, env=env, timeout=60 + CYCLES * 0.5)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "done" in out and "Traceback" not in out, out[-3000:]
    cycles = [(int(m[0]), int(m[1]), int(m[2])) for m in
              re.findall(r"cycle (\d+) mem_free (\d+) rss_kb (\d+)", out)]
    blocks = [int(b) * 16 for b in re.findall(r"max free sz: (\d+)", out)]  # 32-bit: 16 B
    assert len(cycles) == CYCLES // REPORT and len(blocks) == len(cycles), out[-3000:]
    assert "radio on: True advertising 100000" in out
    third = max(len(cycles) // 3, 1)
    free_first = min(c[1] for c in cycles[:third])
    free_last = min(c[1] for c in cycles[-third:])
    rss_first = max(c[2] for c in cycles[:third])
    rss_last = max(c[2] for c in cycles[-third:])
    block_first, block_last = min(blocks[:third]), min(blocks[-third:])
    print(f"radio off/on {CYCLES} cycles (32-bit, heap 256K): GC free first third min "
          f"{free_first} B, last third min {free_last} B; largest free block {block_first} → "
          f"{block_last} B; resident size first third max {rss_first} kB, last third max "
          f"{rss_last} kB")
    assert free_last >= free_first - 1024, cycles  # no GC-heap leak (1 KB of slack)
    assert block_last >= block_first - 1024, blocks  # no growing fragmentation
    assert rss_last <= rss_first + 64, cycles  # no C-heap leak: 64 kB over the whole run
