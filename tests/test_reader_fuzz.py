"""Property tests for the readers: random reply trees in random chunks, and random garbage.

Random replies are generated as trees, serialized to RESP and fed in random pieces; every
reader must return exactly the expected values. Garbage must never crash a reader: it
parses or raises protocolError, and the Cython and Python readers agree on every input.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioredis_cy.errors import ProtocolError, ReplyError

from .reader_cases import ALL_READERS, OUR_READERS, Err, NaN, same

# Example counts keep the whole reader suite fast; raise them locally for a deeper search.
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHEAP_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NED = object()


class DecodeFails:
    """Expected outcome of a reply with a string that does not decode."""

    def __repr__(self):
        return "DecodeFails"


# ---------------------------------------------------------------------------- reply trees
# A node is (kind, payload); serialize() gives its RESP bytes, expected() what a reader returns.

line_bytes = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
line_text = st.text(max_size=12).map(lambda s: s.replace("\r", "").replace("\n", ""))
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
doubles = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1.5, 1e300]))
small_text = st.sampled_from([b"", b"a", b"OK", b"hello", "\u00e9t\u00e9".encode(), b"\xff\xfe", b"x\r\ny"])


def leaf(resp3, extras):
    options = [
        line_bytes.map(lambda b: ("simple", b)),
        line_text.map(lambda s: ("error", "ERR " + s)),
        st.sampled_from(["NOAUTH x", "WRONGPASS y", "BUSYGROUP z", "NOSCRIPT w", "READONLY r"]).map(
            lambda s: ("error", s)
        ),
        int64.map(lambda i: ("int", i)),
        st.one_of(st.binary(max_size=40), small_text).map(lambda b: ("bulk", b)),
        st.just(("nullbulk", None)),
        st.just(("nullarray", None)),
    ]
    if resp3:
        options += [
            st.just(("null", None)),
            st.booleans().map(lambda b: ("bool", b)),
            doubles.map(lambda d: ("double", d)),
            st.tuples(st.sampled_from([b"txt", b"mkd"]), st.one_of(st.binary(max_size=20), small_text)).map(
                lambda t: ("verbatim", t)
            ),
        ]
    if extras:
        options += [
            st.integers(min_value=-(10**40), max_value=10**40).map(lambda i: ("bignum", i)),
            line_text.map(lambda s: ("bloberror", "ERR " + s)),
        ]
    return st.one_of(options)


KEY_KINDS = ("simple", "bulk", "int")
AGGREGATE_KINDS = ("array", "set", "push", "map", "attr")


def as_key(node):
    """A map key made from ``node``: scalars that compare reliably (strings, integers) stay,
    other nodes become a bulk string of their own RESP (aggregate keys are protocol errors)."""
    kind, value = node
    if kind in KEY_KINDS:
        return node
    return ("bulk", serialize(node))


def build(kind, kids, extras):
    if kind in ("array", "set", "push"):
        return (kind, kids)
    if kind == "attr":
        annotated = kids[0] if kids else ("int", 0)
        rest = kids[1:]
        return ("attr", (list(zip((as_key(k) for k in rest[0::2]), rest[1::2])), annotated))
    pairs = list(zip((as_key(k) for k in kids[0::2]), kids[1::2]))
    if not extras:
        # hiredis 3.5 mangles maps with a repeated key ({a: None, b: 3} for a:1 b:2 a:3)
        seen = set()
        unique = []
        for key, value in pairs:
            if key[1] not in seen:
                seen.add(key[1])
                unique.append((key, value))
        pairs = unique
    return ("map", pairs)


def trees(resp3=True, extras=False):
    """Reply trees; ``extras`` adds what hiredis handles differently (big numbers, blob errors,
    attributes, repeated map keys)."""
    kinds = ["array"]
    if resp3:
        kinds += ["map", "set", "push"]
    if extras:
        kinds.append("attr")

    def extend(children):
        # ``children`` is used once per level, which keeps hypothesis' reprs small.
        return st.tuples(st.sampled_from(kinds), st.lists(children, max_size=6)).map(
            lambda t: build(t[0], t[1], extras)
        )

    return st.recursive(leaf(resp3, extras), extend, max_leaves=20)


def serialize(node):
    kind, value = node
    if kind == "simple":
        return b"+" + value + b"\r\n"
    if kind == "error":
        return b"-" + value.encode() + b"\r\n"
    if kind == "int":
        return b":%d\r\n" % value
    if kind == "bulk":
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if kind == "nullbulk":
        return b"$-1\r\n"
    if kind == "nullarray":
        return b"*-1\r\n"
    if kind == "null":
        return b"_\r\n"
    if kind == "bool":
        return b"#t\r\n" if value else b"#f\r\n"
    if kind == "double":
        text = repr(value).encode() if value == value else b"nan"
        return b",%s\r\n" % text
    if kind == "verbatim":
        fmt, payload = value
        return b"=%d\r\n%s:%s\r\n" % (len(payload) + 4, fmt, payload)
    if kind == "bignum":
        return b"(%d\r\n" % value
    if kind == "bloberror":
        raw = value.encode()
        return b"!%d\r\n%s\r\n" % (len(raw), raw)
    if kind in ("array", "set", "push"):
        prefix = {"array": b"*", "set": b"~", "push": b">"}[kind]
        return prefix + b"%d\r\n" % len(value) + b"".join(serialize(child) for child in value)
    if kind == "map":
        return b"%%%d\r\n" % len(value) + b"".join(serialize(k) + serialize(v) for k, v in value)
    if kind == "attr":
        pairs, annotated = value
        body = b"".join(serialize(k) + serialize(v) for k, v in pairs)
        return b"|%d\r\n" % len(pairs) + body + serialize(annotated)
    raise AssertionError(kind)


def expected(node, encoding=None, keep=False):
    """What a reader returns for ``node``; raises UnicodeDecodeError if a string fails to
    decode, or with ``keep`` (PyReader, as aioredis 1.x's) keeps that string as bytes."""
    kind, value = node

    def text(raw):
        if encoding is None:
            return raw
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            if keep:
                return raw
            raise

    if kind in ("simple", "bulk"):
        return text(value)
    if kind in ("error", "bloberror"):
        return Err(type(ReplyError(value)), value)
    if kind in ("int", "bool", "bignum"):
        return value
    if kind in ("nullbulk", "nullarray", "null"):
        return None
    if kind == "double":
        return NaN() if value != value else value
    if kind == "verbatim":
        return text(value[1])
    if kind in ("array", "set", "push"):
        return [expected(child, encoding, keep) for child in value]
    if kind == "map":
        result = {}
        for k, v in value:
            result[expected(k, encoding, keep)] = expected(v, encoding, keep)
        return result
    if kind == "attr":
        for k, v in value[0]:
            expected(k, encoding, keep)  # decode failures inside attributes count too
            expected(v, encoding, keep)
        return expected(value[1], encoding, keep)
    raise AssertionError(kind)


def outcome(node, encoding=None, keep=False):
    try:
        return expected(node, encoding, keep)
    except UnicodeDecodeError:
        return DecodeFails()


@st.composite
def chunked(draw, data):
    """``data`` cut at random positions (sometimes at every byte)."""
    if len(data) > 1 and draw(st.integers(0, 9)) == 0:
        return [data[i : i + 1] for i in range(len(data))]
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    bounds = [0] + cuts + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def drain(reader, results):
    """Append every complete reply to ``results``: values, DecodeFails() for a decode
    error, and a final "protocol-error" (then it returns False)."""
    while True:
        try:
            reply = reader.gets()
        except UnicodeDecodeError:
            results.append(DecodeFails())
            continue
        except ProtocolError:
            results.append("protocol-error")
            return False
        if reply is NED:
            return True
        results.append(reply)


def feed_all(cls, pieces, **kwargs):
    """Feed ``pieces`` one by one, reading replies in between (outcomes as in ``drain``)."""
    reader = cls(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED, **kwargs)
    results = []
    for piece in pieces:
        reader.feed(piece)
        if not drain(reader, results):
            break
    return results, reader


def check(expected_outcomes, actual_outcomes):
    assert len(expected_outcomes) == len(actual_outcomes), (expected_outcomes, actual_outcomes)
    for exp, act in zip(expected_outcomes, actual_outcomes):
        if isinstance(exp, DecodeFails):
            assert isinstance(act, DecodeFails), (exp, act)
        else:
            assert same(exp, act), (exp, act)


# ---------------------------------------------------------------------------- properties


@pytest.mark.parametrize("name", sorted(ALL_READERS))
@SETTINGS
@given(replies=st.lists(trees(), min_size=1, max_size=4), data=st.data())
def test_random_replies(name, replies, data):
    wire = b"".join(serialize(r) for r in replies)
    pieces = data.draw(chunked(wire))
    results, reader = feed_all(ALL_READERS[name], pieces)
    check([outcome(r) for r in replies], results)
    assert not reader.has_data()


@pytest.mark.parametrize("name", sorted(OUR_READERS))
@SETTINGS
@given(replies=st.lists(trees(extras=True), min_size=1, max_size=4), data=st.data())
def test_random_replies_with_extras(name, replies, data):
    wire = b"".join(serialize(r) for r in replies)
    pieces = data.draw(chunked(wire))
    results, reader = feed_all(OUR_READERS[name], pieces)
    check([outcome(r) for r in replies], results)
    assert reader.len() == 0


@pytest.mark.parametrize("name", sorted(ALL_READERS))
@SETTINGS
@given(replies=st.lists(trees(), min_size=1, max_size=4), data=st.data())
def test_random_replies_decoded(name, replies, data):
    # A reply with an undecodable string raises UnicodeDecodeError once it is complete, and
    # the reader goes on with the next reply (hiredis does the same); PyReader keeps such a
    # string as bytes, as aioredis 1.x's did.
    wire = b"".join(serialize(r) for r in replies)
    pieces = data.draw(chunked(wire))
    results, _ = feed_all(ALL_READERS[name], pieces, encoding="utf-8")
    check([outcome(r, "utf-8", keep=name == "python") for r in replies], results)


TOKENS = [
    b"*", b"$", b":", b"+", b"-", b"%", b"~", b">", b"|", b"=", b"!", b"(", b",", b"#", b"_",
    b"\r\n", b"\r", b"\n", b"0", b"1", b"2", b"-1", b"-2", b"3", b"10", b"abc", b"txt:",
    b"t", b"f", b"inf", b"nan", b"1.5", b"e", b"9" * 20, b"\x00", b"\xff", b" ",
]
resp_like_garbage = st.lists(st.sampled_from(TOKENS), max_size=40).map(b"".join)
garbage = st.one_of(st.binary(max_size=120), resp_like_garbage)


@CHEAP_SETTINGS
@given(data=garbage, pieces=st.data())
def test_garbage_never_crashes_and_readers_agree(data, pieces):
    chunks = pieces.draw(chunked(data))
    outcomes = []
    for cls in OUR_READERS.values():
        whole, _ = feed_all(cls, [data])
        split, _ = feed_all(cls, chunks)
        # Splitting the input never changes what comes out of it.
        check(whole, split)
        outcomes.append(whole)
    check(outcomes[0], outcomes[1])


@SETTINGS
@given(replies=st.lists(trees(extras=True), min_size=1, max_size=3), data=st.data())
def test_corrupted_replies(replies, data):
    # Valid replies with a byte changed, inserted or dropped: the Cython and Python readers
    # return the same values and fail at the same point.
    wire = bytearray(b"".join(serialize(r) for r in replies))
    pos = data.draw(st.integers(0, len(wire) - 1))
    action = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    byte = data.draw(st.sampled_from(list(b"\r\n*$:+-%~|>=!(,#_0123456789x\x00")))
    if action == "replace":
        wire[pos] = byte
    elif action == "insert":
        wire.insert(pos, byte)
    elif action == "delete":
        del wire[pos]
    else:
        del wire[pos:]
    wire = bytes(wire)
    chunks = data.draw(chunked(wire))
    results = [feed_all(cls, chunks)[0] for cls in OUR_READERS.values()]
    check(results[0], results[1])
