"""One rotation of the sensor, such as the clip's mounting on the back or the turn of a slip,
as a unit quaternion, with the operations the analysis needs.

``Rotation`` has the same names and meanings as ``scipy.spatial.transform.Rotation`` for a
single rotation: quaternions are scalar-last (x, y, z, w), ``a * b`` applies ``b`` first,
and ``apply`` rotates vectors. It exists because importing scipy's takes 0.2 s: all of
scipy.spatial comes with it, which is a sixth of the whole command on 8 hours. The analysis
uses a handful of single rotations per recording, so plain floats and the math module are
enough here. tests/host/test_rotation.py checks every operation against scipy's.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Below this angle (rad), sin(a / 2) / a is taken from its series: the quotient loses digits.
_SMALL_ANGLE = 1e-3


class Rotation:
    """A rotation in 3-D as a unit quaternion (scalar last). Immutable."""

    __slots__ = ("_w", "_x", "_y", "_z")
    _x: float
    _y: float
    _z: float
    _w: float

    def __init__(self, quat: npt.ArrayLike) -> None:
        """From a quaternion (x, y, z, w), normalised to unit length."""
        x, y, z, w = (float(c) for c in np.asarray(quat, dtype=np.float64).reshape(4))
        norm = math.sqrt(x * x + y * y + z * z + w * w)
        if not norm > 0.0 or not math.isfinite(norm):
            raise ValueError(f"not a rotation: quaternion {[x, y, z, w]}")
        self._set(x / norm, y / norm, z / norm, w / norm)

    def _set(self, x: float, y: float, z: float, w: float) -> None:
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_y", y)
        object.__setattr__(self, "_z", z)
        object.__setattr__(self, "_w", w)

    @classmethod
    def _unit(cls, x: float, y: float, z: float, w: float) -> Rotation:
        out = object.__new__(cls)
        out._set(x, y, z, w)
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Rotation is immutable")

    @classmethod
    def from_quat(cls, quat: npt.ArrayLike) -> Rotation:
        """From a quaternion (x, y, z, w), normalised."""
        return cls(quat)

    @classmethod
    def from_rotvec(cls, rotvec: npt.ArrayLike) -> Rotation:
        """From a rotation vector: its direction the axis, its length the angle (rad)."""
        rx, ry, rz = (float(c) for c in np.asarray(rotvec, dtype=np.float64).reshape(3))
        angle = math.sqrt(rx * rx + ry * ry + rz * rz)
        if angle <= _SMALL_ANGLE:
            a2 = angle * angle
            scale = 0.5 - a2 / 48.0 + a2 * a2 / 3840.0
        else:
            scale = math.sin(angle / 2.0) / angle
        return cls._unit(scale * rx, scale * ry, scale * rz, math.cos(angle / 2.0))

    @classmethod
    def identity(cls) -> Rotation:
        """No rotation."""
        return cls._unit(0.0, 0.0, 0.0, 1.0)

    def as_quat(self) -> FloatArray:
        """The quaternion (x, y, z, w)."""
        return np.array([self._x, self._y, self._z, self._w])

    def as_matrix(self) -> FloatArray:
        """The rotation matrix (3, 3): ``as_matrix() @ v`` is ``apply(v)``."""
        x, y, z, w = self._x, self._y, self._z, self._w
        x2, y2, z2, w2 = x * x, y * y, z * z, w * w
        xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
        return np.array([[x2 - y2 - z2 + w2, 2.0 * (xy - zw), 2.0 * (xz + yw)],
                         [2.0 * (xy + zw), -x2 + y2 - z2 + w2, 2.0 * (yz - xw)],
                         [2.0 * (xz - yw), 2.0 * (yz + xw), -x2 - y2 + z2 + w2]])

    def as_rotvec(self) -> FloatArray:
        """The rotation vector (rad), of length at most pi."""
        x, y, z, w = self._x, self._y, self._z, self._w
        if w < 0.0:  # the same rotation, the shorter way round
            x, y, z, w = -x, -y, -z, -w
        angle = 2.0 * math.atan2(math.sqrt(x * x + y * y + z * z), w)
        if angle <= _SMALL_ANGLE:
            a2 = angle * angle
            scale = 2.0 + a2 / 12.0 + 7.0 * a2 * a2 / 2880.0
        else:
            scale = angle / math.sin(angle / 2.0)
        return np.array([scale * x, scale * y, scale * z])

    def magnitude(self) -> float:
        """The angle of the rotation (rad), 0 to pi."""
        x, y, z = self._x, self._y, self._z
        return 2.0 * math.atan2(math.sqrt(x * x + y * y + z * z), abs(self._w))

    def inv(self) -> Rotation:
        """The inverse rotation."""
        return Rotation._unit(-self._x, -self._y, -self._z, self._w)

    def apply(self, vectors: npt.ArrayLike) -> FloatArray:
        """``vectors`` (3,) or (N, 3) rotated."""
        v = np.asarray(vectors, dtype=np.float64)
        if v.shape[-1:] != (3,) or v.ndim > 2:
            raise ValueError(f"expected vectors of shape (3,) or (N, 3), got {v.shape}")
        out: FloatArray = v @ self.as_matrix().T
        return out

    def __mul__(self, other: Rotation) -> Rotation:
        """``other`` first, then this one."""
        if not isinstance(other, Rotation):
            return NotImplemented
        px, py, pz, pw = self._x, self._y, self._z, self._w
        qx, qy, qz, qw = other._x, other._y, other._z, other._w
        x = pw * qx + qw * px + (py * qz - pz * qy)
        y = pw * qy + qw * py + (pz * qx - px * qz)
        z = pw * qz + qw * pz + (px * qy - py * qx)
        w = pw * qw - px * qx - py * qy - pz * qz
        return Rotation((x, y, z, w))

    def approx_equal(self, other: Rotation, atol: float = 1e-8) -> bool:
        """Whether the two differ by a rotation of at most ``atol`` rad."""
        return (self * other.inv()).magnitude() <= atol

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rotation):
            return NotImplemented
        return (self._x, self._y, self._z, self._w) == (other._x, other._y, other._z, other._w)

    def __hash__(self) -> int:
        return hash((self._x, self._y, self._z, self._w))

    def __copy__(self) -> Rotation:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Rotation:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Rotation._unit, (self._x, self._y, self._z, self._w))

    def __repr__(self) -> str:
        return f"Rotation.from_quat([{self._x!r}, {self._y!r}, {self._z!r}, {self._w!r}])"
