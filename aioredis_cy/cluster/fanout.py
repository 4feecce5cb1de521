"""Commands of :class:`RedisCluster` that reach every primary, or a chosen node, or no node at all.

Each method says how the replies of the primaries are merged. Commands that address one
server (its configuration, its persistence, its place in the cluster) have no single
meaning on a cluster: they raise :class:`UnsupportedCommandError` naming the per-node way.
"""
import asyncio
import random

from ..commands import Redis
from ..commands._checks import _check_int
from ..util import _NOTSET, reply_is_ok
from .errors import UnsupportedCommandError

__all__ = ["EveryPrimaryCommandsMixin"]

# A cluster SCAN cursor is ``node cursor * CURSOR_NODES + index of the primary`` (primaries
# sorted by address), so the first call (0) starts at the first primary with cursor 0.
CURSOR_NODES = 1024


def _per_node(name: str, why: str):
    """A method refusing ``name`` on a cluster, with the per-node workaround in the message."""
    def refused(self, *args, **kwargs):
        raise UnsupportedCommandError(
            f"{name}() {why}: it has no single meaning on a Redis Cluster; run it on the node you mean, "
            f"e.g. `for node in await redis.all_masters(): await node.{name}(...)`")
    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = f"Refused on a cluster ({why}); call it on ``all_masters()``' clients."
    return refused


def _one_db(name: str):
    def refused(self, *args, **kwargs):
        raise UnsupportedCommandError(f"{name}() is not available on a Redis Cluster: it has only db 0")
    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = "Refused: a cluster has only database 0."
    return refused


class EveryPrimaryCommandsMixin:
    """Fan-out commands, slot-owner routing for slot commands, and clear refusals."""

    async def _primary_pools(self):
        """The pools of every primary, sorted by address (a stable order for cursors)."""
        return sorted(await self._pool_or_conn.all_pools(), key=lambda pool: pool.address)

    async def scan(self, cursor=0, match=None, count=None):
        """One step of a SCAN over the whole cluster: ``(next_cursor, keys)``; done at cursor 0.

        The primaries are scanned one after the other (sorted by address); the cursor
        holds which one and where in it. SCAN's guarantees hold per primary while the
        set of primaries stays the same; a failover or reshard during the scan may
        repeat or skip the keys of the slots that moved.
        """
        cursor = int(cursor)
        if cursor < 0:
            raise ValueError(f"cursor must not be negative, got {cursor}")
        node_cursor, index = divmod(cursor, CURSOR_NODES)
        pools = await self._primary_pools()
        if index >= len(pools):
            raise ValueError(f"cursor {cursor} names primary {index}, the cluster has {len(pools)}")
        args: list = []
        if match is not None:
            args += [b"MATCH", match]
        if count is not None:
            args += [b"COUNT", count]
        next_cursor, keys = await pools[index].execute(b"SCAN", node_cursor, *args)
        next_cursor = int(next_cursor)
        if next_cursor:
            return next_cursor * CURSOR_NODES + index, keys
        if index + 1 < len(pools):
            return index + 1, keys
        return 0, keys

    async def randomkey(self, *, encoding=_NOTSET):
        """A random key of a random primary that has keys; None when the cluster is empty."""
        pools = await self._primary_pools()
        random.shuffle(pools)
        for pool in pools:
            key = await pool.execute(b"RANDOMKEY", encoding=encoding)
            if key is not None:
                return key
        return None

    async def script_load(self, script):
        """Load ``script`` into the cache of every primary; returns its SHA1 digest.

        Replicas are not loaded: ``EVALSHA`` runs on primaries.
        """
        digests = await self._on_all_masters(b"SCRIPT", b"LOAD", script)
        return digests[0]

    async def script_exists(self, digest, *digests):
        """For each digest, 1 if every primary has the script cached, else 0."""
        replies = await self._on_all_masters(b"SCRIPT", b"EXISTS", digest, *digests)
        return [int(all(flags)) for flags in zip(*replies)]

    async def script_flush(self):
        """Empty the script cache of every primary; True when all did."""
        return all(reply_is_ok(reply) for reply in await self._on_all_masters(b"SCRIPT", b"FLUSH"))

    async def script_kill(self):
        """Stop the scripts running on any primary; True if one was stopped.

        Raises the NOTBUSY reply error, as one node does, when no primary runs a script,
        and any other error (UNKILLABLE) as it is.
        """
        pools = await self._primary_pools()
        replies = await asyncio.gather(*(pool.execute(b"SCRIPT", b"KILL") for pool in pools),
                                       return_exceptions=True)
        killed = [reply for reply in replies if not isinstance(reply, BaseException)]
        errors = [reply for reply in replies if isinstance(reply, BaseException)]
        other = [error for error in errors if "NOTBUSY" not in str(error)]
        if other:
            raise other[0]
        if killed:
            return True
        raise errors[0]

    async def wait(self, numslaves, timeout):
        """WAIT on every primary at once; returns the smallest count of replicas that acknowledged.

        As on a pool, WAIT counts the writes sent on the connection it runs on: the
        result means "every primary had that many replicas catch up with the writes of
        that connection".
        """
        _check_int("numslaves", numslaves, 0)
        _check_int("timeout", timeout, 0)
        return min(await self._on_all_masters(b"WAIT", numslaves, timeout))

    async def cluster_count_key_in_slots(self, slot):
        """The number of keys in ``slot``, asked of the primary serving it."""
        return await (await self._slot_owner(slot)).cluster_count_key_in_slots(slot)

    async def cluster_get_keys_in_slots(self, slot, count, *, encoding):
        """Up to ``count`` keys of ``slot``, asked of the primary serving it."""
        return await (await self._slot_owner(slot)).cluster_get_keys_in_slots(slot, count, encoding=encoding)

    async def _slot_owner(self, slot):
        cluster = self._pool_or_conn
        if isinstance(slot, bool) or not isinstance(slot, int):
            raise TypeError(f"slot must be an int, got {slot!r}")
        return Redis(await cluster.create_pool_by_addr(cluster.slot_master(slot).addr))

    # One server's configuration, persistence or cluster role: no single meaning here.
    bgrewriteaof = _per_node("bgrewriteaof", "rewrites one server's append-only file")
    bgsave = _per_node("bgsave", "saves one server's data set")
    save = _per_node("save", "saves one server's data set")
    shutdown = _per_node("shutdown", "stops one server")
    slaveof = _per_node("slaveof", "changes one server's replication")
    sync = _per_node("sync", "is one replica's handshake")
    config_set = _per_node("config_set", "changes one server's configuration")
    config_rewrite = _per_node("config_rewrite", "rewrites one server's configuration file")
    config_resetstat = _per_node("config_resetstat", "resets one server's statistics")
    client_setname = _per_node("client_setname", "names one connection")
    cluster_add_slots = _per_node("cluster_add_slots", "assigns slots to one node")
    cluster_del_slots = _per_node("cluster_del_slots", "removes slots from one node")
    cluster_failover = _per_node("cluster_failover", "is sent to the replica that takes over")
    cluster_forget = _per_node("cluster_forget", "changes one node's view")
    cluster_meet = _per_node("cluster_meet", "introduces one node to another")
    cluster_replicate = _per_node("cluster_replicate", "makes one node a replica")
    cluster_reset = _per_node("cluster_reset", "resets one node")
    cluster_save_config = _per_node("cluster_save_config", "saves one node's cluster config")
    cluster_set_config_epoch = _per_node("cluster_set_config_epoch", "sets one node's epoch")
    cluster_setslot = _per_node("cluster_setslot", "changes one node's slot state")
    cluster_count_failure_reports = _per_node("cluster_count_failure_reports", "is one node's view")
    cluster_myid = _per_node("cluster_myid", "names one node")
    move = _one_db("move")
    swapdb = _one_db("swapdb")

    def quit(self):
        """Refused: it would close one shared connection; use ``close()``."""
        raise UnsupportedCommandError("quit() is not available on a Redis Cluster: use close()")
