#!/usr/bin/env bash
# tests/security/leak_test.sh — ctest `security_leaks` (issue 8, security
# pass; ARCHITECTURE.md invariant 7): credentials never appear in what a
# run produces.
#
# Every command that talks to a registry (ls, inspect, mirror, backup,
# restore, deployed --check, prune plan/--execute, restore --run, catalog
# list/show/history/verify --deep) runs at -vvv (HTTP trace on) against the
# harness's `basic` (htpasswd) and `token` (rv-tokend) registries, with
# credentials given each way (the way only changes how they are found):
#   authfile  --authfile FILE (auths with base64 "auth"): every command
#   helper    credHelpers → docker-credential-rvsec on PATH (a password for
#             basic; an identity token for token, so the OAuth2 refresh grant
#             runs), which records its own argv, environment and stdin:
#             mirror, deployed --check, prune --execute, restore --run, verify
#   docker    $DOCKER_CONFIG/config.json ("username"/"password"): ls, inspect,
#             mirror
#   envjson   $DOCKER_AUTH_CONFIG: ls and inspect
# and on error paths: a wrong password on each registry, a token endpoint
# that fails (rv-echoreg tokenfail: 400, broken JSON, no token — each body
# quoting the Basic credentials it got) and registries that quote the
# Authorization header back in 400/401/403/404 bodies (rv-echoreg basic and
# bearer). A fake kubectl on PATH (deployed, prune) records its argv and
# environment too, and every child copies the catalog files (db, -wal,
# -shm, lock) while regvault holds them open.
#
# Then it greps, for each secret (both passwords, base64 "user:password" of
# each, the wrong passwords, rv-tokend's JWT header segment — the same for
# every token it signs with the harness key —, the identity/refresh token,
# rv-echoreg's password and bearer token): every stdout and stderr, the
# catalogs (sqlite3 .dump, raw db, -wal, -shm, lock; snapshots taken during
# runs), archive stores (volumes, lock), tarballs, plans, metrics files,
# every child's argv, environment and stdin; plus pattern checks on the text
# (a "Bearer"/"Basic" value that is not <redacted>, anything JWT-shaped).
# Environment: RV_HARNESS_ENV, REGVAULT, RV_ECHOREG; RV_SECURITY_KEEP=1 keeps
# the work directory.
set -euo pipefail

[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
[[ -x ${RV_ECHOREG:-} ]] || { echo "RV_ECHOREG not set" >&2; exit 1; }
[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "RV_HARNESS_ENV not readable" >&2; exit 1; }
while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"

W=$(mktemp -d "${TMPDIR:-/tmp}/rv-security.XXXXXX")
echo_pids=()
cleanup() {
	for p in "${echo_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${echo_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ ${RV_SECURITY_KEEP:-0} == 1 ]]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$W"/{bin,secret,out,run,children,snap,home/.config,home/run,home/.local/share}
chmod 700 "$W/secret"
b64() { printf '%s' "$1" | base64 -w0; }

# --- Secrets --------------------------------------------------------------------
# Everything under $W/secret holds secrets on purpose (it is regvault's
# input) and is the one place not grepped.
BASIC=$RV_REG_BASIC TOKEN=$RV_REG_TOKEN PLAIN=$RV_REG_PLAIN
WRONG_BASIC=wrong-$RANDOM$RANDOM-basic
WRONG_TOKEN=wrong-$RANDOM$RANDOM-token
ECHO_USER=echo-user ECHO_PASS=echo-pass-$RANDOM$RANDOM$RANDOM
ECHO_TOKEN=rvecho.$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$ECHO_TOKEN" >"$W/secret/echo-token"

# A token of our own, to learn the JWT header every rv-tokend token carries,
# and a refresh token to hand regvault as an identity token.
scope="repository:fx/image:pull"
jwt=$(curl -sf -u "$RV_TOKEN_USER:$RV_TOKEN_PASS" \
	"$RV_TOKEN_REALM?service=$RV_REG_TOKEN_SERVICE&scope=$scope&client_id=rv-security" |
	jq -r .token)
jwt_header=${jwt%%.*}
[[ ${#jwt_header} -gt 40 && $jwt_header == eyJ* ]] || fail "no JWT from rv-tokend: '$jwt'"
refresh=$(curl -sf -d grant_type=password -d "username=$RV_TOKEN_USER" \
	-d "password=$RV_TOKEN_PASS" -d "service=$RV_REG_TOKEN_SERVICE" -d client_id=rv-security \
	-d access_type=offline -d "scope=$scope" "$RV_TOKEN_REALM" | jq -r .refresh_token)
[[ ${#refresh} -ge 16 ]] || fail "no refresh token from rv-tokend"

secrets=$W/secret/patterns
{
	printf '%s\n' "$RV_REG_BASIC_PASS" "$(b64 "$RV_REG_BASIC_USER:$RV_REG_BASIC_PASS")"
	printf '%s\n' "$RV_TOKEN_PASS" "$(b64 "$RV_TOKEN_USER:$RV_TOKEN_PASS")"
	printf '%s\n' "$WRONG_BASIC" "$(b64 "$RV_REG_BASIC_USER:$WRONG_BASIC")"
	printf '%s\n' "$WRONG_TOKEN" "$(b64 "$RV_TOKEN_USER:$WRONG_TOKEN")"
	printf '%s\n' "$jwt_header" "$refresh"
	printf '%s\n' "$ECHO_PASS" "$(b64 "$ECHO_USER:$ECHO_PASS")" "$ECHO_TOKEN"
} >"$secrets"

# --- rv-echoreg: registries that quote credentials back -------------------------
start_echo() { # MODE → sets echo_addr
	local pf=$W/run/echo-$1.port
	"$RV_ECHOREG" --mode "$1" --port-file "$pf" --token-file "$W/secret/echo-token" \
		--ttl 1800 2>"$W/run/echo-$1.err" &
	echo_pids+=($!)
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	[[ -s $pf ]] || fail "rv-echoreg --mode $1 did not start: $(cat "$W/run/echo-$1.err")"
	echo_addr=127.0.0.1:$(cat "$pf")
}
start_echo basic; ECHO_B=$echo_addr
start_echo bearer; ECHO_T=$echo_addr
start_echo tokenfail; ECHO_F=$echo_addr

# --- Credentials, four ways -------------------------------------------------------
auth_entry() { printf '"%s": {"auth": "%s"}' "$1" "$(b64 "$2:$3")"; }
echo_entries() {
	local h
	for h in "$ECHO_B" "$ECHO_T" "$ECHO_F"; do
		printf ', '; auth_entry "$h" "$ECHO_USER" "$ECHO_PASS"
	done
}
{
	printf '{"auths": {'
	auth_entry "$BASIC" "$RV_REG_BASIC_USER" "$RV_REG_BASIC_PASS"; printf ', '
	auth_entry "$TOKEN" "$RV_TOKEN_USER" "$RV_TOKEN_PASS"
	echo_entries
	printf '}}\n'
} >"$W/secret/auth.json"
{
	printf '{"auths": {'
	auth_entry "$BASIC" "$RV_REG_BASIC_USER" "$WRONG_BASIC"; printf ', '
	auth_entry "$TOKEN" "$RV_TOKEN_USER" "$WRONG_TOKEN"
	printf '}}\n'
} >"$W/secret/wrong.json"
mkdir -p "$W/secret/docker" "$W/secret/helper" "$W/secret/store"
jq -n --arg b "$BASIC" --arg t "$TOKEN" --arg bu "$RV_REG_BASIC_USER" \
	--arg bp "$RV_REG_BASIC_PASS" --arg tu "$RV_TOKEN_USER" --arg tp "$RV_TOKEN_PASS" \
	'{auths: {($b): {username: $bu, password: $bp}, ($t): {username: $tu, password: $tp}}}' \
	>"$W/secret/docker/config.json"
jq -n --arg b "$BASIC" --arg t "$TOKEN" --arg e1 "$ECHO_B" --arg e2 "$ECHO_T" --arg e3 "$ECHO_F" \
	'{credHelpers: {($b): "rvsec", ($t): "rvsec", ($e1): "rvsec", ($e2): "rvsec", ($e3): "rvsec"}}' \
	>"$W/secret/helper/config.json"
helper_answer() { jq -n --arg s "$1" --arg u "$2" --arg p "$3" '{ServerURL: $s, Username: $u, Secret: $p}'; }
helper_answer "$BASIC" "$RV_REG_BASIC_USER" "$RV_REG_BASIC_PASS" >"$W/secret/store/$BASIC"
helper_answer "$TOKEN" "<token>" "$refresh" >"$W/secret/store/$TOKEN"
for h in "$ECHO_B" "$ECHO_T" "$ECHO_F"; do
	helper_answer "$h" "$ECHO_USER" "$ECHO_PASS" >"$W/secret/store/$h"
done
envjson=$(cat "$W/secret/auth.json")

# --- Children: they record what they were given, and snapshot the catalog ---------
# RVSEC_CATALOG names the catalog of the running command (a path, no secret).
cat >"$W/bin/snapshot" <<EOF
#!/usr/bin/env bash
# snapshot NAME: this child's argv, environment and the catalog files now.
d=$W/children/\$1.\$\$; shift
printf '%s\0' "\$@" >"\$d.argv"
cat /proc/\$\$/environ >"\$d.env"
if [[ -n \${RVSEC_CATALOG:-} ]]; then
	for f in "\$RVSEC_CATALOG" "\$RVSEC_CATALOG"-wal "\$RVSEC_CATALOG"-shm "\$RVSEC_CATALOG".lock; do
		[[ -e \$f ]] && cp "\$f" "$W/snap/\$(basename "\$f").\$\$" || true
	done
fi
EOF
cat >"$W/bin/docker-credential-rvsec" <<EOF
#!/usr/bin/env bash
# Docker credential helper protocol: "get", server URL on stdin.
"$W/bin/snapshot" helper "\$0" "\$@"
[[ \${1:-} == get ]] || exit 1
server=\$(cat)
printf '%s' "\$server" >"$W/children/helper.\$\$.stdin"
f="$W/secret/store/\$server"
[[ -f \$f ]] || { echo "credentials not found in native keychain"; exit 1; }
cat "\$f"
EOF
# kubectl [--context CTX] get … -o json: the images of context CTX (a file).
cat >"$W/bin/kubectl" <<EOF
#!/usr/bin/env bash
"$W/bin/snapshot" kubectl "\$0" "\$@"
ctx=default
[[ \${1:-} == --context ]] && ctx=\$2
cat "$W/run/cluster-\$ctx.json"
EOF
chmod 755 "$W/bin/snapshot" "$W/bin/docker-credential-rvsec" "$W/bin/kubectl"

cluster() { # CTX IMAGE...: a List of one pod running the images
	local ctx=$1
	shift
	jq -n --args '{apiVersion: "v1", kind: "List", items: [{apiVersion: "v1", kind: "Pod",
		metadata: {name: "app", namespace: "sec"},
		spec: {containers: [$ARGS.positional | to_entries[] | {name: "c\(.key)", image: .value}]},
		status: {}}]}' "$@" >"$W/run/cluster-$ctx.json"
}

# --- Running regvault ----------------------------------------------------------------
# A clean environment: no credentials but the ones a mode gives.
base_env=(PATH="$W/bin:/usr/local/bin:/usr/bin:/bin" HOME="$W/home" LANG=C
	XDG_RUNTIME_DIR="$W/home/run" XDG_CONFIG_HOME="$W/home/.config"
	XDG_DATA_HOME="$W/home/.local/share")
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[[ -n ${!v:-} ]] && base_env+=("$v=${!v}")
done
mode_env=() mode_args=() runs=0

# rv NAME WANT_RC ARGS...: one regvault run, output in $W/out/NAME.{out,err}.
rv() {
	local name=$1 want=$2 rc=0 start
	shift 2
	start=$(date +%s%N)
	env -i "${base_env[@]}" "${mode_env[@]}" RVSEC_CATALOG="$cat" \
		"$REGVAULT" -vvv --catalog "$cat" "${mode_args[@]}" "$@" \
		>"$W/out/$name.out" 2>"$W/out/$name.err" || rc=$?
	runs=$((runs + 1))
	echo "$rc $((($(date +%s%N) - start) / 1000000))" >"$W/out/$name.rc"
	if [[ $want != any && $rc != "$want" ]]; then
		tail -n 20 "$W/out/$name.err" >&2
		fail "$name: regvault $* exited $rc, want $want"
	fi
}

policy() { # FILE REGISTRY PREFIX STORE CTX
	cat >"$1" <<EOF
version: 1
registry: $2
repositories: ["$3/*"]
safekeeping:
  archive: $4
deployed:
  - kubectl: {context: $5}
rollback: 0
protect_base_images: false
keep:
  - tags: ["nothing-matches-*"]
untagged: keep
max_delete: 100%
EOF
}

# workflow MODE LEVEL: the commands against both registries. The modes
# differ only in where the credentials come from, so only `full` runs every
# command; `helper` runs the ones that read, write and delete with them
# (and spawn kubectl beside the helper); `read` lists, inspects and pushes.
workflow() {
	local m=$1 level=$2 p=t/security-$$/$1 run
	local store=$W/run/store-$m
	cat=$W/run/cat-$m/catalog.db
	if [[ $level == read ]]; then
		rv "$m-ls-token" 0 ls -l "$TOKEN/fx/image"
		rv "$m-inspect-basic" 0 -o json inspect "$BASIC/fx/image:v1"
		rv "$m-mirror-token" 0 mirror "$PLAIN/fx/image:v1" --to "$TOKEN/$p"
		return 0
	fi
	rv "$m-mirror-basic" 0 mirror "$PLAIN/fx/image:v1" "$PLAIN/fx/child:v1" "$PLAIN/fx/docker:v1" \
		--to "$BASIC/$p" --metrics-file "$W/run/metrics-$m-basic.prom"
	rv "$m-mirror-token" 0 mirror "$PLAIN/fx/image:v1" "$PLAIN/fx/child:v1" "$PLAIN/fx/docker:v1" \
		--to "$TOKEN/$p" --metrics-file "$W/run/metrics-$m-token.prom"
	cluster "$m" "$BASIC/$p/fx/image:v1" "$TOKEN/$p/fx/image:v1"
	rv "$m-deployed" 0 deployed --deployed "kubectl:$m" --check
	local regs=(token)
	[[ $level == full ]] && regs=(basic token)
	for r in "${regs[@]}"; do
		local reg=$BASIC
		[[ $r == token ]] && reg=$TOKEN
		policy "$W/run/policy-$m-$r.yaml" "$reg" "$p" "$store" "$m"
		[[ $level == full ]] && rv "$m-plan-$r" 0 prune --policy "$W/run/policy-$m-$r.yaml" \
			--plan-out "$W/run/plan-$m-$r.json"
		rv "$m-execute-$r" 0 -o json prune --policy "$W/run/policy-$m-$r.yaml" --execute
		run=$(jq -r .run.id "$W/out/$m-execute-$r.out")
		[[ $(jq '.run.deleted' "$W/out/$m-execute-$r.out") == 2 ]] ||
			fail "$m-execute-$r: want 2 deletions: $(cat "$W/out/$m-execute-$r.out")"
		rv "$m-undo-$r" 0 restore --run "$run"
	done
	rv "$m-catalog-verify" 0 -o json catalog verify --deep
	[[ $level == full ]] || return 0
	rv "$m-ls-basic" 0 ls "$BASIC/$p/fx/image"
	rv "$m-ls-token" 0 ls -l -o json "$TOKEN/$p/fx/child"
	rv "$m-inspect-basic" 0 inspect "$BASIC/$p/fx/child:v1"
	rv "$m-inspect-token" 0 inspect -o json "$TOKEN/$p/fx/image:v1"
	rv "$m-backup" 0 backup "$BASIC/$p/fx/image:v1" "$TOKEN/$p/fx/child:v1" --to "$W/run/backup-$m"
	rv "$m-backup-tar" 0 backup "$TOKEN/$p/fx/docker:v1" --to "$W/run/$m.tar"
	rv "$m-restore" 0 restore "$BASIC/$p/fx/image:v1" --to "$TOKEN/$p/restored"
	rv "$m-catalog-list" 0 catalog list
	rv "$m-catalog-show" 0 catalog show "$TOKEN/$p/fx/child:v1"
	rv "$m-catalog-history" 0 catalog history "$BASIC/$p/fx/image:v1"
}

t0=$(date +%s%N)
mode_env=() mode_args=(--authfile "$W/secret/auth.json")
workflow authfile full
mode_env=(DOCKER_CONFIG="$W/secret/docker") mode_args=()
workflow docker read
mode_env=(DOCKER_CONFIG="$W/secret/helper") mode_args=()
workflow helper helper
mode_env=(DOCKER_AUTH_CONFIG="$envjson") mode_args=()
cat=$W/run/cat-envjson/catalog.db
rv envjson-ls 0 ls "$TOKEN/fx/image"
rv envjson-inspect 0 inspect "$BASIC/fx/image:v1"

# --- Error paths ----------------------------------------------------------------------
errors() { # MODE [full]: a failing token endpoint, registries that echo
	local m=$1 full=${2:-}
	cat=$W/run/cat-err-$m/catalog.db
	rv "$m-echo-inspect" 2 inspect "$ECHO_B/r:v1"
	rv "$m-echo-bearer-ls" 2 ls "$ECHO_T/r"
	rv "$m-tokenfail-400" 2 ls "$ECHO_F/bad400/r"
	[[ -n $full ]] || return 0
	rv "$m-echo-ls" 2 ls "$ECHO_B/r"
	rv "$m-echo-inspect-json" 2 -o json inspect "$ECHO_T/r:v1"
	rv "$m-echo-catalog" 1 ls "$ECHO_B"
	rv "$m-echo-bearer-catalog" 1 -o json ls "$ECHO_T"
	rv "$m-echo-mirror" 1 mirror "$ECHO_B/r:v1" "$ECHO_T/r:v1" --to "$PLAIN/t/security-$$/echo" \
		--metrics-file "$W/run/metrics-echo-$m.prom"
	rv "$m-echo-mirror-to" 1 -o json mirror "$PLAIN/fx/image:v1" --to "$ECHO_T/dst"
	rv "$m-echo-backup" 1 backup "$ECHO_B/r:v1" "$ECHO_T/r:v1" --to "$W/run/store-echo-$m"
	cluster "echo-$m" "$ECHO_B/r:v1" "$ECHO_T/r:v1"
	rv "$m-echo-deployed" 1 deployed --deployed "kubectl:echo-$m" --check
	rv "$m-tokenfail-json" 2 inspect "$ECHO_F/badjson/r:v1"
	rv "$m-tokenfail-none" 2 -o json ls "$ECHO_F/none/r"
}
mode_env=() mode_args=(--authfile "$W/secret/auth.json")
errors authfile full
mode_env=(DOCKER_CONFIG="$W/secret/helper") mode_args=()
errors helper
mode_env=() mode_args=(--authfile "$W/secret/wrong.json")
cat=$W/run/cat-wrong/catalog.db
rv wrong-basic-ls 2 ls "$BASIC/fx/image"
rv wrong-basic-inspect 2 -o json inspect "$BASIC/fx/image:v1"
rv wrong-basic-mirror any mirror "$PLAIN/fx/image:v1" --to "$BASIC/t/security-$$/wrong"
rv wrong-token-ls 2 ls "$TOKEN/fx/image"
rv wrong-token-backup any backup "$TOKEN/fx/image:v1" --to "$W/run/store-wrong"
cluster wrong "$BASIC/fx/image:v1" "$TOKEN/fx/image:v1"
rv wrong-deployed any deployed --deployed kubectl:wrong --check
t1=$(date +%s%N)

# A sanitizer report in any run (the ASan build) is a failure too.
! grep -lE 'runtime error:|AddressSanitizer|LeakSanitizer' "$W"/out/*.err "$W"/run/echo-*.err ||
	fail "sanitizer reports in the files above"

# The error paths must have reached the code that quotes a body: the
# registry's own words are in the message, minus the secret.
grep -q 'MANIFEST_INVALID' "$W/out/authfile-echo-inspect.err" ||
	fail "inspect on rv-echoreg did not quote the registry: $(cat "$W/out/authfile-echo-inspect.err")"
grep -q 'credentials rejected' "$W/out/wrong-basic-ls.err" ||
	fail "a wrong password was not reported as such: $(tail -n 3 "$W/out/wrong-basic-ls.err")"

# --- What the runs left behind ----------------------------------------------------------
mkdir -p "$W/dump"
n_db=0
for db in "$W"/run/cat-*/catalog.db; do
	[[ -e $db ]] || continue
	name=$(basename "$(dirname "$db")")
	sqlite3 "$db" .dump >"$W/dump/$name.sql"
	n_db=$((n_db + 1))
done
((n_db >= 5)) || fail "only $n_db catalogs were written"
n_wal=$(find "$W/snap" -name 'catalog.db-wal.*' | wc -l)
((n_wal > 0)) || fail "no child saw the catalog's WAL: nothing of it was checked"

n_helper=$(find "$W/children" -name 'helper.*.argv' | wc -l)
n_kubectl=$(find "$W/children" -name 'kubectl.*.argv' | wc -l)
((n_helper >= 8)) || fail "the credential helper ran $n_helper times"
((n_kubectl >= 6)) || fail "kubectl ran $n_kubectl times"
# The helper got exactly "get" and a server on stdin; kubectl no more than
# the context and the fixed arguments.
for f in "$W"/children/helper.*.argv; do
	[[ $(tr '\0' ' ' <"$f") == *"docker-credential-rvsec get " ]] ||
		fail "helper argv: $(tr '\0' ' ' <"$f")"
done

# Every file the runs produced: outputs, catalogs and their snapshots, stores,
# tarballs, plans, metrics, children's argv/env/stdin, dumps.
places=$(find "$W" -path "$W/secret" -prune -o -path "$W/bin" -prune -o -type f -print | wc -l)
hits=$(grep -rlaF -f "$secrets" "$W" --exclude-dir=secret --exclude-dir=bin || true)
if [[ -n $hits ]]; then
	# Said without the secrets: a CI log is one more place they must not go.
	mapfile -t pats <"$secrets"
	for f in $hits; do
		echo "--- $f:" >&2
		grep -anF -f "$secrets" "$f" | head -n 3 | while IFS= read -r line; do
			for p in "${pats[@]}"; do line=${line//"$p"/<SECRET>}; done
			printf '%s\n' "${line:0:300}" >&2
		done
	done
	fail "a secret leaked into $(echo "$hits" | wc -l) file(s)"
fi
# Pattern checks on the text: a credential we did not know of (a token of
# rv-echoreg's, a new refresh token) still looks like one.
text_files=("$W"/out/* "$W"/dump/* "$W"/run/*.json "$W"/run/*.prom)
bad=$(grep -aE 'eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|(Bearer|Basic) [^ <]' "${text_files[@]}" |
	grep -avE '(Bearer|Basic) (realm=|with user )' || true)
[[ -z $bad ]] || fail "credential-shaped text in: $(echo "$bad" | cut -d: -f1 | sort -u | head -n 5)"
for f in "$W"/children/*.env "$W"/children/*.argv; do
	if tr '\0' '\n' <"$f" | grep -aqE 'eyJ[A-Za-z0-9_-]{10,}\.|DOCKER_AUTH_CONFIG|(Bearer|Basic) '; then
		fail "child $(basename "$f") was given a credential (see that file)"
	fi
done
# The redaction is visible where it happened: the trace shows the header.
grep -q 'Authorization: Basic <redacted>' "$W/out/authfile-ls-basic.err" ||
	fail "no redacted Basic Authorization in the -vvv trace"
grep -q 'Authorization: Bearer <redacted>' "$W/out/helper-mirror-token.err" ||
	fail "no redacted Bearer Authorization in the -vvv trace"

t2=$(date +%s%N)
echo "security_leaks: $runs regvault runs in $(((t1 - t0) / 1000000)) ms, checks in $(((t2 - t1) / 1000000)) ms;" \
	"$(wc -l <"$secrets") secrets grepped in $places files ($n_db catalogs," \
	"$n_wal WAL snapshots); children checked: $n_helper credential helper, $n_kubectl kubectl"
