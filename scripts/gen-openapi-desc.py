#!/usr/bin/env python3
"""gen-openapi-desc.py — writes src/api/openapi-desc.c: the field descriptions that
`kubectl explain` prints, for every message of src/api/protobuf-schema.c, taken from the
official Python client's models (Debian python3-kubernetes: generated from Kubernetes' OpenAPI
spec, so the text is Kubernetes' own), plus the type descriptions of the common kinds (from
Kubernetes' api/openapi-spec, listed below). Run from the top of the tree:
    python3 scripts/gen-openapi-desc.py | clang-format --assume-filename=x.c > src/api/openapi-desc.c
"""
import importlib
import inspect
import re
import sys

import kubernetes.client.models as models

# Type descriptions (Kubernetes' api/openapi-spec/v3, the "description" of each definition).
TYPES = {
    "Pod": "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.",
    "PodSpec": "PodSpec is a description of a pod.",
    "PodStatus": "PodStatus represents information about the status of a pod. Status may trail the actual state of a system, especially if the node that hosts the pod cannot contact the control plane.",
    "Container": "A single application container that you want to run within a pod.",
    "ObjectMeta": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
    "ConfigMap": "ConfigMap holds configuration data for pods to consume.",
    "Secret": "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
    "Namespace": "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
    "Node": "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
    "Service": "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
    "ServiceSpec": "ServiceSpec describes the attributes that a user creates on a service.",
    "ServiceAccount": "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets",
    "Deployment": "Deployment enables declarative updates for Pods and ReplicaSets.",
    "DeploymentSpec": "DeploymentSpec is the specification of the desired behavior of the Deployment.",
    "ReplicaSet": "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
    "StatefulSet": "StatefulSet represents a set of pods with consistent identities. Identities are defined as:\n  - Network: A single stable DNS and hostname.\n  - Storage: As many VolumeClaims as requested.\n\nThe StatefulSet guarantees that a given network identity will always map to the same storage identity.",
    "DaemonSet": "DaemonSet represents the configuration of a daemon set.",
    "Job": "Job represents the configuration of a single job.",
    "CronJob": "CronJob represents the configuration of a single cron job.",
}

# message name -> preferred Python class prefixes, for names several groups share
PREFER = {
    "Event": ["CoreV1"],
    "EventSeries": ["CoreV1"],
    "EndpointPort": ["CoreV1"],
    "HorizontalPodAutoscaler": ["V2"],
    "HorizontalPodAutoscalerSpec": ["V2"],
    "HorizontalPodAutoscalerStatus": ["V2"],
    "CrossVersionObjectReference": ["V2"],
}


def c_str(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + s + '"'


def field_descriptions(cls):
    out = {}
    for attr, json_name in cls.attribute_map.items():
        prop = getattr(cls, attr, None)
        doc = prop.fget.__doc__ if isinstance(prop, property) and prop.fget else None
        if not doc:
            continue
        lines = [l.strip() for l in doc.strip().split("\n")]
        body = []
        for l in lines[1:]:
            if l.startswith(":return:"):
                break
            body.append(l)
        text = "\n".join(body).strip()
        text = re.sub(r"\s*# noqa: E501$", "", text, flags=re.M).strip()
        if text:
            out[json_name] = text
    return out


def main():
    src = open("src/api/protobuf-schema.c").read()
    names = sorted(set(re.findall(r'static const struct protobuf_message m_\w+ =\s*\{\s*"(\w+)"', src)))
    classes = {n: c for n, c in inspect.getmembers(models, inspect.isclass)}
    rows = []
    for name in names:
        cands = [p + name for p in PREFER.get(name, [])] + ["V1" + name, "V2" + name, "CoreV1" + name]
        cls = next((classes[c] for c in cands if c in classes), None)
        if name in TYPES:
            rows.append((name, "", TYPES[name]))
        if cls is None:
            continue
        for f, d in field_descriptions(cls).items():
            rows.append((name, f, d))
    rows.sort(key=lambda r: (r[0], r[1]))
    print("/* openapi-desc.c — GENERATED by scripts/gen-openapi-desc.py (then clang-format): do not")
    print(" * edit. The descriptions of the OpenAPI schemas (`kubectl explain`), Kubernetes' text. */")
    print('#include "api/fields.h"')
    print()
    print("#include <stdlib.h>")
    print("#include <string.h>")
    print()
    print("struct desc {")
    print("        const char *type, *field, *text;")
    print("};")
    print()
    print("/* sorted by type, then field (\"\" = the type itself) */")
    print("static const struct desc descs[] = {")
    for t, f, d in rows:
        print("        {%s, %s,\n         %s}," % (c_str(t), c_str(f), c_str(d)))
    print("};")
    print()
    print("static int cmp_desc(const void *k, const void *e)")
    print("{")
    print("        const struct desc *a = k, *b = e;")
    print("        int c = strcmp(a->type, b->type);")
    print("        return c ? c : strcmp(a->field, b->field);")
    print("}")
    print()
    print("const char *fields_description(const char *type, const char *field)")
    print("{")
    print("        struct desc key = {type, field ? field : \"\", NULL};")
    print("        const struct desc *d = bsearch(&key, descs, sizeof(descs) / sizeof(descs[0]),")
    print("                                       sizeof(descs[0]), cmp_desc);")
    print("        return d ? d->text : NULL;")
    print("}")
    print("", file=sys.stderr, end="")
    sys.stderr.write("%d descriptions for %d types\n" % (len(rows), len(names)))


main()
