# Runs under MicroPython: feeds a binary sample file through the firmware's Fusion.
#   micropython benchmarks/mp_fusion.py IN.bin OUT.bin
# IN: rows of 7 float32 (gx, gy, gz, ax, ay, az, dt): one fused step each, dt its length in s;
# OUT: rows of 4 float32 (qw, qx, qy, qz).
# Prints the time spent in Fusion.update (us per sample), excluding file I/O.
import struct
import sys
import time

from clip.fusion import Fusion

ROWS = 2048


def main():
    src, dst = sys.argv[1], sys.argv[2]
    f = Fusion()
    inbuf = bytearray(28 * ROWS)
    outbuf = bytearray(16 * ROWS)
    spent = 0
    count = 0
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while True:
            n = fi.readinto(inbuf)
            if not n:
                break
            rows = n // 28
            for i in range(rows):
                gx, gy, gz, ax, ay, az, dt = struct.unpack_from("<7f", inbuf, 28 * i)
                t0 = time.ticks_us()
                f.update(gx, gy, gz, ax, ay, az, dt)
                spent += time.ticks_diff(time.ticks_us(), t0)
                qw, qx, qy, qz = f.quaternion()
                struct.pack_into("<4f", outbuf, 16 * i, qw, qx, qy, qz)
            count += rows
            fo.write(memoryview(outbuf)[:16 * rows])
    print("samples", count, "update_us", spent / count)


main()
