# Runs under MicroPython: per-sample cost of the clip's hot path and the heap it allocates.
#   MICROPYPATH=.frozen:firmware:firmware/sim micropython -X heapsize=256M \
#       benchmarks/mp_pipeline_cost.py [GROUPS]
# The hot path per IMU sample: decoding the LSM6DSOX FIFO words into integer group sums, and
# per group (the moving profile's: 16 samples at 104 Hz) the scaling, fusion, trunk angles,
# activity, lift and posture coaches.
# With GROUPS given it only runs that many groups (for instruction counts under callgrind).
import gc
import math
import sys
import time

import machine
import simhw
from fake_imu import FakeLSM6DSOX

from clip import power as PW
from clip.drivers.lsm6dsox import LSM6DSOX
from clip.fusion import Fusion
from clip.pipeline import Pipeline
from clip.settings import defaults

RATE, GROUP = PW.PROFILES[PW.ACTIVE][:2]
N = 10000  # groups


class Motion:
    """Bending forward and back (30 deg, 0.2 Hz) with a slight bounce: coaches stay busy
    (turning slower than FAST_SAMPLE_RATE: coarse groups throughout)."""

    def sample(self, t):
        a = 0.52 * (0.5 - 0.5 * math.cos(1.26 * t))
        rate = 0.52 * 0.5 * 1.26 * math.sin(1.26 * t)
        bounce = 0.4 * math.sin(12.0 * t)
        return (0.01, rate, -0.01, 9.81 * math.cos(a) + bounce, 0.05, 9.81 * math.sin(a))


def make_imu():
    simhw.clear()
    fake = FakeLSM6DSOX(Motion())
    simhw.attach(0, 0x6A, fake)
    imu = LSM6DSOX(machine.I2C(0))
    imu.configure(rate_hz=RATE)
    imu.set_decimation(GROUP)
    imu.set_fast(PW.FAST_SAMPLE_RATE, PW.FAST_GROUP)
    imu.start()
    fake.produce(24, RATE)  # one burst of FIFO words, decoded again and again below
    imu._read_burst(24)
    return imu


def run(imu, pipe, groups, time_it):
    """Decode FIFO bursts and feed every finished group; returns (decode us, feed us)."""
    dec = feed = 0
    t = 0.0
    dt = GROUP / RATE
    done = 0
    out = imu.out
    while done < groups:
        imu.groups = 0
        t0 = time.ticks_us()
        imu._decode(24)  # 24 samples -> 24 / GROUP groups
        t1 = time.ticks_us()
        for k in range(imu.groups):
            i = 6 * k
            t += dt
            pipe.feed(t, out[i], out[i + 1], out[i + 2], out[i + 3], out[i + 4], out[i + 5], dt)
        t2 = time.ticks_us()
        if time_it:
            dec += time.ticks_diff(t1, t0)
            feed += time.ticks_diff(t2, t1)
        done += imu.groups
    return dec, feed


def main():
    imu = make_imu()
    pipe = Pipeline(defaults(), lambda rtype, t, values: None)
    pipe.neutral.calibrated = True  # the posture coach runs as on a calibrated clip
    if len(sys.argv) > 1:
        run(imu, pipe, int(sys.argv[1]), False)
        return
    run(imu, pipe, 600, False)  # warm up: rates, filters settled
    gc.collect()
    dec, feed = run(imu, pipe, N, True)
    samples = N * GROUP
    print("samples per group: %d (IMU %d Hz)" % (GROUP, RATE))
    print("decode: %.2f us/sample" % (dec / samples))
    print("fusion+coaches: %.2f us/group = %.2f us/sample" % (feed / N, feed / samples))
    print("pipeline total: %.2f us/sample (%d samples, gc on)" % ((dec + feed) / samples,
                                                                   samples))
    f = Fusion()
    t0 = time.ticks_us()
    for i in range(N):
        f.update(0.01, 0.02 * (i & 7), -0.01, 0.5, 0.05, 9.8, GROUP / RATE)
    print("fusion alone: %.2f us/update" % (time.ticks_diff(time.ticks_us(), t0) / N))
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    run(imu, pipe, N, False)
    grown = gc.mem_alloc() - before
    gc.enable()
    print("heap: %.0f bytes per group = %.0f bytes/sample (gc disabled, %d groups)"
          % (grown / N, grown / samples, N))
    gc.collect()
    base = gc.mem_free()
    run(imu, pipe, N, False)
    gc.collect()
    print("heap free after %d more groups and a collection: %+d bytes" % (N, gc.mem_free() - base))


main()
