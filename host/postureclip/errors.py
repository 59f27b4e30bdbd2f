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


class ConnectionFailed(PostureclipError):
    """No clip found, the link could not be made, or it dropped and did not come back."""


class BluetoothUnavailable(PostureclipError):
    """This computer's Bluetooth cannot be used (no adapter, BlueZ not running, no
    permission): no retry helps; the message says what to install or start."""


class EncryptionRequired(PostureclipError):
    """The clip refused a write on an unencrypted link (ATT error 0x0F): pair, then retry."""


class CommandFailed(PostureclipError):
    """The clip answered a control command with an error status (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


class UnknownOpcode(CommandFailed):
    """The clip's firmware does not know this command: update the firmware."""


class BadLength(CommandFailed):
    """The clip got a command of the wrong size: host and firmware protocols differ."""


class OutOfRange(CommandFailed):
    """A setting or argument outside its allowed range (docs/protocol.md lists them)."""


class ClipBusy(CommandFailed):
    """The clip is doing the same thing already (a calibration or a log transfer)."""


class ClipMoving(CommandFailed):
    """Calibration refused: the wearer moved. Hold still for 3 s and try again."""


class NotCalibrated(CommandFailed):
    """The clip needs a neutral-posture calibration first."""


class NoRecords(CommandFailed):
    """Nothing to act on (no log transfer running, no records from there)."""


class MtuTooSmall(CommandFailed):
    """The link's MTU cannot carry a whole log record: the system refused a larger MTU."""


class NoSensor(CommandFailed):
    """The clip's IMU does not answer (it shows the fault buzz code): check its wiring."""


class ClipFailed(CommandFailed):
    """The clip could not do it (e.g. no radio link for a log transfer)."""


class SyncIncomplete(PostureclipError):
    """A sync that stopped before the clip's log was copied: what was stored stays stored,
    nothing unstored was acknowledged; the message says why."""


class HistoryError(PostureclipError):
    """Nothing to show for the days asked (nothing synced, or the clip was not worn)."""


class StoreError(PostureclipError):
    """The local SQLite store cannot be opened or written."""


class ShareError(PostureclipError):
    """Sharing with a team cannot go ahead (a foreign manifest, an id clash, a bad range);
    nothing was written."""


class TeamError(PostureclipError):
    """A team report cannot be made from the shared folder (missing, or nothing readable)."""


class BatchError(PostureclipError):
    """A batch analysis cannot start (no recordings match, the Dask scheduler cannot be
    reached); what earlier runs wrote to the dataset is untouched."""
