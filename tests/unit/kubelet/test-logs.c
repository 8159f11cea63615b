/* test-logs.c — CRI log record parsing, partial-line joining, tail/timestamps/limit/since. */
#include "harness.h"
#include "kubelet/logs.h"

static const char LOG[] = "2026-01-02T03:04:05.100000000Z stdout F one\n"
                          "2026-01-02T03:04:06.000000000+00:00 stderr F two\n"
                          "2026-01-02T03:04:07.5Z stdout P thr\n"
                          "2026-01-02T03:04:07.6Z stdout P e\n"
                          "2026-01-02T03:04:07.7Z stdout F e!\n"
                          "garbage line\n"
                          "2026-01-02T03:04:08.000000001Z stdout F \n"
                          "2026-01-02T03:04:09Z stdout F five\n"
                          "2026-01-02T03:04:10Z stdout F unterminated";

static char *render(const struct kubelet_logs_opts *o)
{
        char *out;
        size_t len;
        kubelet_logs_render_all(LOG, strlen(LOG), o, &out, &len);
        CHECK_EQ_INT(strlen(out), len);
        return out;
}

TEST(parse_record)
{
        struct kubelet_crilog_line l;
        struct error err = {0};
        const char *s = "2026-01-02T03:04:05.123456789Z stderr P hello world";
        CHECK_EQ_INT(kubelet_crilog_parse(s, strlen(s), &l, &err), 0);
        CHECK(l.partial);
        CHECK_EQ_INT(l.stream_len, 6);
        CHECK(!memcmp(l.stream, "stderr", 6));
        CHECK_EQ_INT(l.text_len, 11);
        CHECK(!memcmp(l.text, "hello world", 11));
        CHECK_EQ_INT(l.ts_ns, 1767323045123456789LL);

        s = "2026-01-02T04:04:05+01:00 stdout F";
        CHECK_EQ_INT(kubelet_crilog_parse(s, strlen(s), &l, &err), 0);
        CHECK_EQ_INT(l.text_len, 0);
        CHECK(!l.partial);
        CHECK_EQ_INT(l.ts_ns, 1767323045000000000LL);

        const char *bad[] = {"",
                             "x",
                             "2026-01-02T03:04:05Z",
                             "2026-01-02T03:04:05Z stdout",
                             "2026-01-02T03:04:05Z stdin F x",
                             "notatime stdout F x",
                             "2026-01-02T03:04:05Z stdout X x",
                             "2026-01-02T03:04:05Z stdout FF x",
                             " stdout F x"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                CHECK_EQ_INT(kubelet_crilog_parse(bad[i], strlen(bad[i]), &l, &err), -EPROTO);
}

TEST(time_format)
{
        char b[40];
        CHECK_EQ_STR(kubelet_crilog_time(1767323045123456789LL, b),
                     "2026-01-02T03:04:05.123456789Z");
        CHECK_EQ_STR(kubelet_crilog_time(1767323045100000000LL, b), "2026-01-02T03:04:05.1Z");
        CHECK_EQ_STR(kubelet_crilog_time(1767323045000000000LL, b), "2026-01-02T03:04:05Z");
}

TEST(render_all_lines)
{
        struct kubelet_logs_opts o = {.tail_lines = -1};
        char *s = render(&o);
        CHECK_EQ_STR(s, "one\ntwo\nthree!\n\nfive\n");
        free(s);
}

TEST(tail_lines)
{
        struct kubelet_logs_opts o = {.tail_lines = 2};
        char *s = render(&o);
        CHECK_EQ_STR(s, "\nfive\n");
        free(s);
        o.tail_lines = 3;
        s = render(&o);
        CHECK_EQ_STR(s, "three!\n\nfive\n");
        free(s);
        o.tail_lines = 0;
        s = render(&o);
        CHECK_EQ_STR(s, "");
        free(s);
        o.tail_lines = 100;
        s = render(&o);
        CHECK_EQ_STR(s, "one\ntwo\nthree!\n\nfive\n");
        free(s);
        CHECK_EQ_INT(kubelet_logs_count(LOG, strlen(LOG), 0), 5);
}

TEST(timestamps)
{
        struct kubelet_logs_opts o = {.tail_lines = 3, .timestamps = true};
        char *s = render(&o);
        CHECK_EQ_STR(s, "2026-01-02T03:04:07.5Z three!\n"
                        "2026-01-02T03:04:08.000000001Z \n"
                        "2026-01-02T03:04:09Z five\n");
        free(s);
}

TEST(limit_bytes)
{
        struct kubelet_logs_opts o = {.tail_lines = -1, .limit_bytes = 6};
        char *s = render(&o);
        CHECK_EQ_STR(s, "one\ntw");
        free(s);
        o.limit_bytes = 1000;
        s = render(&o);
        CHECK_EQ_STR(s, "one\ntwo\nthree!\n\nfive\n");
        free(s);
}

TEST(since)
{
        /* lines at or after 03:04:07 */
        struct kubelet_logs_opts o = {.tail_lines = -1, .since_ns = 1767323047000000000LL};
        char *s = render(&o);
        CHECK_EQ_STR(s, "three!\n\nfive\n");
        free(s);
        o.tail_lines = 1;
        s = render(&o);
        CHECK_EQ_STR(s, "five\n");
        free(s);
        CHECK_EQ_INT(kubelet_logs_count(LOG, strlen(LOG), o.since_ns), 3);
}

struct collect {
        char buf[256];
        size_t len;
};

static void collect(const char *d, size_t n, void *ud)
{
        struct collect *c = ud;
        if (c->len + n < sizeof(c->buf)) {
                memcpy(c->buf + c->len, d, n);
                c->len += n;
                c->buf[c->len] = '\0';
        }
}

TEST(incremental_feed_byte_by_byte)
{
        /* follow: data arrives in arbitrary chunks; a partial line spans feeds */
        struct kubelet_logs_opts o = {.tail_lines = -1};
        struct kubelet_logs_renderer r;
        struct collect c = {.len = 0};
        kubelet_logs_init(&r, &o, 0, collect, &c);
        char pending[512];
        size_t plen = 0, total = strlen(LOG);
        for (size_t i = 0; i < total; i++) {
                pending[plen++] = LOG[i];
                size_t used = kubelet_logs_feed(&r, pending, plen);
                memmove(pending, pending + used, plen - used);
                plen -= used;
        }
        CHECK_EQ_STR(c.buf, "one\ntwo\nthree!\n\nfive\n");
        CHECK_EQ_INT(plen, strlen("2026-01-02T03:04:10Z stdout F unterminated"));
        /* the rest of the line arrives */
        memcpy(pending + plen, "\n", 1);
        plen++;
        CHECK_EQ_INT(kubelet_logs_feed(&r, pending, plen), plen);
        CHECK_EQ_STR(c.buf, "one\ntwo\nthree!\n\nfive\nunterminated\n");
}

TEST(skip_partial_prefix_counts_as_one_line)
{
        const char *log = "2026-01-02T03:04:07Z stdout P a\n"
                          "2026-01-02T03:04:07Z stdout P b\n"
                          "2026-01-02T03:04:07Z stdout F c\n"
                          "2026-01-02T03:04:08Z stdout F d\n";
        struct kubelet_logs_opts o = {.tail_lines = 1};
        char *s;
        size_t n;
        kubelet_logs_render_all(log, strlen(log), &o, &s, &n);
        CHECK_EQ_STR(s, "d\n");
        free(s);
        o.tail_lines = 2;
        kubelet_logs_render_all(log, strlen(log), &o, &s, &n);
        CHECK_EQ_STR(s, "abc\nd\n");
        free(s);
}

int main(void)
{
        RUN(parse_record);
        RUN(time_format);
        RUN(render_all_lines);
        RUN(tail_lines);
        RUN(timestamps);
        RUN(limit_bytes);
        RUN(since);
        RUN(incremental_feed_byte_by_byte);
        RUN(skip_partial_prefix_counts_as_one_line);
        return harness_done();
}
