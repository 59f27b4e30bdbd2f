# Runs under MicroPython: feeds IMU samples through the firmware's sensing Pipeline, grouped
# as the app groups them, including its power profiles (clip.power): the IMU's rate is emulated
# by keeping every n-th sample of the 208 Hz input. ACTIVE: 104 Hz in groups of 16, samples
# turning faster than FAST_SAMPLE_RATE and the FAST_HOLD after them in pairs (the driver's
# fine groups). While the pipeline's policy says STILL the IMU runs at 26 Hz (every 8th
# sample) in groups of 13 read every 500 ms, the first sample turning faster than
# WAKE_SAMPLE_RATE or whose accelerometer moved more than WAKE_SAMPLE_ACCEL from the open
# group's first ending the coarse groups (the driver's wake-up); the profile changes at the
# end of a FIFO read, the open group going in on its own first, as clip.app does.
#   micropython benchmarks/mp_pipeline.py IN.bin OUT.bin EVENTS.txt CALIBRATE_AT_S [active]
# ("active": the full-rate profile throughout, as before the power profiles)
# IN: rows of 7 float32 (t, gx, gy, gz, ax, ay, az) at 208 Hz, t in s.
# OUT: rows of 3 float32 (t, flexion deg, lateral deg), one per fused step.
# EVENTS: "rtype t values..." lines. Prints the seconds spent and the fused steps taken in
# each profile.
# Asks for a neutral capture at CALIBRATE_AT_S, as a wearer pressing the button would.
import struct
import sys

from clip import power as PW
from clip.drivers.imu import FAST_HOLD
from clip.pipeline import Pipeline
from clip.protocol import REC_TRACE
from clip.settings import defaults

ROWS = 1024
INPUT_HZ = 208


def main():
    src, dst, evpath, cal_at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    always_active = sys.argv[5:] == ["active"]
    events = open(evpath, "w")

    def emit(rtype, t, values):
        if rtype != REC_TRACE:
            events.write("%d %.3f %s\n" % (rtype, t, " ".join(str(v) for v in values)))

    p = Pipeline(defaults(), emit)
    inbuf = bytearray(28 * ROWS)
    outbuf = bytearray(12 * ROWS)
    s = [0.0] * 6
    state = {"n": 0, "t": 0.0, "out": 0, "fed_s": 0.0, "steps": [0, 0, 0]}
    profile = PW.ACTIVE
    rate, group, read_ms, _ = PW.PROFILES[profile]
    stride = INPUT_HZ // rate
    read_every = INPUT_HZ * read_ms // 1000  # input samples per FIFO read
    asked = False
    i = 0
    wake = PW.WAKE_SAMPLE_RATE
    shake = PW.WAKE_SAMPLE_ACCEL
    a0 = a1 = a2 = 0.0  # accelerometer of the open group's first sample
    woke = False  # None: the wake-up is armed (STILL profile)
    fast = PW.FAST_SAMPLE_RATE  # fine groups armed (ACTIVE profile); 0: off
    hold = 0

    def close(dt_each):
        n = state["n"]
        k = 1.0 / n
        p.feed(state["t"], s[0] * k, s[1] * k, s[2] * k, s[3] * k, s[4] * k, s[5] * k,
               n * dt_each)
        state["fed_s"] += n * dt_each
        state["steps"][state["profile"]] += 1
        struct.pack_into("<3f", outbuf, 12 * state["out"], state["t"], p.flexion, p.lateral)
        state["out"] += 1
        if state["out"] == ROWS:
            state["fo"].write(outbuf)
            state["out"] = 0
        s[0] = s[1] = s[2] = s[3] = s[4] = s[5] = 0.0
        state["n"] = 0

    with open(src, "rb") as fi, open(dst, "wb") as fo:
        state["fo"] = fo
        state["profile"] = profile
        while True:
            got = fi.readinto(inbuf)
            if not got:
                break
            for r in range(got // 28):
                i += 1
                if i % stride:
                    continue  # the slower IMU never produced this one
                t, gx, gy, gz, ax, ay, az = struct.unpack_from("<7f", inbuf, 28 * r)
                if woke is None and (gx > wake or gx < -wake or gy > wake or gy < -wake
                                     or gz > wake or gz < -wake
                                     or (state["n"] and (abs(ax - a0) > shake
                                                         or abs(ay - a1) > shake
                                                         or abs(az - a2) > shake))):
                    woke = True  # the driver's wake-up: every sample on its own from here
                    if state["n"]:
                        close(1.0 / rate)
                    group = 1
                elif fast and (gx > fast or gx < -fast or gy > fast or gy < -fast
                               or gz > fast or gz < -fast):
                    if not hold and state["n"]:
                        close(1.0 / rate)  # a turn starts a step of its own
                    hold = FAST_HOLD
                if state["n"] == 0:
                    a0, a1, a2 = ax, ay, az
                if not asked and t >= cal_at:
                    p.start_calibration()
                    asked = True
                s[0] += gx
                s[1] += gy
                s[2] += gz
                s[3] += ax
                s[4] += ay
                s[5] += az
                state["n"] += 1
                state["t"] = t
                if hold:
                    hold -= 1
                    if state["n"] >= PW.FAST_GROUP:
                        close(1.0 / rate)
                elif state["n"] == group:
                    close(1.0 / rate)
                if i % read_every == 0:  # a FIFO read ends: the app may change profile
                    if woke or always_active or (asked and p.calibration_result is None):
                        p.power.wake()  # movement; a calibration wants every step
                    if woke:
                        woke = False
                    if p.power.mode != profile:
                        if state["n"]:
                            close(1.0 / rate)
                        profile = state["profile"] = p.power.mode
                        rate, group, read_ms, _ = PW.PROFILES[profile]
                        stride = INPUT_HZ // rate
                        read_every = INPUT_HZ * read_ms // 1000
                        woke = None if profile == PW.STILL else False
                        fast = PW.FAST_SAMPLE_RATE if profile == PW.ACTIVE else 0
                        hold = 0
        fo.write(memoryview(outbuf)[:12 * state["out"]])
    p.posture.finish(state["t"])
    events.close()
    print("calibration", p.calibration_result)
    print("profiles_s", state["fed_s"] - p.power.still_s, p.power.still_s)
    print("steps", state["steps"][PW.ACTIVE], state["steps"][PW.STILL])


main()
