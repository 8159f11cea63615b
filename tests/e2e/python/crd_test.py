#!/usr/bin/python3
"""Custom resources through the official Kubernetes Python client (python3-kubernetes).

Usage: crd_test.py --kubeconfig FILE --namespace NS --group G --plural P --kind K

The CRD (G, v1, P, K; with a status subresource) must be established. Creates, lists, watches,
patches (merge patch, the status subresource) and deletes a custom object through
CustomObjectsApi and prints "PASS <what>" or "FAIL <what>: <why>" per check. Expectations are
Kubernetes' documented behaviour: dict bodies, 409 on a duplicate, watch events ADDED, MODIFIED,
DELETED in order, 404 after delete, 422 for a value the schema rejects."""
import argparse
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

results = []


def check(what, cond, why=""):
    results.append(bool(cond))
    print(("PASS %s" % what) if cond else ("FAIL %s: %s" % (what, why)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    for a in ("kubeconfig", "namespace", "group", "plural", "kind"):
        ap.add_argument("--" + a, required=True)
    o = ap.parse_args()
    config.load_kube_config(config_file=o.kubeconfig)
    api = client.CustomObjectsApi()
    g, v, ns, pl = o.group, "v1", o.namespace, o.plural
    body = {"apiVersion": "%s/v1" % g, "kind": o.kind, "metadata": {"name": "py-cr"},
            "spec": {"cronSpec": "* * * * */5", "image": "img"}}
    created = api.create_namespaced_custom_object(g, v, ns, pl, body)
    check("create returns the object with uid and defaults",
          created["metadata"].get("uid") and created["spec"].get("replicas") == 1
          and created["metadata"].get("generation") == 1, repr(created))
    try:
        api.create_namespaced_custom_object(g, v, ns, pl, body)
        check("duplicate create is 409", False, "no error")
    except ApiException as e:
        check("duplicate create is 409 AlreadyExists", e.status == 409, str(e.status))
    bad = dict(body, metadata={"name": "py-bad"}, spec={"image": "img", "replicas": 50})
    try:
        api.create_namespaced_custom_object(g, v, ns, pl, bad)
        check("schema violation is 422", False, "no error")
    except ApiException as e:
        check("schema violation is 422 Invalid", e.status == 422 and "less than or equal to 10"
              in e.body, "%s %s" % (e.status, e.body))
    lst = api.list_namespaced_custom_object(g, v, ns, pl)
    names = [i["metadata"]["name"] for i in lst["items"]]
    check("list has the object and a resourceVersion",
          names == ["py-cr"] and lst["metadata"].get("resourceVersion")
          and lst["kind"] == o.kind + "List", repr(lst))

    events = []
    rv = lst["metadata"]["resourceVersion"]

    def watcher():
        w = watch.Watch()
        for ev in w.stream(api.list_namespaced_custom_object, g, v, ns, pl,
                           resource_version=rv, timeout_seconds=10):
            events.append((ev["type"], ev["object"]["metadata"]["name"],
                           ev["object"]["spec"].get("image")))
            if ev["type"] == "DELETED":
                w.stop()
    t = threading.Thread(target=watcher)
    t.start()
    time.sleep(0.5)
    patched = api.patch_namespaced_custom_object(g, v, ns, pl, "py-cr",
                                                 {"spec": {"image": "img2"}})
    check("merge patch changes spec and bumps generation",
          patched["spec"]["image"] == "img2" and patched["metadata"]["generation"] == 2,
          repr(patched))
    st = api.patch_namespaced_custom_object_status(g, v, ns, pl, "py-cr",
                                                   {"status": {"replicas": 2}})
    check("status patch sets status, generation unchanged",
          st.get("status", {}).get("replicas") == 2 and st["metadata"]["generation"] == 2,
          repr(st))
    got = api.get_namespaced_custom_object(g, v, ns, pl, "py-cr")
    check("get returns the patched object", got["spec"]["image"] == "img2", repr(got))
    body2 = dict(body, spec={"image": "img3"})
    try:
        api.replace_namespaced_custom_object(g, v, ns, pl, "py-cr", body2)
        check("replace without resourceVersion is 422", False, "no error")
    except ApiException as e:
        check("replace without resourceVersion is 422 (no unconditional update)",
              e.status == 422 and "metadata.resourceVersion: Invalid value: 0x0: must be "
              "specified for an update" in e.body, "%s %s" % (e.status, e.body))
    body2["metadata"] = {"name": "py-cr", "resourceVersion": got["metadata"]["resourceVersion"]}
    rep = api.replace_namespaced_custom_object(g, v, ns, pl, "py-cr", body2)
    check("replace with resourceVersion keeps the status, bumps generation",
          rep["spec"]["image"] == "img3" and rep.get("status", {}).get("replicas") == 2
          and rep["metadata"]["generation"] == 3, repr(rep))
    api.delete_namespaced_custom_object(g, v, ns, pl, "py-cr")
    t.join(15)
    types = [e[0] for e in events]
    check("watch saw MODIFIED events then DELETED",
          types[:1] == ["MODIFIED"] and types[-1:] == ["DELETED"], repr(events))
    try:
        api.get_namespaced_custom_object(g, v, ns, pl, "py-cr")
        check("get after delete is 404", False, "found")
    except ApiException as e:
        check("get after delete is 404", e.status == 404, str(e.status))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
