"""`postureclip report`: one self-contained HTML file (no network, plots inline as SVG) for a
day or a week: the flexion timeline with slouch episodes shaded and buzzes and lifts marked,
time in each posture, the day's numbers against the goal, and the trend over the week."""
from __future__ import annotations

import html
import io
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from . import daily
from .store import Store


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (set before pyplot is first used)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG sits inside HTML


def _timeline(store: Store, day: date, tz: tzinfo) -> str:
    plt = _pyplot()
    t0, t1 = daily.day_bounds(day, tz)
    trace = store.rows("trace", t0, t1)
    episodes = store.rows("episodes", t0, t1)
    buzzes = store.rows("buzzes", t0, t1)
    lifts = store.rows("lifts", t0, t1)

    def hours(utc: float) -> float:
        return (utc - t0) / 3600.0

    fig, ax = plt.subplots(figsize=(10, 3.2))
    if trace:
        ax.plot([hours(r["utc"]) for r in trace], [r["flexion_deg"] for r in trace],
                lw=0.6, color="#1f5f8b", label="trunk flexion (°)")
    for e in episodes:
        ax.axvspan(hours(e["utc"]), hours(e["utc"] + e["duration_s"]), color="#e8a33d",
                   alpha=0.35, lw=0)
    posture = [hours(b["utc"]) for b in buzzes if b["reason"] in daily.POSTURE_REASONS]
    lift_buzz = [hours(b["utc"]) for b in buzzes if b["reason"] in daily.LIFT_REASONS]
    for x in posture:
        ax.axvline(x, color="#c0392b", lw=0.8, ls="--")
    if lifts:
        ax.scatter([hours(x["utc"]) for x in lifts], [x["peak_flexion_deg"] for x in lifts],
                   marker="v", s=28, zorder=3,
                   c=["#c0392b" if x["technique"] == "stoop" else "#27ae60" for x in lifts])
    ax.set_xlim(*_span_hours(trace, episodes, lifts, hours))
    ax.set_xlabel(f"hour of {day.isoformat()}")
    ax.set_ylabel("flexion (°)")
    ax.set_title(f"Trunk flexion: slouch episodes shaded, reminders dashed ({len(posture)}), "
                 f"lifts ▼ (green squat, red stoop; {len(lift_buzz)} warnings)", fontsize=9)
    ax.grid(alpha=0.3)
    return _svg(fig)


def _span_hours(trace: list[dict[str, Any]], episodes: list[dict[str, Any]],
                lifts: list[dict[str, Any]], hours: Any) -> tuple[float, float]:
    moments = [hours(r["utc"]) for r in trace + episodes + lifts]
    if not moments:
        return 0.0, 24.0
    lo, hi = min(moments), max(moments)
    return max(0.0, lo - 0.25), min(24.0, max(hi + 0.25, lo + 1.0))


def _posture_bars(d: daily.Day) -> str:
    plt = _pyplot()
    other = max(0.0, d.recorded_s - d.upright_s - d.slouch_s)  # moving, and what is not told
    fig, ax = plt.subplots(figsize=(5, 1.6))
    left = 0.0
    for label, seconds, color in (("upright", d.upright_s, "#27ae60"),
                                  ("slouched", d.slouch_s, "#e8a33d"),
                                  ("moving / other", other, "#95a5a6")):
        ax.barh([0], [seconds / 60], left=left, color=color, label=f"{label} "
                f"{seconds / 60:.0f} min")
        left += seconds / 60
    ax.set_yticks([])
    ax.set_xlabel("minutes")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3, fontsize=8,
              frameon=False)
    ax.set_title("Time in each posture", fontsize=9)
    return _svg(fig)


def _trend(days: list[daily.Day], goal: float) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 2.4))
    labels = [f"{d.day:%a %d}" for d in days]
    values = [d.upright_pct or 0.0 for d in days]
    colors = ["#bdc3c7" if d.upright_pct is None else
              ("#27ae60" if d.goal_met(goal) else "#e8a33d") for d in days]
    ax.bar(labels, values, color=colors)
    ax.axhline(goal, color="#2c3e50", ls="--", lw=1, label=f"goal {goal:.0f} %")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% upright")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("The week: share of the sitting and standing time upright (grey: no data)",
                 fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    return _svg(fig)


def _numbers(d: daily.Day, goal: float) -> str:
    pct = d.upright_pct
    rows = [
        ("recorded", f"{d.recorded_s / 3600:.1f} h"),
        ("upright", "–" if pct is None else f"{pct:.0f} % (goal {goal:.0f} %: "
         f"{'met' if d.goal_met(goal) else 'not met'})"),
        ("slouched", f"{d.slouch_s / 60:.0f} min in {d.episodes} episodes, longest "
         f"{d.longest_episode_s / 60:.1f} min"),
        ("reminders", f"{d.posture_buzzes}" + ("" if d.median_correction_s is None else
                                              f"; sat up after {d.median_correction_s:.0f} s "
                                              "(median)")),
        ("lifts", f"{d.lifts}: {d.squats} squat, {d.stoops} stoop, {d.twisted_lifts} "
         f"twisted; {d.lift_warnings} warnings"),
    ]
    if d.lift_scores:
        rows.append(("lift risk", f"{sum(d.lift_scores) / len(d.lift_scores):.1f} of 7 on "
                                  f"average; {sum(1 for x in d.lift_scores if x >= 5)} lifts at "
                                  "5 or more (docs/analysis.md, Lift risk)"))
    if d.held:
        rows.insert(4, ("held back", f"{sum(d.held.values())}: " + ", ".join(
            f"{n} {word}" for word, n in sorted(d.held.items(), key=lambda x: -x[1]))))
    if d.corrections_s:
        quick = sum(1 for c in d.corrections_s if c <= 10.0)
        rows.insert(4, ("sat up", f"within 10 s after {quick} of {len(d.corrections_s)} "
                                  f"reminders; slowest {max(d.corrections_s):.0f} s"))
    if d.slips or d.worn_off:
        rows.append(("clip", f"moved on your back {d.slips}×, taken off {d.worn_off}×"))
    if d.exercise:
        rows.append(("exercise", f"{len(d.exercise)} sets: {daily.format_exercise(d.exercise)}"))
    still = max(0.0, d.recorded_s - d.moving_s)
    rows.append(("sitting and still", f"{still / 3600:.1f} h; longest stretch without a break "
                 f"{d.longest_still_s / 60:.0f} min; {d.breaks} breaks, {d.move_reminders} "
                 "reminders to move"))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td class='num'>{html.escape(v)}</td></tr>"
                   for k, v in rows)
    return f"<table class='numbers'>{body}</table>"


NUMBERS_CSS = "table.numbers th { text-align: left; padding-right: 1.5em; font-weight: 600; }"


def page_head(title: str, css: str = "") -> str:
    """A self-contained page's start up to its <h1> (the style the reports share)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #2c3e50; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 2em; }}
figure {{ margin: 1em 0; }} svg {{ max-width: 100%; height: auto; }}
footer {{ margin-top: 3em; font-size: 0.8em; color: #7f8c8d; }}
{css}
</style></head><body>
<h1>{html.escape(title)}</h1>"""


def build(store: Store, days: list[date], tz: tzinfo, goal: float, title: str,
          plan: str | None = None, programme: str | None = None) -> str:
    """The report's HTML for ``days`` (the last is the one the timeline shows); ``plan``:
    the training plan in words, when one runs; ``programme``: the exercise programme and
    its adherence."""
    summaries = [daily.summarize(store, d, tz) for d in days]
    focus = summaries[-1]
    timeline_days = [d for d in summaries if not d.empty] if len(days) > 1 else [focus]
    sections = []
    for d in timeline_days:
        sections.append(f"<section><h2>{d.day:%A %d %B %Y}</h2>{_numbers(d, goal)}"
                        f"<figure>{_timeline(store, d.day, tz)}</figure>"
                        f"<figure>{_posture_bars(d)}</figure></section>")
    week = summaries if len(days) > 1 else [
        daily.summarize(store, days[-1] - timedelta(days=i), tz) for i in range(6, -1, -1)]
    generated = datetime.now(tz).strftime("%Y-%m-%d %H:%M")
    return f"""{page_head(title, NUMBERS_CSS)}
{"" if plan is None else f"<p id='plan'><b>Plan:</b> {html.escape(plan)}</p>"}
{"" if programme is None else
 f"<p id='programme'><b>Exercise:</b> {html.escape(programme)}</p>"}
<figure id="trend">{_trend(week, goal)}</figure>
{"".join(sections)}
<footer>postureclip report, made {generated} on this computer from the synced log; nothing in it
left the computer. Days in this computer's time zone; the goal is the share of the time sitting
or standing that was upright (walking and lifting do not count against it).</footer>
</body></html>
"""


def write(store: Store, days: list[date], tz: tzinfo, goal: float, title: str,
          out: Path, plan: str | None = None, programme: str | None = None) -> None:
    out.write_text(build(store, days, tz, goal, title, plan, programme), encoding="utf-8")
