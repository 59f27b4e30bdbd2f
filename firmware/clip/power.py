# Power management: how fast the clip senses, when its radio is on, when the CPU may sleep.
#
# Two facts of MicroPython on the ESP32 shape this. Its float code is slow (a fused step costs
# milliseconds of CPU on an ESP32-C3), so the step rate is what the battery pays for. And it
# cannot keep a BLE link or advertising alive through machine.lightsleep()
# (micropython/micropython#6396) while its idle loop does not light-sleep on its own: with the
# radio on, the CPU idles awake at modem-sleep current. Hence:
#
# - Sensing: while the wearer moves, the IMU runs at 104 Hz and the pipeline takes steps of 16
#   samples (6.5 Hz) - except in fast turns, whose samples go one by one (104 Hz steps): a coarse
#   step's summed gyro and averaged accelerometer are only exact while the rotation is slow,
#   and the trunk turns fast only for moments. After ``STILL_AFTER_S`` without turning or
#   shaking, the IMU drops to 26 Hz in its low-power mode and the pipeline takes 0.5 s steps.
#   The first sample that turns or moves ends the coarse steps (the driver's wake-up), and
#   the first step that turns or shakes brings the moving profile back at the end of that
#   FIFO read.
#   The BROAD trials and the simulated wearers measure what each step size costs in accuracy
#   (docs/benchmarks.md).
# - Radio: on in windows only - after power-up and a button press (time to pair or sync),
#   after a link ends (the host may come back), a short window every few minutes (a host
#   syncing on its own finds the clip), and for as long as a host is connected.
# - CPU: with the radio off, the sampler light-sleeps between FIFO reads (the FIFO keeps
#   sampling); the button wakes it.
from micropython import const

ACTIVE = const(0)
STILL = const(1)
STREAM = const(2)  # a host streams: every rate it may ask for (raw up to 200 Hz)

# per profile: IMU rate (Hz), samples per fused step, FIFO read period (ms), IMU low-power
# mode. Each read is a wake-up from light sleep: the moving profile reads every 160 ms
# (17 samples; a buzz starts at most that late), the still one every 500 ms (the wake-up
# works sample by sample whenever the FIFO is read).
PROFILES = ((104, 16, 160, False), (26, 13, 500, True), (208, 4, 40, False))
#: rad/s about any axis (raw, bias included): in the STILL profile the first sample turning
#: faster ends the coarse grouping at once (the driver's wake-up, clip.drivers.imu), so a
#: lift starting from stillness is followed sample by sample until the full rate is back...
WAKE_SAMPLE_RATE = 0.15
#: ...and so does the first sample whose accelerometer moved more than this (m/s^2, any axis)
#: from the open group's first: a squat can start without turning the trunk.
WAKE_SAMPLE_ACCEL = 0.5
#: In the ACTIVE profile, samples turning faster than this (rad/s, any axis) go in groups of
#: FAST_GROUP (the driver's fine groups, clip.drivers.imu.FifoImu.set_fast).
FAST_SAMPLE_RATE = 0.5
FAST_GROUP = 1


def raw_turn_threshold(rate, bx, by, bz):
    """A turn threshold for raw gyro samples (bias included, any axis), rad/s: ``rate`` on
    top of the largest zero-rate offset the fusion has learnt (an MPU-6050's is up to
    20 deg/s, beyond WAKE_SAMPLE_RATE: without this a still clip would never stay still)."""
    return rate + max(abs(bx), abs(by), abs(bz))


#: Housekeeping period per profile, ms (a garbage collection and the battery's ADC): still,
#: the heap fills slowly and the battery does not change in seconds.
HOUSEKEEPING_MS = (1000, 4000, 1000)

STILL_AFTER_S = 5.0  # continuous stillness before the low-rate profile
_STILL_RATE = 0.05  # rad/s (bias-corrected): the trunk is not turning below this...
_STILL_ENERGY = 0.04  # (m/s^2)^2: ...and its linear acceleration is this quiet
_WAKE_RATE = 0.15  # rad/s: a step turning faster than this is movement
_WAKE_ENERGY = 0.25  # (m/s^2)^2

# radio windows, s (plain globals, not const(): read rarely, and tests shorten them)
RADIO_BOOT_S = 120  # after power-up or a button press: time to pair or sync
RADIO_AFTER_LINK_S = 60  # after a link ends
RADIO_EVERY_S = 300  # a short window this often...
RADIO_SHORT_S = 4  # ...this long (fast advertising: a scanning host sees it at once)


class SensingPolicy:
    """ACTIVE or STILL from the fused steps' turn rate and movement energy.

    ``update`` is called once per fused step and returns True when the mode changed (the
    app then switches the IMU to ``PROFILES[mode]``)."""

    def __init__(self):
        self.mode = ACTIVE
        self._quiet_s = 0.0
        self.still_s = 0.0  # time spent in STILL so far (diagnostics, benchmarks)

    def update(self, turn_rate, energy, dt):
        if self.mode == ACTIVE:
            if turn_rate < _STILL_RATE and energy < _STILL_ENERGY:
                self._quiet_s += dt
                if self._quiet_s >= STILL_AFTER_S:
                    self.mode = STILL
                    return True
            else:
                self._quiet_s = 0.0
            return False
        self.still_s += dt
        if turn_rate > _WAKE_RATE or energy > _WAKE_ENERGY:
            self.wake()
            return True
        return False

    def wake(self):
        """Back to the full rate (movement, a calibration, a stream)."""
        self.mode = ACTIVE
        self._quiet_s = 0.0


class RadioWindows:
    """When the radio should be on, from the device clock (ms)."""

    def __init__(self, now_ms):
        self.until = now_ms + RADIO_BOOT_S * 1000
        self.next_short = now_ms + RADIO_EVERY_S * 1000

    def open(self, now_ms, seconds):
        """Keep the radio on for at least ``seconds`` from now."""
        if now_ms + seconds * 1000 > self.until:
            self.until = now_ms + seconds * 1000

    def wanted(self, now_ms, connected):
        if now_ms >= self.next_short:
            self.open(now_ms, RADIO_SHORT_S)
            self.next_short = now_ms + RADIO_EVERY_S * 1000
        return connected or now_ms < self.until
