# The clip's asyncio wiring: IMU sampling into the pipeline, haptics, the button, battery and
# fault handling, and the control surface (cmd_* handlers called by clip.control).
#
# Task ownership: ``sampler`` owns the IMU and the pipeline; ``haptics`` owns the motor
# output; ``button`` and ``housekeeping`` only post requests (calibrate, snooze, buzz). Nothing
# awaits I/O longer than one FIFO burst (~1 ms of I2C at 400 kHz).
import asyncio
import gc
import sys
import time

from machine import ADC, I2C, PWM, Pin, lightsleep, reset_cause, unique_id
from micropython import const

from clip import VERSION, control
from clip import fusion as FU
from clip import haptics as H
from clip import power as PW
from clip import protocol as P
from clip import settings as S
from clip.button import Button
from clip.drivers.imu import FifoImu, ImuError, SampleClock
from clip.eventlog import EventLog
from clip.pipeline import Pipeline
from clip.store import Store

# IMU rate, samples per fused step and FIFO read period come from clip.power.PROFILES: 104 Hz
# in groups of 16, fast turns sample by sample, a read every 160 ms while the wearer moves.
RETRY_MS = const(2000)  # a missing or failed IMU is probed again this often
FAULT_BUZZ_MS = const(10000)  # the fault pattern repeats this often while the fault lasts
# The button's gestures (docs/user-guide.md): every press opens the radio window (pair or sync)
# and does nothing else, so "press, then sync" cannot change the coaching; a double press
# (two short presses, released within DOUBLE_PRESS_MS) snoozes for SHORT_SNOOZE_MIN or ends a
# snooze; held 2 s: calibrate; held 8 s: forget the paired computers.
SHORT_PRESS_MS = const(50)  # shorter is contact bounce
DOUBLE_PRESS_MS = const(700)  # release to release
LONG_PRESS_MS = const(2000)  # button: calibrate
VERY_LONG_PRESS_MS = const(8000)  # button: forget bonds
SHORT_SNOOZE_MIN = const(30)
LOW_BATTERY_MV = const(3500)
RESTART_MS = const(1000)  # a failed task starts again after this

IMU_KINDS = {"mpu6050": P.IMU_MPU6050, "lsm6dsox": P.IMU_LSM6DSOX}  # board.IMU -> GET_INFO


def _reset_cause():
    """machine.reset_cause() as the BOOT record carries it (P.RESET_CAUSE_*; 0: unknown)."""
    try:
        cause = reset_cause()
    except (AttributeError, OSError):
        return P.RESET_CAUSE_UNKNOWN
    return cause if 0 < cause <= P.RESET_CAUSE_SOFT else P.RESET_CAUSE_UNKNOWN


class App:
    def __init__(self, board, root=".", log=None):
        self.board = board
        self.store = Store(root)
        self.settings = S.validated(self.store.load("settings"))
        neutral = self.store.load("neutral")  # an up vector, or a re-anchored quaternion
        if not (isinstance(neutral, list) and len(neutral) in (3, 4)):
            neutral = None
        self.log = log or EventLog(root)
        self.ble = None  # the BLE peripheral, made in run() (it needs the event loop)
        self.listeners = []  # called with every packed record (BLE events characteristic)
        self.reply_sink = None  # called with control replies sent later (calibration)
        self.replies = []  # the last late replies (also sent to reply_sink)
        self.pipeline = Pipeline(self.settings, self._emit, neutral)
        self.player = H.Player(self.settings["intensity_pct"])
        self._buzz_event = asyncio.Event()
        self.imu = None
        self.haptic = None
        self.fault = 0  # the IMU or haptic fault that lasts (P.FAULT_*), 0 when none
        self.task_failures = 0  # tasks restarted since boot (FAULT_TASK records say which)
        self.i2c = I2C(board.I2C_BUS, scl=Pin(board.I2C_SCL), sda=Pin(board.I2C_SDA),
                       freq=board.I2C_HZ)
        self._t_ms = 0  # device time since boot, ms (monotonic, wrap-free)
        self._last_tick = time.ticks_ms()
        self.wall_offset_ms = None  # wall clock = device time + offset, once the host set it
        self._cal_token = None
        self.token = 0  # token of the control request being handled
        self.stream_mode = P.STREAM_OFF
        self.stream_rate = 0
        self._stream_acc = 0.0
        self.running = True
        self.battery_mv = 0
        self.battery_pct = 0
        self._low_battery_sent = False
        self.button = None if board.BUTTON_PIN is None else Button(board.BUTTON_PIN)
        self._button_down = False
        self.profile = PW.ACTIVE  # the IMU's current clip.power profile
        self._open_haptic()
        self._emit(P.REC_BOOT, 0.0, (VERSION[0], VERSION[1], VERSION[2], _reset_cause()))

    # --- time and records ----------------------------------------------------------------
    def now_ms(self):
        tick = time.ticks_ms()
        self._t_ms += time.ticks_diff(tick, self._last_tick)
        self._last_tick = tick
        return self._t_ms

    def _emit(self, rtype, t, values):
        if rtype == P.REC_TRACE:
            payload = P.trace_payload(values[0], values[1])
        else:
            payload = P.event_payload(rtype, *values)
        ms = int(t * 1000)
        flags = 0
        if self.wall_offset_ms is not None:
            ms += self.wall_offset_ms
            flags = P.FLAG_WALL_CLOCK
        if ms < 0:
            ms = 0
        rec = self.log.append(rtype, ms // 1000, ms % 1000, flags, payload)
        for listener in self.listeners:
            listener(rec)

    def fault_event(self, code, detail=0):
        self.fault = code
        self._emit(P.REC_FAULT, self.now_ms() / 1000, (code, detail))

    # --- hardware ------------------------------------------------------------------------
    def _open_imu(self):
        b = self.board
        name = "I2C%d (SDA %d, SCL %d)" % (b.I2C_BUS, b.I2C_SDA, b.I2C_SCL)
        if b.IMU == "lsm6dsox":
            from clip.drivers.lsm6dsox import LSM6DSOX
            imu: FifoImu = LSM6DSOX(self.i2c, b.IMU_ADDRESS, b.IMU_MOUNT, name)
        else:
            from clip.drivers.mpu6050 import MPU6050
            imu = MPU6050(self.i2c, b.IMU_ADDRESS, b.IMU_MOUNT, name)
        self._apply_profile(imu)
        return imu

    def _apply_profile(self, imu):
        """Set the IMU's rate, grouping, power mode and wake-up for ``self.profile`` and
        restart its FIFO."""
        rate, group, _, low_power = PW.PROFILES[self.profile]
        imu.configure(rate_hz=rate, accel_g=FU.ACCEL_RANGE_G, gyro_dps=FU.GYRO_RANGE_DPS,
                      low_power=low_power)
        imu.set_decimation(group)
        f = self.pipeline.fusion  # its gyro offset raises the raw turn thresholds
        if self.profile == PW.STILL:
            imu.set_wake(PW.raw_turn_threshold(PW.WAKE_SAMPLE_RATE, f.bx, f.by, f.bz),
                         PW.WAKE_SAMPLE_ACCEL)
        elif self.profile == PW.ACTIVE:
            imu.set_fast(PW.raw_turn_threshold(PW.FAST_SAMPLE_RATE, f.bx, f.by, f.bz),
                         PW.FAST_GROUP)
        imu.start()

    def _open_haptic(self):
        b = self.board
        try:
            if b.HAPTIC == "drv2605":
                from clip.drivers.drv2605 import DRV2605
                self.haptic = DRV2605(self.i2c, b.HAPTIC_ADDRESS, b.HAPTIC_LRA)
            else:
                from clip.drivers.erm import ErmMotor
                self.haptic = ErmMotor(PWM(Pin(b.MOTOR_PIN, Pin.OUT)))
        except Exception as e:  # the clip still logs and syncs without its motor
            print("haptic:", e)
            self.haptic = None
            self.fault_event(P.FAULT_NO_HAPTIC)

    def buzz(self, pattern):
        self.player.start(pattern, self.now_ms())
        self._buzz_event.set()

    # --- tasks ---------------------------------------------------------------------------
    async def sampler(self):
        clock = SampleClock(PW.PROFILES[self.profile][0])
        first = 0.0
        while self.running:
            if self.imu is None:
                try:
                    self.imu = self._open_imu()
                    clock = SampleClock(self.imu.rate_hz)
                    if self.fault in (P.FAULT_NO_IMU, P.FAULT_IMU_LOST):
                        self.fault = 0
                except (ImuError, OSError) as e:
                    if self.fault not in (P.FAULT_NO_IMU, P.FAULT_IMU_LOST):
                        print("imu:", e)
                        self.fault_event(P.FAULT_NO_IMU, self.board.IMU_ADDRESS)
                    await asyncio.sleep_ms(RETRY_MS)
                    continue
            await self._nap(PW.PROFILES[self.profile][2])
            try:
                carried = self.imu.pending()  # samples of an open group from the last read
                before = self.imu.samples
                groups = self.imu.drain()
            except OSError:
                self.imu = None
                self.fault_event(P.FAULT_IMU_LOST, self.board.IMU_ADDRESS)
                continue
            imu = self.imu
            drained = imu.samples - before
            if drained:  # every sample read moves the timeline, complete group or not
                first = clock.drained(self.now_ms(), drained)
            p = self.pipeline
            ble = self.ble
            streaming = ble is not None and self.stream_mode != P.STREAM_OFF
            sizes = imu.sizes
            out = imu.out
            end = -carried - 1  # index of a group's last sample among those just read
            for k in range(groups):
                n = sizes[k]
                end += n
                step = n * clock.period_ms / 1000.0
                self._feed((first + end * clock.period_ms) / 1000.0, out, 6 * k,
                           n / imu.rate_hz, streaming, step)
            if imu.woke or streaming or self._cal_token is not None:
                p.power.wake()  # movement; streams and calibration want every step
                imu.woke = False
            wanted = PW.STREAM if streaming else p.power.mode
            if wanted != self.profile:
                # the open group goes in on its own, then the IMU changes rate
                n = imu.close_group()
                if n:  # its last sample is the last one read
                    t_end = (clock.next_ms - clock.period_ms) / 1000.0
                    self._feed(t_end, out, 0, n / imu.rate_hz, streaming, 0.0)
                self.profile = wanted
                self._apply_profile(imu)
                clock = SampleClock(imu.rate_hz)
            # raw streaming faster than the fused rate needs every sample
            group = PW.PROFILES[self.profile][1]
            want = 1 if (self.stream_mode == P.STREAM_RAW
                         and self.stream_rate * group > imu.rate_hz) else group
            if want != imu.decimate:
                imu.set_decimation(want)
            if self._cal_token is not None and p.calibration_result is not None:
                self._calibration_done(self._cal_token, p.calibration_result)
            if p.neutral_changed:  # re-anchored after a slip: kept across a restart
                p.neutral_changed = False
                self.store.save("neutral", list(p.neutral.quat))

    def _feed(self, t, out, i, period, streaming, step):
        pattern = self.pipeline.feed(t, out[i], out[i + 1], out[i + 2], out[i + 3], out[i + 4],
                                     out[i + 5], period)
        if pattern >= 0:
            self.buzz(pattern)
        if streaming:
            self._stream(self.ble, t, step, out, i)

    def may_sleep(self):
        """Light sleep is allowed: no radio to keep alive, no buzz playing, the button up,
        no calibration under way."""
        ble = self.ble
        # the pin itself, not only the button task's view: a press that just woke the CPU
        # must not send it back to sleep before that task has seen it
        button_up = self.button is None or self.button.up()
        return ((ble is None or not ble.radio_on) and self.player.pattern is None
                and button_up and not self._button_down and self._cal_token is None
                and self.running)

    async def _nap(self, ms):
        """Wait ``ms`` for the FIFO to fill: in light sleep when allowed (it stops the whole
        loop, so only then), else on the event loop."""
        if self.may_sleep():
            lightsleep(ms)
            await asyncio.sleep_ms(0)
        else:
            await asyncio.sleep_ms(ms)

    def _stream(self, ble, t, step, out, i):
        """Offer one fused step to the stream at the requested rate (a step is kept when the
        stream's clock has come round)."""
        self._stream_acc += self.stream_rate * step
        if self._stream_acc < 1.0:
            return
        self._stream_acc -= 1.0
        if self._stream_acc > 1.0:
            self._stream_acc = 0.0
        period_us = int(1000000 / self.stream_rate)
        if self.stream_mode == P.STREAM_QUAT:
            ble.stream_sample(t * 1000, period_us, self.pipeline.fusion.quaternion())
        else:
            ble.stream_sample(t * 1000, period_us, (out[i + 3], out[i + 4], out[i + 5], out[i],
                                                    out[i + 1], out[i + 2]))

    async def haptics(self):
        while self.running:
            level, wait = self.player.step(self.now_ms())
            if self.haptic is not None:
                try:
                    self.haptic.set_level(level)
                except OSError:
                    pass  # a flaky motor driver must not stop the clip
            self._buzz_event.clear()
            if wait < 0:
                await self._buzz_event.wait()
            else:
                try:
                    await asyncio.wait_for_ms(self._buzz_event.wait(), wait)
                except asyncio.TimeoutError:
                    pass

    async def buttons(self):
        """Gestures from the button's edges, timed by when each edge happened (the task
        itself may run late: a pipeline step, a radio event)."""
        button = self.button
        if button is None:
            return
        pressed_at = None
        last_short = None  # release time of a short press that may be a double press's first
        while self.running:
            await asyncio.sleep_ms(20)
            while True:
                change = button.take()
                if change is None:
                    break
                down, age = change
                self._button_down = down
                t = self.now_ms() - age
                if down:
                    pressed_at = t
                elif pressed_at is not None:
                    last_short = self._gesture(t - pressed_at, t, last_short)
                    pressed_at = None

    def _gesture(self, held, t, last_short):
        """Act on a press held ``held`` ms and released at ``t`` (device ms); returns the
        release time a next short press pairs with for a double press (None: none)."""
        if held < SHORT_PRESS_MS:
            return last_short  # contact bounce
        if self.ble is not None:  # any press: time to pair or sync
            self.ble.open_window(PW.RADIO_BOOT_S)
        if held >= VERY_LONG_PRESS_MS:
            self.cmd_forget_bonds()
        elif held >= LONG_PRESS_MS:
            try:
                self.start_calibration(None)
            except P.CommandError:
                pass  # no IMU (a fault the clip shows already) or one running
        elif last_short is not None and t - last_short <= DOUBLE_PRESS_MS:
            snoozed = self.pipeline.posture.snooze_until > t / 1000
            self.cmd_snooze(0 if snoozed else SHORT_SNOOZE_MIN)
        else:
            return t
        return None

    async def housekeeping(self):
        last_fault_buzz = -FAULT_BUZZ_MS
        while self.running:
            now = self.now_ms()
            if self.fault in (P.FAULT_NO_IMU, P.FAULT_IMU_LOST) and \
                    now - last_fault_buzz >= FAULT_BUZZ_MS:
                last_fault_buzz = now
                self.buzz(P.PATTERN_FAULT)
            self._read_battery()
            gc.collect()
            await asyncio.sleep_ms(PW.HOUSEKEEPING_MS[self.profile])

    def _read_battery(self):
        pin = self.board.BATTERY_ADC_PIN
        if pin is None:
            return
        mv = ADC(Pin(pin), atten=ADC.ATTN_11DB).read_uv() * self.board.BATTERY_DIVIDER // 1000
        self.battery_mv = int(mv)
        # LiPo: 3.3 V empty .. 4.2 V full, linear enough for a percentage on a status line
        pct = (self.battery_mv - 3300) * 100 // 900
        pct = 0 if pct < 0 else (100 if pct > 100 else pct)
        changed = pct != self.battery_pct
        self.battery_pct = pct  # before the radio reads it for its advertising data
        if changed and self.ble is not None:
            self.ble.battery(pct)
        if self.battery_mv < LOW_BATTERY_MV and not self._low_battery_sent and mv > 0:
            self._low_battery_sent = True
            self._emit(P.REC_LOW_BATTERY, self.now_ms() / 1000,
                       (self.battery_mv, self.battery_pct))
            self.buzz(P.PATTERN_LOW_BATTERY)
            self._emit(P.REC_BUZZ, self.now_ms() / 1000,
                       (P.PATTERN_LOW_BATTERY, P.REASON_LOW_BATTERY))
        elif self.battery_mv > LOW_BATTERY_MV + 100:
            self._low_battery_sent = False

    def _start_ble(self):
        try:
            from clip.ble import Peripheral
        except ImportError:  # a port without bluetooth: the clip still coaches and logs
            return None
        name = "%s-%s" % (P.DEVICE_NAME_PREFIX, self.serial()[-4:])
        ble = Peripheral(self, name, secure=self.settings["require_encryption"] == 1)
        self.listeners.append(ble.event)
        self.reply_sink = ble.control_reply
        return ble

    async def _supervised(self, number, body):
        """Run the task ``body`` (a coroutine function) for as long as the clip runs; when it
        fails, print the traceback, log FAULT_TASK with its number and start it again a
        second later: a clip whose sampler died would look healthy and coach nothing."""
        while self.running:
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if hasattr(sys, "print_exception"):
                    sys.print_exception(e)
                else:  # CPython, which runs the firmware's tests too
                    print("Traceback (task %d):" % number, repr(e))
                self.task_failures += 1
                self.fault_event(P.FAULT_TASK, number)
                await asyncio.sleep_ms(RESTART_MS)

    async def run(self):
        self.ble = self._start_ble()
        bodies = [(P.TASK_SAMPLER, self.sampler), (P.TASK_HAPTICS, self.haptics),
                  (P.TASK_BUTTONS, self.buttons), (P.TASK_HOUSEKEEPING, self.housekeeping)]
        if self.ble is not None:
            bodies.append((P.TASK_RADIO, self.ble.run))
        tasks = [asyncio.create_task(self._supervised(n, b)) for n, b in bodies]
        while self.running:
            await asyncio.sleep_ms(100)
        for task in tasks:
            task.cancel()
        self.pipeline.posture.finish(self.now_ms() / 1000)

    # --- control -------------------------------------------------------------------------
    def control(self, data):
        """A control write: the reply to notify now, or None when it follows later."""
        return control.handle(self, data)

    def _reply_later(self, reply):
        self.replies.append(reply)  # the last few, for the REPL and tests
        if len(self.replies) > 8:
            self.replies.pop(0)
        if self.reply_sink is not None:
            self.reply_sink(reply)

    def start_calibration(self, token):
        if self.imu is None:
            raise P.CommandError(P.ST_NO_SENSOR, "no IMU")
        if self.pipeline.capture is not None:
            raise P.CommandError(P.ST_BUSY, "calibration running")
        self._cal_token = token if token is not None else -1
        self.pipeline.start_calibration()

    def _calibration_done(self, token, result):
        status, values = result
        self._cal_token = None
        if status == P.ST_OK:
            n = self.pipeline.neutral
            self.store.save("neutral", [n.nx, n.ny, n.nz])
        if token >= 0:
            self._reply_later(P.pack_reply(P.OP_CALIBRATE, token, status, values))

    def _local_clock(self):
        """Tell the pipeline the local time of day (quiet hours), once the host set the wall
        clock: UTC seconds since 2000-01-01 begin at midnight, plus the host's UTC offset."""
        if self.wall_offset_ms is not None:
            self.pipeline.local_offset_s = (self.wall_offset_ms / 1000
                                            + 60 * self.settings["utc_offset_min"])

    def cmd_get_info(self):
        kind = IMU_KINDS.get(self.board.IMU, P.IMU_UNKNOWN)
        return (P.PROTOCOL_VERSION, VERSION[0], VERSION[1], VERSION[2], kind, 0)

    def cmd_calibrate(self):
        self.start_calibration(self.token)
        return control.PENDING

    def cmd_get_config(self, key):
        row = S.row_by_key(key)
        return (key, self.settings[row[1]])

    def cmd_set_config(self, key, value):
        row = S.row_by_key(key)
        new = S.with_value(self.settings, row[1], value)  # raises before anything changes
        self.store.save("settings", new)
        self.settings = new
        self.pipeline.configure(new)
        self._local_clock()
        self.player.intensity = new["intensity_pct"]
        if self.ble is not None:  # applies when the current connection ends
            self.ble.secure_wanted = new["require_encryption"] == 1
        return (key, value)

    def cmd_snooze(self, minutes):
        t = self.now_ms() / 1000
        self.pipeline.posture.snooze(t, minutes)
        self._emit(P.REC_SNOOZE, t, (minutes,))
        return (minutes,)

    def cmd_buzz_test(self, pattern):
        self.buzz(pattern)
        self._emit(P.REC_BUZZ, self.now_ms() / 1000, (pattern, P.REASON_TEST))
        return (pattern,)

    def cmd_set_time(self, seconds, millis):
        prev_ms = self.now_ms()
        prev_flags = 0
        if self.wall_offset_ms is not None:
            prev_ms += self.wall_offset_ms
            prev_flags = P.FLAG_WALL_CLOCK
        self.wall_offset_ms = seconds * 1000 + millis - self.now_ms()
        self._local_clock()
        self._emit(P.REC_TIME_SET, self.now_ms() / 1000, (prev_ms // 1000, prev_flags))
        return (seconds, millis)

    def cmd_stream(self, mode, rate):
        if mode != P.STREAM_OFF and self.imu is None:
            raise P.CommandError(P.ST_NO_SENSOR, "no IMU")
        if mode != P.STREAM_OFF and self.ble is not None:
            need = P.stream_min_mtu(mode, rate)
            if self.ble.mtu < need:
                raise P.CommandError(P.ST_MTU_TOO_SMALL, "MTU %d < %d" % (self.ble.mtu, need))
        self.stream_mode = mode
        self.stream_rate = rate
        self._stream_acc = 0.0
        return (mode, rate)

    def _need_ble(self):
        if self.ble is None:
            raise P.CommandError(P.ST_FAILED, "no BLE")
        return self.ble

    def cmd_log_info(self):
        log = self.log
        return (log.first_seq(), log.next_seq, log.stored(), log.dropped)

    def cmd_log_send(self, first, limit):
        return self._need_ble().start_transfer(first, limit)

    def cmd_log_ack(self, seq):
        if seq >= self.log.next_seq:  # the host cannot have stored what was never written
            raise P.CommandError(P.ST_OUT_OF_RANGE, "ack of %d: next is %d" % (
                seq, self.log.next_seq))
        return (self.log.ack(seq),)

    def cmd_log_abort(self):
        self._need_ble().abort_transfer()
        return ()

    def cmd_factory_reset(self, magic):
        self.store.remove("settings")
        self.store.remove("neutral")
        self.settings = S.defaults()
        self.pipeline.configure(self.settings)
        self._local_clock()
        self.pipeline.neutral.set(1.0, 0.0, 0.0)
        self.pipeline.neutral.calibrated = False
        self.player.intensity = self.settings["intensity_pct"]
        if self.ble is not None:  # as SET_CONFIG: applies when the current connection ends
            self.ble.secure_wanted = self.settings["require_encryption"] == 1
        return ()

    def cmd_forget_bonds(self):
        if self.ble is not None:
            self.ble.forget_bonds()
        else:
            self.store.remove("bonds")
        return ()

    def cmd_get_status(self):
        bits = 0
        if self.fault or self.task_failures:
            bits |= P.STATE_FAULT
        if self.pipeline.neutral.calibrated:
            bits |= P.STATE_CALIBRATED
        if self.pipeline.capture is not None:
            bits |= P.STATE_CALIBRATING
        if self.pipeline.posture.snooze_until > self.now_ms() / 1000:
            bits |= P.STATE_SNOOZED
        if self.stream_mode != P.STREAM_OFF:
            bits |= P.STATE_STREAMING
        if self.wall_offset_ms is not None:
            bits |= P.STATE_WALL_CLOCK
        if 0 < self.battery_mv < LOW_BATTERY_MV:
            bits |= P.STATE_LOW_BATTERY
        return (self.battery_mv, self.battery_pct, bits, self.now_ms() // 1000)

    def serial(self):
        return "".join("%02x" % b for b in unique_id())
