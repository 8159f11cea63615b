/* protobuf.h — decode Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf)
 * into the JSON object the same client would have sent as application/json.
 *
 * kubectl >= 1.32 sends protobuf for every typed-clientset write (create namespace|deployment|
 * ..., debug, create token). The wire format is the magic "k8s\0" followed by a runtime.Unknown
 * {1 TypeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}; raw is the object
 * per k8s.io/api/<group>/<version>/generated.proto (proto2, gogo).
 *
 * The decoder is pure (no I/O) and table-driven: protobuf-schema.c holds one table per Go struct
 * (field number, JSON name, type, omitempty/pointer flags), generated from the struct tags by
 * tests/data/protobuf/gen-schema.py. The JSON follows Go's encoding/json on the typed struct:
 * zero scalars with omitempty are dropped, pointers are kept when present on the wire, non-pointer
 * structs are always present ("spec":{}, "creationTimestamp":null), nil slices/maps without
 * omitempty are null.
 *
 * Use in the API server: when the request Content-Type (without parameters) is
 * PROTOBUF_MEDIA_TYPE, call protobuf_decode_k8s() on the body and continue exactly as with a
 * parsed JSON body; -ENOTSUP -> 415 UnsupportedMediaType, any other error -> 400 BadRequest. */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include "common/error.h"

#define PROTOBUF_MEDIA_TYPE "application/vnd.kubernetes.protobuf"

/* Caps on hostile input: all exceeded -> -E2BIG. */
#define PROTOBUF_MAX_BODY (8u << 20)  /* bytes of input */
#define PROTOBUF_MAX_DEPTH 48         /* nested messages */
#define PROTOBUF_MAX_REPEATED 100000  /* elements of one repeated field or map */
#define PROTOBUF_MAX_NODES (1u << 19) /* JSON values produced (zero filling amplifies) */

/* Decode a "k8s\0"-prefixed runtime.Unknown. On success *ret is a new JSON object starting with
 * "kind" and "apiVersion" (from the envelope). Errors: -EINVAL "not a Kubernetes protobuf
 * envelope" / malformed protobuf (message in err), -ENOTSUP "no protobuf schema for
 * <apiVersion>/<kind>" for kinds without a table or a non-empty contentEncoding, -E2BIG when a
 * cap is exceeded. *ret is written only on success. */
int protobuf_decode_k8s(const void *buf, size_t len, json_t **ret, struct error *err);

/* Decode the raw object bytes (no envelope) for a known apiVersion/kind; same errors. */
int protobuf_decode_object(const char *api_version, const char *kind, const void *buf, size_t len,
                           json_t **ret, struct error *err);

/* Whether a table exists for apiVersion/kind. */
bool protobuf_has_kind(const char *api_version, const char *kind);

/* ---- schema tables (protobuf-schema.c; read by protobuf.c) ---- */
enum protobuf_type {
        PB_SKIP, /* decoded as unknown: never emitted */
        PB_STRING,
        PB_BYTES, /* []byte -> base64 */
        PB_BOOL,
        PB_INT32,
        PB_INT64,
        PB_MESSAGE,   /* msg */
        PB_QUANTITY,  /* resource.Quantity {1 string} */
        PB_TIME,      /* metav1.Time {1 seconds, 2 nanos}; empty = zero = null */
        PB_MICROTIME, /* metav1.MicroTime, 6 fractional digits */
        PB_DURATION,  /* metav1.Duration {1 int64 ns} -> Go's time.Duration.String() */
        PB_INTSTR,    /* intstr.IntOrString {1 type, 2 intVal, 3 strVal} */
        PB_RAW,       /* runtime.RawExtension / FieldsV1 {1 raw JSON bytes} */
        PB_STRLIST,   /* a []string wrapped in a message {1 repeated string} (map values) */
};

enum {
        PB_REPEATED = 1 << 0, /* Go slice: every occurrence appends */
        PB_MAP = 1 << 1,      /* Go map[string]T: entries {1 key, 2 value}; type = value type */
        PB_PTR = 1 << 2,      /* Go pointer: kept whenever present on the wire */
        PB_OMITEMPTY = 1 << 3,
        PB_INLINE = 1 << 4, /* embedded struct: its fields merge into the parent object */
};

struct protobuf_message;
struct protobuf_field {
        uint32_t num;
        const char *name; /* JSON name ("" for PB_INLINE) */
        uint8_t type;     /* enum protobuf_type */
        uint8_t flags;
        const struct protobuf_message *msg; /* PB_MESSAGE only */
};
struct protobuf_message {
        const char *name;
        const struct protobuf_field *fields; /* sorted by num */
        size_t n_fields;
};
struct protobuf_kind {
        const char *api_version; /* "*": any (DeleteOptions) */
        const char *kind;
        const struct protobuf_message *msg;
};
extern const struct protobuf_kind protobuf_schema_kinds[];
extern const size_t protobuf_schema_kinds_count;
