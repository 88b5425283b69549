#!/usr/bin/env python3
"""gpu_session.py — the plan and the summary of scripts/gpu-session.sh.

plan:    counts the rows each phase will run (suite files x the CUDA backend's impls, read from
         src/backends/cuda/cuda_ops.c, x dtypes; the torch peer's from torch_peer.IMPLS), sizes
         each row with the run flags and a cost model of an H100/H200, and checks the whole session
         fits the budget. Exit 1 when it does not.
summary: from the CSVs under a results directory: rows per status per backend, and per op the
         geometric mean of (best own time / best library time) over workloads both measured.

Cost model of one row (seconds; upper bounds, docs/gpu-session.md):
    setup     0.03 + bytes of inputs and output / 1 GB/s  (host fp32 generation, upload, fp64 sample)
    find      0.3 for a cuDNN row (cudnnFind over NCHW and NHWC)
    warm-up   max(--warmup-ms, one run)
    sampling  min(--timeout, max(--min-time, --min-samples x (one run + 50 us flush/sync)))
    one run   max(flops / 100 TFLOP/s (fp16) or 15 TFLOP/s (fp32), bytes / 1.5 TB/s)
i.e. a third of an H100's dense fp16 tensor peak and a quarter of its fp32 peak, half its bandwidth.
"""
import csv
import glob
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdmark_suite as suites  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWN = {"own", "flash"}                      # sdmark's own kernels on CUDA
LIBRARY = {"cublas", "cudnn", "unfused", "sliced"}  # cuBLAS / cuDNN paths
PEAK = {"fp16": 100e12, "bf16": 100e12, "tf32": 50e12, "fp32": 15e12}
BW = 1.5e12


def cuda_impls():
    """{op: [impl, ...]} from cuda_ops.c (the cuDNN build: the longest list of each op)."""
    with open(os.path.join(ROOT, "src", "backends", "cuda", "cuda_ops.c")) as f:
        text = f.read()
    out = {}
    for op, var in (("gemm", "gemm"), ("conv2d", "conv"), ("attention", "attn")):
        lists = re.findall(r"sd_cuda_%s_impls\[\]\s*=\s*\{([^}]*)\}" % var, text)
        out[op] = max((re.findall(r'"([^"]+)"', l) for l in lists), key=len)
    return out


def row_seconds(wl, impl, flags):
    one = max(suites.flops(wl) / PEAK[wl["dtype"]], suites.bytes_min(wl) / BW)
    setup = 0.03 + suites.bytes_min(wl) * (2 if wl["dtype"] in ("fp16", "bf16") else 1) / 1e9
    find = 0.3 if impl == "cudnn" else 0.0
    warm = max(flags["warmup_ms"] / 1e3, one)
    sampling = min(flags["timeout"], max(flags["min_time"], flags["min_samples"] * (one + 50e-6)))
    return setup + find + warm + sampling


def phase_rows(suite_names, dtypes, impls):
    rows = []
    for name in suite_names:
        for wl in suites.load(suites.resolve(name, os.path.join(ROOT, "bench"))):
            if wl["dtype"] in dtypes:
                rows += [(wl, impl) for impl in impls[wl["op"]]]
    return rows


def parse_kv(argv):
    kv = dict(a.split("=", 1) for a in argv)
    flags = {k: float(kv[k]) for k in ("warmup_ms", "min_time", "timeout", "min_samples")}
    return kv, flags


def plan(argv):
    """argv: key=value: suites, first (dtype list that must fit), rest (dtype lists run while time
    remains, space-separated), budget, fixed (s before the runs),
    peer_start (python + torch import, s), warmup_ms, min_time, timeout, min_samples."""
    kv, flags = parse_kv(argv)
    import torch_peer
    names = kv["suites"].split(",")
    groups = [kv["first"]] + kv["rest"].split()  # dtype groups in run order, e.g. fp16 / bf16 / fp32,tf32
    phases = [(who, dts, impls) for dts in groups
              for who, impls in (("sdmark", cuda_impls()), ("torch", torch_peer.IMPLS))]
    fixed, budget = float(kv["fixed"]), float(kv["budget"])
    total = fixed
    print("plan: budget %.0f s; build + ctest reserved %.0f s" % (budget, fixed))
    print("plan: per-row flags --warmup-ms %g --min-time %g --timeout %g --min-samples %d" % (
        flags["warmup_ms"], flags["min_time"], flags["timeout"], flags["min_samples"]))
    must = fixed
    for i, (who, dts, impls) in enumerate(phases):
        rows = phase_rows(names, set(dts.split(",")), impls)
        secs = sum(row_seconds(wl, impl, flags) for wl, impl in rows)
        secs += float(kv["peer_start"]) if who == "torch" else 2.0
        total += secs
        if i < 2:
            must += secs
        per = {n: sum(1 for wl, _ in rows if wl["suite"] == n) for n in names}
        print("plan: %-6s %-10s %4d rows (%s) ~%5.0f s, %.2f s/row; cumulative ~%4.0f s%s" % (
            who, dts, len(rows), " ".join("%s %d" % kv2 for kv2 in per.items()), secs,
            secs / max(len(rows), 1), total, "" if i < 2 else "  (while time remains)"))
    fits = must <= budget
    print("plan: %s: first-dtype phases end at ~%.0f s of %.0f s; all phases ~%.0f s (the rest is cut "
          "at the deadline, rows kept)" % ("FITS" if fits else "DOES NOT FIT", must, budget, total))
    return 0 if fits else 1


def summary(argv):
    files = sorted(glob.glob(os.path.join(argv[0], "*.csv")))
    if not files:
        print("summary: no result files in %s" % argv[0])
        return 1
    status, best = {}, {}
    for path in files:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                key = (r["backend"], r["status"])
                status[key] = status.get(key, 0) + 1
                if r["status"] == "ok" and r["time_ms_median"]:
                    kind = "own" if r["impl"] in OWN else "torch" if r["backend"] == "torch" else "library"
                    k = (r["op"], r["suite"], r["label"], r["dtype"], kind)
                    best[k] = min(best.get(k, math.inf), float(r["time_ms_median"]))
    for backend in sorted({b for b, _ in status}):
        print("summary: %-6s %s" % (backend, ", ".join("%d %s" % (n, s) for (b, s), n in sorted(status.items())
                                                       if b == backend)))
    for op in ("gemm", "conv2d", "attention"):
        for other in ("library", "torch"):
            ratios = [best[k] / best[k[:4] + (other,)] for k in best
                      if k[0] == op and k[4] == "own" and k[:4] + (other,) in best]
            if ratios:
                g = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
                print("summary: %-9s own / best %-7s time: geomean %.2fx over %d workloads (<1 = own faster)"
                      % (op, other, g, len(ratios)))
    return 0


if __name__ == "__main__":
    cmds = {"plan": plan, "summary": summary}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.stderr.write("usage: gpu_session.py plan key=value... | summary RESULTS_DIR\n")
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
