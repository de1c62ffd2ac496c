#!/usr/bin/env python3
"""Bookkeeping for scripts/bench (standard library only).

  report.py run --work DIR --target T --round R --wrk-output FILE --cpu-seconds S
      Reads the BENCHJSON line of one wrk run, fails loudly (exit 1, wrk's output printed) on
      any socket error or non-2xx/3xx answer, appends the run to DIR/runs.jsonl (rounds > 0;
      round 0 is the warm-up) and prints a one-line summary.

  report.py summary --work DIR [--json FILE]
      Medians over the rounds per target, the Markdown table on stdout, and the JSON file.
      Reads DIR/runs.jsonl, DIR/peak-rss.json, DIR/idle-TARGET.json and DIR/settings.json.
"""
import argparse
import json
import os
import statistics
import sys

TARGETS = ["direct", "nginx", "tokenbridge"]
ERROR_KEYS = ["connectErrors", "readErrors", "writeErrors", "statusErrors", "timeouts"]


def parse_wrk(path):
    with open(path) as output:
        text = output.read()
    for line in text.splitlines():
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON "):]), text
    return None, text


def command_run(args):
    result, text = parse_wrk(args.wrk_output)
    label = f"{args.target} round {args.round or 'warm-up'}"
    if result is None:
        print(f"bench: {label}: wrk printed no result line. Its output:\n{text}", file=sys.stderr)
        return 1
    errors = {key: result[key] for key in ERROR_KEYS if result[key]}
    if result["requests"] == 0 or errors:
        print(f"bench: {label}: wrk reported errors {errors or '(no requests completed)'}. "
              f"statusErrors counts answers with status >= 400. wrk's output:\n{text}", file=sys.stderr)
        return 1
    seconds = result["durationUs"] / 1e6
    run = {
        "target": args.target, "round": args.round, "requests": result["requests"], "seconds": seconds,
        "rps": result["requests"] / seconds, "p50Ms": result["p50Us"] / 1000, "p90Ms": result["p90Us"] / 1000,
        "p99Ms": result["p99Us"] / 1000, "maxMs": result["maxUs"] / 1000,
        "cpuSeconds": args.cpu_seconds, "cpuSecondsPer10k": args.cpu_seconds / result["requests"] * 10000,
        # Busy CPU of processes other than the servers and wrk, in percent of the whole machine.
        "otherCpuPercent": max(0.0, args.other_cpu_seconds) / (seconds * args.cores) * 100,
    }
    if args.round > 0:
        with open(os.path.join(args.work, "runs.jsonl"), "a") as runs:
            runs.write(json.dumps(run) + "\n")
    print(f"  {label:<24} {run['rps']:>10.0f} req/s  p50 {run['p50Ms']:.2f} ms  p99 {run['p99Ms']:.2f} ms  "
          f"cpu {run['cpuSecondsPer10k']:.3f} s/10k  others {run['otherCpuPercent']:.0f}% cpu", file=sys.stderr)
    return 0


def load_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path) as file:
        return json.load(file)


def median_of(runs, key):
    values = [run[key] for run in runs]
    return statistics.median(values) if values else None


def rounded(value, digits):
    return None if value is None else round(value, digits)


def build_sections(work):
    runs = []
    runs_path = os.path.join(work, "runs.jsonl")
    if os.path.exists(runs_path):
        with open(runs_path) as lines:
            runs = [json.loads(line) for line in lines if line.strip()]
    peak_rss = load_json(os.path.join(work, "peak-rss.json"), {})
    sections = {}
    for target in TARGETS:
        mine = [run for run in runs if run["target"] == target]
        if not mine:
            sections[target] = None
            continue
        idle = load_json(os.path.join(work, f"idle-{target}.json"), None)
        sections[target] = {
            "rps": rounded(median_of(mine, "rps"), 1),
            "p50Ms": rounded(median_of(mine, "p50Ms"), 3),
            "p99Ms": rounded(median_of(mine, "p99Ms"), 3),
            "cpuSecondsPer10k": rounded(median_of(mine, "cpuSecondsPer10k"), 4),
            "rssMB": rounded(peak_rss[target] / 1024, 1) if target in peak_rss else None,
            "rssPerIdleConnectionKB": idle["perConnectionKB"] if idle else None,
            "idleConnections": idle["count"] if idle else None,
            "idleTransport": ("plain" if target == "direct" else "tls") if idle else None,
            "rounds": [{key: rounded(run[key], 3)
                        for key in ("rps", "p50Ms", "p99Ms", "cpuSecondsPer10k", "otherCpuPercent")}
                       for run in sorted(mine, key=lambda run: run["round"])],
        }
    return sections


def ratio(sections, key):
    tokenbridge, nginx = sections.get("tokenbridge"), sections.get("nginx")
    if not tokenbridge or not nginx or tokenbridge.get(key) is None or not nginx.get(key):
        return None
    return round(tokenbridge[key] / nginx[key], 3)


def cell(value, digits):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def markdown(sections, ratios, settings):
    lines = [
        f"TokenBridge benchmark: `GET {settings.get('path')}`, wrk -t{settings.get('threads')} "
        f"-c{settings.get('connections')} -d{settings.get('duration')}s, {settings.get('rounds')} round(s) "
        f"interleaved, medians; {settings.get('cores')} cores.",
        "",
        "| path | req/s | p50 ms | p99 ms | CPU s / 10k req | peak RSS MB | RSS / idle conn KB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"direct": "direct (plain HTTP to the simulator)", "nginx": "nginx (TLS, static token)",
             "tokenbridge": "TokenBridge (TLS, API key)"}
    for target in TARGETS:
        section = sections.get(target)
        if not section:
            continue
        idle = cell(section["rssPerIdleConnectionKB"], 1)
        if section["rssPerIdleConnectionKB"] is not None and target == "direct":
            idle += " (plain)"
        lines.append(f"| {names[target]} | {cell(section['rps'], 0)} | {cell(section['p50Ms'], 2)} | "
                     f"{cell(section['p99Ms'], 2)} | {cell(section['cpuSecondsPer10k'], 3)} | "
                     f"{cell(section['rssMB'], 1)} | {idle} |")
    lines.append("")
    lines.append(f"TokenBridge / nginx: throughput {cell(ratios['throughput'], 2)}, p99 {cell(ratios['p99'], 2)}, "
                 f"RSS per idle connection {cell(ratios['rssPerConnection'], 2)} "
                 "(throughput above 1 and the others below 1 favour TokenBridge).")
    spreads = []
    for target in TARGETS:
        section = sections.get(target)
        if section and len(section["rounds"]) > 1:
            values = [r["rps"] for r in section["rounds"]]
            spreads.append(f"{target} {min(values):,.0f}-{max(values):,.0f}")
    if spreads:
        lines.append(f"req/s range over rounds: {', '.join(spreads)}.")
    others = [r["otherCpuPercent"] for t in TARGETS if sections.get(t) for r in sections[t]["rounds"]]
    if others and max(others) >= 10:
        lines.append(f"Warning: other processes used up to {max(others):.0f}% of the machine's CPU during the "
                     f"measured runs (median {statistics.median(others):.0f}%); figures are less comparable.")
    return "\n".join(lines)


def command_summary(args):
    settings = load_json(os.path.join(args.work, "settings.json"), {})
    sections = build_sections(args.work)
    ratios = {
        "throughput": ratio(sections, "rps"),
        "p99": ratio(sections, "p99Ms"),
        "rssPerConnection": ratio(sections, "rssPerIdleConnectionKB"),
    }
    print(markdown(sections, ratios, settings))
    if args.json:
        document = dict(sections)
        document["ratios"] = ratios
        document["settings"] = settings
        with open(args.json, "w") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
    return 0


def main():
    parser = argparse.ArgumentParser(description="bookkeeping for scripts/bench")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("--work", required=True)
    run.add_argument("--target", required=True, choices=TARGETS)
    run.add_argument("--round", type=int, required=True)
    run.add_argument("--wrk-output", required=True)
    run.add_argument("--cpu-seconds", type=float, required=True)
    run.add_argument("--other-cpu-seconds", type=float, required=True)
    run.add_argument("--cores", type=int, required=True)
    summary = commands.add_parser("summary")
    summary.add_argument("--work", required=True)
    summary.add_argument("--json")
    args = parser.parse_args()
    return command_run(args) if args.command == "run" else command_summary(args)


if __name__ == "__main__":
    sys.exit(main())
