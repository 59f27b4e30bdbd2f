"""Draw each build's wiring diagram (SVG) from its wiring table, the one source of truth.

    python hardware/draw_wiring.py          # rewrite hardware/wiring/*.svg
    python hardware/draw_wiring.py --check  # fail if a drawing is stale (the test suite does)
"""
from __future__ import annotations

import csv
import sys
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent / "wiring"
COLOURS = {"I2C_SDA": "#1f77b4", "I2C_SCL": "#ff7f0e", "3V3": "#d62728", "5V": "#d62728",
           "GND": "#222222", "BAT+": "#d62728", "BAT-": "#222222"}
ROW = 26


def draw(table: Path) -> str:
    with open(table, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["board_pin"]]
    pins = list(dict.fromkeys(r["board_pin"] for r in rows))
    parts = list(dict.fromkeys(r["part"] for r in rows))
    part_pins = {p: list(dict.fromkeys(r["part_pin"].split(" (")[0] for r in rows
                                       if r["part"] == p)) for p in parts}
    height = max(len(pins), sum(len(v) + 2 for v in part_pins.values())) * ROW + 80
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<title>{escape(table.stem)} build wiring</title>',
           f'<text x="20" y="24" font-size="16">{escape(table.stem)} build: wiring '
           f'(generated from {escape(table.name)})</text>',
           f'<rect x="20" y="40" width="180" height="{len(pins) * ROW + 20}" fill="#eef" '
           f'stroke="#335"/>']
    pin_y = {}
    for i, pin in enumerate(pins):
        y = 60 + i * ROW
        pin_y[pin] = y
        out.append(f'<text x="30" y="{y + 4}">{escape(pin)}</text>')
        out.append(f'<circle cx="200" cy="{y}" r="3"/>')
    y = 40
    part_y = {}
    for part in parts:
        n = len(part_pins[part])
        out.append(f'<rect x="560" y="{y}" width="240" height="{n * ROW + 30}" fill="#efe" '
                   f'stroke="#353"/>')
        out.append(f'<text x="570" y="{y + 16}" font-weight="bold">{escape(part)}</text>')
        for j, pp in enumerate(part_pins[part]):
            py = y + 36 + j * ROW
            part_y[(part, pp)] = py
            out.append(f'<circle cx="560" cy="{py}" r="3"/>')
            out.append(f'<text x="570" y="{py + 4}">{escape(pp)}</text>')
        y += n * ROW + 50
    for r in rows:
        y1 = pin_y[r["board_pin"]]
        y2 = part_y[(r["part"], r["part_pin"].split(" (")[0])]
        colour = COLOURS.get(r["signal"], "#2a2")
        out.append(f'<path d="M200 {y1} C380 {y1} 380 {y2} 560 {y2}" fill="none" '
                   f'stroke="{colour}" stroke-width="2"><title>{escape(r["signal"])}</title>'
                   f'</path>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for table in sorted(HERE.glob("*.csv")):
        svg = table.with_suffix(".svg")
        text = draw(table)
        if check:
            if not svg.exists() or svg.read_text() != text:
                stale.append(svg.name)
        else:
            svg.write_text(text)
    if stale:
        print("stale wiring drawings (run python hardware/draw_wiring.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
