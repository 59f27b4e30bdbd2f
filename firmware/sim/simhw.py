# The virtual clip's hardware world: I2C buses with fake chips, pin levels, PWM and I2C
# activity recorded with timestamps. machine.py (the stand-in for MicroPython's module)
# reads and writes this; tests and the sim runner set it up. Not part of the device firmware.
import time

buses = {}  # bus id -> {address: fake device}
pins = {}  # pin id -> level (inputs can be set by tests: a button press)
adc_uv = {}  # pin id -> microvolts at the ADC input
pwm_log = []  # (time_ms, pin, duty_u16) at every duty change
unique_id = b"\x24\x6f\x28\x01\x02\x03"
resets = []  # reasons machine.reset() was called with
button_pin = None  # the board's button (world.build), pressed by press_button
sleeps = []  # durations (ms) of machine.lightsleep() calls; a long-running clip clears it
wake_pins = {}  # pin id -> (trigger, power mode) configured to end a sleep
irq_handlers = {}  # pin id -> (Pin, handler, trigger): Pin.irq with a handler
i2c_stuck = set()  # (bus id, address) of devices that hold the bus (OSError ETIMEDOUT)
# tests read the PWM and haptic-driver logs; a long-running virtual clip turns them off so
# that the simulated hardware's bookkeeping does not grow without bound
record = True
_clock = None  # function returning milliseconds; None = the process' tick clock


def now_ms():
    """Milliseconds on the virtual clip's clock (the process clock unless a test set one)."""
    if _clock is not None:
        return _clock()
    return time.ticks_ms()


def press_button(ms, *more):
    """The wearer presses the button for ``ms``; ``more``: gap, press, gap, press... (ms),
    e.g. ``press_button(150, 250, 150)`` is a double press. Played by a thread of its own:
    the wearer's finger keeps its time whatever the clip's event loop is busy with."""
    if button_pin is None:
        return
    pin = button_pin
    steps = (ms,) + more

    def play():
        set_input(pin, 0)
        for i, step in enumerate(steps):
            sleep_ms(step)
            set_input(pin, 0 if i % 2 else 1)
        set_input(pin, 1)

    import _thread  # MicroPython's unix port and CPython both have it

    _thread.start_new_thread(play, ())


def set_input(pin, level):
    """The outside world drives input ``pin`` to ``level``; a Pin.irq handler whose trigger
    matches the edge is called with the Pin, as a soft IRQ (scheduled, as the ESP32 runs
    them, where micropython.schedule exists)."""
    old = pins.get(pin, 1)
    pins[pin] = level
    entry = irq_handlers.get(pin)
    if entry is None or old == level:
        return
    obj, handler, trigger = entry
    if trigger & (2 if level == 0 else 1):  # IRQ_FALLING / IRQ_RISING
        try:
            import micropython

            micropython.schedule(handler, obj)
        except (ImportError, AttributeError):
            handler(obj)


def sleep_ms(ms):
    """Block for ``ms`` (a light sleep stops the whole event loop)."""
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def set_clock(func):
    global _clock
    _clock = func


def attach(bus_id, address, device):
    buses.setdefault(bus_id, {})[address] = device


def clear():
    buses.clear()
    pins.clear()
    adc_uv.clear()
    del pwm_log[:]
    del resets[:]
    del sleeps[:]
    wake_pins.clear()
    irq_handlers.clear()
    i2c_stuck.clear()
    set_clock(None)


class FakeClock:
    """A clock a test advances by hand (ms)."""

    def __init__(self, start_ms=0.0):
        self.t = start_ms

    def __call__(self):
        return int(self.t)

    def advance(self, ms):
        self.t += ms
