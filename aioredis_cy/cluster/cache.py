"""The client cache on a cluster (``create_redis_cluster(protocol=3, client_cache=...)``).

Every connection of every node pool turns tracking on as it opens (the pools do it, as
on one node), so an invalidation arrives on the connection that read the key. The
client's front is the single-node :class:`~aioredis_cy._cache_client.CachingFront`
(hits in C, own writes and flushes dropped at once), except for where a read that
missed goes: to a free, tracked connection of the node serving its key's slot, chosen
here so that the entry belongs to that connection, and sent by the C router with its
redirects and retries. A read answered by another node (MOVED, ASK, a retry after a
lost connection) is passed on without being stored.

What the cluster adds (see :class:`~aioredis_cy.cluster.Cluster`): when a slot gets a
new owner, by a MOVED reply or a refresh of the slot map (a reshard, a failover), the
entries of its keys are dropped.
"""
from .._cache_client import CachingFront
from ..util import _NOTSET
from .keys import slot_of

__all__ = ["ClusterCachingFront"]


class ClusterCachingFront(CachingFront):
    """The CachingFront of a :class:`~aioredis_cy.RedisCluster` (see the module doc)."""

    __slots__ = ("cluster",)

    def __init__(self, cache, cluster) -> None:
        super().__init__(cache, cluster)
        self.cluster = cluster
        self.is_pool = True   # many connections: a MULTI sent through execute() starts no block here

    def fill(self, ckey: tuple, converter, command, args: tuple, encoding):
        """Send a read that missed on a tracked connection of its slot's node, its fill as the converter."""
        cache = self.cache
        key = ckey[1]
        cluster = self.cluster
        router = cluster._router
        route = router.routes.get(ckey[0]) or cluster._learn(ckey[0])
        slot = slot_of(key)
        pool = router.pick(route, slot) if route is not None else None
        conn = pool.get_connection(command, args)[0] if pool is not None else None
        tracker = cache._trackers.get(conn) if conn is not None else None
        if tracker is not None and cache._accepts(key):
            fill = cache._begin_fill(ckey, key, tracker, self.encoding if encoding is _NOTSET else encoding,
                                     converter)
            sent = router.send_on(conn, fill, command, args, slot, route)
            if sent is not None:
                return sent
        return self.forward(self.target, converter, command, args, encoding)
