"""Test-time certificates (a CA, a server certificate, a client certificate, a stranger CA) and TLS servers.

Generated with ``trustme`` into a directory the caller owns; nothing is kept between runs.
The server certificate names only ``127.0.0.1`` (so connecting as ``localhost`` fails the
host name check); it also serves as the server's client certificate (replication, sentinel).
"""
import ssl
from pathlib import Path
from typing import NamedTuple, Optional

import trustme

from aioredis_cy._server import TLSFiles


class Certificates(NamedTuple):
    """Paths of the generated PEM files."""

    ca_file: str
    server: TLSFiles
    client_cert_file: str
    client_key_file: str
    other_ca_file: str

    def context(self, *, ca_file: Optional[str] = None, client_cert: bool = False) -> ssl.SSLContext:
        """A client context trusting ``ca_file`` (our CA by default), with the client certificate if asked."""
        context = ssl.create_default_context(cafile=ca_file or self.ca_file)
        if client_cert:
            context.load_cert_chain(self.client_cert_file, self.client_key_file)
        return context


def make_certificates(directory: Path) -> Certificates:
    """Write a fresh CA, server and client certificates (and an unrelated CA) to ``directory``."""
    ca = trustme.CA()
    other_ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("client.aioredis-cy.test")

    def write(name: str, blob) -> str:
        path = directory / name
        blob.write_to_path(str(path))
        return str(path)

    ca_file = write("ca.pem", ca.cert_pem)
    server_files = TLSFiles(
        ca_file=ca_file,
        cert_file=write("server.pem", server.cert_chain_pems[0]),
        key_file=write("server.key", server.private_key_pem),
    )
    return Certificates(
        ca_file=ca_file,
        server=server_files,
        client_cert_file=write("client.pem", client.cert_chain_pems[0]),
        client_key_file=write("client.key", client.private_key_pem),
        other_ca_file=write("other-ca.pem", other_ca.cert_pem),
    )
