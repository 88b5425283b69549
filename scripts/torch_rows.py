"""torch_rows.py — one torch_peer.py row: inputs, the op, verification, timing (see torch_peer.py).

Timing follows sdmark's harness (src/core/measure.c): warm-up for --warmup-ms (cudnn.benchmark's
search happens there), then one op per sample until the noise of batch medians is <= --max-noise
(with >= 10 samples), or --min-time has passed with >= --min-samples, or --timeout.
"""
import contextlib
import math
import os
import platform
import time
import warnings

import torch
import torch.nn.functional as F

import torch_verify

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
SDPA = {"torch-sdpa-flash": "FLASH_ATTENTION", "torch-sdpa-efficient": "EFFICIENT_ATTENTION",
        "torch-sdpa-cudnn": "CUDNN_ATTENTION", "torch-sdpa-math": "MATH"}
HOLD_CYCLES = 400000  # ~200 us spin at GPU clocks: covers enqueueing flush + events + op from Python


class Unsupported(Exception):
    pass


def _llc_bytes():
    """Largest CPU cache level in sysfs (the one a flush must evict), else 32 MiB."""
    best, base = 0, "/sys/devices/system/cpu/cpu0/cache"
    for idx in (os.listdir(base) if os.path.isdir(base) else []):
        try:
            with open(os.path.join(base, idx, "size")) as f:
                s = f.read().strip()
            best = max(best, int(s[:-1]) * {"K": 1 << 10, "M": 1 << 20}.get(s[-1], 1) if s[-1] in "KM"
                       else int(s))
        except (OSError, ValueError):
            pass
    return best or 32 << 20


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Device:
    """The torch device of the run, its CSV device columns, its timer and its cache flush."""

    def __init__(self, spec):
        spec = spec or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dev = torch.device(spec)
        if self.dev.type == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError("CUDA is not available to this torch build")
            if self.dev.index is None:
                self.dev = torch.device("cuda", torch.cuda.current_device())
            torch.cuda.set_device(self.dev)
            self.info = self._cuda_info()
            torch.backends.cudnn.benchmark = True
        elif self.dev.type == "cpu":
            self.info = self._cpu_info()
        else:
            raise ValueError("expected cpu, cuda or cuda:N")
        flush_bytes = max(2 * int(self.info["last_level_cache_bytes"]), 8 << 20)
        self.flush_buf = torch.empty(flush_bytes // 4, dtype=torch.float32, device=self.dev)

    def _cuda_info(self):
        p = torch.cuda.get_device_properties(self.dev)
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        return {"backend": "torch", "device_kind": "gpu", "device_name": p.name, "arch": "sm_%d%d" % (p.major, p.minor),
                "driver_version": "CUDA %s" % torch.version.cuda,
                "api_version": "torch %s cuDNN %s" % (torch.__version__.split("+")[0], cudnn),
                "compute_units": p.multi_processor_count, "threads": 0, "clock_mhz": 0,
                "mem_bytes": p.total_memory, "last_level_cache_bytes": getattr(p, "L2_cache_size", 50 << 20)}

    def _cpu_info(self):
        return {"backend": "torch", "device_kind": "cpu", "device_name": _cpu_name(), "arch": platform.machine(),
                "driver_version": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu")
                else "", "api_version": "torch %s" % torch.__version__.split("+")[0],
                "compute_units": os.cpu_count() or 0, "threads": torch.get_num_threads(), "clock_mhz": 0,
                "mem_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "last_level_cache_bytes": _llc_bytes()}

    @property
    def cuda(self):
        return self.dev.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize(self.dev)

    def sample_ms(self, fn):
        """One timed run of fn with a cold cache: flush (outside the clock), then time fn alone."""
        if not self.cuda:
            self.flush_buf.zero_()
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        if hasattr(torch.cuda, "_sleep"):
            torch.cuda._sleep(HOLD_CYCLES)  # the GPU spins while the host enqueues what follows
        self.flush_buf.zero_()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)


def _classify(e):
    """Exception -> (status, reason)."""
    msg = str(e).strip().split("\n")[0][:230]
    if isinstance(e, Unsupported):
        return "unsupported", msg
    if isinstance(e, MemoryError) or "out of memory" in msg.lower() or "can't allocate memory" in msg.lower():
        return "oom", "%s: %s" % (type(e).__name__, msg)
    if isinstance(e, NotImplementedError) or any(
            m in msg for m in ("not implemented for", "No available kernel", "No viable backend")):
        return "unsupported", "%s: %s" % (type(e).__name__, msg)
    return "error", "%s: %s" % (type(e).__name__, msg)


def make_inputs(dev, wl, impl, seed):
    """Uniform [-1, 1) inputs in the row's dtype (the reference reads these same rounded values)."""
    g = torch.Generator(device=dev.dev).manual_seed(seed)
    dt = DTYPES[wl["dtype"]]

    def rnd(*shape):
        return (torch.rand(*shape, generator=g, device=dev.dev) * 2 - 1).to(dt)
    if wl["op"] == "gemm":
        bt = (wl["batch"],) if wl["batch"] > 1 else ()
        return [rnd(*bt, wl["m"], wl["k"]), rnd(*bt, wl["k"], wl["n"])]
    if wl["op"] == "conv2d":
        x = rnd(wl["batch"], wl["c_in"], wl["h"] * wl["stride"], wl["w"] * wl["stride"])
        w = rnd(wl["c_out"], wl["c_in"], wl["r"], wl["s"])
        if impl == "torch-conv-nhwc":
            x, w = x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last)
        return [x, w]
    bh, d = wl["batch_heads"], wl["head_dim"]
    return [rnd(1, bh, wl["seq_q"], d), rnd(1, bh, wl["seq_kv"], d), rnd(1, bh, wl["seq_kv"], d)]


def op_fn(wl, impl, inputs):
    if wl["op"] == "gemm":
        return lambda: torch.matmul(inputs[0], inputs[1])
    if wl["op"] == "conv2d":
        return lambda: F.conv2d(inputs[0], inputs[1], stride=wl["stride"], padding=wl["pad"])
    return lambda: F.scaled_dot_product_attention(inputs[0], inputs[1], inputs[2])


@contextlib.contextmanager
def row_context(dev, wl, impl):
    """Math mode of the row (tf32 only for dtype tf32) and, for SDPA, the one allowed backend."""
    tf32 = wl["dtype"] == "tf32"
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    try:
        if impl in SDPA:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            if not hasattr(SDPBackend, SDPA[impl]):
                raise Unsupported("torch %s has no SDPBackend.%s" % (torch.__version__, SDPA[impl]))
            with sdpa_kernel([getattr(SDPBackend, SDPA[impl])]):
                yield
        else:
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def check_supported(dev, wl):
    if wl["acc"] != "fp32":
        raise Unsupported("torch has no switch for acc=%s (cuBLAS/cuDNN pick the accumulator)" % wl["acc"])
    if wl["dtype"] == "tf32" and not dev.cuda:
        raise Unsupported("tf32 is a CUDA tensor-core mode; no tf32 path on the cpu")


# ---- statistics and the stopping rule (src/core/measure.c) ---------------------------------

def percentile(s, pct):
    """Linear interpolation on sorted samples (sd_percentile_sorted)."""
    if len(s) == 1 or pct <= 0:
        return s[0]
    pos = pct / 100.0 * (len(s) - 1)
    i = int(math.floor(pos))
    if i >= len(s) - 1:
        return s[-1]
    return s[i] * (1 - (pos - i)) + s[i + 1] * (pos - i)


def _rel_std(x):
    if len(x) < 2:
        return float("nan")
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / (len(x) - 1)
    return math.sqrt(var) / mean if mean > 0 else float("nan")


def noise(samples):
    """Relative stdev of the medians of consecutive batches of 5 (of the samples when < 10)."""
    if len(samples) < 2 * 5:
        return _rel_std(samples)
    return _rel_std([sorted(samples[b:b + 5])[2] for b in range(0, len(samples) - 4, 5)])


def should_stop(args, samples, elapsed):
    n = len(samples)
    if n >= 10000:
        return "max_samples"
    if elapsed >= args.timeout and n >= 1:
        return "timeout"
    if n < args.min_samples:
        return None
    if n % 5 == 0 and n >= 10 and noise(samples) <= args.max_noise / 100.0:
        return "noise"
    return "min_time" if elapsed >= args.min_time else None


def measure(dev, fn, args, row):
    """Warm-up then samples; fills the method and result columns of row."""
    t0 = time.perf_counter()
    while True:
        fn()
        dev.sync()
        if (time.perf_counter() - t0) * 1e3 >= args.warmup_ms:
            break
    row["warmup_ms"] = (time.perf_counter() - t0) * 1e3
    samples, t0 = [], time.perf_counter()
    while True:
        samples.append(dev.sample_ms(fn))
        stop = should_stop(args, samples, time.perf_counter() - t0)
        if stop:
            break
    s = sorted(samples)
    med = percentile(s, 50)
    row.update(samples=len(s), stop_reason=stop, time_ms_median=med, time_ms_min=s[0],
               time_ms_p10=percentile(s, 10), time_ms_p90=percentile(s, 90), rel_noise=noise(samples),
               timer="cuda_event" if dev.cuda else "host_monotonic", cache_mode="flush")
    if med > 0:
        row.update(tflops=row["flops"] / (med * 1e-3) / 1e12, gbs=row["bytes_min"] / (med * 1e-3) / 1e9)


def _note(dev, wl, impl):
    """What the row ran, for the reason column of an ok row."""
    if wl["op"] == "conv2d":
        return "F.conv2d %s%s" % ("channels_last" if impl.endswith("nhwc") else "NCHW",
                                  ", cudnn.benchmark" if dev.cuda else "")
    if wl["op"] == "attention":
        return "F.scaled_dot_product_attention, SDPBackend.%s only" % SDPA[impl]
    return "torch.matmul"


def _verify_and_time(dev, wl, impl, args, row, seed):
    base = torch.cuda.memory_allocated(dev.dev) if dev.cuda else 0
    if dev.cuda:
        torch.cuda.reset_peak_memory_stats(dev.dev)
    inputs = make_inputs(dev, wl, impl, seed)
    fn = op_fn(wl, impl, inputs)
    with warnings.catch_warnings(record=True) as caught, row_context(dev, wl, impl):
        warnings.simplefilter("always")
        try:
            out = fn()
        except RuntimeError as e:  # SDPA says why a backend refused in its warnings
            why = "; ".join(str(w.message).split("\n")[0] for w in caught)[:200]
            who = "SDPBackend.%s: " % SDPA[impl] if impl in SDPA else ""
            raise RuntimeError("%s%s%s" % (who, str(e).split("\n")[0], " (%s)" % why if why else "")) from None
        dev.sync()
        if args.fault_wrong:
            out = out * 1.25
        ok, rel, tol, reason = torch_verify.verify(wl, inputs, out)
        del out
        row.update(verify="pass" if ok else "fail", max_rel_err=rel, tolerance=tol)
        if not ok:
            row.update(status="wrong", reason=reason)
            return
        measure(dev, fn, args, row)
    if dev.cuda:
        row["peak_mem_bytes"] = torch.cuda.max_memory_allocated(dev.dev) - base
    row.update(status="ok", reason=_note(dev, wl, impl))


def run_row(dev, wl, impl, args, row, seed):
    """Fill row: status ok (verified, timed), wrong, unsupported, oom or error; never raises."""
    try:
        check_supported(dev, wl)
        _verify_and_time(dev, wl, impl, args, row, seed)
    except Exception as e:  # every failure is a row, like sdmark's
        row["status"], row["reason"] = _classify(e)
        for k in ("time_ms_median", "time_ms_min", "time_ms_p10", "time_ms_p90", "tflops", "gbs"):
            row[k] = None
    finally:
        if dev.cuda:
            torch.cuda.empty_cache()
