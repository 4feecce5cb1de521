"""Cluster error classes, named as in aioredis-cluster 2.x."""
from ..errors import RedisError, ReplyError

__all__ = [
    "RedisClusterError", "ClusterClosedError", "ClusterStateError", "UncoveredSlotError",
    "CrossSlotError", "MovedError", "AskError", "TryAgainError", "ClusterDownError", "LoadingError",
    "ConnectTimeoutError", "UnsupportedCommandError", "redirect_error",
]


class RedisClusterError(RedisError):
    """Base class of the errors the cluster client raises itself."""


class ClusterClosedError(RedisClusterError):
    """The cluster client is closed."""


class ClusterStateError(RedisClusterError):
    """No usable view of the cluster could be loaded."""


class UncoveredSlotError(ClusterStateError):
    """No node serves this slot."""

    def __init__(self, slot: int) -> None:
        super().__init__(f"slot {slot} is not covered by any cluster node")
        self.slot = slot


class CrossSlotError(RedisClusterError):
    """The keys of one atomic command (or transaction) hash to different slots."""


class ConnectTimeoutError(RedisError):
    """Connecting to a cluster node took longer than ``connect_timeout``."""


class _Redirect(ReplyError):
    """A ``MOVED``/``ASK`` reply: ``slot`` now lives at ``address``."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        _, slot, address = msg.split(" ", 2)
        host, _, port = address.rpartition(":")
        self.slot = int(slot)
        self.address = (host, int(port))


class MovedError(_Redirect):
    """The slot moved for good (``MOVED slot host:port``)."""


class AskError(_Redirect):
    """The slot is being migrated; ask the target this once (``ASK slot host:port``)."""


class TryAgainError(ReplyError):
    """A multi-key command met keys mid-migration (``TRYAGAIN``)."""


class ClusterDownError(ReplyError):
    """The cluster is down or the slot is unserved (``CLUSTERDOWN``)."""


class LoadingError(ReplyError):
    """The node is loading its data set (``LOADING``)."""


_BY_CODE = {"MOVED": MovedError, "ASK": AskError, "TRYAGAIN": TryAgainError,
            "CLUSTERDOWN": ClusterDownError, "LOADING": LoadingError}


def redirect_error(exc: ReplyError) -> ReplyError:
    """The cluster error class instance for a plain ReplyError, or ``exc`` itself."""
    msg = exc.args[0] if exc.args else ""
    klass = _BY_CODE.get(msg.partition(" ")[0]) if isinstance(msg, str) else None
    if klass is None or isinstance(exc, klass):
        return exc
    try:
        return klass(msg)
    except ValueError:   # a malformed redirect stays a plain reply error
        return exc


class UnsupportedCommandError(RedisClusterError, NotImplementedError):
    """A command with no single meaning on a cluster (a NotImplementedError too, as in aioredis-cluster)."""
