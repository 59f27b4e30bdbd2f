"""The virtual clip's radio windows end to end: after its window the clip cannot be found (its
radio is off so its CPU may light-sleep); a press of its button brings it back, and
``postureclip sync --press`` does what a wearer does before a sync."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from virtualclip import VirtualClip

from postureclip.client import Clip
from postureclip.errors import ConnectionFailed
from postureclip.protocol import Opcode
from postureclip.transport import SimTransport


def test_radio_sleeps_after_its_window_and_the_button_wakes_it(tmp_path: Path) -> None:
    clip = VirtualClip(tmp_path / "flash", radio_window_s=3).start()
    try:
        t = SimTransport(clip.port)

        async def scenario() -> None:
            assert await t.scan()  # the boot window
            await asyncio.sleep(4.5)
            assert await t.scan() == []  # the radio is off
            try:
                async with Clip(lambda: SimTransport(clip.port), retries=0):
                    raise AssertionError("connected to a clip whose radio is off")
            except ConnectionFailed as e:
                assert "press the clip's button" in str(e)
            await t.press_button(200)
            # the window opens as the button is let go; the bridge's press reaches the clip
            # when its light sleep ends (a real button wakes it at once): scan for up to 2 s
            found = []
            for _ in range(10):
                await asyncio.sleep(0.2)
                found = await t.scan()
                if found:
                    break
            assert found and found[0].name.startswith("postureclip-")
            async with Clip(lambda: SimTransport(clip.port)) as c:
                status = await c.command(Opcode.GET_STATUS)
                assert status is not None
            # the link ended: the radio stays on for the after-link window, then goes off
            assert await t.scan()
            await asyncio.sleep(4.5)
            assert await t.scan() == []

        asyncio.run(scenario())
        # the command line, after the window: --press first, as the wearer would
        out = subprocess.run([sys.executable, "-m", "postureclip.cli", "sync", "--sim",
                              str(clip.port), "--press", "--quiet", "--store",
                              str(tmp_path / "store.db")], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        time.sleep(0.1)
    finally:
        clip.stop()
