/* strv.h — NULL-terminated string vectors (char **), every element owned by the vector. */
#pragma once
#include "common/base.h"

/* A new empty vector ({NULL}). */
char **strv_new(void);
/* Append a copy of s; returns the (possibly moved) vector. A NULL v is treated as empty. */
char **strv_push(char **v, const char *s);
/* Append s, taking ownership of it. */
char **strv_push_take(char **v, char *s);
/* Free all elements and the vector; NULL is fine. */
void strv_free(char **v);
static inline void strv_freep(char ***v)
{
        strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
/* Number of elements (0 for NULL). */
size_t strv_len(char *const *v);
/* Deep copy (NULL -> empty vector). */
char **strv_dup(char *const *v);
/* Elements joined with sep (NULL sep = ""); caller frees; empty/NULL vector -> "". */
char *strv_join(char *const *v, const char *sep);
/* True if some element equals s. */
bool strv_contains(char *const *v, const char *s);
/* Split s at every occurrence of the separator character (empty fields kept; "" -> empty vector).
 */
char **strv_split(const char *s, char sep);
