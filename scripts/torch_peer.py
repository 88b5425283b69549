#!/usr/bin/env python3
"""torch_peer.py — the kernels PyTorch runs for Stable Diffusion, measured at sdmark's shapes.

Reads the same suite files as `sdmark run` (bench/NAME.suite) and writes rows in sdmark's CSV
schema, backend `torch`, so `sdmark compare`, `estimate` and `report` treat them like any impl:
  gemm       torch-mm              torch.matmul
  conv2d     torch-conv-nchw       F.conv2d, contiguous NCHW tensors, cudnn.benchmark on
             torch-conv-nhwc       F.conv2d, channels_last (NHWC) tensors, cudnn.benchmark on
  attention  torch-sdpa-flash      F.scaled_dot_product_attention restricted to one backend
             torch-sdpa-efficient  (torch.nn.attention.sdpa_kernel); a backend that cannot run
             torch-sdpa-cudnn      the shape/dtype gives an `unsupported` row with torch's reason
             torch-sdpa-math
Every row is first verified on sampled outputs against an fp64 reference computed from the same
(dtype-rounded) inputs, with sdmark's tolerance rule (src/core/verify.c); only a verified row is
timed. GPU: CUDA events bracket only the op (the stream is held by a spin kernel while the flush,
the events and the op are enqueued) and L2 is flushed before every sample by writing a buffer of
twice its size (cache_mode flush). CPU: host clock, the last-level cache flushed the same way.
Unsupported combos are `unsupported` rows with a reason, allocation failures `oom`. The results
file <out>/torch-<device>-<suite>.csv is rewritten atomically after every row.
"""
import argparse
import os
import sys
import time
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdmark_results as results  # noqa: E402
import sdmark_suite as suites  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPLS = {"gemm": ["torch-mm"], "conv2d": ["torch-conv-nchw", "torch-conv-nhwc"],
         "attention": ["torch-sdpa-flash", "torch-sdpa-efficient", "torch-sdpa-cudnn", "torch-sdpa-math"]}
BATCH = 5  # noise statistic: batches of 5 samples, as src/core/measure.c


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="torch_peer.py", description="PyTorch peers of sdmark's impls, rows in sdmark's CSV schema.",
        epilog="Exit status: 0 done (rows may be oom/unsupported/wrong), 1 torch missing or results "
               "not written, 2 usage error or a bad suite file, 130 interrupted (finished rows kept).")
    p.add_argument("--suite", action="append", help="suite NAME (bench/NAME.suite) or FILE; repeatable, "
                   "or a comma list (default quick)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--op", help="only these ops: gemm,conv2d,attention")
    p.add_argument("--dtype", help="only these dtypes: fp32,tf32,fp16,bf16")
    p.add_argument("--impl", help="only these impls (e.g. torch-mm,torch-sdpa-flash)")
    p.add_argument("--out", default="results", help="results directory (default: results)")
    p.add_argument("--min-time", type=float, default=0.5, help="minimum sampling time per row, s (0.5)")
    p.add_argument("--min-samples", type=int, default=10, help="minimum samples per row (10)")
    p.add_argument("--max-noise", type=float, default=0.5, help="stop when noise <= P percent (0.5)")
    p.add_argument("--timeout", type=float, default=15, help="per-row sampling limit, s (15)")
    p.add_argument("--warmup-ms", type=float, default=100, help="warm-up time per row, ms (100)")
    p.add_argument("--list", action="store_true", help="print the rows that would run and their count; "
                   "runs nothing (needs no torch)")
    p.add_argument("--fault-wrong", action="store_true", help="test aid: corrupt every output before "
                   "verification (each row must come out `wrong`)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = p.parse_args(argv)
    for name in ("op", "dtype", "impl"):
        v = getattr(a, name)
        setattr(a, name, set(v.split(",")) if v else None)
    a.suite = [s for v in (a.suite or ["quick"]) for s in v.split(",") if s]
    if a.min_samples < 1 or a.timeout <= 0 or min(a.min_time, a.max_noise, a.warmup_ms) < 0:
        p.error("--min-samples must be >= 1, --timeout > 0, the others >= 0")
    return a


def plan_rows(args):
    """[(suite_name, [(workload, impl), ...]), ...] after the filters. Raises ValueError."""
    plan = []
    for name in args.suite:
        wls = suites.load(suites.resolve(name, os.path.join(ROOT, "bench")))
        rows = [(wl, impl) for wl in wls for impl in IMPLS[wl["op"]]
                if (not args.op or wl["op"] in args.op) and (not args.dtype or wl["dtype"] in args.dtype)
                and (not args.impl or impl in args.impl)]
        plan.append((wls[0]["suite"], rows))
    return plan


def print_plan(plan):
    total = 0
    for suite, rows in plan:
        for wl, impl in rows:
            print("%s %s %s %s %s" % (suite, wl["op"], impl, wl["label"], wl["dtype"]))
        total += len(rows)
    print("rows: %d" % total)


def provenance():
    """sdmark_version (the source tree's), git commit, run id, host."""
    version = "0.0.0"
    try:
        with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
            for line in f:
                if line.startswith("project(") and " VERSION " in line:
                    version = line.split(" VERSION ")[1].split()[0]
                    break
    except OSError:
        pass
    commit = ""
    try:
        import subprocess
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    host = os.uname().nodename
    return {"sdmark_version": version, "git_commit": commit, "run_id": "torch-" + uuid.uuid4().hex[:12],
            "host": host}


def run_suite(dev, suite, rows, args, prov, out_dir, done):
    """Run, verify and time every (workload, impl) of one suite; rewrite its file after each row."""
    import torch_rows
    path = os.path.join(out_dir, "%s-%s.csv" % (results.slug("torch", dev.info["device_name"]), suite))
    written = []
    for wl, impl in rows:
        done[0] += 1
        if not args.quiet:
            sys.stderr.write("[%3d/%d] torch %s %s/%s %s %s\n" % (done[0], done[1], suite, wl["op"], impl,
                                                                 wl["label"], wl["dtype"]))
        row = results.new_row(wl)
        row.update(prov)
        row.update(dev.info)
        row.update(impl=impl, flops=suites.flops(wl), bytes_min=suites.bytes_min(wl),
                   timestamp_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        torch_rows.run_row(dev, wl, impl, args, row, seed=zlib.crc32(("%s|%s" % (suite, wl["label"])).encode()))
        if not args.quiet:
            sys.stderr.write("        %s%s\n" % (row["status"], _summary(row)))
        written.append(row)
        results.write_csv(path, written)
    if written and not args.quiet:
        sys.stderr.write("torch_peer: wrote %s\n" % path)
    return written


def _summary(row):
    if row["status"] == "ok":
        return "  %.4g ms  %.4g TFLOP/s  noise %.2f%%  (%d samples, %s)" % (
            row["time_ms_median"], row["tflops"], 100 * (row["rel_noise"] or 0), row["samples"],
            row["stop_reason"])
    return "  " + row["reason"]


def main(argv):
    args = parse_args(argv)
    try:
        plan = plan_rows(args)
    except ValueError as e:
        sys.stderr.write("torch_peer: %s\n" % e)
        return 2
    if args.list:
        print_plan(plan)
        return 0
    try:
        import torch_rows
    except ImportError as e:
        sys.stderr.write("torch_peer: PyTorch is not installed (%s)\n" % e)
        return 1
    try:
        dev = torch_rows.Device(args.device)
    except (RuntimeError, ValueError) as e:
        sys.stderr.write("torch_peer: device %s: %s\n" % (args.device, e))
        return 1
    os.makedirs(args.out, exist_ok=True)
    prov, done = provenance(), [0, sum(len(r) for _, r in plan)]
    counts = {}
    try:
        for suite, rows in plan:
            for r in run_suite(dev, suite, rows, args, prov, args.out, done):
                counts[r["status"]] = counts.get(r["status"], 0) + 1
    except OSError as e:
        sys.stderr.write("torch_peer: cannot write results: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("torch_peer: interrupted; the rows finished before are in %s\n" % args.out)
        return 130
    sys.stderr.write("torch_peer: %d rows on %s: %s\n" % (done[0], dev.info["device_name"], ", ".join(
        "%d %s" % (n, s) for s, n in sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
