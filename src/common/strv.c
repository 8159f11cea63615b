/* strv.c — NULL-terminated string vectors. */
#include "common/strv.h"

char **strv_new(void)
{
        return xcalloc(1, sizeof(char *));
}

char **strv_push_take(char **v, char *s)
{
        size_t n = strv_len(v);
        v = xrealloc(v, (n + 2) * sizeof(char *));
        v[n] = s;
        v[n + 1] = NULL;
        return v;
}

char **strv_push(char **v, const char *s)
{
        return strv_push_take(v, xstrdup(s));
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        if (v)
                while (v[n])
                        n++;
        return n;
}

char **strv_dup(char *const *v)
{
        size_t n = strv_len(v);
        char **r = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = xstrdup(v[i]);
        return r;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t n = strv_len(v), sl = sep ? strlen(sep) : 0, total = 1;
        for (size_t i = 0; i < n; i++)
                total += strlen(v[i]) + (i ? sl : 0);
        char *r = xmalloc(total), *p = r;
        for (size_t i = 0; i < n; i++) {
                if (i && sl) {
                        memcpy(p, sep, sl);
                        p += sl;
                }
                size_t l = strlen(v[i]);
                memcpy(p, v[i], l);
                p += l;
        }
        *p = 0;
        return r;
}

bool strv_contains(char *const *v, const char *s)
{
        if (!v)
                return false;
        for (; *v; v++)
                if (!strcmp(*v, s))
                        return true;
        return false;
}

char **strv_split(const char *s, char sep)
{
        char **v = strv_new();
        if (!s || !*s)
                return v;
        for (;;) {
                const char *e = strchr(s, sep);
                if (!e) {
                        v = strv_push(v, s);
                        return v;
                }
                v = strv_push_take(v, xstrndup(s, (size_t)(e - s)));
                s = e + 1;
        }
}
