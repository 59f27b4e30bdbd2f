# Stand-in for MicroPython's `machine` on the unix port: the virtual clip's hardware.
# Only what the firmware uses, with the real signatures; state lives in simhw.
import simhw

__all__ = [
    "ADC",
    "I2C",
    "PWM",
    "PWRON_RESET",
    "SLEEP",
    "SOFT_RESET",
    "Pin",
    "Timer",
    "freq",
    "idle",
    "lightsleep",
    "reset",
    "reset_cause",
    "unique_id",
]

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
IDLE = 1  # power modes an interrupt may wake from
SLEEP = 2
DEEPSLEEP = 4


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000):
        self.id = id
        self.freq = freq

    def _dev(self, addr):
        dev = simhw.buses.get(self.id, {}).get(addr)
        if dev is None:
            raise OSError(19)  # ENODEV: nobody acknowledged the address
        return dev

    def scan(self):
        return sorted(simhw.buses.get(self.id, {}))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        data = self._dev(addr).readfrom_mem(memaddr, len(buf))
        buf[:] = data

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        return self._dev(addr).readfrom_mem(memaddr, nbytes)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._dev(addr).writeto_mem(memaddr, bytes(buf))


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 2
    IRQ_RISING = 1
    WAKE_LOW = 4
    WAKE_HIGH = 5

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        if value is not None:
            simhw.pins[id] = value
        elif id not in simhw.pins:
            simhw.pins[id] = 1 if pull == Pin.PULL_UP else 0

    def value(self, v=None):
        if v is None:
            return simhw.pins.get(self.id, 0)
        simhw.pins[self.id] = 1 if v else 0
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __call__(self, v=None):
        return self.value(v)

    def irq(self, handler=None, trigger=3, *, priority=1, wake=None, hard=False):
        if wake is not None:
            simhw.wake_pins[self.id] = (trigger, wake)
        return None


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin.id if isinstance(pin, Pin) else pin
        self._freq = freq
        self._duty = -1
        self.duty_u16(duty_u16)

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        d = int(d)
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 must be 0..65535")
        if d != self._duty and simhw.record:
            simhw.pwm_log.append((simhw.now_ms(), self.pin, d))
        self._duty = d
        return None

    def deinit(self):
        self.duty_u16(0)


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten=3):
        self.pin = pin.id if isinstance(pin, Pin) else pin

    def read_uv(self):
        return simhw.adc_uv.get(self.pin, 0)

    def read_u16(self):
        return min(65535, simhw.adc_uv.get(self.pin, 0) * 65535 // 3300000)


class Timer:
    def __init__(self, id=-1):
        self.id = id

    def init(self, mode=0, period=-1, callback=None):
        pass

    def deinit(self):
        pass


def unique_id():
    return simhw.unique_id


def reset():
    simhw.resets.append("reset")
    raise SystemExit("machine.reset()")


def reset_cause():
    return PWRON_RESET


def freq(hz=None):
    return 240000000 if hz is None else None


def lightsleep(ms=None):
    """Sleep, counted; a configured wake pin at its wake level ends it at once."""
    if simhw.record:
        simhw.sleeps.append(ms)
    for pin, (trigger, _) in simhw.wake_pins.items():
        if simhw.pins.get(pin, 1) == (0 if trigger == Pin.WAKE_LOW else 1):
            return
    if ms:
        simhw.sleep_ms(ms)


def idle():
    pass
