"""Where a command's keys are: a static table (command_info.py asks the server about the rest)."""
from typing import Callable, Dict, Optional, Sequence

from .._cluster import slot_of

__all__ = ["KEY_POSITIONS", "static_keys", "keys_at", "slot_of", "to_bytes", "READ_ONLY", "BLOCKING",
           "KEYLESS"]

# command -> (first, last, step) of its key arguments, counted from the first argument
# (0); last -1 means "to the end", -2 "all but the last".
_ONE = (0, 0, 1)
_ALL = (0, -1, 1)
_TWO = (0, 1, 1)
KEY_POSITIONS: Dict[bytes, tuple] = {}
for _names, _spec in (
    ("get set setnx setex psetex append incr decr incrby decrby incrbyfloat getset getrange setrange "
     "strlen getbit setbit bitcount bitpos bitfield getdel getex substr type ttl pttl expire pexpire "
     "expireat pexpireat persist dump restore expiretime pexpiretime "
     "hget hset hsetnx hmset hmget hgetall hdel hexists hincrby hincrbyfloat hkeys hvals hlen hstrlen "
     "hscan hrandfield lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset lrem ltrim linsert "
     "lpos sadd srem smembers sismember smismember scard spop srandmember sscan zadd zrem zscore zincrby "
     "zcard zcount zrange zrangebyscore zrevrange zrevrangebyscore zrank zrevrank zremrangebyrank "
     "zremrangebyscore zrangebylex zrevrangebylex zlexcount zremrangebylex zscan zpopmin zpopmax zmscore "
     "zrandmember pfadd geoadd geodist geohash geopos georadius georadiusbymember geosearch xadd xrange "
     "xrevrange xlen xtrim xdel xack xpending xclaim xautoclaim xsetid sort sort_ro spublish", _ONE),
    ("del exists unlink touch mget sinter sunion sdiff sinterstore sunionstore sdiffstore pfcount "
     "pfmerge watch", _ALL),
    ("mset msetnx", (0, -1, 2)),
    ("rename renamenx smove rpoplpush lmove brpoplpush blmove copy geosearchstore zrangestore", _TWO),
    ("blpop brpop bzpopmin bzpopmax", (0, -2, 1)),
):
    for _name in _names.split():
        KEY_POSITIONS[_name.encode()] = _spec
# Subcommand first, key second.
for _name in ("object", "xgroup", "xinfo"):
    KEY_POSITIONS[_name.encode()] = (1, 1, 1)

# Commands sent as they are to any node (no keys, or answered the same everywhere).
KEYLESS = frozenset(
    name.encode() for name in (
        "ping echo info time randomkey dbsize keys flushdb flushall script publish cluster command "
        "config client memory lastsave role save bgsave bgrewriteaof readonly readwrite wait auth "
        "hello acl lolwut pubsub slowlog latency debug function").split())

# Commands that never write: they may be re-sent after a lost connection, and go to
# replicas with read_from_replicas.
READ_ONLY = frozenset(
    name.encode() for name in (
        "get getrange strlen getbit bitcount bitpos substr type ttl pttl exists dump mget hget hmget "
        "hgetall hexists hkeys hvals hlen hstrlen hscan hrandfield llen lrange lindex lpos smembers "
        "sismember smismember scard srandmember sscan sinter sunion sdiff zscore zcard zcount zrange "
        "zrangebyscore zrevrange zrevrangebyscore zrank zrevrank zrangebylex zrevrangebylex zlexcount "
        "zscan zmscore zrandmember pfcount geodist geohash geopos xrange xrevrange xlen xpending "
        "sort_ro expiretime pexpiretime object xinfo touch ping echo info time randomkey dbsize keys "
        "command lastsave role").split())

# Commands that hold their connection until the server answers (the pool gives them one of their own).
BLOCKING = frozenset(
    name.encode()
    for name in "blpop brpop brpoplpush blmove bzpopmin bzpopmax blmpop bzmpop wait waitaof".split())

_NUMKEYS_AT = {b"eval": 1, b"evalsha": 1, b"eval_ro": 1, b"evalsha_ro": 1, b"fcall": 1, b"fcall_ro": 1,
               b"zunionstore": 1, b"zinterstore": 1, b"zdiffstore": 1}
_NUMKEYS_FIRST = {b"zunion": 0, b"zinter": 0, b"zdiff": 0, b"sintercard": 0, b"lmpop": 0, b"zmpop": 0}


def to_bytes(value) -> bytes:
    """A key as the bytes the server hashes (str as UTF-8, numbers in decimal)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (int, float)):
        return repr(value).encode()
    raise TypeError(f"bad key type {type(value).__name__}")


def keys_at(args: Sequence, first: int, last: int, step: int) -> Sequence:
    """``args[first], args[first + step], ...`` up to ``args[last]`` (-1: the end, -2: all but the last)."""
    if last == -1:
        return args[first::step]
    if last == -2:
        return args[first:-1:step]
    return args[first:last + 1:step]


def static_keys(name: bytes, args: Sequence) -> Optional[Sequence]:
    """The keys among ``args`` for a command known here: a (maybe empty) sequence, or None if unknown."""
    spec = KEY_POSITIONS.get(name)
    if spec is not None:
        return keys_at(args, *spec)
    if name in KEYLESS:
        return ()
    at = _NUMKEYS_AT.get(name)
    if at is None:
        at = _NUMKEYS_FIRST.get(name)
        if at is None:
            return None
        numkeys = int(args[at])
        return args[at + 1:at + 1 + numkeys]
    if name in (b"zunionstore", b"zinterstore", b"zdiffstore"):
        return (args[0],) + tuple(args[2:2 + int(args[1])])
    numkeys = int(args[at])
    return args[at + 1:at + 1 + numkeys]


def normalized(command) -> bytes:
    """The command name as lowercase bytes."""
    if isinstance(command, str):
        return command.lower().encode()
    return bytes(command).lower()


KeyFinder = Callable[[bytes, Sequence], Optional[Sequence]]
