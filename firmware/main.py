# Boot entry: pick the board, start the clip. Holding the button at power-up is safe mode:
# the app does not start, so the REPL and file transfer stay free for a repair.
import sys
import time

from machine import Pin

from clip import boards

# MicroPython v1.24.0 fixed heap corruption on bluetooth.active(False) on the ESP32
# (micropython/micropython#15538), which the radio windows call hundreds of times a day
MIN_MICROPYTHON = (1, 24, 0)


def main():
    board = boards.load()
    if board.BUTTON_PIN is not None:
        button = Pin(board.BUTTON_PIN, Pin.IN, Pin.PULL_UP)
        time.sleep_ms(50)
        if button.value() == 0:
            print("postureclip: safe mode (button held at boot); app not started")
            return
    import asyncio

    from clip.app import App

    app = App(board)
    if tuple(sys.implementation.version[:3]) < MIN_MICROPYTHON:
        print("postureclip: MicroPython %d.%d.%d is older than %d.%d.%d: its Bluetooth can "
              "corrupt the heap when the radio switches off; flash a newer release" %
              (tuple(sys.implementation.version[:3]) + MIN_MICROPYTHON))
    print("postureclip on", board.NAME)
    asyncio.run(app.run())


main()
