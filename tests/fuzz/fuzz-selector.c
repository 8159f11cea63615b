/* fuzz-selector.c — label selector (string and JSON forms) and field selector parsers. A parsed
 * label selector's canonical form must parse again to the same canonical form. */
#include <stdio.h>

#include "api/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        if (size > 4096)
                return 0;
        char *s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = 0;
        json_t *labels = json_pack("{s:s,s:s,s:s}", "app", "web", "n", "7", "example.com/x", "");
        json_t *obj =
                json_pack("{s:{s:s},s:{s:b}}", "metadata", "name", "p", "spec", "hostNetwork", 1);

        struct labels_selector *sel = NULL;
        if (labels_selector_parse(s, &sel, &err) == 0) {
                (void)labels_selector_matches(sel, labels);
                char *f = labels_selector_format(sel);
                struct labels_selector *again = NULL;
                if (labels_selector_parse(f, &again, &err) < 0) {
                        fprintf(stderr, "canonical form does not parse: [%s] %s\n", f, err.msg);
                        abort();
                }
                char *f2 = labels_selector_format(again);
                if (strcmp(f, f2)) {
                        fprintf(stderr, "canonical form not stable: [%s] vs [%s]\n", f, f2);
                        abort();
                }
                if (labels_selector_matches(sel, labels) != labels_selector_matches(again, labels))
                        abort();
                free(f);
                free(f2);
                labels_selector_free(again);
                labels_selector_free(sel);
        }
        struct labels_field_selector *fs = NULL;
        if (labels_field_selector_parse(s, &fs, &err) == 0) {
                (void)labels_field_selector_matches(fs, obj);
                (void)labels_field_selector_exact(fs, "metadata.name");
                const char *allowed[] = {"spec.nodeName", NULL};
                (void)labels_field_selector_check(fs, allowed, &err);
                labels_field_selector_free(fs);
        }
        /* the LabelSelector JSON form */
        json_t *js = json_loadb(s, size, 0, NULL);
        if (js) {
                struct labels_selector *jsel = NULL;
                if (labels_selector_from_json(js, &jsel, &err) == 0) {
                        (void)labels_selector_matches(jsel, labels);
                        free(labels_selector_format(jsel));
                        labels_selector_free(jsel);
                }
                json_decref(js);
        }
        json_decref(labels);
        json_decref(obj);
        free(s);
        return 0;
}
