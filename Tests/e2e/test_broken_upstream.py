"""An install that breaks HTTP mid-answer, played by a raw socket server: what the client gets."""

import socket
import threading

import pytest

from conftest import START_TIMEOUT, Gateway, wait_until

TOKEN = "0f83ee44-5ff7-462f-9cf5-855c455a4bca"


class BrokenInstall:
    """Answers the login with a token and every other request with `answer` (raw bytes), then
    closes the connection. Serves until `close`."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with connection:
                connection.settimeout(5)
                try:
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        head += chunk
                    if head.startswith(b"GET /tas/api/login/"):
                        body = TOKEN.encode()
                        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                                           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                    else:
                        connection.sendall(self.answer)
                except OSError:
                    pass

    def close(self):
        self.running = False
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def broken_pair(bin_dir, certs, tmp_path):
    started = []

    def start(answer):
        install = BrokenInstall(answer)
        started.append(install)
        gateway = Gateway(bin_dir, tmp_path / "gateway", certs, f"http://127.0.0.1:{install.port}")
        key = gateway.create_credential("e2e-broken", "--api-key")["secret"]
        gateway.start()
        started.append(gateway)
        return gateway, key

    yield start
    for item in reversed(started):
        item.stop() if isinstance(item, Gateway) else item.close()


def test_a_chunked_body_broken_before_its_first_byte_becomes_a_502(broken_pair):
    gateway, key = broken_pair(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    response = gateway.session(api_key=key).get(gateway.url + "/tas/api/incidents", timeout=10)
    assert response.status_code == 502
    assert response.json()["error"] == "upstream error"
    lines = wait_until(lambda: [r for r in gateway.log.json_lines() if r.get("path") == "/tas/api/incidents"],
                       START_TIMEOUT, what="the access-log line")
    assert [(line["status"], line["termination"]) for line in lines] == [(502, "upstreamError")]
