"""Abstract bases for connections, pools and pub/sub channels (as in aioredis 1.x)."""
import abc
from typing import Any, Callable, Optional

__all__ = ["AbcConnection", "AbcPool", "AbcChannel"]


class AbcConnection(abc.ABC):
    """Abstract connection interface."""

    @abc.abstractmethod
    def execute(self, command, *args, **kwargs):
        """Execute a Redis command and return a future with its reply."""

    @abc.abstractmethod
    def execute_pubsub(self, command, *args, **kwargs):
        """Execute a Redis (p)subscribe/(p)unsubscribe command."""

    @abc.abstractmethod
    def close(self):
        """Close the connection."""

    @abc.abstractmethod
    async def wait_closed(self):
        """Wait until the connection is closed."""

    @property
    @abc.abstractmethod
    def closed(self):
        """True once the connection is closed."""

    @property
    @abc.abstractmethod
    def db(self):
        """The selected database index."""

    @property
    @abc.abstractmethod
    def encoding(self):
        """The codec used to decode replies, or None."""

    @property
    @abc.abstractmethod
    def in_pubsub(self):
        """The number of subscribed channels and patterns (0 when not in pub/sub mode)."""

    @property
    @abc.abstractmethod
    def pubsub_channels(self):
        """Read-only mapping of subscribed channel names to channels."""

    @property
    @abc.abstractmethod
    def pubsub_patterns(self):
        """Read-only mapping of subscribed patterns to channels."""

    @property
    @abc.abstractmethod
    def address(self):
        """The server address this connection talks to."""


class AbcPool(AbcConnection):
    """Abstract connections pool interface.

    A pool is also a connection: ``execute`` picks a connection for the command.
    """

    @abc.abstractmethod
    def get_connection(self, command, args=()):
        """Return a free connection (or None) and the pool's address."""

    @abc.abstractmethod
    async def acquire(self, command=None, args=()):
        """Take a connection out of the pool, creating one if needed."""

    @abc.abstractmethod
    def release(self, conn):
        """Give a connection taken with ``acquire`` back to the pool."""

    @property
    @abc.abstractmethod
    def address(self):
        """The server address the pool connects to."""


class AbcChannel(abc.ABC):
    """Abstract pub/sub channel interface."""

    @property
    @abc.abstractmethod
    def name(self) -> bytes:
        """The encoded channel name or pattern."""

    @property
    @abc.abstractmethod
    def is_pattern(self) -> bool:
        """True for a pattern subscription."""

    @property
    @abc.abstractmethod
    def is_active(self) -> bool:
        """True while the channel is subscribed or still holds messages."""

    @abc.abstractmethod
    async def get(self, *, encoding: Optional[str] = None,
                  decoder: Optional[Callable[..., Any]] = None) -> Any:
        """Wait for and return the next message."""

    @abc.abstractmethod
    def put_nowait(self, data: Any) -> Any:
        """Deliver a message to the channel (called by the connection)."""

    @abc.abstractmethod
    def close(self, exc: Optional[BaseException] = None) -> None:
        """Mark the channel closed; readers see it at once."""
