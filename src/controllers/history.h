/* history.h — ControllerRevisions of DaemonSets and StatefulSets (controller_history.go): the
 * revision data is the patch {"spec":{"template":{..., "$patch":"replace"}}} that `kubectl
 * rollout undo` applies back, named <set>-<hash> with the hash of that patch and the set's
 * collisionCount, numbered 1, 2, ... with the newest highest; an unchanged template reuses (and
 * renumbers) its old revision. */
#pragma once
#include <jansson.h>

#include "client/client.h"
#include "common/error.h"

struct manager;

/* The revision data of set (new object). */
json_t *history_patch(const json_t *set);
/* The template a revision stores (borrowed) or NULL. */
json_t *history_template(const json_t *rev);
/* Revisions in revs (array, borrowed) controlled by set (ownerReference uid), sorted by
 * .revision then name, oldest first. New array. */
json_t *history_owned(const json_t *revs, const json_t *set);
/* The revision in sorted (borrowed) whose data equals data, preferring the newest; NULL if none. */
json_t *history_find_equal(const json_t *sorted, const json_t *data);
/* Highest .revision in sorted + 1 (1 for none). */
int64_t history_next_number(const json_t *sorted);
/* Names of revisions to delete (new array): the oldest of those not named in keep (an object
 * used as a set: revision name -> anything) beyond limit. */
json_t *history_prune(const json_t *sorted, const json_t *keep, int64_t limit);

/* Bring the set's history in line with its template (I/O, on the controllers' shared caches):
 * find or create (or renumber) the update revision; *ret_update gets it (new reference),
 * *ret_revs the sorted owned revisions after the change (new array). collision_count is
 * read from and may be raised in *collision (status.collisionCount). kind is "DaemonSet" or
 * "StatefulSet". 0 or a negative errno (message in err). */
int history_sync(struct manager *m, struct kclient *kc, const json_t *set, const char *kind,
                 int64_t *collision, json_t **ret_update, json_t **ret_revs, struct error *err);
/* Delete the revisions history_prune picks (errors logged). */
void history_truncate(struct kclient *kc, const json_t *set, const json_t *revs,
                      const json_t *keep);
