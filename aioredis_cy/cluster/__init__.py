"""Redis Cluster support: ``create_redis_cluster`` and ``create_cluster`` (aioredis-cluster 2.x names)."""
from .cluster import Cluster, create_cluster
from .commands import RedisCluster, create_redis_cluster, is_redis_cluster
from .errors import (
    AskError,
    ClusterClosedError,
    ClusterDownError,
    ClusterStateError,
    ConnectTimeoutError,
    CrossSlotError,
    LoadingError,
    MovedError,
    RedisClusterError,
    TryAgainError,
    UncoveredSlotError,
    UnsupportedCommandError,
)
from .state import ClusterNode, ClusterState

__all__ = [
    "Cluster", "create_cluster", "RedisCluster", "create_redis_cluster", "is_redis_cluster",
    "ClusterNode", "ClusterState", "RedisClusterError", "ClusterClosedError", "ClusterStateError",
    "UncoveredSlotError", "CrossSlotError", "MovedError", "AskError", "TryAgainError",
    "ClusterDownError", "LoadingError", "ConnectTimeoutError", "UnsupportedCommandError",
]
