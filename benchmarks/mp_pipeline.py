# Runs under MicroPython: feeds grouped samples through the firmware's sensing Pipeline.
#   micropython benchmarks/mp_pipeline.py IN.bin OUT.bin EVENTS.txt CALIBRATE_AT_S
# IN: rows of 7 float32 (t, gx, gy, gz, ax, ay, az), t in s at the fusion rate.
# OUT: rows of 3 float32 (t, flexion deg, lateral deg). EVENTS: "rtype t values..." lines.
# Asks for a neutral capture at CALIBRATE_AT_S, as a wearer pressing the button would.
import struct
import sys

from clip.pipeline import Pipeline
from clip.protocol import REC_TRACE
from clip.settings import defaults

ROWS = 1024


def main():
    src, dst, evpath, cal_at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    events = open(evpath, "w")

    def emit(rtype, t, values):
        if rtype != REC_TRACE:
            events.write("%d %.3f %s\n" % (rtype, t, " ".join(str(v) for v in values)))

    p = Pipeline(defaults(), emit)
    inbuf = bytearray(28 * ROWS)
    outbuf = bytearray(12 * ROWS)
    last = None
    asked = False
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while True:
            n = fi.readinto(inbuf)
            if not n:
                break
            rows = n // 28
            for i in range(rows):
                t, gx, gy, gz, ax, ay, az = struct.unpack_from("<7f", inbuf, 28 * i)
                if not asked and t >= cal_at:
                    p.start_calibration()
                    asked = True
                dt = t - last if last is not None else 0.02
                last = t
                p.feed(t, gx, gy, gz, ax, ay, az, dt)
                struct.pack_into("<3f", outbuf, 12 * i, t, p.flexion, p.lateral)
            fo.write(memoryview(outbuf)[:12 * rows])
    p.posture.finish(last)
    events.close()
    print("calibration", p.calibration_result)


main()
