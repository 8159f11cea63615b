/* protobuf.h — decode Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown) into the
 * JSON objects the rest of the server works with. kubectl >= 1.32 sends protobuf for the typed
 * create subcommands (create namespace|configmap|secret|serviceaccount ...). Only the kinds in
 * protobuf_kinds are understood; the encoding is proto2/gogo, so empty strings and zero numbers
 * on the wire are treated as unset. Pure; bounded (no recursion beyond the static schema). */
#pragma once
#include <jansson.h>

#include "common/error.h"

#define PROTOBUF_MAGIC "k8s\0"

/* Whether buf starts with the 4 magic bytes. */
bool protobuf_is_k8s(const char *buf, size_t len);

/* Decode; *ret = {"apiVersion":..,"kind":..,...fields} (new reference).
 * Errors: -EBADMSG malformed, -EMEDIUMTYPE a kind we do not decode (message names it). */
int protobuf_decode(const char *buf, size_t len, json_t **ret, struct error *err);
