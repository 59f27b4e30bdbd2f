# Boot entry: pick the board, start the clip. Holding the button at power-up is safe mode:
# the app does not start, so the REPL and file transfer stay free for a repair.
import time

from machine import Pin

from clip import boards


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
    print("postureclip on", board.NAME)
    asyncio.run(app.run())


main()
