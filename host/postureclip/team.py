"""The team report: the days workers shared (postureclip.share), queried with DuckDB and
written as one self-contained HTML file (docs/team.md).

k-anonymity: no group of fewer than ``K`` workers is shown. A breakdown that holds groups back
also holds back the smallest groups shown until the held-back ones together count ``K``
workers or more, so that no small group can be worked out as the team's total minus the
groups shown (complementary suppression). The report says where it holds something back.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import TeamError
from .report import _pyplot, _svg, page_head
from .share import DAY_COLUMNS, MAX_LIFT_SCORE

K = 5  # the fewest workers a shown group may hold
TEAM_CSS = """table.groups { border-collapse: collapse; }
table.groups th, table.groups td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd;
  text-align: right; }
table.groups td:first-child, table.groups th:first-child { text-align: left; }
.held, tr.held td { color: #7f8c8d; font-style: italic; }"""
BREAKDOWNS = {"week": "strftime(date, '%G-W%V')", "shift": "coalesce(shift, '(none named)')",
              "task": "coalesce(task, '(none named)')", "phase": "phase"}
SUMMED = ("worn_h", "upright_min", "slouch_min", "lifts", "squat_lifts", "stoop_lifts",
          "twisted_lifts", "posture_buzzes", "lift_warnings",
          *(f"lifts_score_{s}" for s in range(1, MAX_LIFT_SCORE + 1)))


@dataclass
class Group:
    """One group's totals and the workers in it (their pseudonymous ids)."""

    key: str
    workers: set[str]
    worker_days: int
    sums: dict[str, float]
    hidden: str | None = None  # why it is held back (None: shown)

    @property
    def lifts_per_h(self) -> float | None:
        return _ratio(self.sums["lifts"], self.sums["worn_h"])

    @property
    def stooped_pct(self) -> float | None:
        return _pct(self.sums["stoop_lifts"], self.sums["lifts"])

    @property
    def twisted_pct(self) -> float | None:
        return _pct(self.sums["twisted_lifts"], self.sums["lifts"])

    @property
    def slouch_min_per_h(self) -> float | None:
        return _ratio(self.sums["slouch_min"], self.sums["worn_h"])

    @property
    def upright_pct(self) -> float | None:
        return _pct(self.sums["upright_min"], self.sums["upright_min"] + self.sums["slouch_min"])

    @property
    def mean_score(self) -> float | None:
        n = sum(self.sums[f"lifts_score_{s}"] for s in range(1, MAX_LIFT_SCORE + 1))
        total = sum(s * self.sums[f"lifts_score_{s}"] for s in range(1, MAX_LIFT_SCORE + 1))
        return _ratio(total, n)


def _ratio(a: float, b: float) -> float | None:
    return None if b <= 0 else a / b


def _pct(a: float, b: float) -> float | None:
    return None if b <= 0 else 100.0 * a / b


@dataclass
class Dataset:
    """The readable day files of a shared folder, and the files left out with why."""

    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def scan(folder: Path) -> Dataset:
    """Check every file under ``folder/days``: a day file must be where share writes it and
    read as Parquet with the shared columns; anything else is skipped, with the reason."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    days = folder / "days"
    if not days.is_dir():
        raise TeamError(f"{folder} holds no shared days (no days/ folder): workers share into "
                        "it with `postureclip share --to FOLDER`")
    wanted = {name for name, _, _ in DAY_COLUMNS}
    data = Dataset([])
    for path in sorted(p for p in days.rglob("*") if p.is_file()):
        rel = path.relative_to(days).parts
        if path.name.startswith("."):
            continue  # a share writing right now (its temporary file)
        if (len(rel) != 3 or not rel[0].startswith("worker=") or not rel[1].startswith("date=")
                or path.suffix != ".parquet"):
            data.skipped.append((path, "not a shared day file"))
            continue
        try:
            names = set(pq.read_schema(path).names)
        except Exception as e:  # pyarrow raises several kinds for a damaged file
            data.skipped.append((path, f"unreadable ({type(e).__name__})"))
            continue
        if names != wanted:  # version 1's columns exactly: the files read as one table
            data.skipped.append((path, "other columns than a shared day's"))
            continue
        data.files.append(path)
    if not data.files:
        raise TeamError(f"no readable shared day in {folder}"
                        + (f" ({len(data.skipped)} files skipped)" if data.skipped else ""))
    return data


def connect(data: Dataset) -> Any:
    """An in-memory DuckDB database with the table ``days``: one row per worker-day, with
    ``worker`` and ``date`` from the folder names."""
    import duckdb

    # one thread: DuckDB's parallel reader keeps buffers per thread for each small file
    # (2,000 day files: 480 MB with two threads, 100 MB with one, and faster)
    con = duckdb.connect(config={"threads": 1})
    con.execute("CREATE TABLE days AS SELECT * FROM read_parquet(?, hive_partitioning = true)",
                [[str(p) for p in data.files]])
    return con


def groups(con: Any, by: str) -> list[Group]:
    """The days grouped by ``by`` (a BREAKDOWNS key), k-anonymity applied."""
    if by not in BREAKDOWNS:
        raise TeamError(f"--by takes one of {', '.join(BREAKDOWNS)} ({by!r} given)")
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in SUMMED)
    rows = con.execute(f"SELECT {BREAKDOWNS[by]} AS g, list(DISTINCT worker), count(*), {sums} "
                       "FROM days GROUP BY g ORDER BY g").fetchall()
    out = [Group(str(r[0]), set(r[1]), int(r[2]), dict(zip(SUMMED, map(float, r[3:]),
                                                           strict=True))) for r in rows]
    suppress(out)
    return out


def suppress(gs: list[Group], k: int = K) -> None:
    """Mark the groups to hold back: those of fewer than ``k`` workers, then the smallest shown
    ones until those held back together hold ``k`` workers or are all the groups."""
    small = [g for g in gs if len(g.workers) < k]
    for g in small:
        g.hidden = f"fewer than {k} workers"
    if not small:
        return
    while True:
        hidden = [g for g in gs if g.hidden]
        shown = [g for g in gs if not g.hidden]
        if len(set().union(*(g.workers for g in hidden))) >= k or not shown:
            return
        smallest = min(shown, key=lambda g: (len(g.workers), g.key))
        smallest.hidden = "kept with the small groups, so that they cannot be worked out"


def _fmt(v: float | None, unit: str = "", digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}{unit}"


def _table(gs: list[Group], by: str) -> str:
    head = ("<tr><th>" + html.escape(by) + "</th><th>workers</th><th>worker-days</th>"
            "<th>worn h</th><th>lifts per h</th><th>stooped</th><th>twisted</th>"
            "<th>mean lift score</th><th>slouch min per h</th><th>upright</th></tr>")
    rows = []
    for g in gs:
        if g.hidden:
            rows.append(f"<tr class='held'><td>{html.escape(g.key)}</td>"
                        f"<td colspan='9'>held back: {html.escape(g.hidden)} "
                        "(k-anonymity)</td></tr>")
            continue
        rows.append(
            f"<tr><td>{html.escape(g.key)}</td><td>{len(g.workers)}</td><td>{g.worker_days}</td>"
            f"<td>{g.sums['worn_h']:.0f}</td><td>{_fmt(g.lifts_per_h)}</td>"
            f"<td>{_fmt(g.stooped_pct, ' %', 0)}</td><td>{_fmt(g.twisted_pct, ' %', 0)}</td>"
            f"<td>{_fmt(g.mean_score, '', 2)}</td><td>{_fmt(g.slouch_min_per_h)}</td>"
            f"<td>{_fmt(g.upright_pct, ' %', 0)}</td></tr>")
    return f"<table class='groups'>{head}{''.join(rows)}</table>"


def _trend_plot(weeks: list[Group]) -> str:
    shown = [g for g in weeks if not g.hidden]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
    x = range(len(shown))
    labels = [g.key for g in shown]
    panels = (("lifts per worn hour", [g.lifts_per_h for g in shown], "#2980b9"),
              ("stooped and twisted lifts, %", [g.stooped_pct for g in shown], "#c0392b"),
              ("slouch minutes per worn hour", [g.slouch_min_per_h for g in shown], "#8e44ad"))
    for ax, (title, values, colour) in zip(axes, panels, strict=True):
        ax.plot(list(x), [float("nan") if v is None else v for v in values], "o-",
                color=colour)
        if title.startswith("stooped"):
            ax.plot(list(x), [float("nan") if g.twisted_pct is None else g.twisted_pct
                              for g in shown], "s--", color="#e67e22", label="twisted")
            ax.legend(["stooped", "twisted"], fontsize=8, frameon=False)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(list(x), labels, rotation=45, fontsize=8)
        top = max((v for v in values if v is not None), default=0.0)
        ax.set_ylim(0, 1.2 * top if top > 0 else 1.0)
        ax.grid(alpha=0.3)
    return _svg(fig)


def _score_plot(team: Group) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 2.6))
    counts = [team.sums[f"lifts_score_{s}"] for s in range(1, MAX_LIFT_SCORE + 1)]
    n = sum(counts) or 1.0
    ax.bar(range(1, MAX_LIFT_SCORE + 1), [100.0 * c / n for c in counts], color="#16a085")
    ax.set_xlabel("lift risk score (1 upright and slow ... 7)")
    ax.set_ylabel("% of lifts")
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def _phase_text(phases: list[Group]) -> str:
    by = {g.key: g for g in phases}
    base, coach = by.get("baseline"), by.get("coaching")
    if base is None or coach is None:
        return ("<p>No comparison: the shared days are all "
                f"{'coaching' if base is None else 'baseline'} days.</p>")
    if base.hidden or coach.hidden:
        return (f"<p class='held'>Held back: the baseline or the coaching days come from fewer "
                f"than {K} workers (k-anonymity).</p>")
    return _table([base, coach], "phase")


def build(folder: Path, by: str = "week", title: str = "Team report") -> str:
    """The report's HTML for the shared ``folder`` broken down ``by`` (BREAKDOWNS)."""
    data = scan(folder)
    con = connect(data)
    team = _team(con)
    first, last = con.execute("SELECT min(date), max(date) FROM days").fetchone()
    body: list[str] = []
    if len(team.workers) < K:
        body.append(f"<p class='held'>Held back: {len(team.workers)} workers shared days here; "
                    f"the report shows nothing until {K} or more have (k-anonymity).</p>")
    else:
        chosen = groups(con, by)
        weeks = chosen if by == "week" else groups(con, "week")
        phases = groups(con, "phase")
        body.append(f"<h2>The team</h2>{_table([team], '')}")
        body.append(f"<h2>By {html.escape(by)}</h2>{_table(chosen, by)}")
        if sum(1 for g in weeks if not g.hidden) >= 2:
            body.append(f"<h2>Week by week</h2><figure id='trend'>{_trend_plot(weeks)}</figure>")
        body.append(f"<h2>Lift risk scores</h2><figure id='scores'>{_score_plot(team)}</figure>")
        body.append(f"<h2>Baseline against coaching</h2>{_phase_text(phases)}")
    skipped = "".join(f"<li>{html.escape(str(p))}: {html.escape(why)}</li>"
                      for p, why in data.skipped)
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return f"""{page_head(title, TEAM_CSS)}
<p>{len(team.workers)} workers shared {team.worker_days} days from {first} to {last}.</p>
{"".join(body)}
<footer>Made {generated} from {len(data.files)} shared day files in {html.escape(str(folder))}
with DuckDB. Workers share daily numbers only (no angles, no times of events), under
pseudonymous ids, and can withdraw them at any time. No group of fewer than {K} workers is
shown, nor a group whose figures would let a smaller one be worked out.
{f"<p>Files left out:</p><ul>{skipped}</ul>" if skipped else ""}</footer>
</body></html>
"""


def _team(con: Any) -> Group:
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in SUMMED)
    r = con.execute(f"SELECT list(DISTINCT worker), count(*), {sums} FROM days").fetchone()
    return Group("all", set(r[0]), int(r[1]), dict(zip(SUMMED, map(float, r[2:]), strict=True)))


def write(folder: Path, out: Path, by: str = "week", title: str = "Team report") -> None:
    out.write_text(build(folder, by, title), encoding="utf-8")

