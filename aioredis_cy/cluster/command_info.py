"""Where the keys are for commands the static table (keys.py) does not know: asked from the server.

``COMMAND INFO name`` is asked once per command name (one request in flight per name,
whoever else waits for it) and gives the first key, the last key, the step and the
flags. A command whose keys depend on its arguments (flag ``movablekeys``) or that has
subcommands has its keys asked with ``COMMAND GETKEYS`` on each call instead. At most
LIMIT names are kept (the oldest answer is dropped first); a name the server does not
know is not kept, so a module loaded later is picked up.
"""
import asyncio
from typing import Awaitable, Callable, Dict, NamedTuple, Optional, Sequence

from ..errors import ReplyError
from .keys import keys_at

__all__ = ["CommandSpec", "ServerCommands", "parse_command_info", "LIMIT"]

LIMIT = 1024


class CommandSpec(NamedTuple):
    """Where one command's keys are, counted from its first argument (0), as in keys.KEY_POSITIONS.

    ``first`` -1: no keys. ``movable``: the positions depend on the arguments (ask each call).
    """

    first: int
    last: int
    step: int
    read_only: bool
    blocking: bool
    movable: bool


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_command_info(reply) -> Optional[CommandSpec]:
    """The spec in a ``COMMAND INFO name`` reply; None if the server does not know the command."""
    entry = reply[0] if reply else None
    if not entry:
        return None
    flags = {_text(flag).lower() for flag in entry[2]}
    first, last, step = int(entry[3]), int(entry[4]), int(entry[5])
    subcommands = entry[9] if len(entry) > 9 else None
    movable = "movablekeys" in flags or bool(subcommands) or last < -2 or (first > 0 and step < 1)
    if first <= 0 or movable:
        first, last, step = -1, 0, 1
    else:
        first, last = first - 1, last if last < 0 else last - 1
    return CommandSpec(first, last, step, "readonly" in flags, "blocking" in flags, movable)


class ServerCommands:
    """The specs of commands learned from the server, by lowercase name.

    ``execute(*command)`` sends a command to any primary and returns its reply.
    """

    def __init__(self, execute: Callable[..., Awaitable]) -> None:
        self._execute = execute
        self._specs: Dict[bytes, CommandSpec] = {}
        self._asking: Dict[bytes, asyncio.Future] = {}

    def cached(self, name: bytes) -> Optional[CommandSpec]:
        """The spec of ``name`` if already learned."""
        return self._specs.get(name)

    async def spec(self, name: bytes) -> Optional[CommandSpec]:
        """The spec of ``name``, asked from the server unless known; None if the server does not know it."""
        spec = self._specs.get(name)
        if spec is not None:
            return spec
        asking = self._asking.get(name)
        if asking is None:
            asking = self._asking[name] = asyncio.ensure_future(self._ask(name))
        return await asyncio.shield(asking)

    async def _ask(self, name: bytes) -> Optional[CommandSpec]:
        try:
            spec = parse_command_info(await self._execute(b"COMMAND", b"INFO", name))
        finally:
            del self._asking[name]
        if spec is not None:
            if len(self._specs) >= LIMIT:
                del self._specs[next(iter(self._specs))]
            self._specs[name] = spec
        return spec

    async def keys(self, spec: Optional[CommandSpec], command, args: Sequence) -> Sequence:
        """The keys among ``args``: sliced out by ``spec``, or from COMMAND GETKEYS if they move."""
        if spec is None:
            return ()   # unknown to the server: any primary answers with the error
        if not spec.movable:
            return keys_at(args, spec.first, spec.last, spec.step) if spec.first >= 0 else ()
        try:
            return await self._execute(b"COMMAND", b"GETKEYS", command, *args)
        except ReplyError as exc:
            if "no key arguments" in str(exc):
                return ()
            raise
