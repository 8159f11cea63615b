/* util.h — pure helpers shared by the controllers (pods, owner references, intOrString, the
 * pod-template hash, conditions). No I/O; unit-tested in tests/unit/controllers/test-util.c. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "common/base.h"

/* The ownerReference with controller: true (borrowed) or NULL. */
json_t *controllers_controller_ref(const json_t *obj);
/* A new ownerReference {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true}
 * pointing at owner. */
json_t *controllers_owner_ref_new(const json_t *owner, const char *api_version, const char *kind);

/* Not Succeeded/Failed and no deletionTimestamp (controller.FilterActivePods). */
bool controllers_pod_is_active(const json_t *pod);
/* Condition Ready=True. */
bool controllers_pod_is_ready(const json_t *pod);
/* Ready for at least min_ready_s seconds at wall time now (podutil.IsPodAvailable). */
bool controllers_pod_is_available(const json_t *pod, int64_t min_ready_s, time_t now);

/* intOrString value v (integer, "25%", or NULL = dflt_percent%) against total, rounding up or
 * down as intstr.GetScaledValueFromIntOrPercent. -EINVAL for a malformed string. */
int controllers_intstr_scaled(const json_t *v, int dflt_percent, int64_t total, bool round_up,
                              int64_t *ret);
/* deploymentutil.ResolveFenceposts: maxSurge rounded up, maxUnavailable down, both 0 ->
 * maxUnavailable 1. strategy is spec.strategy (may be NULL). */
int controllers_resolve_fenceposts(const json_t *strategy, int64_t desired, int64_t *ret_surge,
                                   int64_t *ret_unavailable);

/* rand.SafeEncodeString: each byte -> "bcdfghjklmnpqrstvwxz2456789"[byte % 27], in place. */
void controllers_safe_encode(char *s);
/* The pod-template-hash: FNV-32a of the template's canonical JSON (keys sorted, compact) then,
 * if collision_count >= 0, its 4 bytes little-endian padded to 8, printed in decimal and safe-
 * encoded (controller.ComputeHash, with our serialization in place of Go's spew dump). */
void controllers_template_hash(const json_t *tmpl, int64_t collision_count, char buf[16]);
/* 32-bit FNV-1a of data. */
uint32_t controllers_fnv32a(const void *data, size_t len, uint32_t h);
#define CONTROLLERS_FNV32A_INIT 2166136261u

/* Sort an array of pods in deletion preference order (controller.ActivePodsWithRanks, the first
 * is deleted first): unassigned < assigned; Pending < Unknown < Running; not ready < ready;
 * more related pods on the same node first; ready for less time first; more restarts first;
 * newer first. related (may be NULL) are the pods used to rank nodes. */
void controllers_pods_sort_for_deletion(json_t *pods, const json_t *related);

/* Conditions in status.conditions: get (borrowed) by type, or set: replaces the condition of
 * that type, keeping lastTransitionTime when status does not change. Returns true when
 * anything but timestamps changed. cond is stolen. */
json_t *controllers_condition_get(const json_t *status, const char *type);
bool controllers_condition_set(json_t *status, json_t *cond);
void controllers_condition_del(json_t *status, const char *type);
/* {type, status, reason, message, lastTransitionTime: now[, lastUpdateTime: now]}. */
json_t *controllers_condition_new(const char *type, const char *status, const char *reason,
                                  const char *message, bool with_update_time);

/* "ns/name" of obj; caller frees. */
char *controllers_key(const json_t *obj);
/* Split "ns/name" into ns (malloc'd) and name (points into key). */
void controllers_key_split(const char *key, char **ret_ns, const char **ret_name);
/* Now as RFC 3339. */
void controllers_now(char buf[32]);
/* Parse an RFC 3339 time at dotted path; 0 if missing. */
time_t controllers_time(const json_t *obj, const char *path);
