"""README's first command, `tokenbridge demo`, run as a person would: it makes its certificate,
prints credentials and curl lines that work as printed, and stops cleanly on Ctrl-C (SIGINT).
Also the simulator's one stderr line per request, which every other test turns off."""

import re
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import REPOSITORY, START_TIMEOUT, STOP_TIMEOUT, StreamCollector, spawn, stop_process, wait_until


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def printed_commands(lines):
    """The `curl` lines of the banner, continuation lines joined."""
    commands, current = [], None
    for line in lines:
        text = line.strip()
        if current is not None:
            current += " " + text.rstrip("\\").strip()
        elif text.startswith("curl "):
            current = text.rstrip("\\").strip()
        else:
            continue
        if not text.endswith("\\"):
            commands.append(current)
            current = None
    return commands


@pytest.fixture
def demo(bin_dir, tmp_path):
    """`tokenbridge demo` in a directory of its own with only the certificate script under certs/."""
    (tmp_path / "certs").mkdir()
    shutil.copy(REPOSITORY / "certs" / "make-dev-certs.sh", tmp_path / "certs" / "make-dev-certs.sh")
    port = free_port()
    process = spawn([str(bin_dir / "tokenbridge"), "demo", "--listen", f"127.0.0.1:{port}"], cwd=tmp_path,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output, log = StreamCollector(process.stdout), StreamCollector(process.stderr)

    def banner_done():
        if process.poll() is not None:
            pytest.fail(f"demo exited with {process.returncode}: {log.snapshot()[-20:]}")
        return any(line.startswith("Ctrl-C stops") for line in output.snapshot())

    try:
        wait_until(banner_done, START_TIMEOUT * 2, what="the demo banner")
        yield process, output, log, tmp_path, port
    finally:
        stop_process(process)


def test_the_demo_prints_credentials_whose_curl_lines_work_as_printed(demo):
    process, output, _, directory, port = demo
    lines = output.snapshot()
    text = "\n".join(lines)
    assert f"https://127.0.0.1:{port}" in text
    assert re.search(r"^\s+tbk_\S+$", text, re.MULTILINE), text
    assert (directory / "certs" / "dev-ca.pem").exists()
    assert not list(directory.glob("certs/*.key")) or (directory / "certs" / "server.key").stat().st_mode & 0o077 == 0

    commands = printed_commands(lines)
    assert len(commands) == 4, commands
    for command in commands:
        result = subprocess.run(command + " -sS --max-time 10 -o /dev/null -w '%{http_code}'", shell=True,
                                cwd=directory, capture_output=True, text=True, timeout=20)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout in ("200", "206"), command  # page_size=2 of many incidents is a 206


def test_ctrl_c_stops_the_demo_cleanly(demo):
    process, _, log, directory, _ = demo
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=STOP_TIMEOUT) == 0, log.snapshot()[-20:]


def test_the_simulator_logs_one_line_per_request_to_stderr(bin_dir, tmp_path):
    port_file = tmp_path / "ports"
    process = spawn([str(bin_dir / "legacy-topdesk"), "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
                     "--port-file", str(port_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = StreamCollector(process.stderr)
    try:
        line = wait_until(lambda: port_file.exists() and port_file.read_text().endswith("\n") and port_file.read_text(),
                          START_TIMEOUT, what="the simulator's port file")
        api = dict(item.split("=", 1) for item in line.split())["api"]
        before = len(log.snapshot())
        for path in ["/tas/api/version", "/tas/api/incidents", "/tas/api/login/operator"]:
            subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", f"http://{api}{path}"],
                           check=True, timeout=20)
        wait_until(lambda: len(log.snapshot()) >= before + 3, START_TIMEOUT, what="three request lines")
        new = log.snapshot()[before:]
        assert len(new) == 3, new
        for logged, path, status in zip(new, ["/tas/api/version", "/tas/api/incidents", "/tas/api/login/operator"],
                                        ["200", "401", "401"]):
            assert path in logged and status in logged, logged
    finally:
        stop_process(process)
