"""TLS: ``ssl=`` contexts, ``ssl=True`` and ``rediss://`` URIs with certificate options.

A TLS-only redis-server with certificates made at test time (``tls_certs``): a good
certificate, a stranger CA, host name checking, and a server that requires client
certificates. Failures must be clear SSL errors within a bounded time, never hangs.
"""
import asyncio
import ssl

import pytest

import aioredis_cy
from aioredis_cy import ConnectionClosedError
from aioredis_cy.connection import _ssl_context
from aioredis_cy.util import parse_url


@pytest.fixture(scope="module")
def certs(tls_certs):
    return tls_certs


@pytest.fixture(scope="module")
def tls_server(start_server, tls_certs):
    return start_server("tls", "user app on >apppw ~app:* +@all", tls=tls_certs.server)


@pytest.fixture(scope="module")
def mtls_server(start_server, tls_certs):
    """A TLS server that requires client certificates."""
    return start_server("tls-client-certs", "tls-auth-clients yes", tls=tls_certs.server)


def uri(server, *query, host="127.0.0.1", userinfo=""):
    return f"rediss://{userinfo}{host}:{server.port}" + ("?" + "&".join(query) if query else "")


async def bounded(coro):
    return await asyncio.wait_for(coro, 10)


# -- working connections -------------------------------------------------------------------


async def test_ssl_context(create_connection, tls_server, certs):
    conn = await create_connection(tls_server.tcp_address, ssl=certs.context())
    assert await conn.execute("PING") == b"PONG"
    assert await conn.execute("SET", "tls:key", "value") == b"OK"
    assert await conn.execute("GET", "tls:key") == b"value"


async def test_uri_with_ca(create_connection, tls_server, certs):
    conn = await create_connection(uri(tls_server, f"ssl_ca_certs={certs.ca_file}", "db=2"))
    assert await conn.execute("PING") == b"PONG"
    assert conn.db == 2


async def test_uri_ssl_true_with_ca(create_connection, tls_server, certs):
    address = f"redis://127.0.0.1:{tls_server.port}?ssl=true&ssl_ca_certs={certs.ca_file}"
    conn = await create_connection(address)
    assert await conn.execute("PING") == b"PONG"


async def test_uri_without_certificate_checks(create_connection, tls_server):
    conn = await create_connection(uri(tls_server, "ssl_cert_reqs=none"))
    assert await conn.execute("PING") == b"PONG"


async def test_uri_with_acl_user(create_connection, tls_server, certs):
    conn = await create_connection(uri(tls_server, f"ssl_ca_certs={certs.ca_file}", userinfo="app:apppw@"))
    assert await conn.execute("ACL", "WHOAMI") == b"app"


async def test_pools_and_clients(create_pool, create_redis, create_redis_pool, tls_server, certs):
    address = uri(tls_server, f"ssl_ca_certs={certs.ca_file}")
    pool = await create_pool(address, minsize=2)
    assert pool.size == 2
    assert await pool.execute("PING") == b"PONG"

    redis = await create_redis(tls_server.tcp_address, ssl=certs.context())
    assert await redis.set("tls:redis", "1") is True
    pooled = await create_redis_pool(address, encoding="utf-8")
    assert await pooled.get("tls:redis") == "1"
    with_true = await create_redis_pool(address, ssl=True)   # ssl=True agrees with the URI's own options
    assert await with_true.ping() == b"PONG"


# -- certificate and host name checks --------------------------------------------------------


async def test_default_cas_reject_the_test_ca(tls_server):
    with pytest.raises(ssl.SSLCertVerificationError):
        await bounded(aioredis_cy.create_connection(tls_server.tcp_address, ssl=True))
    with pytest.raises(ssl.SSLCertVerificationError):
        await bounded(aioredis_cy.create_connection(uri(tls_server)))


async def test_wrong_ca(tls_server, certs):
    with pytest.raises(ssl.SSLCertVerificationError):
        await bounded(aioredis_cy.create_connection(
            tls_server.tcp_address, ssl=certs.context(ca_file=certs.other_ca_file)))
    with pytest.raises(ssl.SSLCertVerificationError):
        await bounded(aioredis_cy.create_pool(uri(tls_server, f"ssl_ca_certs={certs.other_ca_file}")))
    with pytest.raises(ssl.SSLCertVerificationError):
        await bounded(aioredis_cy.create_redis(uri(tls_server, f"ssl_ca_certs={certs.other_ca_file}")))


async def test_host_name_check(create_connection, tls_server, certs):
    # The certificate names 127.0.0.1 only.
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        await bounded(aioredis_cy.create_connection(uri(tls_server, f"ssl_ca_certs={certs.ca_file}",
                                                        host="localhost")))
    conn = await create_connection(uri(tls_server, f"ssl_ca_certs={certs.ca_file}",
                                       "ssl_check_hostname=false", host="localhost"))
    assert await conn.execute("PING") == b"PONG"


async def test_plain_client_on_tls_port(tls_server):
    with pytest.raises(ConnectionClosedError):
        conn = await aioredis_cy.create_connection(tls_server.tcp_address, timeout=2)
        try:
            await asyncio.wait_for(conn.execute("PING"), 2)
        finally:
            conn.close()


# -- client certificates ---------------------------------------------------------------------------


async def test_client_certificate_required(mtls_server, certs):
    with pytest.raises((ssl.SSLError, ConnectionClosedError), match="alert|reset by peer|closed by server"):
        # With TLS 1.3 the server may only refuse after the handshake, on the first command;
        # its alert may also lose the race with its closing the socket (a reset), or never
        # be sent (the TLS proxy's asyncio server just closes).
        conn = await bounded(aioredis_cy.create_connection(mtls_server.tcp_address, ssl=certs.context()))
        try:
            await bounded(conn.execute("PING"))
        finally:
            conn.close()
            await conn.wait_closed()


async def test_client_certificate(create_connection, create_redis_pool, mtls_server, certs):
    conn = await create_connection(mtls_server.tcp_address, ssl=certs.context(client_cert=True))
    assert await conn.execute("PING") == b"PONG"
    address = uri(mtls_server, f"ssl_ca_certs={certs.ca_file}", f"ssl_certfile={certs.client_cert_file}",
                  f"ssl_keyfile={certs.client_key_file}")
    conn = await create_connection(address)
    assert await conn.execute("PING") == b"PONG"
    redis = await create_redis_pool(address, minsize=2)
    assert await redis.ping() == b"PONG"


# -- URI options --------------------------------------------------------------------------------------


def test_parse_tls_options():
    address, options = parse_url("rediss://h:7000/1?ssl_ca_certs=/ca.pem&ssl_cert_reqs=Optional"
                                 "&ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_check_hostname=no")
    assert address == ("h", 7000)
    assert options == {"db": 1, "ssl": {"ca_certs": "/ca.pem", "cert_reqs": "optional", "certfile": "/c.pem",
                                        "keyfile": "/k.pem", "check_hostname": False}}
    assert parse_url("rediss://h")[1] == {"ssl": True}
    assert parse_url("redis://h?ssl=true&ssl_cert_reqs=none")[1] == {"ssl": {"cert_reqs": "none"}}


@pytest.mark.parametrize("url", [
    "redis://h?ssl_ca_certs=/ca.pem",                          # TLS options without TLS
    "redis://h?ssl=false&ssl_cert_reqs=none",
    "rediss://h?ssl_cert_reqs=sometimes",
    "rediss://h?ssl_check_hostname=perhaps",
    "rediss://h?ssl_ca_certs=",
    "rediss://h?ssl_keyfile=/k.pem",                           # a key without its certificate
    "rediss://h?ssl_cert_reqs=none&ssl_check_hostname=true",   # nothing to check the name against
    "rediss://h?ssl_ca_certs=/a.pem&ssl_ca_certs=/b.pem",
    "rediss://h?ssl_ciphers=HIGH",
])
def test_invalid_tls_options(url):
    with pytest.raises(ValueError):
        parse_url(url)


def test_contexts_from_options(certs):
    context = _ssl_context({"cert_reqs": "none"})
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    context = _ssl_context({"cert_reqs": "optional", "ca_certs": certs.ca_file})
    assert context.verify_mode == ssl.CERT_OPTIONAL and context.check_hostname
    context = _ssl_context({"check_hostname": False})
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname
    given = ssl.create_default_context()
    assert _ssl_context(given) is given
    assert _ssl_context(None) is None and _ssl_context(False) is None
    with pytest.raises(FileNotFoundError):
        _ssl_context({"certfile": "/no/such/cert.pem"})


async def test_context_conflicts_with_uri_options(tls_server, certs):
    with pytest.raises(ValueError, match="Conflicting ssl options"):
        await aioredis_cy.create_connection(uri(tls_server, f"ssl_ca_certs={certs.ca_file}"),
                                            ssl=certs.context())
    with pytest.raises(ValueError, match="Conflicting ssl options"):
        await aioredis_cy.create_pool(uri(tls_server, "ssl_cert_reqs=none"), ssl=certs.context())
