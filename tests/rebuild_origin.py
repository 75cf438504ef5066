"""Helpers of the read-model rebuild tests (reviews, notifications): serve the embedded runner on a
port of its own, listen on 127.0.0.1:8000 (the old guessed default) when it is free, and record
where the rebuild sends the caller's token."""

from __future__ import annotations

import contextlib
import socket
import threading

from werkzeug.serving import make_server

from services.common import http as common_http

GUESSED = ("127.0.0.1", 8000)


class Listener:
    """A TCP listener on 127.0.0.1:8000 that keeps whatever reaches it (``None`` if the port is taken)."""

    def __init__(self):
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.sock.bind(GUESSED)
        except OSError:
            self.sock.close()
            self.sock = None
            return
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(65536))

    def close(self):
        if self.sock is not None:
            self.stop.set()
            self.thread.join(timeout=2)
            self.sock.close()


@contextlib.contextmanager
def served(wsgi, monkeypatch):
    """``(base_url, targets, listener)``: the runner on its own port, the base URLs the rebuild's
    clients were made for, and the listener on the guessed address."""
    targets: list[str] = []
    real = common_http.ApiClient

    def recording(base_url, *args, **kwargs):
        targets.append(base_url.rstrip("/"))
        return real(base_url, *args, **kwargs)

    monkeypatch.setattr(common_http, "ApiClient", recording)
    listener = Listener()
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", targets, listener
    finally:
        server.shutdown()
        listener.close()
