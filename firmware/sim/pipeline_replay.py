# Runs under MicroPython: feeds IMU samples through the firmware's sensing Pipeline, grouped
# as the app groups them, power profiles included (firmware/sim/replay.py does the grouping;
# it is how the virtual clip replays a recording too). `postureclip firmware replay` and
# benchmarks/firmware_accuracy.py run it.
#   micropython firmware/sim/pipeline_replay.py IN.bin OUT.bin EVENTS.txt CALIBRATE_AT_S
#                                               [active] [presses:PATH] [NAME=VALUE ...]
# ("active": the full-rate profile throughout, as before the power profiles; presses:PATH: a
# file of ascending times, one a line, when a wearer asked to calibrate would (replay.py);
# NAME=VALUE: a coaching setting of clip/settings.py, checked as the clip checks a write)
# IN: rows of 7 float32 (t, gx, gy, gz, ax, ay, az) at 208 Hz, t in s.
# OUT: rows of 3 float32 (t, flexion deg, lateral deg), one per fused step.
# EVENTS: "rtype t payload-hex" lines: each record's payload as the clip logs it
# (clip.protocol.event_payload; TRACE left out). Prints the seconds spent and the fused steps
# taken in each profile.
import struct
import sys
from binascii import hexlify

from replay import replay

from clip import power as PW
from clip.pipeline import Pipeline
from clip.protocol import REC_TRACE, event_payload
from clip.settings import SettingsError, defaults, with_value

ROWS = 1024


def main():
    src, dst, evpath, cal_at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    always_active = "active" in sys.argv[5:]
    presses = None
    settings = defaults()
    for arg in sys.argv[5:]:
        if arg.startswith("presses:"):
            with open(arg[8:]) as f:
                presses = [float(line) for line in f if line.strip()]
        elif "=" in arg:
            name, value = arg.split("=", 1)
            try:
                settings = with_value(settings, name, int(value))
            except (SettingsError, ValueError) as e:
                print("setting", name, e)
                sys.exit(2)
    events = open(evpath, "w")

    def emit(rtype, t, values):
        if rtype != REC_TRACE:
            payload = hexlify(event_payload(rtype, *values)).decode()
            events.write("%d %.3f %s\n" % (rtype, t, payload))

    p = Pipeline(settings, emit)
    outbuf = bytearray(12 * ROWS)
    out = [0]

    with open(src, "rb") as fi, open(dst, "wb") as fo:
        def on_step(t):
            struct.pack_into("<3f", outbuf, 12 * out[0], t, p.flexion, p.lateral)
            out[0] += 1
            if out[0] == ROWS:
                fo.write(outbuf)
                out[0] = 0

        fed_s, steps = replay(p, fi, cal_at, always_active, on_step, presses)
        fo.write(memoryview(outbuf)[:12 * out[0]])
    events.close()
    r = p.calibration_result
    print("calibration", -1 if r is None else r[0])  # -1: never finished; else a status
    print("profiles_s", fed_s - p.power.still_s, p.power.still_s)
    print("steps", steps[PW.ACTIVE], steps[PW.STILL])


main()
