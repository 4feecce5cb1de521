"""The reader contract, checked on the Cython Reader, PyReader and (where it agrees) hiredis.Reader.

Cases where hiredis 3.5 genuinely behaves differently run for our readers only, or check
hiredis' own behaviour in a hiredis-only branch; each says what hiredis does.
"""
import array
import gc
import sys
import time
import tracemalloc

import pytest

from aioredis_cy import parser
from aioredis_cy._resp import Reader
from aioredis_cy.errors import AuthError, ProtocolError, ReplyError
from aioredis_cy.parser import MAX_DEPTH, PushFrame, PyReader, reader_class

from .reader_cases import (
    ALL_READERS,
    MALFORMED,
    OUR_READERS,
    OURS_ONLY_MALFORMED,
    OURS_ONLY_SAMPLES,
    SAMPLES,
    Err,
    decoded,
    hiredis,
    same,
)

NED = object()  # a notEnoughData marker that no reply can equal


@pytest.fixture(params=sorted(ALL_READERS))
def reader_cls(request):
    return ALL_READERS[request.param]


@pytest.fixture(params=sorted(OUR_READERS))
def our_cls(request):
    return OUR_READERS[request.param]


def is_hiredis(cls):
    return hiredis is not None and cls is hiredis.Reader


def make(cls, **kwargs):
    kwargs.setdefault("notEnoughData", NED)
    return cls(protocolError=ProtocolError, replyError=ReplyError, **kwargs)


def drain(reader):
    """Every complete reply buffered in ``reader``."""
    out = []
    while True:
        reply = reader.gets()
        if reply is NED:
            return out
        out.append(reply)


def assert_same(expected, actual):
    assert same(expected, actual), f"expected {expected!r}, got {actual!r}"


# ---------------------------------------------------------------------------- every reply type


@pytest.mark.parametrize("wire,expected", SAMPLES, ids=[repr(w)[:40] for w, _ in SAMPLES])
def test_sample(reader_cls, wire, expected):
    reader = make(reader_cls)
    reader.feed(wire)
    assert_same(expected, reader.gets())
    assert reader.gets() is NED
    assert not reader.has_data()


@pytest.mark.parametrize("wire,expected", OURS_ONLY_SAMPLES, ids=[repr(w)[:40] for w, _ in OURS_ONLY_SAMPLES])
def test_sample_ours(our_cls, wire, expected):
    reader = make(our_cls)
    reader.feed(wire)
    assert_same(expected, reader.gets())
    assert reader.gets() is NED


@pytest.mark.skipif(hiredis is None, reason="hiredis not installed")
def test_hiredis_differences_documented():
    """What hiredis does on the OURS_ONLY samples (so we notice if it changes)."""
    def run(wire):
        reader = make(hiredis.Reader)
        reader.feed(wire)
        try:
            return drain(reader)
        except Exception as exc:
            return type(exc)

    assert run(b"(-12\r\n") == [b"-12"]  # big numbers stay bytes
    assert run(b"!3\r\nERR\r\n") is ProtocolError  # no blob errors
    assert run(b"|1\r\n+a\r\n+b\r\n:5\r\n") == [[b"a", b"b"], 5]  # attribute returned as a reply
    assert run(b"%1\r\n*1\r\n:1\r\n:2\r\n") is TypeError  # unhashable key
    assert run(b"%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+a\r\n:3\r\n") == [{b"a": None, b"b": 3}]  # a bug
    assert type(run(b">1\r\n:1\r\n")[0]).__name__ == "PushNotification"  # a list subclass; ours: PushFrame


def test_push_is_a_push_frame(our_cls):
    # As hiredis' PushNotification: a list subclass that tells a push from an array reply.
    reader = make(our_cls)
    reader.feed(b">2\r\n+a\r\n:1\r\n*2\r\n+a\r\n:1\r\n")
    push = reader.gets()
    assert type(push) is PushFrame and push == [b"a", 1]
    assert type(reader.gets()) is list


def test_all_samples_in_one_buffer(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"".join(wire for wire, _ in SAMPLES))
    replies = drain(reader)
    assert len(replies) == len(SAMPLES)
    for (_, expected), actual in zip(SAMPLES, replies):
        assert_same(expected, actual)


def test_split_at_every_byte(reader_cls):
    samples = SAMPLES + (OURS_ONLY_SAMPLES if reader_cls in OUR_READERS.values() else [])
    for wire, expected in samples:
        for cut in range(1, len(wire)):
            reader = make(reader_cls)
            reader.feed(wire[:cut])
            assert reader.gets() is NED, (wire, cut)
            reader.feed(wire[cut:])
            assert_same(expected, reader.gets())
            assert reader.gets() is NED


def test_byte_by_byte(reader_cls):
    samples = SAMPLES + (OURS_ONLY_SAMPLES if reader_cls in OUR_READERS.values() else [])
    stream = b"".join(wire for wire, _ in samples)
    reader = make(reader_cls)
    replies = []
    for i in range(len(stream)):
        reader.feed(stream[i : i + 1])
        replies.extend(drain(reader))
    assert len(replies) == len(samples)
    for (_, expected), actual in zip(samples, replies):
        assert_same(expected, actual)


def test_three_way_splits_of_a_nested_reply(reader_cls):
    wire = b"*3\r\n%1\r\n$3\r\nkey\r\n*2\r\n:1\r\n,2.5\r\n~1\r\n#f\r\n$5\r\nhello\r\n"
    expected = [{b"key": [1, 2.5]}, [False], b"hello"]
    for a in range(1, len(wire)):
        for b in range(a, len(wire), 3):
            reader = make(reader_cls)
            for piece in (wire[:a], wire[a:b], wire[b:]):
                reader.feed(piece)
                reply = reader.gets()
            assert_same(expected, reply)


def test_integers_full_range(reader_cls):
    values = [0, 1, -1, 2**31, -(2**31) - 1, 2**32, 2**62, 2**63 - 1, -(2**63), 10**18, -(10**18)]
    reader = make(reader_cls)
    reader.feed(b"".join(b":%d\r\n" % v for v in values))
    assert drain(reader) == values


def test_binary_safe_bulk(reader_cls):
    payload = bytes(range(256)) * 4 + b"\r\n\r\n$5\r\n"
    reader = make(reader_cls)
    reader.feed(b"$%d\r\n%s\r\n" % (len(payload), payload))
    assert reader.gets() == payload


def test_doubles(reader_cls):
    reader = make(reader_cls)
    reader.feed(b",1.\r\n,.5\r\n,-.5\r\n,0001\r\n,1E5\r\n,1e-5\r\n,-INF\r\n,NaN\r\n,-nan\r\n")
    out = drain(reader)
    assert out[:6] == [1.0, 0.5, -0.5, 1.0, 1e5, 1e-5]
    assert out[6] == float("-inf")
    assert all(x != x for x in out[7:])
    assert all(type(x) is float for x in out)


def test_bool_is_bool(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"#t\r\n#f\r\n#T\r\n#F\r\n")
    assert [(type(x), x) for x in drain(reader)] == [(bool, True), (bool, False)] * 2


def test_map_duplicate_keys_last_wins(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"%2\r\n+a\r\n:1\r\n+a\r\n:2\r\n")
    assert reader.gets() == {b"a": 2}


def test_set_is_a_list(reader_cls):
    # hiredis 3.5 returns RESP3 sets as lists; so do we (members may be unhashable)
    reader = make(reader_cls)
    reader.feed(b"~2\r\n*1\r\n:1\r\n%1\r\n+a\r\n+b\r\n")
    assert reader.gets() == [[1], {b"a": b"b"}]


def test_attribute_inside_map_value(our_cls):
    reader = make(our_cls)
    reader.feed(b"%1\r\n+k\r\n|1\r\n+meta\r\n*1\r\n:1\r\n+v\r\n+next\r\n")
    assert drain(reader) == [{b"k": b"v"}, b"next"]


def test_attribute_split_then_value_later(our_cls):
    reader = make(our_cls)
    reader.feed(b"|1\r\n+ttl\r\n:3\r\n")
    assert reader.gets() is NED
    reader.feed(b":42\r\n")
    assert reader.gets() == 42


# ---------------------------------------------------------------------------- error replies


def test_error_replies_are_returned_not_raised(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"-ERR bad\r\n*2\r\n-NOAUTH x\r\n:1\r\n")
    first = reader.gets()
    assert type(first) is ReplyError and first.args == ("ERR bad",)
    second = reader.gets()
    assert type(second[0]) is AuthError and second[1] == 1


def test_error_message_is_utf8_with_replacement(reader_cls):
    # hiredis decodes error messages as UTF-8 with 'replace', whatever the encoding
    for kwargs in ({}, {"encoding": "latin-1"}, {"encoding": "utf-8"}):
        reader = make(reader_cls, **kwargs)
        reader.feed(b"-ERR caf\xc3\xa9 \xff\r\n")
        assert reader.gets().args == ("ERR caf\u00e9 \ufffd",)


def test_custom_reply_error_callable(reader_cls):
    reader = reader_cls(replyError=lambda message: ("E", message), notEnoughData=NED)
    reader.feed(b"-ERR x\r\n*1\r\n-WRONGTYPE y\r\n")
    assert drain(reader) == [("E", "ERR x"), [("E", "WRONGTYPE y")]]


def test_failing_reply_error_is_raised_after_the_reply(our_cls):
    def boom(message):
        raise KeyError(message)

    reader = our_cls(replyError=boom, notEnoughData=NED)
    reader.feed(b"*2\r\n-ERR x\r\n:1\r\n:2\r\n")
    with pytest.raises(KeyError):
        reader.gets()
    assert reader.gets() == 2


def test_interrupted_parse_fails_the_reader(our_cls):
    # A BaseException from a callback stops the parse halfway: the reader cannot resync,
    # so it turns failed (like after a protocol error) instead of returning wrong values.
    def interrupt(message):
        raise KeyboardInterrupt

    reader = our_cls(replyError=interrupt, notEnoughData=NED)
    reader.feed(b"*2\r\n-ERR x\r\n:1\r\n:2\r\n")
    with pytest.raises(KeyboardInterrupt):
        reader.gets()
    with pytest.raises(ProtocolError, match="state lost"):
        reader.gets()


def test_default_error_classes(reader_cls):
    if is_hiredis(reader_cls):
        pytest.skip("hiredis' defaults are hiredis.ProtocolError/ReplyError")
    reader = reader_cls()
    reader.feed(b"-ERR x\r\n")
    assert type(reader.gets()) is ReplyError
    assert reader.gets() is False
    reader.feed(b"?")
    with pytest.raises(ProtocolError):
        reader.gets()


def test_constructor_checks(reader_cls):
    with pytest.raises(TypeError):
        reader_cls(protocolError=1)
    with pytest.raises(TypeError):
        reader_cls(replyError="x")
    if reader_cls is not PyReader:  # (PyReader raises it from gets(), as aioredis 1.x's)
        with pytest.raises(LookupError):
            reader_cls(encoding="no-such-codec")
    with pytest.raises(LookupError):
        reader_cls(encoding="utf-8", errors="no-such-handler")
    with pytest.raises(TypeError):
        reader_cls(encoding=b"utf-8")
    reader = reader_cls(ProtocolError, ReplyError, "utf-8")  # positional, like hiredis and aioredis
    reader.feed(b"+ok\r\n")
    assert reader.gets() == "ok"


# ---------------------------------------------------------------------------- protocol errors


@pytest.mark.parametrize("wire", MALFORMED, ids=[repr(w)[:40] for w in MALFORMED])
def test_malformed(reader_cls, wire):
    reader = make(reader_cls)
    reader.feed(wire)
    with pytest.raises(ProtocolError):
        reader.gets()


@pytest.mark.parametrize("wire", MALFORMED + OURS_ONLY_MALFORMED, ids=repr)
def test_malformed_ours(our_cls, wire):
    # Fed in one piece, then byte by byte: a protocol error by the last byte, never a value.
    reader = make(our_cls)
    reader.feed(wire)
    with pytest.raises(ProtocolError):
        reader.gets()
    reader = make(our_cls)
    with pytest.raises(ProtocolError):
        for i in range(len(wire)):
            reader.feed(wire[i : i + 1])
            assert reader.gets() is NED
    # the reader stays failed and refuses to produce values from later input
    reader.feed(b"+OK\r\n")
    with pytest.raises(ProtocolError):
        reader.gets()


@pytest.mark.skipif(hiredis is None, reason="hiredis not installed")
def test_hiredis_accepts_what_we_reject():
    reader = make(hiredis.Reader)
    reader.feed(b"$3\r\nabcXX")
    assert reader.gets() == b"abc"  # no check of the CRLF after a bulk payload
    reader = make(hiredis.Reader)
    reader.feed(b":1\n")
    assert reader.gets() is NED  # waits for a CRLF that never comes


def test_protocol_error_message_and_class(reader_cls):
    class MyProtocolError(Exception):
        pass

    reader = reader_cls(protocolError=MyProtocolError, notEnoughData=NED)
    reader.feed(b"*1\r\n?\r\n")
    with pytest.raises(MyProtocolError, match='got "\\?" as reply type byte'):
        reader.gets()


def test_protocol_error_persists(reader_cls):
    reader = make(reader_cls)
    reader.feed(b":1\r\n:x\r\n:3\r\n")
    assert reader.gets() == 1
    for _ in range(3):
        with pytest.raises(ProtocolError):
            reader.gets()


def test_bad_type_byte_detected_without_a_line_end(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"@")
    with pytest.raises(ProtocolError):
        reader.gets()


def test_lengths_out_of_range(our_cls):
    for wire in (b"$536870913\r\n", b"=536870913\r\n", b"!536870913\r\n", b"*4294967296\r\n",
                 b"%4294967296\r\n", b"~4294967296\r\n", b">4294967296\r\n", b"|4294967296\r\n"):
        reader = make(our_cls)
        reader.feed(wire)
        with pytest.raises(ProtocolError):
            reader.gets()
    reader = make(our_cls)
    reader.feed(b"$536870912\r\n")  # the largest bulk Redis sends by default: wait for it
    assert reader.gets() is NED
    reader = make(our_cls)
    reader.feed(b"*4294967295\r\n")  # huge but legal: nothing is preallocated for it
    assert reader.gets() is NED


# ---------------------------------------------------------------------------- feed()


def test_feed_buffer_types(reader_cls):
    reader = make(reader_cls)
    reader.feed(bytearray(b"+a\r\n"))
    reader.feed(memoryview(b"xx+b\r\nyy")[2:6])
    reader.feed(array.array("B", b"+c\r\n"))
    reader.feed(b"..+d\r\n", 2)
    reader.feed(b"..+e\r\n..", 2, 4)
    reader.feed(b"+f\r\n", 0, -1)
    reader.feed(b"+zzz", 4)  # empty
    reader.feed(b"", 0, 0)
    assert drain(reader) == [b"a", b"b", b"c", b"d", b"e", b"f"]


def test_feed_multibyte_items(reader_cls):
    items = array.array("H")
    items.frombytes(b"+a\r\n")  # itemsize 2: fed as its raw bytes
    reader = make(reader_cls)
    reader.feed(items)
    assert reader.len() == 4
    assert reader.gets() == b"a"


def test_feed_errors(reader_cls):
    reader = make(reader_cls)
    for bad in (1, None, 1.5, ["+OK\r\n"]):
        with pytest.raises(TypeError):
            reader.feed(bad)
    with pytest.raises(ValueError):
        reader.feed(b"abc", -1)
    with pytest.raises(ValueError):
        reader.feed(b"abc", 4)
    with pytest.raises(ValueError):
        reader.feed(b"abc", 1, 3)
    with pytest.raises(ValueError):
        reader.feed(b"abc", 0, -2)
    if not is_hiredis(reader_cls):
        # hiredis checks offset + length after it overflowed: it lets these through (and then
        # fails to allocate); ours reject them
        with pytest.raises(ValueError):
            reader.feed(b"abc", 2**62, 2**62)
        with pytest.raises((ValueError, OverflowError)):
            reader.feed(b"abc", 1, 2**63 - 1)
    assert reader.len() == 0
    reader.feed(b"+ok\r\n")
    assert reader.gets() == b"ok"


def test_feed_str(reader_cls):
    reader = make(reader_cls)
    if is_hiredis(reader_cls):
        reader.feed("+ok\r\n")  # hiredis encodes str as UTF-8; we refuse it
        assert reader.gets() == b"ok"
    else:
        with pytest.raises(TypeError):
            reader.feed("+ok\r\n")


def test_feed_does_not_keep_a_reference(reader_cls):
    data = bytearray(b"$5\r\nhel")
    reader = make(reader_cls)
    reader.feed(data)
    data[:] = b"XXXXXXXX"  # the reader copied what it needs
    reader.feed(b"lo\r\n")
    assert reader.gets() == b"hello"


# ---------------------------------------------------------------------------- decoding


def test_encoding_applies_to_strings_only(reader_cls):
    samples = SAMPLES + (OURS_ONLY_SAMPLES if reader_cls in OUR_READERS.values() else [])
    reader = make(reader_cls, encoding="utf-8")
    reader.feed(b"".join(wire for wire, _ in samples))
    replies = drain(reader)
    assert len(replies) == len(samples)
    for (wire, expected), actual in zip(samples, replies):
        assert same(decoded(expected), actual), (wire, actual)


def test_encoding_names_and_handlers(reader_cls):
    reader = make(reader_cls, encoding="latin-1")
    reader.feed(b"$2\r\n\xe9\xff\r\n+\xe9\r\n=6\r\ntxt:\xe9\xe8\r\n")
    assert drain(reader) == ["\xe9\xff", "\xe9", "\xe9\xe8"]
    reader = make(reader_cls, encoding="utf-8", errors="replace")
    reader.feed(b"$2\r\na\xff\r\n")
    assert reader.gets() == "a\ufffd"
    reader = make(reader_cls, encoding="utf-8", errors="surrogateescape")
    reader.feed(b"$1\r\n\xff\r\n")
    assert reader.gets() == "\udcff"
    reader = make(reader_cls, encoding="utf-16-le")
    reader.feed(b"$4\r\na\x00b\x00\r\n")
    assert reader.gets() == "ab"
    reader = make(reader_cls, encoding="UTF8")
    reader.feed(b"$2\r\n\xc3\xa9\r\n")
    assert reader.gets() == "\xe9"


@pytest.fixture(params=sorted(name for name in ALL_READERS if name != "python"))
def raising_cls(request):
    """The readers that raise UnicodeDecodeError for a string that does not decode."""
    return ALL_READERS[request.param]


def test_decode_failure_consumes_the_whole_reply(raising_cls):
    # hiredis behaves the same: the first decode error is raised once the reply is complete,
    # and the reader goes on with the next reply.
    reader = make(raising_cls, encoding="utf-8")
    reader.feed(b"*3\r\n$1\r\n\xff\r\n*1\r\n+\xfe\r\n:2\r\n:1\r\n$1\r\n\xff\r\n+ok\r\n")
    with pytest.raises(UnicodeDecodeError) as info:
        reader.gets()
    assert info.value.object == b"\xff"
    assert reader.gets() == 1
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    assert reader.gets() == "ok"
    assert reader.gets() is NED


def test_decode_failure_split(raising_cls):
    first = b"*2\r\n=5\r\ntxt:\xff\r\n$3\r\nabc\r\n"
    wire = first + b":7\r\n"
    for cut in range(1, len(first)):
        reader = make(raising_cls, encoding="utf-8")
        reader.feed(wire[:cut])
        try:
            assert reader.gets() is NED
        except UnicodeDecodeError:
            pytest.fail("raised before the reply was complete")
        reader.feed(wire[cut:])
        with pytest.raises(UnicodeDecodeError):
            reader.gets()
        assert reader.gets() == 7


def test_set_encoding(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"+a\r\n+b\r\n+c\r\n+d\r\n")
    assert reader.gets() == b"a"
    reader.set_encoding("utf-8")
    assert reader.gets() == "b"
    reader.set_encoding(encoding="latin-1", errors="strict")
    assert reader.gets() == "c"
    reader.set_encoding()
    assert reader.gets() == b"d"
    with pytest.raises(LookupError):
        reader.set_encoding("no-such-codec")
    with pytest.raises(LookupError):
        reader.set_encoding("utf-8", "no-such-handler")
    with pytest.raises(TypeError):
        reader.set_encoding(1)


def test_encoding_is_kept_for_a_half_parsed_reply(our_cls):
    # Ours: a reply is decoded as requested when it started. hiredis decodes each string with
    # the encoding in force when that string completes (b'abc' in this test).
    reader = make(our_cls, encoding="utf-8")
    reader.feed(b"*2\r\n+x\r\n$3\r\nab")
    assert reader.gets() is NED
    reader.set_encoding(None)
    reader.feed(b"c\r\n+next\r\n")
    assert reader.gets() == ["x", "abc"]
    assert reader.gets() == b"next"


def test_gets_without_decoding(reader_cls):
    reader = make(reader_cls, encoding="utf-8")
    reader.feed(b"*2\r\n$3\r\nabc\r\n+x\r\n+y\r\n")
    assert reader.gets(False) == [b"abc", b"x"]
    assert reader.gets() == "y"


def test_big_numbers_ignore_encoding(our_cls):
    reader = make(our_cls, encoding="utf-8")
    reader.feed(b"(123456789012345678901234567890\r\n")
    assert reader.gets() == 123456789012345678901234567890  # hiredis: '1234...' (str)


# ---------------------------------------------------------------------------- buffer management


def test_maxbuf(reader_cls):
    reader = make(reader_cls)
    assert reader.getmaxbuf() == 16384
    reader.setmaxbuf(0)
    assert reader.getmaxbuf() == 0
    reader.setmaxbuf(1 << 20)
    assert reader.getmaxbuf() == 1 << 20
    reader.setmaxbuf(None)
    assert reader.getmaxbuf() == 16384
    with pytest.raises(ValueError):
        reader.setmaxbuf(-1)
    with pytest.raises(TypeError):
        reader.setmaxbuf(1.5)
    with pytest.raises(TypeError):
        reader.setmaxbuf("1")
    with pytest.raises(OverflowError):
        reader.setmaxbuf(2**70)


def test_len_and_has_data(reader_cls):
    reader = make(reader_cls)
    assert reader.len() == 0 and not reader.has_data()
    reader.feed(b"$5\r\nhel")
    assert reader.len() == 7 and reader.has_data()
    assert reader.gets() is NED
    reader.feed(b"lo\r\n:1\r\n")
    assert reader.gets() == b"hello"
    assert reader.has_data()
    assert reader.gets() == 1
    assert not reader.has_data()
    if is_hiredis(reader_cls):
        assert reader.len() == 15  # hiredis counts consumed bytes until it compacts (1 KB)
    else:
        assert reader.len() == 0  # ours: unconsumed bytes only


def test_len_counts_unconsumed(our_cls):
    reader = make(our_cls)
    reader.feed(b":1\r\n:2\r\n:3")
    assert reader.gets() == 1
    assert reader.len() == 6
    assert reader.gets() == 2
    assert reader.len() == 2


def test_not_enough_data_value(reader_cls):
    assert reader_cls().gets() is False
    assert reader_cls(notEnoughData=None).gets() is None
    marker = object()
    reader = reader_cls(notEnoughData=marker)
    reader.feed(b"*2\r\n:1\r\n")
    assert reader.gets() is marker
    reader.feed(b"#f\r\n")
    assert reader.gets() == [1, False]
    assert reader.gets() is marker


def test_large_bulk_in_small_chunks(reader_cls):
    size = 16 * 1024 * 1024
    payload = (b"0123456789abcdef" * (size // 16))[:size]
    wire = b"$%d\r\n%s\r\n+after\r\n" % (size, payload)
    reader = make(reader_cls)
    chunk = 64 * 1024
    replies = []
    for offset in range(0, len(wire), chunk):
        reader.feed(wire, offset, min(chunk, len(wire) - offset))
        replies.extend(drain(reader))
    assert len(replies) == 2 and replies[1] == b"after"
    assert replies[0] == payload


def test_large_bulk_decoded_in_chunks(reader_cls):
    text = "\u00e9t\u00e9 " * 100_000
    raw = text.encode()
    wire = b"$%d\r\n%s\r\n" % (len(raw), raw)
    reader = make(reader_cls, encoding="utf-8")
    for offset in range(0, len(wire), 4096):
        reader.feed(wire[offset : offset + 4096])
        if offset + 4096 < len(wire):
            assert reader.gets() is NED
    assert reader.gets() == text


def test_large_bulk_bad_terminator(our_cls):
    wire = b"$100000\r\n" + b"x" * 100_000 + b"\n\r"
    reader = make(our_cls)
    for offset in range(0, len(wire), 3000):
        reader.feed(wire[offset : offset + 3000])
        if offset + 3000 < len(wire):
            assert reader.gets() is NED
    with pytest.raises(ProtocolError):
        reader.gets()


def test_big_array_in_small_chunks_is_linear(reader_cls):
    # 200k elements in 1 KB chunks: re-parsing from the start on every feed would take minutes.
    count = 200_000
    wire = b"*%d\r\n" % count + b"".join(b":%d\r\n" % i for i in range(count))
    reader = make(reader_cls)
    started = time.perf_counter()
    for offset in range(0, len(wire), 1024):
        reader.feed(wire[offset : offset + 1024])
        reply = reader.gets()
    assert time.perf_counter() - started < 20
    assert reply == list(range(count))


def test_long_simple_string_in_chunks(reader_cls):
    line = b"x" * 2_000_000
    reader = make(reader_cls)
    wire = b"+" + line + b"\r\n"
    for offset in range(0, len(wire), 1000):
        reader.feed(wire[offset : offset + 1000])
        reply = reader.gets()
    assert reply == line


@pytest.mark.parametrize("name", sorted(OUR_READERS))
def test_memory_released(name):
    # Input memory is released once consumed (hiredis uses malloc, which tracemalloc does not see).
    reader = make(OUR_READERS[name])
    size = 8 * 1024 * 1024
    chunk = 256 * 1024
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            wire = b"*3\r\n$%d\r\n%s\r\n+x\r\n" % (size, b"a" * size)
            for offset in range(0, len(wire), chunk):
                reader.feed(wire[offset : offset + chunk])
            del wire
            assert reader.gets() is NED  # the array waits for its third element
            reader.feed(b":1\r\n")
            reply = reader.gets()
            assert len(reply[0]) == size and reply[1:] == [b"x", 1]
            del reply
            reader.feed(b"$1000\r\n%s\r\n" % (b"z" * 1000) * 1200)  # 1.2 MB of smaller replies
            assert len(drain(reader)) == 1200
            assert reader.len() == 0
        reader.feed(b"+small\r\n")
        assert reader.gets() == b"small"
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - base < 2 * 1024 * 1024
    finally:
        tracemalloc.stop()


def test_deep_nesting(reader_cls):
    depth = 100_000
    wire = b"*1\r\n" * depth + b":1\r\n"
    reader = make(reader_cls)
    reader.feed(wire)
    with pytest.raises(ProtocolError, match="nesting"):  # everyone stops at a fixed depth
        reader.gets()


def test_nesting_up_to_the_limit(our_cls):
    depth = MAX_DEPTH
    wire = b"*1\r\n" * depth + b":1\r\n"
    reader = make(our_cls)
    # in two halves, so the partial stack is kept across feeds
    reader.feed(wire[: len(wire) // 2])
    assert reader.gets() is NED
    reader.feed(wire[len(wire) // 2 :])
    reply = reader.gets()
    for _ in range(depth):
        assert type(reply) is list and len(reply) == 1
        reply = reply[0]
    assert reply == 1


def test_deep_nesting_abandoned(our_cls):
    reader = make(our_cls)
    reader.feed(b"%1\r\n*1\r\n" * (MAX_DEPTH // 2 - 1) + b"%1\r\n")
    assert reader.gets() is NED
    del reader  # frees the half-built aggregates without recursion
    gc.collect()


def test_partial_list_invisible_to_gc():
    # A preallocated list being filled has empty slots; it must not be reachable through the GC.
    reader = make(Reader)
    reader.feed(b"*3\r\n:1\r\n*2\r\n:2\r\n")
    assert reader.gets() is NED
    for obj in gc.get_objects():
        if type(obj) is list:
            list(obj)  # would crash on an exposed half-filled list
    reader.feed(b":3\r\n:4\r\n")
    reply = reader.gets()
    assert reply == [1, [2, 3], 4]
    assert gc.is_tracked(reply) and gc.is_tracked(reply[1])


def test_reentrant_calls_from_callbacks_do_not_crash():
    reader = None

    def reply_error(message):
        reader.feed(b"+more\r\n" * 1000)  # would move the buffer under the parser
        return ReplyError(message)

    reader = Reader(replyError=reply_error, notEnoughData=NED)
    reader.feed(b"*2\r\n-ERR x\r\n+ok\r\n")
    with pytest.raises(RuntimeError):
        reader.gets()
    assert reader.gets() is NED


def test_refcounts_stable():
    reader = make(Reader, encoding="utf-8")
    wire = b"*3\r\n%1\r\n+k\r\n*1\r\n:1\r\n$3\r\nabc\r\n-ERR x\r\n" * 100
    reader.feed(wire)
    drain(reader)
    before = sys.gettotalrefcount() if hasattr(sys, "gettotalrefcount") else None
    for _ in range(100):
        reader.feed(wire)
        drain(reader)
    if before is not None:  # debug builds only
        assert abs(sys.gettotalrefcount() - before) < 100


# ---------------------------------------------------------------------------- parser choice


def test_reader_class():
    assert reader_class("cython") is Reader
    assert reader_class("python") is PyReader
    assert parser.DEFAULT_PARSER in parser.PARSERS
    assert reader_class() is reader_class(parser.DEFAULT_PARSER)
    with pytest.raises(ValueError):
        reader_class("nope")
    if hiredis is not None:
        assert reader_class("hiredis") is hiredis.Reader


def test_reader_class_without_hiredis(monkeypatch):
    monkeypatch.setitem(sys.modules, "hiredis", None)
    with pytest.raises(ImportError, match="hiredis"):
        reader_class("hiredis")


def test_reader_attribute_is_lazy():
    # 1.x's name for the default reader class, looked up on use (importing the module
    # never needs hiredis).
    assert "Reader" not in vars(parser)
    assert parser.Reader is reader_class()


def test_error_class_lookup_on_reply(reader_cls):
    reader = make(reader_cls)
    reader.feed(b"-WRONGPASS invalid username-password pair\r\n")
    assert_same(Err(AuthError, "WRONGPASS invalid username-password pair"), reader.gets())
