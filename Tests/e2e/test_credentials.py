"""Client credentials as the gateway enforces them: revocation by a separate process, scopes, and
an account whose upstream password is wrong."""

import json
import socket
import ssl
import threading
import time

import pytest
import requests

from conftest import OPERATOR_LOGIN, OPERATOR_PASSWORD


def test_a_revoked_key_fails_within_a_second(gateway):
    credential = gateway.create_credential("e2e-to-revoke", "--api-key")
    session = gateway.session(api_key=credential["secret"])
    url = gateway.url + "/tas/api/incidents/number/I%201602%20001"
    assert session.get(url, timeout=10).status_code == 200  # also puts it in the verification cache

    gateway.revoke(credential["id"])  # `tokenbridge credentials revoke` as its own process
    revoked_at = time.monotonic()
    statuses = []
    while time.monotonic() - revoked_at < 1.5:
        statuses.append(session.get(url, timeout=10).status_code)
        if statuses[-1] == 401:
            break
        time.sleep(0.05)
    assert statuses[-1] == 401, f"still accepted 1.5 s after revocation: {statuses}"
    assert set(statuses) <= {200, 401}
    assert session.get(url, timeout=10).status_code == 401

    listed = gateway.tokenbridge("credentials", "list", "--config", str(gateway.config_path), "--json").stdout
    assert credential["id"] in listed and credential["secret"] not in listed


def test_a_read_only_scope_gets_403_naming_the_missing_scope(gateway, simulator):
    key = gateway.credentials.read_only["secret"]
    session = gateway.session(api_key=key)
    assert session.get(gateway.url + "/tas/api/incidents/number/I%201602%20001", timeout=10).status_code == 200

    before = simulator.stats()["requests"]
    response = session.post(gateway.url + "/tas/api/incidents",
                            json={"callerLookup": {"id": "e127ddc1-0df3-5ee4-9144-95f751bc13ee"},
                                  "briefDescription": "not allowed"}, timeout=10)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "forbidden"
    assert "POST:/tas/api/incidents" in body["detail"]
    assert body["requestId"] == response.headers["X-Request-ID"]
    assert simulator.stats()["requests"] == before, "a forbidden request reached the install"


@pytest.fixture(scope="module")
def wrong_password_setup(isolated_pair):
    return isolated_pair("wrong-password", password="Not-The-Password-7")


def test_a_wrong_upstream_password_gives_502_naming_the_account_and_never_the_password(wrong_password_setup):
    simulator, gateway, key = wrong_password_setup
    session = gateway.session(api_key=key)
    responses = []
    started = time.monotonic()
    while time.monotonic() - started < 3.0:
        responses.append(session.get(gateway.url + "/tas/api/incidents", timeout=10))
        time.sleep(0.05)
    assert len(responses) >= 10
    for response in responses:
        assert response.status_code == 502
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        assert "'ops'" in body["detail"]
        assert "Not-The-Password-7" not in response.text
        assert OPERATOR_PASSWORD not in response.text

    failures = simulator.stats()["loginFailures"].get(OPERATOR_LOGIN, 0)
    assert 1 <= failures <= 3, f"{failures} failed logins for {len(responses)} requests"
    assert simulator.stats()["logins"] == {}

    ready = requests.get(gateway.admin_url + "/readyz", timeout=5)
    assert ready.status_code == 503
    assert "ops" in ready.json()["reason"]
    for line in gateway.log.snapshot():
        assert "Not-The-Password-7" not in line


def read_until_eof(tls):
    answer = b""
    while chunk := tls.recv(65536):
        answer += chunk
    return answer


@pytest.mark.parametrize("credential", [[], [b"X-API-Key: tbk_notakey"]], ids=["none", "unknown key"])
def test_a_request_without_a_valid_credential_is_refused_before_its_body(gateway, credential):
    """The head alone decides: no 100 Continue and no buffering of a 10 MB body for a stranger."""
    context = ssl.create_default_context(cafile=gateway.ca_file)
    head = b"\r\n".join([b"PUT /tas/api/incidents/number/I%201602%20001 HTTP/1.1", b"Host: 127.0.0.1",
                         *credential, b"Content-Type: application/json", b"Content-Length: 10000000",
                         b"Expect: 100-continue", b"", b""])
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(head)
            answer = read_until_eof(tls)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 401 Unauthorized", answer[:200]
    assert b"100 Continue" not in answer
    assert b"Connection: close" in rest
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"] == "unauthorized"


@pytest.fixture(scope="module")
def instant_expiry_setup(isolated_pair):
    return isolated_pair("instant-expiry", simulator_args=("--token-ttl", "1ms"))


def test_an_install_that_refuses_every_token_gets_back_off_not_a_login_per_request(instant_expiry_setup):
    """Tokens that die before serving anything (no shared sessions behind a balancer, a lifetime of
    nothing): after three, the gateway backs off as after failed logins and answers 502 meanwhile."""
    simulator, gateway, key = instant_expiry_setup
    statuses = []

    def client():
        session = gateway.session(api_key=key)
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            statuses.append(session.get(gateway.url + "/tas/api/incidents?page_size=1", timeout=10).status_code)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    logins = simulator.stats()["logins"].get(OPERATOR_LOGIN, 0)
    assert len(statuses) >= 20
    # A token that happens to be used within its millisecond serves once; everything else is 502.
    assert set(statuses) <= {200, 206, 502}, set(statuses)
    assert statuses.count(502) >= 0.9 * len(statuses)
    # One token dropped outright, three confirmed dead, then back-off of 1 s and 2 s: a handful of
    # logins in 3 s, not one per request.
    assert logins <= 8, f"{logins} logins for {len(statuses)} requests"
    status = requests.get(gateway.admin_url + "/status", timeout=5).json()
    assert "refused" in json.dumps(status)
    metrics = requests.get(gateway.admin_url + "/metrics", timeout=5).text
    refused = [line for line in metrics.splitlines() if line.startswith("tokenbridge_fresh_tokens_refused_total{")]
    assert refused and int(refused[0].rsplit(" ", 1)[1]) >= 3, refused
