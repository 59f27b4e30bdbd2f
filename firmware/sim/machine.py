# Stand-in for MicroPython's `machine` on the unix port: the virtual clip's hardware.
# Only what the firmware uses, held to MicroPython's documentation (docs/library/machine*.rst
# in the vendored tree) and the ESP32 port where the firmware depends on it; state lives in
# simhw. tests/firmware/test_fw_machine_contract.py checks each rule written here:
# - keyword-only arguments where the documentation has them (I2C's scl/sda/freq, ADC's
#   atten, PWM's freq/duty_u16): positional use raises TypeError, as the real module does;
# - I2C: a peripheral that does not acknowledge raises OSError(ENODEV) (the ESP32 port), one
#   that holds the bus OSError(ETIMEDOUT) (the documented time-out); readfrom_mem_into fills
#   the caller's buffer in place, len(buf) bytes;
# - Pin.irq: returns a callback object; the handler gets the Pin, on the edges its trigger
#   names only; ``wake`` is IDLE, SLEEP or DEEPSLEEP, and a SLEEP wake needs a level trigger
#   (Pin.WAKE_LOW / WAKE_HIGH, the ESP32 port);
# - lightsleep(time_ms): sleeps at most time_ms, ends at once when a wake pin is at its level;
# - ADC: read_uv() an int in microvolts, saturating at the attenuation's range (ESP32:
#   0.95, 1.25, 1.75, 2.45 V); read_u16() 0..65535 over that range;
# - PWM: duty_u16 outside 0..65535 raises ValueError.
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

ENODEV = 19
ETIMEDOUT = 110
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
IDLE = 1  # power modes an interrupt may wake from
SLEEP = 2
DEEPSLEEP = 4


class I2C:
    def __init__(self, id=0, *, scl=None, sda=None, freq=400000, timeout=50000):
        self.id = id
        self.freq = freq

    def _dev(self, addr):
        if (self.id, addr) in simhw.i2c_stuck:
            raise OSError(ETIMEDOUT)  # the peripheral holds SCL low past the time-out
        dev = simhw.buses.get(self.id, {}).get(addr)
        if dev is None:
            raise OSError(ENODEV)  # nobody acknowledged the address (ESP32 port)
        return dev

    def scan(self):
        return sorted(a for a in simhw.buses.get(self.id, {})
                      if (self.id, a) not in simhw.i2c_stuck)

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        data = self._dev(addr).readfrom_mem(memaddr, len(buf))
        if len(data) != len(buf):
            raise OSError(ETIMEDOUT)
        buf[:] = data  # in place: the caller's preallocated buffer

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
    WAKE_LOW = 4  # ESP32 port: level triggers for waking from sleep
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
        if trigger not in (1, 2, 3, Pin.WAKE_LOW, Pin.WAKE_HIGH):
            raise ValueError("bad trigger")
        if wake is not None:
            if wake & ~(IDLE | SLEEP | DEEPSLEEP) or not wake:
                raise ValueError("bad wake value")
            if wake & SLEEP and trigger not in (Pin.WAKE_LOW, Pin.WAKE_HIGH):
                raise ValueError("bad trigger for light sleep wake")
        # as ports/esp32/machine_pin.c: a wake level only makes the pin a wake source (an
        # edge handler it has stays); anything else sets or removes the edge handler and
        # ends the pin's part as a wake source
        if wake is not None and trigger in (Pin.WAKE_LOW, Pin.WAKE_HIGH):
            simhw.wake_pins[self.id] = (trigger, wake)
            return _IrqCallback(self, None)
        simhw.wake_pins.pop(self.id, None)
        if handler is not None and trigger in (1, 2, 3):
            simhw.irq_handlers[self.id] = (self, handler, trigger)
        else:
            simhw.irq_handlers.pop(self.id, None)
        return _IrqCallback(self, handler)


class _IrqCallback:
    """What Pin.irq returns: calling ``trigger()`` runs the handler as an edge would."""

    def __init__(self, pin, handler):
        self.pin = pin
        self.handler = handler

    def trigger(self):
        if self.handler is not None:
            self.handler(self.pin)


class PWM:
    def __init__(self, pin, *, freq=1000, duty_u16=0):
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
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    _FULL_SCALE_UV = (950000, 1250000, 1750000, 2450000)  # ESP32 quickref, per attenuation

    def __init__(self, pin, *, sample_ns=None, atten=ATTN_0DB):
        self.pin = pin.id if isinstance(pin, Pin) else pin
        if atten not in (0, 1, 2, 3):
            raise ValueError("invalid attenuation")
        self.full_scale = ADC._FULL_SCALE_UV[atten]

    def read_uv(self):
        uv = simhw.adc_uv.get(self.pin, 0)
        return max(0, min(int(uv), self.full_scale))

    def read_u16(self):
        return self.read_uv() * 65535 // self.full_scale


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


def _woken():
    for pin, (trigger, _) in simhw.wake_pins.items():
        if simhw.pins.get(pin, 1) == (0 if trigger == Pin.WAKE_LOW else 1):
            return True
    return False


_WAKE_POLL_MS = 5  # how often a sleep looks at its wake pins (a press comes from a thread)


def lightsleep(ms=None):
    """Sleep, counted; a configured wake pin at its wake level ends it (within a few ms)."""
    if simhw.record:
        simhw.sleeps.append(ms)
    if not ms:
        return
    slices, rest = divmod(ms, _WAKE_POLL_MS)
    for _ in range(slices):
        if _woken():
            return
        simhw.sleep_ms(_WAKE_POLL_MS)
    if rest and not _woken():
        simhw.sleep_ms(rest)


def idle():
    pass
