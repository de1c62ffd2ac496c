"""`curl` as a separate process: API keys, application passwords and TLS versions."""

import json
import socket
import ssl
import subprocess
import threading
import warnings

import pytest

from conftest import CALLER_ID, FIRST_INCIDENT


def curl(*arguments, timeout=20, input_text=None):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *arguments], capture_output=True, text=True,
                          timeout=timeout, input=input_text)


def test_curl_fetches_an_incident_with_an_api_key(gateway, api_key):
    result = curl("--cacert", gateway.ca_file, "-H", f"X-API-Key: {api_key}",
                  f"https://127.0.0.1:{gateway.port}/tas/api/incidents/number/I%201602%20001")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["number"] == FIRST_INCIDENT


def test_curl_fetches_an_incident_with_an_application_password(gateway, app_creds):
    login, password = app_creds
    result = curl("--cacert", gateway.ca_file, "-u", f"{login}:{password}", "-w", "\n%{http_code}",
                  f"https://127.0.0.1:{gateway.port}/tas/api/incidents/number/I%201602%20001")
    assert result.returncode == 0, result.stderr
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "200"
    assert json.loads(body)["number"] == FIRST_INCIDENT

    wrong = curl("--cacert", gateway.ca_file, "-u", f"{login}:{password}x", "-o", "/dev/null", "-w",
                 "%{http_code}", f"https://127.0.0.1:{gateway.port}/tas/api/version")
    assert wrong.stdout == "401"


def test_curl_negotiates_tls_1_3_and_http_1_1(gateway, api_key):
    result = curl("--cacert", gateway.ca_file, "-H", f"X-API-Key: {api_key}", "-o", "/dev/null",
                  "-w", "%{http_version} %{ssl_verify_result}", f"https://127.0.0.1:{gateway.port}/tas/api/version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.1 0"


# The client side of the TLS 1.1 check: OpenSSL's default security level would refuse TLS 1.1 in
# curl itself, which would make the test pass for the wrong reason, so it is lowered to 0.
OLD_TLS = ["--tlsv1.0", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0"]


@pytest.fixture
def tls11_server(certs):
    """A throw-away TLS 1.1 server, proving that curl with OLD_TLS can speak TLS 1.1 at all."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated is the point here
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(15)

    def serve():
        try:
            connection, _ = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(10)
                tls.recv(4096)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(15)


def test_tls_1_1_is_refused(gateway, ca_file, tls11_server):
    control = curl("--cacert", ca_file, *OLD_TLS, f"https://127.0.0.1:{tls11_server}/")
    if control.returncode != 0:
        pytest.fail(f"this machine's curl cannot speak TLS 1.1, so the check below would prove nothing: "
                    f"{control.stderr}")
    assert control.stdout == "ok"

    refused = curl("--cacert", ca_file, *OLD_TLS, f"https://127.0.0.1:{gateway.port}/tas/api/version")
    assert refused.returncode == 35, refused  # CURLE_SSL_CONNECT_ERROR: the handshake failed
    assert refused.stdout == ""

    allowed = curl("--cacert", ca_file, "--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", "-w", "%{http_code}",
                   f"https://127.0.0.1:{gateway.port}/tas/api/version")
    assert allowed.stdout == "401"  # TLS 1.2 is fine; no credential, so the gateway says 401


def test_a_chunked_request_body_reaches_the_install_whole_with_a_length(gateway, simulator, api_key):
    """curl streams the body with `Transfer-Encoding: chunked`; the gateway takes it in whole and
    forwards it with `Content-Length`, which every old servlet container understands."""
    body = json.dumps({"callerLookup": {"id": CALLER_ID}, "briefDescription": "Sent in chunks", "request": "x" * 5000})
    result = curl("--cacert", gateway.ca_file, "-H", f"X-API-Key: {api_key}", "-H", "Content-Type: application/json",
                  "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "-w", "\n%{http_code}",
                  f"https://127.0.0.1:{gateway.port}/tas/api/incidents", input_text=body)
    assert result.returncode == 0, result.stderr
    answer, status = result.stdout.rsplit("\n", 1)
    assert status == "201", answer
    assert json.loads(answer)["briefDescription"] == "Sent in chunks"
    fields = {field["name"].lower(): field["value"] for field in simulator.last_request()["headers"]}
    assert "transfer-encoding" not in fields
    assert fields["content-length"] == str(len(body.encode()))
