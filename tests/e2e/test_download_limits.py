"""R08: a picture's download is refused over the size limit — by its Content-Length before reading, or
while streaming when there is none — and a 50 MB body is never read into memory."""

from __future__ import annotations

import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.openapi import DingTalkError, OpenApi
from storage import images

BIG = 50 * 1024 * 1024
LIMIT = images.MAX_BYTES


class _Files(BaseHTTPRequestHandler):
    """HTTP/1.0: a body without Content-Length runs until the server closes the connection."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        size = 1000 if self.path.startswith("/small") else BIG
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if self.path.endswith("with-length"):
            self.send_header("Content-Length", str(size))
        self.end_headers()
        written, chunk = 0, b"\xff" * 65536
        try:
            while written < size:
                self.wfile.write(chunk[: size - written])
                written += min(len(chunk), size - written)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.server.written[self.path] = written
            self.server.done.set()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def files():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.written, server.done = {}, threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def download(server, path: str) -> bytes:
    api = OpenApi("http://127.0.0.1:1", "key", "secret", timeout=10)
    api.download_url = lambda robot_code, code: f"http://127.0.0.1:{server.server_port}{path}"
    try:
        return api.download("robot", "code")
    finally:
        api.close()


@pytest.mark.parametrize("path", ["/big/with-length", "/big/streamed"])
def test_R08_a_50_mb_download_is_refused_without_reading_it_into_memory(files, path):
    tracemalloc.start()
    try:
        with pytest.raises(DingTalkError) as refused:
            download(files, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = refused.value
    assert (error.status, error.code) == (413, images.DOWNLOAD_TOO_LARGE) and error.permanent
    assert files.done.wait(10)
    assert files.written[path] < BIG  # the connection was dropped, not drained
    if path.endswith("with-length"):
        assert "Content-Length" in error.message and peak < 2 * 1024 * 1024  # refused before the body
    else:
        assert peak < LIMIT + 4 * 1024 * 1024  # at most the limit (and a chunk) was held


@pytest.mark.parametrize("path", ["/small/with-length", "/small/streamed"])
def test_R08_a_picture_under_the_limit_downloads_whole(files, path):
    assert download(files, path) == b"\xff" * 1000
