"""Tokens that die under steady traffic: a 3 s token lifetime on the install, the same on the
gateway (renewed 1 s ahead), and one install restart in the middle. No client may notice."""

import threading
import time

import pytest

from conftest import OPERATOR_LOGIN

# The window the gateway's issue names: 30 s of traffic over tokens that live 3 s.
TRAFFIC_SECONDS = 30.0
THREADS = 3


@pytest.fixture(scope="module")
def short_lived(isolated_pair):
    return isolated_pair("short-tokens", ["--token-ttl", "3s"], tokens={"lifetime": "3s", "renewBefore": "1s"})


def test_steady_traffic_survives_token_expiry_and_an_install_restart(short_lived):
    simulator, gateway, key = short_lived
    failures = []
    counts = [0] * THREADS
    stop = threading.Event()
    paths = ["/tas/api/incidents/number/I%201602%20001", "/tas/api/incidents?page_size=5", "/tas/api/version"]

    def traffic(index):
        session = gateway.session(api_key=key)
        while not stop.is_set():
            path = paths[(counts[index] + index) % len(paths)]
            try:
                response = session.get(gateway.url + path, timeout=10)
                if response.status_code not in (200, 206):
                    failures.append((time.monotonic(), path, response.status_code, response.text[:200]))
            except Exception as error:  # a dropped connection is a failure too
                failures.append((time.monotonic(), path, "exception", repr(error)))
            counts[index] += 1
            time.sleep(0.01)  # steady, not a load test: the machine is shared

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(TRAFFIC_SECONDS / 2)
    assert simulator.control("POST", "/restart").status_code == 200
    time.sleep(TRAFFIC_SECONDS / 2)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert not any(thread.is_alive() for thread in threads)
    elapsed = time.monotonic() - started

    assert not failures, f"{len(failures)} failed of {sum(counts)}: {failures[:5]}"
    assert sum(counts) >= 30, f"only {sum(counts)} requests in {elapsed:.1f}s"
    stats = simulator.stats()
    assert stats["restarts"] == 1
    # A 3 s token over ~30 s plus a restart: about one login per token lifetime (renewed 1-1.4 s
    # ahead), never one per request.
    logins = stats["logins"][OPERATOR_LOGIN]
    assert 10 <= logins <= 30, f"{logins} logins"
    assert stats["loginFailures"] == {}
