"""Run one command and report its wall time and peak memory.

Peak RSS of a child is only readable once it has been waited for, and getrusage for
children is a running maximum over all of them; running each measured step under its own
small wrapper process gives each step its own figure.

Usage: python -m carepulse.measure OUT.json -- command [args...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, separator, *command = argv
    if separator != "--" or not command:
        print("usage: python -m carepulse.measure OUT.json -- command ...", file=sys.stderr)
        return 2
    started = time.perf_counter()
    returncode = subprocess.call(command)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w") as handle:
        json.dump(
            {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1), "returncode": returncode}, handle
        )
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
