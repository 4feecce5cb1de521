"""Redis Sentinel: SENTINEL commands and clients that follow a service's master through failovers."""
from .commands import RedisSentinel, create_sentinel
from .pool import SentinelPool, create_sentinel_pool

__all__ = [
    "create_sentinel",
    "create_sentinel_pool",
    "RedisSentinel",
    "SentinelPool",
]
