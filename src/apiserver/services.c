/* services.c — Service defaults, validation, cluster IP and node port allocation. */
#include "apiserver/services.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "api/meta.h"
#include "common/kjson.h"

#define STATIC_BAND 256 /* first addresses only for explicit requests */

static bool parse_ip(const char *s, uint32_t *ret)
{
        struct in_addr a;
        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return false;
        *ret = ntohl(a.s_addr);
        return true;
}

static bool in_cidr(uint32_t ip)
{
        return (ip >> (32 - SERVICES_CIDR_BITS)) ==
               (SERVICES_CIDR_BASE >> (32 - SERVICES_CIDR_BITS));
}

static bool ip_used(const json_t *existing, uint32_t ip, const char *skip_uid)
{
        size_t i;
        json_t *s;
        json_array_foreach(existing, i, s)
        {
                const char *uid = kjson_str(s, "metadata.uid");
                if (skip_uid && uid && !strcmp(uid, skip_uid))
                        continue;
                uint32_t other;
                if (parse_ip(kjson_str(s, "spec.clusterIP"), &other) && other == ip)
                        return true;
        }
        return false;
}

static bool port_used(const json_t *existing, const json_t *self, int64_t port,
                      const char *skip_uid)
{
        size_t i, j;
        json_t *s, *p;
        json_array_foreach(existing, i, s)
        {
                const char *uid = kjson_str(s, "metadata.uid");
                if (skip_uid && uid && !strcmp(uid, skip_uid))
                        continue;
                json_array_foreach(kjson_get(s, "spec.ports"), j, p)
                {
                        if (kjson_int(p, "nodePort", 0) == port)
                                return true;
                }
        }
        if (self) {
                json_array_foreach(kjson_get(self, "spec.ports"), j, p)
                {
                        if (kjson_int(p, "nodePort", 0) == port)
                                return true;
                }
        }
        return false;
}

static void set_default_str(json_t *obj, const char *key, const char *v)
{
        if (!json_string_value(json_object_get(obj, key)))
                json_object_set_new(obj, key, json_string(v));
}

static void defaults(json_t *svc)
{
        json_t *spec = kjson_obj_ensure(svc, "spec");
        set_default_str(spec, "type", "ClusterIP");
        const char *type = kjson_str(spec, "type");
        if (strcmp(type, "ExternalName")) {
                set_default_str(spec, "sessionAffinity", "None");
                set_default_str(spec, "internalTrafficPolicy", "Cluster");
        }
        if (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"))
                set_default_str(spec, "externalTrafficPolicy", "Cluster");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(spec, "ports"), i, p)
        {
                if (!json_is_object(p))
                        continue;
                set_default_str(p, "protocol", "TCP");
                if (!json_object_get(p, "targetPort") &&
                    json_is_integer(json_object_get(p, "port")))
                        json_object_set_new(
                                p, "targetPort",
                                json_integer(json_integer_value(json_object_get(p, "port"))));
        }
        if (!json_is_object(json_object_get(svc, "status")))
                json_object_set_new(svc, "status", json_pack("{s:{}}", "loadBalancer"));
}

static void validate(const json_t *svc, json_t *causes)
{
        char buf[1024], f[64];
        const char *name = kjson_str(svc, "metadata.name");
        if (name && meta_dns1035_label_error(name, buf, sizeof(buf)))
                meta_cause_add(causes, "FieldValueInvalid", "metadata.name", name, buf);
        const char *type = kjson_str(svc, "spec.type");
        static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName",
                                            NULL};
        bool known = false;
        for (const char *const *t = types; *t; t++)
                known |= type && !strcmp(type, *t);
        if (!known)
                meta_cause_add(causes, "FieldValueNotSupported", "spec.type", type ? type : "",
                               "supported values: \"ClusterIP\", \"ExternalName\", "
                               "\"LoadBalancer\", \"NodePort\"");
        const json_t *ports = kjson_get(svc, "spec.ports");
        const char *cip = kjson_str(svc, "spec.clusterIP");
        bool headless = cip && !strcmp(cip, "None");
        if (known && strcmp(type, "ExternalName") && !headless && !json_array_size(ports))
                meta_cause_add(causes, "FieldValueRequired", "spec.ports", NULL, "");
        if (known && !strcmp(type, "ExternalName") && !kjson_str(svc, "spec.externalName"))
                meta_cause_add(causes, "FieldValueRequired", "spec.externalName", NULL, "");
        size_t i;
        json_t *p;
        json_array_foreach(ports, i, p)
        {
                json_t *port = json_object_get(p, "port");
                snprintf(f, sizeof(f), "spec.ports[%zu].port", i);
                if (!json_is_integer(port))
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                else if (json_integer_value(port) < 1 || json_integer_value(port) > 65535)
                        meta_cause_add_json(causes, "FieldValueInvalid", f, port,
                                            "must be between 1 and 65535, inclusive");
                if (json_array_size(ports) > 1 && !kjson_str(p, "name")) {
                        snprintf(f, sizeof(f), "spec.ports[%zu].name", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                }
                const char *proto = kjson_str(p, "protocol");
                if (proto && strcmp(proto, "TCP") && strcmp(proto, "UDP") &&
                    strcmp(proto, "SCTP")) {
                        snprintf(f, sizeof(f), "spec.ports[%zu].protocol", i);
                        meta_cause_add(causes, "FieldValueNotSupported", f, proto,
                                       "supported values: \"SCTP\", \"TCP\", \"UDP\"");
                }
        }
}

static void allocate_ip(json_t *svc, const json_t *existing, const char *skip_uid, json_t *causes)
{
        json_t *spec = json_object_get(svc, "spec");
        const char *type = kjson_str(spec, "type");
        if (type && !strcmp(type, "ExternalName"))
                return;
        const char *cip = kjson_str(spec, "clusterIP");
        if (!cip || !*cip) {
                const char *first =
                        json_string_value(json_array_get(json_object_get(spec, "clusterIPs"), 0));
                if (first && *first)
                        cip = first;
        }
        char buf[32];
        if (cip && !strcmp(cip, "None")) {
                json_object_set_new(spec, "clusterIP", json_string("None"));
                json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
        } else if (cip && *cip) {
                uint32_t ip;
                char msg[160];
                if (!parse_ip(cip, &ip) || !in_cidr(ip) || (ip & 0xffff) == 0 ||
                    (ip & 0xffff) == 0xffff) {
                        snprintf(msg, sizeof(msg),
                                 "failed to allocate IP %s: the provided IP (%s) is not in the "
                                 "valid range. The range of valid IPs is 10.43.0.0/16",
                                 cip, cip);
                        meta_cause_add(causes, "FieldValueInvalid", "spec.clusterIPs", cip, msg);
                        return;
                }
                if (ip_used(existing, ip, skip_uid)) {
                        snprintf(msg, sizeof(msg),
                                 "failed to allocate IP %s: provided IP is already allocated", cip);
                        meta_cause_add(causes, "FieldValueInvalid", "spec.clusterIPs", cip, msg);
                        return;
                }
                snprintf(buf, sizeof(buf), "%s", cip);
                json_object_set_new(spec, "clusterIP", json_string(buf));
                json_object_set_new(spec, "clusterIPs", json_pack("[s]", buf));
        } else {
                uint32_t size = 1u << (32 - SERVICES_CIDR_BITS);
                uint32_t found = 0;
                for (uint32_t off = STATIC_BAND; off < size - 1 && !found; off++)
                        if (!ip_used(existing, SERVICES_CIDR_BASE + off, skip_uid))
                                found = SERVICES_CIDR_BASE + off;
                for (uint32_t off = 2; off < STATIC_BAND && !found; off++)
                        if (off != 10 && !ip_used(existing, SERVICES_CIDR_BASE + off, skip_uid))
                                found = SERVICES_CIDR_BASE + off;
                if (!found) {
                        meta_cause_add(causes, "FieldValueInvalid", "spec.clusterIPs", "",
                                       "failed to allocate IP: range is full");
                        return;
                }
                snprintf(buf, sizeof(buf), "%u.%u.%u.%u", found >> 24, (found >> 16) & 255,
                         (found >> 8) & 255, found & 255);
                json_object_set_new(spec, "clusterIP", json_string(buf));
                json_object_set_new(spec, "clusterIPs", json_pack("[s]", buf));
        }
        json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
        set_default_str(spec, "ipFamilyPolicy", "SingleStack");
}

static void allocate_node_ports(json_t *svc, const json_t *existing, const char *skip_uid,
                                json_t *causes)
{
        const char *type = kjson_str(svc, "spec.type");
        if (!type || (strcmp(type, "NodePort") && strcmp(type, "LoadBalancer")))
                return;
        size_t i;
        json_t *p;
        json_array_foreach(kjson_get(svc, "spec.ports"), i, p)
        {
                json_t *np = json_object_get(p, "nodePort");
                char f[64], msg[128];
                snprintf(f, sizeof(f), "spec.ports[%zu].nodePort", i);
                if (json_is_integer(np) && json_integer_value(np)) {
                        int64_t v = json_integer_value(np);
                        if (v < SERVICES_NODEPORT_MIN || v > SERVICES_NODEPORT_MAX) {
                                snprintf(msg, sizeof(msg),
                                         "provided port is not in the valid range. The range of "
                                         "valid ports is %d-%d",
                                         SERVICES_NODEPORT_MIN, SERVICES_NODEPORT_MAX);
                                meta_cause_add_json(causes, "FieldValueInvalid", f, np, msg);
                        } else if (port_used(existing, NULL, v, skip_uid)) {
                                meta_cause_add_json(causes, "FieldValueInvalid", f, np,
                                                    "provided port is already allocated");
                        }
                        continue;
                }
                json_object_del(p, "nodePort");
                for (int64_t v = SERVICES_NODEPORT_MIN; v <= SERVICES_NODEPORT_MAX; v++) {
                        if (!port_used(existing, svc, v, skip_uid)) {
                                json_object_set_new(p, "nodePort", json_integer(v));
                                break;
                        }
                }
        }
}

void services_prepare_create(json_t *svc, const json_t *existing, json_t *causes)
{
        defaults(svc);
        validate(svc, causes);
        if (json_array_size(causes))
                return;
        allocate_ip(svc, existing, NULL, causes);
        allocate_node_ports(svc, existing, NULL, causes);
}

void services_prepare_update(json_t *svc, const json_t *old, const json_t *existing, json_t *causes)
{
        defaults(svc);
        validate(svc, causes);
        json_t *spec = json_object_get(svc, "spec");
        const char *oip = kjson_str(old, "spec.clusterIP");
        const char *nip = kjson_str(spec, "clusterIP");
        const char *type = kjson_str(spec, "type");
        bool external = type && !strcmp(type, "ExternalName");
        if (oip && *oip && !external) {
                if (nip && *nip && strcmp(nip, oip)) {
                        meta_cause_add(causes, "FieldValueInvalid", "spec.clusterIPs[0]", nip,
                                       "may not change once set");
                        return;
                }
                json_object_set_new(spec, "clusterIP", json_string(oip));
                json_t *oips = kjson_get(old, "spec.clusterIPs");
                json_object_set_new(spec, "clusterIPs",
                                    oips ? json_deep_copy(oips) : json_pack("[s]", oip));
                json_t *fam = kjson_get(old, "spec.ipFamilies");
                if (fam)
                        json_object_set_new(spec, "ipFamilies", json_deep_copy(fam));
                set_default_str(spec, "ipFamilyPolicy", "SingleStack");
        } else if (!external && !json_array_size(causes)) {
                allocate_ip(svc, existing, kjson_str(old, "metadata.uid"), causes);
        }
        /* keep node ports of unchanged ports */
        size_t i, j;
        json_t *p, *op;
        json_array_foreach(json_object_get(spec, "ports"), i, p)
        {
                if (json_object_get(p, "nodePort"))
                        continue;
                json_array_foreach(kjson_get(old, "spec.ports"), j, op)
                {
                        if (kjson_int(op, "port", -1) == kjson_int(p, "port", -2) &&
                            kjson_int(op, "nodePort", 0))
                                json_object_set_new(p, "nodePort",
                                                    json_integer(kjson_int(op, "nodePort", 0)));
                }
        }
        if (!json_array_size(causes))
                allocate_node_ports(svc, existing, kjson_str(old, "metadata.uid"), causes);
}
