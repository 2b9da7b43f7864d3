#!/usr/bin/env python3
"""The FlashAttention-3 paper's grid: now the `grid` section of bench/bench.py
(one benchmark script; this keeps the old command line working).

    python3 bench/fa3_grid.py LIBFLASHC_RUNTIME_SO KERNELS_DIR OUT_DIR

runs `bench/bench.py --sections grid --lib LIB --kernels KERNELS_DIR --out
OUT_DIR --tag fa3_grid` (FA3_SEQLENS="512,1024,..." still picks the sequence
lengths) and writes OUT_DIR/bench-fa3_grid.{json,md}. See bench/README.md.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    lib, kernels, out = sys.argv[1:4]
    argv = ["--sections", "grid", "--lib", lib, "--kernels", kernels, "--out", out,
            "--tag", "fa3_grid"]
    if os.environ.get("FA3_SEQLENS"):
        argv += ["--seqlens", os.environ["FA3_SEQLENS"]]
    return bench.main(argv)


if __name__ == "__main__":
    sys.exit(main())
