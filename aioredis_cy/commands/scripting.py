"""Scripting commands: Lua scripts (EVAL, SCRIPT) and Redis 7 functions (FUNCTION, FCALL).

:class:`Script` (``redis.register_script(source)``) runs a script by its SHA1 digest and
sends the source only when the server does not have it cached.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Sequence

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..errors import NoScriptError
from ..util import _NOTSET, reply_is_ok

__all__ = ["ScriptingCommandsMixin", "Script"]

_RESTORE_POLICIES = ("FLUSH", "APPEND", "REPLACE")


def _keys_and_args(keys, args) -> list:
    """``numkeys key... arg...`` as EVAL/EVALSHA/FCALL take them; keys and args are lists or tuples."""
    for name, value in (("keys", keys), ("args", args)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a list or tuple, got {type(value).__name__}")
    return [len(keys), *keys, *args]


def _field_name(name):
    return name.decode("utf-8") if isinstance(name, bytes) else name


def _fields(flat) -> dict:
    """A flat ``[name, value, ...]`` reply as a dict with str names (values as replied)."""
    items = iter(flat)
    return {_field_name(name): value for name, value in zip(items, items)}


def _function_libraries(reply) -> list:
    libraries = []
    for flat in reply:
        library = _fields(flat)
        library["functions"] = [_fields(function) for function in library["functions"]]
        libraries.append(library)
    return libraries


def _function_stats(reply) -> dict:
    stats = _fields(reply)
    if stats["running_script"] is not None:
        stats["running_script"] = _fields(stats["running_script"])
    stats["engines"] = {name: _fields(info) for name, info in _fields(stats["engines"]).items()}
    return stats


class ScriptingCommandsMixin(CommandsBase):
    """Scripting commands; see https://redis.io/commands/?group=scripting."""

    def eval(self, script: Arg, keys: Sequence[Key] = [], args: Sequence[Arg] = [], *,
             encoding: Optional[str] = _NOTSET) -> Reply[Any]:  # noqa: B006 (1.3.1 signature)
        """Run a Lua script with ``KEYS`` and ``ARGV``; returns what the script returns."""
        return self.execute(b"EVAL", script, *_keys_and_args(keys, args), encoding=encoding)

    def eval_ro(self, script: Arg, keys: Sequence[Key] = (), args: Sequence[Arg] = (), *,
                encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Run a read-only Lua script (allowed on replicas; Redis 7)."""
        return self.execute(b"EVAL_RO", script, *_keys_and_args(keys, args), encoding=encoding)

    def evalsha(self, digest: Arg, keys: Sequence[Key] = [], args: Sequence[Arg] = [], *,
                encoding: Optional[str] = _NOTSET) -> Reply[Any]:  # noqa: B006 (1.3.1 signature)
        """Run a cached Lua script by its SHA1 digest (NoScriptError if the server lacks it)."""
        return self.execute(b"EVALSHA", digest, *_keys_and_args(keys, args), encoding=encoding)

    def evalsha_ro(self, digest: Arg, keys: Sequence[Key] = (), args: Sequence[Arg] = (), *,
                   encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Run a cached read-only Lua script by its SHA1 digest (Redis 7)."""
        return self.execute(b"EVALSHA_RO", digest, *_keys_and_args(keys, args), encoding=encoding)

    def script_exists(self, digest: Arg, *digests: Arg) -> Reply[List[int]]:
        """For each digest, 1 if the script is cached, else 0."""
        return self.execute(b"SCRIPT", b"EXISTS", digest, *digests)

    def script_flush(self) -> Reply[bool]:
        """Empty the script cache; True when done."""
        return self._execute_converted(reply_is_ok, b"SCRIPT", b"FLUSH")

    def script_kill(self) -> Reply[bool]:
        """Stop the script running now (if it has not written anything); True when done."""
        return self._execute_converted(reply_is_ok, b"SCRIPT", b"KILL")

    def script_load(self, script: Arg) -> Reply[Value]:
        """Cache a Lua script without running it; returns its SHA1 digest."""
        return self.execute(b"SCRIPT", b"LOAD", script)

    def register_script(self, source: str) -> Script:
        """A :class:`Script` calling ``source`` through this client."""
        return Script(self, source)

    def fcall(self, function: Arg, keys: Sequence[Key] = (), args: Sequence[Arg] = (), *,
              encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Call a Redis function (Redis 7); returns what it returns."""
        return self.execute(b"FCALL", function, *_keys_and_args(keys, args), encoding=encoding)

    def fcall_ro(self, function: Arg, keys: Sequence[Key] = (), args: Sequence[Arg] = (), *,
                 encoding: Optional[str] = _NOTSET) -> Reply[Any]:
        """Call a read-only Redis function (allowed on replicas; Redis 7)."""
        return self.execute(b"FCALL_RO", function, *_keys_and_args(keys, args), encoding=encoding)

    def function_delete(self, library_name: Arg) -> Reply[bool]:
        """Delete a function library; True when done."""
        return self._execute_converted(reply_is_ok, b"FUNCTION", b"DELETE", library_name)

    def function_dump(self) -> Reply[bytes]:
        """Serialize every function library (bytes, never decoded: the payload is binary)."""
        return self.execute(b"FUNCTION", b"DUMP", encoding=None)

    def function_flush(self, async_op: bool = False) -> Reply[bool]:
        """Delete every function library; ``async_op`` frees them in a background thread."""
        return self._execute_converted(reply_is_ok, b"FUNCTION", b"FLUSH", *((b"ASYNC",) if async_op else ()))

    def function_kill(self) -> Reply[bool]:
        """Stop the read-only function running now; True when done."""
        return self._execute_converted(reply_is_ok, b"FUNCTION", b"KILL")

    def function_list(self, library_name_pattern: Optional[Arg] = None, *, with_code: bool = False,
                      encoding: Optional[str] = _NOTSET) -> Reply[List[Dict[str, Any]]]:
        """The function libraries as a list of dicts.

        Field names are str (``'library_name'``, ``'engine'``, ``'functions'`` (a list of
        dicts with ``'name'``, ``'description'``, ``'flags'``), ``'library_code'`` with
        ``with_code``); values are bytes, or str when an encoding applies.
        """
        args = []
        if library_name_pattern is not None:
            args += [b"LIBRARYNAME", library_name_pattern]
        if with_code:
            args.append(b"WITHCODE")
        return self._execute_converted(_function_libraries, b"FUNCTION", b"LIST", *args, encoding=encoding)

    def function_load(self, code: Arg, *, replace: bool = False) -> Reply[Value]:
        """Load a function library from its source; returns the library name."""
        args = (b"REPLACE", code) if replace else (code,)
        return self.execute(b"FUNCTION", b"LOAD", *args)

    def function_restore(self, payload: bytes, *, policy: Optional[str] = None) -> Reply[bool]:
        """Restore libraries from a :meth:`function_dump` payload; True when done.

        ``policy`` is ``'APPEND'`` (the server's default: fail on a name clash), ``'REPLACE'``
        or ``'FLUSH'`` (delete every library first).
        """
        args: List[Any] = [payload]
        if policy is not None:
            if not isinstance(policy, str) or policy.upper() not in _RESTORE_POLICIES:
                raise ValueError(f"policy must be one of {_RESTORE_POLICIES}, got {policy!r}")
            args.append(policy.upper())
        return self._execute_converted(reply_is_ok, b"FUNCTION", b"RESTORE", *args)

    def function_stats(self) -> Reply[Dict[str, Any]]:
        """The running function (None or a dict) and per-engine counts, as a dict with str names.

        ``{'running_script': ..., 'engines': {'LUA': {'libraries_count': n, 'functions_count': m}}}``
        """
        return self._execute_converted(_function_stats, b"FUNCTION", b"STATS", encoding="utf-8")


class Script:
    """A Lua script called by its SHA1 digest, sent in full only when the server lacks it.

    >>> incr_by = redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    >>> await incr_by(keys=['counter'], args=[5])
    5
    """

    def __init__(self, redis, source):
        if isinstance(source, str):
            encoded = source.encode("utf-8")
        elif isinstance(source, (bytes, bytearray, memoryview)):
            encoded = bytes(source)
        else:
            raise TypeError(f"source must be str or bytes, got {type(source).__name__}")
        self._redis = redis
        self.source = source
        self.sha = hashlib.sha1(encoded).hexdigest()

    def __repr__(self) -> str:
        return f"<Script {self.sha}>"

    async def __call__(self, keys=(), args=(), *, client=None, encoding=_NOTSET):
        """Run the script (through ``client`` if given) and return its result.

        EVALSHA first; on NOSCRIPT, EVAL with the source, which also caches it.
        """
        client = self._redis if client is None else client
        try:
            return await client.evalsha(self.sha, keys, args, encoding=encoding)
        except NoScriptError:
            return await client.eval(self.source, keys, args, encoding=encoding)
