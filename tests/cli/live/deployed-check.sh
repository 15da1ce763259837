#!/usr/bin/env bash
# The 23:30 recipe. A cluster (kubectl's JSON: a Pod running app:v1, a
# sidecar pinned by digest, the imageID in its status) and a refs file:
# `deployed` lists each distinct reference with its digest and where it
# runs; --check passes. The image is deleted from the primary: --check
# exits 1 naming each missing reference; --restore brings it back from the
# archive store and --check passes again.
h="$RV_REG_PLAIN/t/cli/$$/app"
d=$RV_FX_IMAGE_DIGEST
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
cat >cluster.json <<JSON
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
   "spec": {"containers": [{"name": "app", "image": "$h:v1"},
                           {"name": "side", "image": "$h@$d"}]},
   "status": {"containerStatuses": [{"name": "app", "image": "$h:v1",
                                     "imageID": "docker-pullable://$h@$d"}]}}]}
JSON
printf '# what runs outside the cluster\n%s\n' "$h:v1" >refs.txt
src=(--deployed kubernetes-json:./cluster.json --deployed refs-file:./refs.txt)
regvault deployed "${src[@]}"
echo "exit $?"
regvault deployed "${src[@]}" --check
echo "exit $?"
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$d" || exit 1
regvault deployed "${src[@]}" --check --catalog ./cat.db
echo "exit $?"
regvault deployed "${src[@]}" --restore --catalog ./cat.db
echo "exit $?"
regvault deployed "${src[@]}" --check
echo "exit $?"
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h:v1" | sha256sum | cut -d" " -f1)"
