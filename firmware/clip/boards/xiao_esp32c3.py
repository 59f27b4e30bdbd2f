# Wearable build: Seeed XIAO ESP32C3 (LiPo charger on board), LSM6DSOX, DRV2605L + coin LRA.
NAME = "xiao_esp32c3"
I2C_BUS = 0
I2C_SDA = 6  # D4
I2C_SCL = 7  # D5
I2C_HZ = 400000
IMU = "lsm6dsox"
IMU_ADDRESS = 0x6A
IMU_MOUNT = ("x", "y", "z")  # breakout's x toward the head, z out of the back
HAPTIC = "drv2605"
HAPTIC_ADDRESS = 0x5A
HAPTIC_LRA = True
MOTOR_PIN = None
BUTTON_PIN = 3  # D1, to GND, internal pull-up
BATTERY_ADC_PIN = 2  # D0 (ADC1 channel 2), battery through a 2 x 220 k divider
BATTERY_DIVIDER = 2.0
