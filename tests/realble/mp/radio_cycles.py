# Runs under the NimBLE unix port (tests/realble/test_radio_cycles.py): the firmware's own
# radio window path - clip.ble.Peripheral._power_down() then _power_up() (IRQ handler,
# active(True), config, service registration, advertising) - N times, reporting both heaps
# every REPORT cycles: the GC heap (free after a collection, and micropython.mem_info()'s
# largest free block) and the process's resident size (NimBLE's own allocations).
#   micropython radio_cycles.py ROOT FLASH N REPORT
import gc
import os
import sys

ROOT, FLASH, N, REPORT = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, ROOT + "/firmware/sim")
sys.path.insert(1, ROOT + "/firmware")

import micropython  # noqa: E402
import world  # noqa: E402

from clip.app import App  # noqa: E402
from clip.boards import xiao_esp32c3  # noqa: E402


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


try:
    os.mkdir(FLASH)
except OSError:
    pass
world.build(xiao_esp32c3)
app = App(xiao_esp32c3, FLASH)
ble = app._start_ble()  # the radio is on: the boot window
for i in range(1, N + 1):
    ble._power_down()
    ble._power_up()
    if i % REPORT == 0:
        gc.collect()
        print("cycle", i, "mem_free", gc.mem_free(), "rss_kb", rss_kb())
        micropython.mem_info()  # its last line: "... max free sz: N" (16-byte blocks)
print("radio on:", ble.radio_on, "advertising", ble.adv_interval)
print("done")
