/* hostinfo.c — host name and node IP detection. */
#include "cli/hostinfo.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>

static bool is_own_interface(const char *name)
{
        return !strncmp(name, "tmnl", 4) || !strncmp(name, "cni", 3) || !strncmp(name, "veth", 4) ||
               !strncmp(name, "docker", 6);
}

void hostinfo_detect(struct hostinfo *h, const char *name_override, const char *ip_override)
{
        memset(h, 0, sizeof(*h));
        if (name_override && *name_override)
                snprintf(h->hostname, sizeof(h->hostname), "%s", name_override);
        else if (gethostname(h->hostname, sizeof(h->hostname) - 1) < 0 || !h->hostname[0])
                snprintf(h->hostname, sizeof(h->hostname), "localhost");
        for (char *p = h->hostname; *p; p++)
                *p = (char)tolower((unsigned char)*p);

        if (ip_override && *ip_override) {
                snprintf(h->node_ip, sizeof(h->node_ip), "%s", ip_override);
                return;
        }
        snprintf(h->node_ip, sizeof(h->node_ip), "127.0.0.1");
        struct ifaddrs *ifs;
        if (getifaddrs(&ifs) < 0)
                return;
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
                    is_own_interface(i->ifa_name))
                        continue;
                struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
                inet_ntop(AF_INET, &sin->sin_addr, h->node_ip, sizeof(h->node_ip));
                break;
        }
        freeifaddrs(ifs);
}
