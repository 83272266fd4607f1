#!/usr/bin/env bash
# talon's benchmark (issue 6): one run, one table of ratios against the
# targets. See bench/README.md for what each line measures.
#
#   bench/run.sh            100 MB data set (peak RSS: 100 MB vs 1 GB)
#   bench/run.sh --full     1 GB data set (peak RSS: 100 MB vs 1 GB)
#   bench/run.sh --size 5MB a quick try of the harness itself (RSS vs 1 MB)
#
# Environment: TALON_CORPORA (default: ../shared/corpora beside the
# checkout), RUNS (timed runs per measurement, default 3), PY_RUNS (default
# 1: the Python engine is slow enough that one run decides its line).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

FULL=0
SIZE=
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --full) FULL=1 ;;
    --size) SIZE=${1:?--size needs a value, e.g. 5MB}; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
RUNS=${RUNS:-3}
PY_RUNS=${PY_RUNS:-1}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# --- inputs ------------------------------------------------------------------

if [ -z "${TALON_CORPORA:-}" ]; then
  for c in "$ROOT/../shared/corpora" /work/shared/corpora; do
    if [ -d "$c" ]; then TALON_CORPORA=$(cd "$c" && pwd); break; fi
  done
fi
[ -n "${TALON_CORPORA:-}" ] && [ -d "$TALON_CORPORA" ] \
  || die "corpora not found: set TALON_CORPORA to the shared corpora folder"
SEED_RULE=$TALON_CORPORA/detection-rules/seed-rule.toml
ALL_RULES=$TALON_CORPORA/detection-rules/rules
[ -f "$SEED_RULE" ] || die "missing $SEED_RULE"
[ -d "$ALL_RULES" ] || die "missing $ALL_RULES"
# The literal rg looks for: one of the seed rule's command-line patterns
# without its wildcards, so rg answers "which lines could match at all".
RG_LITERAL=net.ipv4.ip_forward

# --- tools -------------------------------------------------------------------

# Installs a Debian package when we can (root with apt-get); never fatal.
try_apt() {
  local pkg=$1
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $pkg"
    apt-get install -y -qq "$pkg" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$pkg" >/dev/null 2>&1; } \
      || true
  fi
}
command -v rg >/dev/null || try_apt ripgrep
command -v hyperfine >/dev/null || try_apt hyperfine
[ -x /usr/bin/time ] || try_apt time
command -v taskset >/dev/null || try_apt util-linux
command -v python3 >/dev/null || die "python3 is needed (tables, the Python baseline)"
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin cores"
HAVE_RG=0; command -v rg >/dev/null && HAVE_RG=1
HAVE_HF=0; command -v hyperfine >/dev/null && HAVE_HF=1
HAVE_TIME=0; [ -x /usr/bin/time ] && HAVE_TIME=1
[ $HAVE_RG = 1 ] || say "ripgrep is missing: the rg line will say so"

PY_EQL_OK=0
if python3 -c 'import eql, sys; sys.exit(eql.__version__ != "1.0.1")' 2>/dev/null; then
  PY_EQL_OK=1
else
  say "installing eql==1.0.1"
  python3 -m pip install -q 'eql==1.0.1' >/dev/null 2>&1 && PY_EQL_OK=1 \
    || say "pip install eql==1.0.1 failed: the Python line will say so"
fi

say "building talon and the generator (release)"
cargo build --release --locked -q -p talon-cli -p talon-bench
TALON=$ROOT/target/release/talon
GEN=$ROOT/target/release/talon-bench-gen

# --- data --------------------------------------------------------------------

DATA=$ROOT/bench/data
mkdir -p "$DATA" "$ROOT/bench/results"
# gen NAME SIZE MATCHES: generates bench/data/NAME.ndjson once; the
# generator's report is kept beside it in NAME.meta. A file written by
# another version of the generator (its `format:` differs) is made again.
FORMAT=$("$GEN" --print-format)
gen() {
  local name=$1 size=$2 matches=$3
  local file=$DATA/$name.ndjson meta=$DATA/$name.meta
  if [ ! -s "$file" ] || [ ! -s "$meta" ] \
    || [ "$(awk '$1 == "format:" { print $2 }' "$meta")" != "$FORMAT" ]; then
    say "generating $file ($size, seed 42, $matches matches)"
    "$GEN" --size "$size" --seed 42 --matches "$matches" --out "$file" > "$meta"
  fi
}
meta() { awk -v k="$2:" '$1 == k { print $2 }' "$DATA/$1.meta"; }

# MAIN is timed; peak RSS is compared between SMALL and LARGE (the issue's
# 100 MB vs 1 GB, since the generator writes events at a steady rate: a
# file ten times larger covers ten times the time, which is what memory
# must not grow with).
if [ -n "$SIZE" ]; then
  MAIN=events-$(echo "$SIZE" | tr 'A-Z' 'a-z'); gen "$MAIN" "$SIZE" 100
  SMALL=events-1m; gen events-1m 1MB 10
  LARGE=$MAIN
else
  SMALL=events-100m; gen events-100m 100MB 1000
  LARGE=events-1g; gen events-1g 1GB 10000
  if [ $FULL = 1 ]; then MAIN=$LARGE; else MAIN=$SMALL; fi
fi
FILE=$DATA/$MAIN.ndjson
EVENTS=$(meta "$MAIN" events)
BYTES=$(meta "$MAIN" bytes)
MATCHES=$(meta "$MAIN" matches)

RULES100=$DATA/rules-100
if [ ! -d "$RULES100" ] || [ "$(find "$RULES100" -name '*.toml' | wc -l)" != 100 ]; then
  say "choosing 100 prebuilt event-query rules into $RULES100"
  python3 bench/py_eql_hunt.py select --count 100 "$ALL_RULES" "$RULES100" > "$DATA/rules-100.txt"
fi

# --- timing ------------------------------------------------------------------

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# measure NAME RUNS CMD...: median wall seconds of CMD (output discarded),
# after one untimed warm-up run that also fills the page cache.
measure() {
  local name=$1 runs=$2; shift 2
  if [ $HAVE_HF = 1 ]; then
    local cmd; cmd=$(printf '%q ' "$@")
    hyperfine --style none --warmup 1 --runs "$runs" --export-json "$WORK/$name.json" \
      --command-name "$name" --output null -- "$cmd" >/dev/null 2>&1 \
      || { echo "nan"; return; }
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
      "$WORK/$name.json"
  else
    "$@" >/dev/null 2>&1 || true
    local times=() i s e
    for ((i = 0; i < runs; i++)); do
      s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
      times+=("$(python3 -c "print($e - $s)")")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
  fi
}

# Peak resident set size in KiB of CMD.
peak_rss() {
  if [ $HAVE_TIME = 1 ]; then
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
  else
    echo "nan"
  fi
}

ONE="taskset -c 0"
TWO="taskset -c 0,1"
HUNT_Q=(hunt --format jsonl -q)

# Recorded in the report: on a two-core machine, any other load shows up
# directly in every number.
export LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say "checking answers"
SEED_ALERTS=$("$TALON" hunt --rules "$SEED_RULE" "$FILE" --format jsonl -q | wc -l)
"$TALON" hunt --rules "$ALL_RULES" "$FILE" --format jsonl -o /dev/null 2> "$WORK/all.summary" || true
"$TALON" hunt --rules "$RULES100" "$FILE" --format jsonl -o /dev/null 2> "$WORK/r100.summary" || true
ALL_ALERTS=$(awk '/alerts by/ { for (i = 1; i <= NF; i++) if ($i == "alerts") print $(i - 1) }' "$WORK/all.summary" | head -1)
ALL_RULES_RUN=$(awk '/alerts by/ { for (i = 1; i <= NF; i++) if ($i == "of") print $(i + 1) }' "$WORK/all.summary" | head -1)
R100_ALERTS=$(awk '/alerts by/ { for (i = 1; i <= NF; i++) if ($i == "alerts") print $(i - 1) }' "$WORK/r100.summary" | head -1)
RG_COUNT=nan
[ $HAVE_RG = 1 ] && RG_COUNT=$(rg -c -F "$RG_LITERAL" "$FILE" || echo 0)

say "1/5 seed rule vs rg -c (one core)"
T_RG=nan
[ $HAVE_RG = 1 ] && T_RG=$(measure rg "$RUNS" $ONE rg -c -F "$RG_LITERAL" "$FILE")
T_SEED=$(measure seed "$RUNS" $ONE "$TALON" "${HUNT_Q[@]}" --rules "$SEED_RULE" "$FILE")
# Also as a user runs them on this machine: rg searches one file on one
# thread whatever the cores; talon reads one file on every core.
T_RG2=nan
[ $HAVE_RG = 1 ] && T_RG2=$(measure rg-2cores "$RUNS" $TWO rg -c -F "$RG_LITERAL" "$FILE")
T_SEED2=$(measure seed-2cores "$RUNS" $TWO "$TALON" "${HUNT_Q[@]}" --rules "$SEED_RULE" "$FILE")

say "2/5 all prebuilt rules (one core)"
# Start-up (reading and compiling every rule) is part of every run; it is
# timed on its own too, over an empty input, so it can be told apart.
T_START=$(measure startup "$RUNS" $ONE "$TALON" "${HUNT_Q[@]}" --rules "$ALL_RULES" /dev/null)
T_ALL1=$(measure all-1core "$RUNS" $ONE "$TALON" "${HUNT_Q[@]}" --rules "$ALL_RULES" "$FILE")

say "3/5 100 rules: talon vs eql==1.0.1 (one core)"
T_R100=$(measure talon-100 "$RUNS" $ONE "$TALON" "${HUNT_Q[@]}" --rules "$RULES100" "$FILE")
T_PY=nan
if [ $PY_EQL_OK = 1 ]; then
  # The answer run is also the timed run when PY_RUNS is 1: at minutes per
  # run, a warm-up would double the cost without changing the verdict.
  s=$(date +%s.%N)
  $ONE python3 bench/py_eql_hunt.py hunt "$RULES100" --events "$FILE" > "$WORK/py.json" 2> "$WORK/py.err" \
    && T_PY=$(python3 -c "print($(date +%s.%N) - $s)") \
    || say "py-eql failed: $(tail -1 "$WORK/py.err")"
  if [ "$PY_RUNS" -gt 1 ]; then
    T_PY=$(measure py-eql "$PY_RUNS" $ONE python3 bench/py_eql_hunt.py hunt "$RULES100" --events "$FILE")
  fi
fi

say "4/5 all prebuilt rules on two cores"
T_ALL2=$(measure all-2cores "$RUNS" $TWO "$TALON" "${HUNT_Q[@]}" --rules "$ALL_RULES" "$FILE")

say "5/5 peak RSS, $SMALL vs $LARGE"
RSS_SMALL=$(peak_rss "$TALON" "${HUNT_Q[@]}" --rules "$ALL_RULES" "$DATA/$SMALL.ndjson")
RSS_MAIN=$(peak_rss "$TALON" "${HUNT_Q[@]}" --rules "$ALL_RULES" "$DATA/$LARGE.ndjson")

# --- report ------------------------------------------------------------------

export LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
export T_START T_RG T_SEED T_RG2 T_SEED2 T_ALL1 T_ALL2 T_R100 T_PY RSS_SMALL RSS_MAIN EVENTS BYTES MATCHES \
  SEED_ALERTS ALL_ALERTS ALL_RULES_RUN R100_ALERTS RG_COUNT RG_LITERAL MAIN SMALL LARGE \
  HAVE_HF RUNS PY_RUNS
export COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export DIRTY=$(git status --porcelain -- . ':!bench/results' 2>/dev/null | grep -qv '^??' && echo " (uncommitted changes)" || true)
export CPU=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
export TALON_VERSION=$("$TALON" --version 2>/dev/null || echo talon)
export RG_VERSION=$(rg --version 2>/dev/null | head -1 || true)
export PY_JSON=$(cat "$WORK/py.json" 2>/dev/null || true)
python3 bench/report.py > "$ROOT/bench/results/latest.md"
cat "$ROOT/bench/results/latest.md"
say "written to bench/results/latest.md"
