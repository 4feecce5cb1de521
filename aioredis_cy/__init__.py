"""aioredis_cy: the aioredis 1.x API with a Cython core."""
from .connection import RedisConnection, create_connection
from .errors import (
    AuthError,
    ChannelClosedError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    MasterNotFoundError,
    MasterReplyError,
    MaxClientsError,
    MultiExecError,
    PipelineError,
    PoolClosedError,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ReplyError,
    SlaveNotFoundError,
    SlaveReplyError,
    WatchVariableError,
)

__version__ = "1.4.0"

__all__ = [
    "create_connection",
    "RedisConnection",
    "RedisError",
    "ReplyError",
    "MaxClientsError",
    "AuthError",
    "ProtocolError",
    "PipelineError",
    "MultiExecError",
    "WatchVariableError",
    "ConnectionClosedError",
    "ConnectionForcedCloseError",
    "PoolClosedError",
    "ChannelClosedError",
    "MasterNotFoundError",
    "SlaveNotFoundError",
    "ReadOnlyError",
    "MasterReplyError",
    "SlaveReplyError",
]
