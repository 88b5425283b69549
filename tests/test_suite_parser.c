/* test_suite_parser.c — the suite file parser (src/core/suite.c): valid syntax variants and every
 * malformed input, each with its exact one-line "file:line: message" error, plus sd_suite_resolve.
 * Fixtures are written to a private mkdtemp() directory by the tests themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdmark/bench_dir.h"
#include "sdmark/suite.h"
#include "sdmark/workload.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/sdmark-suite-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write `len` bytes to tmpdir/name; the full path goes to path. */
static void write_fixture(const char *name, const char *data, size_t len, char *path, size_t plen)
{
    snprintf(path, plen, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Parse text from memory as "t.suite" and expect success. */
static void parse_ok(const char *text, size_t len, struct sd_suite *s)
{
    char err[512] = "";
    int rc = sd_suite_parse("t", "t.suite", text, len, s, err, sizeof err);
    if (rc)
        print_error("unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
}

/* Parse text from memory as "t.suite" and expect exactly the error `want`. */
static void parse_err_len(const char *text, size_t len, const char *want)
{
    struct sd_suite s;
    char err[512] = "";
    int rc = sd_suite_parse("t", "t.suite", text, len, &s, err, sizeof err);
    if (rc == 0)
        print_error("expected error '%s' but the parse succeeded (%zu items)\n", want, s.n);
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
    /* A failed parse leaves an empty suite that is safe to free again. */
    assert_null(s.items);
    assert_null(s.path);
    assert_int_equal(s.n, 0);
    sd_suite_free(&s);
}
#define parse_err(text, want) parse_err_len(text, strlen(text), want)

/* ------------------------------------------------------------------ valid files */

static void test_comments_blank_lines_tabs(void **state)
{
    (void)state;
    const char *text = "# header comment\n"
                       "\n"
                       "   \t  \n"
                       "gemm\ta.1   2.5\t m=8 n=16 k=32   # trailing comment\n"
                       "    # indented comment\n"
                       "attention  b  0  batch_heads=2 seq_q=3 seq_kv=4 head_dim=5";  /* no final newline */
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.name, "t");
    assert_string_equal(s.path, "t.suite");
    const struct sd_workload *a = &s.items[0], *b = &s.items[1];
    assert_int_equal(a->op, SD_OP_GEMM);
    assert_string_equal(a->label, "a.1");
    assert_string_equal(a->suite, "t");
    assert_true(a->count == 2.5);
    assert_int_equal(a->m, 8);
    assert_int_equal(a->n, 16);
    assert_int_equal(a->k, 32);
    assert_int_equal(a->line, 4);
    assert_ptr_equal(a->file, s.path);
    assert_int_equal(b->op, SD_OP_ATTENTION);
    assert_string_equal(b->label, "b");
    assert_true(b->count == 0);
    assert_int_equal(b->batch_heads, 2);
    assert_int_equal(b->seq_q, 3);
    assert_int_equal(b->seq_kv, 4);
    assert_int_equal(b->head_dim, 5);
    assert_int_equal(b->line, 6);
    sd_suite_free(&s);
    assert_null(s.items);
    sd_suite_free(&s); /* idempotent */
}

static void test_crlf_line_endings(void **state)
{
    (void)state;
    const char *text = "# crlf\r\n\r\ngemm a 1 m=1 n=2 k=3\r\ngemm b 1 m=4 n=5 k=6 dtype=fp16\r\n";
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.items[0].k, 3);
    assert_int_equal(s.items[0].line, 3);
    assert_int_equal(s.items[1].k, 6);
    assert_int_equal(s.items[1].dtype, SD_FP16);
    assert_int_equal(s.items[1].line, 4);
    sd_suite_free(&s);
    /* A CR anywhere but at the end of a line is a control character. */
    parse_err("gemm a 1 m=1\rn=2 k=3\n", "t.suite:1: control character in line (not a text suite file?)");
}

static void test_utf8_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBFgemm a 1 m=1 n=2 k=3\n";
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].op, SD_OP_GEMM);
    assert_string_equal(s.items[0].label, "a");
    sd_suite_free(&s);
    /* BOM followed by a comment, CRLF */
    const char *t2 = "\xEF\xBB\xBF# c\r\nconv2d c 1 c_in=1 c_out=1 h=4 w=4 r=1 s=1\r\n";
    parse_ok(t2, strlen(t2), &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].line, 2);
    sd_suite_free(&s);
    /* A BOM in the middle of the file is not skipped: it becomes part of the op token. */
    parse_err("gemm a 1 m=1 n=1 k=1\n\xEF\xBB\xBFgemm b 1 m=1 n=1 k=1\n",
              "t.suite:2: unknown op '???gemm' (expected gemm, conv2d or attention)");
}

static void test_dtype_list_expansion(void **state)
{
    (void)state;
    const char *text = "gemm a 3 m=2 n=3 k=4 dtype=fp16,fp32,bf16,tf32\n"
                       "gemm b 1 m=2 n=3 k=4\n";
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 5);
    const enum sd_dtype want[] = {SD_FP16, SD_FP32, SD_BF16, SD_TF32, SD_FP32};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(s.items[i].dtype, want[i]);
        assert_string_equal(s.items[i].label, i < 4 ? "a" : "b");
        assert_int_equal(s.items[i].line, i < 4 ? 1 : 2);
        assert_int_equal(s.items[i].m, 2);
    }
    /* FLOPs per call count each label once, not once per dtype. */
    assert_true(sd_suite_flops_per_call(&s) == 3 * 2.0 * 2 * 3 * 4 + 1 * 2.0 * 2 * 3 * 4);
    sd_suite_free(&s);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *text = "gemm g 1 m=1 n=1 k=1\n"
                       "conv2d c 1 c_in=2 c_out=3 h=4 w=5 r=1 s=1\n"
                       "attention a 1 batch_heads=1 seq_q=1 seq_kv=1 head_dim=1\n";
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s.items[i].dtype, SD_FP32);
        assert_int_equal(s.items[i].acc, SD_FP32);
        assert_int_equal(s.items[i].batch, 1);
        assert_int_equal(s.items[i].stride, 1);
        assert_int_equal(s.items[i].pad, 0);
    }
    assert_string_equal(s.items[0].layout, "row");
    assert_string_equal(s.items[1].layout, "NCHW");
    assert_string_equal(s.items[2].layout, "BSD");
    assert_int_equal(s.items[1].c_in, 2);
    assert_int_equal(s.items[1].c_out, 3);
    assert_int_equal(s.items[1].h, 4);
    assert_int_equal(s.items[1].w, 5);
    sd_suite_free(&s);
}

static void test_explicit_keys(void **state)
{
    (void)state;
    const char *text = "conv2d down 1e1 batch=2 c_in=320 c_out=320 h=32 w=32 r=3 s=3 stride=2 pad=1 "
                       "dtype=fp16 acc=fp16 layout=NHWC\n"
                       "gemm b 0.5 batch=4 m=2 n=2 k=2 acc=fp32\n";
    struct sd_suite s;
    parse_ok(text, strlen(text), &s);
    assert_int_equal(s.n, 2);
    const struct sd_workload *c = &s.items[0];
    assert_true(c->count == 10);
    assert_int_equal(c->batch, 2);
    assert_int_equal(c->stride, 2);
    assert_int_equal(c->pad, 1);
    assert_int_equal(c->dtype, SD_FP16);
    assert_int_equal(c->acc, SD_FP16);
    assert_string_equal(c->layout, "NHWC");
    assert_int_equal(sd_conv_in_h(c), 64);
    assert_int_equal(s.items[1].batch, 4);
    assert_true(s.items[1].count == 0.5);
    sd_suite_free(&s);
}

static void test_load_file_and_name(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    const char *text = "gemm a 1 m=1 n=2 k=3\n";
    write_fixture("my.model.suite", text, strlen(text), path, sizeof path);
    struct sd_suite s;
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), 0);
    assert_string_equal(s.name, "my.model");
    assert_string_equal(s.path, path);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.items[0].suite, "my.model");
    assert_string_equal(s.items[0].file, path);
    sd_suite_free(&s);
    /* A large valid file (more than the loader's first 64 KiB buffer, many rows). */
    size_t cap = 400000, len = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    for (int i = 0; len + 100 < cap; i++)
        len += (size_t)snprintf(big + len, cap - len, "gemm row%d 1 m=%d n=8 k=8 # padding padding\n", i, i + 1);
    write_fixture("big.suite", big, len, path, sizeof path);
    free(big);
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), 0);
    assert_true(s.n > 5000);
    assert_int_equal(s.items[s.n - 1].m, (int64_t)s.n);
    sd_suite_free(&s);
}

/* ------------------------------------------------------------------ malformed input */

static void test_empty_file(void **state)
{
    (void)state;
    char path[512], want[700], err[512] = "";
    struct sd_suite s;
    write_fixture("empty.suite", "", 0, path, sizeof path);
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: no workloads (empty suite file)", path);
    assert_string_equal(err, want);
    assert_null(s.items);
    /* Comments / blank lines / a BOM only: still empty. */
    parse_err("# nothing\n\n   \n\t\n", "t.suite: no workloads (empty suite file)");
    parse_err("\xEF\xBB\xBF", "t.suite: no workloads (empty suite file)");
    parse_err_len("", 0, "t.suite: no workloads (empty suite file)");
}

static void test_binary_garbage(void **state)
{
    (void)state;
    static const char nul[] = "gemm a 1 m=1 n=1 k=1\ngemm b\0 1 m=1 n=1 k=1\n";
    parse_err_len(nul, sizeof nul - 1, "t.suite:2: binary data (NUL byte) in a text suite file");
    /* NUL inside a comment is still binary data */
    static const char nul2[] = "# \0\n";
    parse_err_len(nul2, sizeof nul2 - 1, "t.suite:1: binary data (NUL byte) in a text suite file");
    parse_err("gemm a 1 m=1 n=1 k=1\x1b[31m\n", "t.suite:1: control character in line (not a text suite file?)");
    parse_err("\x01\x02\x03\x04", "t.suite:1: control character in line (not a text suite file?)");
    parse_err("gemm a 1 m=1\fn=1 k=1\n", "t.suite:1: control character in line (not a text suite file?)");
    /* Random bytes (deterministic), through the file loader: must fail cleanly. */
    char path[512], err[512] = "";
    unsigned char buf[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (unsigned char)(x >> 24);
    }
    write_fixture("garbage.suite", (const char *)buf, sizeof buf, path, sizeof path);
    struct sd_suite s;
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), -1);
    assert_int_equal(strncmp(err, path, strlen(path)), 0);
    assert_null(strchr(err, '\n'));
}

static void test_huge_line(void **state)
{
    (void)state;
    size_t n = 10u << 20;  /* one 10 MB line */
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\n';
    parse_err_len(big, n + 1, "t.suite:1: line too long (10485760 bytes, max 4096)");
    /* via a file, on line 2, without a newline at the end */
    char path[512], want[700], err[512] = "";
    memcpy(big, "gemm a 1 m=1 n=1 k=1\n", 21);
    write_fixture("huge.suite", big, n, path, sizeof path);
    free(big);
    struct sd_suite s;
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: line too long (%zu bytes, max 4096)", path, n - 21);
    assert_string_equal(err, want);
    /* The limit itself: 4096 bytes is fine (a long comment), 4097 is not. */
    char line[4100];
    memset(line, ' ', sizeof line);
    memcpy(line, "gemm a 1 m=1 n=1 k=1 #", 22);
    line[4096] = '\n';
    struct sd_suite ok;
    parse_ok(line, 4097, &ok);
    assert_int_equal(ok.n, 1);
    sd_suite_free(&ok);
    line[4096] = ' ';
    line[4097] = '\n';
    parse_err_len(line, 4098, "t.suite:1: line too long (4097 bytes, max 4096)");
}

static void test_nonpositive_dimensions(void **state)
{
    (void)state;
    parse_err("gemm a 1 m=-5 n=1 k=1\n", "t.suite:1: m=-5 must be a positive integer (impossible shape)");
    parse_err("gemm a 1 m=1 n=0 k=1\n", "t.suite:1: n=0 must be a positive integer (impossible shape)");
    parse_err("gemm a 1 m=1 n=1 k=1 batch=0\n", "t.suite:1: batch=0 must be a positive integer (impossible shape)");
    parse_err("attention a 1 batch_heads=1 seq_q=1 seq_kv=-1 head_dim=1\n",
              "t.suite:1: seq_kv=-1 must be a positive integer (impossible shape)");
    parse_err("conv2d c 1 c_in=1 c_out=1 h=4 w=4 r=1 s=1 stride=0\n",
              "t.suite:1: stride=0 must be a positive integer (impossible shape)");
    parse_err("conv2d c 1 c_in=1 c_out=1 h=4 w=4 r=3 s=3 pad=-1\n", "t.suite:1: pad=-1 must not be negative");
    parse_err("gemm a 1 m=-9223372036854775808 n=1 k=1\n",
              "t.suite:1: m=-9223372036854775808 must be a positive integer (impossible shape)");
}

static void test_missing_fields(void **state)
{
    (void)state;
    parse_err("gemm\n", "t.suite:1: expected 'op label count key=value...'");
    parse_err("gemm a\n", "t.suite:1: expected 'op label count key=value...'");
    parse_err("gemm a   # 1 m=1\n", "t.suite:1: expected 'op label count key=value...'");
    /* shape keys left out default to 0: reported as the first missing dimension */
    parse_err("gemm a 1\n", "t.suite:1: m=0 must be a positive integer (impossible shape)");
    parse_err("gemm a 1 m=1 n=2\n", "t.suite:1: k=0 must be a positive integer (impossible shape)");
    parse_err("conv2d c 1 c_in=1 c_out=1 h=4 w=4\n", "t.suite:1: r=0 must be a positive integer (impossible shape)");
    parse_err("attention x 1 batch_heads=1 seq_q=1 seq_kv=1\n",
              "t.suite:1: head_dim=0 must be a positive integer (impossible shape)");
    parse_err("gemm a 1 m=1 n=1 k=1 m\n", "t.suite:1: expected key=value, got 'm'");
    parse_err("gemm a 1 =5 m=1 n=1 k=1\n", "t.suite:1: expected key=value, got '=5'");
}

static void test_overflowing_dimensions(void **state)
{
    (void)state;
    /* 2^32 cubed: element counts overflow 64 bits */
    parse_err("gemm a 1 m=4294967296 n=4294967296 k=4294967296\n",
              "t.suite:1: shape too large: a tensor's byte count overflows 64 bits");
    /* the element count fits but bytes (x4) do not: 2^62 elements */
    parse_err("gemm a 1 m=4611686018427387904 n=1 k=1\n",
              "t.suite:1: shape too large: a tensor's byte count overflows 64 bits");
    parse_err("attention a 1 batch_heads=65536 seq_q=4294967296 seq_kv=4294967296 head_dim=1\n",
              "t.suite:1: shape too large: a tensor's byte count overflows 64 bits");
    parse_err("conv2d c 1 batch=4294967296 c_in=4294967296 c_out=1 h=1 w=1 r=1 s=1\n",
              "t.suite:1: shape too large: a tensor's byte count overflows 64 bits");
    /* beyond int64 itself */
    parse_err("gemm a 1 m=9223372036854775808 n=1 k=1\n",
              "t.suite:1: invalid value '9223372036854775808' for m (an integer)");
}

static void test_non_integer_values(void **state)
{
    (void)state;
    parse_err("gemm a 1 m=1.5 n=1 k=1\n", "t.suite:1: invalid value '1.5' for m (an integer)");
    parse_err("gemm a 1 m=abc n=1 k=1\n", "t.suite:1: invalid value 'abc' for m (an integer)");
    parse_err("gemm a 1 m= n=1 k=1\n", "t.suite:1: invalid value '' for m (an integer)");
    parse_err("gemm a 1 m=0x10 n=1 k=1\n", "t.suite:1: invalid value '0x10' for m (an integer)");
    parse_err("gemm a 1 m=1e3 n=1 k=1\n", "t.suite:1: invalid value '1e3' for m (an integer)");
    parse_err("gemm a 1 m=12abc n=1 k=1\n", "t.suite:1: invalid value '12abc' for m (an integer)");
    /* a long bad value is clipped in the message (80-byte buffer: 76 chars + "...") */
    char line[400], want[400], v[201];
    memset(v, '9', 200);
    v[200] = 0;
    v[0] = 'x';
    snprintf(line, sizeof line, "gemm a 1 m=%s n=1 k=1\n", v);
    snprintf(want, sizeof want, "t.suite:1: invalid value '%.76s...' for m (an integer)", v);
    parse_err(line, want);
}

static void test_unknown_op_dtype_key(void **state)
{
    (void)state;
    parse_err("matmul a 1 m=1 n=1 k=1\n", "t.suite:1: unknown op 'matmul' (expected gemm, conv2d or attention)");
    parse_err("GEMM a 1 m=1 n=1 k=1\n", "t.suite:1: unknown op 'GEMM' (expected gemm, conv2d or attention)");
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=fp8\n", "t.suite:1: unknown dtype 'fp8' (expected fp32, tf32, fp16, bf16)");
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=fp16,int8\n",
              "t.suite:1: unknown dtype 'int8' (expected fp32, tf32, fp16, bf16)");
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=\n", "t.suite:1: empty dtype list");
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=,,\n", "t.suite:1: empty dtype list");
    parse_err("gemm a 1 m=1 n=1 k=1 acc=bf16\n", "t.suite:1: invalid acc 'bf16' (expected fp32 or fp16)");
    parse_err("gemm a 1 m=1 n=1 k=1 acc=x\n", "t.suite:1: invalid acc 'x' (expected fp32 or fp16)");
    parse_err("gemm a 1 m=1 n=1 k=1 layout=ROWMAJOR\n", "t.suite:1: invalid layout 'ROWMAJOR'");
    parse_err("attention a 1 batch_heads=1 sq=1 seq_kv=1 head_dim=1\n", "t.suite:1: unknown key 'sq'");
    parse_err("gemm a 1 m=1 n=1 k=1 M=2\n", "t.suite:1: unknown key 'M'");
    parse_err("gemm a 1 m=1 n=1 k=1 count_per_step=2\n", "t.suite:1: unknown key 'count_per_step'");
}

static void test_key_given_twice(void **state)
{
    (void)state;
    parse_err("gemm a 1 m=1 n=1 k=1 m=2\n", "t.suite:1: key 'm' given twice");
    parse_err("gemm a 1 m=1 n=1 k=1 k=1\n", "t.suite:1: key 'k' given twice");
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=fp16 dtype=fp32\n", "t.suite:1: key 'dtype' given twice");
    parse_err("gemm a 1 m=1 n=1 k=1 acc=fp16 acc=fp16\n", "t.suite:1: key 'acc' given twice");
    parse_err("gemm a 1 m=1 n=1 k=1 layout=row layout=col\n", "t.suite:1: key 'layout' given twice");
    /* the same dtype twice in a list would make two identical rows */
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=fp16,fp32,fp16\n", "t.suite:1: dtype 'fp16' listed twice");
    /* a dtype list too long to hold is an error, not silently truncated */
    char line[400], want[400], v[201];
    memset(v, ',', 200);
    v[200] = 0;
    memcpy(v, "fp16", 4);
    memcpy(v + 196, "xx", 2);
    snprintf(line, sizeof line, "gemm a 1 m=1 n=1 k=1 dtype=%s\n", v);
    snprintf(want, sizeof want, "t.suite:1: unknown dtype '%.76s...' (expected fp32, tf32, fp16, bf16)", v);
    parse_err(line, want);
}

static void test_duplicate_labels(void **state)
{
    (void)state;
    parse_err("gemm a 1 m=1 n=1 k=1\n# c\ngemm a 2 m=2 n=2 k=2\n",
              "t.suite:3: duplicate label 'a' (first defined on line 1)");
    /* across ops and after a dtype expansion */
    parse_err("gemm a 1 m=1 n=1 k=1 dtype=fp16,fp32\nattention b 1 batch_heads=1 seq_q=1 seq_kv=1 head_dim=1\n"
              "conv2d a 1 c_in=1 c_out=1 h=1 w=1 r=1 s=1\n",
              "t.suite:3: duplicate label 'a' (first defined on line 1)");
}

static void test_invalid_label(void **state)
{
    (void)state;
    char line[200], want[300], label[70];
    memset(label, 'L', 64);
    label[64] = 0;
    snprintf(line, sizeof line, "gemm %s 1 m=1 n=1 k=1\n", label);
    snprintf(want, sizeof want, "t.suite:1: invalid label '%s' (max 63 chars, no '=', ',' or quotes)", label);
    parse_err(line, want);
    label[63] = 0; /* 63 is fine */
    snprintf(line, sizeof line, "gemm %s 1 m=1 n=1 k=1\n", label);
    struct sd_suite s;
    parse_ok(line, strlen(line), &s);
    assert_string_equal(s.items[0].label, label);
    sd_suite_free(&s);
    parse_err("gemm a=b 1 m=1 n=1 k=1\n", "t.suite:1: invalid label 'a=b' (max 63 chars, no '=', ',' or quotes)");
    parse_err("gemm a,b 1 m=1 n=1 k=1\n", "t.suite:1: invalid label 'a,b' (max 63 chars, no '=', ',' or quotes)");
    parse_err("gemm \"a\" 1 m=1 n=1 k=1\n",
              "t.suite:1: invalid label '\"a\"' (max 63 chars, no '=', ',' or quotes)");
}

static void test_impossible_conv_shape(void **state)
{
    (void)state;
    /* input 9*2=18, r=3 pad=1 stride=2 -> (18+2-3)/2+1 = 9 rows, but w: 8*2=16 -> 8: ok; h=9 ok.
     * Make h inconsistent: 3x3 pad 0 stride 1 on input 4 gives 2, not 4. */
    parse_err("conv2d c 1 c_in=1 c_out=1 h=4 w=4 r=3 s=3 pad=0\n",
              "t.suite:1: impossible conv shape: input 4x4 (h*stride) with r=3 s=3 pad=0 stride=1 gives 2x2, "
              "not h=4 w=4");
    /* kernel larger than the padded input */
    parse_err("conv2d c 1 c_in=1 c_out=1 h=1 w=1 r=5 s=1 pad=0\n",
              "t.suite:1: impossible conv shape: input 1x1 (h*stride) with r=5 s=1 pad=0 stride=1 gives -3x1, "
              "not h=1 w=1");
    parse_err("conv2d c 1 c_in=1 c_out=1 h=1 w=1 r=65 s=1 pad=32\n", "t.suite:1: r, s, stride and pad must be <= 64");
    parse_err("conv2d c 1 c_in=1 c_out=1 h=1 w=1 r=1 s=1 pad=65\n", "t.suite:1: r, s, stride and pad must be <= 64");
    /* the real SD down-sampling conv is consistent */
    struct sd_suite s;
    const char *ok = "conv2d c 1 batch=2 c_in=320 c_out=320 h=32 w=32 r=3 s=3 stride=2 pad=1\n";
    parse_ok(ok, strlen(ok), &s);
    sd_suite_free(&s);
}

static void test_invalid_count(void **state)
{
    (void)state;
    parse_err("gemm a x m=1 n=1 k=1\n", "t.suite:1: invalid count 'x' (a number >= 0)");
    parse_err("gemm a -1 m=1 n=1 k=1\n", "t.suite:1: invalid count '-1' (a number >= 0)");
    parse_err("gemm a nan m=1 n=1 k=1\n", "t.suite:1: invalid count 'nan' (a number >= 0)");
    parse_err("gemm a inf m=1 n=1 k=1\n", "t.suite:1: invalid count 'inf' (a number >= 0)");
    parse_err("gemm a 1e10 m=1 n=1 k=1\n", "t.suite:1: invalid count '1e10' (a number >= 0)");
    parse_err("gemm a 1e999 m=1 n=1 k=1\n", "t.suite:1: invalid count '1e999' (a number >= 0)");
    parse_err("gemm a 5x m=1 n=1 k=1\n", "t.suite:1: invalid count '5x' (a number >= 0)");
    parse_err("gemm a m=1 n=1 k=1\n", "t.suite:1: invalid count 'm=1' (a number >= 0)");
}

static void test_error_line_numbers(void **state)
{
    (void)state;
    parse_err("# 1\n\ngemm a 1 m=1 n=1 k=1\r\n\r\n# 5\ngemm b 1 m=1 n=1 k=1 q=1\n", "t.suite:6: unknown key 'q'");
}

static void test_nonexistent_file_and_directory(void **state)
{
    (void)state;
    char path[512], want[700], err[512] = "";
    struct sd_suite s;
    snprintf(path, sizeof path, "%s/does-not-exist.suite", tmpdir);
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open suite file: No such file or directory", path);
    assert_string_equal(err, want);
    assert_null(s.items);
    assert_null(s.path);

    snprintf(path, sizeof path, "%s/adir.suite", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: is a directory, not a suite file", path);
    assert_string_equal(err, want);
    assert_null(s.items);
    rmdir(path);
}

static void test_error_buffer_truncation(void **state)
{
    (void)state;
    struct sd_suite s;
    char err[16];
    memset(err, 'x', sizeof err);
    const char *t = "gemm a 1 m=1 n=1 k=1 q=1\n";
    assert_int_equal(sd_suite_parse("t", "t.suite", t, strlen(t), &s, err, sizeof err), -1);
    assert_string_equal(err, "t.suite:1: unkn"); /* truncated, NUL-terminated */
}

/* ------------------------------------------------------------------ resolve */

static void test_resolve(void **state)
{
    (void)state;
    char path[1024], err[512] = "", want[1200];
    unsetenv("SDMARK_BENCH_DIR");
    /* a name -> the source tree's bench dir */
    assert_int_equal(sd_suite_resolve("quick", path, sizeof path, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/quick.suite", SDMARK_SOURCE_BENCH_DIR);
    assert_string_equal(path, want);
    struct sd_suite s;
    assert_int_equal(sd_suite_load(path, &s, err, sizeof err), 0);
    assert_string_equal(s.name, "quick");
    assert_true(s.n > 0);
    sd_suite_free(&s);

    /* unknown name */
    assert_int_equal(sd_suite_resolve("nope", path, sizeof path, err, sizeof err), -1);
    snprintf(want, sizeof want, "unknown suite 'nope' (no nope.suite in %s; give a path or set SDMARK_BENCH_DIR)",
             sd_bench_search_text());
    assert_string_equal(err, want);
    assert_null(strstr(err, SDMARK_SOURCE_BENCH_DIR)); /* no build-machine path in the message */

    /* $SDMARK_BENCH_DIR comes first, and may shadow a shipped suite */
    char f[512];
    const char *t = "gemm mine 1 m=1 n=1 k=1\n";
    write_fixture("mine.suite", t, strlen(t), f, sizeof f);
    write_fixture("quick.suite", t, strlen(t), f, sizeof f);
    setenv("SDMARK_BENCH_DIR", tmpdir, 1);
    assert_int_equal(sd_suite_resolve("mine", path, sizeof path, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/mine.suite", tmpdir);
    assert_string_equal(path, want);
    assert_int_equal(sd_suite_resolve("quick", path, sizeof path, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/quick.suite", tmpdir);
    assert_string_equal(path, want);
    /* a name only in the source bench dir still resolves there */
    assert_int_equal(sd_suite_resolve("sd15", path, sizeof path, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/sd15.suite", SDMARK_SOURCE_BENCH_DIR);
    assert_string_equal(path, want);
    unsetenv("SDMARK_BENCH_DIR");

    /* a path (contains '/') is taken as is */
    snprintf(f, sizeof f, "%s/mine.suite", tmpdir);
    assert_int_equal(sd_suite_resolve(f, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, f);
    snprintf(f, sizeof f, "%s/missing.suite", tmpdir);
    assert_int_equal(sd_suite_resolve(f, path, sizeof path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: suite file not found", f);
    assert_string_equal(err, want);
    /* a directory is not a suite file */
    assert_int_equal(sd_suite_resolve(tmpdir, path, sizeof path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: suite file not found", tmpdir);
    assert_string_equal(err, want);
    /* NAME.suite without a slash is a path relative to the working directory */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    assert_int_equal(sd_suite_resolve("mine.suite", path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "mine.suite");
    assert_int_equal(sd_suite_resolve("other.suite", path, sizeof path, err, sizeof err), -1);
    assert_string_equal(err, "other.suite: suite file not found");
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comments_blank_lines_tabs),
        cmocka_unit_test(test_crlf_line_endings),
        cmocka_unit_test(test_utf8_bom),
        cmocka_unit_test(test_dtype_list_expansion),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_explicit_keys),
        cmocka_unit_test(test_load_file_and_name),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_binary_garbage),
        cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_nonpositive_dimensions),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_overflowing_dimensions),
        cmocka_unit_test(test_non_integer_values),
        cmocka_unit_test(test_unknown_op_dtype_key),
        cmocka_unit_test(test_key_given_twice),
        cmocka_unit_test(test_duplicate_labels),
        cmocka_unit_test(test_invalid_label),
        cmocka_unit_test(test_impossible_conv_shape),
        cmocka_unit_test(test_invalid_count),
        cmocka_unit_test(test_error_line_numbers),
        cmocka_unit_test(test_nonexistent_file_and_directory),
        cmocka_unit_test(test_error_buffer_truncation),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
