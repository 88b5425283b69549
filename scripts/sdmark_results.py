"""sdmark_results.py — sdmark's results CSV (schema in src/core/result_file.c, version in
include/sdmark/result.h) for peers written in Python.

COLUMNS is the column table in order; tests/test_torch_peer.py checks it against the header the
built sdmark binary writes, so a schema change there fails the test here. Numbers follow the C
writer: unknown -> empty field, whole numbers exactly, fractions to 9 significant digits.
The file is rewritten after every row: temp file in the same directory, fsync, rename.
"""
import math
import os
import tempfile

SCHEMA_VERSION = 3

# (name, kind, max string length incl. NUL in sdmark's reader; 0 = not a string)
COLUMNS = [
    ("schema_version", "int", 0), ("sdmark_version", "str", 32), ("git_commit", "str", 48),
    ("run_id", "str", 48), ("timestamp_utc", "str", 32), ("host", "str", 64),
    ("backend", "str", 16), ("device_kind", "str", 8), ("device_name", "str", 128), ("arch", "str", 64),
    ("driver_version", "str", 64), ("api_version", "str", 64), ("compute_units", "int", 0),
    ("threads", "int", 0), ("clock_mhz", "int", 0), ("mem_bytes", "int", 0), ("last_level_cache_bytes", "int", 0),
    ("suite", "str", 64), ("op", "str", 16), ("impl", "str", 32), ("label", "str", 64), ("dtype", "str", 8),
    ("acc", "str", 8), ("layout", "str", 8), ("batch", "int", 0), ("m", "int", 0), ("n", "int", 0),
    ("k", "int", 0), ("c_in", "int", 0), ("c_out", "int", 0), ("h", "int", 0), ("w", "int", 0),
    ("r", "int", 0), ("s", "int", 0), ("stride", "int", 0), ("pad", "int", 0), ("batch_heads", "int", 0),
    ("seq_q", "int", 0), ("seq_kv", "int", 0), ("head_dim", "int", 0), ("count_per_step", "dbl", 0),
    ("flops", "dbl", 0), ("bytes_min", "dbl", 0),
    ("timer", "str", 24), ("cache_mode", "str", 8), ("warmup_ms", "dbl", 0), ("samples", "int", 0),
    ("stop_reason", "str", 24),
    ("time_ms_median", "dbl", 0), ("time_ms_min", "dbl", 0), ("time_ms_p10", "dbl", 0),
    ("time_ms_p90", "dbl", 0), ("rel_noise", "dbl", 0), ("tflops", "dbl", 0), ("gbs", "dbl", 0),
    ("pct_of_spec", "dbl", 0),
    ("clock_mhz_mean", "dbl", 0), ("temp_c_max", "dbl", 0), ("power_w_mean", "dbl", 0),
    ("throttled", "int", 0), ("peak_mem_bytes", "dbl", 0),
    ("verify", "str", 8), ("max_rel_err", "dbl", 0), ("tolerance", "dbl", 0), ("status", "str", 16),
    ("reason", "str", 256),
]
NAMES = [c[0] for c in COLUMNS]
WORKLOAD_KEYS = ("suite", "op", "label", "dtype", "acc", "layout", "batch", "m", "n", "k", "c_in", "c_out",
                 "h", "w", "r", "s", "stride", "pad", "batch_heads", "seq_q", "seq_kv", "head_dim")


def header():
    return ",".join(NAMES)


def new_row(wl):
    """A row for workload wl with sd_result_init's defaults (unknown numbers, verify none)."""
    row = {name: None for name in NAMES}
    row.update({k: wl[k] for k in WORKLOAD_KEYS})
    row.update(schema_version=SCHEMA_VERSION, count_per_step=wl["count"], throttled=-1, verify="none",
               status="error", reason="", samples=0)
    return row


def _num(v, kind):
    if v is None:
        return "" if kind == "dbl" else "0"
    if kind == "int":
        return "%d" % int(v)
    v = float(v)
    if not math.isfinite(v):
        return ""
    if v == math.floor(v) and abs(v) < 9007199254740992.0:
        return "%.0f" % v
    return "%.9g" % v


def _field(s):
    s = s.replace("\n", " ").replace("\r", " ")
    if any(c in s for c in ",\"\n\r"):
        return '"' + s.replace('"', '""') + '"'
    return s


def format_row(row):
    out = []
    for name, kind, size in COLUMNS:
        v = row.get(name)
        if kind == "str":
            s = "" if v is None else str(v)
            while len(s.encode("utf-8", "replace")) >= size:  # what sdmark's reader accepts
                s = s[:-1]
            out.append(_field(s))
        else:
            out.append(_num(v, kind))
    return ",".join(out)


def write_csv(path, rows):
    """Write all rows to path atomically (a reader never sees a half-written file)."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(header() + "\n")
            for r in rows:
                f.write(format_row(r) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def slug(backend, name):
    """sd_device_slug: "<backend>-<name>" lower-case alphanumerics, runs of others as one '-'."""
    out, dash = [], False
    for c in "%s-%s" % (backend, name):
        if len(out) >= 80:
            break
        if c.isascii() and c.isalnum():
            out.append(c.lower())
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).rstrip("-")
