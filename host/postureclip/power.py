"""Battery-life model of the clip from datasheet currents and the firmware's duty cycle.

Average current = always-on parts + CPU active time x active current + radio events + buzzes.
The firmware's CPU time per fused step and per sample comes from the measured MicroPython
cost on the development machine (benchmarks/firmware_cost.py) scaled by how much slower the
chip runs MicroPython float code (ESP32 at 240 MHz is ~100-150x slower than the development
machine; the ESP32-C3 at 160 MHz about 1.3x slower again). It is a model: figures to plan by,
not measurements of a clip; every input is listed with its source in docs/power.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

# measured on the development machine, MicroPython unix port (benchmarks/firmware_cost.py)
HOST_US_PER_FUSED_STEP = 24.4  # fusion + angles + activity + both coaches
HOST_US_PER_SAMPLE_DECODE = 1.2  # FIFO words -> integer sums


@dataclass(frozen=True)
class Build:
    name: str
    battery_mah: float
    cpu_active_ma: float  # MCU running MicroPython, radio idle
    sleep_ma: float  # light sleep between FIFO reads, BLE timing kept
    slowdown: float  # MicroPython float code: this chip vs the development machine
    imu_ma: float
    imu_low_power_ma: float  # the IMU's low-power mode at the wear-mode rate
    i2c_hz: float
    fifo_bytes_per_sample: int
    haptic_idle_ma: float
    haptic_active_ma: float  # driver + motor while buzzing
    other_ma: float = 0.0  # regulator quiescent, divider, LEDs
    usable_fraction: float = 0.85  # LiPo capacity actually used above the cut-off


@dataclass(frozen=True)
class Mode:
    name: str
    sample_hz: float
    samples_per_step: int
    drains_per_s: float  # FIFO reads per second (each a wake-up from light sleep)
    connected: bool
    conn_interval_ms: float = 0.0
    adv_interval_ms: float = 0.0
    notifies_per_s: float = 0.0
    buzzes_per_hour: float = 6.0
    buzz_s: float = 0.6
    imu_low_power: bool = False
    light_sleep: bool = True  # between FIFO reads (else the CPU idles awake: modem sleep)


@dataclass(frozen=True)
class Budget:
    build: str
    mode: str
    parts_ma: dict[str, float] = field(default_factory=dict)

    @property
    def total_ma(self) -> float:
        return sum(self.parts_ma.values())

    def life_h(self, capacity_mah: float, usable: float) -> float:
        return capacity_mah * usable / self.total_ma


# radio event costs (ESP32 family, BLE): charge per event, mA*ms
ADV_EVENT_MA_MS = 3 * 10.0  # three channels, ~1 ms each at ~10 mA including wake-up
CONN_EVENT_MA_MS = 1.0 * 12.0  # an empty connection event
NOTIFY_EXTRA_MA_MS = 0.5 * 14.0  # one notification's extra air time
WAKE_MA_MS = 1.0 * 20.0  # leaving and re-entering light sleep


WEARABLE = Build("wearable (XIAO ESP32-C3, LSM6DSOX, DRV2605L, 300 mAh)", battery_mah=300,
                 cpu_active_ma=22.0, sleep_ma=0.35, slowdown=130 * 1.3, imu_ma=0.55,
                 imu_low_power_ma=0.17, i2c_hz=400_000, fifo_bytes_per_sample=14,
                 haptic_idle_ma=0.004, haptic_active_ma=75.0, other_ma=0.03)
BREADBOARD = Build("breadboard (ESP32 DevKitC, MPU-6050, ERM; USB power)", battery_mah=0,
                   cpu_active_ma=40.0, sleep_ma=10.0, slowdown=130, imu_ma=3.9,
                   imu_low_power_ma=3.9, i2c_hz=400_000, fifo_bytes_per_sample=12,
                   haptic_idle_ma=0.0, haptic_active_ma=80.0, other_ma=12.0)

MODES = (
    Mode("coaching, as built (208 Hz, fused 52 Hz, advertising 1 s)", 208, 4, 25, False,
         adv_interval_ms=1000),
    Mode("coaching, low-power profile (104 Hz, fused 13 Hz, IMU LP, advertising 2 s)", 104, 8, 2,
         False, adv_interval_ms=2000, imu_low_power=True),
    Mode("streaming quaternions 50 Hz (connected 30 ms)", 208, 4, 25, True,
         conn_interval_ms=30, notifies_per_s=5),
    Mode("streaming raw 200 Hz (connected 15 ms)", 208, 4, 25, True, conn_interval_ms=15,
         notifies_per_s=12),
)


def budget(build: Build, mode: Mode) -> Budget:
    cpu_s = (mode.sample_hz / mode.samples_per_step * HOST_US_PER_FUSED_STEP
             + mode.sample_hz * HOST_US_PER_SAMPLE_DECODE) * build.slowdown * 1e-6
    # MicroPython's I2C read blocks the CPU for the bytes on the wire (9 bits each)
    i2c_s = mode.sample_hz * build.fifo_bytes_per_sample * 9 / build.i2c_hz
    active = min(1.0, cpu_s + i2c_s)
    parts = {
        "CPU computing": cpu_s * build.cpu_active_ma,
        "CPU waiting on I2C": i2c_s * build.cpu_active_ma,
        "CPU sleeping" if mode.light_sleep else "CPU idle": (1 - active) * build.sleep_ma,
        "wake-ups": mode.drains_per_s * WAKE_MA_MS / 1000 if mode.light_sleep else 0.0,
        "IMU": build.imu_low_power_ma if mode.imu_low_power else build.imu_ma,
        "haptics": build.haptic_idle_ma + (mode.buzzes_per_hour * mode.buzz_s / 3600
                                           * build.haptic_active_ma),
        "other": build.other_ma,
    }
    if mode.connected:
        parts["BLE connection"] = (1000 / mode.conn_interval_ms * CONN_EVENT_MA_MS
                                   + mode.notifies_per_s * NOTIFY_EXTRA_MA_MS) / 1000
    elif mode.adv_interval_ms:
        parts["BLE advertising"] = 1000 / mode.adv_interval_ms * ADV_EVENT_MA_MS / 1000
    return Budget(build.name, mode.name, parts)


def daily_sync_ma(build: Build, minutes: float = 2.0) -> float:
    """A daily sync of a full day's log, spread over 24 h (connected and sending)."""
    b = budget(build, replace(MODES[2], name="sync"))
    return b.total_ma * minutes / (24 * 60)


def report(build: Build = WEARABLE) -> str:
    lines = [f"power model: {build.name}"]
    for mode in MODES:
        b = budget(build, mode)
        lines.append(f"  {mode.name}")
        for k, v in b.parts_ma.items():
            lines.append(f"      {k:<22} {v:7.3f} mA")
        total = b.total_ma
        if not mode.connected:
            total += daily_sync_ma(build)
            lines.append(f"      {'daily 2 min sync':<22} {daily_sync_ma(build):7.3f} mA")
        if build.battery_mah:
            life = build.battery_mah * build.usable_fraction / total
            lines.append(f"    average {total:.2f} mA -> {life:.0f} h = {life / 24:.1f} days "
                         f"on {build.battery_mah:.0f} mAh")
        else:
            lines.append(f"    average {total:.2f} mA (USB powered)")
    return "\n".join(lines)


def savings(build: Build = WEARABLE) -> str:
    """What each power measure saves, against the as-built coaching mode."""
    base = budget(build, MODES[0]).total_ma
    steps = [
        ("fuse 13 Hz instead of 52 Hz (8 samples a step at 104 Hz)",
         replace(MODES[0], sample_hz=104, samples_per_step=8)),
        ("+ IMU low-power mode", replace(MODES[0], sample_hz=104, samples_per_step=8,
                                         imu_low_power=True)),
        ("+ FIFO read twice a second (fewer wake-ups)",
         replace(MODES[0], sample_hz=104, samples_per_step=8, imu_low_power=True,
                 drains_per_s=2)),
        ("+ advertising every 2 s", MODES[1]),
        ("no light sleep between reads (what it would cost)", replace(MODES[0],
                                                                      light_sleep=False)),
    ]
    lines = [f"savings against the as-built coaching mode ({base:.2f} mA):"]
    for label, mode in steps:
        b = budget(build, mode).total_ma
        lines.append(f"  {label:<52} {b:6.2f} mA ({b - base:+.2f})")
    return "\n".join(lines)


def main() -> None:
    print(report(WEARABLE))
    print(savings(WEARABLE))
    print(report(BREADBOARD))


if __name__ == "__main__":
    main()
