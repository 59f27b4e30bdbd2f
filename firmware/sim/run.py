# The virtual clip: the unchanged firmware/main.py on simulated hardware.
#   MICROPYBTUART=PTY micropython-ble firmware/sim/run.py --flash /tmp/clip [--motion day.csv]
#       [--board xiao_esp32c3] [--mem-report SECONDS] [--radio-window SECONDS]
#       [--button-file PATH]
# runs it on MicroPython's real Bluetooth stack (the unix port with NimBLE; its controller is
# the virtual radio at PTY, postureclip.radio). With --port 47000 instead, BLE is the stand-in
# of firmware/sim/standin, bridged to a loopback socket (for a MicroPython without Bluetooth).
# --flash is the clip's file system (settings, bonds, the event log); it survives restarts,
# as flash does. Without --motion the clip lies still, upright. --radio-window shortens the
# radio windows after power-up, a button press and a link (clip.power; tests). With
# --button-file, writing a number of milliseconds to PATH presses the button that long, and
# "150,250,150" presses, waits and presses again (a double press); the file is removed when
# the press starts (tests drive the wearer's hand with it).
import os
import sys

# the firmware imports some modules late and the run changes directory into the flash folder:
# make every module path absolute first
_cwd = os.getcwd()
sys.path[:] = [p if p.startswith("/") or p.startswith(".frozen") or not p else _cwd + "/" + p
               for p in sys.path]
HERE = sys.path[0] if sys.path[0] else _cwd
sys.path.append(HERE + "/..")


def parse(argv):
    opts = {"--port": None, "--flash": "/tmp/postureclip-flash", "--motion": None,
            "--board": "xiao_esp32c3", "--mem-report": None, "--journal": None,
            "--radio-window": None, "--button-file": None}
    i = 1
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            print(__doc__ if __doc__ else "usage: see firmware/sim/run.py")
            raise SystemExit(2)
        opts[argv[i]] = argv[i + 1]
        i += 2
    return opts


def main():
    opts = parse(sys.argv)
    if opts["--port"]:
        sys.path.insert(0, HERE + "/standin")
    import bluetooth
    import simhw
    import world
    from fake_imu import Still
    from motion import CsvMotion

    from clip import boards

    if opts["--port"]:
        bluetooth.listen_port = int(opts["--port"])
    if opts["--radio-window"]:
        from clip import power

        power.RADIO_BOOT_S = power.RADIO_AFTER_LINK_S = int(opts["--radio-window"])
    board = boards.load(opts["--board"])
    source = CsvMotion(opts["--motion"]) if opts["--motion"] else Still()
    world.build(board, source)
    simhw.record = False
    flash = opts["--flash"]
    try:
        os.mkdir(flash)
    except OSError:
        pass
    os.chdir(flash)
    try:
        open("board.txt").close()
    except OSError:
        with open("board.txt", "w") as f:
            f.write(opts["--board"])
    if opts["--mem-report"]:
        import asyncio
        import gc

        import micropython

        async def report(every):
            while True:
                gc.collect()
                print("mem_free", gc.mem_free(), "mem_alloc", gc.mem_alloc())
                # its last line has "max free sz: N" (blocks of 4 words): the largest
                # allocation that would still succeed; fragmentation shows here first
                micropython.mem_info()
                await asyncio.sleep(every)

        opts["task"] = asyncio.create_task(report(float(opts["--mem-report"])))
    if opts["--button-file"]:
        import asyncio

        async def wearer(path):
            while True:
                await asyncio.sleep_ms(50)
                try:
                    with open(path) as f:
                        steps = [int(x) for x in f.read().strip().split(",")]
                except (OSError, ValueError):
                    continue
                os.remove(path)
                simhw.press_button(*steps)

        opts["button"] = asyncio.create_task(wearer(opts["--button-file"]))
    if opts["--journal"]:
        # test instrumentation: every record the log completes, as "seq hex" lines, written
        # after the flash write (so a kill in between leaves it on flash, not here)
        from clip.eventlog import EventLog

        journal = open(opts["--journal"], "a")
        append = EventLog.append

        def journaled(self, rtype, time_s, time_ms, flags, payload):
            rec = append(self, rtype, time_s, time_ms, flags, payload)
            journal.write("%d %s\n" % (int.from_bytes(rec[4:8], "little"), rec.hex()))
            journal.flush()
            return rec

        EventLog.append = journaled
    where = "127.0.0.1:%s" % opts["--port"] if opts["--port"] else "the real BLE stack"
    print("virtual clip on %s, flash %s" % (where, flash))
    import main  # noqa: F401  (runs the firmware)


main()
