/* quantity.c — resource quantities held exactly in 128-bit nano-units. */
#include "api/quantity.h"

#include <stdio.h>

#define FORMAT_ERR                                                                                 \
        "quantities must match the regular expression "                                            \
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

#define NANO 1000000000LL
/* |value| <= (2^63 - 1) units */
static const __int128 NANO_MAX = (__int128)INT64_MAX * NANO;
/* mantissa digits beyond this are folded into the exponent (with a sticky bit for rounding) */
static const __int128 MANT_MAX = (__int128)1000000000000000000LL * 1000000000000LL; /* 1e30 */

static __int128 pow10_128(int e)
{
        __int128 r = 1;
        while (e-- > 0)
                r *= 10;
        return r;
}

/* Check s against the regular expression Kubernetes uses before looking at the suffix. */
static bool matches_format(const char *s)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        const char *num = p;
        while ((*p >= '0' && *p <= '9') || *p == '.')
                p++;
        if (p == num)
                return false;
        while (*p && strchr("eEinumkKMGTP", *p))
                p++;
        if (*p == '+' || *p == '-')
                p++;
        while (*p >= '0' && *p <= '9')
                p++;
        return *p == 0;
}

int quantity_parse(const char *s, struct quantity *ret, struct error *err)
{
        if (!s || !*s)
                return error_set(err, -EINVAL,
                                 "quantities must match the regular expression "
                                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        if (!matches_format(s))
                return error_set(err, -EINVAL, FORMAT_ERR);

        const char *p = s;
        bool neg = false;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';

        __int128 mant = 0;
        int exp10 = 0; /* value = mant * 10^exp10 (before suffix) */
        bool sticky = false, any_digit = false, seen_dot = false;
        for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
                if (*p == '.') {
                        if (seen_dot)
                                return error_set(err, -EINVAL,
                                                 "unable to parse numeric part of quantity");
                        seen_dot = true;
                        continue;
                }
                any_digit = true;
                int d = *p - '0';
                if (mant < MANT_MAX) {
                        mant = mant * 10 + d;
                        if (seen_dot)
                                exp10--;
                } else {
                        if (d)
                                sticky = true;
                        if (!seen_dot)
                                exp10++;
                }
        }
        if (!any_digit)
                return error_set(err, -EINVAL, "unable to parse numeric part of quantity");

        /* suffix */
        enum quantity_format fmt = QUANTITY_DECIMAL_SI;
        int bin = 0; /* power of 1024 */
        if (!*p) {
        } else if (p[1] == 'i' && !p[2] && strchr("KMGTPE", p[0])) {
                fmt = QUANTITY_BINARY_SI;
                bin = (int)(strchr("KMGTPE", p[0]) - "KMGTPE") + 1;
        } else if (!p[1] && strchr("numkMGTPE", p[0])) {
                static const char sfx[] = "numkMGTPE";
                static const int sexp[] = {-9, -6, -3, 3, 6, 9, 12, 15, 18};
                exp10 += sexp[strchr(sfx, p[0]) - sfx];
        } else if (p[0] == 'e' || p[0] == 'E') {
                fmt = QUANTITY_DECIMAL_EXPONENT;
                const char *q = p + 1;
                bool eneg = false;
                if (*q == '+' || *q == '-')
                        eneg = *q++ == '-';
                if (!*q)
                        return error_set(err, -EINVAL, "unable to parse quantity's suffix");
                long e = 0;
                for (; *q; q++) {
                        if (*q < '0' || *q > '9')
                                return error_set(err, -EINVAL, "unable to parse quantity's suffix");
                        if (e < 100000)
                                e = e * 10 + (*q - '0');
                }
                exp10 += (int)(eneg ? -e : e);
        } else {
                return error_set(err, -EINVAL, "unable to parse quantity's suffix");
        }

        /* nano = mant * 10^(exp10 + 9) * 1024^bin, rounded up (away from zero) */
        __int128 v = mant;
        int e = exp10 + 9;
        if (v != 0) {
                for (int i = 0; i < bin; i++) {
                        if (v > NANO_MAX * 1000 / 1024 && e < 0) {
                                /* keep headroom: fold a factor of 10 out first */
                                sticky |= (v % 10) != 0;
                                v /= 10;
                                e++;
                        }
                        if (v > ((__int128)1 << 120) / 1024)
                                return error_set(err, -ERANGE, "quantity %s is too large", s);
                        v *= 1024;
                }
                if (e > 0) {
                        if (e > 40)
                                return error_set(err, -ERANGE, "quantity %s is too large", s);
                        for (; e > 0; e--) {
                                if (v > NANO_MAX)
                                        return error_set(err, -ERANGE, "quantity %s is too large",
                                                         s);
                                v *= 10;
                        }
                } else if (e < 0) {
                        if (e < -38) {
                                sticky = true;
                                v = 0;
                        } else {
                                __int128 div = pow10_128(-e);
                                if (v % div)
                                        sticky = true;
                                v /= div;
                        }
                }
                if (sticky)
                        v += 1;
        } else if (sticky) {
                v = 1;
        }
        if (v > NANO_MAX)
                return error_set(err, -ERANGE, "quantity %s is too large", s);
        ret->nano = neg ? -v : v;
        ret->format = fmt;
        return 0;
}

static char *fmt_i128(__int128 v, char *buf, size_t size)
{
        char tmp[48];
        size_t n = 0;
        bool neg = v < 0;
        unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
        do {
                tmp[n++] = (char)('0' + (int)(u % 10));
                u /= 10;
        } while (u);
        size_t o = 0;
        if (neg && o + 1 < size)
                buf[o++] = '-';
        while (n && o + 1 < size)
                buf[o++] = tmp[--n];
        buf[o] = 0;
        return buf;
}

const char *quantity_format(const struct quantity *q, char buf[QUANTITY_STR_MAX])
{
        char num[48];
        __int128 v = q->nano;
        if (v == 0) {
                snprintf(buf, QUANTITY_STR_MAX, "0");
                return buf;
        }
        if (q->format == QUANTITY_BINARY_SI &&
            (v <= -1024 * (__int128)NANO || v >= 1024 * (__int128)NANO) && v % NANO == 0) {
                static const char *const bsfx[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
                __int128 u = v / NANO;
                int k = 0;
                while (k < 6 && u % 1024 == 0) {
                        u /= 1024;
                        k++;
                }
                snprintf(buf, QUANTITY_STR_MAX, "%s%s", fmt_i128(u, num, sizeof(num)), bsfx[k]);
                return buf;
        }
        int e = -9;
        while (v % 10 == 0) {
                v /= 10;
                e++;
        }
        int r = ((e % 3) + 3) % 3;
        if (r == 1) {
                v *= 10;
                e -= 1;
        } else if (r == 2) {
                v *= 100;
                e -= 2;
        }
        fmt_i128(v, num, sizeof(num));
        if (q->format == QUANTITY_DECIMAL_EXPONENT) {
                if (e == 0)
                        snprintf(buf, QUANTITY_STR_MAX, "%s", num);
                else
                        snprintf(buf, QUANTITY_STR_MAX, "%se%d", num, e);
                return buf;
        }
        static const char *const dsfx[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
        int idx = (e + 9) / 3;
        if (idx >= 0 && idx < (int)ARRAY_SIZE(dsfx))
                snprintf(buf, QUANTITY_STR_MAX, "%s%s", num, dsfx[idx]);
        else
                snprintf(buf, QUANTITY_STR_MAX, "%se%d", num, e);
        return buf;
}

int quantity_canonicalize(const char *s, char buf[QUANTITY_STR_MAX], struct error *err)
{
        struct quantity q;
        int r = quantity_parse(s, &q, err);
        if (r < 0)
                return r;
        quantity_format(&q, buf);
        return 0;
}

int quantity_cmp(const struct quantity *a, const struct quantity *b)
{
        return a->nano < b->nano ? -1 : a->nano > b->nano ? 1 : 0;
}

static int64_t scaled_ceil(__int128 v, __int128 div)
{
        __int128 q = v / div;
        if (v % div)
                q += v > 0 ? 1 : -1;
        if (q > INT64_MAX)
                return INT64_MAX;
        if (q < INT64_MIN)
                return INT64_MIN;
        return (int64_t)q;
}

int64_t quantity_value(const struct quantity *q)
{
        return scaled_ceil(q->nano, NANO);
}

int64_t quantity_milli(const struct quantity *q)
{
        return scaled_ceil(q->nano, 1000000);
}

struct quantity quantity_from_int(int64_t units, enum quantity_format fmt)
{
        return (struct quantity){.nano = (__int128)units * NANO, .format = fmt};
}

struct quantity quantity_from_milli(int64_t milli, enum quantity_format fmt)
{
        return (struct quantity){.nano = (__int128)milli * 1000000, .format = fmt};
}

int quantity_add(struct quantity *a, const struct quantity *b)
{
        __int128 v = a->nano + b->nano; /* both within +-NANO_MAX: cannot overflow int128 */
        if (v > NANO_MAX || v < -NANO_MAX)
                return -ERANGE;
        a->nano = v;
        return 0;
}

int quantity_sub(struct quantity *a, const struct quantity *b)
{
        __int128 v = a->nano - b->nano;
        if (v > NANO_MAX || v < -NANO_MAX)
                return -ERANGE;
        a->nano = v;
        return 0;
}
