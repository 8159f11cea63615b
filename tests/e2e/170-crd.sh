#!/bin/bash
# 170-crd.sh — CustomResourceDefinitions through real kubectl (1.27, 1.31, 1.33) and the Python
# client: a CRD with a structural schema, status and scale subresources and printer columns is
# applied and becomes Established; custom resources are created (schema defaults), listed as a
# Table (-o wide shows the priority 1 column), patched (merge; strategic merge is refused with
# 415 as for every custom resource), scaled, explained; a CR that violates the schema gets the
# exact Invalid text, an unknown field under Strict the strict decoding error; an invalid CRD
# gets its field causes; deleting the CRD deletes its CRs and stops serving them. Expected texts
# from Kubernetes (kube-openapi's validation messages, apiextensions-apiserver, kubectl's
# printing of Invalid errors), not from our output. No node (--disable-agent).
. "$(dirname "$0")/lib.sh"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.31 1.33"}
PY=/usr/bin/python3
KBIN=/usr/lib/google-cloud-sdk/bin

W=$(mktemp -d /tmp/timonel-e2e-crd.XXXXXX)
D=$W/data
PORT=$(free_port)
KC=$W/kc.yaml
LOG=$W/server.log
SERVER_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D"
on_exit 'stop_server'
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
K0="$KBIN/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache0"
check "server answers" wait_for 10 $K0 get --raw /readyz

# same TEXT? — expected text compared with what the command printed (stdout+stderr)
same() {
        local what=$1 want=$2 got=$3
        if [ "$got" = "$want" ]; then
                ok "$what"
        else
                not_ok "$what"
                diag "expected:" "$want" "got:" "$got"
        fi
}

crd_yaml() { # GROUP PLURAL KIND SHORT
        cat <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: $2.$1
spec:
  group: $1
  scope: Namespaced
  names:
    plural: $2
    singular: ${2%s}
    kind: $3
    shortNames: [$4]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields:
    - jsonPath: .spec.image
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              cronSpec:
                type: string
                pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'
              image:
                type: string
              replicas:
                type: integer
                minimum: 1
                maximum: 10
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
              labelSelector:
                type: string
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Image
      type: string
      priority: 1
      jsonPath: .spec.image
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
YAML
}

for V in $KUBECTL_VERSIONS; do
        K="$KBIN/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        VV=${V/./}
        G=v$VV.stable.example.com
        CRD=crontabs.$G
        NS=crd-$VV
        check "[$V] create namespace" $K create namespace $NS
        crd_yaml $G crontabs CronTab ct$VV >"$W/crd-$V.yaml"
        same "[$V] apply CRD" "customresourcedefinition.apiextensions.k8s.io/$CRD created" \
                "$($K apply -f "$W/crd-$V.yaml" 2>&1)"
        same "[$V] wait --for condition=established" \
                "customresourcedefinition.apiextensions.k8s.io/$CRD condition met" \
                "$($K wait --for condition=established --timeout=20s crd/$CRD 2>&1)"
        same "[$V] NamesAccepted True" "True NoConflicts" \
                "$($K get crd $CRD -o jsonpath='{.status.conditions[?(@.type=="NamesAccepted")].status} {.status.conditions[?(@.type=="NamesAccepted")].reason}' 2>&1)"
        same "[$V] acceptedNames and storedVersions" "CronTab v1" \
                "$($K get crd $CRD -o jsonpath='{.status.acceptedNames.kind} {.status.storedVersions[0]}' 2>&1)"
        same "[$V] api-resources lists it" "crontabs ct$VV $G/v1 true CronTab" \
                "$($K api-resources --api-group=$G --no-headers 2>&1 | tr -s ' ')"

        cat >"$W/cr-$V.yaml" <<YAML
apiVersion: $G/v1
kind: CronTab
metadata:
  name: my-new-cron-object
  namespace: $NS
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
YAML
        same "[$V] apply CR" "crontab.$G/my-new-cron-object created" \
                "$($K apply -f "$W/cr-$V.yaml" 2>&1)"
        same "[$V] default from the schema, generation 1" "1 1" \
                "$($K get ct$VV my-new-cron-object -n $NS -o jsonpath='{.spec.replicas} {.metadata.generation}' 2>&1)"
        out=$($K get crontabs -n $NS 2>&1)
        same "[$V] get: printer columns (priority 0)" "NAME SPEC REPLICAS AGE|my-new-cron-object * * * * */5 1" \
                "$(echo "$out" | tr -s ' ' | sed 's/ [0-9]*s$//' | paste -sd'|')"
        out=$($K get crontabs -n $NS -o wide 2>&1)
        same "[$V] get -o wide: the priority 1 column too" \
                "NAME SPEC REPLICAS IMAGE AGE|my-new-cron-object * * * * */5 1 my-awesome-cron-image" \
                "$(echo "$out" | tr -s ' ' | sed 's/ [0-9]*s$//' | paste -sd'|')"
        same "[$V] re-apply unchanged" "crontab.$G/my-new-cron-object unchanged" \
                "$($K apply -f "$W/cr-$V.yaml" 2>&1)"
        same "[$V] merge patch" "crontab.$G/my-new-cron-object patched" \
                "$($K patch ct$VV my-new-cron-object -n $NS --type=merge -p '{"spec":{"image":"img2"}}' 2>&1)"
        same "[$V] strategic merge patch refused (415)" \
                "error: application/strategic-merge-patch+json is not supported by $G/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" \
                "$($K patch ct$VV my-new-cron-object -n $NS -p '{"spec":{"image":"img3"}}' 2>&1)"
        same "[$V] field selector on a selectableField" "my-new-cron-object" \
                "$($K get ct$VV -n $NS --field-selector spec.image=img2 -o jsonpath='{.items[*].metadata.name}' 2>&1)"
        same "[$V] field selector on another field" \
                "Error from server (BadRequest): Unable to find \"$G/v1, Resource=crontabs\" that match label selector \"\", field selector \"spec.cronSpec=x\": field label not supported: spec.cronSpec" \
                "$($K get ct$VV -n $NS --field-selector spec.cronSpec=x 2>&1)"
        same "[$V] json patch" "crontab.$G/my-new-cron-object patched" \
                "$($K patch ct$VV my-new-cron-object -n $NS --type=json -p '[{"op":"replace","path":"/spec/cronSpec","value":"*/2 * * * *"}]' 2>&1)"
        same "[$V] scale" "crontab.$G/my-new-cron-object scaled" \
                "$($K scale ct$VV my-new-cron-object -n $NS --replicas=3 2>&1)"
        same "[$V] status subresource: main resource ignores status" "" \
                "$($K patch ct$VV my-new-cron-object -n $NS --type=merge -p '{"status":{"replicas":7}}' -o jsonpath='{.status.replicas}' 2>&1)"
        same "[$V] status subresource written, generation unchanged" "2 app=cron 4" \
                "$($K get --raw /apis/$G/v1/namespaces/$NS/crontabs/my-new-cron-object/status >/dev/null 2>&1; $K patch ct$VV my-new-cron-object -n $NS --subresource=status --type=merge -p '{"status":{"replicas":2,"labelSelector":"app=cron"}}' -o jsonpath='{.status.replicas} {.status.labelSelector} {.metadata.generation}' 2>&1)"
        same "[$V] spec after patches and scale" "img2 */2 * * * * 3" \
                "$($K get ct$VV my-new-cron-object -n $NS -o jsonpath='{.spec.image} {.spec.cronSpec} {.spec.replicas}' 2>&1)"
        same "[$V] scale subresource" "3 2 app=cron" \
                "$($K get --raw /apis/$G/v1/namespaces/$NS/crontabs/my-new-cron-object/scale 2>&1 | $PY -c 'import json,sys; s=json.load(sys.stdin); print(s["spec"]["replicas"], s["status"]["replicas"], s["status"]["selector"])')"
        out=$($K explain crontab.spec --api-version=$G/v1 2>&1)
        check "[$V] explain crontab.spec lists the schema's fields" \
                bash -c "grep -q 'KIND: *CronTab' <<<'$out' && grep -qP '^  cronSpec\t<string>' <<<'$out' && grep -qP '^  replicas\t<integer>' <<<'$out'"

        cat >"$W/bad-$V.yaml" <<YAML
apiVersion: $G/v1
kind: CronTab
metadata:
  name: bad
  namespace: $NS
spec:
  cronSpec: "* * * *"
  image: my-awesome-cron-image
  replicas: 15
YAML
        same "[$V] schema violations: kubectl's Invalid text" "The CronTab \"bad\" is invalid: 
* spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}\$'
* spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10" \
                "$($K apply -f "$W/bad-$V.yaml" 2>&1)"
        same "[$V] wrong type and missing required field" "The CronTab \"bad2\" is invalid: 
* spec.image: Required value
* spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"" \
                "$($K create -n $NS -f - 2>&1 <<YAML
apiVersion: $G/v1
kind: CronTab
metadata: {name: bad2}
spec: {replicas: "three"}
YAML
)"
        same "[$V] unknown field under Strict (kubectl's default)" \
                "Error from server (BadRequest): error when creating \"STDIN\": CronTab in version \"v1\" cannot be handled as a CronTab: strict decoding error: unknown field \"spec.bogus\"" \
                "$($K create -n $NS -f - 2>&1 <<YAML
apiVersion: $G/v1
kind: CronTab
metadata: {name: bad3}
spec: {image: x, bogus: 1}
YAML
)"
        cat >"$W/warn-$V.yaml" <<YAML
apiVersion: $G/v1
kind: CronTab
metadata: {name: pruned, namespace: $NS}
spec: {image: x, bogus: 1}
YAML
        same "[$V] unknown field under Warn: warned and created" \
                "Warning: unknown field \"spec.bogus\"|crontab.$G/pruned created" \
                "$($K create --validate=warn -f "$W/warn-$V.yaml" 2>&1 | paste -sd'|')"
        same "[$V] ... and pruned" "x|" \
                "$($K get ct$VV pruned -n $NS -o jsonpath='{.spec.image}|{.spec.bogus}' 2>&1)"
        same "[$V] nothing stored for the rejected ones" "my-new-cron-object pruned" \
                "$($K get ct$VV -n $NS -o jsonpath='{.items[*].metadata.name}' 2>&1)"
        same "[$V] delete CR" "crontab.$G \"pruned\" deleted" "$($K delete ct$VV pruned -n $NS 2>&1)"
        out=$($K get all -n $NS --no-headers 2>&1)
        check "[$V] get all: the category lists the custom resource" \
                grep -q "^crontab.$G/my-new-cron-object " <<<"$out"
        check "[$V] a second CR" $K create -n $NS -f - <<YAML
apiVersion: $G/v1
kind: CronTab
metadata: {name: second}
spec: {image: x}
YAML
        same "[$V] delete --all (deletecollection)" \
                "crontab.$G \"my-new-cron-object\" deleted|crontab.$G \"second\" deleted" \
                "$($K delete ct$VV --all -n $NS 2>&1 | paste -sd'|')"
        check "[$V] recreate for the CRD deletion" $K apply -f "$W/cr-$V.yaml"

        if [ "$V" = "1.31" ]; then
                check "[$V] create namespace for the python client" $K create namespace crd-py
                $PY "$(dirname "$0")/python/crd_test.py" --kubeconfig "$KC" --namespace crd-py \
                        --group $G --plural crontabs --kind CronTab >"$W/py.out" 2>"$W/py.err"
                rc=$?
                while IFS= read -r line; do
                        case $line in
                        PASS\ *) ok "[$V] python: ${line#PASS }" ;;
                        FAIL\ *) not_ok "[$V] python: ${line#FAIL }" ;;
                        esac
                done <"$W/py.out"
                [ $rc -eq 0 ] || sed 's/^/# /' "$W/py.err" | tail -20
                check "[$V] python client exited 0" test $rc -eq 0
        fi

        same "[$V] delete CRD" "customresourcedefinition.apiextensions.k8s.io \"$CRD\" deleted" \
                "$($K delete crd $CRD 2>&1)"
        same "[$V] its CRs are gone and no longer served" \
                "Error from server (NotFound): the server could not find the requested resource" \
                "$($K get --raw /apis/$G/v1/namespaces/$NS/crontabs 2>&1)"
        same "[$V] discovery no longer lists the group" "" \
                "$($K get --raw /apis 2>&1 | grep -o "\"$G\"" | head -1)"
        check "[$V] CRD recreated" $K apply -f "$W/crd-$V.yaml"
        check "[$V] ... established" $K wait --for condition=established --timeout=20s crd/$CRD
        same "[$V] ... and its old custom resources were deleted with the CRD" "" \
                "$($K get --raw /apis/$G/v1/crontabs 2>&1 | $PY -c 'import json,sys; print(" ".join(i["metadata"]["name"] for i in json.load(sys.stdin)["items"]))')"
        check "[$V] CRD deleted again" $K delete crd $CRD
done

# CRD validation: field causes (apiextensions-apiserver's texts); nothing stored
out=$($K0 create -f - 2>&1 <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: foos.example.com
spec:
  group: example
  scope: Global
  names: {plural: foos, kind: Foo, listKind: Foo}
  versions:
  - name: v1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {properties: {a: {type: string}}}
YAML
)
for want in 'metadata.name: Invalid value: "foos.example.com": must be spec.names.plural+"."+spec.group' \
        'spec.group: Invalid value: "example": should be a domain with at least one dot' \
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"' \
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields' \
        'spec.names.listKind: Invalid value: "Foo": kind and listKind may not be the same' \
        'must have exactly one version marked as storage version'; do
        check "invalid CRD: $want" grep -qF -- "$want" <<<"$out"
done
check "invalid CRD: The CustomResourceDefinition \"foos.example.com\" is invalid" \
        grep -qF 'The CustomResourceDefinition "foos.example.com" is invalid' <<<"$out"
check "invalid CRD: nothing stored" bash -c "! $K0 get crd foos.example.com >/dev/null 2>&1"

# strict field validation of the CRD itself (unknown fields at any depth, also in the schema)
crd_yaml typo.example.com widgets Widget wdg | sed 's/^    served: true/    served: true\n    servd: true/; s/                type: integer/                tpye: integer/' >"$W/typo.yaml"
out=$($K0 apply -f "$W/typo.yaml" 2>&1)
check "CRD unknown fields under Strict: 400 strict decoding error" \
        grep -qF 'CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: strict decoding error: unknown field "spec.versions[0].servd"' <<<"$out"
check "... also inside openAPIV3Schema" grep -qF \
        'unknown field "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.replicas.tpye"' <<<"$out"
out=$($K0 explain crd.spec.names 2>&1)
check "explain crd.spec.names (the CRD kind's OpenAPI schema)" \
        bash -c "grep -q 'KIND: *CustomResourceDefinition' <<<'$out' && grep -qP '^  plural\t<string> -required-' <<<'$out'"

# the naming controller: a short name another CRD of the group was accepted with
crd_yaml names.example.com alphas Alpha nx >"$W/alpha.yaml"
crd_yaml names.example.com betas Beta nx >"$W/beta.yaml"
check "first CRD with short name nx" $K0 apply -f "$W/alpha.yaml"
check "first CRD established" $K0 wait --for condition=established --timeout=20s crd/alphas.names.example.com
check "second CRD with the same short name created" $K0 apply -f "$W/beta.yaml"
same "second CRD: NamesAccepted False ShortNamesConflict" \
        "NamesAccepted=False ShortNamesConflict \"nx\" is already in use|Established=False NotAccepted not all names are accepted" \
        "$($K0 get crd betas.names.example.com -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason} {.message}{"\n"}{end}' 2>&1 | paste -sd'|')"
same "second CRD not served" "Error from server (NotFound): the server could not find the requested resource" \
        "$($K0 get --raw /apis/names.example.com/v1/betas 2>&1)"
check "first CRD still established" $K0 wait --for condition=established --timeout=5s crd/alphas.names.example.com

# a namespace's deletion deletes its custom resources too
check "namespace for custom resources" $K0 create namespace crd-ns
check "a custom resource in it" $K0 create -n crd-ns -f - <<'YAML'
apiVersion: names.example.com/v1
kind: Alpha
metadata: {name: a1}
spec: {image: x}
YAML
check "namespace deleted" $K0 delete namespace crd-ns
check "namespace gone" wait_for 10 bash -c "! $K0 get namespace crd-ns"
check "namespace recreated" $K0 create namespace crd-ns
same "its custom resources were deleted with it" "" \
        "$($K0 get alphas.names.example.com -n crd-ns -o jsonpath='{.items[*].metadata.name}' 2>&1)"

# two versions (conversion None): stored in the storage version, served in each
cat >"$W/mv.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.mv.example.com
spec:
  group: mv.example.com
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
YAML
check "two-version CRD applied" $K0 apply -f "$W/mv.yaml"
check "two-version CRD established" $K0 wait --for condition=established --timeout=20s crd/gadgets.mv.example.com
check "create through v1beta1" $K0 create -f - <<'YAML'
apiVersion: mv.example.com/v1beta1
kind: Gadget
metadata: {name: g1}
spec: {anything: {goes: [1, 2]}}
YAML
for v in v1 v1beta1; do
        same "get through $v: apiVersion $v" "mv.example.com/$v" \
                "$($K0 get --raw /apis/mv.example.com/$v/gadgets/g1 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["apiVersion"])')"
        same "list through $v: apiVersion $v" "mv.example.com/$v" \
                "$($K0 get --raw /apis/mv.example.com/$v/gadgets 2>/dev/null | $PY -c 'import json,sys; print(" ".join(i["apiVersion"] for i in json.load(sys.stdin)["items"]))')"
done
same "a deprecated version warns (the default deprecation warning)" \
        "Warning: mv.example.com/v1beta1 Gadget is deprecated; use mv.example.com/v1 Gadget" \
        "$($K0 get --raw /apis/mv.example.com/v1beta1/gadgets 2>&1 >/dev/null)"
same "preserve-unknown-fields kept the whole spec" '{"anything": {"goes": [1, 2]}}' \
        "$($K0 get --raw /apis/mv.example.com/v1/gadgets/g1 2>&1 | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["spec"]))')"

# a restart: CRDs and custom resources are served again at once
stop_server
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
check "restarted server answers" wait_for 15 $K0 get --raw /readyz
same "after restart: the custom resource is served" "g1" \
        "$($K0 get gadgets.mv.example.com -o jsonpath='{.items[*].metadata.name}' 2>&1)"
check "after restart: a watch of the custom resource lists it" \
        bash -c "timeout 3 $K0 get --raw '/apis/mv.example.com/v1beta1/gadgets?watch=1' 2>/dev/null | grep -q '\"apiVersion\":\"mv.example.com/v1beta1\"'"
same "CRD DELETE answers the object with the cleanup finalizer and Terminating (then it goes)" \
        "True ['customresourcecleanup.apiextensions.k8s.io'] Terminating=True InstanceDeletionPending" \
        "$($K0 delete --raw /apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.mv.example.com 2>&1 | $PY -c 'import json,sys; o=json.load(sys.stdin); c=[x for x in o["status"]["conditions"] if x["type"]=="Terminating"][0]; print(bool(o["metadata"].get("deletionTimestamp")), o["metadata"]["finalizers"], "Terminating=" + c["status"], c["reason"])')"
check "... and is gone with its custom resources" \
        bash -c "! $K0 get crd gadgets.mv.example.com >/dev/null 2>&1"
check "server still running" kill -0 "$SERVER_PID"
