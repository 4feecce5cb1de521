"""The exception hierarchy, identical in names and bases to aioredis 1.3.1.

Error replies from the server become :class:`ReplyError` instances; the
constructor picks the subclass from the reply's prefix (``MATCH_REPLY``), as 1.x
does, including subclasses the user defines, so the readers only ever need to call
``ReplyError(message)``.
"""
import weakref
from typing import Any, Optional, Sequence, Tuple, TypeVar

__all__ = [
    "RedisError",
    "ProtocolError",
    "ReplyError",
    "MaxClientsError",
    "AuthError",
    "BusyGroupError",
    "NoPermissionError",
    "NoScriptError",
    "PipelineError",
    "MultiExecError",
    "WatchVariableError",
    "ChannelClosedError",
    "ConnectionClosedError",
    "ConnectionForcedCloseError",
    "PoolClosedError",
    "MasterNotFoundError",
    "SlaveNotFoundError",
    "ReadOnlyError",
    "MasterReplyError",
    "SlaveReplyError",
]


_BUILTIN_DONE = False   # True once this module's own subclasses are defined


class RedisError(Exception):
    """Base exception class for aioredis_cy exceptions."""


class ProtocolError(RedisError):
    """The reply stream is malformed; the connection is closed."""


# What ReplyError(...) gives type checkers: the class called (a subclass of it may come back;
# a READONLY message gives ReadOnlyError, a RedisError but no ReplyError, as in 1.x).
_ReplyErrorT = TypeVar("_ReplyErrorT", bound="ReplyError")

class ReplyError(RedisError):
    """An error reply from the server (``-ERR ...``).

    ``ReplyError(message)`` returns an instance of the subclass whose
    ``MATCH_REPLY`` prefix (a str or a tuple of str) matches the message, or of
    ``ReadOnlyError`` for ``READONLY`` replies. As in 1.x, the direct subclasses are
    tried in the order they were defined, then the chosen one's own subclasses, so a
    user's subclass with a ``MATCH_REPLY`` takes the messages it matches.
    """

    MATCH_REPLY: Optional[Tuple[str, ...]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _BUILTIN_DONE and cls.MATCH_REPLY:
            # Only a class that can match changes the choice (one without MATCH_REPLY,
            # like the cluster errors, never matches, nor do its subclasses).
            _USER_SUBCLASSES.add(cls)

    def __new__(cls: type[_ReplyErrorT], msg: Any = None, *args: Any) -> _ReplyErrorT:
        if isinstance(msg, str):
            klass = _choose_class(cls, msg)
            if klass is not cls:
                return klass(msg, *args)
        return super().__new__(cls, msg, *args)


class MaxClientsError(ReplyError):
    """The server's ``maxclients`` limit was reached."""

    MATCH_REPLY = ("ERR max number of clients reached",)


class AuthError(ReplyError):
    """Authentication failed or is required."""

    MATCH_REPLY = (
        "NOAUTH ",
        "WRONGPASS ",
        "ERR invalid password",
        "ERR invalid username-password pair",
        "ERR Client sent AUTH, but no password is set",
        "ERR AUTH <password> called without any password",
    )


class BusyGroupError(ReplyError):
    """A stream consumer group with that name already exists."""

    MATCH_REPLY = ("BUSYGROUP ",)


class NoPermissionError(ReplyError):
    """The ACL user may not run this command or touch this key."""

    MATCH_REPLY = ("NOPERM ",)


class NoScriptError(ReplyError):
    """EVALSHA named a script the server does not have."""

    MATCH_REPLY = ("NOSCRIPT ",)


class PipelineError(RedisError):
    """Raised if any command of a pipeline failed."""

    def __init__(self, errors: Sequence[BaseException]) -> None:
        message = f"{self.__class__.__name__} errors:"
        super().__init__(message, errors)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} errors:{self.args[1]!r}>"

    __str__ = __repr__


class MultiExecError(PipelineError):
    """Raised if a command of a MULTI/EXEC block failed."""


class WatchVariableError(MultiExecError):
    """A watched key changed, so EXEC returned nil."""


class ChannelClosedError(RedisError):
    """The pub/sub channel is unsubscribed and has no more messages."""


class ConnectionClosedError(RedisError):
    """The connection to the server was lost or closed."""


class ReadOnlyError(RedisError):
    """The server is a read-only replica (``READONLY`` reply)."""


class ConnectionForcedCloseError(ConnectionClosedError):
    """The connection was closed with ``close()``."""


class PoolClosedError(RedisError):
    """The pool is closed."""


class MasterNotFoundError(RedisError):
    """Sentinel knows no master by that name."""


class SlaveNotFoundError(RedisError):
    """Sentinel knows no usable replica for that name."""


class MasterReplyError(RedisError):
    """Connecting to the master failed with an error reply."""


class SlaveReplyError(RedisError):
    """Connecting to a replica failed with an error reply."""


# Error classes by the first word of the message, and the "ERR ..." messages that map
# to a class by a longer prefix: the built-in choice, also made in C by the reader.
_BY_CODE = {
    "READONLY": ReadOnlyError,
    "NOAUTH": AuthError,
    "WRONGPASS": AuthError,
    "BUSYGROUP": BusyGroupError,
    "NOPERM": NoPermissionError,
    "NOSCRIPT": NoScriptError,
}
_ERR_PREFIXES = tuple(
    (prefix, klass) for klass in (MaxClientsError, AuthError) for prefix in klass.MATCH_REPLY
    if prefix.startswith("ERR ")
)
# ReplyError subclasses defined after this module (by users): while there are none, the
# tables above decide; otherwise the class tree is walked as 1.x does.
_USER_SUBCLASSES: "weakref.WeakSet[type]" = weakref.WeakSet()
_BUILTIN_DONE = True


def _reply_error_class(msg: str):
    """The built-in ReplyError subclass (or ReadOnlyError) that an error message maps to, or None."""
    code, space, _ = msg.partition(" ")
    if code == "ERR":
        for prefix, err_class in _ERR_PREFIXES:
            if msg.startswith(prefix):
                return err_class
        return None
    klass = _BY_CODE.get(code)
    if klass is not None and (space or klass is ReadOnlyError):
        return klass
    return None


def _matches(klass, msg: str) -> bool:
    match = klass.MATCH_REPLY
    if not match:
        return False
    return msg.startswith(match if isinstance(match, (str, tuple)) else tuple(match))


def _choose_class(cls, msg: str):
    """The class ``cls(msg)`` builds: READONLY replies become ReadOnlyError; otherwise the
    first subclass (in definition order) whose ``MATCH_REPLY`` matches, and so on down."""
    if cls is ReplyError and not _USER_SUBCLASSES:
        return _reply_error_class(msg) or ReplyError
    if cls is ReplyError and msg.partition(" ")[0] == "READONLY":
        return ReadOnlyError
    klass = cls
    while True:
        for sub in klass.__subclasses__():
            if _matches(sub, msg):
                klass = sub
                break
        else:
            return klass
