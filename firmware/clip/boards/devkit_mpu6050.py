# Breadboard build: ESP32 DevKitC (WROOM-32), MPU-6050 module (GY-521), ERM motor on a
# transistor with a flyback diode, USB power (no battery sense).
NAME = "devkit_mpu6050"
I2C_BUS = 0
I2C_SDA = 21
I2C_SCL = 22
I2C_HZ = 400000
IMU = "mpu6050"
IMU_ADDRESS = 0x68
IMU_MOUNT = ("y", "-x", "z")  # GY-521 with its y silk arrow toward the head
HAPTIC = "erm"
HAPTIC_ADDRESS = None
HAPTIC_LRA = False
MOTOR_PIN = 25  # PWM to the transistor's base (1 k) / MOSFET gate
BUTTON_PIN = 27  # to GND, internal pull-up
BATTERY_ADC_PIN = None
BATTERY_DIVIDER = 1.0
