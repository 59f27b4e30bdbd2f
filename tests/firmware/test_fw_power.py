# Power management: the sensing policy, the radio windows, and the app switching the IMU's
# rate, light-sleeping and powering the radio down and up; MicroPython and CPython.
import asyncio
import random

import simhw
import world
from fake_imu import Still, TiltRamp
from test_fw_app import fresh_root

from clip import power as PW
from clip import protocol as P
from clip.app import App
from clip.boards import xiao_esp32c3

QUIET = (0.01, 0.005)  # turn rate rad/s, energy (m/s^2)^2 of a still wearer


def test_still_after_quiet_time_and_back_at_the_first_turn():
    p = PW.SensingPolicy()
    dt = 1 / 52
    changes = 0
    for _ in range(int(PW.STILL_AFTER_S * 52) - 2):
        changes += p.update(QUIET[0], QUIET[1], dt)
    assert p.mode == PW.ACTIVE and changes == 0
    for _ in range(4):
        changes += p.update(QUIET[0], QUIET[1], dt)
    assert p.mode == PW.STILL and changes == 1
    for _ in range(100):  # coarse steps while still
        assert not p.update(QUIET[0], QUIET[1], 0.5)
    assert abs(p.still_s - 50.0) < 0.1
    assert p.update(0.3, QUIET[1], 0.5)  # a bend starts
    assert p.mode == PW.ACTIVE
    assert p.update(0.3, 0.0, dt) is False


def test_any_movement_restarts_the_quiet_time():
    p = PW.SensingPolicy()
    dt = 0.1
    for _ in range(int(PW.STILL_AFTER_S / dt) - 5):
        p.update(*QUIET, dt)
    p.update(QUIET[0], 0.1, dt)  # a shake: not still (energy above the still level)
    for _ in range(int(PW.STILL_AFTER_S / dt) - 5):
        p.update(*QUIET, dt)
    assert p.mode == PW.ACTIVE
    p.update(0.08, QUIET[1], dt)  # a slow turn: not still either
    for _ in range(int(PW.STILL_AFTER_S / dt) - 5):
        p.update(*QUIET, dt)
    assert p.mode == PW.ACTIVE


def test_random_steps_keep_the_policy_rules():
    random.seed(7)
    rng = random
    for trial in range(20):
        p = PW.SensingPolicy()
        quiet_for = 0.0
        for _ in range(3000):
            dt = rng.choice((1 / 52, 0.5))
            w = rng.choice((0.0, 0.02, 0.06, 0.1, 0.2, 1.0))
            e = rng.choice((0.0, 0.02, 0.05, 0.2, 0.3))
            was = p.mode
            changed = p.update(w, e, dt)
            assert changed == (p.mode != was)
            if was == PW.ACTIVE:
                quiet_for = quiet_for + dt if (w < 0.05 and e < 0.04) else 0.0
                # still only after STILL_AFTER_S of quiet steps, then at once
                assert (p.mode == PW.STILL) == (quiet_for >= PW.STILL_AFTER_S), trial
                if p.mode == PW.STILL:
                    quiet_for = 0.0
            else:
                assert (p.mode == PW.ACTIVE) == (w > 0.15 or e > 0.25), trial


def test_radio_windows():
    w = PW.RadioWindows(1000)
    assert w.wanted(1000, False) and w.wanted(1000 + 119_000, False)
    assert not w.wanted(1000 + 121_000, False)
    assert w.wanted(1000 + 121_000, True)  # a connected host keeps it on
    w.open(200_000, 60)
    assert w.wanted(259_000, False) and not w.wanted(261_000, False)
    # the short window every RADIO_EVERY_S
    t = 1000 + PW.RADIO_EVERY_S * 1000
    assert w.wanted(t, False) and w.wanted(t + 3_900, False)
    assert not w.wanted(t + 4_100, False)
    assert not w.wanted(t + PW.RADIO_EVERY_S * 1000 - 100, False)
    assert w.wanted(t + PW.RADIO_EVERY_S * 1000, False)


def test_app_slows_sleeps_and_wakes_without_losing_samples():
    imu, _hap, motion = world.build(xiao_esp32c3, Still())
    saved = PW.STILL_AFTER_S, PW.RADIO_BOOT_S
    PW.STILL_AFTER_S, PW.RADIO_BOOT_S = 1.0, 2
    try:
        app = App(xiao_esp32c3, fresh_root("power"))
        fed = [0.0]
        steps = []
        feed = app.pipeline.feed

        def counting_feed(t, gx, gy, gz, ax, ay, az, dt):
            fed[0] += dt
            steps.append((t, dt))
            return feed(t, gx, gy, gz, ax, ay, az, dt)

        app.pipeline.feed = counting_feed
        seen = {}

        async def scenario():
            task = asyncio.create_task(app.run())
            t0 = simhw.now_ms()
            await asyncio.sleep_ms(5000)
            seen["still"] = (app.profile, imu.regs[0x10] >> 4, imu.regs[0x15] & 0x10,
                             imu.regs[0x16] & 0x80, app.ble.radio_on, len(simhw.sleeps))
            motion.motion = TiltRamp(0.0, 40.0, simhw.now_ms() / 1000, 1.0)  # bend forward
            await asyncio.sleep_ms(1500)
            seen["moving"] = (app.profile, imu.regs[0x10] >> 4, imu.regs[0x15] & 0x10)
            simhw.pins[xiao_esp32c3.BUTTON_PIN] = 0  # a short press
            await asyncio.sleep_ms(300)
            simhw.pins[xiao_esp32c3.BUTTON_PIN] = 1
            await asyncio.sleep_ms(300)
            seen["pressed"] = app.ble.radio_on
            naps = len(simhw.sleeps)
            await asyncio.sleep_ms(500)
            seen["naps_with_radio"] = len(simhw.sleeps) - naps
            app.stream_mode, app.stream_rate = P.STREAM_QUAT, 50  # a host streams
            # (noticed at the next FIFO read: the clip may be still again, reading slowly)
            await asyncio.sleep_ms(PW.PROFILES[PW.STILL][2] + 300)
            seen["streaming"] = (app.profile, imu.regs[0x10] >> 4)
            app.stream_mode = P.STREAM_OFF
            await asyncio.sleep_ms(300)
            seen["stream_off"] = (app.profile, imu.regs[0x10] >> 4)
            seen["elapsed"] = (simhw.now_ms() - t0) / 1000
            app.running = False
            await asyncio.sleep_ms(100)
            task.cancel()

        asyncio.run(scenario())
    finally:
        PW.STILL_AFTER_S, PW.RADIO_BOOT_S = saved
    profile, odr, xl_lp, g_lp, radio, naps = seen["still"]
    assert profile == PW.STILL, seen
    assert odr == 2 and xl_lp and g_lp, seen  # 26 Hz, both sensors in low-power mode
    assert not radio and naps > 0, seen  # radio off after its window, CPU light-sleeping
    assert PW.PROFILES[PW.STILL][2] in simhw.sleeps  # the still profile's FIFO read period
    assert seen["moving"] == (PW.ACTIVE, 4, 0), seen  # 104 Hz, high-performance again
    assert seen["streaming"] == (PW.STREAM, 5), seen  # 208 Hz: any stream rate
    assert seen["stream_off"] == (PW.ACTIVE, 4), seen
    assert seen["pressed"] and seen["naps_with_radio"] == 0, seen
    # every sample went into the pipeline across the rate changes (the last read's worth
    # and the FIFO's latency aside)
    assert seen["elapsed"] - 1.2 < fed[0] < seen["elapsed"] + 0.05, (fed[0], seen)
    assert app.pipeline.power.still_s > 0
    # each step's time follows the previous one by about its length, across profile changes
    # and reads that complete no group
    gaps = [abs(steps[k][0] - steps[k - 1][0] - steps[k][1]) for k in range(1, len(steps))]
    assert all(steps[k][0] > steps[k - 1][0] for k in range(1, len(steps)))
    assert max(gaps) < 0.1, max(gaps)


def test_an_imu_opened_while_still_has_its_wake_up_armed():
    # the sensor re-probed after a loose cable, while the clip was in the still profile
    imu, _hap, _motion = world.build(xiao_esp32c3, Still())
    app = App(xiao_esp32c3, fresh_root("power-reopen"))
    app.profile = PW.STILL
    drv = app._open_imu()
    assert imu.regs[0x10] >> 4 == 2 and drv.decimate == PW.PROFILES[PW.STILL][1]
    assert drv.turn_lsb > 0 and drv.turn_wakes
    # and one opened while moving has its fine groups for fast turns armed
    app.profile = PW.ACTIVE
    drv = app._open_imu()
    assert drv.decimate == PW.PROFILES[PW.ACTIVE][1] and drv.turn_lsb > 0
    assert not drv.turn_wakes and drv.fast_group == PW.FAST_GROUP
