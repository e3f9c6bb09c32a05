#!/usr/bin/env python
"""HTTP figures of the emulator: start-up time, then throughput and latency at several concurrencies.

Starts ``python -m sfemu serve`` on the example estate, then drives it over HTTPS with keep-alive
connections using wrk (Debian package ``wrk``) on two requests: ``GET /limits`` (routing, auth and
accounting only) and a small SOQL query. Prints one line per (request, connections) pair.

    .venv/bin/python tests/tools/bench_http.py [--seconds 8] [--connections 50,200]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "tests", "emulator")
ESTATE = os.path.join(EMULATOR, "estates", "example.yml")


def start(work, emulator=EMULATOR):
    ready_file = os.path.join(work, "READY.json")
    env = dict(os.environ, PYTHONPATH=emulator)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "sfemu", "serve", "--estate", ESTATE, "--port", "0",
                                "--ready-file", ready_file, "--state-dir", os.path.join(work, "state")],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not os.path.exists(ready_file):
        if process.poll() is not None or time.monotonic() - started > 60:
            sys.exit("emulator did not start")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    with open(ready_file, encoding="utf-8") as handle:
        return process, json.load(handle), elapsed


def _ms(found):
    """wrk's latency text (850.00us, 12.3ms, 1.02s, 1.50m) in milliseconds; NaN when wrk printed none."""
    value = re.match(r"([\d.]+)(us|ms|s|m)$", found.group(1)) if found else None
    if value is None:
        return float("nan")
    return float(value.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[value.group(2)]


def wrk(url, token, connections, seconds):
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency",
                          "--timeout", "10s", "-H", "Authorization: Bearer " + token, url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+(\S+)", out))
    p99 = _ms(re.search(r"99%\s+(\S+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return rate, p50, p99, int(errors.group(1)) if errors else 0, socket_errors.group(1) if socket_errors else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", default="50,200")
    parser.add_argument("--emulator", default=EMULATOR,
                        help="the tests/emulator folder to run (another checkout's, to compare)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="sfemu-bench-")
    process, ready, startup = start(work, args.emulator)
    try:
        print("start-up (process start to READY.json): %.2fs" % startup)
        org = ready["orgs"]["acme-prod"]
        base = ready["base_url"] + "/services/data/v62.0/"
        os.environ["SSL_CERT_FILE"] = ready["ca_file"]
        targets = [("GET /limits", base + "limits"),
                   ("GET /query (5 users)", base + "query?q=" + quote("SELECT Id, Username FROM User LIMIT 5"))]
        for label, url in targets:
            for connections in [int(c) for c in args.connections.split(",")]:
                rate, p50, p99, errors, socket_errors = wrk(url, org["admin"]["access_token"], connections,
                                                            args.seconds)
                print("%-22s c=%-4d %8.0f req/s   p50 %7.1f ms   p99 %7.1f ms   non-2xx %d %s"
                      % (label, connections, rate, p50, p99, errors, socket_errors))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
