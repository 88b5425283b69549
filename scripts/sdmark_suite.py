"""sdmark_suite.py — bench/NAME.suite files in Python, for peers that run sdmark's suites
(scripts/torch_peer.py).

The format is docs/suites.md's, as src/core/suite.c and src/core/workload.c read it:
    # comment (to the end of the line)
    op  label  count  key=value ...
op is gemm, conv2d or attention; `dtype=fp16,fp32` expands into one workload per dtype (default
fp32); `acc=` fp32 or fp16; `layout=`; the integer keys are the shape columns. Every error is one
line "file:line: message" (ValueError), with suite.c's wording, so both parsers refuse the same
files. Tolerance and shape arithmetic follow src/core/verify.c and src/core/workload.c.
"""
import math
import os
import re

OPS = ("gemm", "conv2d", "attention")
DTYPES = ("fp32", "tf32", "fp16", "bf16")
INT_KEYS = ("batch", "m", "n", "k", "c_in", "c_out", "h", "w", "r", "s", "stride", "pad",
            "batch_heads", "seq_q", "seq_kv", "head_dim")
NEEDED = {"gemm": ("m", "n", "k", "batch"),
          "conv2d": ("batch", "c_in", "c_out", "h", "w", "r", "s", "stride"),
          "attention": ("batch_heads", "seq_q", "seq_kv", "head_dim")}
DEFAULT_LAYOUT = {"gemm": "row", "conv2d": "NCHW", "attention": "BSD"}
NAME_LEN = 64
MAX_LINE = 4096
INT_RE = re.compile(r"^[+-]?[0-9]+$")
I64_MAX = 2 ** 63 - 1
U64_MAX = 2 ** 64 - 1


def new_workload(op):
    """A workload with sd_workload_init's defaults."""
    wl = {key: 0 for key in INT_KEYS}
    wl.update(op=op, count=1.0, dtype="fp32", acc="fp32", layout=DEFAULT_LAYOUT[op], batch=1, stride=1,
              suite="", label="", file="", line=0)
    return wl


def _clip(s, n=80):
    s = s if len(s) < n else s[:n - 4] + "..."
    return "".join(c if c.isprintable() else "?" for c in s)


def _count(tok):
    """strtod's accepted forms that matter here; anything else is refused like suite.c does."""
    try:
        v = float(tok)
    except ValueError:
        return None
    if "_" in tok or tok.strip() != tok or tok.lower() in ("nan", "inf", "-inf", "+inf", "infinity"):
        return None
    return v if (v >= 0 and v <= 1e9) else None


def _dtype_list(val):
    if len(val) >= 128:
        raise ValueError("unknown dtype '%s' (expected fp32, tf32, fp16, bf16)" % _clip(val))
    out = []
    for d in [x for x in val.split(",") if x]:
        if d not in DTYPES or len(out) == len(DTYPES):
            raise ValueError("unknown dtype '%s' (expected fp32, tf32, fp16, bf16)" % _clip(d))
        if d in out:
            raise ValueError("dtype '%s' listed twice" % d)
        out.append(d)
    if not out:
        raise ValueError("empty dtype list")
    return out


def _apply_key(wl, key, val, seen, dtypes):
    """One key=value into wl (or dtypes); raises ValueError with suite.c's message."""
    if key in seen:
        raise ValueError("key '%s' given twice" % key)
    if key == "dtype":
        dtypes[:] = _dtype_list(val)
    elif key == "acc":
        if val not in ("fp32", "fp16"):
            raise ValueError("invalid acc '%s' (expected fp32 or fp16)" % _clip(val))
        wl["acc"] = val
    elif key == "layout":
        if len(val) >= 8:
            raise ValueError("invalid layout '%s'" % _clip(val))
        wl["layout"] = val
    elif key in INT_KEYS:
        if not INT_RE.match(val) or not -2 ** 63 <= int(val) <= I64_MAX:
            raise ValueError("invalid value '%s' for %s (an integer)" % (_clip(val), key))
        wl[key] = int(val)
    else:
        raise ValueError("unknown key '%s'" % _clip(key))
    seen.add(key)


def _prod_ok(*dims):
    p = 1
    for d in dims:
        p *= d
    return p <= U64_MAX


def validate(wl):
    """sd_workload_validate: raises ValueError with its message."""
    op = wl["op"]
    for key in NEEDED[op]:
        if wl[key] <= 0:
            raise ValueError("%s=%d must be a positive integer (impossible shape)" % (key, wl[key]))
    if wl["pad"] < 0:
        raise ValueError("pad=%d must not be negative" % wl["pad"])
    g = wl.get
    if op == "conv2d":
        if max(g("r"), g("s"), g("stride"), g("pad")) > 64:
            raise ValueError("r, s, stride and pad must be <= 64")
        ok = (_prod_ok(g("batch"), g("c_in"), g("h"), g("stride"), g("w"), g("stride"), 4)
              and _prod_ok(g("c_out"), g("c_in"), g("r"), g("s"), 4)
              and _prod_ok(g("batch"), g("c_out"), g("h"), g("w"), g("c_in"), g("r"), g("s"), 2))
        if ok:
            _check_conv_out(wl)
    elif op == "gemm":
        ok = _prod_ok(g("batch"), g("m"), g("k"), 4) and _prod_ok(g("batch"), g("k"), g("n"), 4) and \
            _prod_ok(g("batch"), g("m"), g("n"), g("k"), 2)
    else:
        ok = _prod_ok(g("batch_heads"), g("seq_q"), g("seq_kv"), g("head_dim"), 4)
    if not ok:
        raise ValueError("shape too large: a tensor's byte count overflows 64 bits")


def _check_conv_out(wl):
    ih, iw = wl["h"] * wl["stride"], wl["w"] * wl["stride"]
    oh = (ih + 2 * wl["pad"] - wl["r"]) // wl["stride"] + 1
    ow = (iw + 2 * wl["pad"] - wl["s"]) // wl["stride"] + 1
    if ih + 2 * wl["pad"] < wl["r"] or oh != wl["h"] or ow != wl["w"]:
        raise ValueError("impossible conv shape: input %dx%d (h*stride) with r=%d s=%d pad=%d stride=%d gives "
                         "%dx%d, not h=%d w=%d" % (ih, iw, wl["r"], wl["s"], wl["pad"], wl["stride"], oh, ow,
                                                   wl["h"], wl["w"]))


def parse_line(text, suite, path, lineno, labels):
    """One non-empty line -> list of workloads (one per dtype). Raises ValueError (no prefix)."""
    toks = [t for t in re.split(r"[ \t]+", text) if t]
    if len(toks) < 3:
        raise ValueError("expected 'op label count key=value...'")
    op, label, count_s = toks[:3]
    if op not in OPS:
        raise ValueError("unknown op '%s' (expected gemm, conv2d or attention)" % _clip(op))
    if len(label.encode("utf-8", "surrogateescape")) >= NAME_LEN or any(c in label for c in "=,\""):
        raise ValueError("invalid label '%s' (max 63 chars, no '=', ',' or quotes)" % _clip(label))
    if label in labels:
        raise ValueError("duplicate label '%s' (first defined on line %d)" % (label, labels[label]))
    wl = new_workload(op)
    wl.update(suite=suite, label=label, file=path, line=lineno)
    wl["count"] = _count(count_s)
    if wl["count"] is None:
        raise ValueError("invalid count '%s' (a number >= 0)" % _clip(count_s))
    seen, dtypes = set(), ["fp32"]
    for kv in toks[3:]:
        key, eq, val = kv.partition("=")
        if not eq or not key:
            raise ValueError("expected key=value, got '%s'" % _clip(kv))
        _apply_key(wl, key, val, seen, dtypes)
    validate(wl)
    labels[label] = lineno
    return [dict(wl, dtype=d) for d in dtypes]


def parse(text, suite, path):
    """Parse suite text (str). Returns the workload list; raises ValueError('path:line: msg')."""
    if text.startswith("\ufeff"):
        text = text[1:]
    items, labels = [], {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        if "\0" in raw:
            raise ValueError("%s:%d: binary data (NUL byte) in a text suite file" % (path, lineno))
        nbytes = len(raw.encode("utf-8", "surrogateescape"))
        if nbytes > MAX_LINE:
            raise ValueError("%s:%d: line too long (%d bytes, max 4096)" % (path, lineno, nbytes))
        line = raw[:-1] if raw.endswith("\r") else raw
        line = line.split("#", 1)[0].strip(" \t")
        if not line:
            continue
        if any(ord(c) < 0x20 and c != "\t" for c in line):
            raise ValueError("%s:%d: control character in line (not a text suite file?)" % (path, lineno))
        try:
            items += parse_line(line, suite, path, lineno, labels)
        except ValueError as e:
            raise ValueError("%s:%d: %s" % (path, lineno, e)) from None
    if not items:
        raise ValueError("%s: no workloads (empty suite file)" % path)
    return items


def load(path):
    """Parse a suite file; its name is the file stem (sd_suite_load)."""
    if os.path.isdir(path):
        raise ValueError("%s: is a directory, not a suite file" % path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError("%s: cannot open suite file: %s" % (path, e.strerror)) from None
    stem = os.path.basename(path)
    stem = stem[:stem.rindex(".")] if "." in stem[1:] else stem
    return parse(data.decode("utf-8", "surrogateescape"), stem, path)


def resolve(name, bench_dir):
    """--suite NAME|FILE as sd_suite_resolve: a path, else <bench dir>/NAME.suite."""
    if "/" in name or name.endswith(".suite"):
        if os.path.isfile(name):
            return name
        raise ValueError("%s: suite file not found" % name)
    for d in (os.environ.get("SDMARK_BENCH_DIR"), bench_dir, "bench"):
        if d and os.path.isfile(os.path.join(d, name + ".suite")):
            return os.path.join(d, name + ".suite")
    raise ValueError("unknown suite '%s' (no file %s/%s.suite; give a path or set SDMARK_BENCH_DIR)"
                     % (name, bench_dir, name))


# ---- shape arithmetic (workload.c) and tolerance (verify.c) -----------------------------

def tensors(wl):
    """Element counts: ([inputs...], output)."""
    g = wl.get
    if wl["op"] == "gemm":
        return [g("batch") * g("m") * g("k"), g("batch") * g("k") * g("n")], g("batch") * g("m") * g("n")
    if wl["op"] == "conv2d":
        x = g("batch") * g("c_in") * g("h") * g("stride") * g("w") * g("stride")
        return [x, g("c_out") * g("c_in") * g("r") * g("s")], g("batch") * g("c_out") * g("h") * g("w")
    q = g("batch_heads") * g("seq_q") * g("head_dim")
    kv = g("batch_heads") * g("seq_kv") * g("head_dim")
    return [q, kv, kv], q


def flops(wl):
    g = wl.get
    if wl["op"] == "gemm":
        return 2.0 * g("batch") * g("m") * g("n") * g("k")
    if wl["op"] == "conv2d":
        return 2.0 * g("batch") * g("c_out") * g("h") * g("w") * g("c_in") * g("r") * g("s")
    return 4.0 * g("batch_heads") * g("seq_q") * g("seq_kv") * g("head_dim")


def dtype_size(dtype):
    return 2 if dtype in ("fp16", "bf16") else 4


def bytes_min(wl):
    ins, out = tensors(wl)
    return float(sum(ins) + out) * dtype_size(wl["dtype"])


def reduction_len(wl):
    if wl["op"] == "gemm":
        return float(wl["k"])
    if wl["op"] == "conv2d":
        return float(wl["c_in"] * wl["r"] * wl["s"])
    return float(max(wl["seq_kv"], wl["head_dim"]))


def tolerance(wl):
    """sd_verify_tolerance: base by dtype (and acc), scaled by sqrt(K/4096) beyond K = 4096."""
    base = {"fp32": 1e-4, "tf32": 5e-3, "bf16": 3e-2}.get(wl["dtype"], 1e-4)
    if wl["dtype"] == "fp16":
        base = 2e-2 if wl["acc"] == "fp16" else 5e-3
    k = reduction_len(wl)
    return base * math.sqrt(k / 4096.0) if k > 4096 else base


def shape_str(wl):
    """sd_workload_shape_str (part of the key rows are matched by)."""
    g = wl.get
    if wl["op"] == "gemm":
        s = "m=%d n=%d k=%d" % (g("m"), g("n"), g("k"))
        return ("b=%d " % g("batch") + s) if g("batch") > 1 else s
    if wl["op"] == "conv2d":
        return "%dx%dx%dx%d->%d %dx%d s%d p%d" % (g("batch"), g("c_in"), g("h"), g("w"), g("c_out"), g("r"),
                                                 g("s"), g("stride"), g("pad"))
    return "bh=%d q=%d kv=%d d=%d" % (g("batch_heads"), g("seq_q"), g("seq_kv"), g("head_dim"))
