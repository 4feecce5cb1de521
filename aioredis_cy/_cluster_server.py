"""A throwaway local Redis Cluster (for the tests and the benchmark): cluster-enabled
LocalServers, half primaries and half replicas, joined by ``redis-cli --cluster create``
or, when redis-cli is not installed or the nodes use TLS or a login, by the equivalent
plain commands.
"""
import re
import shutil
import subprocess
import time
from typing import Callable, List, Optional, Sequence, Tuple

from ._server import LocalServer, TLSFiles
from .parser import PyReader

__all__ = ["LocalCluster"]

NODE_CONFIG = ("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
               "cluster-require-full-coverage no", "enable-debug-command local",
               "repl-diskless-sync-delay 0")


NodeFactory = Callable[..., LocalServer]


class LocalCluster:
    """``size`` cluster nodes on 127.0.0.1 (3 primaries and 3 replicas by default).

    Nodes are made by ``make_node(name, config_lines, tls=tls)``; with ``tls`` they listen
    for TLS only and use it between themselves.
    """

    def __init__(self, name: str, size: int = 6, config_lines: Sequence[str] = (), *,
                 tls: Optional[TLSFiles] = None, make_node: NodeFactory = LocalServer) -> None:
        self.config_lines = (*NODE_CONFIG, *config_lines)
        self.tls = tls
        self.make_node = make_node
        self.nodes = [self.new_node(f"{name}-{i}") for i in range(size)]

    def new_node(self, name: str) -> LocalServer:
        """A node (not started) with the cluster's config."""
        return self.make_node(name, self.config_lines, tls=self.tls)

    @property
    def addresses(self) -> List[Tuple[str, int]]:
        return [node.tcp_address for node in self.nodes]

    def cli(self, node: LocalServer, *args) -> str:
        """Send one command to ``node`` (logged in, over TLS if it has TLS); the reply as text (array
        items a line each)."""
        parts = [str(arg).encode() for arg in args]
        reader = PyReader()
        login = node.auth_command()
        with node.connect(timeout=30) as sock:
            sock.sendall(login + b"*%d\r\n" % len(parts) +
                         b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
            replies: List = []
            while len(replies) < (2 if login else 1):
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError(f"{node.name} closed the connection")
                reader.feed(data)
                while (reply := reader.gets()) is not False:
                    replies.append(reply)
            reply = replies[-1]
        if isinstance(reply, Exception):
            raise reply
        return self._text(reply)

    @classmethod
    def _text(cls, reply) -> str:
        if isinstance(reply, list):
            return "\n".join(map(cls._text, reply))
        return reply.decode() if isinstance(reply, bytes) else "" if reply is None else str(reply)

    def start(self) -> "LocalCluster":
        """Start every node, join them, and wait until all agree on the slot owners."""
        try:
            for node in self.nodes:
                node.start()
            if shutil.which("redis-cli") and self.tls is None and not self.nodes[0].password:
                hosts = [f"127.0.0.1:{node.port}" for node in self.nodes]
                subprocess.run(["redis-cli", "--cluster", "create", *hosts, "--cluster-replicas", "1",
                                "--cluster-yes"], check=True, capture_output=True, timeout=60)
            else:
                self._join()
            self.wait_stable()
        except BaseException:
            self.stop_all()
            raise
        return self

    def _join(self) -> None:
        """What ``redis-cli --cluster create --cluster-replicas 1`` does, by plain commands."""
        half = len(self.nodes) // 2
        primaries, replicas = self.nodes[:half], self.nodes[half:]
        for i, node in enumerate(primaries):
            self.cli(node, "cluster", "addslotsrange", 16384 * i // half, 16384 * (i + 1) // half - 1)
        for node in self.nodes[1:]:
            self.meet(node)

        def all_known():
            views = [self.cli(node, "cluster", "nodes") for node in self.nodes]
            return all(len(view.splitlines()) == len(self.nodes) and "handshake" not in view
                       for view in views)
        self.wait_until(all_known, "cluster nodes did not all meet")
        for primary, replica in zip(primaries, replicas):
            self.cli(replica, "cluster", "replicate", self.cli(primary, "cluster", "myid"))

    def meet(self, node: LocalServer) -> None:
        """Make ``node`` meet the first node."""
        first = self.nodes[0]
        self.cli(node, "cluster", "meet", "127.0.0.1", first.port, first.bus_port)

    @staticmethod
    def wait_until(check: Callable[[], bool], failure: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(failure)
            time.sleep(0.05)

    def running(self) -> List[LocalServer]:
        return [node for node in self.nodes if node.process is not None]

    def wait_stable(self, timeout: float = 30.0) -> None:
        """Wait until every running node reports cluster_state:ok and the same slot owners, and
        every running replica's link to its primary is up (so WAIT on a primary can succeed)."""
        def stable():
            running = self.running()
            if not all(self.replication_ready(node) for node in running):
                return False
            infos = [self.cli(node, "cluster", "info") for node in running]
            views = {self.cli(node, "cluster", "slots").replace("\n", " ") for node in running}
            # CLUSTER SLOTS lists a replica once the others know it has data (and never a primary
            # without slots); replication_ready covers the link itself.
            listed = len(set(re.findall(r"\b[0-9a-f]{40}\b", next(iter(views)))))
            slotless = sum(1 for line in self.cli(running[0], "cluster", "nodes").splitlines()
                           if "master" in line.split()[2] and len(line.split()) <= 8)
            return all("cluster_state:ok" in info for info in infos) and len(views) == 1 and \
                listed == len(running) - slotless
        self.wait_until(stable, "cluster did not become stable", timeout)

    def replication_ready(self, node: LocalServer) -> bool:
        """A primary, or a replica whose link is up and not in a full sync. (CLUSTER SLOTS lists a
        demoted primary as a replica while it still resyncs.)"""
        info = self.cli(node, "info", "replication")
        return "role:master" in info or ("master_link_status:up" in info
                                         and "master_sync_in_progress:0" in info)

    def stop_all(self) -> None:
        """Stop every node by PID and remove its directory."""
        for node in self.nodes:
            node.cleanup()
