/* test_report.c — `sdmark report`: one self-contained HTML file (well-formed sections, inline SVG,
 * no scripts or external URLs), rendered headless to a PNG where Chromium is installed (skipped
 * with the reason otherwise), and the markdown summary. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DATA SDMARK_TEST_DATA "/analysis"

static char dir[64];
static char html_path[128];

static int sh(const char *cmd) { return WEXITSTATUS(system(cmd)); }

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sdmark-report-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' report %s/fleet -o %s", SDMARK_BINARY, DATA, html_path);
    return sh(cmd);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return sh(cmd);
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* `w` as a word of its own: not inside a longer word */
static int has_word(const char *s, const char *w)
{
    size_t L = strlen(w);
    for (const char *p = s; (p = strstr(p, w)); p += L) {
        int before = p > s && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
        int after = (p[L] >= 'a' && p[L] <= 'z') || (p[L] >= 'A' && p[L] <= 'Z');
        if (!before && !after)
            return 1;
    }
    return 0;
}

/* every <tag ...> or <tag> has its </tag>, and nesting of these tags is proper */
static void balanced(const char *s)
{
    const char *tags[] = {"html", "head", "body", "section", "svg", "table", "tr", "ul", "h1", "h2", "h3", "title", "text"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        char o1[32], o2[32], c[32];
        snprintf(o1, sizeof o1, "<%s>", tags[i]);
        snprintf(o2, sizeof o2, "<%s ", tags[i]);
        snprintf(c, sizeof c, "</%s>", tags[i]);
        int open = count(s, o1) + count(s, o2), close = count(s, c);
        if (open != close) {
            fprintf(stderr, "<%s>: %d open, %d close\n", tags[i], open, close);
            fail();
        }
    }
    /* proper nesting of the block structure: a stack over section/svg/table */
    const char *stack[64];
    int sp = 0;
    for (const char *p = s; (p = strchr(p, '<')); p++) {
        const char *names[] = {"section", "svg", "table"};
        for (int k = 0; k < 3; k++) {
            size_t L = strlen(names[k]);
            if (!strncmp(p + 1, names[k], L) && (p[1 + L] == '>' || p[1 + L] == ' '))
                stack[sp++] = names[k];
            else if (p[1] == '/' && !strncmp(p + 2, names[k], L) && p[2 + L] == '>') {
                assert_true(sp > 0);
                assert_string_equal(stack[--sp], names[k]);
            }
        }
    }
    assert_int_equal(sp, 0);
}

static void test_html_self_contained(void **state)
{
    (void)state;
    char *s = slurp(html_path);
    assert_non_null(s);
    assert_true(!strncmp(s, "<!DOCTYPE html>", 15));
    balanced(s);
    const char *ids[] = {"id=\"headline\"", "id=\"throughput\"", "id=\"roofline\"", "id=\"estimates\"",
                         "id=\"memory\"",   "id=\"claims\"",     "id=\"provenance\""};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        assert_non_null(strstr(s, ids[i]));
    /* the headline comes first and names the fastest device with its SD 1.5 it/s, measured */
    assert_true(strstr(s, "id=\"headline\"") < strstr(s, "id=\"throughput\""));
    assert_non_null(strstr(s, "Fastest measured: <b>cuda:NVIDIA GeForce RTX 4090</b>"));
    assert_non_null(strstr(s, "it/s</b> on SD 1.5"));
    /* quick rows are charted apart from the model shapes, charts carry value labels */
    assert_non_null(strstr(s, "scaled shapes for a quick check"));
    assert_non_null(strstr(s, "TFLOP/s, log scale"));
    assert_non_null(strstr(s, "(projected)</text>"));
    /* the roofline of devices without a spec row draws the measured roof */
    assert_non_null(strstr(s, "best measured GEMM"));
    assert_non_null(strstr(s, "fixture-host"));  /* provenance: the host */
    assert_true(count(s, "<svg ") >= 4); /* three ops + roofline */
    assert_non_null(strstr(s, "<circle"));
    assert_non_null(strstr(s, "RTX 4090"));
    assert_non_null(strstr(s, "it/s per $1000"));
    assert_non_null(strstr(s, "C9"));
    /* no network: the only URL is the SVG namespace */
    assert_int_equal(count(s, "http://") + count(s, "https://"), count(s, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "src="));
    assert_null(strstr(s, "href="));
    assert_null(strstr(s, "url("));
    assert_false(has_word(s, "nan")); /* a NaN printed as a number ("Provenance" is fine) */
    assert_false(has_word(s, "inf"));
    free(s);
}

static const char *find_chromium(void)
{
    static char path[512];
    const char *names[] = {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"};
    const char *env = getenv("PATH");
    if (!env)
        return NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *dup = strdup(env), *save = NULL;
        for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            snprintf(path, sizeof path, "%s/%s", d, names[i]);
            if (!access(path, X_OK)) {
                free(dup);
                return path;
            }
        }
        free(dup);
    }
    return NULL;
}

static void test_render_headless(void **state)
{
    (void)state;
    const char *chrome = find_chromium();
    if (!chrome) {
        fprintf(stderr, "skip: no chromium / chrome binary in PATH; the HTML was checked by parsing only\n");
        skip();
    }
    char cmd[2048], png[160];
    snprintf(png, sizeof png, "%s/report.png", dir);
    snprintf(cmd, sizeof cmd,
             "'%s' --headless --disable-gpu --no-sandbox --window-size=1280,4000 --screenshot='%s' 'file://%s' "
             ">'%s/chrome.log' 2>&1",
             chrome, png, html_path, dir);
    assert_int_equal(sh(cmd), 0);
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 1000);
}

static void test_markdown(void **state)
{
    (void)state;
    char cmd[1024], out[160];
    snprintf(out, sizeof out, "%s/report.md", dir);
    snprintf(cmd, sizeof cmd, "'%s' report %s/fleet --format md -o %s", SDMARK_BINARY, DATA, out);
    assert_int_equal(sh(cmd), 0);
    char *s = slurp(out);
    assert_non_null(s);
    assert_non_null(strstr(s, "| id | verdict | basis | claim |"));
    assert_non_null(strstr(s, "| device / card |"));
    assert_non_null(strstr(s, "| configuration (batch 1, fp16) |"));
    free(s);
    /* errors: a missing input names the file, exit 1 */
    snprintf(cmd, sizeof cmd, "'%s' report /nonexistent.csv -o %s/x.html 2>%s/err", SDMARK_BINARY, dir, dir);
    assert_int_equal(sh(cmd), 1);
    snprintf(out, sizeof out, "%s/err", dir);
    s = slurp(out);
    assert_non_null(strstr(s, "/nonexistent.csv"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_self_contained),
        cmocka_unit_test(test_render_headless),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
