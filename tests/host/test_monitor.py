"""The monitor's trunk angles are the clip's: host `trunk_angles` against the firmware's own
`Neutral.angles` (firmware/clip/calibration.py, run by CPython) for random mountings and
postures, from the quaternion the CALIBRATED record carries."""
from __future__ import annotations

import numpy as np
from test_protocol_doc import _firmware_module

from postureclip.monitor import trunk_angles
from postureclip.orientation import up_in_sensor

CAL = _firmware_module("calibration")


def test_trunk_angles_match_the_firmware() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = np.array([1.0, 0.0, 0.0]) + rng.normal(0, 0.3, 3)  # a tilted mounting
        neutral = CAL.Neutral(tuple(n / np.linalg.norm(n)), calibrated=True)
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        u = up_in_sensor(q.reshape(1, 4))[0]
        neutral.angles(*u)
        # what the record carries: the quaternion in steps of 1/32767
        carried = np.round(np.array(neutral.quat) * 32767) / 32767
        flexion, lateral = trunk_angles(q, carried)
        assert abs(flexion - neutral.flexion) < 0.05 or abs(abs(flexion - neutral.flexion)
                                                             - 360) < 0.05
        assert abs(lateral - neutral.lateral) < 0.05


def test_without_a_calibration_the_tilt_from_vertical() -> None:
    def about_y(deg: float) -> np.ndarray:  # sensor-to-earth rotation about y
        a = np.radians(deg) / 2
        return np.array([np.cos(a), 0.0, np.sin(a), 0.0])

    # -90° about y takes the sensor's +x (up the spine) onto earth's +z: upright, 0° tilt
    assert abs(trunk_angles(about_y(-90), None)[0]) < 1e-6
    assert abs(trunk_angles(about_y(-60), None)[0] - 30) < 1e-6
