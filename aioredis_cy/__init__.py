"""aioredis_cy: the aioredis 1.x API with a Cython core."""
from .commands import GeoMember, GeoPoint, Redis, create_redis, create_redis_pool
from .connection import RedisConnection, create_connection
from .errors import (
    AuthError,
    BusyGroupError,
    ChannelClosedError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    MasterNotFoundError,
    MasterReplyError,
    MaxClientsError,
    MultiExecError,
    NoPermissionError,
    NoScriptError,
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
from .pool import ConnectionsPool, create_pool
from .pubsub import Channel
from .sentinel import RedisSentinel, create_sentinel

__version__ = "1.4.0"

__all__ = [
    "create_connection",
    "create_pool",
    "create_redis",
    "create_redis_pool",
    "create_sentinel",
    "RedisConnection",
    "ConnectionsPool",
    "Redis",
    "GeoPoint",
    "GeoMember",
    "Channel",
    "RedisSentinel",
    "RedisError",
    "ReplyError",
    "MaxClientsError",
    "AuthError",
    "NoPermissionError",
    "NoScriptError",
    "BusyGroupError",
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
