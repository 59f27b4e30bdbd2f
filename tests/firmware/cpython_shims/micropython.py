"""CPython stand-in for MicroPython's ``micropython`` module (only what the firmware uses)."""
import builtins


def _pointer(buf):
    """Viper's ptr8/ptr16/ptr32: in CPython the buffer itself (a bytearray or an array of the
    matching item size) indexes the same way."""
    return buf


# viper code names its pointer casts as builtins
builtins.ptr8 = builtins.ptr16 = builtins.ptr32 = _pointer


def const(value):
    return value


def native(func):
    return func


def viper(func):
    return func


def alloc_emergency_exception_buf(size):
    return None


def schedule(func, arg):
    func(arg)
