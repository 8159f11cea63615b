/* kubeconfig.h — read and write kubeconfig files (the YAML kubectl reads).
 *
 * kubeconfig_write writes what k3s writes: one cluster, one user, one context (all named
 * context_name) with EMBEDDED base64 PEM data (certificate-authority-data,
 * client-certificate-data, client-key-data), mode 0600, atomically (temp file + rename), creating
 * the parent directory.
 *
 * kubeconfig_load resolves current-context (or the only context) to server + credentials;
 * credentials may be embedded (*-data) or file paths (relative paths resolve against the
 * kubeconfig's directory). Errors: -ENOENT file absent, -EINVAL malformed (message says what and
 * where), -E2BIG file over 4 MiB. */
#pragma once
#include "common/base.h"
#include "common/error.h"

#define KUBECONFIG_MAX_SIZE (4u << 20)

struct kubeconfig_info {
        char *server;   /* "https://127.0.0.1:6443" */
        char *ca_pem;   /* NULL: system trust store */
        char *cert_pem; /* NULL: no client certificate */
        char *key_pem;
        char *token; /* bearer token or NULL */
        bool insecure_skip_tls_verify;
        char *context;   /* the context used */
        char *namespace; /* the context's namespace or NULL */
};
void kubeconfig_info_clear(struct kubeconfig_info *k);

int kubeconfig_load(const char *path, struct kubeconfig_info *ret, struct error *err);

/* Parse kubeconfig text. base_dir: directory for relative file references; NULL forbids file
 * references (-EINVAL) — the fuzz target uses that. */
int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, struct kubeconfig_info *ret,
                     struct error *err);

/* ca_file is required; cert_file/key_file may both be NULL (no client cert). context_name NULL
 * means "default". */
int kubeconfig_write(const char *path, const char *server_url, const char *ca_file,
                     const char *cert_file, const char *key_file, const char *context_name,
                     struct error *err);

/* The kubeconfig path kubectl would use: $KUBECONFIG (first entry) else ~/.kube/config.
 * Returns a malloc'd string. */
char *kubeconfig_default_path(void);
