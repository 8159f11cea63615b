/* test-framework.c — the scheduler's filters, scores, preemption and FailedScheduling wording,
 * with cases from the Kubernetes documentation (assign-pod-node, taint-and-toleration,
 * topology-spread-constraints, pod-priority-preemption, resource requests of init containers). */
#include <jansson.h>
#include <stdarg.h>

#include "harness.h"
#include "scheduler/framework.h"

static json_t *J(const char *fmt, ...)
{
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        for (char *p = buf; *p; p++)
                if (*p == '\'')
                        *p = '"';
        json_error_t e;
        json_t *j = json_loads(buf, 0, &e);
        if (!j)
                printf("# bad json: %s: %s\n", e.text, buf);
        return j;
}

/* node with cpu (cores), labels (json object text) and taints (json array text) */
static struct sched_node *add_node(struct sched_cluster *c, const char *name, int cpu,
                                   const char *labels, const char *taints)
{
        json_t *n =
                J("{'metadata':{'name':'%s','labels':%s},'spec':{'taints':%s},"
                  "'status':{'allocatable':{'cpu':'%d','memory':'8Gi','pods':'110',"
                  "'ephemeral-storage':'10Gi'},'conditions':[{'type':'Ready','status':'True'}]}}",
                  name, labels ? labels : "{}", taints ? taints : "[]", cpu);
        struct sched_node *sn = sched_cluster_set_node(c, n);
        json_decref(n);
        return sn;
}

static struct sched_pod *mk_pod(const char *name, const char *spec_extra, const char *labels)
{
        json_t *p = J("{'metadata':{'name':'%s','namespace':'default','uid':'u-%s','labels':%s},"
                      "'spec':{'containers':[{'name':'c','image':'busybox:1.36'}]%s%s}}",
                      name, name, labels ? labels : "{}", spec_extra ? "," : "",
                      spec_extra ? spec_extra : "");
        struct sched_pod *sp = sched_pod_new(p);
        json_decref(p);
        return sp;
}

static struct sched_pod *cpu_pod(const char *name, const char *cpu, int prio)
{
        char extra[256];
        snprintf(extra, sizeof(extra), "'priority':%d", prio);
        json_t *p = J("{'metadata':{'name':'%s','namespace':'default','uid':'u-%s'},"
                      "'spec':{%s,'containers':[{'name':'c','image':'x',"
                      "'resources':{'requests':{'cpu':'%s'}}}]}}",
                      name, name, extra, cpu);
        struct sched_pod *sp = sched_pod_new(p);
        json_decref(p);
        return sp;
}

static void bind(struct sched_node *n, struct sched_pod *p)
{
        free(p->node);
        p->node = strdup(n->name);
        sched_node_add_pod(n, p);
}

static const char *run(struct sched_cluster *c, struct sched_pod *p, char **msg)
{
        struct sched_result r;
        size_t start = 0;
        static char name[64];
        sched_schedule(c, p, &start, &r);
        snprintf(name, sizeof(name), "%s", r.node ? r.node->name : "");
        if (msg)
                *msg = r.message ? strdup(r.message) : NULL;
        sched_result_clear(&r);
        return name;
}

TEST(requests_init_max_rule_and_overhead)
{
        /* docs "Resource sharing within containers": init 2 cpu, app 1+1 cpu -> 2 cpu; plus
         * overhead 250m */
        json_t *p = J("{'metadata':{'name':'p','namespace':'d'},'spec':{"
                      "'initContainers':[{'name':'i','resources':{'requests':{'cpu':'2'}}},"
                      "{'name':'i2','resources':{'requests':{'cpu':'500m','memory':'1Gi'}}}],"
                      "'containers':[{'name':'a','resources':{'requests':{'cpu':'1'}}},"
                      "{'name':'b','resources':{'limits':{'cpu':'1','memory':'64Mi'}}}],"
                      "'overhead':{'cpu':'250m'}}}");
        struct sched_pod *sp = sched_pod_new(p);
        CHECK_EQ_INT(sp->req.cpu_m, 2250);
        CHECK_EQ_INT(sp->req.mem, 1024LL * 1024 * 1024);
        CHECK_EQ_INT(sp->req.pods, 1);
        /* non-zero: container a has no memory -> 200Mi, b 64Mi; init i2 1Gi wins */
        CHECK_EQ_INT(sp->nonzero.mem, 1024LL * 1024 * 1024);
        sched_pod_free(sp);
        json_decref(p);
        /* sidecar (restartPolicy Always) adds to the containers' sum */
        p = J("{'metadata':{'name':'p','namespace':'d'},'spec':{"
              "'initContainers':[{'name':'s','restartPolicy':'Always',"
              "'resources':{'requests':{'cpu':'300m'}}}],"
              "'containers':[{'name':'a','resources':{'requests':{'cpu':'1'}}}]}}");
        sp = sched_pod_new(p);
        CHECK_EQ_INT(sp->req.cpu_m, 1300);
        sched_pod_free(sp);
        json_decref(p);
}

TEST(tolerations)
{
        /* taint-and-toleration docs: key1=value1:NoSchedule */
        json_t *eq =
                J("[{'key':'key1','operator':'Equal','value':'value1','effect':'NoSchedule'}]");
        json_t *ex = J("[{'key':'key1','operator':'Exists','effect':'NoSchedule'}]");
        json_t *all = J("[{'operator':'Exists'}]");
        json_t *wrong = J("[{'key':'key1','operator':'Equal','value':'v2','effect':'NoSchedule'}]");
        json_t *noeff = J("[{'key':'key1','value':'value1'}]");
        CHECK(sched_tolerates(eq, "key1", "value1", "NoSchedule"));
        CHECK(!sched_tolerates(eq, "key1", "value1", "NoExecute"));
        CHECK(sched_tolerates(ex, "key1", "anything", "NoSchedule"));
        CHECK(sched_tolerates(all, "k", "v", "NoExecute"));
        CHECK(!sched_tolerates(wrong, "key1", "value1", "NoSchedule"));
        CHECK(sched_tolerates(noeff, "key1", "value1", "NoExecute"));
        CHECK(!sched_tolerates(NULL, "key1", "value1", "NoSchedule"));
        json_decref(eq);
        json_decref(ex);
        json_decref(all);
        json_decref(wrong);
        json_decref(noeff);
}

TEST(node_selector_terms)
{
        json_t *node = J("{'metadata':{'name':'n1','labels':{'topology.kubernetes.io/zone':"
                         "'antarctica-east1','cores':'8'}}}");
        json_t *in = J("{'matchExpressions':[{'key':'topology.kubernetes.io/zone','operator':'In',"
                       "'values':['antarctica-east1','antarctica-west1']}]}");
        json_t *notin = J("{'matchExpressions':[{'key':'topology.kubernetes.io/zone',"
                          "'operator':'NotIn','values':['antarctica-east1']}]}");
        json_t *gt = J("{'matchExpressions':[{'key':'cores','operator':'Gt','values':['4']}]}");
        json_t *lt = J("{'matchExpressions':[{'key':'cores','operator':'Lt','values':['4']}]}");
        json_t *dne = J("{'matchExpressions':[{'key':'gpu','operator':'DoesNotExist'}]}");
        json_t *fld =
                J("{'matchFields':[{'key':'metadata.name','operator':'In','values':['n1']}]}");
        json_t *empty = J("{}");
        CHECK(sched_node_selector_term_matches(in, node));
        CHECK(!sched_node_selector_term_matches(notin, node));
        CHECK(sched_node_selector_term_matches(gt, node));
        CHECK(!sched_node_selector_term_matches(lt, node));
        CHECK(sched_node_selector_term_matches(dne, node));
        CHECK(sched_node_selector_term_matches(fld, node));
        CHECK(!sched_node_selector_term_matches(empty, node));
        json_decref(node);
        json_decref(in);
        json_decref(notin);
        json_decref(gt);
        json_decref(lt);
        json_decref(dne);
        json_decref(fld);
        json_decref(empty);
}

TEST(fit_message_wording)
{
        json_t *r = J("{'Insufficient cpu':1,'node(s) had untolerated taint {k: v}':2}");
        json_t *pre = J("{'Preemption is not helpful for scheduling':2,"
                        "'No preemption victims found for incoming pod':1}");
        char *m = sched_fit_message(3, r, pre, NULL);
        CHECK_EQ_STR(m, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated "
                        "taint {k: v}. preemption: 0/3 nodes are available: 1 No preemption "
                        "victims found for incoming pod, 2 Preemption is not helpful for "
                        "scheduling.");
        free(m);
        m = sched_fit_message(0, NULL, NULL, NULL);
        CHECK_EQ_STR(m, "no nodes available to schedule pods");
        free(m);
        json_decref(r);
        json_decref(pre);
}

TEST(filters_and_message)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *a = add_node(&c, "a", 1, NULL, NULL);
        add_node(&c, "b", 4, NULL, "[{'key':'k','value':'v','effect':'NoSchedule'}]");
        add_node(&c, "c", 4, NULL, "[{'key':'k','value':'v','effect':'NoExecute'}]");
        struct sched_pod *big = cpu_pod("big", "2", 0);
        char *msg = NULL;
        CHECK_EQ_STR(run(&c, big, &msg), "");
        CHECK_EQ_STR(msg, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated "
                          "taint {k: v}. preemption: 0/3 nodes are available: 1 No preemption "
                          "victims found for incoming pod, 2 Preemption is not helpful for "
                          "scheduling.");
        free(msg);
        /* preemptionPolicy Never */
        big->preempt_never = true;
        run(&c, big, &msg);
        CHECK(msg && strstr(msg, ". preemption: not eligible due to preemptionPolicy=Never."));
        free(msg);
        sched_pod_free(big);
        /* unschedulable node, then the cordon is tolerated */
        json_t *cordon = J("{'metadata':{'name':'a'},'spec':{'unschedulable':true},'status':{"
                           "'allocatable':{'cpu':'1','memory':'1Gi','pods':'2'},"
                           "'conditions':[{'type':'Ready','status':'True'}]}}");
        sched_cluster_set_node(&c, cordon);
        json_decref(cordon);
        struct sched_pod *small = mk_pod("small", NULL, NULL);
        run(&c, small, &msg);
        CHECK(msg && strstr(msg, "1 node(s) were unschedulable"));
        free(msg);
        sched_pod_free(small);
        small = mk_pod("small",
                       "'tolerations':[{'key':'node.kubernetes.io/unschedulable',"
                       "'operator':'Exists','effect':'NoSchedule'}]",
                       NULL);
        CHECK_EQ_STR(run(&c, small, NULL), "a");
        /* Too many pods: a allows 2 */
        struct sched_pod *f1 = mk_pod("f1", NULL, NULL), *f2 = mk_pod("f2", NULL, NULL);
        bind(a, f1);
        bind(a, f2);
        run(&c, small, &msg);
        CHECK(msg && strstr(msg, "1 Too many pods"));
        free(msg);
        sched_node_remove_pod(a, f1);
        sched_node_remove_pod(a, f2);
        sched_pod_free(f1);
        sched_pod_free(f2);
        sched_pod_free(small);
        sched_cluster_free(&c);
}

TEST(node_selector_and_affinity)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        add_node(&c, "n1", 4, "{'disktype':'hdd'}", NULL);
        add_node(&c, "n2", 4, "{'disktype':'ssd'}", NULL);
        add_node(&c, "n3", 4, "{'disktype':'ssd','zone':'z1'}", NULL);
        struct sched_pod *p = mk_pod("p", "'nodeSelector':{'disktype':'ssd'}", NULL);
        const char *got = run(&c, p, NULL);
        CHECK(!strcmp(got, "n2") || !strcmp(got, "n3"));
        sched_pod_free(p);
        /* preferred affinity (weight) picks n3 among ssd nodes */
        p = mk_pod("p",
                   "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
                   "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'disktype','operator':'In',"
                   "'values':['ssd']}]}]},'preferredDuringSchedulingIgnoredDuringExecution':"
                   "[{'weight':50,'preference':{'matchExpressions':[{'key':'zone','operator':"
                   "'Exists'}]}}]}}",
                   NULL);
        CHECK_EQ_STR(run(&c, p, NULL), "n3");
        sched_pod_free(p);
        char *msg;
        p = mk_pod("p", "'nodeSelector':{'disktype':'nvme'}", NULL);
        CHECK_EQ_STR(run(&c, p, &msg), "");
        CHECK_EQ_STR(msg, "0/3 nodes are available: 3 node(s) didn't match Pod's node "
                          "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption "
                          "is not helpful for scheduling.");
        free(msg);
        sched_pod_free(p);
        sched_cluster_free(&c);
}

TEST(scores_least_allocated_and_prefer_no_schedule)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "n1", 4, NULL, NULL);
        add_node(&c, "n2", 4, NULL, NULL);
        struct sched_pod *busy = cpu_pod("busy", "3", 0);
        bind(n1, busy);
        struct sched_pod *p = cpu_pod("p", "500m", 0);
        CHECK_EQ_STR(run(&c, p, NULL), "n2");
        sched_node_remove_pod(n1, busy);
        /* PreferNoSchedule on n2 sends the pod to n1 */
        add_node(&c, "n2", 4, NULL, "[{'key':'k','effect':'PreferNoSchedule'}]");
        CHECK_EQ_STR(run(&c, p, NULL), "n1");
        sched_pod_free(p);
        sched_pod_free(busy);
        sched_cluster_free(&c);
}

TEST(host_ports)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "n1", 4, NULL, NULL);
        const char *ports =
                "'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080}]}]";
        json_t *pj = J("{'metadata':{'name':'a','namespace':'d'},'spec':{%s}}", ports);
        struct sched_pod *a = sched_pod_new(pj), *b = sched_pod_new(pj);
        json_decref(pj);
        bind(n1, a);
        char *msg;
        CHECK_EQ_STR(run(&c, b, &msg), "");
        CHECK(msg && strstr(msg, "1 node(s) didn't have free ports for the requested pod ports"));
        free(msg);
        /* UDP on the same port does not conflict */
        pj = J("{'metadata':{'name':'u','namespace':'d'},'spec':{'containers':[{'name':'c','ports':"
               "[{'containerPort':80,'hostPort':8080,'protocol':'UDP'}]}]}}");
        struct sched_pod *u = sched_pod_new(pj);
        json_decref(pj);
        CHECK_EQ_STR(run(&c, u, NULL), "n1");
        sched_node_remove_pod(n1, a);
        sched_pod_free(a);
        sched_pod_free(b);
        sched_pod_free(u);
        sched_cluster_free(&c);
}

TEST(anti_affinity_spreads_and_affinity_follows)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        const char *names[] = {"n1", "n2", "n3"};
        for (int i = 0; i < 3; i++) {
                char l[128];
                snprintf(l, sizeof(l), "{'kubernetes.io/hostname':'%s'}", names[i]);
                add_node(&c, names[i], 4, l, NULL);
        }
        const char *anti = "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
                           "Execution':[{'labelSelector':{'matchLabels':{'app':'store'}},"
                           "'topologyKey':'kubernetes.io/hostname'}]}}";
        struct sched_pod *pods[4];
        int used[3] = {0};
        for (int i = 0; i < 3; i++) {
                char nm[8];
                snprintf(nm, sizeof(nm), "s%d", i);
                pods[i] = mk_pod(nm, anti, "{'app':'store'}");
                const char *got = run(&c, pods[i], NULL);
                struct sched_node *n = sched_cluster_node(&c, got);
                CHECK(n != NULL);
                if (!n)
                        return;
                used[got[1] - '1']++;
                bind(n, pods[i]);
        }
        CHECK(used[0] == 1 && used[1] == 1 && used[2] == 1);
        pods[3] = mk_pod("s3", anti, "{'app':'store'}");
        char *msg;
        CHECK_EQ_STR(run(&c, pods[3], &msg), "");
        CHECK(msg && strstr(msg, "3 node(s) didn't match pod anti-affinity rules"));
        free(msg);
        /* a pod without the rule but matching the label: existing pods' anti-affinity */
        struct sched_pod *plain = mk_pod("x", NULL, "{'app':'store'}");
        run(&c, plain, &msg);
        CHECK(msg && strstr(msg, "3 node(s) didn't satisfy existing pods anti-affinity rules"));
        free(msg);
        sched_pod_free(plain);
        /* required affinity to app=store on the node of s0 */
        struct sched_pod *web = mk_pod("web",
                                       "'affinity':{'podAffinity':{'requiredDuringScheduling"
                                       "IgnoredDuringExecution':[{'labelSelector':{"
                                       "'matchLabels':{'app':'store'}},'topologyKey':"
                                       "'kubernetes.io/hostname'}]}}",
                                       NULL);
        CHECK(*run(&c, web, NULL) != 0);
        sched_pod_free(web);
        web = mk_pod("web",
                     "'affinity':{'podAffinity':{'requiredDuringScheduling"
                     "IgnoredDuringExecution':[{'labelSelector':{"
                     "'matchLabels':{'app':'none'}},'topologyKey':"
                     "'kubernetes.io/hostname'}]}}",
                     NULL);
        run(&c, web, &msg);
        CHECK_EQ_STR(msg, "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. "
                          "preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
                          "scheduling.");
        free(msg);
        sched_pod_free(web);
        for (int i = 0; i < 4; i++) {
                if (pods[i]->on)
                        sched_node_remove_pod(pods[i]->on, pods[i]);
                sched_pod_free(pods[i]);
        }
        sched_cluster_free(&c);
}

TEST(topology_spread_max_skew)
{
        /* docs example: zoneA {node1: 1 pod, node2: 1 pod}, zoneB {node3: 0... } maxSkew 1 */
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "node1", 4, "{'zone':'zoneA'}", NULL);
        struct sched_node *n2 = add_node(&c, "node2", 4, "{'zone':'zoneA'}", NULL);
        add_node(&c, "node3", 4, "{'zone':'zoneB'}", NULL);
        add_node(&c, "node4", 4, "{'zone':'zoneB'}", NULL);
        struct sched_pod *e1 = mk_pod("e1", NULL, "{'foo':'bar'}");
        struct sched_pod *e2 = mk_pod("e2", NULL, "{'foo':'bar'}");
        struct sched_pod *e3 = mk_pod("e3", NULL, "{'foo':'bar'}");
        bind(n1, e1);
        bind(n1, e2);
        bind(n2, e3);
        struct sched_pod *p =
                mk_pod("mypod",
                       "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
                       "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{"
                       "'matchLabels':{'foo':'bar'}}}]",
                       "{'foo':'bar'}");
        const char *got = run(&c, p, NULL);
        CHECK(!strcmp(got, "node3") || !strcmp(got, "node4"));
        /* a node without the key */
        add_node(&c, "node5", 4, "{}", NULL);
        char *msg;
        json_t *hard =
                J("{'metadata':{'name':'q','namespace':'default','labels':{'foo':'bar'}},"
                  "'spec':{'nodeSelector':{'zone':'zoneA'},'topologySpreadConstraints':["
                  "{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':'DoNotSchedule',"
                  "'labelSelector':{'matchLabels':{'foo':'bar'}}}],'containers':[{'name':'c'}]}}");
        struct sched_pod *q = sched_pod_new(hard);
        json_decref(hard);
        /* only zoneA is eligible (nodeSelector), so its own domain is the minimum: fits */
        CHECK(*run(&c, q, NULL) != 0);
        sched_pod_free(q);
        sched_pod_free(p);
        p = mk_pod("p2",
                   "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
                   "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{"
                   "'matchLabels':{'foo':'bar'}}}],'nodeName':'node5'",
                   "{'foo':'bar'}");
        run(&c, p, &msg);
        CHECK(msg && strstr(msg, "1 node(s) didn't match pod topology spread constraints "
                                 "(missing required label)"));
        free(msg);
        sched_pod_free(p);
        sched_node_remove_pod(n1, e1);
        sched_node_remove_pod(n1, e2);
        sched_node_remove_pod(n2, e3);
        sched_pod_free(e1);
        sched_pod_free(e2);
        sched_pod_free(e3);
        sched_cluster_free(&c);
}

TEST(preemption_picks_lowest_priority_victims)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "n1", 2, NULL, NULL);
        struct sched_node *n2 = add_node(&c, "n2", 2, NULL, NULL);
        struct sched_pod *low = cpu_pod("low", "1500m", 10);
        struct sched_pod *mid = cpu_pod("mid", "1500m", 500);
        struct sched_pod *tiny = cpu_pod("tiny", "100m", 10);
        bind(n1, low);
        bind(n1, tiny);
        bind(n2, mid);
        struct sched_pod *high = cpu_pod("high", "1", 1000);
        struct sched_result r;
        size_t start = 0;
        sched_schedule(&c, high, &start, &r);
        CHECK(r.node == NULL);
        CHECK(r.nominated == n1);
        CHECK_EQ_INT(r.n_victims, 1); /* tiny is reprieved */
        CHECK(r.n_victims == 1 && r.victims[0] == low);
        CHECK_EQ_STR(r.message, "0/2 nodes are available: 2 Insufficient cpu.");
        sched_result_clear(&r);
        /* equal priority: nothing to preempt */
        struct sched_pod *eq = cpu_pod("eq", "1", 10);
        sched_schedule(&c, eq, &start, &r);
        CHECK(r.nominated == NULL);
        CHECK_EQ_STR(r.message, "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 "
                                "nodes are available: 2 No preemption victims found for incoming "
                                "pod.");
        sched_result_clear(&r);
        sched_node_remove_pod(n1, low);
        sched_node_remove_pod(n1, tiny);
        sched_node_remove_pod(n2, mid);
        sched_pod_free(low);
        sched_pod_free(mid);
        sched_pod_free(tiny);
        sched_pod_free(high);
        sched_pod_free(eq);
        sched_cluster_free(&c);
}

TEST(default_spread_by_owner)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "n1", 8, "{'kubernetes.io/hostname':'n1'}", NULL);
        add_node(&c, "n2", 8, "{'kubernetes.io/hostname':'n2'}", NULL);
        json_t *pj = J("{'metadata':{'name':'r%%d','namespace':'d','ownerReferences':[{'uid':'rs1',"
                       "'controller':true,'kind':'ReplicaSet','name':'rs'}]},'spec':{'containers':"
                       "[{'name':'c','resources':{'requests':{'cpu':'10m','memory':'10Mi'}}}]}}");
        struct sched_pod *a = sched_pod_new(pj), *b = sched_pod_new(pj);
        bind(n1, a);
        /* n2 holds a pod of another owner with the same requests: only the spread differs */
        json_t *oj = J("{'metadata':{'name':'o','namespace':'d'},'spec':{'containers':"
                       "[{'name':'c','resources':{'requests':{'cpu':'10m','memory':'10Mi'}}}]}}");
        struct sched_pod *o = sched_pod_new(oj);
        bind(sched_cluster_node(&c, "n2"), o);
        CHECK_EQ_STR(run(&c, b, NULL), "n2");
        sched_node_remove_pod(n1, a);
        sched_node_remove_pod(o->on, o);
        sched_pod_free(a);
        sched_pod_free(b);
        sched_pod_free(o);
        json_decref(pj);
        json_decref(oj);
        sched_cluster_free(&c);
}

TEST(score_values_from_kube_tests)
{
        /* least_allocated_test / balanced_allocation_test: node 4000m cpu, 10000 bytes memory;
         * pod 3000m / 5000: LeastAllocated (25 + 50) / 2 = 37, BalancedAllocation fractions
         * 0.75 / 0.5, std 0.125 -> 87; TaintToleration 100 x weight 3; nothing else scores */
        struct sched_cluster c;
        sched_cluster_init(&c);
        json_t *nj = J("{'metadata':{'name':'n','labels':{}},'status':{'allocatable':{'cpu':'4',"
                       "'memory':'10000','pods':'110'},'conditions':[{'type':'Ready',"
                       "'status':'True'}]}}");
        struct sched_node *n = sched_cluster_set_node(&c, nj);
        json_decref(nj);
        json_t *pj =
                J("{'metadata':{'name':'p','namespace':'d'},'spec':{'containers':[{'name':"
                  "'c','image':'img:1','resources':{'requests':{'cpu':'3','memory':'5000'}}}]}}");
        struct sched_pod *p = sched_pod_new(pj);
        json_decref(pj);
        struct sched_cycle *cy = sched_cycle_new(&c, p);
        int64_t score = 0;
        sched_score(cy, &n, 1, &score);
        CHECK_EQ_INT(score, 37 + 87 + 3 * 100);
        sched_cycle_free(cy);
        /* ImageLocality: the pod's 250 MiB image on the only node: 100 * (250 - 23) / (1000 -
         * 23) = 23 */
        nj = J("{'metadata':{'name':'n','labels':{}},'status':{'allocatable':{'cpu':'4',"
               "'memory':'10000','pods':'110'},'images':[{'names':['docker.io/library/img:1'],"
               "'sizeBytes':%lld}],'conditions':[{'type':'Ready','status':'True'}]}}",
               250LL * 1024 * 1024);
        n = sched_cluster_set_node(&c, nj);
        json_decref(nj);
        cy = sched_cycle_new(&c, p);
        sched_score(cy, &n, 1, &score);
        CHECK_EQ_INT(score, 37 + 87 + 23 + 3 * 100);
        sched_cycle_free(cy);
        sched_pod_free(p);
        sched_cluster_free(&c);
}

TEST(no_execute_taint_and_volume_node_affinity)
{
        struct sched_cluster c;
        sched_cluster_init(&c);
        add_node(&c, "n1", 4, "{'zone':'z1'}", "[{'key':'k','value':'v','effect':'NoExecute'}]");
        add_node(&c, "n2", 4, "{'zone':'z2'}", NULL);
        /* NoExecute counts for scheduling; a toleration with tolerationSeconds tolerates it */
        struct sched_pod *p = mk_pod("p", "'nodeSelector':{'zone':'z1'}", NULL);
        char *msg;
        CHECK_EQ_STR(run(&c, p, &msg), "");
        CHECK_EQ_STR(msg, "0/2 nodes are available: 1 node(s) didn't match Pod's node "
                          "affinity/selector, 1 node(s) had untolerated taint {k: v}. "
                          "preemption: 0/2 nodes are available: 2 Preemption is not helpful for "
                          "scheduling.");
        free(msg);
        sched_pod_free(p);
        p = mk_pod("p",
                   "'nodeSelector':{'zone':'z1'},'tolerations':[{'key':'k','operator':"
                   "'Equal','value':'v','effect':'NoExecute','tolerationSeconds':60}]",
                   NULL);
        CHECK_EQ_STR(run(&c, p, NULL), "n1");
        /* a bound PV's nodeAffinity (zone z2) conflicts with n1 */
        sched_pod_free(p);
        p = mk_pod("p", NULL, NULL);
        p->pv_affinity = J("[{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone',"
                           "'operator':'In','values':['z1']}]}]}]");
        json_t *nj = J("{'metadata':{'name':'n1','labels':{'zone':'z1'}},'status':{"
                       "'allocatable':{'cpu':'4','memory':'8Gi','pods':'110'},'conditions':[{"
                       "'type':'Ready','status':'True'}]}}");
        sched_cluster_set_node(&c, nj); /* untainted now */
        json_decref(nj);
        CHECK_EQ_STR(run(&c, p, NULL), "n1");
        json_decref(p->pv_affinity);
        p->pv_affinity = J("[{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone',"
                           "'operator':'In','values':['z3']}]}]}]");
        run(&c, p, &msg);
        CHECK_EQ_STR(msg, "0/2 nodes are available: 2 node(s) had volume node affinity "
                          "conflict. preemption: 0/2 nodes are available: 2 Preemption is not "
                          "helpful for scheduling.");
        free(msg);
        sched_pod_free(p);
        sched_cluster_free(&c);
}

TEST(spread_match_label_keys)
{
        /* topology-spread-constraints docs: matchLabelKeys [pod-template-hash] counts only the
         * pods of the same revision: old-revision pods on z1 do not keep the pod off z1 */
        struct sched_cluster c;
        sched_cluster_init(&c);
        struct sched_node *n1 = add_node(&c, "n1", 4, "{'zone':'z1'}", NULL);
        add_node(&c, "n2", 4, "{'zone':'z2'}", NULL);
        struct sched_pod *o1 = mk_pod("o1", NULL, "{'app':'a','pod-template-hash':'old'}");
        struct sched_pod *o2 = mk_pod("o2", NULL, "{'app':'a','pod-template-hash':'old'}");
        struct sched_pod *o3 = mk_pod("o3", NULL, "{'app':'a','pod-template-hash':'new'}");
        bind(n1, o1);
        bind(n1, o2);
#define SPREAD(extra)                                                                              \
        "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':"      \
        "'DoNotSchedule','labelSelector':{'matchLabels':{'app':'a'}}" extra "}]"
        const char *labels = "{'app':'a','pod-template-hash':'new'}";
        struct sched_pod *plain = mk_pod("p", SPREAD(""), labels);
        struct sched_pod *keyed =
                mk_pod("p", SPREAD(",'matchLabelKeys':['pod-template-hash']"), labels);
#undef SPREAD
        struct sched_status st;
        struct sched_cycle *cy = sched_cycle_new(&c, plain);
        CHECK(!sched_filter(cy, n1, &st)); /* z1: 2 + 1 - 0 > 1 */
        CHECK_EQ_STR(st.reasons[0], "node(s) didn't match pod topology spread constraints");
        sched_cycle_free(cy);
        cy = sched_cycle_new(&c, keyed);
        CHECK(sched_filter(cy, n1, &st)); /* no pod of the new revision yet */
        sched_cycle_free(cy);
        bind(n1, o3);
        cy = sched_cycle_new(&c, keyed);
        CHECK(!sched_filter(cy, n1, &st)); /* 1 + 1 - 0 > 1 */
        sched_cycle_free(cy);
        sched_pod_free(plain);
        sched_pod_free(keyed);
        sched_node_remove_pod(n1, o1);
        sched_node_remove_pod(n1, o2);
        sched_node_remove_pod(n1, o3);
        sched_pod_free(o1);
        sched_pod_free(o2);
        sched_pod_free(o3);
        sched_cluster_free(&c);
}

TEST(affinity_namespace_selector)
{
        /* a term with namespaceSelector team=db matches pods of namespaces labelled so */
        struct sched_cluster c;
        sched_cluster_init(&c);
        json_object_set_new(c.ns_labels, "db", J("{'team':'db'}"));
        json_object_set_new(c.ns_labels, "default", J("{}"));
        struct sched_node *n1 = add_node(&c, "n1", 4, "{'kubernetes.io/hostname':'n1'}", NULL);
        add_node(&c, "n2", 4, "{'kubernetes.io/hostname':'n2'}", NULL);
        json_t *dj = J("{'metadata':{'name':'pg','namespace':'db','labels':{'app':'pg'}},"
                       "'spec':{'containers':[{'name':'c'}]}}");
        struct sched_pod *pg = sched_pod_new(dj);
        json_decref(dj);
        bind(n1, pg);
        const char *aff = "'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuring"
                          "Execution':[{'labelSelector':{'matchLabels':{'app':'pg'}},"
                          "'namespaceSelector':{'matchLabels':{'team':'db'}},"
                          "'topologyKey':'kubernetes.io/hostname'}]}}";
        struct sched_pod *p = mk_pod("web", aff, NULL);
        CHECK_EQ_STR(run(&c, p, NULL), "n1");
        sched_pod_free(p);
        /* without the selector the term looks in the pod's own namespace only: no match */
        p = mk_pod("web",
                   "'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuring"
                   "Execution':[{'labelSelector':{'matchLabels':{'app':'pg'}},"
                   "'topologyKey':'kubernetes.io/hostname'}]}}",
                   NULL);
        CHECK_EQ_STR(run(&c, p, NULL), "");
        sched_pod_free(p);
        sched_node_remove_pod(n1, pg);
        sched_pod_free(pg);
        sched_cluster_free(&c);
}

int main(void)
{
        RUN(requests_init_max_rule_and_overhead);
        RUN(tolerations);
        RUN(node_selector_terms);
        RUN(fit_message_wording);
        RUN(filters_and_message);
        RUN(node_selector_and_affinity);
        RUN(scores_least_allocated_and_prefer_no_schedule);
        RUN(host_ports);
        RUN(anti_affinity_spreads_and_affinity_follows);
        RUN(topology_spread_max_skew);
        RUN(preemption_picks_lowest_priority_victims);
        RUN(default_spread_by_owner);
        RUN(score_values_from_kube_tests);
        RUN(no_execute_taint_and_volume_node_affinity);
        RUN(spread_match_label_keys);
        RUN(affinity_namespace_selector);
        return harness_done();
}
