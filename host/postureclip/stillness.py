"""No motion at all, not even breathing: the clip lying somewhere, off the body (the wear-off
rule, postureclip.slips, and the breaks' "off the body", postureclip.breaks). numpy alone: it
is made in the first stage's child (postureclip.prepare)."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .recording import Uniform
from .windows import axis_total, moving_mean, moving_variance

WEAR_OFF_GYR = 0.006  # rad/s: the spread of the turn rate under which nothing moves


def motionless(u: Uniform) -> npt.NDArray[np.bool_]:
    """No motion at all, not even breathing: the turn rate as the clip's fused steps see it
    lying still (0.5 s means of the gyro, bias-corrected), as a spread over 5 s (the clip
    relearns its gyro's offset at rest, which warms and drifts), under WEAR_OFF_GYR."""
    k = max(1, round(0.5 * u.rate_hz))
    k5 = max(1, round(5.0 * u.rate_hz))
    spread2 = axis_total(u.gyr, lambda rate: moving_variance(moving_mean(rate, k), k5))
    out: npt.NDArray[np.bool_] = (np.sqrt(np.maximum(spread2, 0.0)) < WEAR_OFF_GYR) & u.valid
    return out
