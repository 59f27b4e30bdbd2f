# The whole app on the virtual clip's hardware, in real time; MicroPython and CPython.
import asyncio
import json
import os
import struct
import sys
import time

import simhw
import world
from fake_imu import Still, TiltRamp

from clip import protocol as P
from clip.app import App
from clip.boards import devkit_mpu6050, xiao_esp32c3

TMP = "/tmp/postureclip-fw-%s-%d" % (sys.implementation.name, time.time_ns())


def fresh_root(name):
    root = TMP + "-" + name
    try:
        os.mkdir(root)
    except OSError:
        for f in os.listdir(root):
            os.remove(root + "/" + f)
    return root


def command(op, token, *args):
    return bytes((op, token)) + struct.pack(P.COMMAND_ARGS[op], *args)


async def run_for(app, ms, until=None):
    task = asyncio.create_task(app.run())
    waited = 0
    while waited < ms and not (until and until()):
        await asyncio.sleep_ms(50)
        waited += 50
    app.running = False
    await asyncio.sleep_ms(150)
    task.cancel()
    return waited


def records(app, rtype):
    out = []
    for rec in app.log.read_from(0):
        _size, t, _seq, _time_s, _time_ms, _flags, payload = P.parse_record(rec)
        if t == rtype:
            out.append(struct.unpack(P.RECORD_PAYLOAD[rtype], bytes(payload)))
    return out


def test_calibrate_then_slouch_buzzes_on_the_motor():
    # the clip sits 20 deg tilted on the back
    _imu, hap, motion = world.build(xiao_esp32c3, TiltRamp(-20.0, -20.0, 0.0))
    app = App(xiao_esp32c3, fresh_root("cal"))
    assert app.control(command(P.OP_SET_CONFIG, 1, 3, 3)) == P.pack_reply(
        P.OP_SET_CONFIG, 1, P.ST_OK, (3, 3))  # slouch delay 3 s

    async def scenario():
        def slouch_buzz_played():
            return (0, 1) in records(app, P.REC_BUZZ) and app.player.pattern is None

        task = asyncio.create_task(run_for(app, 12000, slouch_buzz_played))
        await asyncio.sleep_ms(300)
        assert app.control(command(P.OP_CALIBRATE, 7)) is None  # the reply follows
        for _ in range(200):  # 10 s at most
            if app.replies:
                break
            await asyncio.sleep_ms(50)
        assert app.replies, "no calibration reply"
        # bend forward 30 deg from the calibrated neutral, over one second
        motion.motion = TiltRamp(-20.0, 10.0, simhw.now_ms() / 1000)
        await task

    asyncio.run(scenario())
    reply = app.replies[0]
    assert reply[:3] == bytes((P.OP_CALIBRATE | 0x80, 7, P.ST_OK)), reply
    _w, _x, _y, _z, tilt = struct.unpack("<hhhhh", reply[3:])
    assert abs(tilt - 200) < 10, tilt
    assert app.cmd_get_status()[2] & P.STATE_CALIBRATED
    assert json.load(open(app.store.path("neutral")))[0] > 0.9
    buzzes = records(app, P.REC_BUZZ)
    assert (2, 6) in buzzes and (0, 1) in buzzes, buzzes  # calibration done, then slouch
    levels = [v for _, v in hap.rtp_levels()]
    gentle = 60 * 80 // 100 * 255 // 100  # the gentle pattern at the default intensity
    assert levels[-4:] == [gentle, 0, gentle, 0], levels
    assert abs(app.pipeline.flexion - 30.0) < 1.0, app.pipeline.flexion


def test_missing_imu_is_a_visible_fault_and_the_clip_keeps_running():
    world.build(devkit_mpu6050, imu=False)
    app = App(devkit_mpu6050, fresh_root("fault"))

    def motor():
        return [d for _, pin, d in simhw.pwm_log if pin == devkit_mpu6050.MOTOR_PIN]

    def fault_code_played():  # both pulses on the motor, and the motor off again
        m = motor()
        return m.count(0) >= 3 and len(m) >= 5 and m[-1] == 0

    async def scenario():
        # each step is waited for, not timed (on a loaded machine the pattern and the re-probe
        # take longer; the bounds are generous)
        task = asyncio.create_task(run_for(
            app, 60000, lambda: app.imu is not None and app.player.pattern is None))
        await asyncio.sleep_ms(500)
        status = app.control(command(P.OP_GET_STATUS, 2))
        assert status[2] == P.ST_OK and status[6] & P.STATE_FAULT, status
        assert app.control(command(P.OP_CALIBRATE, 3)) == bytes(
            (P.OP_CALIBRATE | 0x80, 3, P.ST_NO_SENSOR))
        for _ in range(600):
            if fault_code_played():
                break
            await asyncio.sleep_ms(50)
        assert fault_code_played(), (motor(), app.player.pattern, app.player._i, app.now_ms())
        # the sensor comes back (a loose cable pushed in): the next probe finds it
        simhw.attach(0, 0x68, world.FAKE_IMUS["mpu6050"](Still(), devkit_mpu6050.IMU_MOUNT))
        await task

    asyncio.run(scenario())
    assert records(app, P.REC_FAULT)[0] == (P.FAULT_NO_IMU, devkit_mpu6050.IMU_ADDRESS)
    assert app.imu is not None and app.fault == 0


def test_settings_are_validated_and_persisted():
    world.build(xiao_esp32c3)
    root = fresh_root("settings")
    app = App(xiao_esp32c3, root)
    bad = app.control(command(P.OP_SET_CONFIG, 4, 1, 80))  # slouch 80 deg: out of range
    assert bad == bytes((P.OP_SET_CONFIG | 0x80, 4, P.ST_OUT_OF_RANGE))
    assert app.store.load("settings") is None and app.settings["slouch_deg"] == 20
    assert app.control(command(P.OP_SET_CONFIG, 5, 1, 25))[2] == P.ST_OK
    assert app.control(command(P.OP_SET_CONFIG, 6, 9, 7200))[2] == P.ST_OUT_OF_RANGE \
        or app.settings["exposure_window_s"] >= 7200
    app2 = App(xiao_esp32c3, root)  # a reboot reads them back
    assert app2.settings["slouch_deg"] == 25
    assert app2.cmd_get_config(1) == (1, 25)
    with open(app.store.path("settings"), "w") as f:
        f.write('{"slouch_deg": 99, "lean_deg": "x"')  # torn or tampered file
    assert App(xiao_esp32c3, root).settings["slouch_deg"] == 20


def test_a_failing_task_is_restarted_logged_and_shown_in_status():
    # issue 20: the sampler died on one exception and the clip looked healthy, sensing nothing
    world.build(xiao_esp32c3, Still())
    app = App(xiao_esp32c3, fresh_root("task"))
    feed = app.pipeline.feed
    failures = [1]
    steps_after = [0]  # fused steps after the failure

    def failing_feed(*args):
        if failures:
            failures.pop()
            raise ValueError("injected")
        steps_after[0] += 1
        return feed(*args)

    app.pipeline.feed = failing_feed

    def sensing_again():
        return steps_after[0] > 5

    asyncio.run(run_for(app, 8000, sensing_again))
    assert sensing_again(), "the sampler did not come back"
    assert app.task_failures == 1
    assert records(app, P.REC_FAULT) == [(P.FAULT_TASK, P.TASK_SAMPLER)]
    assert app.cmd_get_status()[2] & P.STATE_FAULT
    # and the BOOT record says why the clip started (the simulated board: power-on)
    assert records(app, P.REC_BOOT)[0][3] == P.RESET_CAUSE_POWER_ON


def test_button_gestures_single_press_only_wakes_the_radio():
    # issue 16: "press the button, then sync" toggled the snooze on every press
    world.build(xiao_esp32c3, Still())
    app = App(xiao_esp32c3, fresh_root("gestures"))

    async def scenario():
        task = asyncio.create_task(run_for(app, 6000, lambda: done[0]))
        await asyncio.sleep_ms(300)
        simhw.press_button(150)  # single
        await asyncio.sleep_ms(1200)
        single = app.pipeline.posture.snooze_until
        simhw.press_button(150, 1000, 150)  # two singles, too far apart
        await asyncio.sleep_ms(2500)
        slow = app.pipeline.posture.snooze_until
        simhw.press_button(150, 250, 150)  # a double press
        await asyncio.sleep_ms(1000)
        double = app.pipeline.posture.snooze_until
        done[0] = True
        await task
        return single, slow, double

    done = [False]
    single, slow, double = asyncio.run(scenario())
    assert single < 0 and slow < 0, (single, slow)
    assert double > 0
    assert [r[0] for r in records(app, P.REC_SNOOZE)] == [30]
