"""Pub/sub message queues: :class:`Channel` (one subscription) and :class:`Receiver` (many).

The connection's protocol calls ``put_nowait(data)`` for every message, ``close()`` when
the server confirms an unsubscribe and ``close(exc)`` when the connection is lost or
closed. Readers blocked in ``get()``, ``wait_message()`` or ``iter()`` wake up at once.

End of a stream, for :class:`Channel`:

* after an unsubscribe, ``conn.close()`` or a connection loss, buffered messages are
  still delivered; then a ``get()`` that was waiting returns ``None`` and any later
  ``get()`` raises :class:`~aioredis_cy.errors.ChannelClosedError`, as in aioredis 1.3.1
  (so ``while True: msg = await ch.get(); if msg is None: break`` ends cleanly);
* when the connection was lost (not closed by the user), that ``ChannelClosedError``
  says so and its ``__cause__`` is the connection error;
* in every case ``is_active`` becomes False, ``wait_message()`` returns False and
  ``iter()`` stops.
"""
import asyncio
import json
import logging
import types
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Mapping, NoReturn, Optional, Tuple, Union

from .abc import AbcChannel
from .errors import ChannelClosedError, ConnectionForcedCloseError
from .util import _to_bytes

__all__ = ["Channel", "EndOfStream", "Receiver"]

logger = logging.getLogger("aioredis_cy")

# What the internal readers return once a closed queue is drained.
EndOfStream: Any = object()


def _convert(msg, is_pattern: bool, encoding: Optional[str], decoder: Optional[Callable]):
    """Decode a message (``(channel, payload)`` for patterns: only the payload is decoded)."""
    if is_pattern:
        target, msg = msg
    if encoding is not None:
        msg = msg.decode(encoding)
    if decoder is not None:
        msg = decoder(msg)
    if is_pattern:
        return target, msg
    return msg


def _check_decoder(decoder) -> None:
    if decoder is not None and not callable(decoder):
        raise TypeError(f"decoder must be callable or None, got {decoder!r}")


class _MessageQueue:
    """A deque of messages with a closed flag and the futures of readers waiting for more.

    Base of :class:`Channel` and :class:`Receiver`. Every put or close wakes all waiting
    readers; a reader that finds nothing goes back to waiting.
    """

    def _init_queue(self, maxsize: int) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive int, got {maxsize!r}")
        self._items: Deque[Any] = deque()
        self._readers: List[asyncio.Future] = []
        self._closed = False
        self._close_exc: Optional[BaseException] = None
        self._maxsize = maxsize
        self._received = 0
        self._flow: Any = None   # the protocol that stopped reading because this queue is full

    def _put(self, data):
        """Append a message and wake the readers; ignored once closed.

        Returns the queue when it has reached its bound (the protocol then stops
        reading until :meth:`_taken` finds it drained below half), else None.
        """
        if self._closed:
            return None
        items = self._items
        items.append(data)
        self._received += 1
        if self._readers:
            self._wake_readers()
        if len(items) >= self._maxsize:
            return self
        return None

    def _hold(self, flow) -> None:
        """Remember the protocol that paused reading for this queue."""
        self._flow = flow

    def _taken(self) -> None:
        """After a message was taken: let the protocol read again once drained below half."""
        if len(self._items) <= self._maxsize // 2:
            flow, self._flow = self._flow, None
            flow.queue_drained(self)

    def _close_queue(self, exc: Optional[BaseException]) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_exc = exc
        if self._flow is not None:
            flow, self._flow = self._flow, None
            flow.queue_drained(self)   # a closed queue takes no more: never hold the others
        self._wake_readers()

    def _wake_readers(self) -> None:
        readers, self._readers = self._readers, []
        for fut in readers:
            if not fut.done():
                fut.set_result(None)

    async def _wait_change(self) -> None:
        """Wait for the next put or close."""
        fut = asyncio.get_running_loop().create_future()
        self._readers.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut in self._readers:
                self._readers.remove(fut)
            raise

    async def _wait_ready(self) -> bool:
        """Wait until a message is buffered (True) or the queue is closed and empty (False)."""
        while not self._items:
            if self._closed:
                return False
            await self._wait_change()
        return True

    def _end_of_stream(self, waited: bool):
        """What a reader gets from a drained, closed queue: EndOfStream if it waited, else an error."""
        if waited:
            return EndOfStream
        exc = self._close_exc
        if exc is not None and not isinstance(exc, ConnectionForcedCloseError):
            raise ChannelClosedError(
                f"Connection lost after {self._received} messages were received here ({exc}). "
                "When the server closed it, the likely reason is a subscriber that fell behind "
                "past the server's client-output-buffer-limit for pubsub") from exc
        raise ChannelClosedError()

    async def _next_item(self):
        """The next message; EndOfStream or ChannelClosedError once closed and drained."""
        if not self._items:
            if self._closed:
                return self._end_of_stream(waited=False)
            if not await self._wait_ready():
                return self._end_of_stream(waited=True)
        item = self._items.popleft()
        if self._flow is not None:
            self._taken()
        return item

    @property
    def _exhausted(self) -> bool:
        return self._closed and not self._items


class _Iterator:
    """``async for`` over a channel or receiver; stops at the end of the stream."""

    __slots__ = ("_source", "_encoding", "_decoder")

    def __init__(self, source, encoding: Optional[str], decoder: Optional[Callable]) -> None:
        _check_decoder(decoder)
        self._source = source
        self._encoding = encoding
        self._decoder = decoder

    def __aiter__(self) -> "_Iterator":
        return self

    async def __anext__(self) -> Any:
        source = self._source
        if source._exhausted:
            raise StopAsyncIteration
        try:
            msg = await source._read(self._encoding, self._decoder, EndOfStream)
        except ChannelClosedError:
            raise StopAsyncIteration from None
        if msg is EndOfStream:
            raise StopAsyncIteration
        return msg


class _NamedChannel(AbcChannel):
    """What :class:`Channel` and a :class:`Receiver`'s write-only channels share: name and kind."""

    def _init_name(self, name, is_pattern: bool) -> None:
        self._name = _to_bytes(name)
        self._is_pattern = bool(is_pattern)

    @property
    def name(self) -> bytes:
        """Encoded channel name or pattern."""
        return self._name

    @property
    def is_pattern(self) -> bool:
        """True for a pattern subscription."""
        return self._is_pattern


# How many unread messages a Channel or Receiver holds before the connection stops reading.
DEFAULT_MAXSIZE = 10_000


class Channel(_MessageQueue, _NamedChannel):
    """The message queue of one pub/sub subscription (channel, pattern or shard channel).

    At ``maxsize`` unread messages the connection stops reading (the server then
    buffers, up to its ``client-output-buffer-limit pubsub``); it reads again once
    the channel is drained below half of it.
    """

    def __init__(self, name: Union[str, bytes], is_pattern: bool, loop: Any = None, *,
                 maxsize: int = DEFAULT_MAXSIZE) -> None:
        self._init_queue(maxsize)
        self._init_name(name, is_pattern)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} name:{self._name!r}, is_pattern:{self._is_pattern}, "
                f"qsize:{len(self._items)}>")

    @property
    def is_active(self) -> bool:
        """True while subscribed or while messages are still buffered."""
        return not (self._closed and not self._items)

    async def get(self, *, encoding: Optional[str] = None, decoder: Optional[Callable] = None) -> Any:
        """Wait for and return the next message, decoded with ``encoding`` then ``decoder``.

        Pattern channels return ``(channel_name, message)``. Returns None when the
        channel is unsubscribed while waiting; raises ChannelClosedError once closed
        and drained (see the module docstring for connection loss).
        """
        if decoder is not None:
            _check_decoder(decoder)
        elif encoding is None and self._items and not self._is_pattern and self._flow is None:
            return self._items.popleft()   # the common case, without a nested coroutine
        return await self._read(encoding, decoder, None)

    async def get_json(self, encoding: str = "utf-8") -> Any:
        """``get()`` decoding the message as JSON."""
        return await self.get(encoding=encoding, decoder=json.loads)

    def iter(self, *, encoding: Optional[str] = None, decoder: Optional[Callable] = None) -> _Iterator:
        """Async iterator over the messages (as ``get()`` returns them) until the channel closes."""
        return _Iterator(self, encoding, decoder)

    async def wait_message(self) -> bool:
        """Wait until a message is available (True) or the channel is closed and drained (False)."""
        return await self._wait_ready()

    put_nowait = _MessageQueue._put

    def close(self, exc: Optional[BaseException] = None) -> None:
        """Mark the channel closed (unsubscribed, or lost with ``exc``); wakes all readers."""
        self._close_queue(exc)

    async def _read(self, encoding, decoder, end):
        """The next message, converted; ``end`` once the channel is closed and drained."""
        msg = await self._next_item()
        if msg is EndOfStream:
            return end
        if encoding is None and decoder is None and not self._is_pattern:
            return msg
        return _convert(msg, self._is_pattern, encoding, decoder)


class Receiver(_MessageQueue):
    """One queue fed by many channels: a single consumer reads from all subscriptions.

    ``channel(name)`` and ``pattern(pattern)`` hand out write-only channels to pass to
    ``subscribe``/``psubscribe``; ``get()`` returns ``(channel, message)`` pairs.
    ``on_close(channel, exc=None)`` is called whenever one of them closes; the
    default, :meth:`check_stop`, stops the receiver once none is left.
    """

    def __init__(self, loop: Any = None, on_close: Optional[Callable] = None, *,
                 maxsize: int = DEFAULT_MAXSIZE) -> None:
        if on_close is not None and not callable(on_close):
            raise TypeError(f"on_close must be callable or None, got {on_close!r}")
        self._init_queue(maxsize)
        self._refs: Dict[Tuple[bytes, bool], _Sender] = {}
        self._on_close = self.check_stop if on_close is None else on_close

    def __repr__(self) -> str:
        return f"<Receiver is_active:{self.is_active}, senders:{len(self._refs)}, qsize:{len(self._items)}>"

    def channel(self, name: Union[str, bytes]) -> "_Sender":
        """The write-only channel for ``name`` (the same object while it is open)."""
        return self._sender(_to_bytes(name), False)

    def pattern(self, pattern: Union[str, bytes]) -> "_Sender":
        """The write-only pattern channel for ``pattern`` (the same object while it is open)."""
        return self._sender(_to_bytes(pattern), True)

    def _sender(self, name: bytes, is_pattern: bool) -> "_Sender":
        sender = self._refs.get((name, is_pattern))
        if sender is None:
            sender = self._refs[(name, is_pattern)] = _Sender(self, name, is_pattern)
        return sender

    @property
    def channels(self) -> Mapping[bytes, "_Sender"]:
        """Read-only dict of the open channels by name."""
        return types.MappingProxyType({ch.name: ch for ch in self._refs.values() if not ch.is_pattern})

    @property
    def patterns(self) -> Mapping[bytes, "_Sender"]:
        """Read-only dict of the open pattern channels by pattern."""
        return types.MappingProxyType({ch.name: ch for ch in self._refs.values() if ch.is_pattern})

    async def get(self, *, encoding: Optional[str] = None,
                  decoder: Optional[Callable] = None) -> Any:
        """Wait for the next message from any channel.

        Returns ``(channel, message)``, or ``(channel, (channel_name, message))`` for
        pattern channels; None when the receiver is stopped while waiting. Raises
        ChannelClosedError once stopped and drained.
        """
        _check_decoder(decoder)
        return await self._read(encoding, decoder, None)

    async def wait_message(self) -> bool:
        """Wait until a message is available; False once stopped and drained."""
        if not await self._wait_ready():
            return False
        return self.is_active

    @property
    def is_active(self) -> bool:
        """True while messages are buffered, or while not stopped and some channel is open."""
        if self._items:
            return True
        return not self._closed and any(ch.is_active for ch in self._refs.values())

    def stop(self) -> None:
        """Stop receiving: later messages are dropped; readers drain what is buffered.

        Unsubscribe the channels first, or they stay subscribed on the connection.
        """
        self._close_queue(None)

    def iter(self, *, encoding: Optional[str] = None, decoder: Optional[Callable] = None) -> _Iterator:
        """Async iterator over ``(channel, message)`` pairs until the receiver stops."""
        return _Iterator(self, encoding, decoder)

    def check_stop(self, channel: AbcChannel, exc: Optional[BaseException] = None) -> None:
        """The default ``on_close``: stop once no channel is left."""
        if not self._refs:
            self.stop()

    async def _read(self, encoding, decoder, end):
        """The next ``(sender, message)``, converted; ``end`` once stopped and drained."""
        item = await self._next_item()
        if item is EndOfStream:
            return end
        sender, msg = item
        if encoding is not None or decoder is not None or sender.is_pattern:
            msg = _convert(msg, sender.is_pattern, encoding, decoder)
        return sender, msg

    def _put_nowait(self, data, *, sender: "_Sender"):
        if self._closed:
            logger.warning("Pub/Sub receiver got a message after stop: sender %r, data %r", sender, data)
            return None
        return self._put((sender, data))

    def _close(self, sender: "_Sender", exc: Optional[BaseException] = None) -> None:
        self._refs.pop((sender.name, sender.is_pattern), None)
        self._on_close(sender, exc=exc)


class _Sender(_NamedChannel):
    """A write-only channel handed out by :class:`Receiver`; its messages go to the receiver."""

    def __init__(self, receiver: Receiver, name, is_pattern: bool) -> None:
        self._receiver = receiver
        self._init_name(name, is_pattern)
        self._closed = False

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} name:{self._name!r}, is_pattern:{self._is_pattern}, "
                f"receiver:{self._receiver!r}>")

    @property
    def is_active(self) -> bool:
        """True until closed."""
        return not self._closed

    async def get(self, *, encoding: Optional[str] = None, decoder: Optional[Callable] = None) -> NoReturn:
        """Not allowed: read from the receiver instead."""
        raise RuntimeError("MPSC channel does not allow direct get() calls")

    def put_nowait(self, data: Any) -> Any:
        """Forward a message to the receiver (returns the receiver when it is full)."""
        return self._receiver._put_nowait(data, sender=self)

    def close(self, exc: Optional[BaseException] = None) -> None:
        """Mark closed and tell the receiver (once)."""
        if self._closed:
            return
        self._closed = True
        self._receiver._close(self, exc=exc)
