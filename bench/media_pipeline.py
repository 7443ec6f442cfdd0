#!/usr/bin/env python3
"""Time and peak memory to check and resize one 12-megapixel JPEG (issue 12's target:
under 2 s and under 300 MB on the 2-core machine). Each run is a fresh process, so its
peak resident memory is the pipeline's own (plus Python and Pillow).

Usage: bench/media_pipeline.py [--runs N] [--widths 480,960,1600] [--size 4000x3000]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time


def one_run(path: str, widths: list[int]) -> dict[str, float]:
    """Probe and make every variant of the file at path, in this process."""
    from flaskr.media.pipeline import probe, variants

    with open(path, "rb") as f:
        data = f.read()
    started = time.perf_counter()
    found = probe(data, max_pixels=40_000_000)
    probed = time.perf_counter()
    made = variants(data, found, widths)
    done = time.perf_counter()
    return {
        "probe_s": probed - started,
        "variants_s": done - probed,
        "total_s": done - started,
        "files": len(made),
        "bytes_out": sum(len(v.data) for v in made),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def photo(width: int, height: int) -> bytes:
    """A photo-like JPEG: smooth gradients with noise, as a camera's file compresses."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((width, height), 64).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(gradient, noise, 0.35).filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def main() -> int:
    """Make the photo once, then time each run in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--widths", default="480,960,1600")
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if args.child:
        print(json.dumps(one_run(args.child, widths)))
        return 0
    width, height = (int(n) for n in args.size.split("x"))
    path = f"/tmp/flaskr-bench-photo-{width}x{height}.jpg"
    data = photo(width, height)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{width}x{height} JPEG, {len(data) / 1e6:.1f} MB, widths {widths}")
    runs = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", path, "--widths", args.widths],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout))
    for key in ("probe_s", "variants_s", "total_s", "peak_rss_mb"):
        values = [run[key] for run in runs]
        print(f"{key:12s} median {statistics.median(values):8.2f}  max {max(values):8.2f}")
    print(f"files made: {runs[0]['files']}, {runs[0]['bytes_out'] / 1e6:.2f} MB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
