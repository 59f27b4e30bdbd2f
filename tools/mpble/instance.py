#!/usr/bin/env python3
"""One MicroPython instance of tests/run-multitests.py whose main thread never sleeps long.

The unix port runs NimBLE's host from MicroPython's scheduler, which only runs while the main
thread executes bytecode. The harness's ``multitest.wait()`` blocks in ``sys.stdin.readline()``
until the other instance broadcasts, so the radio of the waiting instance would stall (and the
other instance time out). This wrapper feeds the instance's stdin from a pipe that carries the
harness's lines unchanged plus an empty line every few milliseconds: ``wait()`` ignores them,
and each one lets the scheduler run. Nothing in MicroPython or the test is changed.

    instance.py ARGS...   (runs $MICROPY_BLE_BIN ARGS... with that stdin)
"""
import os
import select
import sys

WAKE_S = 0.005


def feed(out_fd: int) -> None:
    stdin_open = True
    while True:
        ready = select.select([0] if stdin_open else [], [], [], WAKE_S)[0]
        try:
            if ready:
                data = os.read(0, 4096)
                if data:
                    os.write(out_fd, data)
                else:
                    stdin_open = False
            else:
                os.write(out_fd, b"\n")
        except (BrokenPipeError, OSError):
            os._exit(0)  # the instance ended


def main() -> None:
    read_fd, write_fd = os.pipe()
    if os.fork() == 0:
        os.close(read_fd)
        feed(write_fd)
    os.close(write_fd)
    os.dup2(read_fd, 0)
    os.close(read_fd)
    exe = os.environ["MICROPY_BLE_BIN"]
    os.execv(exe, [exe, *sys.argv[1:]])


main()
