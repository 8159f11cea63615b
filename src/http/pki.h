/* pki.h — the cluster's certificate authority (OpenSSL 3, ECDSA P-256).
 *
 * Files are PEM; keys are written 0600 (PKCS#8), certificates 0644, each through a temporary file
 * and rename() so a crash never leaves a half-written file. Existing files are kept when they are
 * still good (parse, key matches, chain to ca.crt, CN and requested SANs present, more than 30 days
 * left), so a restart keeps the same CA and certificates. */
#pragma once
#include "common/base.h"
#include "common/error.h"

/* Make sure tls_dir (created 0700 if missing) holds:
 *   ca.crt/ca.key                  self-signed CA, CN "timonel-ca", 10 years
 *   server.crt/key                 serverAuth, CN "kube-apiserver", SANs server_sans
 *   admin.crt/key                  clientAuth, CN "system:admin", O "system:masters"
 *   kubelet-client.crt/key         clientAuth, CN "kube-apiserver-kubelet-client", O
 * "system:masters" server_sans: NULL-terminated, each "DNS:name" or "IP:a.b.c.d" (may be NULL =
 * none). A new CA (none existed) re-issues every leaf. Errors: -EINVAL bad SAN, -ENOENT ca.crt
 * without ca.key (or the reverse), -EIO OpenSSL failures, other -errno from the file system. */
int pki_ensure(const char *tls_dir, const char *const *server_sans, struct error *err);

/* Issue out_prefix.crt/out_prefix.key signed by tls_dir/ca.{crt,key}, unless a good one exists.
 * org may be NULL; server/client select the extendedKeyUsage (serverAuth/clientAuth); sans as
 * above (NULL = none). The directory of out_prefix must exist. Same errors as pki_ensure. */
int pki_issue(const char *tls_dir, const char *out_prefix, const char *cn, const char *org,
              bool server, bool client, const char *const *sans, struct error *err);
