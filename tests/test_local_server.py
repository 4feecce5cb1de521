"""The test harness's LocalServer: a port taken between picking and binding it."""
import socket

import pytest

from aioredis_cy._server import LocalServer, PortTakenError


def _hold(port):
    """A listening socket on ``port`` of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.mark.parametrize("config_lines", [(), ("cluster-enabled yes",)], ids=["plain", "cluster-bus"])
def test_a_picked_port_taken_before_the_start_is_picked_again(config_lines):
    server = LocalServer("port-taken", config_lines)
    taken = server.bus_port if config_lines else server.port
    holder = _hold(taken)
    try:
        server.start()
        assert taken not in (server.port, server.bus_port if config_lines else None)
        assert server._ping_info()
    finally:
        holder.close()
        server.cleanup()


def test_a_given_port_that_is_taken_is_an_error():
    holder = _hold(0)
    server = LocalServer("port-given", port=holder.getsockname()[1])
    try:
        with pytest.raises(PortTakenError, match="port-given: server exited at startup"):
            server.start()
    finally:
        holder.close()
        server.cleanup()
