"""HyperLogLog commands (``PF*``): approximate distinct counting."""
from ..util import reply_is_ok

__all__ = ["HyperLogLogCommandsMixin"]


class HyperLogLogCommandsMixin:
    """HyperLogLog commands mixin (https://redis.io/commands/#hyperloglog)."""

    def pfadd(self, key, value, *values):
        """Add elements; returns 1 if the estimate changed, else 0."""
        return self.execute(b"PFADD", key, value, *values)

    def pfcount(self, key, *keys):
        """Approximate number of distinct elements (of the union, for several keys)."""
        return self.execute(b"PFCOUNT", key, *keys)

    def pfmerge(self, destkey, sourcekey, *sourcekeys):
        """Store the union of HyperLogLogs in ``destkey``; returns True."""
        return self._execute_converted(reply_is_ok, b"PFMERGE", destkey, sourcekey, *sourcekeys)
