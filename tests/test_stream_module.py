"""aioredis_cy.stream: RESP over plain asyncio streams, as aioredis.stream offered."""
import pytest

from aioredis_cy.errors import ReplyError
from aioredis_cy.stream import StreamReader, open_connection, open_unix_connection


async def test_readobj_over_tcp(server, parser):
    reader, writer = await open_connection(*server.tcp_address, parser=parser)
    assert isinstance(reader, StreamReader)
    writer.write(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\n$6\r\nNOSUCH\r\n")
    assert await reader.readobj() == b"PONG"
    assert await reader.readobj() == b"hi"
    assert isinstance(await reader.readobj(), ReplyError)
    writer.close()
    await writer.wait_closed()


async def test_readobj_over_unix_socket_until_eof(server):
    reader, writer = await open_unix_connection(server.unix_socket)
    writer.write(b"*1\r\n$4\r\nQUIT\r\n")
    assert await reader.readobj() == b"OK"
    assert await reader.readobj() is None
    with pytest.raises(RuntimeError):
        await reader.readline()
    writer.close()
