"""The ``postureclip`` command: sync the clip, see your days, change its settings; analyse
recordings, run the virtual clip and the demo."""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import numpy as np

from . import __version__
from .errors import PostureclipError
from .recording import read_csv

if TYPE_CHECKING:
    from .analysis import Analysis, AnalysisSettings
    from .client import Clip
    from .daily import Day
    from .plan import Plan
    from .program import Adherence, Program
    from .store import Store
    from .transport import Transport

T = TypeVar("T")


def format_table(result: Analysis) -> str:
    d = result.to_dict()
    lines = [f"duration          {d['duration_s'] / 60:8.1f} min at {d['rate_hz']:g} Hz",
             f"time in slouch    {d['time_in_slouch_s'] / 60:8.1f} min in "
             f"{len(d['slouch_episodes'])} episodes",
             f"lifts             {d['lift_count']:8d} ({d['stooped_lifts']} stooped, "
             f"{d['twisted_lifts']} twisted)", ""]
    if d["slouch_episodes"]:
        lines.append("slouch episodes      start      end   peak°   mean°")
        for e in d["slouch_episodes"]:
            lines.append(f"                  {e['start_s']:7.1f}  {e['end_s']:7.1f}  "
                         f"{e['peak_flexion_deg']:6.1f}  {e['mean_flexion_deg']:6.1f}")
        lines.append("")
    if d["lifts"]:
        lines.append("lifts                start  dur s  technique  peak°  twist°")
        for x in d["lifts"]:
            lines.append(f"                  {x['start_s']:7.1f}  {x['end_s'] - x['start_s']:5.1f}"
                         f"  {x['technique']:9s}  {x['peak_flexion_deg']:5.1f}  "
                         f"{x['twist_deg']:6.1f}{' twisted' if x['twisted'] else ''}")
        lines.append("")
    if d["exercise_sets"]:
        lines.append("exercise sets        start  dur s  kind              reps  hold s")
        for x in d["exercise_sets"]:
            lines.append(f"                  {x['start_s']:7.1f}  {x['end_s'] - x['start_s']:5.1f}"
                         f"  {x['kind']:16s}  {x['reps']:4d}  {x['hold_s']:6.1f}")
        lines.append("")
    lines.append(f"movement breaks   {len(d['breaks']):8d} (longest still stretch "
                 f"{d['longest_still_s'] / 60:.0f} min; {len(d['move_reminders'])} reminders "
                 "to move)")
    lines.append("posture time (min): " + ", ".join(
        f"{k} {v / 60:.1f}" for k, v in d["time_in_posture_s"].items() if v > 0))
    return "\n".join(lines)


class SeriesWriter:
    """``t,flexion_deg,lateral_deg,posture`` per sample (DESIGN.md) to a CSV, a stretch at a
    time, by pyarrow's CSV writer: an 8-hour recording is 1.4 million rows, a week 30."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.fh = open(path, "wb")  # noqa: SIM115 - closed by close()
            self.fh.write(b"t,flexion_deg,lateral_deg,posture\n")
        except OSError as e:
            raise PostureclipError(f"cannot write the series to {path}: {e}") from None

    def __call__(self, t: Any, flex: Any, lat: Any, posture: Any) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        # + 0.0 turns the -0.0 that rounding leaves into 0.0
        table = pa.table({"t": np.round(t, 4) + 0.0,
                          "flexion_deg": np.round(flex, 2) + 0.0,
                          "lateral_deg": np.round(lat, 2) + 0.0,
                          "posture": pa.array(posture, pa.string())})
        try:
            pacsv.write_csv(table, self.fh, pacsv.WriteOptions(include_header=False,
                                                               quoting_style="none"))
        except OSError as e:
            raise PostureclipError(f"cannot write the series to {self.path}: {e}") from None

    def close(self) -> None:
        self.fh.close()


def cmd_analyze(args: argparse.Namespace) -> int:
    from .allocator import keep_freed_memory

    keep_freed_memory()  # a run-once command on 35 MB arrays (postureclip.allocator)
    # nor does it make the reference cycles the collector is for: a collection would walk
    # the objects of numpy's and pyarrow's imports again and again, 50-90 ms in all
    # (docs/benchmarks.md)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze_command(args)
    finally:
        if collecting:
            gc.enable()


def _analyze_command(args: argparse.Namespace) -> int:
    from . import chunked

    chunk_s = None if args.chunk_hours is None else args.chunk_hours * 3600.0
    series = SeriesWriter(args.series) if args.series else None
    try:
        if chunked.in_chunks(args.recording, chunk_s):
            result = chunked.analyze_file(args.recording, analysis_settings(args), series,
                                          chunk_s or chunked.CHUNK_S, parallel=True)
        else:
            from .prepare import Prepared

            settings = analysis_settings(args)
            # the grid and the gyro's bias are made here, then the orientation, the vertical
            # track and the motionless mask in a child forked at once, while this process
            # imports the rest of the analysis and finds the movements (postureclip.prepare)
            prepared = Prepared(args.recording, settings, parallel=True)
            from .analysis import analyze

            result = analyze(prepared, settings, keep_series=series is not None)
            if series is not None:
                sr = result.series
                series(sr["t"], sr["flexion_deg"], sr["lateral_deg"], sr["posture"])
    finally:
        if series is not None:
            series.close()
    if args.format == "json":
        json.dump(result.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(format_table(result))
    return 0


def cmd_analyze_batch(args: argparse.Namespace) -> int:
    from . import batch

    recordings = batch.expand(args.pattern)
    client, cluster = batch.connect(args.scheduler, args.workers)
    where = args.scheduler or f"a local cluster of {args.workers} worker processes"
    print(f"{len(recordings)} recordings on {where}", file=sys.stderr)

    def report(o: batch.Outcome) -> None:
        if o.status == "failed":
            print(f"failed: {o.recording}: {o.error}", file=sys.stderr)

    try:
        result = batch.run(recordings, Path(args.out), client, analysis_settings(args),
                           report)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    hours = sum(o.hours for o in result.outcomes)
    print(f"{result.count('done')} analysed ({hours:.1f} h of recording), "
          f"{result.count('skipped')} done before, {result.count('failed')} failed; "
          f"{result.seconds:.1f} s; dataset {args.out}")
    return 1 if result.count("failed") == len(recordings) else 0


def cmd_firmware_replay(args: argparse.Namespace) -> int:
    """The clip's own pipeline on a recording, in MicroPython (postureclip.firmware_replay)."""
    from .firmware_replay import parse_settings, replay, write_series

    settings = parse_settings(args.set or [])
    result = replay(read_csv(args.recording), settings)
    if args.series:
        write_series(result, args.series)
    if result.calibration["status"] != "ok":
        print(f"warning: the calibrate press at {result.calibration['pressed_s']:.1f} s was "
              "refused (the wearer moved): the clip coached no posture", file=sys.stderr)
    if args.format == "json":
        json.dump(result.to_dict(), sys.stdout, indent=1)
        print()
    else:
        d = result.to_dict()
        print(f"the clip's firmware on {args.recording} ({d['duration_s'] / 60:.1f} min; "
              f"calibrated at {d['calibration']['pressed_s']:.1f} s)")
        print(f"slouch episodes {len(d['slouch_episodes'])} ({d['time_in_slouch_s']:.0f} s), "
              f"lean episodes {len(d['lean_episodes'])}")
        print(f"lifts {d['lift_count']} (stooped {d['stooped_lifts']}, twisted "
              f"{d['twisted_lifts']})")
        print(f"buzzes {len(d['buzzes'])}: " + (", ".join(
            f"{b['t_s']:.0f} s {b['reason']}" for b in d["buzzes"]) or "none"))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import Wearer, default_day, exercise_session, simulate, sitting_day

    rng = np.random.default_rng(args.seed)
    wearer = Wearer.random(rng, rate_hz=args.rate)
    if args.day == "exercise":
        segments = exercise_session(rng)
    else:
        segments = (sitting_day if args.day == "sitting" else default_day)(rng, args.hours)
    sim = simulate(segments, wearer, rng, gaps=args.gaps)
    sim.write_csv(args.output)
    if args.truth:
        Path(args.truth).write_text(json.dumps({
            "lifts": [asdict(x) for x in sim.truth.lifts],
            "exercise_sets": [asdict(x) for x in sim.truth.exercise_sets],
            "wearer": sim.wearer.__dict__}, indent=1))
    print(f"wrote {args.output}: {sim.t[-1] / 60:.1f} min at {wearer.rate_hz:g} Hz, "
          f"{len(sim.truth.lifts)} lifts")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from .deploy import deploy

    return deploy(args.port, args.board, args.firmware, args.dry_run)


def cmd_sim(args: argparse.Namespace) -> int:
    """Run the virtual clip: the real firmware in MicroPython, BLE on a loopback port."""
    import subprocess

    from .deploy import default_firmware_dir, micropython_command

    firmware = default_firmware_dir()
    run = firmware / "sim" / "run.py"
    if not run.exists():
        raise PostureclipError(f"no virtual clip at {run}: run from a repository clone")
    cmd = micropython_command()
    flash = Path(args.flash).expanduser()
    flash.mkdir(parents=True, exist_ok=True)
    motion = args.motion
    if motion is None and args.wearer is not None:
        from .simulate import Wearer, default_day, simulate

        rng = np.random.default_rng(args.wearer)
        sim = simulate(default_day(rng, hours=args.hours), Wearer.random(rng, rate_hz=100.0),
                       rng)
        motion = str(flash / "motion.csv")
        sim.write_csv(motion)
        print(f"simulated wearer {args.wearer}: {args.hours:g} h, {len(sim.truth.lifts)} lifts")
    cmd += ["-X", f"heapsize={args.heapsize}", str(run), "--port", str(args.port),
            "--flash", str(flash), "--board", args.board]
    if motion:
        if not Path(motion).is_file():
            raise PostureclipError(f"no motion file {motion}: give a recording CSV "
                                   "(postureclip simulate writes one) or --wearer SEED")
        cmd += ["--motion", str(motion)]
    child = subprocess.Popen(cmd)

    def stop(signum: int, _frame: object) -> None:  # SIGTERM: the clip goes with us
        child.terminate()

    import signal

    signal.signal(signal.SIGTERM, stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        child.wait()
        return 0


def _transport_factory(args: argparse.Namespace) -> Callable[[], Transport]:
    from .transport import BleakTransport, SimTransport

    if args.sim is not None:
        return lambda: SimTransport(args.sim)
    return BleakTransport


def store_arg(p: argparse.ArgumentParser, purpose: str) -> None:
    """``--store PATH``, the same for every command that reads or writes the store."""
    p.add_argument("--store", type=Path, default=default_store(),
                   help=f"{purpose} (default {default_store()})")


def default_store() -> Path:
    """The store in the user's data folder ($XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(base).expanduser() / "postureclip" / "store.db"


def cmd_sync(args: argparse.Namespace) -> int:
    """Copy the clip's log into the local store, with a progress line."""
    import asyncio

    from .client import Clip, SyncProgress
    from .store import Store

    def show(p: SyncProgress) -> None:
        if args.quiet:
            return
        width = 30
        done = int(width * p.records / max(1, p.total))
        eta = f"{p.eta_s:4.0f} s" if p.eta_s is not None else "   ? s"
        print(f"\r[{'#' * done}{'.' * (width - done)}] {p.records}/{p.total} records "
              f"{p.bytes / 1024:6.1f} KiB {p.rate:6.0f}/s ETA {eta}", end="", flush=True)

    async def run() -> int:
        if args.sim is not None and args.press:
            from .transport import SimTransport

            await SimTransport(args.sim).press_button()  # as the wearer does before a sync
            await asyncio.sleep(0.5)
        with Store(args.store) as store:
            async with Clip(_transport_factory(args), retries=args.retries) as clip:
                before = store.last_seq(clip.device)
                try:
                    report = await clip.sync(store, show)
                except PostureclipError:
                    if not args.quiet:
                        print(file=sys.stderr)  # end the progress line first
                    raise
                battery = await clip.battery()
                planned = await _apply_plan(store, clip)
                programme = await _apply_program(store, clip)
            if not args.quiet:
                print()
                print(sync_summary(store, report.device, before, report.stored, battery,
                                   report.seconds, args.store))
                if planned:
                    print(f"plan: {planned}")
                if programme:
                    print(f"exercise: {programme}")
        return 0

    return asyncio.run(run())


PLAN_KEY = "plan"
PLAN_DAYS = 120  # the plan looks back this far at most


def _plan_days(store: Store, plan: Plan, tz: tzinfo) -> list[Day]:
    from . import daily

    start = max(date.fromisoformat(plan.started), date.today() - timedelta(days=PLAN_DAYS))
    return [daily.summarize(store, start + timedelta(days=i), tz)
            for i in range((date.today() - start).days + 1)]


def current_plan(store: Store) -> tuple[Plan, int] | None:
    """The training plan as the next sync will see it (advanced by the days known now, not
    stored) and the worn days it counts; None without a plan."""
    from .plan import Plan, advance, worn

    text = store.meta(PLAN_KEY)
    if text is None:
        return None
    stored = Plan.from_json(text)
    days = _plan_days(store, stored, _local_tz())
    return advance(stored, days), len(worn(stored, days))


async def _apply_plan(store: Store, clip: Clip) -> str | None:
    """After a sync: advance the training plan (when one runs) and write its settings to the
    clip where they differ. Returns the plan in words, or None without a plan."""
    current = current_plan(store)
    if current is None:
        return None
    plan, worn_days = current
    store.set_meta(PLAN_KEY, plan.to_json())
    await _set_on_clip(clip, plan.settings())
    return plan.describe(worn_days)


PROGRAM_KEY = "exercise_program"


def current_program(store: Store) -> tuple[Program, Adherence] | None:
    """The exercise programme as the next sync will see it (advanced by the sessions known
    now, not stored) and the wearer's adherence; None without one."""
    from .program import Program, adherence, advance, sessions

    text = store.meta(PROGRAM_KEY)
    if text is None:
        return None
    stored = Program.from_json(text)
    tz = _local_tz()
    known = sessions(store.rows("exercise_sets"))
    program = advance(stored, known, datetime.now(UTC).timestamp(), tz)
    return program, adherence(program, known, date.today(), tz)


async def _set_on_clip(clip: Clip, settings: dict[str, int]) -> None:
    """Write ``settings`` to the clip where they differ."""
    from .protocol import Opcode, setting

    for name, value in settings.items():
        key = setting(name).key
        if (await clip.command(Opcode.GET_CONFIG, key)).values[1] != value:
            await clip.command(Opcode.SET_CONFIG, key, value)


async def _apply_program(store: Store, clip: Clip) -> str | None:
    """After a sync: advance the exercise programme (when one runs), write its targets to the
    clip. Returns it and the adherence in words, or None without one."""
    current = current_program(store)
    if current is None:
        return None
    program, adh = current
    store.set_meta(PROGRAM_KEY, program.to_json())
    await _set_on_clip(clip, program.settings())
    return f"{program.describe()}; {adh.describe()}"


def program_words(store: Store) -> str | None:
    current = current_program(store)
    return None if current is None else f"{current[0].describe()}; {current[1].describe()}"


def cmd_exercise(args: argparse.Namespace) -> int:
    """Start, stop or show the exercise programme (its targets reach the clip at each sync)."""
    from .program import START_LEVELS, Program
    from .store import Store

    with Store(args.store) as store:
        if args.action == "start":
            level = START_LEVELS[args.plan]
            program = Program(date.today().isoformat(), level)
            store.set_meta(PROGRAM_KEY, program.to_json())
            print(f"exercise programme started ({args.plan}): {program.describe()}. Its targets "
                  "reach the clip at the next sync (postureclip sync).")
            return 0
        if args.action == "off":
            store.set_meta(PROGRAM_KEY, None)
            print("exercise programme stopped: the clip keeps recognising and counting "
                  "exercises (postureclip config set hold_target_s 0 and rep_target 0 to stop "
                  "the target buzz)")
            return 0
        current = current_program(store)
        if current is None:
            print("no exercise programme runs: postureclip exercise start [easy|standard|strong]")
            return 0
        program, adh = current
        print(f"exercise programme since {program.started}: {program.describe()}")
        print(f"  {adh.describe()}")
        for when, what in program.log[-10:]:
            print(f"  {when}  {what}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Start, stop or show the training plan (it is applied at each sync)."""
    from .plan import Plan
    from .store import Store

    with Store(args.store) as store:
        if args.action == "start":
            if not 1.0 <= args.wear_hours <= 16.0:
                raise_out_of_range(f"--wear-hours takes 1 to 16 ({args.wear_hours:g} given); "
                                   "nothing was changed")
            plan = Plan(date.today().isoformat(), args.wear_hours)
            store.set_meta(PLAN_KEY, plan.to_json())
            print(f"plan started: {plan.describe()}. It reaches the clip at the next sync "
                  "(postureclip sync).")
            return 0
        if args.action == "off":
            store.set_meta(PLAN_KEY, None)
            print("plan stopped: the clip keeps its current settings (postureclip config set "
                  "coach_phase 1 if it was in the baseline)")
            return 0
        current = current_plan(store)
        if current is None:
            print("no plan runs: postureclip plan start")
            return 0
        plan, worn_days = current
        print(f"plan since {plan.started}: {plan.describe(worn_days)}")
        for when, what in plan.log[-10:]:
            print(f"  {when}  {what}")
    return 0


def _on_clip(args: argparse.Namespace, action: Callable[[Clip], Awaitable[T]]) -> T:
    """Connect (virtual clip with --sim, else Bluetooth), run ``action(clip)``, disconnect."""
    import asyncio

    from .client import Clip

    async def run() -> T:
        async with Clip(_transport_factory(args), retries=args.retries) as clip:
            return await action(clip)

    return asyncio.run(run())


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def cmd_status(args: argparse.Namespace) -> int:
    """What the clip says about itself, in words."""
    from .protocol import ImuKind, Opcode, StateBit

    async def action(clip: Clip) -> Any:
        status = (await clip.command(Opcode.GET_STATUS)).values
        info = (await clip.command(Opcode.GET_INFO)).values
        log = (await clip.command(Opcode.LOG_INFO)).values
        return status, info, log, clip.device

    (mv, pct, bits, uptime), info, log, device = _on_clip(args, action)
    bits = StateBit(bits)
    try:
        imu = ImuKind(info[4]).name
    except ValueError:
        imu = f"kind {info[4]}"
    waiting = log[2]
    if args.store is not None and Path(args.store).exists():
        from .store import Store

        with Store(args.store) as store:
            waiting = max(0, log[1] - 1 - max(store.last_seq(device), log[0] - 1))
    lines = [
        f"clip              {device}",
        f"battery           {pct} % ({mv / 1000:.2f} V)"
        + ("  LOW: charge it" if StateBit.LOW_BATTERY in bits else ""),
        f"firmware          {info[1]}.{info[2]}.{info[3]} (protocol {info[0]}, IMU {imu})",
        f"calibrated        {_yes(StateBit.CALIBRATED in bits)}"
        + ("" if StateBit.CALIBRATED in bits else ": hold the button 2 s standing upright"),
        f"snoozed           {_yes(StateBit.SNOOZED in bits)}",
        f"clock set         {_yes(StateBit.WALL_CLOCK in bits)}",
        f"fault             {_yes(StateBit.FAULT in bits)}"
        + (": the motion sensor or a task failed (FAULT records in the log say which)"
           if StateBit.FAULT in bits else ""),
        f"records waiting   {waiting} (to sync)",
        f"up for            {uptime // 3600} h {uptime // 60 % 60} min",
    ]
    print("\n".join(lines))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Read or change the clip's settings by name (docs/protocol.md, Settings)."""
    from .errors import OutOfRange
    from .protocol import SETTINGS, Opcode, setting

    if args.config_command == "set":
        chosen = setting(args.name)
        try:
            value = int(args.value)
        except ValueError:
            raise_out_of_range(f"{chosen.name} takes a whole number ({args.value!r} given); "
                               "nothing was changed")
        chosen.check(value)  # before connecting: a bad value never reaches the clip

        async def change(clip: Clip) -> Any:
            try:
                return (await clip.command(Opcode.SET_CONFIG, chosen.key, value)).values[1]
            except OutOfRange:
                pass  # in range by itself: a limit between two settings
            if chosen.name in ("exposure_limit_s", "exposure_window_s"):
                window = (await clip.command(Opcode.GET_CONFIG, 8)).values[1]
                limit = (await clip.command(Opcode.GET_CONFIG, 9)).values[1]
                raise_out_of_range(
                    f"exposure_limit_s may not exceed exposure_window_s (now {limit} s and "
                    f"{window} s): {chosen.name} {value} was refused; nothing was changed")
            raise_out_of_range(f"the clip refused {chosen.name} = {value}; nothing was changed")

        stored = _on_clip(args, change)
        print(f"{chosen.name} = {stored}{chosen.unit}")
        return 0
    wanted = [setting(args.name)] if args.name else list(SETTINGS)

    async def read(clip: Clip) -> Any:
        return [(await clip.command(Opcode.GET_CONFIG, s.key)).values[1] for s in wanted]

    values = _on_clip(args, read)
    for s, v in zip(wanted, values, strict=True):
        note = "" if v == s.default else f" (default {s.default})"
        print(f"{s.name:20s} {v:>6}{s.unit:2s} range {s.lo}..{s.hi}{note}  {s.meaning}")
    return 0


def raise_out_of_range(message: str) -> NoReturn:
    from .errors import OutOfRange
    from .protocol import Status

    raise OutOfRange(message, Status.OUT_OF_RANGE)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .errors import ClipMoving
    from .protocol import Opcode

    async def action(clip: Clip) -> Any:
        return await clip.command(Opcode.CALIBRATE, timeout=15)

    print("hold still, upright, for 3 seconds...", flush=True)
    try:
        reply = _on_clip(args, action)
    except ClipMoving:
        raise ClipMoving("you moved during the calibration: stand or sit upright, hold "
                         "still and run it again", 5) from None
    print(f"calibrated: the clip sits {reply.values[4] / 10:.1f}° from vertical on your back")
    return 0


BUZZ_NAMES = {"reminder": 0, "lift": 1, "calibrated": 2, "low_battery": 3, "recalibrate": 5,
              "tick": 6, "move": 7, "form": 8, "target": 9, "start": 10}


def cmd_buzz(args: argparse.Namespace) -> int:
    from .protocol import Opcode

    pattern = BUZZ_NAMES.get(args.pattern)
    if pattern is None:
        raise_out_of_range(f"no buzz pattern {args.pattern!r}: choose one of "
                           + ", ".join(BUZZ_NAMES))

    async def action(clip: Clip) -> Any:
        await clip.command(Opcode.BUZZ_TEST, pattern)

    _on_clip(args, action)
    print(f"buzzed the {args.pattern} pattern")
    return 0


MAX_PAUSE_MIN = 1440  # the clip's SNOOZE takes at most a day


def pause_minutes(text: str, now: datetime) -> int:
    """Minutes of a pause from ``30``, ``45m``, ``1h``, ``2h30m`` or ``tomorrow`` (until the
    next local midnight, ``now`` being local); 0 for ``off``. Raises OutOfRange."""
    import re

    word = text.strip().lower()
    if word == "off":
        return 0
    if word == "tomorrow":
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                    now.tzinfo)
        return max(1, math.ceil((midnight - now).total_seconds() / 60))
    match = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m?)?", word)
    minutes = -1
    if match and word:
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if not 1 <= minutes <= MAX_PAUSE_MIN:
        raise_out_of_range(f"a pause takes 1 to {MAX_PAUSE_MIN} minutes (e.g. 30, 1h, 2h30m), "
                           f"'tomorrow' or 'off' ({text!r} given); nothing was changed")
    return minutes


def cmd_snooze(args: argparse.Namespace) -> int:
    from .protocol import Opcode

    minutes = pause_minutes(args.minutes, datetime.now().astimezone())

    async def action(clip: Clip) -> Any:
        await clip.command(Opcode.SNOOZE, minutes)

    _on_clip(args, action)
    if minutes == 0:
        print("posture reminders back on")
    else:
        until = (datetime.now().astimezone() + timedelta(minutes=minutes)).strftime("%H:%M")
        print(f"posture reminders snoozed for {minutes} min, until {until} "
              "(lift warnings stay on)")
    return 0


def parse_quiet(text: str) -> tuple[int, int]:
    """``22:00-07:00`` -> local minutes after midnight (start, end); ``off`` -> (0, 0)."""
    import re

    if text.strip().lower() == "off":
        return 0, 0
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) != (h2, m2):
            return h1 * 60 + m1, h2 * 60 + m2
    raise_out_of_range(f"quiet hours are written HH:MM-HH:MM, e.g. 22:00-07:00, or 'off' "
                       f"({text!r} given); nothing was changed")


def cmd_quiet(args: argparse.Namespace) -> int:
    from .protocol import Opcode, setting

    start, end = parse_quiet(args.hours)

    async def action(clip: Clip) -> Any:
        await clip.command(Opcode.SET_CONFIG, setting("quiet_start_min").key, start)
        await clip.command(Opcode.SET_CONFIG, setting("quiet_end_min").key, end)

    _on_clip(args, action)
    if start == end:
        print("no quiet hours: reminders at any time of day")
    else:
        print(f"quiet hours {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d} "
              "local time: no posture reminders then (they are logged as held back)")
    return 0


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise_out_of_range(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-27")


def _local_tz() -> tzinfo:
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


def _open_store_for_reading(path: Path) -> Store:
    from .errors import StoreError
    from .store import Store

    if not Path(path).exists():
        raise StoreError(f"no store at {path} yet: sync first (postureclip sync), or give "
                         "--store PATH")
    return Store(path)


def cmd_today(args: argparse.Namespace) -> int:
    from . import daily
    from .errors import HistoryError

    day = _parse_day(args.date) if args.date else date.today()
    with _open_store_for_reading(args.store) as store:
        d = daily.summarize(store, day, _local_tz())
        planned = plan_words(store)
        programme = program_words(store)
    if d.empty:
        raise HistoryError(f"nothing recorded on {day.isoformat()} in {args.store}: wear the "
                           "clip and sync (postureclip sync)")
    print(daily.format_day(d, args.goal))
    if planned:
        print(f"  plan           {planned}")
    if programme:
        print(f"  programme      {programme}")
    return 0


def plan_words(store: Store) -> str | None:
    """The training plan as the next sync will see it, in words (None without a plan)."""
    current = current_plan(store)
    return None if current is None else current[0].describe(current[1])


def cmd_history(args: argparse.Namespace) -> int:
    from . import daily
    from .errors import HistoryError

    if not 1 <= args.days <= 366:
        raise_out_of_range(f"--days takes 1 to 366 ({args.days} given)")
    last = _parse_day(args.until) if args.until else date.today()
    days = [last - timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    with _open_store_for_reading(args.store) as store:
        summaries = [daily.summarize(store, d, _local_tz()) for d in days]
        current = current_plan(store)
        programme = current_program(store)
    if all(d.empty for d in summaries):
        raise HistoryError(f"nothing recorded from {days[0].isoformat()} to "
                           f"{days[-1].isoformat()} in {args.store}: wear the clip and sync")
    print(daily.format_history(summaries, args.goal))
    if current is not None:
        plan, worn_days = current
        print(f"plan: {plan.describe(worn_days)}")
        for when, what in plan.log[-5:]:  # the same plan as the line above describes
            print(f"  {when}  {what}")
    if programme is not None:
        print(f"exercise: {programme[0].describe()}; {programme[1].describe()}")
        for when, what in programme[0].log[-5:]:
            print(f"  {when}  {what}")
    return 0


EXPORT_MOMENT = {"episodes": "start", "lifts": "start", "summaries": "start", "buzzes": "time",
                 "trace": "time", "faults": "time", "held": "time", "slips": "time",
                 "exercise_sets": "start", "breaks": "time"}


def export_table(store: Store, what: str, start: float | None, end: float | None) -> Any:
    """The rows of a decoded table as an Arrow table with ISO 8601 UTC timestamps
    (docs/store.md, Exports)."""
    import pyarrow as pa

    from .history import TABLES

    rows = store.rows(what, start, end)
    moment = EXPORT_MOMENT[what]

    def iso(utc: float | None) -> str | None:
        if utc is None:
            return None
        return datetime.fromtimestamp(utc, UTC).isoformat(timespec="milliseconds")

    columns: dict[str, list[Any]] = {"device": [r["device"] for r in rows],
                                     "seq": [r["seq"] for r in rows],
                                     moment: [iso(r["utc"]) for r in rows]}
    span = next((c for c in ("duration_s", "span_s") if c in TABLES[what]), None)
    if span:
        columns["end"] = [None if r["utc"] is None else iso(r["utc"] + r[span]) for r in rows]
    columns["boot"] = [r["boot"] for r in rows]
    columns["since_boot_s"] = [r["since_boot_s"] for r in rows]
    for c in TABLES[what]:
        columns[c] = [r[c] for r in rows]
    types = {"device": pa.string(), "seq": pa.int64(), "boot": pa.int64(), moment: pa.string(),
             "end": pa.string(), "technique": pa.string()}
    return pa.table({k: pa.array(v, types.get(k, pa.float64())) for k, v in columns.items()})


def cmd_export(args: argparse.Namespace) -> int:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    start = end = None
    if args.date_from or args.date_to:
        tz = _local_tz()
        first = _parse_day(args.date_from) if args.date_from else date(2000, 1, 1)
        last = _parse_day(args.date_to) if args.date_to else date.today()
        if last < first:
            raise_out_of_range(f"--to {last} is before --from {first}")
        start = datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()
        end = (datetime(last.year, last.month, last.day, tzinfo=tz)
               + timedelta(days=1)).timestamp()
    with _open_store_for_reading(args.store) as store:
        table = export_table(store, args.what, start, end)
    out = Path(args.out)
    try:
        if args.format == "csv":
            pacsv.write_csv(table, out)
        elif args.format == "parquet":
            pq.write_table(table, out)
        else:
            with open(out, "w") as fh:
                for row in table.to_pylist():
                    fh.write(json.dumps(row) + "\n")
    except OSError as e:
        from .errors import StoreError

        raise StoreError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"{table.num_rows} {args.what} rows written to {out}")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    from . import share

    dest = Path(args.to)
    with _open_store_for_reading(args.store) as store:
        if args.revoke:
            n = share.revoke(store, dest)
            print(f"withdrawn: {n} shared days deleted from {dest}" if n else
                  f"nothing of this store's was shared in {dest}")
            return 0
        if args.new_id:
            print(f"new worker id {share.new_id(store)} (days shared under the old id stay "
                  "until withdrawn with --revoke before --new-id)")
        start = _parse_day(args.date_from) if args.date_from else None
        end = _parse_day(args.until) if args.until else date.today()
        current = current_plan(store)
        try:
            done = share.share(store, dest, start, end, _local_tz(), args.shift, args.task,
                               None if current is None else current[0])
        except OSError as e:
            from .errors import ShareError

            raise ShareError(f"cannot write to {dest}: {e.strerror or e}") from None
    days = len(done.written) + len(done.replaced)
    if days == 0:
        print(f"nothing recorded in that range: nothing shared (worker id {done.worker})")
        return 0
    print(f"shared {days} days as worker {done.worker} in {dest}: {len(done.written)} new, "
          f"{len(done.replaced)} updated; daily numbers only (docs/team.md)")
    return 0


def cmd_team(args: argparse.Namespace) -> int:
    from . import team

    out = Path(args.out)
    try:
        team.write(Path(args.folder), out, args.by)
    except OSError as e:
        from .errors import TeamError

        raise TeamError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"team report written to {out}")
    return 0


def sync_summary(store: Store, device: str, before: int, new: int, battery: int,
                 seconds: float, path: Path) -> str:
    """What a sync brought, in words: the days it covered and what happened on them."""
    if new == 0:
        return (f"up to date: nothing new on the clip ({device}); battery {battery} %; "
                f"store {path}")
    summaries = store.rows("summaries", device=device, after_seq=before)
    episodes = store.rows("episodes", device=device, after_seq=before)
    lifts = store.rows("lifts", device=device, after_seq=before)
    buzzes = store.rows("buzzes", device=device, after_seq=before)
    rows = summaries + episodes + lifts + buzzes
    placed = [r["utc"] for r in rows if r["utc"] is not None]
    tz = _local_tz()
    if not rows:
        days = "no posture data yet (the clip sums up every minute it runs)"
    elif placed:
        first = datetime.fromtimestamp(min(placed), tz).date()
        last = datetime.fromtimestamp(max(placed), tz).date()
        days = first.isoformat() if first == last else f"{first} to {last}"
    else:
        days = "times not known (the clip's clock was never set for them)"
    recorded = sum(r["span_s"] for r in summaries) / 3600
    slouch = sum(r["slouch_s"] for r in summaries) / 60
    stooped = sum(1 for r in lifts if r["technique"] == "stoop")
    return (f"synced {new} new record{'s' if new != 1 else ''} from {device} in "
            f"{seconds:.0f} s, covering {days}:\n"
            f"  {recorded:.1f} h recorded, {slouch:.0f} min slouched in {len(episodes)} "
            f"episodes, {len(lifts)} lifts ({stooped} stooped)\n"
            f"  clip battery {battery} %; stored in {path} "
            f"(postureclip today / history show it)")


def _parse_week(text: str) -> list[date]:
    try:
        year, week = text.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise_out_of_range(f"{text!r} is not a week: write it as YYYY-Www, e.g. 2026-W48")
    return [monday + timedelta(days=i) for i in range(7)]


def cmd_report(args: argparse.Namespace) -> int:
    from . import report
    from .errors import HistoryError, StoreError

    if args.day and args.week:
        raise_out_of_range("give --day or --week, not both")
    if args.week:
        days = _parse_week(args.week)
        title = f"Posture and lifting, week {args.week}"
    else:
        day = _parse_day(args.day) if args.day else date.today()
        days = [day]
        title = f"Posture and lifting, {day:%A %d %B %Y}"
    out = Path(args.out) if args.out else Path(
        f"postureclip-{args.week or days[0].isoformat()}.html")
    tz = _local_tz()
    with _open_store_for_reading(args.store) as store:
        from . import daily

        if all(daily.summarize(store, d, tz).empty for d in days):
            raise HistoryError(f"nothing recorded from {days[0]} to {days[-1]} in "
                               f"{args.store}: wear the clip and sync")
        try:
            report.write(store, days, tz, args.goal, title, out, plan_words(store),
                         program_words(store))
        except OSError as e:
            raise StoreError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"report written to {out.resolve()}")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from . import monitor
    from .store import Store

    tz = _local_tz()
    with Store(args.store) as store:
        try:
            return _on_clip(args, lambda clip: monitor.run(clip, store, tz, args.seconds))
        except KeyboardInterrupt:
            print("\nstopped")
            return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor

    checks = doctor.run(args.store)
    print(doctor.report(checks))
    # the tools are optional: only Bluetooth, Python and the store decide the exit status
    needed = [c for c in checks if c.name not in ("mpremote", "esptool.py", "micropython")]
    return 0 if all(c.ok for c in needed) else 1


def cmd_power(args: argparse.Namespace) -> int:
    from . import power

    power.main()
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument as one sentence (and where to read more)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def analysis_options(p: argparse.ArgumentParser) -> None:
    """The thresholds `analyze` and `analyze-batch` take (``analysis_settings`` reads them)."""
    p.add_argument("--slouch-deg", type=float, default=20.0,
                   help="flexion beyond neutral that counts as slouching (default 20)")
    p.add_argument("--move-after", type=bounded(float, 0, 240, "a number of minutes"),
                   default=30.0, metavar="MIN",
                   help="still stretch before a reminder to move, minutes; 0 for none "
                        "(default 30, the clip's move_after_min)")


def analysis_settings(args: argparse.Namespace) -> AnalysisSettings:
    from .settings import AnalysisSettings

    return AnalysisSettings(slouch_deg=args.slouch_deg, move_after_min=args.move_after)


def bounded(kind: Callable[[str], Any], lo: float, hi: float, what: str
            ) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` within lo..hi, else a sentence saying so."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside {lo:g}..{hi:g}")
        return value
    return parse


PORT = bounded(int, 1, 65535, "a port number")


def build_parser() -> argparse.ArgumentParser:
    from .daily import DEFAULT_GOAL_UPRIGHT_PCT
    ap = _Parser(prog="postureclip", description=__doc__)
    ap.add_argument("--version", action="version", version=f"postureclip {__version__}")
    ap.add_argument("--debug", action="store_true",
                    help="show the full traceback of an error (for reporting a problem)")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("analyze", help="analyse a recording CSV (t,ax,ay,az,gx,gy,gz)")
    p.add_argument("recording")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.add_argument("--series", metavar="OUT.csv",
                   help="also write t,flexion_deg,lateral_deg,posture per sample")
    p.add_argument("--chunk-hours", type=bounded(float, 0.1, 48, "a number of hours"),
                   help="analyse in chunks of this many hours, in bounded memory (default: in "
                        "one piece up to 10 h, in chunks of 4 h beyond; docs/analysis.md)")
    analysis_options(p)
    p.set_defaults(run=cmd_analyze)

    p = sub.add_parser("analyze-batch", help="analyse many recordings on a Dask cluster",
                       description="Run analyze on every recording a glob names, on a local "
                                   "cluster of worker processes or an existing Dask cluster, "
                                   "into a Parquet dataset with one folder per kind "
                                   "(summaries, lifts, slouch_episodes, ...); each row names "
                                   "its recording. A recording that fails is reported and the "
                                   "batch goes on; a rerun skips what is done. docs/team.md.",
                       epilog="examples: postureclip analyze-batch 'data/**/*.csv' --out "
                              "results   |   ... --scheduler tcp://10.0.0.5:8786")
    p.add_argument("pattern", help="a glob of recording CSVs (quote it)")
    p.add_argument("--out", required=True, help="the dataset folder")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler (default: a local cluster)")
    p.add_argument("--workers", type=bounded(int, 1, 256, "a number of workers"),
                   default=min(4, os.cpu_count() or 1),
                   help="worker processes of the local cluster (default: up to 4, one per "
                        "core)")
    analysis_options(p)
    p.set_defaults(run=cmd_analyze_batch)

    p = sub.add_parser("simulate", help="write a synthetic wearer's recording CSV")
    p.add_argument("output")
    p.add_argument("--hours", type=bounded(float, 0.01, 48, "a number of hours"), default=0.25,
                   help="length of the recording, 0.01 to 48 h (default 0.25)")
    p.add_argument("--rate", type=bounded(float, 10, 2000, "a rate in Hz"), default=100.0,
                   help="sample rate, 10 to 2000 Hz (default 100)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--gaps", type=bounded(int, 0, 1000, "a count"), default=0,
                   help="number of gaps in the timestamps")
    p.add_argument("--truth", metavar="OUT.json", help="also write the ground truth")
    p.add_argument("--day", choices=["default", "sitting", "exercise"], default="default",
                   help="an office/warehouse day (default), a desk day of long sittings, or a "
                        "home exercise session (all five exercises; --hours does not apply)")
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser("firmware", help="work with the clip's firmware")
    fw = p.add_subparsers(dest="firmware_command", required=True)
    d = fw.add_parser("deploy", help="copy the firmware to a board running MicroPython")
    d.add_argument("--port", default="auto", help="serial port (default: mpremote's auto)")
    d.add_argument("--board", default="xiao_esp32c3",
                   help="board file: xiao_esp32c3 (wearable) or devkit_mpu6050 (breadboard)")
    d.add_argument("--firmware", type=Path, help="firmware folder (default: the repository's)")
    d.add_argument("--dry-run", action="store_true", help="print the mpremote commands only")
    d.set_defaults(run=cmd_deploy)
    r = fw.add_parser(
        "replay", help="run the clip's own pipeline (MicroPython) on a recording CSV",
        description="Sample a recording as the clip's IMU does (208 Hz, its LSBs and ranges), "
                    "press calibrate at its first still moment and run the unchanged firmware "
                    "pipeline in MicroPython; print the clip's episodes, lifts and buzzes "
                    "(JSON keys: docs/json.md).")
    r.add_argument("recording")
    r.add_argument("--format", choices=["json", "table"], default="table")
    r.add_argument("--series", metavar="OUT.csv",
                   help="also write t,flexion_deg,lateral_deg per fused step of the clip")
    r.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="a coaching setting of the clip (postureclip config get lists them); "
                        "repeat for more")
    r.set_defaults(run=cmd_firmware_replay)

    p = sub.add_parser("sim", help="run the virtual clip (real firmware, simulated hardware)")
    p.add_argument("--motion", help="recording CSV the virtual IMU plays back (looped)")
    p.add_argument("--wearer", type=int, metavar="SEED",
                   help="without --motion: play a simulated wearer's day")
    p.add_argument("--hours", type=bounded(float, 0.01, 48, "a number of hours"), default=1.0,
                   help="length of that day")
    p.add_argument("--port", type=PORT, default=47000, help="loopback TCP port of its BLE")
    p.add_argument("--flash", default="~/.cache/postureclip/virtual-clip",
                   help="folder standing in for the clip's flash (kept between runs)")
    p.add_argument("--board", default="xiao_esp32c3")
    p.add_argument("--heapsize", default="512K",
                   help="MicroPython heap (64-bit objects: twice the ESP32's)")
    p.set_defaults(run=cmd_sim)

    p = sub.add_parser(
        "sync", help="copy the clip's log into the local store",
        description="Set the clip's clock, copy its log into the store on this computer, "
                    "then let the clip delete what was stored. An interrupted sync loses "
                    "nothing: run it again. Exits 2 and says why when it cannot complete.",
        epilog="example: press the clip's button once, then: postureclip sync")
    store_arg(p, "the SQLite store to copy into")
    p.add_argument("--sim", type=PORT, metavar="PORT", help="the virtual clip on this port")
    p.add_argument("--press", action="store_true",
                   help="with --sim: press the virtual clip's button first (its radio sleeps "
                        "between windows, as a real clip's does)")
    p.add_argument("--retries", type=bounded(int, 0, 100, "a count"), default=5,
                   help="connection attempts after the first (default 5)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=cmd_sync)

    def clip_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sim", type=PORT, metavar="PORT",
                       help="reach the virtual clip on this port (postureclip sim) instead of "
                            "a real clip over Bluetooth")
        p.add_argument("--retries", type=bounded(int, 0, 100, "a count"), default=5,
                       help="connection attempts after the first (default 5)")

    p = sub.add_parser(
        "status", help="the clip's battery, firmware, calibration, snooze, clock, faults",
        description="Connect to the clip and say how it is: battery, firmware, whether it is "
                    "calibrated, snoozed, has its clock set or a fault, and how many records "
                    "wait to be synced.",
        epilog="example: postureclip status   (press the clip's button first to wake it)")
    clip_options(p)
    store_arg(p, "count waiting records against this store")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser(
        "config", help="read or change the clip's settings",
        description="The clip's coaching settings by name, with units and ranges "
                    "(docs/protocol.md lists them). A value outside its range is refused "
                    "before anything is sent.",
        epilog="examples: postureclip config get   |   postureclip config get slouch_deg   |"
               "   postureclip config set slouch_delay_s 45")
    cfg = p.add_subparsers(dest="config_command", required=True)
    g = cfg.add_parser("get", help="show every setting, or one",
                       epilog="example: postureclip config get slouch_deg")
    g.add_argument("name", nargs="?", help="a setting's name (all when left out)")
    clip_options(g)
    g.set_defaults(run=cmd_config)
    st = cfg.add_parser("set", help="change one setting",
                        epilog="example: postureclip config set slouch_delay_s 45")
    st.add_argument("name", help="the setting's name, e.g. slouch_deg")
    st.add_argument("value", help="a whole number within the setting's range")
    clip_options(st)
    st.set_defaults(run=cmd_config)

    p = sub.add_parser("calibrate", help="learn your upright posture (hold still 3 s)",
                       description="Stand or sit upright and still; the clip learns this as "
                                   "your neutral posture (the same as holding its button 2 s).",
                       epilog="example: postureclip calibrate")
    clip_options(p)
    p.set_defaults(run=cmd_calibrate)

    p = sub.add_parser("buzz", help="feel one of the clip's buzz patterns",
                       description="Play a buzz pattern on the clip, to learn what each means.",
                       epilog="example: postureclip buzz lift")
    p.add_argument("pattern", choices=list(BUZZ_NAMES), help="which pattern")
    clip_options(p)
    p.set_defaults(run=cmd_buzz)

    p = sub.add_parser("snooze", help="pause posture reminders, or end a pause",
                       description="Pause the posture reminders for some minutes (lift "
                                   "warnings stay on), or end the pause with 'off'.",
                       epilog="examples: postureclip snooze 30   |   postureclip snooze 1h   |"
                              "   postureclip snooze tomorrow   |   postureclip snooze off")
    p.add_argument("minutes", help="minutes (1 to 1440), 1h, 2h30m, tomorrow (until "
                                   "midnight), or off")
    clip_options(p)
    p.set_defaults(run=cmd_snooze)

    p = sub.add_parser("plan", help="a training plan: a baseline, then coaching that adapts",
                       description="A baseline of three worn days that only measures, then "
                                   "posture reminders that get stricter as you slouch less and "
                                   "gentler when you slouch more. Worked out at every sync and "
                                   "written to the clip.",
                       epilog="examples: postureclip plan start   |   postureclip plan   |   "
                              "postureclip plan off")
    p.add_argument("action", nargs="?", choices=["start", "show", "off"], default="show")
    p.add_argument("--wear-hours", type=float, default=6.0,
                   help="a day counts when the clip was worn this long (default 6)")
    store_arg(p, "the store sync writes")
    p.set_defaults(run=cmd_plan)

    p = sub.add_parser("quiet", help="set quiet hours: no posture reminders then",
                       description="Quiet hours, in this computer's local time: the clip "
                                   "holds posture reminders back then (and logs that it did). "
                                   "The clip learns the local time at every sync.",
                       epilog="examples: postureclip quiet 22:00-07:00   |   "
                              "postureclip quiet off")
    p.add_argument("hours", help="HH:MM-HH:MM (may cross midnight), or off")
    clip_options(p)
    p.set_defaults(run=cmd_quiet)

    p = sub.add_parser("exercise", help="start, show or stop the exercise programme",
                       description="The exercise programme: hold and repetition targets for "
                                   "the planks, side planks, bridges and back extensions the "
                                   "clip recognises, growing as you complete sessions and "
                                   "easing off after missed weeks (docs/exercise.md). Worked "
                                   "out at every sync and written to the clip.")
    p.add_argument("action", nargs="?", choices=["start", "show", "off"], default="show")
    p.add_argument("plan", nargs="?", choices=["easy", "standard", "strong"],
                   default="standard", help="where a new programme starts (default standard)")
    store_arg(p, "the store sync writes")
    p.set_defaults(run=cmd_exercise)

    def store_option(p: argparse.ArgumentParser) -> None:
        store_arg(p, "the store sync writes")
        p.add_argument("--goal", type=float, default=DEFAULT_GOAL_UPRIGHT_PCT,
                       help="daily goal: percent of the time sitting or standing spent upright "
                            "(default %(default)g)")

    p = sub.add_parser("today", help="how your posture and lifting went today (or on a day)",
                       description="The day from the synced log: time recorded, share "
                                   "upright against your goal, slouch minutes and episodes, "
                                   "reminders and how fast you sat up after them, lifts by "
                                   "technique. Days are in this computer's time zone.",
                       epilog="examples: postureclip today   |   postureclip today --date "
                              "2026-11-27")
    p.add_argument("--date", help="another day, YYYY-MM-DD (default today)")
    store_option(p)
    p.set_defaults(run=cmd_today)

    p = sub.add_parser("history", help="the last days, one line each",
                       description="One line per day: recorded hours, % upright, slouch "
                                   "minutes, episodes, reminders, lifts, stooped lifts and "
                                   "whether the goal was met.",
                       epilog="example: postureclip history --days 14")
    p.add_argument("--days", type=int, default=7, help="how many days (default 7)")
    p.add_argument("--until", help="the last day shown, YYYY-MM-DD (default today)")
    store_option(p)
    p.set_defaults(run=cmd_history)

    p = sub.add_parser("export", help="write synced events to CSV, Parquet or JSON lines",
                       description="Write one kind of synced data to a file other programs "
                                   "read, with ISO 8601 UTC timestamps; the columns are listed "
                                   "in docs/store.md (Exports).",
                       epilog="example: postureclip export --what lifts --format csv --out "
                              "lifts.csv --from 2026-11-23 --to 2026-11-27")
    p.add_argument("--what", required=True, choices=list(EXPORT_MOMENT),
                   help="which kind of data")
    p.add_argument("--format", default="csv", choices=["csv", "parquet", "jsonl"],
                   help="file format (default csv)")
    p.add_argument("--out", required=True, help="the file to write")
    p.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (local time)")
    p.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (local time)")
    store_arg(p, "the store sync writes")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("share", help="share your daily numbers with your team, or withdraw them",
                       description="Write your days' numbers (worn time, upright share, "
                                   "slouch minutes, lifts by technique, lift risk scores, "
                                   "reminders; never angles or the times of events) to a "
                                   "folder your team reads, under a pseudonymous id, as "
                                   "Parquet. Sharing again updates the days; --revoke deletes "
                                   "everything you shared there. docs/team.md lists every "
                                   "column.",
                       epilog="examples: postureclip share --to /mnt/team --shift early "
                              "--task picking   |   postureclip share --to /mnt/team --revoke")
    p.add_argument("--to", required=True, help="the shared folder")
    p.add_argument("--from", dest="date_from",
                   help="first day, YYYY-MM-DD (default: the first day recorded)")
    p.add_argument("--until", help="last day, YYYY-MM-DD (default today)")
    p.add_argument("--shift", help="your shift, as your team names it (e.g. early)")
    p.add_argument("--task", help="your task, as your team names it (e.g. picking)")
    p.add_argument("--revoke", action="store_true",
                   help="delete everything this store shared in the folder")
    p.add_argument("--new-id", action="store_true",
                   help="share under a new pseudonymous id from now on")
    store_arg(p, "the store sync writes")
    p.set_defaults(run=cmd_share)

    p = sub.add_parser("team", help="a team's shared days, as one HTML report")
    tm = p.add_subparsers(dest="team_command", required=True, metavar="COMMAND")
    r = tm.add_parser("report", help="write the team report",
                      description="Query the days workers shared into FOLDER with DuckDB and "
                                  "write one self-contained HTML file: lifts per hour, stooped "
                                  "and twisted shares, lift risk scores, slouch time, baseline "
                                  "against coaching. No group of fewer than 5 workers is "
                                  "shown.",
                      epilog="example: postureclip team report /mnt/team --by shift --out "
                             "team.html")
    r.add_argument("folder", help="the shared folder")
    r.add_argument("--by", default="week", choices=["week", "shift", "task"],
                   help="the breakdown (default week)")
    r.add_argument("--out", default="team.html", help="the HTML file (default team.html)")
    r.set_defaults(run=cmd_team)

    p = sub.add_parser("monitor", help="a live view: trunk angles, posture now, today",
                       description="Sync, then show once a second the trunk's flexion and "
                                   "lean from the calibrated upright posture, whether you are "
                                   "slouched now and for how long, the time slouched today and "
                                   "the last buzz. It survives reconnects; Ctrl-C leaves.",
                       epilog="example: postureclip monitor")
    clip_options(p)
    store_arg(p, "the store sync writes")
    p.add_argument("--seconds", type=bounded(float, 1, 86400, "a number of seconds"),
                   help="stop after this long (default: until Ctrl-C)")
    p.set_defaults(run=cmd_monitor)

    p = sub.add_parser("report", help="a day or a week as one HTML file with plots",
                       description="Write one self-contained HTML file (no network needed; "
                                   "plots inline): the flexion timeline with slouch episodes "
                                   "shaded and reminders and lifts marked, time in each "
                                   "posture, the day's numbers against the goal and the trend "
                                   "over the week.",
                       epilog="examples: postureclip report   |   postureclip report --week "
                              "2026-W48 --out week.html")
    p.add_argument("--day", help="the day, YYYY-MM-DD (default today)")
    p.add_argument("--week", help="an ISO week, YYYY-Www (e.g. 2026-W48) instead of a day")
    p.add_argument("--out", help="the HTML file (default postureclip-DAY.html here)")
    store_option(p)
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("doctor", help="check that this computer can sync a clip",
                       description="Check Python, bleak, the system D-Bus, BlueZ, the "
                                   "Bluetooth adapter (present, powered, permitted), the "
                                   "MicroPython tools and the store; each problem with its "
                                   "fix. Exit status 1 when Bluetooth or the store is not "
                                   "ready.",
                       epilog="example: postureclip doctor")
    store_arg(p, "the store to check")
    p.set_defaults(run=cmd_doctor)

    p = sub.add_parser("power", help="print the battery-life model of both builds")
    p.set_defaults(run=cmd_power)

    p = sub.add_parser("demo", help="a worker's week, end to end: firmware, sync, day views",
                       description="Simulate a worker's week, run it through the clip's own "
                                   "firmware in MicroPython, sync it from the virtual clip over "
                                   "its Bluetooth link into a fresh store and show today, "
                                   "history and the week's HTML report.",
                       epilog="example: postureclip demo   (make demo runs it)")
    p.add_argument("--hours", type=bounded(float, 0.1, 10, "a number of hours"), default=2.0,
                   help="length of each shift (default 2 h; longer takes longer the first "
                        "time)")
    p.add_argument("--port", type=PORT, default=47071, help="the virtual clip's port")
    p.set_defaults(run=cmd_demo)
    return ap


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        result: int = args.run(args)
    except PostureclipError as e:
        if args.debug:
            raise
        print(f"postureclip: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (`... | head`): as every Unix tool, stop quietly
        # stdout's buffer cannot be flushed any more; point it at nothing so exit does not try
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug of ours: one line, the traceback with --debug
        if args.debug:
            raise
        print(f"postureclip: unexpected error: {type(e).__name__}: {e} (run again with --debug "
              "and report what it prints)", file=sys.stderr)
        return 3
    return result


def run() -> None:
    """The console command: ``main``, then exit. Its objects are frozen first (``gc.freeze``)
    so that the interpreter's last collection does not walk them all on the way out: 50 ms
    after an analysis, for a process that ends anyway."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
