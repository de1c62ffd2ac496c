#!/usr/bin/env python3
"""Holds many idle keep-alive connections against a server and measures what they cost it.

Each connection completes a TLS handshake (unless --plain), sends one GET and reads the whole
response, then stays open and idle. With every connection established, the script waits for the
server to settle, sums VmRSS over the given server processes and prints one JSON line:

  {"count": N, "opened": N, "rssBeforeKB": .., "rssAfterKB": .., "perConnectionKB": ..,
   "closedByServer": 0, "statuses": {"200": N}, "openSeconds": ..}

perConnectionKB is (rssAfterKB - rssBeforeKB) / count. Exits 1 (after printing the JSON) when a
connection failed, answered other than 2xx, or was closed by the server before the measurement.
Standard library only.
"""
import argparse
import asyncio
import json
import ssl
import sys
import time


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


async def read_response(reader):
    """Reads one response with a Content-Length body (what every server here answers)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def open_one(args, context, request, gate):
    async with gate:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port, ssl=context,
                                    server_hostname="localhost" if context else None),
            timeout=args.timeout)
        writer.write(request)
        await writer.drain()
        status = await asyncio.wait_for(read_response(reader), timeout=args.timeout)
        return status, reader, writer


async def main(args):
    pids = [int(p) for p in args.pids.split(",") if p]
    context = None
    if not args.plain:
        context = ssl.create_default_context(cafile=args.cafile)
    headers = "".join(f"{h}\r\n" for h in args.header)
    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n{headers}\r\n").encode()

    rss_before = rss_kb(pids)
    gate = asyncio.Semaphore(args.parallel)
    started = time.monotonic()
    results = await asyncio.gather(*(open_one(args, context, request, gate) for _ in range(args.count)),
                                   return_exceptions=True)
    open_seconds = time.monotonic() - started

    statuses, failures, connections = {}, {}, []
    for result in results:
        if isinstance(result, BaseException):
            name = f"{type(result).__name__}: {result}"[:120]
            failures[name] = failures.get(name, 0) + 1
            continue
        status, reader, writer = result
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        connections.append((reader, writer))

    await asyncio.sleep(args.settle)
    rss_after = rss_kb(pids)
    # A connection the server closed has seen end of file by now (the loop kept reading).
    await asyncio.sleep(0)
    closed = sum(1 for reader, _ in connections if reader.at_eof())

    report = {
        "count": args.count, "opened": len(connections), "rssBeforeKB": rss_before, "rssAfterKB": rss_after,
        "perConnectionKB": round((rss_after - rss_before) / args.count, 2), "closedByServer": closed,
        "statuses": statuses, "failures": failures, "openSeconds": round(open_seconds, 2),
    }
    print(json.dumps(report), flush=True)

    for _, writer in connections:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for _, writer in connections), return_exceptions=True)

    good = all(s.startswith("2") for s in statuses)
    return 0 if (len(connections) == args.count and good and closed == 0) else 1


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--pids", required=True, help="comma-separated server processes to measure")
    parser.add_argument("--cafile", help="CA certificate to verify the server with")
    parser.add_argument("--plain", action="store_true", help="plain TCP instead of TLS")
    parser.add_argument("--parallel", type=int, default=64, help="handshakes in flight at once")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before measuring")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per connect and per response")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_arguments())))
