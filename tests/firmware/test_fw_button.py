# The button's edges by IRQ (clip/button.py) and the gestures they make in the app, with the
# event loop busy; MicroPython and CPython.
import asyncio
import time

import simhw
import world
from fake_imu import Still
from test_fw_app import fresh_root, run_for

from clip.app import App
from clip.boards import xiao_esp32c3
from clip.button import Button

PIN = 9


def _run_scheduled():
    for _ in range(3):
        sum(range(10))


def _busy_ms(ms):
    """Python code running ``ms`` without yielding: a long pipeline step (soft IRQs still run
    between its bytecodes, as on the chip)."""
    start = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), start) < ms:
        sum(range(20))


def _changes(button):
    out = []
    while True:
        change = button.take()
        if change is None:
            return out
        out.append(change)


def test_edges_come_in_order_with_their_age_and_bounce_collapses():
    simhw.clear()
    simhw.pins[PIN] = 1
    button = Button(PIN)
    assert button.irq_edges and PIN in simhw.wake_pins  # edges caught, and a press wakes
    assert button.take() is None
    simhw.set_input(PIN, 0)
    _run_scheduled()
    _busy_ms(60)
    simhw.set_input(PIN, 1)
    simhw.set_input(PIN, 0)  # contact bounce on release...
    simhw.set_input(PIN, 1)
    _run_scheduled()
    changes = _changes(button)
    # the bounce is a press of ~0 ms (which the app drops), or none at all where the handler
    # read the pin after it settled; the changes alternate and end released
    downs = [down for down, _ in changes]
    assert downs[0] is True and downs[-1] is False, changes
    assert all(downs[i] != downs[i + 1] for i in range(len(downs) - 1)), changes
    assert 50 <= changes[0][1] - changes[1][1] <= 200, changes  # held ~60 ms, by the ages
    assert button.take() is None and button.up()
    simhw.clear()


def test_a_full_queue_falls_back_on_the_pins_level():
    simhw.clear()
    simhw.pins[PIN] = 1
    button = Button(PIN)
    for _ in range(20):  # more edges than the queue holds, ending pressed
        simhw.set_input(PIN, 0)
        _run_scheduled()
        simhw.set_input(PIN, 1)
        _run_scheduled()
    simhw.set_input(PIN, 0)
    _run_scheduled()
    changes = _changes(button)
    assert changes[-1][0] is True, changes  # the button is down, whatever was dropped
    assert button.take() is None
    simhw.set_input(PIN, 1)
    _run_scheduled()
    assert _changes(button)[-1][0] is False
    simhw.clear()


def test_gestures_are_timed_by_their_edges_while_the_loop_is_busy():
    # a double press made while one long step holds the loop: polling the pin would see one
    # long press (or none); the edges' own times make it a double press
    world.build(xiao_esp32c3, Still())
    app = App(xiao_esp32c3, fresh_root("busy-button"))

    async def scenario():
        task = asyncio.create_task(run_for(app, 5000, lambda: done[0]))
        await asyncio.sleep_ms(300)
        simhw.press_button(120, 200, 120)  # released 440 ms after it began
        _busy_ms(900)
        await asyncio.sleep_ms(200)
        snooze = app.pipeline.posture.snooze_until
        done[0] = True
        await task
        return snooze

    done = [False]
    snooze = asyncio.run(scenario())
    assert snooze > 0, snooze  # the double press snoozed the coaching
