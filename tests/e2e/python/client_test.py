#!/usr/bin/python3
"""The official Kubernetes Python client (Debian's python3-kubernetes) against timonel.

Usage: client_test.py --kubeconfig FILE --namespace NS [--token TOKEN --server URL --ca FILE]
       [--no-deployments]

Creates, lists, watches, patches and deletes pods and deployments in NS and prints one line per
check: "PASS <what>" or "FAIL <what>: <why>" (the e2e script turns them into TAP). Expectations
are Kubernetes' documented behaviour: 201/200 bodies as typed objects, 409 AlreadyExists on a
duplicate create, 404 NotFound after delete, watch events ADDED/MODIFIED/DELETED in order."""
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


def api_error(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ApiException as e:
        return e
    return None


def pod_manifest(name, labels):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            termination_grace_period_seconds=0,
            containers=[client.V1Container(name="c", image="busybox:1.36",
                                           command=["sleep", "3600"])]))


def test_pods(v1, ns, tag):
    name = "py-pod-" + tag
    created = v1.create_namespaced_pod(ns, pod_manifest(name, {"app": "py", "run": tag}))
    check("[%s] create pod returns a V1Pod with uid and resourceVersion" % tag,
          created.metadata.uid and created.metadata.resource_version and created.kind == "Pod",
          repr(created.metadata))
    e = api_error(v1.create_namespaced_pod, ns, pod_manifest(name, {}))
    check("[%s] duplicate create is 409 AlreadyExists" % tag,
          e is not None and e.status == 409 and '"reason":"AlreadyExists"' in e.body.replace(" ", ""),
          e and e.body)
    lst = v1.list_namespaced_pod(ns, label_selector="run=%s" % tag)
    check("[%s] list with a label selector finds exactly the pod" % tag,
          [p.metadata.name for p in lst.items] == [name], [p.metadata.name for p in lst.items])
    check("[%s] list has a resourceVersion" % tag, lst.metadata.resource_version)

    # a watch from the list's resourceVersion sees the patch and the delete, in order
    events = []
    done = threading.Event()

    def watcher():
        w = watch.Watch()
        for ev in w.stream(v1.list_namespaced_pod, ns, label_selector="run=%s" % tag,
                           resource_version=lst.metadata.resource_version, timeout_seconds=10):
            events.append((ev["type"], ev["object"].metadata.name,
                           (ev["object"].metadata.labels or {}).get("patched")))
            if ev["type"] == "DELETED":
                w.stop()
        done.set()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    time.sleep(0.5)
    patched = v1.patch_namespaced_pod(name, ns, {"metadata": {"labels": {"patched": "yes"}}})
    check("[%s] strategic merge patch adds a label" % tag,
          patched.metadata.labels.get("patched") == "yes" and patched.metadata.labels.get("app") == "py",
          patched.metadata.labels)
    got = v1.read_namespaced_pod(name, ns)
    check("[%s] read returns the patched pod" % tag, got.metadata.labels.get("patched") == "yes")
    v1.delete_namespaced_pod(name, ns, grace_period_seconds=0)
    deadline = time.time() + 15
    while time.time() < deadline:
        e = api_error(v1.read_namespaced_pod, name, ns)
        if e is not None and e.status == 404:
            break
        time.sleep(0.2)
    check("[%s] read after delete is 404" % tag, e is not None and e.status == 404, e)
    done.wait(12)
    types = [x[0] for x in events]
    check("[%s] watch saw MODIFIED (patched) then DELETED" % tag,
          ("MODIFIED", name, "yes") in events and types[-1:] == ["DELETED"] and "ADDED" not in types,
          events)


def test_deployments(apps, ns, tag):
    name = "py-deploy-" + tag
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36",
                                                                     command=["sleep", "3600"])]))))
    d = apps.create_namespaced_deployment(ns, body)
    check("[%s] create deployment" % tag, d.metadata.name == name and d.spec.replicas == 1)
    e = api_error(apps.create_namespaced_deployment, ns, body)
    check("[%s] duplicate deployment is 409" % tag, e is not None and e.status == 409, e)
    names = [x.metadata.name for x in apps.list_namespaced_deployment(ns).items]
    check("[%s] list deployments" % tag, name in names, names)
    s = apps.patch_namespaced_deployment_scale(name, ns, {"spec": {"replicas": 3}})
    check("[%s] patch the scale subresource" % tag, s.spec.replicas == 3, s)
    d = apps.read_namespaced_deployment(name, ns)
    check("[%s] the deployment has 3 replicas" % tag, d.spec.replicas == 3, d.spec.replicas)
    d = apps.patch_namespaced_deployment(name, ns, {"metadata": {"annotations": {"py": "1"}}})
    check("[%s] patch the deployment" % tag, (d.metadata.annotations or {}).get("py") == "1")
    apps.delete_namespaced_deployment(name, ns, propagation_policy="Background")
    deadline = time.time() + 15
    while time.time() < deadline:
        e = api_error(apps.read_namespaced_deployment, name, ns)
        if e is not None and e.status == 404:
            break
        time.sleep(0.2)
    check("[%s] deployment gone after delete" % tag, e is not None and e.status == 404, e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig")
    ap.add_argument("--token")
    ap.add_argument("--server")
    ap.add_argument("--ca")
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--no-deployments", action="store_true")
    ap.add_argument("--forbidden-namespace")
    a = ap.parse_args()
    if a.token:
        cfg = client.Configuration()
        cfg.host = a.server
        cfg.ssl_ca_cert = a.ca
        cfg.api_key = {"authorization": "Bearer " + a.token}
        api = client.ApiClient(cfg)
    else:
        api = config.new_client_from_config(config_file=a.kubeconfig)
    v1 = client.CoreV1Api(api)
    ver = client.VersionApi(api).get_code()
    check("[%s] /version" % a.tag, ver.major == "1", ver)
    test_pods(v1, a.namespace, a.tag)
    if not a.no_deployments:
        test_deployments(client.AppsV1Api(api), a.namespace, a.tag)
    if a.forbidden_namespace:
        e = api_error(v1.list_namespaced_pod, a.forbidden_namespace)
        check("[%s] listing pods in %s is 403 Forbidden" % (a.tag, a.forbidden_namespace),
              e is not None and e.status == 403 and "cannot list resource" in e.body, e)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
