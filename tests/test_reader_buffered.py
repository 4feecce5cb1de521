"""The Cython reader fed the asyncio.BufferedProtocol way: get_buffer() then buffer_updated().

The protocol reads the socket straight into the view get_buffer() returns. For a big bulk
string that view is the final bytes (or ASCII str) object itself, so these tests push big
values, non-ASCII text at every interesting place and random read sizes through it, and
check the stream stays in step with what follows.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioredis_cy._resp import Reader
from aioredis_cy.errors import ProtocolError, ReplyError

from .test_reader_fuzz import NED, SETTINGS, DecodeFails, check, chunked, drain, outcome, serialize, trees

FILL_MIN = 64 * 1024   # from this size on, an unbuffered $ payload is filled in place


def read_all(pieces, *, max_read=None, **kwargs):
    """Feed ``pieces`` through get_buffer/buffer_updated (at most ``max_read`` bytes a read),
    reading replies after each read; outcomes as in test_reader_fuzz.drain."""
    reader = Reader(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED, **kwargs)
    results = []
    for piece in pieces:
        while piece:
            view = reader.get_buffer()
            assert len(view) > 0 and not view.readonly
            n = min(len(view), len(piece), max_read or len(piece))
            view[:n] = piece[:n]
            reader.buffer_updated(n)
            piece = piece[n:]
            if not drain(reader, results):
                return results, reader
    return results, reader


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


@SETTINGS
@given(replies=st.lists(trees(extras=True), min_size=1, max_size=4), data=st.data())
def test_random_replies_read_in_place(replies, data):
    wire = b"".join(serialize(r) for r in replies)
    results, reader = read_all(data.draw(chunked(wire)))
    check([outcome(r) for r in replies], results)
    assert reader.len() == 0


@SETTINGS
@given(replies=st.lists(trees(), min_size=1, max_size=4), data=st.data())
def test_random_replies_decoded_read_in_place(replies, data):
    wire = b"".join(serialize(r) for r in replies)
    results, _ = read_all(data.draw(chunked(wire)), encoding="utf-8")
    check([outcome(r, "utf-8") for r in replies], results)


BIG_SIZES = [FILL_MIN - 1, FILL_MIN, FILL_MIN + 7, 300_001, 1 << 20]


def big_value(size: int, odd_at) -> bytes:
    """ASCII of ``size`` bytes, with one two-byte UTF-8 character at ``odd_at`` (a fraction
    of the size), or an undecodable byte when ``odd_at`` is "bad", or none."""
    value = bytearray((b"0123456789abcdef" * (size // 16 + 1))[:size])
    if odd_at == "bad":
        value[size // 3] = 0xFF
    elif odd_at is not None:
        at = min(int(size * odd_at), size - 2)
        value[at:at + 2] = "\u00e9".encode()
    return bytes(value)


@pytest.mark.parametrize("size", BIG_SIZES)
@pytest.mark.parametrize("odd_at", [None, 0.0, 0.5, 1.0, "bad"])
@pytest.mark.parametrize("encoding", [None, "utf-8", "latin-1"])
@pytest.mark.parametrize("max_read", [None, 1000, 65536])
def test_big_bulk_strings_in_place(size, odd_at, encoding, max_read):
    value = big_value(size, odd_at)
    wire = b"*2\r\n" + bulk(b"head") + bulk(value) + bulk(value) + b":42\r\n"
    results, reader = read_all([wire[:3], wire[3:30], wire[30:]], max_read=max_read, encoding=encoding)
    if encoding is None:
        expected = [[b"head", value], value, 42]
    else:
        try:
            text = value.decode(encoding)
        except UnicodeDecodeError:
            expected = [DecodeFails(), DecodeFails(), 42]
        else:
            expected = [["head", text], text, 42]
    check(expected, results)
    if encoding is not None and not isinstance(expected[1], DecodeFails):
        assert type(results[1]) is str and results[1].isascii() == value.isascii()
    assert reader.len() == 0


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_read_and_feed_mix(encoding):
    # Either way of feeding may follow the other, in the middle of a big value too.
    value = big_value(200_000, 0.75)
    wire = bulk(value) * 3
    reader = Reader(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED, encoding=encoding)
    replies = []
    pos = 0
    for step, size in enumerate([10, 70_000, 5, 100_000, 33_333, 200_000, 1, 10**6]):
        chunk = wire[pos:pos + size]
        if step % 2:
            reader.feed(chunk)
        else:
            view = reader.get_buffer()
            chunk = chunk[:len(view)]
            view[:len(chunk)] = chunk
            reader.buffer_updated(len(chunk))
        pos += len(chunk)
        while (reply := reader.gets()) is not NED:
            replies.append(reply)
    expected = value if encoding is None else value.decode(encoding)
    assert pos == len(wire) and replies == [expected] * 3


def test_buffer_updated_rejects_more_than_the_view():
    reader = Reader(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED)
    view = reader.get_buffer()
    with pytest.raises(ValueError):
        reader.buffer_updated(len(view) + 1)
    reader.feed(b"$100000\r\n")
    assert reader.gets() is NED
    view = reader.get_buffer()
    assert len(view) == 100_000   # the bulk string itself
    with pytest.raises(ValueError):
        reader.buffer_updated(100_001)


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_big_bulk_string_with_a_bad_terminator_fails(encoding):
    value = big_value(100_000, None)
    wire = b"$%d\r\n%sXX:1\r\n" % (len(value), value)
    results, _ = read_all([wire], max_read=4096, encoding=encoding)
    assert results == ["protocol-error"]
