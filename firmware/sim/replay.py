# Replay IMU samples through the firmware's sensing pipeline faster than real time, grouped as
# the app groups them, power profiles included (clip.power): the IMU's rate is emulated by
# keeping every n-th sample of the 208 Hz input. ACTIVE: 104 Hz in groups of 16, samples
# turning faster than FAST_SAMPLE_RATE and the FAST_HOLD after them in groups of FAST_GROUP
# (the driver's fine groups). While the pipeline's policy says STILL the IMU runs at 26 Hz
# (every 8th sample) in groups of 13 read every 500 ms, the first sample turning faster than
# WAKE_SAMPLE_RATE or whose accelerometer moved more than WAKE_SAMPLE_ACCEL from the open
# group's first ending the coarse
# groups (the driver's wake-up); the profile changes at the end of a FIFO read, the open group
# going in on its own first, as clip.app does. A neutral capture is asked for at CALIBRATE_AT_S,
# as a wearer pressing the button would.
#
# As a program it writes a clip's flash: the whole app (clip.app.App on the simulated board)
# boots on FLASH, the host sets its clock to WALL_S (UTC seconds since 2000-01-01, SET_TIME as
# on a connection), and the samples go through app.pipeline, so the flash log holds exactly the
# records the firmware makes (BOOT, TIME_SET, CALIBRATED, episodes, lifts, buzzes, SUMMARY,
# TRACE), in wall-clock time:
#   micropython firmware/sim/replay.py IN.bin FLASH WALL_S CALIBRATE_AT_S
# IN: rows of 7 float32 (t, gx, gy, gz, ax, ay, az) at 208 Hz, t in s.
import struct
import sys

from clip import power as PW
from clip.drivers.imu import FAST_HOLD

ROWS = 1024
INPUT_HZ = 208


ANSWER_S = 30.0  # a wearer asked to calibrate does so at an upright moment this long after


def replay(p, fi, cal_at, always_active=False, on_step=None, presses=None):
    """Feed the samples of binary file ``fi`` to pipeline ``p``; ``on_step(t)`` after each
    fused step. ``presses``: ascending times at which the wearer sits or stands upright and
    would calibrate if the clip asked (its calibration stale for ANSWER_S). Returns (seconds
    fed, [steps in ACTIVE, in STILL])."""
    inbuf = bytearray(28 * ROWS)
    s = [0.0] * 6
    state = {"n": 0, "t": 0.0, "fed_s": 0.0, "steps": [0, 0, 0]}
    profile = PW.ACTIVE
    rate, group, read_ms, _ = PW.PROFILES[profile]
    stride = INPUT_HZ // rate
    read_every = INPUT_HZ * read_ms // 1000  # input samples per FIFO read
    asked = False
    presses = presses or []
    k = 0  # the next of ``presses``
    stale_t = None  # since when the clip's calibration is stale
    i = 0
    wake = PW.WAKE_SAMPLE_RATE
    shake = PW.WAKE_SAMPLE_ACCEL
    a0 = a1 = a2 = 0.0  # accelerometer of the open group's first sample
    woke = False  # None: the wake-up is armed (STILL profile)
    fast = PW.FAST_SAMPLE_RATE  # fine groups armed (ACTIVE profile); 0: off
    hold = 0
    state["profile"] = profile

    def close(dt_each):
        n = state["n"]
        k = 1.0 / n
        p.feed(state["t"], s[0] * k, s[1] * k, s[2] * k, s[3] * k, s[4] * k, s[5] * k,
               n * dt_each)
        state["fed_s"] += n * dt_each
        state["steps"][state["profile"]] += 1
        if on_step is not None:
            on_step(state["t"])
        s[0] = s[1] = s[2] = s[3] = s[4] = s[5] = 0.0
        state["n"] = 0

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
            if presses:  # a wearer who answers: watched per sample only for them
                if k < len(presses) and t >= presses[k]:
                    while k < len(presses) and presses[k] <= t:
                        k += 1
                    if stale_t is not None and t - stale_t >= ANSWER_S and p.capture is None:
                        p.start_calibration()  # the wearer answers the clip's request
                if not p.posture.stale:
                    stale_t = None
                elif stale_t is None:
                    stale_t = t
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
                    f = p.fusion
                    wake = PW.raw_turn_threshold(PW.WAKE_SAMPLE_RATE, f.bx, f.by, f.bz)
                    fast = (PW.raw_turn_threshold(PW.FAST_SAMPLE_RATE, f.bx, f.by, f.bz)
                            if profile == PW.ACTIVE else 0)
                    hold = 0
    p.posture.finish(state["t"])
    return state["fed_s"], state["steps"]


def to_flash(src, flash, wall_s, cal_at):
    """Boot the app on ``flash``, set its clock to ``wall_s``, replay ``src`` through it."""
    import os

    sys.path.append(sys.path[0] + "/standin")  # world resets the stand-in radio; none runs
    import world

    from clip.app import App
    from clip.boards import xiao_esp32c3

    try:
        os.mkdir(flash)
    except OSError:
        pass
    world.build(xiao_esp32c3)
    app = App(xiao_esp32c3, flash)
    app.cmd_set_time(wall_s, 0)  # as a host does on every connection
    # the wall clock follows the replayed time, not this process's (faster than real time)
    app.wall_offset_ms = wall_s * 1000
    with open(src, "rb") as fi:
        fed_s, steps = replay(app.pipeline, fi, cal_at)
    print("replayed", fed_s, "s in", steps[PW.ACTIVE] + steps[PW.STILL], "fused steps; next seq",
          app.log.next_seq)


if __name__ == "__main__":
    to_flash(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
