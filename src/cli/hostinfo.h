/* hostinfo.h — facts about this host a node needs: its name and its InternalIP. */
#pragma once
#include "common/base.h"

struct hostinfo {
        char hostname[64]; /* lower-case, a valid DNS-1123 subdomain */
        char node_ip[64];  /* IPv4 dotted quad */
};

/* Fill h: name_override/ip_override if given, else the host name (lower-cased) and the first
 * IPv4 address of an UP, non-loopback interface that is not a bridge we created ("tmnl*",
 * "cni*"), falling back to 127.0.0.1. Never fails. */
void hostinfo_detect(struct hostinfo *h, const char *name_override, const char *ip_override);
