#!/usr/bin/env python3
"""test_torch_peer.py — scripts/torch_peer.py against the sdmark binary.

Usage: test_torch_peer.py SDMARK_BINARY format|torch
  format  (no torch needed) the CSV header and schema version equal the binary's; the Python suite
          parser reads every committed suite into the same workloads as the C parser and refuses
          bad suites with the same file:line message.
  torch   (skips, exit 77, where PyTorch is not installed) torch_peer.py on cpu tensors: a verified
          row per supported (workload, impl) in sdmark's schema, `sdmark compare` matching them
          with sdmark's own cpu rows, `sdmark estimate` using them, and a corrupted output
          (--fault-wrong) giving `wrong` rows without a time.
"""
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import sdmark_results  # noqa: E402
import sdmark_suite  # noqa: E402

SDMARK = None
SKIP = 77
FAST = ["--min-time", "0.02", "--warmup-ms", "2", "--min-samples", "3"]
SHAPE = ("batch", "m", "n", "k", "c_in", "c_out", "h", "w", "r", "s", "stride", "pad", "batch_heads", "seq_q",
         "seq_kv", "head_dim")
# Small rows of bench/sd15.suite (same labels and shapes), fp32: estimate needs a file named sd15.
SD15_SMALL = """# small SD 1.5 rows for the estimate check
gemm       kv_ctx.64            10   m=154 n=320 k=768
conv2d     proj1x1_1280.8       2    batch=2 c_in=1280 c_out=1280 h=8 w=8 r=1 s=1 stride=1 pad=0
attention  cross.8              1    batch_heads=16 seq_q=64 seq_kv=77 head_dim=160
"""


def env():
    e = dict(os.environ, LC_ALL="C")
    e.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return e


def sdmark(*args, check=True):
    p = subprocess.run([SDMARK] + list(args), capture_output=True, text=True, env=env(), timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("sdmark %s: rc %d\n%s" % (" ".join(args), p.returncode, p.stderr[-2000:]))
    return p


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def c_rows(suite_path, dtype, out):
    """The C parser's workloads of one dtype: sdmark's cpu backend writes an instant `unsupported`
    row for each fp16/tf32 workload (it computes fp32 and bf16 only)."""
    sdmark("run", "--suite", suite_path, "--backend", "cpu", "--dtype", dtype, "--format", "csv", "--quiet",
           "--out", out)
    (path,) = glob.glob(os.path.join(out, "*.csv"))
    rows = read_csv(path)
    assert all(r["status"] == "unsupported" for r in rows), "expected the cpu backend to refuse %s" % dtype
    return rows


def key_c(r):
    return (r["op"], r["label"], r["dtype"], r["acc"], r["layout"], float(r["count_per_step"])) + tuple(
        int(r[k]) for k in SHAPE)


def key_py(wl):
    return (wl["op"], wl["label"], wl["dtype"], wl["acc"], wl["layout"], float(wl["count"])) + tuple(
        int(wl[k]) for k in SHAPE)


class Format(unittest.TestCase):
    def test_header_and_schema_equal_the_binary(self):
        with tempfile.TemporaryDirectory() as d:
            rows_dir = os.path.join(d, "r")
            c_rows(os.path.join(ROOT, "bench", "quick.suite"), "fp16", rows_dir)
            with open(glob.glob(os.path.join(rows_dir, "*.csv"))[0]) as f:
                self.assertEqual(f.readline().rstrip("\n"), sdmark_results.header())
        with open(os.path.join(ROOT, "include", "sdmark", "result.h")) as f:
            self.assertIn("#define SD_SCHEMA_VERSION %d\n" % sdmark_results.SCHEMA_VERSION, f.read())

    def test_committed_suites_parse_like_the_c_parser(self):
        for path in sorted(glob.glob(os.path.join(ROOT, "bench", "*.suite"))):
            py = sdmark_suite.load(path)
            self.assertTrue(py, path)
            # fp16 and tf32: the dtypes the cpu backend refuses (fp32 and bf16 rows would run)
            dtypes = sorted({wl["dtype"] for wl in py} & {"fp16", "tf32"})
            self.assertTrue(dtypes, "%s: no fp16/tf32 rows to compare through the cpu backend" % path)
            for dt in dtypes:
                with tempfile.TemporaryDirectory() as d:
                    c = sorted(set(key_c(r) for r in c_rows(path, dt, d)))
                want = sorted(key_py(wl) for wl in py if wl["dtype"] == dt)
                self.assertEqual(c, want, "%s dtype %s" % (path, dt))
            labels = [wl["label"] for wl in py if wl["dtype"] == py[0]["dtype"]]
            self.assertEqual(py[0]["suite"], os.path.basename(path)[:-6])
            self.assertTrue(labels)

    BAD = ["gemm a 1 m=1 n=1 k=1\n# c\ngemm b 1 m=1 n=1 k=1 dtype=fp16,fp16\n",
           "gemm a 1 m=1 n=1 k=1\ngemm a 1 m=1 n=1 k=1\n",
           "conv2d c 1 batch=1 c_in=1 c_out=1 h=4 w=4 r=3 s=3 pad=0\n",
           "attention x 1 batch_heads=1 seq_q=1 seq_kv=1 head_dim=0\n",
           "gemm a -1 m=1 n=1 k=1\n", "gemm a 1 m=1 n=1 k=1 frob=2\n", "gemm a 1 m=1 n=1 k=1 m=2\n",
           "gemm a 1 m=1x n=1 k=1\n", "matmul a 1 m=1\n", "gemm a,b 1 m=1 n=1 k=1\n", "gemm a 1\n",
           "gemm a 1 m=1 n=1 k=1 acc=bf16\n", "gemm a 1 m=1 n=1 k=1 dtype=fp8\n", "# only a comment\n",
           "gemm a 1 m=1 n=1 k=1 layout=toolongname\n", "gemm a 1 m=1 n=1 k=1 dtype=\n"]

    def test_bad_suites_give_the_c_parsers_message(self):
        with tempfile.TemporaryDirectory() as d:
            for i, text in enumerate(self.BAD):
                path = os.path.join(d, "bad%d.suite" % i)
                with open(path, "w") as f:
                    f.write(text)
                p = sdmark("run", "--suite", path, "--backend", "cpu", "--out", d, "--quiet", check=False)
                self.assertEqual(p.returncode, 2, text)
                with self.assertRaises(ValueError) as cm:
                    sdmark_suite.load(path)
                self.assertIn(str(cm.exception), p.stderr.strip(), text)

    TOL_SUITE = """gemm k.small 1 m=3 n=5 k=40 dtype=fp32,bf16,fp16,tf32
gemm k.large 1 m=2 n=3 k=9000 dtype=fp32,bf16,fp16,tf32
gemm k.acc16 1 m=2 n=3 k=5000 dtype=fp16 acc=fp16
conv2d c.k 1 batch=1 c_in=600 c_out=2 h=2 w=2 r=3 s=3 pad=1 dtype=fp32,bf16,fp16
attention a.kv 1 batch_heads=1 seq_q=2 seq_kv=5000 head_dim=8 dtype=fp32,bf16,fp16
"""

    def test_tolerance_equals_the_c_rule(self):
        """The tolerance column of sdmark's cpu rows (filled for refused dtypes too)."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tol.suite")
            with open(path, "w") as f:
                f.write(self.TOL_SUITE)
            sdmark("run", "--suite", path, "--backend", "cpu", "--format", "csv", "--quiet", "--out", d, *FAST)
            rows = [r for r in read_csv(glob.glob(os.path.join(d, "*.csv"))[0]) if r["tolerance"]]
            want = {(wl["label"], wl["dtype"]): sdmark_suite.tolerance(wl) for wl in sdmark_suite.load(path)}
        self.assertEqual({(r["label"], r["dtype"]) for r in rows}, set(want))  # every dtype and acc
        for r in rows:  # the file holds 9 significant digits
            self.assertAlmostEqual(float(r["tolerance"]) / want[(r["label"], r["dtype"])], 1, delta=1e-8, msg=r)

    def test_number_format_follows_the_c_writer(self):
        wl = sdmark_suite.load(os.path.join(HERE, "data", "tiny.suite"))[0]
        row = sdmark_results.new_row(wl)
        row.update(flops=198990.0, time_ms_median=0.1 + 0.2, reason='a, "b"')
        f = next(csv.reader([sdmark_results.format_row(row)]))
        cols = dict(zip(sdmark_results.NAMES, f))
        self.assertEqual((cols["flops"], cols["time_ms_median"], cols["tflops"], cols["throttled"]),
                         ("198990", "0.3", "", "-1"))
        self.assertEqual(cols["reason"], 'a, "b"')


class Torch(unittest.TestCase):
    def peer(self, *args):
        cmd = [sys.executable, os.path.join(ROOT, "scripts", "torch_peer.py"), "--device", "cpu", "--quiet"]
        p = subprocess.run(cmd + FAST + list(args), capture_output=True, text=True, timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        return p

    def test_rows_verified_and_matched_by_compare_and_estimate(self):
        with tempfile.TemporaryDirectory() as d:
            suite = os.path.join(d, "sd15.suite")
            with open(suite, "w") as f:
                f.write(SD15_SMALL)
            own, peer = os.path.join(d, "own"), os.path.join(d, "peer")
            sdmark("run", "--suite", suite, "--backend", "cpu", "--format", "csv", "--quiet", "--out", own, *FAST)
            self.peer("--suite", suite, "--out", peer)
            (path,) = glob.glob(os.path.join(peer, "*.csv"))
            self.assertEqual(os.listdir(peer), [os.path.basename(path)], "temp files left behind")
            with open(path) as f:
                self.assertEqual(f.readline().rstrip("\n"), open(glob.glob(own + "/*.csv")[0]).readline().rstrip())
            rows = read_csv(path)
            self.assertEqual(len(rows), 1 + 2 + 4)
            for r in rows:
                self.assertEqual(r["backend"], "torch")
                self.assertIn(r["status"], ("ok", "unsupported"), r)
                if r["status"] == "ok":
                    self.assertEqual(r["verify"], "pass")
                    self.assertLessEqual(float(r["max_rel_err"]), float(r["tolerance"]))
                    self.assertGreater(float(r["time_ms_median"]), 0)
                    self.assertEqual(r["cache_mode"], "flush")
                else:
                    self.assertTrue(r["reason"])
            ok_impls = {r["impl"] for r in rows if r["status"] == "ok"}
            self.assertTrue({"torch-mm", "torch-conv-nchw", "torch-conv-nhwc", "torch-sdpa-math"} <= ok_impls)
            # exit 1 = a regression verdict (timings on a loaded 2-core box are anything), not a mismatch
            p = sdmark("compare", "--format", "json", own, peer, check=False)
            self.assertIn(p.returncode, (0, 1), p.stderr)
            cmp = json.loads(p.stdout)
            self.assertEqual(sorted(self.matched_labels(cmp)), ["cross.8", "kv_ctx.64", "proj1x1_1280.8"])
            est = sdmark("estimate", "--suite", suite, "--vae-suite", "none", "--device", "torch", peer).stdout
            self.assertIn("sd15 on torch:", est)
            self.assertIn("coverage: 100.0 %", est)
            self.check_session_summary(own, path, rows)

    def check_session_summary(self, own, peer_csv, rows):
        """scripts/gpu_session.py summary counts the statuses of both files' rows."""
        for f in glob.glob(os.path.join(own, "*.csv")):
            os.link(f, os.path.join(os.path.dirname(peer_csv), "own-" + os.path.basename(f)))
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gpu_session.py"), "summary",
                            os.path.dirname(peer_csv)], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        n_ok = sum(1 for r in rows if r["status"] == "ok")
        self.assertIn("summary: torch  %d ok, %d unsupported" % (n_ok, len(rows) - n_ok), p.stdout)
        self.assertRegex(p.stdout, r"summary: cpu +\d+ ok")

    def matched_labels(self, doc):
        """Labels of the rows compare matched on both sides (its JSON: rows with a speedup)."""
        found = []

        def walk(x):
            if isinstance(x, dict):
                if "label" in x and x.get("speedup") is not None:
                    found.append(x["label"])
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(doc)
        return found

    def test_corrupted_output_is_wrong_and_untimed(self):
        with tempfile.TemporaryDirectory() as d:
            self.peer("--suite", os.path.join(HERE, "data", "tiny.suite"), "--out", d, "--fault-wrong")
            rows = read_csv(glob.glob(os.path.join(d, "*.csv"))[0])
            self.assertEqual(len(rows), 16)
            ran = [r for r in rows if r["status"] != "unsupported"]
            self.assertGreaterEqual(len(ran), 12)
            for r in ran:
                self.assertEqual((r["status"], r["verify"], r["time_ms_median"]), ("wrong", "fail", ""), r)
                self.assertGreater(float(r["max_rel_err"]), float(r["tolerance"]))
                self.assertIn("max_rel_err", r["reason"])


def main():
    global SDMARK
    if len(sys.argv) != 3 or sys.argv[2] not in ("format", "torch"):
        sys.stderr.write("usage: test_torch_peer.py SDMARK_BINARY format|torch\n")
        return 2
    SDMARK, group = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:  # both groups read sdmark's rows from its cpu backend
        p = sdmark("run", "--backend", "cpu", "--suite", os.path.join(ROOT, "bench", "quick.suite"), "--dtype",
                   "fp16", "--quiet", "--out", d, check=False)
    if p.returncode == 2 and "not compiled" in p.stderr:
        print("SKIP: this sdmark has no cpu backend (OpenBLAS missing at build time): %s" % p.stderr.strip())
        return SKIP
    if group == "torch":
        try:
            import torch  # noqa: F401
        except ImportError as e:
            print("SKIP: PyTorch is not installed (%s); pip install torch to run the torch peer tests" % e)
            return SKIP
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Format if group == "format" else Torch)
    ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
