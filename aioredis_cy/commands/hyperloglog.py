"""HyperLogLog commands (``PF*``): approximate distinct counting."""
from __future__ import annotations

from .._typing import Arg, CommandsBase, Key, Reply
from ..util import reply_is_ok

__all__ = ["HyperLogLogCommandsMixin"]


class HyperLogLogCommandsMixin(CommandsBase):
    """HyperLogLog commands mixin (https://redis.io/commands/#hyperloglog)."""

    def pfadd(self, key: Key, value: Arg, *values: Arg) -> Reply[int]:
        """Add elements; returns 1 if the estimate changed, else 0."""
        return self.execute(b"PFADD", key, value, *values)

    def pfcount(self, key: Key, *keys: Key) -> Reply[int]:
        """Approximate number of distinct elements (of the union, for several keys)."""
        return self.execute(b"PFCOUNT", key, *keys)

    def pfmerge(self, destkey: Key, sourcekey: Key, *sourcekeys: Key) -> Reply[bool]:
        """Store the union of HyperLogLogs in ``destkey``; returns True."""
        return self._execute_converted(reply_is_ok, b"PFMERGE", destkey, sourcekey, *sourcekeys)
