#!/usr/bin/env bash
# Sets up everything on a fresh Debian machine, builds Weir, and runs the
# wordcount example on the embedded mini cluster, then prints its result.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
input="$root/examples/data/hamlet.txt"
output="$(mktemp -d /tmp/weir-wordcount-XXXXXX)"
echo "+ build/weir run --local examples/wordcount.pbtxt --param input=$input --param output=$output --parallelism 2" >&2
"$root/build/weir" run --local "$root/examples/wordcount.pbtxt" \
  --param input="$input" --param output="$output" --parallelism 2
echo "+ the 15 most frequent words (word,count), from $output/part-*.csv:" >&2
cat "$output"/part-*.csv | sort -t, -k2,2nr -k1,1 | head -15
echo "($(cat "$output"/part-*.csv | wc -l) distinct words in all)" >&2
