/* quantity.h — Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).
 * Grammar: [+-] digits[.digits] [suffix], suffix one of
 *   binary  Ki Mi Gi Ti Pi Ei
 *   decimal n u m "" k M G T P E
 *   exponent e<int> / E<int>   ("1e3", "5E-3")
 * Values are held exactly in nano-units (128-bit); anything finer than 1n rounds up (away from
 * zero, as Kubernetes does), anything beyond +-2^63-1 units is -ERANGE. */
#pragma once
#include "common/error.h"

enum quantity_format {
        QUANTITY_DECIMAL_SI = 0,   /* "1500m", "128M", "2" */
        QUANTITY_BINARY_SI,        /* "128Mi" */
        QUANTITY_DECIMAL_EXPONENT, /* "1e3" */
};

struct quantity {
        __int128 nano;               /* value * 10^9 */
        enum quantity_format format; /* remembered from the suffix, used by quantity_format() */
};

#define QUANTITY_STR_MAX 64

/* Parse s. Errors: -EINVAL with Kubernetes' message ("quantities must match the regular
 * expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"), -ERANGE if out of range. */
int quantity_parse(const char *s, struct quantity *ret, struct error *err);

/* Canonical text as Kubernetes' Quantity.String() prints it ("1500m", "128Mi", "1k", "0",
 * "1536Mi", "1e3"). Binary format is used only for integral values >= 1024 in magnitude
 * (else decimal SI). Returns buf. */
const char *quantity_format(const struct quantity *q, char buf[QUANTITY_STR_MAX]);

/* Parse + format: canonical form of s into buf. Same errors as quantity_parse. */
int quantity_canonicalize(const char *s, char buf[QUANTITY_STR_MAX], struct error *err);

/* <0, 0, >0 as a <, ==, > b (format ignored). */
int quantity_cmp(const struct quantity *a, const struct quantity *b);

/* Value rounded up to whole units (Quantity.Value()), saturating at INT64_MIN/MAX. */
int64_t quantity_value(const struct quantity *q);
/* Value in milli-units rounded up (Quantity.MilliValue()), saturating. */
int64_t quantity_milli(const struct quantity *q);

/* Constructors. */
struct quantity quantity_from_int(int64_t units, enum quantity_format fmt);
struct quantity quantity_from_milli(int64_t milli, enum quantity_format fmt);

/* a += b / a -= b (a's format kept). -ERANGE (a unchanged) on overflow beyond the range. */
int quantity_add(struct quantity *a, const struct quantity *b);
int quantity_sub(struct quantity *a, const struct quantity *b);
