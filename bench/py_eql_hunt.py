#!/usr/bin/env python3
"""The Python baseline for talon's benchmark: Elastic's `eql` package
(pinned to 1.0.1) running detection rules over an NDJSON file.

Two commands:

  select --count N RULES_DIR OUT_DIR
      Picks N EQL event-query rules (no sequences or samples: talon does not
      run those yet, so both engines get the same kind of work), spread
      evenly over the sorted rule files, and links them into OUT_DIR. Prints
      the chosen paths.

  hunt RULES... --events FILE
      Parses each rule's query with eql's parser in Elasticsearch syntax
      (the dialect Kibana's rules are written in), skips with a count the
      ones it cannot parse, then streams the NDJSON through eql's
      PythonEngine and counts matches. Events are routed by index as
      Elasticsearch and talon route them: an event reaches a rule only if
      its data stream (data_stream.type-dataset-namespace, or _index)
      matches one of the rule's index patterns. Prints one JSON summary
      line on stdout.

Only the standard library and `eql` are needed (Python 3.11+ for tomllib).
"""

import argparse
import fnmatch
import json
import os
import sys
import time
import tomllib


def rule_files(paths):
    """Every .toml under the given files and folders, sorted."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p, followlinks=True):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".toml"))
        else:
            out.append(p)
    return sorted(out)


def load_rule(path):
    """(name, query, index patterns) of an EQL rule file, or None."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"{path}: cannot read: {e}", file=sys.stderr)
        return None
    rule = doc.get("rule", {})
    if rule.get("type") != "eql" or not isinstance(rule.get("query"), str):
        return None
    return rule.get("name", path), rule["query"], rule.get("index", [])


def is_event_query(query):
    head = query.lstrip().split(None, 1)
    return bool(head) and head[0] not in ("sequence", "sample")


def cmd_select(args):
    chosen = []
    candidates = []
    for path in rule_files([args.rules_dir]):
        loaded = load_rule(path)
        if loaded and is_event_query(loaded[1]):
            candidates.append(path)
    if len(candidates) < args.count:
        sys.exit(f"only {len(candidates)} event-query EQL rules under {args.rules_dir}")
    # Evenly spaced over the sorted list, so Linux, macOS and Windows rules
    # and every tactic folder are represented, not just the first folder.
    step = len(candidates) / args.count
    chosen = [candidates[int(i * step)] for i in range(args.count)]
    os.makedirs(args.out_dir, exist_ok=True)
    for old in os.listdir(args.out_dir):
        if old.endswith(".toml"):
            os.remove(os.path.join(args.out_dir, old))
    for i, path in enumerate(chosen):
        link = os.path.join(args.out_dir, f"{i:03d}-{os.path.basename(path)}")
        os.symlink(os.path.abspath(path), link)
        print(path)


class IndexRouter:
    """Which rules an index reaches, decided once per distinct index."""

    def __init__(self, patterns_per_rule):
        self.patterns = [self._parse(p) for p in patterns_per_rule]
        self.cache = {}

    @staticmethod
    def _parse(patterns):
        exprs = []
        for item in patterns:
            for raw in item.split(","):
                text = raw.strip()
                if not text:
                    continue
                exclude = text.startswith("-")
                body = text[1:] if exclude else text
                exprs.append((exclude, body.split(":", 1)[-1]))
        return exprs

    @staticmethod
    def _matches(exprs, index):
        if not exprs:
            return True
        matched = False
        for i, (exclude, pattern) in enumerate(exprs):
            hit = fnmatch.fnmatchcase(index, pattern)
            if exclude:
                if i > 0 and matched and hit:
                    matched = False
            elif not matched and hit:
                matched = True
        return matched

    def route(self, index):
        hit = self.cache.get(index)
        if hit is None:
            hit = tuple(i for i, e in enumerate(self.patterns) if self._matches(e, index))
            self.cache[index] = hit
        return hit


def event_index(doc):
    if isinstance(doc.get("_index"), str):
        return doc["_index"]
    ds = doc.get("data_stream")
    if isinstance(ds, dict):
        t, d, n = ds.get("type"), ds.get("dataset"), ds.get("namespace")
        if all(isinstance(x, str) for x in (t, d, n)):
            return f"{t}-{d}-{n}"
    return None


def event_type(doc):
    ev = doc.get("event")
    cat = ev.get("category") if isinstance(ev, dict) else None
    if isinstance(cat, list):
        cat = cat[0] if cat else None
    return cat if isinstance(cat, str) else "generic"


def unwrap_singletons(value):
    """One-element arrays become their element (`event.type: ["start"]`
    → `"start"`), as eql's engine expects scalars there; longer arrays
    (`process.args`) stay lists."""
    if isinstance(value, dict):
        return {k: unwrap_singletons(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 1 and not isinstance(value[0], (dict, list)):
            return value[0]
        return [unwrap_singletons(v) for v in value]
    return value


def cmd_hunt(args):
    import eql

    started = time.perf_counter()
    rules, skipped, not_eql = [], [], 0
    for path in rule_files(args.rules):
        loaded = load_rule(path)
        if loaded is None:
            not_eql += 1
            continue
        name, query, index = loaded
        try:
            with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
                parsed = eql.parse_query(query)
        except eql.EqlError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            skipped.append((path, f"does not parse: {first}"))
            continue
        rules.append((path, (name, parsed, index)))

    # One engine per rule: eql 1.0's PythonEngine predates ECS's
    # multi-valued fields and raises on some of them (`x in (...)` on a
    # list), so each rule is evaluated on its own and an error costs only
    # that rule's answer for that event. Events only meet the rules their
    # index reaches, the same work talon's router leaves.
    engines, runnable, names = [], [], []
    matches = []
    for path, (name, parsed, index) in rules:
        engine = eql.PythonEngine({"flatten": True})
        try:
            # Parsing accepted unknown functions; the engine is where a
            # function it does not implement (e.g. `startswith`) fails.
            engine.add_query(parsed)
        except eql.EqlError as e:
            skipped.append((path, f"engine cannot run it: {str(e).strip().splitlines()[0]}"))
            continue
        i = len(engines)
        matches.append(0)
        engine.add_output_hook(lambda _result, i=i: matches.__setitem__(i, matches[i] + 1))
        engines.append(engine)
        runnable.append(index)
        names.append(name)
    for path, why in skipped:
        print(f"py-eql skips {path}: {why}", file=sys.stderr)
    router = IndexRouter(runnable)
    errors = [0] * len(engines)

    events = bad = unrouted = 0
    with open(args.events, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                bad += 1
                continue
            events += 1
            index = event_index(doc)
            targets = router.route(index) if index is not None else ()
            if not targets:
                unrouted += 1
                continue
            event = eql.Event(event_type(doc), 0, unwrap_singletons(doc))
            for i in targets:
                try:
                    engines[i].stream_event(event)
                except Exception:  # noqa: BLE001 - any failure is that rule's, counted
                    errors[i] += 1
    for engine in engines:
        engine.finalize()
    unparsable = sum(1 for _, why in skipped if why.startswith("does not parse"))

    print(json.dumps({
        "rules_given": len(rules) + unparsable,
        "rules_run": len(engines),
        "rules_skipped": len(skipped),
        "files_not_eql": not_eql,
        "events": events,
        "bad_lines": bad,
        "events_no_rule": unrouted,
        "matches": sum(matches),
        "evaluation_errors": sum(errors),
        "rules_with_errors": sum(1 for e in errors if e),
        "matches_by_rule": {
            names[i]: n for i, n in enumerate(matches) if n
        },
        "seconds": round(time.perf_counter() - started, 3),
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select", help="choose N event-query EQL rules")
    s.add_argument("--count", type=int, default=100)
    s.add_argument("rules_dir")
    s.add_argument("out_dir")
    h = sub.add_parser("hunt", help="run rules over NDJSON with eql's PythonEngine")
    h.add_argument("rules", nargs="+")
    h.add_argument("--events", required=True)
    args = ap.parse_args()
    if args.cmd == "select":
        cmd_select(args)
    else:
        cmd_hunt(args)


if __name__ == "__main__":
    main()
