#!/usr/bin/env python3
"""gen-schema.py — generate src/api/protobuf-schema.c from the Go type definitions of
k8s.io/api and k8s.io/apimachinery (only field numbers, JSON names, omitempty and pointer-ness
are taken from the struct tags; the tables and their format are ours).

  python3 gen-schema.py API_GIT_DIR APIMACHINERY_GIT_DIR > src/api/protobuf-schema.c
  clang-format -i src/api/protobuf-schema.c

API_GIT_DIR / APIMACHINERY_GIT_DIR are git directories (bare mirrors work); files are read from
HEAD with `git show`.
"""
import re
import subprocess
import sys

API, MACH = sys.argv[1], sys.argv[2]

PKGS = {  # import path -> (git dir, dir in repo, C prefix)
    "k8s.io/api/core/v1": (API, "core/v1", "core_v1"),
    "k8s.io/api/apps/v1": (API, "apps/v1", "apps_v1"),
    "k8s.io/api/batch/v1": (API, "batch/v1", "batch_v1"),
    "k8s.io/api/rbac/v1": (API, "rbac/v1", "rbac_v1"),
    "k8s.io/api/policy/v1": (API, "policy/v1", "policy_v1"),
    "k8s.io/api/networking/v1": (API, "networking/v1", "networking_v1"),
    "k8s.io/api/scheduling/v1": (API, "scheduling/v1", "scheduling_v1"),
    "k8s.io/api/authentication/v1": (API, "authentication/v1", "authentication_v1"),
    "k8s.io/api/authorization/v1": (API, "authorization/v1", "authorization_v1"),
    "k8s.io/api/autoscaling/v1": (API, "autoscaling/v1", "autoscaling_v1"),
    "k8s.io/api/autoscaling/v2": (API, "autoscaling/v2", "autoscaling_v2"),
    "k8s.io/api/certificates/v1": (API, "certificates/v1", "certificates_v1"),
    "k8s.io/api/coordination/v1": (API, "coordination/v1", "coordination_v1"),
    "k8s.io/api/discovery/v1": (API, "discovery/v1", "discovery_v1"),
    "k8s.io/api/events/v1": (API, "events/v1", "events_v1"),
    "k8s.io/api/storage/v1": (API, "storage/v1", "storage_v1"),
    "k8s.io/apimachinery/pkg/apis/meta/v1": (MACH, "pkg/apis/meta/v1", "meta_v1"),
}
SPECIAL = {
    "k8s.io/apimachinery/pkg/apis/meta/v1.Time": "PB_TIME",
    "k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime": "PB_MICROTIME",
    "k8s.io/apimachinery/pkg/apis/meta/v1.Duration": "PB_DURATION",
    "k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1": "PB_RAW",
    "k8s.io/apimachinery/pkg/api/resource.Quantity": "PB_QUANTITY",
    "k8s.io/apimachinery/pkg/util/intstr.IntOrString": "PB_INTSTR",
    "k8s.io/apimachinery/pkg/runtime.RawExtension": "PB_RAW",
    "k8s.io/apimachinery/pkg/types.UID": "PB_STRING",
}
SCALARS = {"string": "PB_STRING", "bool": "PB_BOOL", "int32": "PB_INT32", "int64": "PB_INT64",
           "int": "PB_INT64", "uint32": "PB_INT64", "uint64": "PB_INT64", "byte": None}
ROOTS = [
    ("v1", "Namespace", "k8s.io/api/core/v1"), ("v1", "ConfigMap", "k8s.io/api/core/v1"),
    ("v1", "Secret", "k8s.io/api/core/v1"), ("v1", "ServiceAccount", "k8s.io/api/core/v1"),
    ("v1", "Service", "k8s.io/api/core/v1"), ("v1", "Pod", "k8s.io/api/core/v1"),
    ("v1", "ResourceQuota", "k8s.io/api/core/v1"), ("v1", "Endpoints", "k8s.io/api/core/v1"),
    ("v1", "Event", "k8s.io/api/core/v1"), ("v1", "Node", "k8s.io/api/core/v1"),
    ("v1", "PersistentVolumeClaim", "k8s.io/api/core/v1"),
    ("v1", "LimitRange", "k8s.io/api/core/v1"),
    ("v1", "ReplicationController", "k8s.io/api/core/v1"),
    ("v1", "Binding", "k8s.io/api/core/v1"),
    ("apps/v1", "Deployment", "k8s.io/api/apps/v1"), ("apps/v1", "ReplicaSet", "k8s.io/api/apps/v1"),
    ("apps/v1", "StatefulSet", "k8s.io/api/apps/v1"), ("apps/v1", "DaemonSet", "k8s.io/api/apps/v1"),
    ("batch/v1", "Job", "k8s.io/api/batch/v1"), ("batch/v1", "CronJob", "k8s.io/api/batch/v1"),
    ("rbac.authorization.k8s.io/v1", "Role", "k8s.io/api/rbac/v1"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "k8s.io/api/rbac/v1"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "k8s.io/api/rbac/v1"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "k8s.io/api/rbac/v1"),
    ("policy/v1", "PodDisruptionBudget", "k8s.io/api/policy/v1"),
    ("policy/v1", "Eviction", "k8s.io/api/policy/v1"),
    ("networking.k8s.io/v1", "Ingress", "k8s.io/api/networking/v1"),
    ("networking.k8s.io/v1", "IngressClass", "k8s.io/api/networking/v1"),
    ("networking.k8s.io/v1", "NetworkPolicy", "k8s.io/api/networking/v1"),
    ("scheduling.k8s.io/v1", "PriorityClass", "k8s.io/api/scheduling/v1"),
    ("authentication.k8s.io/v1", "TokenRequest", "k8s.io/api/authentication/v1"),
    ("authentication.k8s.io/v1", "TokenReview", "k8s.io/api/authentication/v1"),
    ("authentication.k8s.io/v1", "SelfSubjectReview", "k8s.io/api/authentication/v1"),
    # kubectl auth whoami falls back to these on 404; same fields as v1
    ("authentication.k8s.io/v1beta1", "SelfSubjectReview", "k8s.io/api/authentication/v1"),
    ("authentication.k8s.io/v1alpha1", "SelfSubjectReview", "k8s.io/api/authentication/v1"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", "k8s.io/api/authorization/v1"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", "k8s.io/api/authorization/v1"),
    ("authorization.k8s.io/v1", "SubjectAccessReview", "k8s.io/api/authorization/v1"),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", "k8s.io/api/authorization/v1"),
    ("autoscaling/v1", "HorizontalPodAutoscaler", "k8s.io/api/autoscaling/v1"),
    ("autoscaling/v1", "Scale", "k8s.io/api/autoscaling/v1"),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "k8s.io/api/autoscaling/v2"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest", "k8s.io/api/certificates/v1"),
    # the remaining served kinds (strict field validation and OpenAPI schemas read the tables)
    ("v1", "PersistentVolume", "k8s.io/api/core/v1"), ("v1", "PodTemplate", "k8s.io/api/core/v1"),
    ("apps/v1", "ControllerRevision", "k8s.io/api/apps/v1"),
    ("coordination.k8s.io/v1", "Lease", "k8s.io/api/coordination/v1"),
    ("discovery.k8s.io/v1", "EndpointSlice", "k8s.io/api/discovery/v1"),
    ("events.k8s.io/v1", "Event", "k8s.io/api/events/v1"),
    ("storage.k8s.io/v1", "StorageClass", "k8s.io/api/storage/v1"),
    # client-go encodes DeleteOptions with the group-version of the client it deletes through
    ("*", "DeleteOptions", "k8s.io/apimachinery/pkg/apis/meta/v1"),
]


def git_files(gitdir, d):
    out = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "--name-only", "HEAD", d + "/"],
                         capture_output=True, text=True, check=True).stdout.split()
    for f in out:
        b = f.rsplit("/", 1)[-1]
        if b.endswith(".go") and not b.endswith("_test.go") and not b.startswith("zz_") \
                and not b.startswith("generated") and "swagger" not in b:
            yield subprocess.run(["git", "--git-dir", gitdir, "show", "HEAD:" + f],
                                 capture_output=True, text=True, check=True).stdout


structs = {}   # qualified name -> list of (goname, gotype, tags, embedded)
named = {}     # qualified name -> underlying type expr (non-struct)
imports = {}   # qualified name -> {alias: path}

for path, (gitdir, d, _) in PKGS.items():
    for src in git_files(gitdir, d):
        imp = {}
        for m in re.finditer(r'^\s*(?:(\w+)\s+)?"([^"]+)"\s*$', "\n".join(
                re.findall(r'(?s)^import \((.*?)^\)', src, re.M) +
                re.findall(r'^import\s+(.*)$', src, re.M)), re.M):
            alias, p = m.group(1), m.group(2)
            imp[alias or p.rsplit("/", 1)[-1]] = p
        for m in re.finditer(r'(?sm)^type (\w+) struct \{\n(.*?)^\}', src):
            fields = []
            for line in m.group(2).splitlines():
                line = line.strip()
                if not line or line.startswith("//"):
                    continue
                fm = re.match(r'^(\w+)\s+([^`]+?)\s*`(.*)`', line)
                em = re.match(r'^([\w.*]+)\s*`(.*)`', line)
                if fm:
                    fields.append((fm.group(1), fm.group(2), fm.group(3), False))
                elif em:
                    fields.append((em.group(1).lstrip("*").split(".")[-1], em.group(1), em.group(2), True))
            structs[path + "." + m.group(1)] = fields
            imports[path + "." + m.group(1)] = imp
        for m in re.finditer(r'(?m)^type (\w+) ((?:map|\[\]|\*|[a-z])[^{\n]*)$', src):
            named[path + "." + m.group(1)] = (m.group(2).strip(), imp)


def qualify(t, pkg, imp):
    if "." in t:
        a, n = t.split(".", 1)
        return imp.get(a, a) + "." + n
    return pkg + "." + t


out_msgs = {}   # qname -> list of field rows
order = []


def cname(q):
    p, n = q.rsplit(".", 1)
    return "m_" + PKGS[p][2] + "_" + n


def resolve(t, pkg, imp):
    """-> (type, msg qname or None, repeated, map, ptr)"""
    ptr = rep = mp = False
    if t.startswith("*"):
        ptr, t = True, t[1:]
    if t == "[]byte":
        return ("PB_BYTES", None, False, False, ptr)
    if t.startswith("[]"):
        rep, t = True, t[2:]
    elif t.startswith("map["):
        k, t = re.match(r'map\[([^\]]+)\](.*)', t).groups()
        mp = True
    if t.startswith("*"):
        t = t[1:]
    if t == "[]byte":
        return ("PB_BYTES", None, rep, mp, ptr)
    if t in SCALARS:
        return (SCALARS[t], None, rep, mp, ptr)
    q = qualify(t, pkg, imp)
    if q in SPECIAL:
        return (SPECIAL[q], None, rep, mp, ptr)
    if q in structs:
        return ("PB_MESSAGE", q, rep, mp, ptr)
    if q in named:
        u, uimp = named[q]
        r = resolve(u, q.rsplit(".", 1)[0], uimp)
        if mp and r[2] and not r[3] and r[0] == "PB_STRING":
            # map[string]ExtraValue ([]string): the value is a message {repeated string items = 1}
            return ("PB_STRLIST", None, False, True, ptr)
        if (rep or mp) and (r[2] or r[3]):
            return ("PB_SKIP", None, False, False, False)  # list of lists: not in our kinds
        return (r[0], r[1], rep or r[2], mp or r[3], ptr or r[4])
    sys.stderr.write("unknown type %s (%s)\n" % (t, q))
    return ("PB_SKIP", None, False, False, False)


def visit(q):
    if q in out_msgs:
        return
    out_msgs[q] = None
    pkg, imp = q.rsplit(".", 1)[0], imports[q]
    rows = []
    for goname, gotype, tags, embedded in structs[q]:
        pm = re.search(r'protobuf:"(\w+),(\d+),(\w*)', tags)
        if not pm:
            continue
        jm = re.search(r'json:"([^"]*)"', tags)
        jparts = (jm.group(1) if jm else goname).split(",")
        jname = jparts[0]
        if jname == "-":
            continue
        inline = embedded and jname == ""
        if not jname and not inline:
            jname = goname
        typ, msg, rep, mp, ptr = resolve(gotype, pkg, imp)
        flags = []
        if rep: flags.append("PB_REPEATED")
        if mp: flags.append("PB_MAP")
        if ptr: flags.append("PB_PTR")
        if "omitempty" in jparts[1:]: flags.append("PB_OMITEMPTY")
        if inline: flags.append("PB_INLINE")
        if msg:
            visit(msg)
        rows.append((int(pm.group(2)), jname, typ, flags, msg))
    rows.sort()
    out_msgs[q] = rows
    order.append(q)


for _, kind, pkg in ROOTS:
    visit(pkg + "." + kind)

print("/* protobuf-schema.c — field tables for the Kubernetes kinds protobuf.c decodes.")
print(" * GENERATED by tests/data/protobuf/gen-schema.py from the struct tags of k8s.io/api and")
print(" * k8s.io/apimachinery (field numbers, JSON names, omitempty, pointer-ness). Do not edit. */")
print('#include "api/protobuf.h"\n')
for q in order:
    print("static const struct protobuf_message %s;" % cname(q))
print()
for q in order:
    rows = out_msgs[q]
    print("static const struct protobuf_field %s_fields[] = {" % cname(q))
    for num, jname, typ, flags, msg in rows:
        print('        { %d, "%s", %s, %s, %s },' % (num, jname, typ, " | ".join(flags) or "0",
                                                    "&" + cname(msg) if msg else "NULL"))
    print("};")
    print('static const struct protobuf_message %s = { "%s", %s_fields, ARRAY_SIZE(%s_fields) };\n'
          % (cname(q), q.rsplit(".", 1)[1], cname(q), cname(q)))
print("const struct protobuf_kind protobuf_schema_kinds[] = {")
for av, kind, pkg in ROOTS:
    print('        { "%s", "%s", &%s },' % (av, kind, cname(pkg + "." + kind)))
print("};")
print("const size_t protobuf_schema_kinds_count = ARRAY_SIZE(protobuf_schema_kinds);")
