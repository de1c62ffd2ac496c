"""Fixtures for the end-to-end tests: the built `legacy-topdesk` simulator and `tokenbridge`
gateway as real processes on 127.0.0.1, a development certificate, and client credentials made
with the real `tokenbridge credentials` command.

TOKENBRIDGE_BIN_DIR names the directory holding both executables (`swift build --show-bin-path`).
Every process is started on port 0 (the simulator writes its ports to a file, the gateway logs
them), every wait is bounded, and every process is stopped at teardown.
"""

import base64
import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

REPOSITORY = Path(__file__).resolve().parents[2]

# Demo install facts (Sources/LegacyTopdesk/Data/DemoData.swift).
OPERATOR_LOGIN = "api.operator"
OPERATOR_PASSWORD = "Operator-Pass-1"
CALLER_ID = "e127ddc1-0df3-5ee4-9144-95f751bc13ee"
REQUESTER_ID = "32916B7D-3890-45E6-82CA-43E0F3165969"
FIRST_INCIDENT = "I 1602 001"
LATIN1_INCIDENT = "I 1605 001"

# Generous on a loaded two-core machine, still far below the suite's budget.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls `predicate` until it returns something truthy; fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in the child before exec: SIGTERM it if pytest itself dies (killed, timed out)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(command, **options):
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **options)


def stop_process(process):
    """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    return process.returncode


class StreamCollector:
    """Reads a process's output line by line on a thread, so the pipe never fills up."""

    def __init__(self, stream):
        self.lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def snapshot(self):
        with self._lock:
            return list(self.lines)

    def json_lines(self):
        records = []
        for line in self.snapshot():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
        return records

    def join(self, timeout=STOP_TIMEOUT):
        self._thread.join(timeout)


class Simulator:
    """A running `legacy-topdesk` with its API and control listeners."""

    def __init__(self, bin_dir, workdir, extra_args=()):
        workdir.mkdir(parents=True, exist_ok=True)
        port_file = workdir / "ports"
        command = [str(bin_dir / "legacy-topdesk"), "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
                   "--port-file", str(port_file), "--quiet", *extra_args]
        self.process = spawn(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr = StreamCollector(self.process.stderr)

        def ports():
            if self.process.poll() is not None:
                pytest.fail(f"legacy-topdesk exited with {self.process.returncode}: {self.stderr.snapshot()}")
            text = port_file.read_text() if port_file.exists() else ""
            return text if text.endswith("\n") else None

        try:
            line = wait_until(ports, START_TIMEOUT, what="the simulator's port file")
        except BaseException:
            self.stop()
            raise
        fields = dict(item.split("=", 1) for item in line.split())
        self.api_port = int(fields["api"].rsplit(":", 1)[1])
        self.control_port = int(fields["control"].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.control_url = f"http://127.0.0.1:{self.control_port}"

    def control(self, method, path, **kwargs):
        return requests.request(method, self.control_url + path, timeout=10, **kwargs)

    def stats(self):
        return self.control("GET", "/stats").json()

    def last_request(self):
        response = self.control("GET", "/requests/last")
        assert response.status_code == 200, response.text
        return response.json()

    def login(self, login=OPERATOR_LOGIN, password=OPERATOR_PASSWORD):
        """A token of our own, straight from the simulator (the deprecated two-step login)."""
        response = requests.get(self.url + "/tas/api/login/operator", auth=(login, password), timeout=10)
        assert response.status_code == 200, response.text
        return response.text

    def stop(self):
        stop_process(self.process)
        self.stderr.join()


class Gateway:
    """A running `tokenbridge serve` with its configuration file and credential store."""

    def __init__(self, bin_dir, workdir, certs, upstream_url, password=OPERATOR_PASSWORD, tokens=None):
        self.bin_dir = bin_dir
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, TOPDESK_PASSWORD=password)
        self.password = password
        self.config_path = workdir / "tokenbridge.json5"
        tokens_section = f"\n  tokens: {json.dumps(tokens)}," if tokens else ""
        certificate, private_key = json.dumps(str(certs / "server.pem")), json.dumps(str(certs / "server.key"))
        self.config_path.write_text(f"""// End-to-end test gateway (written by Tests/e2e/conftest.py).
{{
  listen: {{
    address: "127.0.0.1",
    port: 0,
    tls: {{ certificate: {certificate}, privateKey: {private_key} }},
  }},
  admin: {{ listen: "127.0.0.1:0" }},
  upstreams: [ {{ name: "legacy", url: {json.dumps(upstream_url)}, responseTimeout: "15s" }} ],
  accounts: [
    {{ name: "ops", upstream: "legacy", kind: "operator", login: "{OPERATOR_LOGIN}",
       password: {{ env: "TOPDESK_PASSWORD" }} }},
  ],{tokens_section}
  credentials: {{ store: {json.dumps(str(workdir / "credentials.sqlite"))} }},
  shutdown: {{ grace: "2s" }},
}}
""")
        self.ca_file = str(certs / "dev-ca.pem")
        self.process = None

    def tokenbridge(self, *arguments, check=True):
        """Runs `tokenbridge ARGUMENTS` as a separate process; returns the completed process."""
        result = subprocess.run([str(self.bin_dir / "tokenbridge"), *arguments], env=self.env,
                                capture_output=True, text=True, timeout=30)
        if check:
            assert result.returncode == 0, f"tokenbridge {' '.join(arguments)}: {result.stderr}"
        return result

    def create_credential(self, client, *options):
        """`credentials create ... --json`: {"id": ..., "secret": ...}."""
        result = self.tokenbridge("credentials", "create", "--config", str(self.config_path), "--client", client,
                                  "--account", "ops", *options, "--json")
        return json.loads(result.stdout)

    def revoke(self, credential_id):
        self.tokenbridge("credentials", "revoke", credential_id, "--config", str(self.config_path))

    def start(self):
        self.process = spawn(
            [str(self.bin_dir / "tokenbridge"), "serve", "--config", str(self.config_path)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = StreamCollector(self.process.stderr)

        def started():
            if self.process.poll() is not None:
                pytest.fail(f"tokenbridge serve exited with {self.process.returncode}: {self.log.snapshot()}")
            return next((r for r in self.log.json_lines() if r.get("message") == "gateway started"), None)

        try:
            return self._wait_until_serving(started)
        except BaseException:
            self.stop()
            raise

    def _wait_until_serving(self, started):
        record = wait_until(started, START_TIMEOUT, what="the gateway's 'gateway started' log line")
        self.port = int(record["listen"].rsplit(":", 1)[1])
        self.admin_port = int(record["admin"].rsplit(":", 1)[1])
        self.url = f"https://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"

        def healthy():
            try:
                return requests.get(self.admin_url + "/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, START_TIMEOUT, what="the gateway's /healthz")
        return self

    def session(self, api_key=None, basic=None):
        session = requests.Session()
        # Without this, REQUESTS_CA_BUNDLE from the environment would override `verify`.
        session.trust_env = False
        session.verify = self.ca_file
        if api_key:
            session.headers["X-API-Key"] = api_key
        if basic:
            session.auth = basic
        return session

    def stop(self):
        if self.process is not None:
            status = stop_process(self.process)
            self.log.join()
            return status
        return None


@pytest.fixture(scope="session")
def bin_dir():
    value = os.environ.get("TOKENBRIDGE_BIN_DIR")
    if not value:
        pytest.fail("TOKENBRIDGE_BIN_DIR must name the directory of the built tokenbridge and legacy-topdesk")
    path = Path(value)
    for name in ("tokenbridge", "legacy-topdesk"):
        if not os.access(path / name, os.X_OK):
            pytest.fail(f"{path / name} is not an executable: build first (swift build)")
    return path


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPOSITORY / "certs" / "make-dev-certs.sh"), str(directory)], check=True,
                   capture_output=True, timeout=60)
    return directory


@pytest.fixture(scope="session")
def ca_file(certs):
    return str(certs / "dev-ca.pem")


@pytest.fixture(scope="session")
def simulator(bin_dir, tmp_path_factory):
    running = Simulator(bin_dir, tmp_path_factory.mktemp("simulator"))
    yield running
    running.stop()


class Credentials:
    """The main gateway's client credentials, made with `tokenbridge credentials create`."""

    def __init__(self, gateway):
        self.api_key = gateway.create_credential("e2e-api-key", "--api-key")
        self.app_login = "integration.bot"
        self.app_password = gateway.create_credential("e2e-app-password", "--app-password", self.app_login)
        self.read_only = gateway.create_credential("e2e-read-only", "--api-key", "--scope", "GET:/tas/api/")


@pytest.fixture(scope="session")
def gateway_process(bin_dir, certs, simulator, tmp_path_factory):
    running = Gateway(bin_dir, tmp_path_factory.mktemp("gateway"), certs, simulator.url)
    running.credentials = Credentials(running)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def isolated_pair(bin_dir, certs, tmp_path_factory):
    """Starts a simulator of its own and a gateway in front of it, with one API key; stops both
    at teardown, whatever failed in between. Call it with the simulator's extra arguments and
    `Gateway` keyword arguments; returns (simulator, gateway, api_key)."""
    started = []

    def start(name, simulator_args=(), **gateway_options):
        simulator = Simulator(bin_dir, tmp_path_factory.mktemp(f"simulator-{name}"), simulator_args)
        started.append(simulator)
        gateway = Gateway(bin_dir, tmp_path_factory.mktemp(f"gateway-{name}"), certs, simulator.url,
                          **gateway_options)
        started.append(gateway)
        key = gateway.create_credential(f"e2e-{name}", "--api-key")["secret"]
        gateway.start()
        return simulator, gateway, key

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def gateway(gateway_process):
    if gateway_process.process.poll() is not None:
        pytest.fail(f"the gateway died: {gateway_process.log.snapshot()[-20:]}")
    return gateway_process


@pytest.fixture
def api_key(gateway):
    return gateway.credentials.api_key["secret"]


@pytest.fixture
def app_creds(gateway):
    return (gateway.credentials.app_login, gateway.credentials.app_password["secret"])


def basic_header(login, password):
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
