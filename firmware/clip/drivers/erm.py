# Vibration motor (ERM or LRA driven as DC) on a PWM pin through a transistor; level in %.
from micropython import const

PWM_HZ = const(20000)  # above hearing, so the motor does not whine
MIN_START_PCT = const(35)  # an ERM needs this much to spin up at all


class ErmMotor:
    def __init__(self, pwm):
        self.pwm = pwm
        self.pwm.freq(PWM_HZ)
        self.pwm.duty_u16(0)
        self.level = 0

    def set_level(self, pct):
        """0 stops; 1..100 maps onto the range where the motor turns."""
        self.level = pct
        if pct <= 0:
            self.pwm.duty_u16(0)
        else:
            pct = 100 if pct > 100 else pct
            duty = MIN_START_PCT + (100 - MIN_START_PCT) * pct // 100
            self.pwm.duty_u16(duty * 65535 // 100)
