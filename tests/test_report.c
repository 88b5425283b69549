/* test_report.c — `sdmark report`: one self-contained HTML file (well-formed sections, inline SVG,
 * no scripts or external URLs), rendered headless to a PNG where Chromium is installed (skipped
 * with the reason otherwise), and the markdown summary. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdbool.h>
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

/* Chromium headless on one page, 1280x900 (the first screen): `what` is "--screenshot=PNG" or
 * "--dump-dom" (DOM to `out`). Its own profile folder, so parallel runs never share one. */
static void chromium(const char *chrome, const char *page, const char *what, const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "timeout 120 '%s' --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
             "--user-data-dir='%s/profile' --window-size=1280,900 %s 'file://%s' >'%s' 2>>'%s/chrome.log'",
             chrome, dir, what, page, out, dir);
    if (sh(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "tail -20 '%s/chrome.log' >&2", dir);
        sh(cmd);
        fail_msg("chromium failed on %s", page);
    }
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* the page text: the DOM without its tags, entities &amp; &lt; &gt; decoded */
static char *dom_text(const char *dom)
{
    char *t = calloc(strlen(dom) + 1, 1), *o = t;
    for (const char *p = dom; *p; p++) {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (!e)
                break;
            p = e; /* inline markup (<b>) joins its text; a test looks for phrases, not cells */
            continue;
        }
        const char *ents[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
        size_t k;
        for (k = 0; k < 3 && strncmp(p, ents[k][0], strlen(ents[k][0])); k++)
            ;
        if (k < 3) {
            *o++ = ents[k][1][0];
            p += strlen(ents[k][0]) - 1;
        } else
            *o++ = *p;
    }
    return t;
}

/* `sdmark report RESULTS --format md` into dir/NAME, read back. */
static char *report_md(const char *results, const char *name)
{
    char cmd[1024], out[160];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "'%s' report '%s' --format md -o '%s'", SDMARK_BINARY, results, out);
    assert_int_equal(sh(cmd), 0);
    char *md = slurp(out);
    assert_non_null(md);
    return md;
}

/* The headline as the markdown summary (another renderer) states it: device, SD 1.5 it/s, s per image. */
static void md_headline(const char *results, char *dev, char *its, char *secs)
{
    char *md = report_md(results, "head.md");
    const char *h = strstr(md, "**Fastest measured: ");
    assert_non_null(h);
    assert_int_equal(sscanf(h, "**Fastest measured: %255[^*]**: %31s it/s on SD 1.5 (512², 20 steps), %31s s per image",
                            dev, its, secs), 3);
    free(md);
}

/* Renders `sdmark report RESULTS` and checks the first screen: not blank (its PNG is several times
 * the size of a blank page's at the same size: text and charts do not compress to nothing) and the
 * headline values in the page text. */
static void render_check(const char *chrome, const char *results, const char *name)
{
    char cmd[1024], html[160], png[160], dom[160], blank[160], blank_png[160];
    snprintf(html, sizeof html, "%s/%s.html", dir, name);
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    snprintf(dom, sizeof dom, "%s/%s.dom", dir, name);
    snprintf(blank, sizeof blank, "%s/blank.html", dir);
    snprintf(blank_png, sizeof blank_png, "%s/blank.png", dir);
    snprintf(cmd, sizeof cmd, "'%s' report '%s' -o '%s'", SDMARK_BINARY, results, html);
    assert_int_equal(sh(cmd), 0);
    snprintf(cmd, sizeof cmd, "printf '<!DOCTYPE html><html><body></body></html>' > '%s'", blank);
    assert_int_equal(sh(cmd), 0);

    char what[256];
    snprintf(what, sizeof what, "--screenshot='%s'", blank_png);
    chromium(chrome, blank, what, "/dev/null");
    snprintf(what, sizeof what, "--screenshot='%s'", png);
    chromium(chrome, html, what, "/dev/null");
    long bs = file_size(blank_png), rs = file_size(png);
    fprintf(stderr, "render %s: %ld bytes PNG (blank page %ld)\n", name, rs, bs);
    assert_true(bs > 0);
    assert_true(rs > 5 * bs);

    chromium(chrome, html, "--dump-dom", dom);
    char *d = slurp(dom), *text = d ? dom_text(d) : NULL;
    assert_non_null(text);
    char dev[256], its[32], secs[32], line[400];
    md_headline(results, dev, its, secs);
    snprintf(line, sizeof line, "Fastest measured: %s: %s it/s on SD 1.5", dev, its);
    bool found = strstr(text, line) && strstr(text, secs);
    free(text);
    free(d);
    if (!found)
        fail_msg("%s: headline '%s' / '%s s' not in the rendered page text", name, line, secs);
}

static void test_render_headless(void **state)
{
    (void)state;
    const char *chrome = find_chromium();
    if (!chrome) {
        fprintf(stderr, "skip: no chromium / chrome binary in PATH (Debian package chromium, "
                        "scripts/install-deps.sh); the HTML was checked by parsing only\n");
        skip();
    }
    render_check(chrome, SDMARK_TEST_DATA "/../../results", "committed");
    render_check(chrome, DATA "/fleet", "fixture");
}

static void test_markdown(void **state)
{
    (void)state;
    char cmd[1024], out[160];
    char *s = report_md(DATA "/fleet", "report.md");
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
