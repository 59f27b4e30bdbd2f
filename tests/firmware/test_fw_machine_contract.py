# The `machine` stand-in (firmware/sim/machine.py) held to MicroPython's documented behaviour
# (docs/library/machine.rst, machine.I2C.rst, machine.Pin.rst, machine.ADC.rst and the ESP32
# quickref of the vendored tree), so that the virtual clip cannot pass on behaviour a board
# would not have. MicroPython and CPython.
import machine
import simhw


class Chip:
    """A peripheral with registers that reads back what was written."""

    def __init__(self):
        self.mem = bytearray(256)

    def readfrom_mem(self, memaddr, n):
        return bytes(self.mem[memaddr:memaddr + n])

    def writeto_mem(self, memaddr, data):
        self.mem[memaddr:memaddr + len(data)] = data


def raises(exc, func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError("%s not raised" % exc.__name__)


def test_i2c_errors_and_in_place_reads():
    simhw.clear()
    chip = Chip()
    simhw.attach(0, 0x6A, chip)
    bus = machine.I2C(0, scl=machine.Pin(9), sda=machine.Pin(8), freq=400000)
    raises(TypeError, machine.I2C, 0, machine.Pin(9), machine.Pin(8))  # scl/sda keyword-only
    assert bus.scan() == [0x6A]
    bus.writeto_mem(0x6A, 0x10, b"\x01\x02\x03")
    buf = bytearray(3)
    before = buf
    bus.readfrom_mem_into(0x6A, 0x10, buf)
    assert buf is before and bytes(buf) == b"\x01\x02\x03"
    assert bus.readfrom_mem(0x6A, 0x11, 2) == b"\x02\x03"
    # no acknowledge: OSError ENODEV (the ESP32 port); a held bus: the documented ETIMEDOUT
    e = raises(OSError, bus.readfrom_mem_into, 0x68, 0x00, buf)
    assert e.args[0] == machine.ENODEV == 19
    simhw.i2c_stuck.add((0, 0x6A))
    e = raises(OSError, bus.writeto_mem, 0x6A, 0x10, b"\x00")
    assert e.args[0] == machine.ETIMEDOUT == 110
    assert bus.scan() == []
    simhw.clear()


def test_pin_irq_calls_its_handler_on_its_edges_only():
    simhw.clear()
    seen = []
    button = machine.Pin(3, machine.Pin.IN, machine.Pin.PULL_UP)
    assert button.value() == 1  # pulled up
    cb = button.irq(lambda p: seen.append(p.value()), trigger=machine.Pin.IRQ_FALLING)
    assert cb is not None  # "This method returns a callback object"
    simhw.set_input(3, 0)  # pressed: a falling edge
    simhw.set_input(3, 1)  # released: rising, not asked for
    simhw.set_input(3, 1)  # no edge at all
    _run_scheduled()
    assert seen == [0], seen
    button.irq(None)  # handler removed
    simhw.set_input(3, 0)
    _run_scheduled()
    assert seen == [0]
    raises(ValueError, button.irq, trigger=99)
    simhw.clear()


def test_light_sleep_wake_sources():
    simhw.clear()
    button = machine.Pin(3, machine.Pin.IN, machine.Pin.PULL_UP)
    # waking from light sleep takes a level trigger (ESP32 port) and a documented power mode
    raises(ValueError, button.irq, trigger=machine.Pin.IRQ_FALLING, wake=machine.SLEEP)
    raises(ValueError, button.irq, trigger=machine.Pin.WAKE_LOW, wake=64)
    button.irq(trigger=machine.Pin.WAKE_LOW, wake=machine.SLEEP)
    clock = simhw.FakeClock()
    simhw.set_clock(clock)
    machine.lightsleep(30)  # time_ms: the longest the sleep may last
    assert simhw.sleeps[-1] == 30
    simhw.set_input(3, 0)  # the wake pin at its level: a sleep ends at once
    machine.lightsleep(10000)
    assert simhw.sleeps[-1] == 10000 and clock.t < 10000
    simhw.clear()


def test_a_pin_is_a_wake_source_and_keeps_its_edge_handler_as_on_the_esp32():
    # ports/esp32/machine_pin.c: irq() with a wake level only sets the wake source; an edge
    # irq() call ends the pin's part as a wake source
    simhw.clear()
    seen = []
    button = machine.Pin(3, machine.Pin.IN, machine.Pin.PULL_UP)
    button.irq(lambda p: seen.append(p.value()),
               trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING)
    button.irq(trigger=machine.Pin.WAKE_LOW, wake=machine.SLEEP)
    assert 3 in simhw.wake_pins
    simhw.set_input(3, 0)
    simhw.set_input(3, 1)
    _run_scheduled()
    assert seen == [0, 1], seen
    button.irq(lambda p: None, trigger=machine.Pin.IRQ_FALLING)
    assert 3 not in simhw.wake_pins
    simhw.clear()


def test_adc_microvolts_saturate_at_the_attenuation_range():
    simhw.clear()
    simhw.adc_uv[2] = 1950000
    adc = machine.ADC(machine.Pin(2), atten=machine.ADC.ATTN_11DB)
    assert adc.read_uv() == 1950000 and isinstance(adc.read_uv(), int)
    assert 0 <= adc.read_u16() <= 65535
    raises(TypeError, machine.ADC, machine.Pin(2), machine.ADC.ATTN_11DB)  # atten keyword
    simhw.adc_uv[2] = 3000000  # beyond 11 dB's 2.45 V: reads full scale
    assert adc.read_uv() == 2450000 and adc.read_u16() == 65535
    assert machine.ADC(machine.Pin(2)).read_uv() == 950000  # 0 dB: up to 0.95 V
    simhw.clear()


def test_pwm_duty_range_and_keywords():
    simhw.clear()
    pwm = machine.PWM(machine.Pin(5), freq=20000, duty_u16=0)
    pwm.duty_u16(65535)
    assert pwm.duty_u16() == 65535 and pwm.freq() == 20000
    raises(ValueError, pwm.duty_u16, 65536)
    raises(ValueError, pwm.duty_u16, -1)
    raises(TypeError, machine.PWM, machine.Pin(5), 20000)  # freq keyword-only
    simhw.clear()


def _run_scheduled():
    """Let scheduled soft IRQs run (MicroPython runs them between bytecodes; any call that
    returns to the VM will do)."""
    for _ in range(3):
        sum(range(10))
