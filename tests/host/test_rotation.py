"""postureclip.rotation.Rotation against scipy.spatial.transform.Rotation, the same
operations on the same rotations (the analysis's numbers must not depend on which it uses)."""
from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation as Scipy

from postureclip.rotation import Rotation

# to about an ulp of numbers of order 1 (they are bit for bit the same with scipy 1.17)
TOL = 4e-16


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=TOL)


angles = st.sampled_from([0.0, 1e-9, 1e-4, 9.99e-4, 1e-3, 1.01e-3, 0.3, 1.0, 3.0, math.pi])
axes = st.tuples(*[st.floats(-1.0, 1.0)] * 3).filter(lambda v: sum(c * c for c in v) > 1e-6)
vectors = st.tuples(*[st.floats(-10.0, 10.0)] * 3)


def _rotvec(axis: tuple[float, ...], angle: float) -> np.ndarray:
    a = np.array(axis)
    return a / np.linalg.norm(a) * angle


@given(axes, angles, vectors)
def test_a_rotation_vector_gives_scipys_rotation(axis: tuple[float, ...], angle: float,
                                                  v: tuple[float, ...]) -> None:
    rv = _rotvec(axis, angle)
    ours, theirs = Rotation.from_rotvec(rv), Scipy.from_rotvec(rv)
    _close(ours.as_quat(), theirs.as_quat())
    _close(ours.as_matrix(), theirs.as_matrix())
    _close(ours.magnitude(), theirs.magnitude())
    _close(ours.as_rotvec(), theirs.as_rotvec())
    _close(ours.inv().as_quat(), theirs.inv().as_quat())
    _close(ours.apply(v), theirs.apply(v))
    _close(ours.inv().apply(v), theirs.inv().apply(v))
    _close(ours.apply(np.array([v, v[::-1]])), theirs.apply(np.array([v, v[::-1]])))


@given(axes, angles, axes, angles)
def test_composition_is_scipys(a1: tuple[float, ...], t1: float, a2: tuple[float, ...],
                               t2: float) -> None:
    p, q = _rotvec(a1, t1), _rotvec(a2, t2)
    ours = Rotation.from_rotvec(p) * Rotation.from_rotvec(q)
    theirs = Scipy.from_rotvec(p) * Scipy.from_rotvec(q)
    _close(ours.as_quat(), theirs.as_quat())
    assert ours.approx_equal(Rotation.from_quat(theirs.as_quat()), atol=1e-12)


@given(st.tuples(*[st.floats(-5.0, 5.0)] * 4).filter(lambda q: sum(c * c for c in q) > 1e-6))
def test_a_quaternion_is_normalised_as_scipy_does(q: tuple[float, ...]) -> None:
    _close(Rotation.from_quat(q).as_quat(), Scipy.from_quat(q).as_quat())


def test_identity_and_the_order_of_composition() -> None:
    v = np.array([0.3, -1.0, 2.0])
    _close(Rotation.identity().apply(v), v)
    a = Rotation.from_rotvec([0.0, 0.0, math.pi / 2])  # x -> y
    b = Rotation.from_rotvec([math.pi / 2, 0.0, 0.0])  # y -> z
    _close((b * a).apply([1.0, 0.0, 0.0]), [0.0, 0.0, 1.0])  # a first
    assert (a * a.inv()).approx_equal(Rotation.identity())
    assert not a.approx_equal(b)


def test_a_rotation_is_a_value() -> None:
    a = Rotation.from_rotvec([0.1, 0.2, 0.3])
    with pytest.raises(AttributeError):
        a._x = 1.0  # type: ignore[misc]
    assert copy.deepcopy(a) is a and copy.copy(a) is a
    back = pickle.loads(pickle.dumps(a))
    assert back == a and hash(back) == hash(a)
    assert a != a.inv() and eval(repr(a), {"Rotation": Rotation}).approx_equal(a, atol=1e-15)


def test_what_is_not_a_rotation_is_refused() -> None:
    with pytest.raises(ValueError, match="not a rotation"):
        Rotation.from_quat([0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="not a rotation"):
        Rotation.from_quat([np.nan, 0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        Rotation.identity().apply([1.0, 2.0])
