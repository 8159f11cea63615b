/* test-status.c — pod phase/conditions/containerStatuses/qos computation, argv/env expansion. */
#include "harness.h"
#include "kubelet/status.h"

static json_t *pod_new(const char *restart_policy, const char *const *names)
{
        json_t *ctrs = json_array();
        for (size_t i = 0; names[i]; i++)
                json_array_append_new(
                        ctrs, json_pack("{s:s, s:s}", "name", names[i], "image", "busybox"));
        json_t *pod = json_pack("{s:{s:s, s:s, s:s}, s:{s:o, s:s}}", "metadata", "name", "p",
                                "namespace", "default", "uid", "u-1", "spec", "containers", ctrs,
                                "restartPolicy", restart_policy);
        return pod;
}

static const char *cond_field(json_t *st, const char *type, const char *field)
{
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(st, "conditions"), i, c)
        {
                if (!strcmp(json_string_value(json_object_get(c, "type")), type))
                        return json_string_value(json_object_get(c, field));
        }
        return NULL;
}

static const char *const one[] = {"app", NULL};
static const char *const two[] = {"app", "side", NULL};

TEST(pending_when_no_state)
{
        json_t *pod = pod_new("Always", one);
        struct kubelet_pod_observed obs = {.now = 1000};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Pending");
        json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(
                             json_object_get(json_object_get(cs, "state"), "waiting"), "reason")),
                     "ContainerCreating");
        CHECK(json_is_false(json_object_get(cs, "ready")));
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "False");
        CHECK_EQ_STR(cond_field(st, "Ready", "reason"), "ContainersNotReady");
        CHECK_EQ_STR(cond_field(st, "Ready", "message"), "containers with unready status: [app]");
        CHECK_EQ_STR(cond_field(st, "PodScheduled", "status"), "True");
        CHECK_EQ_STR(cond_field(st, "Initialized", "status"), "True");
        CHECK_EQ_STR(cond_field(st, "PodReadyToStartContainers", "status"), "False");
        CHECK_EQ_STR(cond_field(st, "Ready", "lastTransitionTime"), "1970-01-01T00:16:40Z");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "qosClass")), "BestEffort");
        CHECK(!json_object_get(st, "podIP"));
        json_decref(st);
        json_decref(pod);
}

TEST(running_and_ready)
{
        json_t *pod = pod_new("Always", two);
        struct kubelet_ctr_status c[2] = {
                {.name = "app",
                 .phase = KUBELET_CTR_RUNNING,
                 .started_at = 100,
                 .container_id = "crun://abc",
                 .image_id = "sha256:11"},
                {.name = "side", .phase = KUBELET_CTR_RUNNING, .started_at = 101},
        };
        struct kubelet_pod_observed obs = {.host_ip = "10.0.0.1",
                                           .pod_ip = "10.42.0.5",
                                           .start_time = 99,
                                           .sandbox_ready = true,
                                           .ctrs = c,
                                           .n_ctrs = 2,
                                           .now = 200};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Running");
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "True");
        CHECK(!cond_field(st, "Ready", "reason"));
        CHECK_EQ_STR(cond_field(st, "ContainersReady", "status"), "True");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "podIP")), "10.42.0.5");
        CHECK_EQ_STR(json_string_value(json_object_get(
                             json_array_get(json_object_get(st, "podIPs"), 0), "ip")),
                     "10.42.0.5");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "hostIP")), "10.0.0.1");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "startTime")), "1970-01-01T00:01:39Z");
        json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
        CHECK(json_is_true(json_object_get(cs, "ready")));
        CHECK(json_is_true(json_object_get(cs, "started")));
        CHECK_EQ_STR(json_string_value(json_object_get(cs, "containerID")), "crun://abc");
        CHECK_EQ_STR(json_string_value(json_object_get(cs, "imageID")), "sha256:11");
        CHECK_EQ_STR(json_string_value(json_object_get(cs, "image")), "busybox");
        CHECK_EQ_STR(
                json_string_value(json_object_get(
                        json_object_get(json_object_get(cs, "state"), "running"), "startedAt")),
                "1970-01-01T00:01:40Z");
        json_decref(st);
        json_decref(pod);
}

TEST(one_of_two_running_is_running_not_ready)
{
        json_t *pod = pod_new("Always", two);
        struct kubelet_ctr_status c[2] = {
                {.name = "app", .phase = KUBELET_CTR_RUNNING, .started_at = 100},
                {.name = "side",
                 .phase = KUBELET_CTR_WAITING,
                 .waiting_reason = "CrashLoopBackOff",
                 .waiting_message = "back-off 10s restarting failed container",
                 .has_last = true,
                 .last = {.exit_code = 1, .started_at = 100, .finished_at = 101},
                 .restart_count = 1},
        };
        struct kubelet_pod_observed obs = {.ctrs = c, .n_ctrs = 2, .now = 200};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Running");
        CHECK_EQ_STR(cond_field(st, "Ready", "message"), "containers with unready status: [side]");
        json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "restartCount")), 1);
        json_t *last = json_object_get(json_object_get(cs, "lastState"), "terminated");
        CHECK_EQ_STR(json_string_value(json_object_get(last, "reason")), "Error");
        CHECK_EQ_INT(json_integer_value(json_object_get(last, "exitCode")), 1);
        json_t *w = json_object_get(json_object_get(cs, "state"), "waiting");
        CHECK_EQ_STR(json_string_value(json_object_get(w, "reason")), "CrashLoopBackOff");
        CHECK_EQ_STR(json_string_value(json_object_get(w, "message")),
                     "back-off 10s restarting failed container");
        json_decref(st);
        json_decref(pod);
}

static const char *phase_of(const char *rp, int exit_code, bool backoff)
{
        json_t *pod = pod_new(rp, one);
        struct kubelet_ctr_status c = {
                .name = "app", .phase = KUBELET_CTR_TERMINATED, .term = {.exit_code = exit_code}};
        if (backoff) {
                c.phase = KUBELET_CTR_WAITING;
                c.has_last = true;
                c.last = c.term;
        }
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1};
        const char *p = kubelet_status_phase(pod, &obs);
        json_decref(pod);
        return p; /* static strings */
}

TEST(phase_table)
{
        CHECK_EQ_STR(phase_of("Never", 0, false), "Succeeded");
        CHECK_EQ_STR(phase_of("Never", 3, false), "Failed");
        CHECK_EQ_STR(phase_of("OnFailure", 0, false), "Succeeded");
        CHECK_EQ_STR(phase_of("OnFailure", 3, false), "Running");
        CHECK_EQ_STR(phase_of("Always", 0, false), "Running");
        CHECK_EQ_STR(phase_of("Always", 1, false), "Running");
        CHECK_EQ_STR(phase_of("Always", 1, true), "Running");
        CHECK_EQ_STR(phase_of("OnFailure", 1, true), "Running");
}

TEST(terminal_phase_sticks)
{
        json_t *pod = pod_new("Never", one);
        json_object_set_new(pod, "status", json_pack("{s:s}", "phase", "Failed"));
        struct kubelet_ctr_status c = {.name = "app", .phase = KUBELET_CTR_RUNNING};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1};
        CHECK_EQ_STR(kubelet_status_phase(pod, &obs), "Failed");
        json_decref(pod);
}

TEST(succeeded_conditions_and_terminated_state)
{
        json_t *pod = pod_new("Never", one);
        struct kubelet_ctr_status c = {.name = "app",
                                       .phase = KUBELET_CTR_TERMINATED,
                                       .container_id = "crun://x",
                                       .term = {.exit_code = 0,
                                                .started_at = 10,
                                                .finished_at = 20,
                                                .container_id = "crun://x"}};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1, .now = 30};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Succeeded");
        CHECK_EQ_STR(cond_field(st, "Ready", "reason"), "PodCompleted");
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "False");
        json_t *t = json_object_get(
                json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0),
                                "state"),
                "terminated");
        CHECK_EQ_STR(json_string_value(json_object_get(t, "reason")), "Completed");
        CHECK_EQ_STR(json_string_value(json_object_get(t, "containerID")), "crun://x");
        CHECK_EQ_STR(json_string_value(json_object_get(t, "finishedAt")), "1970-01-01T00:00:20Z");
        json_decref(st);
        json_decref(pod);
}

TEST(oomkilled_reason)
{
        json_t *pod = pod_new("Never", one);
        struct kubelet_ctr_status c = {.name = "app",
                                       .phase = KUBELET_CTR_TERMINATED,
                                       .term = {.exit_code = 137, .reason = "OOMKilled"}};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Failed");
        json_t *t = json_object_get(
                json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0),
                                "state"),
                "terminated");
        CHECK_EQ_STR(json_string_value(json_object_get(t, "reason")), "OOMKilled");
        CHECK_EQ_INT(json_integer_value(json_object_get(t, "exitCode")), 137);
        json_decref(st);
        json_decref(pod);
}

TEST(transition_time_kept_when_unchanged)
{
        json_t *pod = pod_new("Always", one);
        struct kubelet_ctr_status c = {.name = "app", .phase = KUBELET_CTR_RUNNING};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1, .now = 100};
        json_t *st1 = kubelet_status_compute(pod, &obs);
        json_object_set(pod, "status", st1);
        obs.now = 500;
        json_t *st2 = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st2, "Ready", "lastTransitionTime"), "1970-01-01T00:01:40Z");
        CHECK(!kubelet_status_changed(st1, st2));
        c.phase = KUBELET_CTR_TERMINATED;
        c.term.exit_code = 1;
        json_t *st3 = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st3, "Ready", "lastTransitionTime"), "1970-01-01T00:08:20Z");
        CHECK_EQ_STR(cond_field(st3, "PodScheduled", "lastTransitionTime"), "1970-01-01T00:01:40Z");
        CHECK(kubelet_status_changed(st2, st3));
        json_decref(st1);
        json_decref(st2);
        json_decref(st3);
        json_decref(pod);
}

TEST(qos)
{
        json_t *pod = pod_new("Always", two);
        json_t *ctrs = json_object_get(json_object_get(pod, "spec"), "containers");
        CHECK_EQ_STR(kubelet_status_qos(pod), "BestEffort");
        json_object_set_new(json_array_get(ctrs, 0), "resources",
                            json_pack("{s:{s:s}}", "requests", "cpu", "100m"));
        CHECK_EQ_STR(kubelet_status_qos(pod), "Burstable");
        json_object_set_new(json_array_get(ctrs, 0), "resources",
                            json_pack("{s:{s:s,s:s}}", "limits", "cpu", "1", "memory", "1Gi"));
        CHECK_EQ_STR(kubelet_status_qos(pod), "Burstable"); /* side has none */
        json_object_set_new(json_array_get(ctrs, 1), "resources",
                            json_pack("{s:{s:s,s:s}, s:{s:s,s:s}}", "limits", "cpu", "1", "memory",
                                      "1Gi", "requests", "cpu", "1", "memory", "1Gi"));
        CHECK_EQ_STR(kubelet_status_qos(pod), "Guaranteed");
        json_object_set_new(json_array_get(ctrs, 1), "resources",
                            json_pack("{s:{s:s,s:s}, s:{s:s}}", "limits", "cpu", "1", "memory",
                                      "1Gi", "requests", "cpu", "500m"));
        CHECK_EQ_STR(kubelet_status_qos(pod), "Burstable");
        json_decref(pod);
}

TEST(env_expand)
{
        char *env[] = {"A=x", "B=y y", "A=z", NULL};
        struct {
                const char *in, *out;
        } cases[] = {
                {"plain", "plain"}, {"$(A)", "z"},  {"a$(B)b", "ay yb"},  {"$$(A)", "$(A)"},
                {"$(C)", "$(C)"},   {"$A", "$A"},   {"$(A", "$(A"},       {"$", "$"},
                {"$$", "$"},        {"$()", "$()"}, {"$(A)$(B)", "zy y"}, {"", ""},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char *o = kubelet_env_expand(cases[i].in, env);
                CHECK_EQ_STR(o, cases[i].out);
                free(o);
        }
        char *o = kubelet_env_expand("$(A)", NULL);
        CHECK_EQ_STR(o, "$(A)");
        free(o);
}

TEST(container_env)
{
        json_t *pod = pod_new("Always", one);
        json_object_set_new(json_object_get(pod, "metadata"), "labels",
                            json_pack("{s:s}", "app", "web"));
        json_t *envs = json_array();
        json_array_append_new(envs, json_pack("{s:s,s:s}", "name", "PATH", "value", "/custom"));
        json_array_append_new(envs, json_pack("{s:s,s:s}", "name", "GREETING", "value", "hi"));
        json_array_append_new(envs, json_pack("{s:s,s:s}", "name", "MSG", "value",
                                              "$(GREETING) $(HOME) $(PATH)"));
        const char *refs[][2] = {{"POD", "metadata.name"},
                                 {"IP", "status.podIP"},
                                 {"APP", "metadata.labels['app']"}};
        for (size_t i = 0; i < ARRAY_SIZE(refs); i++)
                json_array_append_new(envs,
                                      json_pack("{s:s,s:{s:{s:s}}}", "name", refs[i][0],
                                                "valueFrom", "fieldRef", "fieldPath", refs[i][1]));
        json_array_append_new(envs, json_pack("{s:s,s:s}", "name", "GREETING", "value", "bye"));
        json_t *c = json_pack("{s:s, s:o}", "name", "app", "env", envs);
        char *img_env[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
        char **env = kubelet_container_env(pod, c, img_env, "10.42.0.9", "10.0.0.1");
        CHECK_EQ_INT(kubelet_strv_length(env), 7);
        CHECK_EQ_STR(env[0], "PATH=/custom");
        CHECK_EQ_STR(env[1], "HOME=/root");
        CHECK_EQ_STR(env[2], "GREETING=bye");
        CHECK_EQ_STR(env[3], "MSG=hi $(HOME) /custom");
        CHECK_EQ_STR(env[4], "POD=p");
        CHECK_EQ_STR(env[5], "IP=10.42.0.9");
        CHECK_EQ_STR(env[6], "APP=web");
        kubelet_strv_free(env);
        json_decref(c);
        json_decref(pod);
}

static char *joined(char **v)
{
        static char buf[512];
        size_t len = 0;
        buf[0] = '\0';
        for (size_t i = 0; v && v[i] && len < sizeof(buf); i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "|" : "", v[i]);
        return buf;
}

TEST(container_argv)
{
        char *ep[] = {"/entry", "-x", NULL};
        char *cmd[] = {"sh", NULL};
        char *env[] = {"N=3", NULL};
        json_t *c = json_object();
        char **v = kubelet_container_argv(c, ep, cmd, env);
        CHECK_EQ_STR(joined(v), "/entry|-x|sh");
        kubelet_strv_free(v);

        json_object_set_new(c, "args", json_pack("[s,s]", "sleep", "$(N)"));
        v = kubelet_container_argv(c, ep, cmd, env);
        CHECK_EQ_STR(joined(v), "/entry|-x|sleep|3");
        kubelet_strv_free(v);

        json_object_set_new(c, "command", json_pack("[s,s]", "/bin/sh", "-c"));
        json_object_set_new(c, "args", json_pack("[s]", "echo $(N) $$(N) $(M)"));
        v = kubelet_container_argv(c, ep, cmd, env);
        CHECK_EQ_STR(joined(v), "/bin/sh|-c|echo 3 $(N) $(M)");
        kubelet_strv_free(v);

        json_object_del(c, "args");
        v = kubelet_container_argv(c, ep, cmd, env);
        CHECK_EQ_STR(joined(v), "/bin/sh|-c");
        kubelet_strv_free(v);

        json_t *empty = json_object();
        v = kubelet_container_argv(empty, NULL, NULL, NULL);
        CHECK(v == NULL);
        json_decref(empty);
        json_decref(c);
}

/* ---- init containers, probe state, deadline, env sources ---- */

static const char *init_names[] = {"i1", "i2", NULL};

static json_t *pod_with_init(const char *rp)
{
        json_t *pod = pod_new(rp, one);
        json_t *inits = json_array();
        for (size_t i = 0; init_names[i]; i++)
                json_array_append_new(
                        inits, json_pack("{s:s, s:s}", "name", init_names[i], "image", "busybox"));
        json_object_set_new(json_object_get(pod, "spec"), "initContainers", inits);
        return pod;
}

static const char *state_reason(json_t *cs, const char *state)
{
        return json_string_value(
                json_object_get(json_object_get(json_object_get(cs, "state"), state), "reason"));
}

TEST(init_containers_status)
{
        json_t *pod = pod_with_init("Always");
        struct kubelet_ctr_status inits[2] = {
                {.name = "i1",
                 .phase = KUBELET_CTR_TERMINATED,
                 .term = {.exit_code = 0, .started_at = 1, .finished_at = 2}},
                {.name = "i2", .phase = KUBELET_CTR_RUNNING, .started_at = 3},
        };
        struct kubelet_pod_observed obs = {.init_ctrs = inits, .n_init_ctrs = 2, .now = 10};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Pending");
        CHECK_EQ_STR(cond_field(st, "Initialized", "status"), "False");
        CHECK_EQ_STR(cond_field(st, "Initialized", "reason"), "ContainersNotInitialized");
        CHECK_EQ_STR(cond_field(st, "Initialized", "message"),
                     "containers with incomplete status: [i2]");
        json_t *ist = json_object_get(st, "initContainerStatuses");
        CHECK_EQ_INT(json_array_size(ist), 2);
        CHECK_EQ_STR(state_reason(json_array_get(ist, 0), "terminated"), "Completed");
        CHECK(json_is_true(json_object_get(json_array_get(ist, 0), "ready")));
        CHECK(json_is_false(json_object_get(json_array_get(ist, 0), "started")));
        json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
        CHECK_EQ_STR(state_reason(cs, "waiting"), "PodInitializing");
        json_decref(st);

        /* a failed init container under Never fails the pod */
        json_decref(pod);
        pod = pod_with_init("Never");
        inits[1] = (struct kubelet_ctr_status){
                .name = "i2", .phase = KUBELET_CTR_TERMINATED, .term = {.exit_code = 3}};
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Failed");
        CHECK_EQ_STR(cond_field(st, "Ready", "reason"), "PodFailed");
        json_decref(st);
        /* ... and under Always it waits (Pending) for the restart */
        json_decref(pod);
        pod = pod_with_init("Always");
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Pending");
        json_decref(st);
        /* all done: Initialized */
        inits[1].term.exit_code = 0;
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st, "Initialized", "status"), "True");
        json_decref(st);
        json_decref(pod);
}

TEST(probe_state_and_deadline)
{
        json_t *pod = pod_new("Always", one);
        struct kubelet_ctr_status c = {.name = "app",
                                       .phase = KUBELET_CTR_RUNNING,
                                       .started_at = 5,
                                       .has_probe_state = true,
                                       .ready = false,
                                       .started = true};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1, .now = 10};
        json_t *st = kubelet_status_compute(pod, &obs);
        json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
        CHECK(json_is_false(json_object_get(cs, "ready")));
        CHECK(json_is_true(json_object_get(cs, "started")));
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "False");
        CHECK_EQ_STR(cond_field(st, "ContainersReady", "message"),
                     "containers with unready status: [app]");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Running");
        json_decref(st);

        obs.failed_reason = "DeadlineExceeded";
        obs.failed_message = "Pod was active on the node longer than the specified deadline";
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Failed");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "reason")), "DeadlineExceeded");
        CHECK_EQ_STR(json_string_value(json_object_get(st, "message")), obs.failed_message);
        json_decref(st);
        json_decref(pod);
}

static int env_lookup_fn(void *ud, const char *kind, const char *name, json_t **ret,
                         struct error *err)
{
        if (!strcmp(kind, "configmap") && !strcmp(name, "cfg")) {
                *ret = json_pack("{s:s, s:s}", "color", "blue", "size", "3");
                return 0;
        }
        if (!strcmp(kind, "secret") && !strcmp(name, "sec")) {
                *ret = json_pack("{s:s}", "password", "hunter2");
                return 0;
        }
        return error_set(err, -ENOENT, "%s \"%s\" not found", kind, name);
}

static const char *env_get(char **v, const char *name)
{
        size_t l = strlen(name);
        for (size_t i = 0; v && v[i]; i++)
                if (!strncmp(v[i], name, l) && v[i][l] == '=')
                        return v[i] + l + 1;
        return NULL;
}

TEST(env_sources)
{
        json_t *pod = pod_new("Always", one);
        json_t *c = json_loads(
                "{\"name\": \"app\","
                " \"resources\": {\"limits\": {\"memory\": \"64Mi\", \"cpu\": \"1500m\"}},"
                " \"envFrom\": [{\"prefix\": \"X_\", \"configMapRef\": {\"name\": \"cfg\"}},"
                "  {\"secretRef\": {\"name\": \"nosec\", \"optional\": true}}],"
                " \"env\": ["
                "  {\"name\": \"COLOR\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cfg\","
                "   \"key\": \"color\"}}},"
                "  {\"name\": \"PASS\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\","
                "   \"key\": \"password\"}}},"
                "  {\"name\": \"OPT\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"nope\","
                "   \"key\": \"x\", \"optional\": true}}},"
                "  {\"name\": \"MEM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\":"
                "   \"limits.memory\", \"divisor\": \"1Mi\"}}},"
                "  {\"name\": \"A\", \"value\": \"$(B)\"},"
                "  {\"name\": \"B\", \"value\": \"$(A)-$(X_size)\"},"
                "  {\"name\": \"CPU\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\":"
                "   \"limits.cpu\", \"divisor\": \"1\"}}}]}",
                0, NULL);
        CHECK(c != NULL);
        struct kubelet_env_source src = {.lookup = env_lookup_fn};
        char **v = NULL;
        struct error err = {0};
        CHECK_EQ_INT(
                kubelet_container_env_resolve(pod, c, NULL, "10.0.0.2", "10.0.0.1", &src, &v, &err),
                0);
        CHECK_EQ_STR(env_get(v, "X_color"), "blue");
        CHECK_EQ_STR(env_get(v, "COLOR"), "blue");
        CHECK_EQ_STR(env_get(v, "PASS"), "hunter2");
        CHECK(env_get(v, "OPT") == NULL); /* optional and absent: no variable */
        CHECK_EQ_STR(env_get(v, "MEM"), "64");
        CHECK_EQ_STR(env_get(v, "CPU"), "2"); /* ceil(1.5) */
        /* an env "loop" is no loop: one pass, undefined references stay as written */
        CHECK_EQ_STR(env_get(v, "A"), "$(B)");
        CHECK_EQ_STR(env_get(v, "B"), "$(B)-3");
        kubelet_strv_free(v);

        json_t *e0 = json_array_get(json_object_get(c, "env"), 0);
        json_object_set_new(json_object_get(json_object_get(e0, "valueFrom"), "configMapKeyRef"),
                            "key", json_string("nokey"));
        CHECK_EQ_INT(kubelet_container_env_resolve(pod, c, NULL, NULL, NULL, &src, &v, &err),
                     -ENOENT);
        CHECK_EQ_STR(error_msg(&err), "couldn't find key nokey in ConfigMap default/cfg");
        json_object_set_new(json_object_get(json_object_get(e0, "valueFrom"), "configMapKeyRef"),
                            "name", json_string("gone"));
        CHECK_EQ_INT(kubelet_container_env_resolve(pod, c, NULL, NULL, NULL, &src, &v, &err),
                     -ENOENT);
        CHECK_EQ_STR(error_msg(&err), "configmap \"gone\" not found");
        json_decref(c);
        json_decref(pod);
}

TEST(readiness_gates)
{
        json_t *pod = pod_new("Always", one);
        json_object_set_new(json_object_get(pod, "spec"), "readinessGates",
                            json_pack("[{s:s}]", "conditionType", "example.com/lb"));
        struct kubelet_ctr_status c = {.name = "app", .phase = KUBELET_CTR_RUNNING};
        struct kubelet_pod_observed obs = {.ctrs = &c, .n_ctrs = 1, .now = 10};
        json_t *st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st, "ContainersReady", "status"), "True");
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "False");
        CHECK_EQ_STR(cond_field(st, "Ready", "reason"), "ReadinessGatesNotReady");
        CHECK_EQ_STR(cond_field(st, "Ready", "message"),
                     "corresponding condition of pod readiness gate \"example.com/lb\" does not "
                     "exist.");
        json_decref(st);
        /* a controller set the gate's condition False, then True: kept and honoured */
        json_object_set_new(pod, "status",
                            json_pack("{s:[{s:s, s:s}]}", "conditions", "type", "example.com/lb",
                                      "status", "False"));
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st, "Ready", "message"),
                     "the status of pod readiness gate \"example.com/lb\" is not \"True\", but "
                     "False");
        CHECK_EQ_STR(cond_field(st, "example.com/lb", "status"), "False");
        json_decref(st);
        json_object_set_new(pod, "status",
                            json_pack("{s:[{s:s, s:s}]}", "conditions", "type", "example.com/lb",
                                      "status", "True"));
        st = kubelet_status_compute(pod, &obs);
        CHECK_EQ_STR(cond_field(st, "Ready", "status"), "True");
        json_decref(st);
        json_decref(pod);
}

TEST(sidecar_init_container)
{
        json_t *pod = pod_new("Always", one);
        json_object_set_new(json_object_get(pod, "spec"), "initContainers",
                            json_pack("[{s:s, s:s, s:s}]", "name", "side", "image", "busybox",
                                      "restartPolicy", "Always"));
        struct kubelet_ctr_status side = {.name = "side", .phase = KUBELET_CTR_RUNNING};
        struct kubelet_ctr_status app = {.name = "app", .phase = KUBELET_CTR_RUNNING};
        struct kubelet_pod_observed obs = {
                .ctrs = &app, .n_ctrs = 1, .init_ctrs = &side, .n_init_ctrs = 1, .now = 10};
        json_t *st = kubelet_status_compute(pod, &obs);
        /* a running sidecar neither holds the phase in Pending nor initialization */
        CHECK_EQ_STR(json_string_value(json_object_get(st, "phase")), "Running");
        CHECK_EQ_STR(cond_field(st, "Initialized", "status"), "True");
        json_t *is = json_array_get(json_object_get(st, "initContainerStatuses"), 0);
        CHECK(json_is_true(json_object_get(is, "started")));
        json_decref(st);
        json_decref(pod);
}

int main(void)
{
        RUN(pending_when_no_state);
        RUN(running_and_ready);
        RUN(one_of_two_running_is_running_not_ready);
        RUN(phase_table);
        RUN(terminal_phase_sticks);
        RUN(succeeded_conditions_and_terminated_state);
        RUN(oomkilled_reason);
        RUN(transition_time_kept_when_unchanged);
        RUN(qos);
        RUN(env_expand);
        RUN(container_env);
        RUN(container_argv);
        RUN(init_containers_status);
        RUN(probe_state_and_deadline);
        RUN(env_sources);
        RUN(readiness_gates);
        RUN(sidecar_init_container);
        return harness_done();
}
