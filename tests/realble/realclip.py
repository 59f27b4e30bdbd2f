"""The virtual clip on MicroPython's real Bluetooth stack, for tests in one asyncio loop:
the unchanged firmware (firmware/sim/run.py) in the NimBLE unix port, its HCI UART on a pty
of a virtual controller, and a bumble central on another controller of the same air."""
from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from bumble.keys import KeyStore
from bumble.transport.common import AsyncPipeSink

from postureclip.bumble_transport import BumbleTransport, Central
from postureclip.radio import Air, VirtualController, close_controller, open_controller

from .rig import MPBLE, MPBLE32, MPBLE_DIR, ROOT, require_build

CLIP_ADDRESS = "24:6F:28:00:00:01"  # the clip's controller: a public address, as an ESP32's


class RealClip:
    """One virtual clip process on its own controller; ``restart`` keeps its flash."""

    def __init__(self, air: Air, workdir: Path, bits: int = 64, heapsize: str | None = None,
                 extra: list[str] | None = None) -> None:
        require_build()
        self.air = air
        self.workdir = workdir
        self.flash = workdir / "flash"
        self.exe = MPBLE32 if bits == 32 else MPBLE
        self.heapsize = heapsize
        self.extra = extra or []
        self.proc: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._controller: VirtualController | None = None
        self._transport = None
        self._reader: asyncio.Task[None] | None = None
        self.starts = 0

    async def start(self) -> RealClip:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        pty = self.workdir / f"hci{self.starts}"  # a fresh pty per boot: no stale bytes
        self._controller, self._transport = await open_controller(
            self.air, f"pty:{pty}", "clip", public_address=CLIP_ADDRESS)
        cmd = [str(self.exe)]
        if self.heapsize:
            cmd += ["-X", f"heapsize={self.heapsize}"]
        cmd += [str(ROOT / "firmware" / "sim" / "run.py"), "--flash", str(self.flash),
                *self.extra]
        env = {**os.environ, "MICROPYBTUART": str(pty),
               "MICROPYPATH": f".frozen:{MPBLE_DIR / 'extmod'}"}
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
        started = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(started))
        await asyncio.wait_for(started, 30)
        return self

    async def _read(self, started: asyncio.Future[None]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            text = line.decode(errors="replace")
            self.output.append(text)
            if text.startswith("postureclip on") and not started.done():
                started.set_result(None)
        if not started.done():
            started.set_exception(RuntimeError("the clip exited:\n" + "".join(self.output)))

    async def kill(self) -> None:
        """Power cut: the process dies, its controller with it (the host's link times out)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        if self._controller is not None and self._transport is not None:
            await close_controller(self.air, self._controller, self._transport)
        self._controller = self._transport = None

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    def text(self) -> str:
        return "".join(self.output)


async def central_on(air: Air, address: str = "F0:00:00:00:00:01",
                     keys: KeyStore | None = None, privacy: bool = False) -> Central:
    """A host on its own controller of ``air``; ``keys``: the bonds of an earlier host
    process (a restarted laptop keeps them)."""
    controller = VirtualController("host", air)
    central = await Central.open(source=controller, sink=AsyncPipeSink(controller),
                                 address=address, controller=controller, privacy=privacy)
    if keys is not None:
        central.device.keystore = keys
    return central


def transport_factory(central: Central):  # type: ignore[no-untyped-def]
    return lambda: BumbleTransport(central)
