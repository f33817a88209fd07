"""django-cachex 0.14.1's tracking in the scenario of cachex's `tracking` bench.

Run by tests/benches/tracking.rs with the venv's Python: `python tracking_django.py URL OPS ROUNDS COPIES`.
Prints one JSON object: the hot get with and without tracking (ns per call, median of rounds),
the invalidation delays from the write's answer and from its start (microseconds, sorted), and the memory held per copy (RSS growth).
"""

import json
import sys
import time
from pathlib import Path

# django-cachex 0.14.1 is written for Python 3.14; on 3.12 and 3.13 it loads through the import
# hook in tests/fixtures/django/py313_compat.py (shared with the interoperability fixtures).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "django"))
import py313_compat  # noqa: E402, F401

import django  # noqa: E402
from django.conf import settings  # noqa: E402

url, ops, rounds, copies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
backend = "django_cachex.cache.RedisCache"
settings.configure(
    CACHES={
        "default": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "py"},
        "tracked": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "py", "OPTIONS": {"tracking": True}},
    }
)
django.setup()

from django.core.cache import caches  # noqa: E402

plain, tracked = caches["default"], caches["tracked"]


def tracking():
    return tracked.info()["tracking"]


def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


plain.set("hot", "x" * 100, None)
deadline = time.monotonic() + 10
while not tracking()["fresh"]:
    tracked.get("hot")
    if time.monotonic() > deadline:
        raise SystemExit("django-cachex's tracking never came up")
    time.sleep(0.01)


def per_call(cache, calls):
    started = time.perf_counter_ns()
    for _ in range(calls):
        cache.get("hot")
    return (time.perf_counter_ns() - started) / calls


hot = {"tracking": [], "plain": []}
for _ in range(5):
    hot["tracking"].append(per_call(tracked, ops))
    hot["plain"].append(per_call(plain, max(ops // 50, 100)))

# The invalidation delay: another client's write acknowledged, until the copy is gone (the
# beginning of the first read that no longer finds it).
delays, from_start = [], []
for round_ in range(rounds):
    plain.set("delay", round_, None)
    while tracked.get("delay") != round_:
        pass
    before = tracking()["hits"]
    while tracking()["hits"] == before:
        tracked.get("delay")
    sent = time.perf_counter_ns()
    plain.set("delay", -1, None)
    acked = time.perf_counter_ns()
    while True:
        began = time.perf_counter_ns()
        if tracked.get("delay") == -1:
            break
    delays.append((began - acked) / 1000)
    from_start.append((began - sent) / 1000)
delays.sort()
from_start.sort()

# Memory per copy: RSS growth over `copies` copies of 100-byte values.
for index in range(copies):
    plain.set(f"copy:{index}", "y" * 100, None)
before = rss()
for index in range(copies):
    tracked.get(f"copy:{index}")
per_copy = (rss() - before) / copies

print(
    json.dumps(
        {
            "hot_tracking_ns": sorted(hot["tracking"])[2],
            "hot_plain_ns": sorted(hot["plain"])[2],
            "delays_us": delays,
            "from_start_us": from_start,
            "per_copy_bytes": per_copy,
            "copies": tracking().get("copies", tracking().get("entries")),
        }
    )
)
