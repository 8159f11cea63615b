/* killall.h — undo everything a node agent created for a data dir: stop every container (conmon
 * and the OCI runtime with its --root), remove netns (CNI DEL first), unmount every mount under
 * DATA, delete the bridge, the fence routes and the pod cgroups recorded in
 * DATA/agent/run/runtime.json. Images and server state stay. Idempotent. */
#pragma once
#include "common/error.h"

/* data_dir is DATA (not DATA/agent). Logs one line per removed thing at LOG_INFO (`-v`).
 * Returns 0, or the first error (after trying everything else). */
int killall_run(const char *data_dir, struct error *err);
