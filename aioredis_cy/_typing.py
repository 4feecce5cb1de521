"""The type aliases of the public annotations.

Modules import them under ``from __future__ import annotations``, so annotations cost
nothing at call time. A command method returns an awaitable of its reply (a future, or
a coroutine when a pool must wait for a connection); the aliases name what awaiting it
gives.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from ssl import SSLContext
from typing import TYPE_CHECKING, Any, List, Tuple, TypeAlias, Union

from .abc import AbcChannel

__all__ = [
    "Arg", "Key", "Value", "Values", "ScoredValues", "Reply", "CommandsBase", "Address", "Converter",
    "ChannelArg", "SSLOption",
]

#: What the encoder sends as a command argument (``bool`` and ``None`` are refused at run time).
Arg: TypeAlias = Union[bytes, bytearray, memoryview, str, int, float]
#: A key, channel or field name: any argument.
Key: TypeAlias = Arg
#: A channel or pattern to (un)subscribe: its name, or a Channel (or Receiver sender) object.
ChannelArg: TypeAlias = Union[Arg, AbcChannel]
#: A bulk reply: bytes, or str when an encoding applies.
Value: TypeAlias = Union[bytes, str]
#: A list of bulk replies.
Values: TypeAlias = List[Value]
#: ``(member, score)`` pairs, as the ``withscores`` variants give them.
ScoredValues: TypeAlias = List[Tuple[Value, float]]
#: A server address: ``(host, port)``, a unix socket path or a ``redis://`` URI.
Address: TypeAlias = Union[Tuple[str, int], List[Any], str]

#: What ``ssl=`` takes: True (the system's CAs, host names checked) or a context.
SSLOption: TypeAlias = Union[bool, SSLContext]

#: A converter applied to a reply.
Converter: TypeAlias = Callable[[Any], Any]

#: What awaiting a command method gives.
Reply: TypeAlias = Awaitable

if TYPE_CHECKING:
    class CommandsBase:
        """What the command mixins call on ``self``; :class:`~aioredis_cy.Redis` provides it."""

        _pool_or_conn: Any

        def execute(self, command: Arg, *args: Arg, **kwargs: Any) -> Awaitable[Any]: ...

        def _execute_converted(self, converter: Converter, command: Arg, *args: Any,
                               **kwargs: Any) -> Awaitable[Any]: ...
else:
    CommandsBase = object
