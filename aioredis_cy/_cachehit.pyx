# cython: language_level=3, boundscheck=False, wraparound=False
"""The cache hit path in C: a cached read of one key answered with a completed future.

``Entry`` is one stored reply and ``CacheCore`` the base of ``ClientCache`` holding the
hit counter, so that a hit touches no Python-level attribute. ``HitPath`` is the base
of :class:`aioredis_cy._cache_client.CachingFront`. Its ``execute``,
``execute_converted`` and ``get`` answer the common case themselves (a cacheable
command whose arguments are str, bytes or numbers, found and fresh, outside MULTI and
``cache_disabled()``) and hand everything else to the front's Python ``send``, which
is the complete (and reference) implementation.
"""
import asyncio
import time

from cpython.bytes cimport PyBytes_CheckExact
from cpython.float cimport PyFloat_CheckExact
from cpython.long cimport PyLong_CheckExact
from cpython.unicode cimport PyUnicode_CheckExact

cdef extern from "Python.h":
    object PyObject_Call(object callable, object args, object kwargs)
    object PyUnicode_Decode(const char *data, Py_ssize_t size, const char *encoding, const char *errors)
    char *PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)
    const char *PyUnicode_AsUTF8(object text) except NULL

from aioredis_cy.util import _NOTSET

KIND_READ = 0
cdef int _KIND_READ = 0
cdef object _monotonic = time.monotonic
cdef object Future = asyncio.Future


cdef class Entry:
    """One stored reply: its raw value, estimated size, expiry (``time.monotonic``), the tracker
    of the connection that filled it and its Redis key.

    ``future``, once a hit made it, is the completed future handed to every later hit of an
    immutable value (bytes, str, int, None) decoded with ``future_encoding`` on ``future_loop``.
    """

    cdef public object value
    cdef public Py_ssize_t size
    cdef public double expires
    cdef public object owner
    cdef public object key
    cdef public object future
    cdef public object future_encoding
    cdef public object future_loop

    def __init__(self, value, Py_ssize_t size, double expires, owner, key):
        self.value = value
        self.size = size
        self.expires = expires
        self.owner = owner
        self.key = key


cdef class CacheCore:
    """The part of a ClientCache the hit path updates: the hit counter."""

    cdef public long long _hits


cdef class HitPath:
    """Serves cache hits in C; see the module docstring."""

    cdef public CacheCore cache     # the ClientCache
    cdef public object entries      # its OrderedDict of entries (the same object for its lifetime)
    cdef public dict kinds          # command as given -> (kind, canonical name)
    cdef public set encodings       # encodings known to be valid text codecs
    cdef public object disabled     # the ContextVar of cache_disabled()
    cdef public object loop
    cdef public object encoding     # the connection's (or pool's) default encoding
    cdef public object copy_reply   # the Python function copying a stored container reply
    cdef public bint in_multi       # a MULTI sent through execute() on a single connection
    cdef object move_to_end
    cdef object entries_get
    cdef dict future_kwargs         # {'loop': loop} when its create_future() makes plain asyncio futures

    def __init__(self, CacheCore cache, entries, dict kinds, set encodings, disabled, loop, encoding,
                 copy_reply):
        self.cache = cache
        self.entries = entries
        self.move_to_end = entries.move_to_end
        self.entries_get = entries.get
        self.kinds = kinds
        self.encodings = encodings
        self.disabled = disabled
        self.loop = loop
        self.encoding = encoding
        self.copy_reply = copy_reply
        self.in_multi = False
        probe = loop.create_future()
        self.future_kwargs = {"loop": loop} if type(probe) is Future else None
        probe.cancel()

    def execute(self, command, *args, encoding=_NOTSET):
        """``execute`` of the connection or pool, with the cache in front."""
        hit = self.hit(None, command, args, encoding)
        if hit is not None:
            return hit
        return self.send(None, command, args, encoding)

    def get(self, key, *, encoding=_NOTSET):
        """``Redis.get`` without its Python frame: the value of ``key``, or None."""
        hit = self.hit(None, b"GET", (key,), encoding)
        if hit is not None:
            return hit
        return self.send(None, b"GET", (key,), encoding)

    def execute_converted(self, converter, command, *args, encoding=_NOTSET):
        """``_execute_converted`` of the connection or pool, with the cache in front."""
        hit = self.hit(converter, command, args, encoding)
        if hit is not None:
            return hit
        return self.send(converter, command, args, encoding)

    cdef object hit(self, object converter, object command, tuple args, object encoding):
        """The completed future of a fresh cached reply, or None to take the Python path."""
        cdef object found, key, entry
        if self.in_multi or not (PyBytes_CheckExact(command) or PyUnicode_CheckExact(command)):
            return None
        found = self.kinds.get(command)
        if found is None or (<tuple>found)[0] != _KIND_READ:
            return None
        if encoding is _NOTSET:
            encoding = self.encoding
        elif encoding is not None and not (PyUnicode_CheckExact(encoding) and encoding in self.encodings):
            return None
        key = cache_key((<tuple>found)[1], args)
        if key is None or self.disabled.get():
            return None
        entry = self.entries_get(key)
        if entry is None or (<Entry>entry).expires < _monotonic():
            return None
        self.move_to_end(key)
        self.cache._hits += 1
        return self.shared(<Entry>entry, encoding, converter)

    cdef object shared(self, Entry entry, object encoding, object converter):
        """The completed future of a hit; one per entry for immutable values without a converter."""
        cdef object raw = entry.value
        cdef object future = entry.future
        if converter is not None:
            return self.completed(raw, encoding, converter)
        if future is not None and entry.future_encoding is encoding and entry.future_loop is self.loop:
            return future
        future = self.completed(raw, encoding, None)
        if PyBytes_CheckExact(raw) or raw is None or PyLong_CheckExact(raw):
            entry.future = future
            entry.future_encoding = encoding
            entry.future_loop = self.loop
        return future

    cpdef object completed(self, object raw, object encoding, object converter):
        """An already completed future of a stored reply, decoded with ``encoding`` (None: bytes)
        and passed through ``converter`` for this call (their exception, if they fail)."""
        cdef object value, future
        if self.future_kwargs is not None:
            future = PyObject_Call(Future, (), self.future_kwargs)   # skips asyncio's Python create_future
        else:
            future = self.loop.create_future()
        try:
            if PyBytes_CheckExact(raw):
                if encoding is None:
                    value = raw
                else:
                    value = PyUnicode_Decode(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw),
                                             PyUnicode_AsUTF8(encoding), NULL)
            else:
                value = self.copy_reply(raw, encoding)
            if converter is not None:
                value = converter(value)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(value)
        return future


cpdef object encoded_arg(object arg):
    """An argument as the connection sends it, or None for other types (bytearray, subclasses...),
    whose value may change or whose encoding is not known here."""
    if PyBytes_CheckExact(arg):
        return arg
    if PyUnicode_CheckExact(arg):
        return (<str>arg).encode("utf-8")
    if PyLong_CheckExact(arg):
        return b"%d" % arg
    if PyFloat_CheckExact(arg):
        return repr(arg).encode("ascii")
    return None


cpdef object cache_key(object name, tuple args):
    """The cache key of a read of one key: its name and encoded arguments (None: not cacheable)."""
    cdef Py_ssize_t n = len(args)
    cdef list items
    if n == 1:
        arg = encoded_arg(args[0])
        return None if arg is None else (name, arg)
    if n == 0 or name == b"EXISTS":
        return None
    items = [name]
    for arg in args:
        arg = encoded_arg(arg)
        if arg is None:
            return None
        items.append(arg)
    return tuple(items)
