# Builds the virtual clip's hardware for a board: the board's IMU and haptic chips as fakes
# on its I2C bus, fed by a motion source. Not part of the device firmware.
import bluetooth
import simhw
from fake_haptic import FakeDRV2605
from fake_imu import FakeLSM6DSOX, FakeMPU6050, Still

FAKE_IMUS = {"lsm6dsox": FakeLSM6DSOX, "mpu6050": FakeMPU6050}


class Switchable:
    """A motion source a test can swap while the clip runs."""

    def __init__(self, motion):
        self.motion = motion

    def sample(self, t):
        return self.motion.sample(t)


def build(board, motion=None, imu=True, haptic=True, battery_mv=3900):
    """Attach the board's chips; returns (imu fake or None, haptic fake or None, motion)."""
    simhw.clear()
    if hasattr(bluetooth, "_ble"):  # the stand-in (firmware/sim/standin): a fresh radio
        bluetooth._ble = None  # its pump task belongs to the next event loop
    source = Switchable(motion or Still())
    imu_fake = hap = None
    if imu:
        imu_fake = FAKE_IMUS[board.IMU](source, mount=board.IMU_MOUNT)
        simhw.attach(board.I2C_BUS, board.IMU_ADDRESS, imu_fake)
    if haptic and board.HAPTIC == "drv2605":
        hap = FakeDRV2605()
        simhw.attach(board.I2C_BUS, board.HAPTIC_ADDRESS, hap)
    if board.BATTERY_ADC_PIN is not None:
        simhw.adc_uv[board.BATTERY_ADC_PIN] = int(battery_mv * 1000 / board.BATTERY_DIVIDER)
    simhw.button_pin = board.BUTTON_PIN
    if board.BUTTON_PIN is not None:
        simhw.pins[board.BUTTON_PIN] = 1  # released (pull-up)
    return imu_fake, hap, source
