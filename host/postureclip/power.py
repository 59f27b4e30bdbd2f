"""Battery-life model of the clip from datasheet currents and the firmware's duty cycle.

The firmware (firmware/clip/power.py) senses in two profiles - ACTIVE (IMU 104 Hz in groups
of 16, fast turns in pairs, a FIFO read every 160 ms) while the wearer moves and STILL (IMU
26 Hz in low-power mode, 0.5 s steps, a read every 500 ms) after 5 s without movement; a
third, STREAM (208 Hz in fours), serves a host that streams - and keeps its
radio on only in windows; with the radio off the CPU light-sleeps between FIFO reads, with it
on the CPU idles awake (MicroPython cannot keep BLE alive through light sleep).

Average current = CPU computing + CPU blocked on I2C + CPU idle (light sleep or awake) +
wake-ups + IMU + radio events + buzzes + the rest, weighted by the time in each state. The
CPU time per fused step and per sample comes from the measured MicroPython cost on the
development machine (benchmarks/firmware_cost.py) scaled by how much slower the chip runs
MicroPython float code (ESP32 at 240 MHz ~100-150x slower than the development machine; the
ESP32-C3 at 160 MHz, without an FPU, about 1.3x slower again). The still fraction of a
wearer's day and the fused steps per second in each profile (the groups follow the motion)
come from the firmware on simulated wearers (benchmarks/firmware_accuracy.py).
A model: figures to plan by, not measurements of a clip; inputs and sources in docs/power.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

# measured on the development machine, MicroPython unix port: median of 7 runs of
# benchmarks/mp_pipeline_cost.py (docs/power.md)
# fusion, angles, activity, power policy, the coaches, the slip, exercise and move watches
HOST_US_PER_FUSED_STEP = 36.5
# FIFO words -> integer sums, a group closed (scaled to floats) per 8 samples - about the
# moving profile's mean group on simulated wearers (104 Hz / 18.5 steps/s): the LSM6DSOX's
# viper decoder (0.15 us at the coarse groups of 16); the MPU-6050's (and the LSM6DSOX's
# before it moved to viper) is native-code Python
HOST_US_PER_SAMPLE_DECODE_VIPER = 0.26
HOST_US_PER_SAMPLE_DECODE_NATIVE = 1.17
HOUSEKEEPING_MS = 3.0  # one gc.collect() and battery ADC reading (estimate)

# radio event costs (ESP32 family, BLE): charge per event, mA*ms
ADV_EVENT_MA_MS = 3 * 10.0  # three channels, ~1 ms each at ~10 mA including wake-up
CONN_EVENT_MA_MS = 1.0 * 12.0  # an empty connection event
NOTIFY_EXTRA_MA_MS = 0.5 * 14.0  # one notification's extra air time
WAKE_MA_MS = 1.0 * 20.0  # leaving and re-entering light sleep


@dataclass(frozen=True)
class Build:
    name: str
    battery_mah: float
    cpu_active_ma: float  # MCU running MicroPython, radio idle
    light_sleep_ma: float  # light sleep with the radio off
    idle_awake_ma: float  # CPU idle but awake (radio on: no light sleep in MicroPython)
    slowdown: float  # MicroPython float code: this chip vs the development machine
    imu_ma: float  # both sensors, high-performance mode
    imu_low_power_ma: float  # the IMU's low-power mode at the STILL rate
    i2c_hz: float
    fifo_bytes_per_sample: int
    decode_us: float  # HOST_US_PER_SAMPLE_DECODE_* of its IMU's driver
    haptic_idle_ma: float
    haptic_active_ma: float  # driver + motor while buzzing
    other_ma: float = 0.0  # regulator quiescent, divider, LEDs
    usable_fraction: float = 0.85  # LiPo capacity actually used above the cut-off


@dataclass(frozen=True)
class Profile:
    """A sensing profile of firmware/clip/power.py (PROFILES)."""

    name: str
    sample_hz: float
    samples_per_step: int
    read_ms: float  # FIFO read period (each read a wake-up from light sleep)
    imu_low_power: bool
    housekeeping_s: float = 1.0  # period of the housekeeping task
    step_cost: float = 1.0  # CPU per fused step relative to today's MicroPython float code
    measured_steps_hz: float = 0.0  # fused steps/s on simulated wearers; 0: fixed groups

    @property
    def steps_hz(self) -> float:
        return self.measured_steps_hz or self.sample_hz / self.samples_per_step


#: Fused steps per second the firmware took in each profile on simulated wearers
#: (``benchmarks/firmware_accuracy.py --hours 20``, docs/benchmarks.md): the moving profile's
#: groups of 16 (6.5 Hz) become single samples in fast turns (session 7: pairs before,
#: 14.51 steps/s on the simulator of then); the still profile's wake-up makes every
#: sample a step until the moving profile is back.
ACTIVE_STEPS_HZ = 18.53
STILL_STEPS_HZ = 2.11

ACTIVE = Profile("active (moving)", 104, 16, 160, False, 1.0,
                 measured_steps_hz=ACTIVE_STEPS_HZ)
STILL = Profile("still", 26, 13, 500, True, 4.0, measured_steps_hz=STILL_STEPS_HZ)
STREAM = Profile("streaming", 208, 4, 40, False, 1.0)

# radio windows of firmware/clip/power.py, s
RADIO_BOOT_S = 120
RADIO_AFTER_LINK_S = 60
RADIO_EVERY_S = 300
RADIO_SHORT_S = 4
ADV_FAST_S = 30  # advertising every 100 ms for the first 30 s of a window, then every 1 s
ADV_FAST_INTERVAL_S = 0.1
ADV_SLOW_INTERVAL_S = 1.0

#: Fraction of a simulated waking day the firmware spent in STILL:
#: ``benchmarks/firmware_accuracy.py --hours 20`` (docs/benchmarks.md).
STILL_FRACTION_AWAKE = 0.758
#: The same before the still profile began after 5 s (it was 10 s, and only turning woke it:
#: going still sooner lost lifts that began with a squat until the accelerometer woke it too).
STILL_FRACTION_AWAKE_10S = 0.700


@dataclass(frozen=True)
class Day:
    """How the clip spends a day of continuous wear."""

    awake_h: float = 16.0
    still_awake: float = STILL_FRACTION_AWAKE
    night_h: float = 8.0  # asleep or off the body: still
    still_night: float = 0.98  # a turn in bed every ~20 min wakes it for ~20 s
    button_windows: int = 2  # presses a day (each opens RADIO_BOOT_S)
    sync_min: float = 2.0  # one daily sync, connected
    buzzes_per_hour: float = 6.0
    buzz_s: float = 0.6


WEARABLE = Build("wearable (XIAO ESP32-C3, LSM6DSOX, DRV2605L, 300 mAh)", battery_mah=300,
                 cpu_active_ma=22.0, light_sleep_ma=0.13, idle_awake_ma=12.0,
                 slowdown=130 * 1.3, imu_ma=0.55, imu_low_power_ma=0.17, i2c_hz=400_000,
                 fifo_bytes_per_sample=14, decode_us=HOST_US_PER_SAMPLE_DECODE_VIPER,
                 haptic_idle_ma=0.004, haptic_active_ma=75.0,
                 other_ma=0.03)
BREADBOARD = Build("breadboard (ESP32 DevKitC, MPU-6050, ERM; USB power)", battery_mah=0,
                   cpu_active_ma=40.0, light_sleep_ma=0.8, idle_awake_ma=20.0, slowdown=130,
                   imu_ma=3.9, imu_low_power_ma=3.9, i2c_hz=400_000, fifo_bytes_per_sample=12,
                   decode_us=HOST_US_PER_SAMPLE_DECODE_NATIVE,
                   haptic_idle_ma=0.0, haptic_active_ma=80.0, other_ma=12.0)


def sensing(build: Build, profile: Profile, radio_on: bool) -> dict[str, float]:
    """Average currents (mA) of the parts while sensing in ``profile``."""
    cpu_s = (profile.steps_hz * HOST_US_PER_FUSED_STEP * profile.step_cost
             + profile.sample_hz * build.decode_us) * build.slowdown * 1e-6
    cpu_s += HOUSEKEEPING_MS / 1000 / profile.housekeeping_s
    # MicroPython's I2C read blocks the CPU for the bytes on the wire (9 bits each)
    i2c_s = profile.sample_hz * build.fifo_bytes_per_sample * 9 / build.i2c_hz
    idle = max(0.0, 1.0 - cpu_s - i2c_s)
    return {
        "CPU computing": cpu_s * build.cpu_active_ma,
        "CPU waiting on I2C": i2c_s * build.cpu_active_ma,
        "CPU idle awake (radio on)" if radio_on else "CPU light sleep":
            idle * (build.idle_awake_ma if radio_on else build.light_sleep_ma),
        "wake-ups": 0.0 if radio_on else 1000 / profile.read_ms * WAKE_MA_MS / 1000,
        "IMU": build.imu_low_power_ma if profile.imu_low_power else build.imu_ma,
    }


def radio_windows_s(day: Day) -> float:
    """Seconds a day the radio is on without a host connected."""
    short = 86400 / RADIO_EVERY_S * RADIO_SHORT_S
    return short + day.button_windows * RADIO_BOOT_S + RADIO_AFTER_LINK_S


def advertising_ma_s(seconds: float) -> float:
    """Charge (mA*s) of advertising for a window of ``seconds``."""
    fast = min(seconds, ADV_FAST_S)
    events = fast / ADV_FAST_INTERVAL_S + (seconds - fast) / ADV_SLOW_INTERVAL_S
    return events * ADV_EVENT_MA_MS / 1000


@dataclass(frozen=True)
class DayBudget:
    parts_ma: dict[str, float]

    @property
    def total_ma(self) -> float:
        return sum(self.parts_ma.values())

    def life_days(self, build: Build) -> float:
        return build.battery_mah * build.usable_fraction / self.total_ma / 24


def day_budget(build: Build, day: Day = Day(), active: Profile = ACTIVE,
               still: Profile = STILL, windows: bool = True) -> DayBudget:
    """Average current over a day of wear. ``windows=False``: the radio always on and
    advertising (the firmware before power management)."""
    still_s = day.awake_h * 3600 * day.still_awake + day.night_h * 3600 * day.still_night
    active_s = 86400 - still_s
    sync_s = day.sync_min * 60
    radio_s = radio_windows_s(day) + sync_s if windows else 86400
    on = radio_s / 86400
    parts: dict[str, float] = {}

    def add(weights: dict[str, float], w: float) -> None:
        for k, v in weights.items():
            parts[k] = parts.get(k, 0.0) + v * w

    for prof, secs in ((active, active_s), (still, still_s)):
        # the radio windows fall in both states alike
        add(sensing(build, prof, False), secs / 86400 * (1 - on))
        add(sensing(build, prof, True), secs / 86400 * on)
    if windows:
        adv = (86400 / RADIO_EVERY_S * advertising_ma_s(RADIO_SHORT_S)
               + day.button_windows * advertising_ma_s(RADIO_BOOT_S)
               + advertising_ma_s(RADIO_AFTER_LINK_S))
    else:
        adv = 86400 / ADV_SLOW_INTERVAL_S * ADV_EVENT_MA_MS / 1000
    parts["BLE advertising"] = adv / 86400
    parts["BLE daily sync"] = sync_s * (1000 / 30 * CONN_EVENT_MA_MS + 25 * NOTIFY_EXTRA_MA_MS
                                        ) / 1000 / 86400
    parts["haptics"] = build.haptic_idle_ma + (day.buzzes_per_hour * day.awake_h / 24
                                               * day.buzz_s / 3600 * build.haptic_active_ma)
    parts["other"] = build.other_ma
    return DayBudget(parts)


def streaming_ma(build: Build, notifies_per_s: float = 5, conn_interval_ms: float = 30) -> float:
    """Connected and streaming all the time (STREAM profile, radio on)."""
    parts = sensing(build, STREAM, True)
    radio = (1000 / conn_interval_ms * CONN_EVENT_MA_MS + notifies_per_s * NOTIFY_EXTRA_MA_MS)
    return sum(parts.values()) + radio / 1000 + build.haptic_idle_ma + build.other_ma


def _state_lines(build: Build) -> list[str]:
    out = []
    for prof in (ACTIVE, STILL):
        for radio in (False, True):
            parts = sensing(build, prof, radio)
            label = f"{prof.name}, radio {'on' if radio else 'off'}"
            detail = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
            out.append(f"  {label:<30} {sum(parts.values()):6.2f} mA  ({detail})")
    return out


def report(build: Build = WEARABLE, day: Day = Day()) -> str:
    lines = [f"power model: {build.name}", "sensing states (mA):"]
    lines += _state_lines(build)
    b = day_budget(build, day)
    lines.append(f"a day of continuous wear: {day.awake_h:g} h awake ({day.still_awake:.0%} "
                 f"still), {day.night_h:g} h night ({day.still_night:.0%} still), radio "
                 f"{radio_windows_s(day) / 60:.0f} min in windows + {day.sync_min:g} min sync")
    for k, v in b.parts_ma.items():
        lines.append(f"      {k:<26} {v:7.3f} mA")
    if build.battery_mah:
        lines.append(f"    average {b.total_ma:.2f} mA -> {b.life_days(build):.1f} days on "
                     f"{build.battery_mah:.0f} mAh (target: 7 days, <= "
                     f"{build.battery_mah * build.usable_fraction / (7 * 24):.2f} mA)")
        s = streaming_ma(build)
        life = build.battery_mah * build.usable_fraction / s
        lines.append(f"streaming quaternions 50 Hz (connected 30 ms): {s:.2f} mA -> {life:.0f} h")
    else:
        lines.append(f"    average {b.total_ma:.2f} mA (USB powered)")
    return "\n".join(lines)


def savings(build: Build = WEARABLE, day: Day = Day()) -> str:
    """What each power measure saved, in the order they were built, and what is left."""
    everything_active = replace(day, still_awake=0.0, still_night=0.0)
    native = replace(build, decode_us=HOST_US_PER_SAMPLE_DECODE_NATIVE)
    pairs = Profile("pairs", 104, 2, 40, False)
    still_250 = replace(STILL, read_ms=250, housekeeping_s=1.0)
    day_10s = replace(day, still_awake=STILL_FRACTION_AWAKE_10S)
    steps = [
        ("no power management (208 Hz, 52 Hz steps, radio always on)",
         day_budget(native, everything_active, active=STREAM, windows=False)),
        ("+ radio windows, light sleep between FIFO reads",
         day_budget(native, everything_active, active=STREAM)),
        ("+ still profile (26 Hz, 0.5 s steps), IMU high-performance",
         day_budget(native, day_10s, active=STREAM,
                    still=replace(still_250, imu_low_power=False))),
        ("+ IMU low-power mode while still",
         day_budget(native, day_10s, active=STREAM, still=still_250)),
        ("+ moving: 104 Hz in pairs (52 Hz steps)",
         day_budget(native, day_10s, active=pairs, still=still_250)),
        ("+ moving: groups of 16, fast turns sample by sample, 160 ms reads",
         day_budget(native, day_10s, still=still_250)),
        ("+ FIFO decoding in viper",
         day_budget(build, day_10s, still=still_250)),
        ("+ still after 5 s, woken by moves too; 500 ms reads, gc every 4 s",
         day_budget(build, day)),
    ]
    base = steps[0][1].total_ma
    lines = ["power measures, a day of continuous wear (model):"]
    for label, b in steps:
        lines.append(f"  {label:<66} {b.total_ma:6.2f} mA ({b.total_ma - base:+.2f}) "
                     f"{b.life_days(build):4.1f} days")
    cheap = replace(ACTIVE, step_cost=0.1)
    ideas = [
        ("fused steps 10x cheaper (fixed-point viper or a C module)",
         day_budget(build, day, active=cheap, still=replace(STILL, step_cost=0.1))),
    ]
    lines.append("not built, what the model says it would give:")
    for label, b in ideas:
        lines.append(f"  {label:<66} {b.total_ma:6.2f} mA {b.life_days(build):4.1f} days")
    lines.append("how sure: the built firmware's day with one input less favourable:")
    dearer = replace(ACTIVE, step_cost=1.2), replace(STILL, step_cost=1.2)
    more_moving = replace(day, still_awake=1 - 1.25 * (1 - day.still_awake))
    for label, b in (
            ("a fused step 20 % dearer (this machine's run-to-run spread)",
             day_budget(build, day, active=dearer[0], still=dearer[1])),
            ("MicroPython on the chip 30 % slower than assumed",
             day_budget(replace(build, slowdown=build.slowdown * 1.3), day)),
            ("a quarter more of the waking day moving", day_budget(build, more_moving))):
        lines.append(f"  {label:<66} {b.total_ma:6.2f} mA {b.life_days(build):4.1f} days")
    return "\n".join(lines)


def main() -> None:
    print(report(WEARABLE))
    print(savings(WEARABLE))
    print(report(BREADBOARD))


if __name__ == "__main__":
    main()
