/* quota.h — ResourceQuota status and admission (quota.c). */
#pragma once
#include <jansson.h>
#include <stdbool.h>

struct apiserver;
struct rq;
struct scheme_resource;

/* Loop thread, once the watch cache runs: follow the namespaces' objects and keep the status of
 * their quotas; quota_stop before the cache is freed. */
void quota_start(struct apiserver *a);
void quota_stop(struct apiserver *a);
/* Set quota's status.hard and status.used (usage in ns from the watch cache). */
void quota_fill_status(struct apiserver *a, const char *ns, json_t *quota);
/* The LimitRanger admission plugin's defaults for a pod being created: the Container items'
 * default (limits) and defaultRequest (requests) of the namespace's LimitRanges fill what the
 * containers leave unset, noted in the kubernetes.io/limit-ranger annotation. */
void limitrange_admit(struct rq *q, json_t *pod);
/* Admission of a create of obj (resource r; generated: its name was made from generateName):
 * 0, or -EACCES after responding Forbidden ("exceeded quota: ...") when a quota of the
 * namespace would go over its hard limit. */
int quota_admit(struct rq *q, const struct scheme_resource *r, const json_t *obj, bool generated);
