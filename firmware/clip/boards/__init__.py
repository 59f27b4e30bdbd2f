# Board selection. A board module holds pin numbers and chip choices, nothing else; it is the
# only place that knows pins. hardware/wiring/*.csv must agree (tests/host/test_hardware.py).
import os

DEFAULT_BY_MACHINE = (("ESP32C3", "xiao_esp32c3"), ("ESP32", "devkit_mpu6050"))


def name_for(machine_text):
    for needle, name in DEFAULT_BY_MACHINE:
        if needle in machine_text:
            return name
    return "devkit_mpu6050"


def load(name=None):
    """The board module: ``name``, else the one named in /board.txt, else by chip."""
    if name is None:
        try:
            with open("board.txt") as f:
                name = f.read().strip()
        except OSError:
            name = name_for(os.uname().machine.upper())
    return __import__("clip.boards." + name, None, None, ("NAME",))
