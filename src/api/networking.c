/* networking.c — NetworkPolicy, Ingress, IngressClass, EndpointSlice rules (see
 * networking.h). */
#include "api/networking.h"

#include <stdio.h>

#include "api/labels.h"
#include "api/meta.h"
#include "api/strategy.h"
#include "common/kjson.h"

static void ports_protocol(json_t *ports)
{
        size_t i;
        json_t *p;
        json_array_foreach(ports, i, p)
        {
                if (json_is_object(p) && !json_object_get(p, "protocol"))
                        json_object_set_new(p, "protocol", json_string("TCP"));
        }
}

void networking_netpol_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        kjson_obj_ensure(spec, "podSelector");
        const char *dirs[] = {"ingress", "egress"};
        for (size_t d = 0; d < 2; d++) {
                size_t i;
                json_t *r;
                json_array_foreach(json_object_get(spec, dirs[d]), i, r)
                {
                        ports_protocol(json_object_get(r, "ports"));
                }
        }
        if (!json_array_size(json_object_get(spec, "policyTypes"))) {
                json_t *pt = json_pack("[s]", "Ingress");
                if (json_array_size(json_object_get(spec, "egress")))
                        json_array_append_new(pt, json_string("Egress"));
                json_object_set_new(spec, "policyTypes", pt);
        }
}

static void validate_selector(const json_t *sel, const char *field, json_t *causes)
{
        if (!sel)
                return;
        struct error err = {0};
        _cleanup_(labels_selector_freep) struct labels_selector *ls = NULL;
        if (labels_selector_from_json(sel, &ls, &err) < 0)
                meta_cause_add_json(causes, "FieldValueInvalid", field, sel, error_msg(&err));
}

void networking_netpol_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        validate_selector(json_object_get(spec, "podSelector"), "spec.podSelector", causes);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(spec, "policyTypes"), i, t)
        {
                const char *s = json_string_value(t);
                char f[64];
                snprintf(f, sizeof(f), "spec.policyTypes[%zu]", i);
                if (!s || (strcmp(s, "Ingress") && strcmp(s, "Egress")))
                        meta_cause_add(causes, "FieldValueNotSupported", f, s ? s : "",
                                       "supported values: \"Ingress\", \"Egress\"");
        }
        const char *dirs[] = {"ingress", "egress"};
        for (size_t d = 0; d < 2; d++) {
                json_t *r;
                json_array_foreach(json_object_get(spec, dirs[d]), i, r)
                {
                        size_t j;
                        json_t *p;
                        json_array_foreach(json_object_get(r, "ports"), j, p)
                        {
                                const char *proto = kjson_str(p, "protocol");
                                char f[96];
                                snprintf(f, sizeof(f), "spec.%s[%zu].ports[%zu].protocol", dirs[d],
                                         i, j);
                                if (proto && strcmp(proto, "TCP") && strcmp(proto, "UDP") &&
                                    strcmp(proto, "SCTP"))
                                        meta_cause_add(causes, "FieldValueNotSupported", f, proto,
                                                       "supported values: \"SCTP\", \"TCP\", "
                                                       "\"UDP\"");
                        }
                }
        }
}

static void validate_backend(const json_t *b, const char *field, json_t *causes)
{
        char f[192];
        const json_t *svc = json_object_get(b, "service");
        const json_t *res = json_object_get(b, "resource");
        if (svc && res) {
                meta_cause_add(causes, "FieldValueInvalid", field, "",
                               "cannot set both resource and service backends");
                return;
        }
        if (!svc && !res) {
                meta_cause_add(causes, "FieldValueInvalid", field, "",
                               "resource or service backend is required");
                return;
        }
        if (!svc)
                return;
        const char *name = kjson_str(svc, "name");
        snprintf(f, sizeof(f), "%s.service.name", field);
        if (!name || !*name)
                meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
        const json_t *port = json_object_get(svc, "port");
        const char *pname = kjson_str(port, "name");
        const json_t *pnum = json_object_get(port, "number");
        snprintf(f, sizeof(f), "%s.service.port", field);
        if (pname && *pname && pnum)
                meta_cause_add(causes, "FieldValueInvalid", f, NULL,
                               "cannot set both port name & port number");
        else if ((!pname || !*pname) && !json_is_integer(pnum))
                meta_cause_add(causes, "FieldValueInvalid", f, NULL,
                               "port name or number is required");
        else if (json_is_integer(pnum) &&
                 (json_integer_value(pnum) < 1 || json_integer_value(pnum) > 65535)) {
                snprintf(f, sizeof(f), "%s.service.port.number", field);
                meta_cause_add_json(causes, "FieldValueInvalid", f, pnum,
                                    "must be between 1 and 65535, inclusive");
        }
}

void networking_ingress_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        const json_t *rules = json_object_get(spec, "rules");
        const json_t *def = json_object_get(spec, "defaultBackend");
        if (!def && !json_array_size(rules))
                meta_cause_add(causes, "FieldValueInvalid", "spec.rules", NULL,
                               "either `defaultBackend` or `rules` must be specified");
        if (def)
                validate_backend(def, "spec.defaultBackend", causes);
        size_t i;
        json_t *r;
        json_array_foreach(rules, i, r)
        {
                char f[128];
                const char *host = kjson_str(r, "host");
                if (host && *host) {
                        char buf[1024];
                        const char *h = !strncmp(host, "*.", 2) ? host + 2 : host;
                        snprintf(f, sizeof(f), "spec.rules[%zu].host", i);
                        if (meta_dns1123_subdomain_error(h, buf, sizeof(buf)))
                                meta_cause_add(causes, "FieldValueInvalid", f, host, buf);
                }
                const json_t *http = json_object_get(r, "http");
                if (!http)
                        continue;
                const json_t *paths = json_object_get(http, "paths");
                if (!json_array_size(paths)) {
                        snprintf(f, sizeof(f), "spec.rules[%zu].http.paths", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                }
                size_t j;
                json_t *p;
                json_array_foreach(paths, j, p)
                {
                        const char *pt = kjson_str(p, "pathType");
                        const char *path = kjson_str(p, "path");
                        snprintf(f, sizeof(f), "spec.rules[%zu].http.paths[%zu].pathType", i, j);
                        if (!pt || !*pt)
                                meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                               "pathType must be specified");
                        else if (strcmp(pt, "Exact") && strcmp(pt, "Prefix") &&
                                 strcmp(pt, "ImplementationSpecific"))
                                meta_cause_add(causes, "FieldValueNotSupported", f, pt,
                                               "supported values: \"Exact\", "
                                               "\"ImplementationSpecific\", \"Prefix\"");
                        else if (strcmp(pt, "ImplementationSpecific") &&
                                 (!path || path[0] != '/')) {
                                snprintf(f, sizeof(f), "spec.rules[%zu].http.paths[%zu].path", i,
                                         j);
                                meta_cause_add(causes, "FieldValueInvalid", f, path ? path : "",
                                               "must be an absolute path");
                        }
                        snprintf(f, sizeof(f), "spec.rules[%zu].http.paths[%zu].backend", i, j);
                        validate_backend(json_object_get(p, "backend"), f, causes);
                }
        }
}

void networking_ingressclass_validate(const json_t *obj, json_t *causes)
{
        const char *c = kjson_str(obj, "spec.controller");
        if (!c || !*c)
                meta_cause_add(causes, "FieldValueRequired", "spec.controller", NULL, "");
        else if (strlen(c) > 250)
                meta_cause_add(causes, "FieldValueTooLong", "spec.controller", NULL,
                               "may not be more than 250 bytes");
}

void networking_ingressclass_validate_update(const json_t *newobj, const json_t *oldobj,
                                             json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "spec.controller", causes);
}

void networking_endpointslice_defaults(json_t *obj)
{
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(obj, "ports"), i, p)
        {
                if (!json_is_object(p))
                        continue;
                if (!json_object_get(p, "protocol"))
                        json_object_set_new(p, "protocol", json_string("TCP"));
                if (!json_object_get(p, "name"))
                        json_object_set_new(p, "name", json_string(""));
        }
}

void networking_endpointslice_validate(const json_t *obj, json_t *causes)
{
        const char *at = kjson_str(obj, "addressType");
        if (!at || !*at)
                meta_cause_add(causes, "FieldValueRequired", "addressType", NULL, "");
        else if (strcmp(at, "IPv4") && strcmp(at, "IPv6") && strcmp(at, "FQDN"))
                meta_cause_add(causes, "FieldValueNotSupported", "addressType", at,
                               "supported values: \"FQDN\", \"IPv4\", \"IPv6\"");
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(obj, "endpoints"), i, e)
        {
                char f[64];
                size_t n = json_array_size(json_object_get(e, "addresses"));
                snprintf(f, sizeof(f), "endpoints[%zu].addresses", i);
                if (!n)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                       "must contain at least 1 address");
                else if (n > 100)
                        meta_cause_add(causes, "FieldValueTooMany", f, NULL,
                                       "must have at most 100 items");
        }
}

void networking_endpointslice_validate_update(const json_t *newobj, const json_t *oldobj,
                                              json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "addressType", causes);
}
