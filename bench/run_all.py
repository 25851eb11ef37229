"""Run every benchmark in turn (`make bench`): indexing speed and peak RSS, search latency, the
server (warm-up, CLI search, 20 concurrent searches, peak RSS), render speed and quality on the
shared corpus. Each prints its own table with its baseline from the same run and the hardware."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ["index_speed.py"],
    ["search_latency.py", "--hours", "1,10"],
    ["server_latency.py", "--hours", "10"],
    ["render_speed.py"],
    ["corpus_quality.py"],
    ["moments_librivox.py"],
    ["reels_library.py"],
    ["vision_cost.py"],
]


def main() -> int:
    failed = []
    for bench in BENCHES:
        print(f"\n=== {' '.join(bench)} ===", flush=True)
        code = subprocess.call([sys.executable, str(HERE / bench[0]), *bench[1:]])
        if code != 0:
            failed.append(bench[0])
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
