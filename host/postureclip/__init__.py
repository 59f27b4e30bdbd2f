"""postureclip host library: talk to the clip, analyse trunk posture and lifting, keep history."""
from .errors import CalibrationError, PostureclipError, ProtocolError, RecordingError

__version__ = "0.1.0"
__all__ = ["CalibrationError", "PostureclipError", "ProtocolError", "RecordingError",
           "__version__"]
