"""The public surface of aioredis 1.3.1 is all there, with the same signatures.

``reference_surface.txt`` holds 1.3.1's names and signatures. Every difference must be
deliberate: a signature may only grow keyword-only parameters with defaults, each listed in
``ALLOWED_EXTENSIONS`` (or, for a 1.3.1 stub that now works, be listed in ``IMPLEMENTED_STUBS``),
and every public name of ``Redis`` beyond 1.3.1's is listed in
``NEW_REDIS_NAMES`` (likewise ``NEW_ALL_NAMES`` for ``aioredis_cy.__all__``).
"""
import ast
import importlib
import inspect
import math
import re
from pathlib import Path

import pytest

from aioredis_cy.util import _NOTSET

REFERENCE = Path(__file__).with_name("reference_surface.txt")

_SENTINEL_EXTRAS = {"username", "sentinel_password", "sentinel_username", "sentinel_ssl", "protocol"}

_RESP3_EXTRAS = {"protocol", "client_cache"}

# "Owner.member": the keyword-only parameters (with defaults) it adds to its 1.3.1 signature.
ALLOWED_EXTENSIONS = {
    # The pub/sub bound (flow control past it).
    "Channel.__init__": {"maxsize"},
    "Receiver.__init__": {"maxsize"},
    # ACL user names (Redis 6+), the client name sent at connect, the pools' idle health check.
    # protocol=3: RESP3, and the client-side cache (issue 13; the pool turns tracking on for it);
    # resp3_types="native" on the connection-level factories (execute() only, no command methods).
    "aioredis_cy.create_connection": {"username", "name", "protocol", "resp3_types"},
    "aioredis_cy.create_pool": {"username", "name", "health_check_interval", *_RESP3_EXTRAS, "resp3_types"},
    "aioredis_cy.create_redis": {"username", "name", *_RESP3_EXTRAS},
    "aioredis_cy.create_redis_pool": {"username", "name", "health_check_interval", *_RESP3_EXTRAS},
    "ConnectionsPool.__init__": {"username", "name", "health_check_interval", *_RESP3_EXTRAS, "resp3_types"},
    "Redis.auth": {"username"},
    "RedisConnection.auth": {"username"},
    "ConnectionsPool.auth": {"username"},
    # ACL users and separate credentials/TLS for the sentinels themselves.
    "aioredis_cy.create_sentinel": _SENTINEL_EXTRAS,
    "aioredis_cy.sentinel.create_sentinel": _SENTINEL_EXTRAS,
    "aioredis_cy.sentinel.create_sentinel_pool": _SENTINEL_EXTRAS,
    "SentinelPool.__init__": _SENTINEL_EXTRAS,
    # hiredis.Reader's keywords.
    "PyReader.__init__": {"errors", "notEnoughData"},
    # Redis 6.2/7 options of existing commands.
    "Redis.expire": {"nx", "xx", "gt", "lt"},
    "Redis.expireat": {"nx", "xx", "gt", "lt"},
    "Redis.pexpire": {"nx", "xx", "gt", "lt"},
    "Redis.pexpireat": {"nx", "xx", "gt", "lt"},
    "Redis.geoadd": {"exist", "changed"},
    "Redis.lpop": {"count"},
    "Redis.rpop": {"count"},
    "Redis.set": {"get", "keepttl", "exat", "pxat", "encoding"},
    "Redis.xadd": {"min_id", "limit", "no_mkstream"},
    "Redis.xpending": {"idle"},
    "Redis.xtrim": {"min_id", "limit"},
    "Redis.zadd": {"gt", "lt"},
    # Per-call reply decoding.
    "Redis.eval": {"encoding"},
    "Redis.evalsha": {"encoding"},
    # 1.3.1 raised NotImplementedError; the filters of CLIENT KILL are keyword-only.
    "Redis.client_kill": {"addr", "laddr", "client_id", "client_type", "user", "skipme", "maxage"},
    # 1.3.1 was a stub returning None; CLUSTER FAILOVER FORCE|TAKEOVER.
    "Redis.cluster_failover": {"force", "takeover"},
}

# "Owner.member": methods that were stubs in 1.3.1 (NotImplementedError or None) and now work,
# with the whole signature they have now.
IMPLEMENTED_STUBS = {
    "Redis.bitfield": "bitfield(self, key, *operations)",
}

# "Owner.member": signatures changed on purpose, with the reason.
CHANGED_SIGNATURES = {
    # 1.3.1 wrapped asyncio streams; our connection wraps the Cython protocol's transport.
    # create_connection passes both positionally, as 1.3.1 did, so connection_cls subclasses
    # that forward *args keep working.
    "RedisConnection.__init__": "__init__(self, transport, protocol, *, address, encoding=None, parser=None, "
                                "loop=None)",
    # hiredis.Reader.gets takes shouldDecode positionally; PyReader keeps that interface.
    "PyReader.gets": "gets(self, shouldDecode=True)",
}

# Public Redis names that 1.3.1 does not have, by family.
NEW_REDIS_NAMES = {
    # generic
    "copy", "expiretime", "object_freq", "pexpiretime", "waitaof",
    # connection
    "reset",
    # strings
    "bitfield_ro", "getdel", "getex", "lcs",
    # hashes, lists, sets
    "hrandfield", "blmove", "blmpop", "lmove", "lmpop", "lpos", "sintercard", "smismember",
    # sorted sets
    "bzmpop", "zdiff", "zdiffstore", "zinter", "zintercard", "zmpop", "zmscore", "zrandmember",
    "zrangestore", "zunion",
    # geo, streams
    "geosearch", "geosearchstore", "xautoclaim", "xgroup_createconsumer",
    # pub/sub (sharded)
    "pubsub_shardchannels", "pubsub_shardnumsub", "spublish", "ssubscribe", "sunsubscribe",
    # scripting and functions
    "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function_delete", "function_dump", "function_flush",
    "function_kill", "function_list", "function_load", "function_restore", "function_stats",
    "register_script",
    # server
    "acl_cat", "acl_deluser", "acl_getuser", "acl_list", "acl_setuser", "acl_users", "acl_whoami",
    "client_id", "client_info", "client_no_evict", "client_unpause", "lolwut", "memory_usage", "replicaof",
    # cluster
    "cluster_myid",
    # client-side caching (issue 13)
    "client_cache", "cache_disabled",
}

# Names of aioredis_cy.__all__ that 1.3.1's __all__ does not have.
NEW_ALL_NAMES = {"NoPermissionError", "NoScriptError", "BusyGroupError"}
# Client-side caching (issue 13).
NEW_ALL_NAMES |= {"ClientCache"}
# Redis Cluster support (issue 14): aioredis-cluster 2.x's entry points and error classes.
NEW_ALL_NAMES |= {
    "create_cluster", "create_redis_cluster", "RedisCluster", "RedisClusterError", "ClusterClosedError",
    "ClusterStateError", "UncoveredSlotError", "CrossSlotError", "MovedError", "AskError", "TryAgainError",
    "ClusterDownError", "LoadingError",
}


_HEADER = re.compile(r"## (?P<kind>\w+)(?: (?P<path>[\w.]+))?(?:: (?P<names>.*))?$")
_MEMBER_NAME = re.compile(r"(?:coroutine )?(\w+)")


def _parse_reference():
    """The reference file as a list of ``(kind, path, payload)`` entries."""
    entries = []
    owner = None
    for line in REFERENCE.read_text().splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        header = _HEADER.match(line)
        if header is None:
            assert owner is not None, f"member line outside a module/class section: {line!r}"
            entries.append(("member", owner, line.strip()))
        elif header["kind"] in ("module", "class"):
            owner = (header["kind"], header["path"])
        else:
            names = [name.strip() for name in header["names"].split(",")]
            entries.append((header["kind"], header["path"], names))
            owner = None
    return entries


ENTRIES = _parse_reference()


def _resolve(path):
    """Import ``a.b.C`` as module ``a.b`` attribute ``C`` (or the module itself)."""
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _short(path):
    return path.rpartition(".")[2]


def _render_default(value):
    if value is _NOTSET:
        return "_NOTSET"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if inspect.isclass(value):
        return value.__name__
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "<function>"
    return repr(value)


def _render_params(params):
    parts = []
    star_done = False
    for param in params:
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if param.kind is param.VAR_POSITIONAL:
            parts.append("*" + param.name)
            star_done = True
            continue
        if param.kind is param.VAR_KEYWORD:
            parts.append("**" + param.name)
            continue
        text = param.name
        if param.default is not param.empty:
            text += "=" + _render_default(param.default)
        parts.append(text)
        if param.kind is param.POSITIONAL_ONLY and (
            param is params[-1] or params[params.index(param) + 1].kind is not param.POSITIONAL_ONLY
        ):
            parts.append("/")
    return ", ".join(parts)


def _signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"no introspectable signature: {exc}")


def _render(name, obj, drop=()):
    """``[coroutine ]name(params)`` without annotations and without the ``drop`` parameters."""
    params = [p for p in _signature(obj).parameters.values() if p.name not in drop]
    prefix = "coroutine " if inspect.iscoroutinefunction(obj) else ""
    return f"{prefix}{name}({_render_params(params)})"


def _lookup(owner_kind, owner, name):
    if owner_kind == "module":
        return getattr(owner, name)
    attr = inspect.getattr_static(owner, name)
    if isinstance(attr, (staticmethod, classmethod)):
        return getattr(owner, name)
    return attr


def _check_extension(key, obj):
    """The extra parameters of an allowed extension: present, keyword-only, with defaults."""
    extra = ALLOWED_EXTENSIONS.get(key, set())
    params = _signature(obj).parameters
    for name in extra:
        assert name in params, f"{key}: listed extension parameter {name!r} is not in the signature"
        param = params[name]
        assert param.kind is param.KEYWORD_ONLY, f"{key}: extension parameter {name!r} must be keyword-only"
        assert param.default is not param.empty, f"{key}: extension parameter {name!r} needs a default"
    return extra


def _member_name(line):
    return _MEMBER_NAME.match(line)[1]


def _member_id(entry):
    """``Class.member`` for class members, ``package.module.member`` for module members."""
    _, (owner_kind, owner_path), line = entry
    owner = _short(owner_path) if owner_kind == "class" else owner_path
    return f"{owner}.{_member_name(line)}"


MEMBERS = [entry for entry in ENTRIES if entry[0] == "member"]


@pytest.mark.parametrize("entry", MEMBERS, ids=[_member_id(e) for e in MEMBERS])
def test_member(entry):
    _, (owner_kind, owner_path), line = entry
    owner = _resolve(owner_path)
    name = _member_name(line)
    key = _member_id(entry)
    assert hasattr(owner, name), f"{owner_path} has no {name!r}"
    if line.endswith("[property]"):
        attr = inspect.getattr_static(owner, name)
        assert inspect.isdatadescriptor(attr), f"{key} should be a property, is {type(attr).__name__}"
        return
    if " = " in line:
        expected = ast.literal_eval(line.split(" = ", 1)[1])
        assert getattr(owner, name) == expected, f"{key} = {getattr(owner, name)!r}, 1.3.1 has {expected!r}"
        return
    obj = _lookup(owner_kind, owner, name)
    assert callable(obj), f"{key} should be callable, is {type(obj).__name__}"
    if key in IMPLEMENTED_STUBS:
        line = IMPLEMENTED_STUBS[key]
    line = CHANGED_SIGNATURES.get(key, line)
    drop = _check_extension(key, obj)
    rendered = _render(name, obj, drop)
    assert rendered == line, f"{key}:\n  ours:  {rendered}\n  1.3.1: {line}"


def _entries(kind):
    return [(path, names) for entry_kind, path, names in ENTRIES if entry_kind == kind]


SUBMODULES = [name for _, names in _entries("modules") for name in names]


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodule_imports(name):
    importlib.import_module(name)


@pytest.mark.parametrize("path, names", _entries("names"), ids=[p for p, _ in _entries("names")])
def test_module_names(path, names):
    module = importlib.import_module(path)
    assert [name for name in names if not hasattr(module, name)] == []


@pytest.mark.parametrize("path, names", _entries("fields"), ids=[p for p, _ in _entries("fields")])
def test_namedtuple_fields(path, names):
    assert list(_resolve(path)._fields) == names


@pytest.mark.parametrize("path, names", _entries("all"), ids=[p for p, _ in _entries("all")])
def test_dunder_all(path, names):
    module = importlib.import_module(path)
    exported = set(module.__all__)
    assert sorted(set(names) - exported) == [], "1.3.1 names missing from __all__"
    assert sorted(exported - set(names) - NEW_ALL_NAMES) == [], "new names in __all__ not in NEW_ALL_NAMES"
    assert [name for name in exported if not hasattr(module, name)] == [], "__all__ names not defined"


def test_redis_new_names_are_deliberate():
    from aioredis_cy import Redis

    known = {_member_name(line) for _, owner, line in MEMBERS if owner == ("class", "aioredis_cy.Redis")}
    public = {name for name in dir(Redis) if not name.startswith("_")}
    assert sorted(public - known - NEW_REDIS_NAMES) == [], "public Redis names not in NEW_REDIS_NAMES"
    assert sorted(NEW_REDIS_NAMES - public) == [], "NEW_REDIS_NAMES lists names Redis does not have"


def test_allowed_differences_name_reference_members():
    known = {_member_id(entry) for entry in MEMBERS}
    assert sorted((set(ALLOWED_EXTENSIONS) | set(IMPLEMENTED_STUBS) | set(CHANGED_SIGNATURES)) - known) == []


def test_version_is_a_plain_release_number():
    import aioredis_cy

    assert re.fullmatch(r"\d+(\.\d+)*", aioredis_cy.__version__)
