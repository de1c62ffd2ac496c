"""SIGHUP on the real process under steady load: a new upstream URL takes effect and no request is
lost; a broken file is refused and the old configuration keeps serving."""

import signal
import threading
import time

import pytest

from conftest import START_TIMEOUT, Simulator, wait_until


@pytest.fixture(scope="module")
def reload_setup(isolated_pair, bin_dir, tmp_path_factory):
    first, gateway, key = isolated_pair("reload")
    second = Simulator(bin_dir, tmp_path_factory.mktemp("simulator-reload-second"))
    yield first, second, gateway, key
    second.stop()


def reloads_logged(gateway, message):
    return [r for r in gateway.log.json_lines() if str(r.get("message", "")).startswith(message)]


def test_a_reload_under_load_switches_upstream_without_losing_a_request(reload_setup):
    first, second, gateway, key = reload_setup
    statuses, running = [], True

    def client():
        session = gateway.session(api_key=key)
        while running:
            statuses.append(session.get(gateway.url + "/tas/api/incidents?page_size=1", timeout=10).status_code)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        before = second.stats()["requests"]
        config = gateway.config_path.read_text()
        gateway.config_path.write_text(config.replace(first.url, second.url))
        gateway.process.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads_logged(gateway, "configuration reloaded"), START_TIMEOUT,
                   what="the reload log line")
        wait_until(lambda: second.stats()["requests"] > before + 20, START_TIMEOUT,
                   what="requests reaching the new upstream")

        # A broken file is refused; the new upstream keeps serving.
        gateway.config_path.write_text("{ listen: ")
        gateway.process.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads_logged(gateway, "configuration reload refused"), START_TIMEOUT,
                   what="the refusal log line")
        served = second.stats()["requests"]
        time.sleep(0.5)
        assert second.stats()["requests"] > served
    finally:
        running = False
        for thread in threads:
            thread.join(20)
    assert len(statuses) > 100
    assert set(statuses) == {206}, {s: statuses.count(s) for s in set(statuses)}
    assert gateway.process.poll() is None
