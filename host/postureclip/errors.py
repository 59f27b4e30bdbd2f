"""One error root, one subclass per failure domain; messages say what happened and what to do."""
from __future__ import annotations


class PostureclipError(Exception):
    """Root of every error this package raises on purpose."""


class ProtocolError(PostureclipError):
    """Bytes from (or for) the clip that do not follow docs/protocol.md.

    :param message: what is wrong
    :param where: which frame/record and byte offset, e.g. ``"stream frame, byte 10"``
    """

    def __init__(self, message: str, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class RecordingError(PostureclipError):
    """A recording CSV that cannot be analysed; ``line`` is 1-based when known."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        loc = path + (f":{line}" if line is not None else "")
        super().__init__(f"{loc}: {message}" if loc else message)


class CalibrationError(RecordingError):
    """No still, neutral stretch to calibrate from."""


class DeployError(PostureclipError):
    """The firmware cannot be copied to a board (no firmware tree, no mpremote, no board)."""
