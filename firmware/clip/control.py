# Control requests: parse, validate, dispatch to the device, build the reply.
# A request that is malformed or out of range gets a status code and changes no state:
# everything is checked here or in the handler before anything is modified.
from clip import protocol as P
from clip import settings as S

PENDING = object()  # a handler's answer when the reply follows later (e.g. calibration)

_HANDLERS = {
    P.OP_GET_INFO: "cmd_get_info",
    P.OP_CALIBRATE: "cmd_calibrate",
    P.OP_GET_CONFIG: "cmd_get_config",
    P.OP_SET_CONFIG: "cmd_set_config",
    P.OP_SNOOZE: "cmd_snooze",
    P.OP_BUZZ_TEST: "cmd_buzz_test",
    P.OP_SET_TIME: "cmd_set_time",
    P.OP_STREAM: "cmd_stream",
    P.OP_FACTORY_RESET: "cmd_factory_reset",
    P.OP_FORGET_BONDS: "cmd_forget_bonds",
    P.OP_GET_STATUS: "cmd_get_status",
    P.OP_LOG_INFO: "cmd_log_info",
    P.OP_LOG_SEND: "cmd_log_send",
    P.OP_LOG_ACK: "cmd_log_ack",
    P.OP_LOG_ABORT: "cmd_log_abort",
}

MAX_SNOOZE_MIN = 1440  # a timed pause "until tomorrow" is at most a day
# the patterns a wearer may feel on request (not the fault code, which means a fault)
TEST_PATTERNS = (P.PATTERN_REMINDER, P.PATTERN_LIFT, P.PATTERN_CALIBRATED, P.PATTERN_LOW_BATTERY,
                 P.PATTERN_RECALIBRATE, P.PATTERN_TICK, P.PATTERN_MOVE, P.PATTERN_FORM,
                 P.PATTERN_TARGET, P.PATTERN_START)
# 2000-01-01 .. 2099-12-31: a clock outside this is a host bug, not a time to keep.
MAX_TIME_S = 3155759999


def check_args(op, args):
    """Range checks that need no device state; raise CommandError(ST_OUT_OF_RANGE)."""
    if op == P.OP_GET_CONFIG or op == P.OP_SET_CONFIG:
        _setting_row(args[0])
    elif op == P.OP_SNOOZE:
        if args[0] > MAX_SNOOZE_MIN:
            raise P.CommandError(P.ST_OUT_OF_RANGE, "snooze longer than %d min" % MAX_SNOOZE_MIN)
    elif op == P.OP_BUZZ_TEST:
        if args[0] not in TEST_PATTERNS:
            raise P.CommandError(P.ST_OUT_OF_RANGE, "no buzz pattern %d" % args[0])
    elif op == P.OP_SET_TIME:
        if args[0] > MAX_TIME_S or args[1] > 999:
            raise P.CommandError(P.ST_OUT_OF_RANGE, "time out of range")
    elif op == P.OP_STREAM:
        mode, rate = args
        if mode == P.STREAM_OFF:
            return
        limit = P.QUAT_MAX_HZ if mode == P.STREAM_QUAT else P.RAW_MAX_HZ
        if mode not in (P.STREAM_QUAT, P.STREAM_RAW) or rate < 1 or rate > limit:
            raise P.CommandError(P.ST_OUT_OF_RANGE, "stream mode %d at %d Hz" % (mode, rate))
    elif op == P.OP_FACTORY_RESET and args[0] != P.RESET_MAGIC:
        raise P.CommandError(P.ST_OUT_OF_RANGE, "factory reset needs the magic word")


def _setting_row(key):
    try:
        return S.row_by_key(key)
    except S.SettingsError as e:
        raise P.CommandError(P.ST_OUT_OF_RANGE, str(e)) from None


def handle(device, data):
    """Execute one control write on ``device``; return the reply bytes, or None when the
    handler answered PENDING and will send its reply itself later (or for an empty write,
    which names no command to answer)."""
    if not data:
        return None
    token = data[1] if len(data) > 1 else 0
    op = data[0] if len(data) > 0 else 0
    try:
        op, token, args = P.parse_command(data)
        check_args(op, args)
        device.token = token  # for handlers that reply later
        result = getattr(device, _HANDLERS[op])(*args)
    except P.CommandError as e:
        return P.pack_reply(op, token, e.status)
    except S.SettingsError:
        return P.pack_reply(op, token, P.ST_OUT_OF_RANGE)
    if result is PENDING:
        return None
    return P.pack_reply(op, token, P.ST_OK, result)
