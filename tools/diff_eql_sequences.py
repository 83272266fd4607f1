#!/usr/bin/env python3
"""Differential check of talon's sequences against Python `eql` 1.0.1.

Generates random event streams, runs the same sequence queries through the
Python `eql` engine and through talon (`cargo run --example seq_diff`), and
compares the sequences found, in order. Exits 1 on any disagreement.

Only the forms both implement with the same meaning are compared, and the
data is generated so that the two engines' known differences cannot show:
- Python `eql` folds case everywhere, so every string is lowercase;
- it is three-valued, so every event has every field (no nulls);
- it joins on a multi-valued field as a whole list, so no field is one;
- it has whole-second maxspan granularity, so maxspans are whole seconds;
- it applies an `until` event before it lets the same event advance a
  sequence, where Elasticsearch (and talon) first match the event, so an
  until event that completes a sequence still yields it
  (test_extra.toml sequenceWithOptionalFieldsAndUntil_1); until terms
  therefore use a category no other term uses;
- missing events (`![...]`) and samples have no Python implementation with
  Elasticsearch's meaning, and are covered by the ES suites instead.

Usage: python3 tools/diff_eql_sequences.py [--seeds N] [--events N]
Requires `pip install eql==1.0.1`.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import eql
    from eql.parser import ParserConfig
except ImportError:  # pragma: no cover - tells the user what to install
    sys.exit("python eql is missing: pip install eql==1.0.1")

QUERIES = [
    'sequence [process where tag == "a"] [network where true]',
    "sequence by host [process where true] [network where true] [file where true]",
    'sequence by host with maxspan=2s [process where tag == "a"] [network where tag != "a"]',
    "sequence by host, user [process where true] by pid [network where true] by pid",
    "sequence with maxspan=1s [process where true] [process where true]",
    "sequence by host [process where true] [network where true] until [registry where true]",
    'sequence by user with maxspan=3s [file where tag == "b"] [process where tag in ("a", "b")] [network where pid > 3]',
    "sequence by host [process where true] [file where true] with runs=2",
    'sequence by host [any where tag == "a"] [any where tag == "b"] [any where tag == "c"]',
    "sequence [process where true] by pid [network where true] by ppid until [registry where true] by pid",
    "sequence by host with maxspan=5s [process where true] [file where true] [network where true] "
    "until [registry where tag == \"a\"]",
]

CATEGORIES = ["process", "network", "file", "registry"]


def generate(seed, count):
    """A stream in time order; equal timestamps happen often."""
    rng = random.Random(seed)
    events = []
    ts = 1_600_000_000_000
    for i in range(1, count + 1):
        ts += rng.choice([0, 0, 1, 10, 200, 500, 900, 1000, 1500, 2500])
        events.append(
            {
                "id": i,
                "timestamp": ts,
                "event_type": rng.choice(CATEGORIES),
                "host": rng.choice(["h1", "h2", "h3"]),
                "user": rng.choice(["u1", "u2"]),
                "pid": rng.randint(1, 6),
                "ppid": rng.randint(1, 6),
                "tag": rng.choice(["a", "b", "c"]),
            }
        )
    return events


def run_python(query, events):
    config = ParserConfig(elasticsearch_syntax=True, allow_runs=True)
    with config:
        parsed = eql.parse_query(query)
    engine = eql.PythonEngine({"time_unit": 1000})
    found = []
    engine.add_output_hook(lambda out: found.append([e.data["id"] for e in out.events]))
    engine.add_query(parsed)
    engine.stream_events(events)
    return found


def run_talon(repo, events, queries):
    with tempfile.TemporaryDirectory() as d:
        ev_path = os.path.join(d, "events.ndjson")
        q_path = os.path.join(d, "queries.txt")
        with open(ev_path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        with open(q_path, "w") as f:
            f.write("\n".join(queries) + "\n")
        out = subprocess.run(
            ["cargo", "run", "-q", "--release", "-p", "talon-engine", "--example", "seq_diff", "--", ev_path, q_path],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        )
    lines = out.stdout.splitlines()
    return [json.loads(line) if line.startswith("[") else line for line in lines]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--events", type=int, default=300)
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    disagreements = 0
    compared = 0
    sequences = 0
    for seed in range(args.seeds):
        events = generate(seed, args.events)
        talon = run_talon(repo, events, QUERIES)
        for query, got in zip(QUERIES, talon):
            want = run_python(query, events)
            compared += 1
            sequences += len(want)
            if got != want:
                disagreements += 1
                print(f"seed {seed}: {query}\n  python eql: {want}\n  talon:      {got}")
    print(
        f"{compared - disagreements} agree, {disagreements} disagree "
        f"({args.seeds} streams x {len(QUERIES)} queries, {sequences} sequences from python eql)"
    )
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
