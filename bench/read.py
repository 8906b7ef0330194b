#!/usr/bin/env python3
"""Read benchmark client: sends a GraphQL query N times from C threads and prints latency percentiles."""
import argparse
import json
import statistics
import threading
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--query", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    body = json.dumps({"query": args.query}).encode()
    latencies, errors, lock = [], [], threading.Lock()
    per_thread = args.requests // args.concurrency

    def worker():
        for _ in range(per_thread):
            request = urllib.request.Request(args.url, data=body, headers={
                "Content-Type": "application/json", "Authorization": "Bearer " + args.token})
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                payload = json.loads(response.read())
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if "errors" in payload:
                    errors.append(payload["errors"])

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"{len(latencies)} requests, {len(errors)} with errors, {len(latencies) / wall:.0f} req/s, "
          f"p50 {q(0.5):.1f} ms, p95 {q(0.95):.1f} ms, max {latencies[-1] * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
