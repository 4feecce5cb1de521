"""One shared ConnectionsPool per cluster node, opened once and kept until the node leaves."""
import asyncio
import functools
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ..pool import ConnectionsPool, create_pool
from .errors import ClusterClosedError

__all__ = ["NodePools", "ReadOnlyPool"]

Address = Tuple[str, int]


class ReadOnlyPool(ConnectionsPool):
    """A pool whose connections send ``READONLY`` when opened, so a replica serves reads."""

    async def _open_connection(self):
        conn = await super()._open_connection()
        try:
            await conn.execute(b"READONLY")
        except BaseException:
            conn.close()
            raise
        return conn


class NodePools:
    """The pools by node address; each opened by the first caller that needs it."""

    def __init__(self, options: Dict[str, Any], read_only: bool) -> None:
        self._options = options
        self._pool_cls = ReadOnlyPool if read_only else None
        self._pools: Dict[Address, Any] = {}
        self._opening: Dict[Address, asyncio.Future] = {}
        self._retired: List[Any] = []
        self.closed = False
        # Called with (addr, pool) when a pool is opened.
        self.on_open: Optional[Callable[[Address, Any], None]] = None

    def get(self, addr: Address) -> Optional[Any]:
        """The open pool of ``addr``, or None."""
        pool = self._pools.get(addr)
        return pool if pool is not None and not pool.closed else None

    def addresses(self) -> List[Address]:
        return list(self._pools)

    async def open(self, addr: Address):
        """The pool of ``addr``, opened if needed (one opening per address at a time)."""
        pool = self.get(addr)
        if pool is not None:
            return pool
        if self.closed:
            raise ClusterClosedError("cluster is closed")
        opening = self._opening.get(addr)
        if opening is None:
            opening = asyncio.ensure_future(create_pool(addr, pool_cls=self._pool_cls, **self._options))
            self._opening[addr] = opening
            opening.add_done_callback(functools.partial(self._opened, addr))
        return await asyncio.shield(opening)

    def _opened(self, addr: Address, fut: asyncio.Future) -> None:
        if self._opening.get(addr) is fut:
            del self._opening[addr]
        if fut.cancelled() or fut.exception() is not None:
            return
        pool = fut.result()
        if self.closed:
            pool.close()
            self._retired.append(pool)
            return
        old = self._pools.get(addr)
        if old is not None and old is not pool:
            self._retire(old)
        self._pools[addr] = pool
        if self.on_open is not None:
            self.on_open(addr, pool)

    def keep_only(self, addrs: Iterable[Address]) -> List[Address]:
        """Close the pools of every other address; returns the addresses dropped."""
        keep = set(addrs)
        dropped = [addr for addr in self._pools if addr not in keep]
        for addr in dropped:
            self._retire(self._pools.pop(addr))
        return dropped

    def _retire(self, pool) -> None:
        pool.close()
        self._retired.append(pool)

    def close(self) -> None:
        self.closed = True
        for pool in self._pools.values():
            pool.close()

    async def wait_closed(self) -> None:
        for fut in list(self._opening.values()):
            await asyncio.gather(fut, return_exceptions=True)
        for pool in [*self._pools.values(), *self._retired]:
            pool.close()
            await pool.wait_closed()
        self._retired.clear()
