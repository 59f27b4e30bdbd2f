# The clip's push button (to ground, pulled up). Its edges are caught by a pin IRQ with the
# tick they happened at, so a press and the gap between two presses are measured right however
# long a pipeline step kept the button task waiting; the task reads them afterwards.
import time

from machine import SLEEP, Pin
from micropython import const

_QUEUE = const(16)  # edges held until the button task reads them (contact bounce included)


class Button:
    """Edges of an active-low button, oldest first, as ``take()`` returns them.

    The IRQ handler is the only writer of ``_head`` and the queue slots; ``take`` (the button
    task) the only writer of ``_tail``: a single producer and a single consumer, no lock. The
    handler allocates nothing (a soft IRQ may, but it runs inside whatever the loop does)."""

    def __init__(self, pin_id):
        self.pin = Pin(pin_id, Pin.IN, Pin.PULL_UP)
        # time.ticks_ms() of each edge: small ints, so storing one allocates nothing
        self._ticks = [time.ticks_ms()] * _QUEUE
        self._levels = bytearray(_QUEUE)  # the pin's level when the handler ran
        self._head = 0
        self._tail = 0
        self._level = 1  # the level take() last reported: released
        self.irq_edges = False  # edges come by IRQ (else take() sees the pin's level only)
        try:
            self.pin.irq(handler=self._edge, trigger=Pin.IRQ_FALLING | Pin.IRQ_RISING)
            self.irq_edges = True
        except (AttributeError, TypeError, ValueError):
            pass  # a port without pin IRQs: the button task's polling is all there is
        # A press ends a light sleep. The order matters on the ESP32 port: irq() with a wake
        # level only sets the pin as the wake source and leaves its edge handler in place,
        # while an edge irq() call clears the pin's wake source.
        try:
            self.pin.irq(trigger=Pin.WAKE_LOW, wake=SLEEP)
        except (AttributeError, TypeError, ValueError):
            pass  # ports without light-sleep wake-up by pin: the press is seen after it

    def _edge(self, pin):
        head = self._head
        nxt = (head + 1) % _QUEUE
        if nxt == self._tail:
            return  # full of bounce: take() falls back on the pin's level
        self._ticks[head] = time.ticks_ms()
        self._levels[head] = pin.value()
        self._head = nxt

    def up(self):
        return self.pin.value() == 1

    def take(self):
        """The next change of the button as (pressed, age in ms), or None when there is none.

        A queued edge that repeats the last level reported (bounce read after it settled) is
        skipped. With none queued, a pin that disagrees with the last level reported (an IRQ
        missed: the queue was full, the port has none, the CPU slept) is a change now."""
        while self._tail != self._head:
            tail = self._tail
            level = self._levels[tail]
            age = time.ticks_diff(time.ticks_ms(), self._ticks[tail])
            self._tail = (tail + 1) % _QUEUE
            if level != self._level:
                self._level = level
                return level == 0, age
        level = self.pin.value()
        if level != self._level:
            self._level = level
            return level == 0, 0
        return None
