"""RedisCluster: the Redis command set over a Cluster, plus aioredis-cluster's extras."""
import asyncio
from typing import Any, Callable, List, Optional, Sequence

from ..commands import Redis
from ..util import _NOTSET
from .cache import ClusterCachingFront
from .cluster import Cluster, create_cluster
from .errors import UnsupportedCommandError
from .fanout import EveryPrimaryCommandsMixin
from .pipeline import ClusterTransactionsMixin
from .split import NonatomicCommandsMixin

__all__ = ["RedisCluster", "create_redis_cluster", "is_redis_cluster"]


class RedisCluster(ClusterTransactionsMixin, NonatomicCommandsMixin, EveryPrimaryCommandsMixin, Redis):
    """A :class:`~aioredis_cy.Redis` whose commands go to the node serving their keys."""

    @property
    def cluster_connection(self) -> Cluster:
        return self._pool_or_conn

    def select(self, db):
        """Refused: a cluster has only database 0."""
        raise UnsupportedCommandError("SELECT is not available on a Redis Cluster: it has only db 0")

    async def keys_master(self, key, *keys) -> Redis:
        """A Redis bound to the primary serving ``key`` (and ``keys``, which must share its slot)."""
        cluster = self._pool_or_conn
        node = cluster.slot_master(cluster.determine_slot(key, *keys))
        return Redis(await cluster.create_pool_by_addr(node.addr))

    async def all_masters(self) -> List[Redis]:
        """A Redis per primary."""
        return [Redis(pool) for pool in await self._pool_or_conn.all_pools()]

    async def _on_all_masters(self, command, *args, **kwargs) -> list:
        """``command`` on every primary at once; the replies in primary order."""
        pools = await self._pool_or_conn.all_pools()
        return await asyncio.gather(*(pool.execute(command, *args, **kwargs) for pool in pools))

    async def dbsize(self):
        """The number of keys in the whole cluster (the sum over the primaries)."""
        return sum(await self._on_all_masters(b"DBSIZE"))

    async def keys(self, pattern, *, encoding=_NOTSET):
        """The matching keys of every primary, concatenated (no order across nodes)."""
        replies = await self._on_all_masters(b"KEYS", pattern, encoding=encoding)
        return [key for reply in replies for key in reply]

    async def flushdb(self, async_op=False):
        """Empty every primary (its replicas follow); True when all answered OK.

        With a client cache, the cache is emptied (at once and when every primary is done).
        """
        args = (b"ASYNC",) if async_op else ()
        cache = self.client_cache
        if cache is not None:
            cache._invalidate_all()
        try:
            replies = await self._on_all_masters(b"FLUSHDB", *args, encoding=None)
        finally:
            if cache is not None:
                cache._invalidate_all()
        return all(reply == b"OK" for reply in replies)

    async def flushall(self, async_op=False):
        """Same as :meth:`flushdb`: a cluster has only db 0."""
        return await self.flushdb(async_op)



async def create_redis_cluster(startup_nodes: Sequence[Any], *,
                               cluster_commands_factory: Optional[Callable[[Cluster], RedisCluster]] = None,
                               **options: Any) -> RedisCluster:
    """Connect to a cluster and return ``cluster_commands_factory(cluster)`` (a RedisCluster by default).

    The keywords are those of :class:`~aioredis_cy.cluster.Cluster`. With ``client_cache``
    (and ``protocol=3``) the client serves cacheable reads from the cache (see README, Cluster).
    """
    cluster = await create_cluster(startup_nodes, **options)
    factory = RedisCluster if cluster_commands_factory is None else cluster_commands_factory
    cache = cluster._client_cache
    try:
        redis = factory(cluster)
        if cache is not None:
            ClusterCachingFront(cache, cluster).attach(redis)
    except BaseException:
        cluster.close()
        await cluster.wait_closed()
        raise
    return redis


def is_redis_cluster(obj) -> bool:
    """True for a RedisCluster or a Cluster."""
    return isinstance(obj, (RedisCluster, Cluster))
