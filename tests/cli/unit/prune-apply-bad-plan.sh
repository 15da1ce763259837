#!/usr/bin/env bash
# --apply reads a saved plan strictly, before anything is contacted (the
# registry, 127.0.0.1:9, would refuse the connection) or the catalog is
# created. A plan that is not valid JSON, misses a key, names an invalid
# digest, tag or repository, has an unknown decision, says it is not
# refused while it deletes more than its maxDelete, is for another
# registry, or is missing: exit 2, one line naming the file and the JSON
# path. A plan that is refused, or deletes more than the policy's
# max_delete allows now: the plan is shown (-v: every reason), exit 3.
policy='version: 1
registry: 127.0.0.1:9
repositories: ["team/*"]
safekeeping: {archive: ./vault}
deployed: none
keep: [{tags: [latest]}]'
printf '%s\nmax_delete: 100%%\n' "$policy" >p.yaml
printf '%s\nmax_delete: 1\n' "$policy" >strict.yaml
d() { printf 'sha256:%s' "$(printf "$1%.0s" {1..64})"; }
cat >plan.json <<EOF_PLAN
{"registry": "127.0.0.1:9", "plannedAt": "2026-03-01T12:00:00Z", "policy": "p.yaml",
 "images": [
  {"repository": "team/api", "digest": "$(d 1)", "tags": ["latest", "v2"],
   "mediaType": "application/vnd.oci.image.manifest.v1+json",
   "created": "2026-02-28T12:00:00Z", "size": 2500000, "decision": "keep",
   "protected": true, "topLevel": true,
   "reasons": ["deployed: pod api/api-7d8f9c container app", "rule 1: tags latest"]},
  {"repository": "team/api", "digest": "$(d 2)", "tags": ["v1"],
   "mediaType": "application/vnd.oci.image.manifest.v1+json",
   "created": "2026-03-01T07:00:00Z", "size": 1500, "decision": "delete",
   "protected": false, "topLevel": true, "reasons": ["no keep rule matches"]},
  {"repository": "team/web", "digest": "$(d 3)", "tags": [],
   "mediaType": "application/vnd.oci.image.index.v1+json",
   "created": null, "size": 999, "decision": "delete",
   "protected": false, "topLevel": true, "reasons": ["untagged (untagged: delete)"]}],
 "summary": {"inScope": 3, "protected": 1, "kept": 0, "delete": 2, "maxDelete": 2,
             "reclaimable": 2000, "refused": false, "refusal": null}}
EOF_PLAN
edit() { jq "$1" plan.json >edited.json; }
apply() {
	regvault --catalog ./cat.db prune --policy ${2:-p.yaml} --apply "$1" 2>&1
	echo "exit $?"
}
echo '{"registry": ' >broken.json
apply ./broken.json
apply ./nope.json
for e in '.images[1].digest = "sha256:1234"' \
	'.images[0].tags = ["v2", "latest"]' \
	'.images[0].tags += ["not a tag"]' \
	'.images[2].repository = "Team/Web"' \
	'.images[1].decision = "remove"' \
	'del(.images[1].topLevel)' \
	'.images[1].protected = true' \
	'.summary.maxDelete = 1' \
	'.summary.delete = 1' \
	'.registry = "reg.example.com"' \
	'.version = 2'; do
	edit "$e"
	apply ./edited.json
done
# Refused: the plan says so, or the policy's max_delete is lower now.
edit '.summary.maxDelete = 1 | .summary.refused = true | .summary.refusal = "deletes 2, max 1"'
apply ./edited.json
regvault --catalog ./cat.db -v prune --policy strict.yaml --apply ./plan.json 2>&1   # every reason
echo "exit $?"
regvault --catalog ./cat.db -o json prune --policy p.yaml --apply ./broken.json 2>/dev/null |
	jq -c .error
ls cat.db* vault 2>&1 | sed 's/^ls: //'
