"""Fuzz the clip, not only the decoder: the virtual clip (32-bit build, real stack) gets random
and mutated control writes and raw ATT operations from a paired central, and after every
burst its invariants are checked from outside:

- every control write is accepted at the ATT level and answered with its own opcode | 0x80
  and token (CALIBRATE's answer may come later; an empty write is never answered; one longer
  than 64 bytes is cut to 64 by the stack and answered BAD_LENGTH, or UNKNOWN_OPCODE);
- the settings are exactly what the accepted SET_CONFIG and FACTORY_RESET replies made them;
- the log lost nothing that no accepted LOG_ACK released (first stored seq moves only by an
  ack's reply; the next seq never goes back);
- sensing is alive (GET_STATUS without the fault bit, uptime moving on, a stream delivers);
- no traceback in the clip's output.

POSTURECLIP_FUZZ_N writes (1,000 in make test; `make bench` runs 10,000), seed
POSTURECLIP_FUZZ_SEED: a failure prints the seed and the burst that broke it."""
from __future__ import annotations

import asyncio
import os
import random
import struct
from collections import Counter
from pathlib import Path

from postureclip.protocol import (
    BATTERY_LEVEL_UUID,
    CONTROL_UUID,
    EVENTS_UUID,
    LOG_UUID,
    RESET_MAGIC,
    STREAM_UUID,
    Opcode,
    StateBit,
    Status,
)
from postureclip.radio import Air

from .doccentral import DocCentral
from .realclip import RealClip, central_on
from .test_conformance import SETTINGS

N = int(os.environ.get("POSTURECLIP_FUZZ_N", "1000"))
SEED = int(os.environ.get("POSTURECLIP_FUZZ_SEED", "20261129"))
BURST = 50
CHECK_TOKEN = 0xFF  # the checks' own token; the fuzzer uses 0..254
MAX_CONTROL_WRITE = 64  # the control characteristic's buffer (gatts_set_buffer)
DEFAULTS = {key: row[1] for key, row in SETTINGS.items()}

# well-formed argument layouts (docs/protocol.md, Control), mutated by the fuzzer
ARGS = {Opcode.GET_INFO: "<", Opcode.CALIBRATE: "<", Opcode.GET_CONFIG: "<B",
        Opcode.SET_CONFIG: "<Bi", Opcode.SNOOZE: "<H", Opcode.BUZZ_TEST: "<B",
        Opcode.SET_TIME: "<IH", Opcode.STREAM: "<BH", Opcode.FACTORY_RESET: "<I",
        Opcode.FORGET_BONDS: "<", Opcode.GET_STATUS: "<", Opcode.LOG_INFO: "<",
        Opcode.LOG_SEND: "<II", Opcode.LOG_ACK: "<I", Opcode.LOG_ABORT: "<"}


class Fuzzer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.kinds: Counter[str] = Counter()

    def _arg(self, code: str) -> int:
        r = self.rng
        bits = {"B": 8, "H": 16, "I": 32, "i": 32}[code]
        pick = r.random()
        if pick < 0.3:  # small values: in range for most fields
            value = r.randint(0, 20)
        elif pick < 0.5:  # boundaries
            value = r.choice([0, 1, (1 << bits) - 1, 1 << (bits - 1), (1 << (bits - 1)) - 1])
        else:
            value = r.getrandbits(bits)
        if code == "i" and value >= 1 << 31:
            value -= 1 << 32
        return value

    def well_formed(self, op: Opcode) -> bytes:
        fmt = ARGS[op]
        args = [self._arg(c) for c in fmt[1:]]
        if op is Opcode.SET_CONFIG and self.rng.random() < 0.7:
            key = self.rng.choice(list(SETTINGS))
            _name, _default, lo, hi = SETTINGS[key]
            args = [key, self.rng.randint(lo - 2, hi + 2)]
        if op is Opcode.FACTORY_RESET and self.rng.random() < 0.3:
            args = [RESET_MAGIC]
        return bytes((op, self.rng.randrange(255))) + struct.pack(fmt, *args)

    def write(self) -> bytes:
        r = self.rng
        pick = r.random()
        ops = [op for op in ARGS if op is not Opcode.FORGET_BONDS or r.random() < 0.2]
        if pick < 0.45:
            self.kinds["well-formed"] += 1
            return self.well_formed(r.choice(ops))
        if pick < 0.8:
            self.kinds["mutated"] += 1
            data = bytearray(self.well_formed(r.choice(ops)))
            for _ in range(r.randint(1, 3)):
                how = r.random()
                if how < 0.3 and len(data) > 1:
                    del data[r.randrange(1, len(data)):]  # truncated
                elif how < 0.6:
                    data += r.randbytes(r.randint(1, 6))  # extended
                elif data:
                    i = r.randrange(len(data))
                    data[i] ^= 1 << r.randrange(8)  # a flipped bit
            if len(data) > 1:
                data[1] = min(data[1], 254)
            return bytes(data)
        self.kinds["random bytes"] += 1
        data = r.randbytes(r.choice([0, 1, 2, 3, r.randint(4, 20), r.randint(60, 90)]))
        if len(data) > 1:
            data = data[:1] + bytes((min(data[1], 254),)) + data[2:]
        return data


async def settings_of(c: DocCentral) -> dict[int, int]:
    out = {}
    for key in SETTINGS:
        r = await c.command(Opcode.GET_CONFIG, CHECK_TOKEN, "<B", key)
        assert r[2] == Status.OK, r.hex()
        out[key] = struct.unpack_from("<Bi", r, 3)[1]
    return out


async def log_info(c: DocCentral) -> tuple[int, int, int, int]:
    r = await c.command(Opcode.LOG_INFO, CHECK_TOKEN)
    assert r[2] == Status.OK
    return struct.unpack_from("<IIII", r, 3)


async def alive(c: DocCentral, uptime_before: int) -> int:
    """Sensing alive: no fault, uptime moving, a QUAT stream at 25 Hz delivers."""
    r = await c.command(Opcode.GET_STATUS, CHECK_TOKEN)
    assert r[2] == Status.OK
    _mv, _pct, bits, uptime = struct.unpack_from("<HBBI", r, 3)
    assert not bits & StateBit.FAULT, f"fault bit set: {bits:#x}"
    assert uptime >= uptime_before
    del c.notes[STREAM_UUID][:]
    assert (await c.command(Opcode.STREAM, CHECK_TOKEN, "<BH", 1, 25))[2] == Status.OK
    for _ in range(40):
        if c.notes[STREAM_UUID]:
            break
        await asyncio.sleep(0.05)
    assert c.notes[STREAM_UUID], "no stream: the sampler is not running"
    assert (await c.command(Opcode.STREAM, CHECK_TOKEN, "<BH", 0, 0))[2] == Status.OK
    return uptime


def test_fuzz_the_clip(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    fuzz = Fuzzer(rng)
    statuses: Counter[str] = Counter()
    att: Counter[str] = Counter()

    async def scenario() -> None:
        air = Air(seed=SEED)
        clip = await RealClip(air, tmp_path, bits=32, heapsize="256K").start()
        burst: list[str] = []
        try:
            central = await central_on(air)
            c = DocCentral(central)
            await c.connect(247)
            await c.pair()
            await c.subscribe(CONTROL_UUID, EVENTS_UUID, LOG_UUID, STREAM_UUID)
            model = dict(DEFAULTS)
            first, nxt, _stored, _dropped = await log_info(c)
            uptime = 0
            sent = 0
            while sent < N:
                burst = []
                acked: list[int] = []  # sequences of LOG_ACKs the clip accepted
                box = c.notes[CONTROL_UUID]
                start = len(box)
                for _ in range(min(BURST, N - sent)):
                    sent += 1
                    if rng.random() < 0.1:  # raw ATT: reads of all, writes of the others
                        if rng.random() < 0.5:
                            uuid = rng.choice([STREAM_UUID, EVENTS_UUID, LOG_UUID, CONTROL_UUID,
                                               BATTERY_LEVEL_UUID])
                            code, _ = await c.read(uuid)
                            burst.append(f"read {uuid[:8]} -> {code:#x}")
                            assert (code == 0) == (uuid == BATTERY_LEVEL_UUID), burst[-1]
                            att[f"read {uuid[4:8]}: {code:#04x}"] += 1
                        else:
                            uuid = rng.choice([STREAM_UUID, EVENTS_UUID, LOG_UUID,
                                               BATTERY_LEVEL_UUID])
                            code = await c.write(uuid, rng.randbytes(rng.randint(0, 8)))
                            burst.append(f"write {uuid[:8]} -> {code:#x}")
                            assert code != 0, burst[-1]
                            att[f"write {uuid[4:8]}: {code:#04x}"] += 1
                        continue
                    data = fuzz.write()
                    before = len(box)
                    code = await c.write(CONTROL_UUID, data)
                    burst.append(f"control {data.hex()} -> ATT {code:#x}")
                    assert code == 0, burst[-1]
                    too_long = len(data) > MAX_CONTROL_WRITE  # kept: its first 64 bytes
                    if not data or (data[0] == Opcode.CALIBRATE and not too_long):
                        continue
                    want = (data[0] | 0x80, data[1] if len(data) > 1 else 0)
                    for _ in range(100):
                        reply = next((r for r in box[before:] if (r[0], r[1]) == want), None)
                        if reply is not None:
                            break
                        await asyncio.sleep(0.01)
                    else:
                        raise AssertionError(f"no reply to {data.hex()}")
                    if data[0] == Opcode.LOG_ACK and len(data) == 6 and reply[2] == Status.OK:
                        acked.append(struct.unpack_from("<I", data, 2)[0])
                    if too_long:
                        att["control write > 64 bytes"] += 1
                        known = data[0] in set(Opcode)
                        assert reply[2] == (Status.BAD_LENGTH if known else
                                            Status.UNKNOWN_OPCODE), burst[-1]
                await asyncio.sleep(0.2)
                # the model: what the accepted replies did, in the order the clip sent them
                for r in box[start:]:
                    op, status = r[0] & 0x7F, Status(r[2])
                    statuses[status.name] += 1
                    if status is not Status.OK:
                        continue
                    if op == Opcode.SET_CONFIG:
                        key, value = struct.unpack_from("<Bi", r, 3)
                        model[key] = value
                    elif op == Opcode.FACTORY_RESET:
                        model = dict(DEFAULTS)
                    elif op == Opcode.LOG_ACK:
                        first = struct.unpack_from("<I", r, 3)[0]
                assert await settings_of(c) == model
                info = await log_info(c)
                assert info[0] == first or (info[0] > first and info[3] > _dropped), (info, first)
                assert info[1] >= nxt
                assert all(seq < info[1] for seq in acked), (acked, info)  # none in the future
                first, nxt, _stored, _dropped = info
                uptime = await alive(c, uptime)
                assert "Traceback" not in clip.text(), clip.text()
            await c.disconnect()
            text = clip.text()
            assert "Traceback" not in text and "IRQ handler error" not in text, text
            print(f"clip fuzz, seed {SEED}: {sent} operations {dict(fuzz.kinds)}, replies "
                  f"{dict(statuses)}, raw ATT {dict(att)}; invariants held after each of "
                  f"{-(-sent // BURST)} bursts")
        except BaseException:
            print(f"clip fuzz failed, seed {SEED} (POSTURECLIP_FUZZ_SEED reproduces it); "
                  "the burst:\n  " + "\n  ".join(burst[-20:]))
            print("the clip's last lines:\n" + "".join(clip.output[-15:]))
            raise
        finally:
            await clip.kill()

    asyncio.run(asyncio.wait_for(scenario(), 60 + N * 0.5))
