/* test-labels.c — label selector grammar, LabelSelector JSON, field selectors. */
#include "api/labels.h"
#include "harness.h"

/* Parse and return the canonical form, or "ERR: msg". */
static const char *roundtrip(const char *s)
{
        static char out[1024];
        struct labels_selector *sel = NULL;
        struct error err = {0};
        if (labels_selector_parse(s, &sel, &err) < 0) {
                snprintf(out, sizeof(out), "ERR: %s", err.msg);
                return out;
        }
        char *f = labels_selector_format(sel);
        snprintf(out, sizeof(out), "%s", f);
        free(f);
        labels_selector_free(sel);
        return out;
}

static bool matches(const char *sel_str, const char *labels_json)
{
        struct labels_selector *sel = NULL;
        if (labels_selector_parse(sel_str, &sel, NULL) < 0)
                return false;
        json_t *l = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
        bool r = labels_selector_matches(sel, l);
        json_decref(l);
        labels_selector_free(sel);
        return r;
}

TEST(grammar)
{
        CHECK_EQ_STR(roundtrip(""), "");
        CHECK_EQ_STR(roundtrip("a=b"), "a=b");
        CHECK_EQ_STR(roundtrip("a==b"), "a=b");
        CHECK_EQ_STR(roundtrip(" c!=d , a=b "), "a=b,c!=d");
        CHECK_EQ_STR(roundtrip("e in (y, x, x),f notin (z)"), "e in (x,y),f notin (z)");
        CHECK_EQ_STR(roundtrip("!h,g"), "g,!h");
        CHECK_EQ_STR(roundtrip("a="), "a=");
        CHECK_EQ_STR(roundtrip("a in ()"), "a in ()");
        CHECK_EQ_STR(roundtrip("x>5,y<10"), "x>5,y<10");
        CHECK_EQ_STR(roundtrip("example.com/app=web"), "example.com/app=web");
        CHECK_EQ_STR(roundtrip("in=notin"), "in=notin");
        CHECK_EQ_STR(roundtrip("a in (in,notin)"), "a in (in,notin)");
}

TEST(grammar_errors)
{
        CHECK_EQ_STR(roundtrip("a in (b"),
                     "ERR: unable to parse requirement: found '', expected: ',' or ')'");
        CHECK_EQ_STR(roundtrip("a b"), "ERR: unable to parse requirement: found 'b', expected: in, "
                                       "notin, =, ==, !=, gt, lt");
        CHECK_EQ_STR(roundtrip("a=b,"), "ERR: found '', expected: identifier after ','");
        CHECK_EQ_STR(roundtrip("=b"),
                     "ERR: found '=', expected: !, identifier, or 'end of string'");
        CHECK_EQ_STR(roundtrip("a=b c"), "ERR: found 'c', expected: ',' or 'end of string'");
        CHECK_EQ_STR(roundtrip("a in b"),
                     "ERR: unable to parse requirement: found 'b' expected: '('");
        CHECK_EQ_STR(roundtrip("!a=b"), "ERR: found '=', expected: ',' or 'end of string'");
        CHECK_EQ_STR(roundtrip("a=(b"),
                     "ERR: unable to parse requirement: found '(', expected: identifier");
        CHECK_EQ_STR(roundtrip("x>a"),
                     "ERR: unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', "
                     "'Lt' operators, the value must be an integer");
        CHECK_EQ_STR(roundtrip("a=!b"),
                     "ERR: unable to parse requirement: found '!', expected: identifier");
        CHECK_EQ_STR(roundtrip("a=b=c"), "ERR: found '=', expected: ',' or 'end of string'");
        const char *bad = roundtrip("Bad_Key!=x y");
        CHECK(!strncmp(bad, "ERR: ", 5));
        CHECK_EQ_STR(
                roundtrip("a@b=c"),
                "ERR: unable to parse requirement: <nil>: Invalid value: \"a@b\": name part must "
                "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
        const char *want = "ERR: unable to parse requirement: values[0][a]: Invalid value: "
                           "\"b@c\": a valid label must be an empty string";
        CHECK(!strncmp(roundtrip("a=b@c"), want, strlen(want)));
}

TEST(matching)
{
        const char *l = "{\"app\":\"web\",\"tier\":\"fe\",\"n\":\"7\"}";
        CHECK(matches("", l));
        CHECK(matches("", NULL));
        CHECK(matches("app=web", l));
        CHECK(!matches("app=db", l));
        CHECK(matches("app!=db", l));
        CHECK(matches("missing!=x", l));
        CHECK(matches("app in (db,web)", l));
        CHECK(!matches("app notin (db,web)", l));
        CHECK(matches("missing notin (x)", l));
        CHECK(matches("app", l));
        CHECK(!matches("!app", l));
        CHECK(matches("!missing", l));
        CHECK(!matches("missing", l));
        CHECK(matches("n>5,n<8", l));
        CHECK(!matches("n>7", l));
        CHECK(!matches("app>1", l));
        CHECK(!matches("missing>1", l));
        CHECK(matches("app=web,tier=fe", l));
        CHECK(!matches("app=web,tier=be", l));
        CHECK(!matches("app=web", NULL));
        CHECK(matches("x=", "{\"x\":\"\"}"));
        CHECK(!matches("x=", "{}"));
}

TEST(from_json)
{
        struct labels_selector *sel = NULL;
        struct error err = {0};
        json_t *l = json_pack("{s:s,s:s}", "app", "web", "env", "prod");
        json_t *js = json_pack("{s:{s:s},s:[{s:s,s:s,s:[s,s]},{s:s,s:s}]}", "matchLabels", "app",
                               "web", "matchExpressions", "key", "env", "operator", "In", "values",
                               "prod", "stage", "key", "gone", "operator", "DoesNotExist");
        CHECK_EQ_INT(labels_selector_from_json(js, &sel, &err), 0);
        CHECK(labels_selector_matches(sel, l));
        char *f = labels_selector_format(sel);
        CHECK_EQ_STR(f, "app=web,env in (prod,stage),!gone");
        free(f);
        labels_selector_free(sel);
        json_decref(js);

        CHECK_EQ_INT(labels_selector_from_json(NULL, &sel, &err), 0);
        CHECK(sel->nothing);
        CHECK(!labels_selector_matches(sel, l));
        labels_selector_free(sel);
        js = json_object();
        CHECK_EQ_INT(labels_selector_from_json(js, &sel, &err), 0);
        CHECK(labels_selector_is_empty(sel));
        CHECK(labels_selector_matches(sel, l));
        labels_selector_free(sel);
        json_decref(js);

        js = json_pack("{s:[{s:s,s:s}]}", "matchExpressions", "key", "a", "operator", "Foo");
        CHECK_EQ_INT(labels_selector_from_json(js, &sel, &err), -EINVAL);
        CHECK_EQ_STR(err.msg, "\"Foo\" is not a valid label selector operator");
        json_decref(js);
        js = json_pack("{s:[{s:s,s:s}]}", "matchExpressions", "key", "a", "operator", "In");
        CHECK_EQ_INT(labels_selector_from_json(js, &sel, &err), -EINVAL);
        CHECK(strstr(err.msg, "values set can't be empty") != NULL);
        json_decref(js);

        json_t *m = json_pack("{s:s}", "app", "web");
        CHECK(labels_map_matches(m, l));
        json_object_set_new(m, "x", json_string("y"));
        CHECK(!labels_map_matches(m, l));
        CHECK(labels_map_matches(NULL, l));
        json_decref(m);
        json_decref(l);
}

TEST(field_selectors)
{
        struct labels_field_selector *fs = NULL;
        struct error err = {0};
        json_t *pod = json_pack("{s:{s:s,s:s},s:{s:s,s:b},s:{s:s}}", "metadata", "name", "p1",
                                "namespace", "default", "spec", "nodeName", "n1", "hostNetwork", 0,
                                "status", "phase", "Running");
        json_t *unsched = json_pack("{s:{s:s},s:{}}", "metadata", "name", "p2", "spec");

        CHECK_EQ_INT(
                labels_field_selector_parse("metadata.name=p1,status.phase!=Pending", &fs, &err),
                0);
        CHECK_EQ_INT(fs->n, 2);
        CHECK(labels_field_selector_matches(fs, pod));
        CHECK(!labels_field_selector_matches(fs, unsched));
        CHECK_EQ_STR(labels_field_selector_exact(fs, "metadata.name"), "p1");
        CHECK(labels_field_selector_exact(fs, "status.phase") == NULL);
        const char *allowed[] = {"spec.nodeName", NULL};
        CHECK_EQ_INT(labels_field_selector_check(fs, allowed, &err), -EINVAL);
        CHECK_EQ_STR(err.msg, "field label not supported: status.phase");
        labels_field_selector_free(fs);

        /* missing fields read as "" */
        CHECK_EQ_INT(labels_field_selector_parse("spec.nodeName=", &fs, &err), 0);
        CHECK(labels_field_selector_matches(fs, unsched));
        CHECK(!labels_field_selector_matches(fs, pod));
        CHECK_EQ_INT(labels_field_selector_check(fs, allowed, &err), 0);
        labels_field_selector_free(fs);
        CHECK_EQ_INT(labels_field_selector_parse("spec.nodeName!=n1", &fs, &err), 0);
        CHECK(labels_field_selector_matches(fs, unsched));
        CHECK(!labels_field_selector_matches(fs, pod));
        labels_field_selector_free(fs);
        CHECK_EQ_INT(labels_field_selector_parse("spec.hostNetwork==false", &fs, &err), 0);
        CHECK(labels_field_selector_matches(fs, pod));
        labels_field_selector_free(fs);

        /* escapes */
        json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "a,b=c");
        CHECK_EQ_INT(labels_field_selector_parse("metadata.name=a\\,b\\=c", &fs, &err), 0);
        CHECK_EQ_INT(fs->n, 1);
        CHECK(labels_field_selector_matches(fs, o));
        labels_field_selector_free(fs);
        json_decref(o);

        CHECK_EQ_INT(labels_field_selector_parse("", &fs, &err), 0);
        CHECK_EQ_INT(fs->n, 0);
        CHECK(labels_field_selector_matches(fs, pod));
        labels_field_selector_free(fs);

        fs = NULL;
        CHECK_EQ_INT(labels_field_selector_parse("metadata.name", &fs, &err), -EINVAL);
        CHECK(fs == NULL);
        CHECK_EQ_STR(err.msg,
                     "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
        CHECK_EQ_INT(labels_field_selector_parse("a=b=c", &fs, &err), -EINVAL);
        CHECK_EQ_STR(err.msg, "invalid field selector: unescaped character in value: =");
        CHECK_EQ_INT(labels_field_selector_parse("a=\\x", &fs, &err), -EINVAL);
        json_decref(pod);
        json_decref(unsched);
}

int main(void)
{
        RUN(grammar);
        RUN(grammar_errors);
        RUN(matching);
        RUN(from_json);
        RUN(field_selectors);
        return harness_done();
}
