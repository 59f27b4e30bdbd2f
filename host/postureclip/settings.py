"""The analysis's thresholds (``AnalysisSettings``), apart from the analysis itself so that a
command can read them before it imports the rest (postureclip.prepare)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnalysisSettings:
    """Thresholds with units in their names; defaults match the firmware's settings."""

    slouch_deg: float = 20.0
    lean_deg: float = 15.0
    recline_deg: float = 15.0  # flexion below -recline_deg is reclined
    lying_deg: float = 60.0  # trunk axis this far from vertical is lying
    min_episode_s: float = 10.0
    max_dip_s: float = 2.0  # dips under the threshold shorter than this do not split
    calib_still_s: float = 2.0
    calib_search_s: float = 20.0
    lift_drop_m: float = 0.20  # sensor must go down at least this far
    lift_max_drop_m: float = 1.2  # and no farther: more is drift, not a back on a body
    lift_max_s: float = 10.0  # and come back within this time
    # ...or the trunk bends this far and comes back (a stoop to the floor drops a sensor
    # that sits behind the spine on a short trunk by less than lift_drop_m; nothing a desk
    # day holds bends the trunk this far: ISO 11226 calls beyond 60 deg not acceptable)
    lift_flexion_deg: float = 60.0
    bent_deg: float = 20.0  # a lift's movement: sensor dipped or trunk bent beyond this
    squat_excess_m: float = 0.20  # drop beyond what trunk flexion explains: knees bent
    # nominal hip-to-sensor distance along the spine and behind it, for the drop that trunk
    # flexion alone explains: the middle of the simulator's anthropometry (docs/analysis.md)
    trunk_length_m: float = 0.43
    lever_m: float = 0.08
    twist_deg: float = 30.0
    moving_acc_std: float = 0.8  # m/s^2 over 2 s windows
    move_after_min: float = 30.0  # the still stretch before a "time to move" reminder; 0 off
