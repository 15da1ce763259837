# tests/prune/lib.sh — shared by the live prune tests (sourced).
#
# scn_setup NAME: generates the rv-mkscenario scenario under t/scn/NAME-$$ of
# the harness's plain registry (standby: the same prefix on the standby),
# pushes it, checks it arrived, and primes $work/catalog.db the way a
# scheduled backup would have: distribution cannot list untagged manifests,
# so regvault only knows an untagged image it has seen — the scenario's
# deletable untagged image is backed up by digest once, beforehand.
# Sets: work scn prefix reg catalog; REGVAULT_CATALOG is exported.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT.

lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib_root=$(cd "$lib_here/../.." && pwd)

scn_setup() {
	[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
	[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "RV_HARNESS_ENV not readable" >&2; exit 1; }
	while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
	work=$(mktemp -d "${TMPDIR:-/tmp}/rv-$1.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	prefix=t/scn/$1-$$
	scn=$work/scn
	reg=$RV_REG_PLAIN
	catalog=$work/catalog.db
	export REGVAULT_CATALOG=$catalog
	"${RV_MKSCENARIO:-rv-mkscenario}" --out "$scn" --now "$(date +%s)" --registry "$reg" \
		--prefix "$prefix" --standby "$RV_REG_STANDBY/$prefix" >/dev/null
	bash "$lib_root/tests/harness/scenario.sh" "$scn" "$reg" >/dev/null
	# (check_registry.sh reads every byte back: ~15 s; SCN_QUICK=1 skips it
	# for tests that check the registry their own way.)
	[[ ${SCN_QUICK:-0} == 1 ]] || bash "$lib_here/check_registry.sh" "$scn" "$reg" pushed >/dev/null
	local untagged
	untagged=$(awk -F'\t' '$5 == "untagged" { print $1 "@" $2 }' "$scn/expected.tsv")
	for ref in $untagged; do
		"$REGVAULT" -q backup "$reg/$ref" --to "$work/earlier-backup" >/dev/null
	done
}

# The digests (REPO@DIGEST) the scenario expects deleted.
scn_deleted() {
	awk -F'\t' '$4 == "delete" { print $1 "@" $2 }' "$scn/expected.tsv"
}

# Fails the test with a message.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Runs regvault; "want RC cmd..." fails unless it exits RC. Output in
# $work/out, $work/err.
want() {
	local rc=0 w=$1
	shift
	"$REGVAULT" "$@" >"$work/out" 2>"$work/err" || rc=$?
	if ((rc != w)); then
		cat "$work/err" >&2
		fail "regvault $* exited $rc, want $w"
	fi
}

# heads: "REPO@DIGEST DECISION CLASS HTTP-CODE" for every manifest of the
# scenario, from one curl process (one connection): a quick look at the
# registry (check_registry.sh reads every byte back, ~15 s).
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
accept+=', application/vnd.docker.distribution.manifest.v2+json'
accept+=', application/vnd.docker.distribution.manifest.list.v2+json'

heads() {
	local args=() repo digest tags decision class
	while IFS=$'\t' read -r repo digest tags decision class; do
		args+=(-o /dev/null "http://$reg/v2/$repo/manifests/$digest")
	done <"$scn/expected.tsv"
	paste <(awk -F'\t' '{ print $1 "@" $2 " " $4 " " $5 }' "$scn/expected.tsv") \
		<(curl -s -I -H "Accept: $accept" -w '%{http_code}\n' "${args[@]}") | tr '\t' ' '
}

# state_is pushed|pruned: every manifest present, or exactly the expected gone.
state_is() {
	local ref decision class code bad=0
	while read -r ref decision class code; do
		if [[ $1 == pushed || $decision == keep ]]; then
			[[ $code == 200 ]] || { echo "$ref ($decision, $class): HTTP $code, want 200" >&2; bad=1; }
		else
			[[ $code == 404 ]] || { echo "$ref ($decision, $class): HTTP $code, want 404" >&2; bad=1; }
		fi
	done < <(heads)
	return $bad
}

