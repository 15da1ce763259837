#!/usr/bin/env bash
# tests/docs/package_test.sh — `cmake --install` and the CPack .deb carry
# what a user needs, and the packaged files work (issue 9).
#
#   RV_BUILD_DIR=<build tree> RV_SOURCE_DIR=<source tree> package_test.sh
#
# Checks: the .deb holds exactly the expected files; Depends names the
# shared libraries regvault links (from dpkg-shlibdeps) and nothing of the
# build's test tools; the packaged binary runs and reports the project's
# version; the packaged man page renders without a groff warning; the
# packaged bash completion completes a command; `cmake --install` installs
# the same files.
set -euo pipefail

: "${RV_BUILD_DIR:?}" "${RV_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
problem() { echo "package_test: $*"; fail=1; }

expected="./usr/bin/regvault
./usr/share/bash-completion/completions/regvault
./usr/share/doc/regvault/README.md
./usr/share/doc/regvault/scheduling.md
./usr/share/man/man1/regvault.1
./usr/share/zsh/vendor-completions/_regvault"

(cd "$RV_BUILD_DIR" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) ||
	{ cat "$tmp/cpack.log"; echo "package_test: cpack failed"; exit 1; }
debs=("$tmp"/pkg/*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || { echo "package_test: expected one .deb, got: ${debs[*]}"; exit 1; }
deb=${debs[0]}
echo "package_test: $(basename "$deb"), $(stat -c %s "$deb") bytes"

files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $NF}' | sort)
[[ $files == "$expected" ]] ||
	problem "files differ from the expected list: $(diff <(echo "$expected") <(echo "$files") | grep -E '^[<>]' | tr '\n' ' ')"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ && $2 != "root/root" {print}' | grep -q . && problem "a file not owned by root"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 libssl3 libarchive13 libsqlite3-0 libjansson4 libyaml-0-2; do
	[[ $depends =~ (^|, )$lib( |,|$) ]] || problem "Depends lacks $lib: $depends"
done
for lib in libcmocka libasan libubsan; do
	[[ $depends != *"$lib"* ]] || problem "Depends names the build's $lib: $depends"
done
[[ $(dpkg-deb -f "$deb" Package) == regvault ]] || problem "Package is not regvault"

dpkg-deb -x "$deb" "$tmp/root"
version=$(sed -nE 's/^project\(regvault VERSION ([0-9.]+).*/\1/p' "$RV_SOURCE_DIR/CMakeLists.txt")
out=$("$tmp/root/usr/bin/regvault" --version 2>&1) || problem "packaged regvault --version failed: $out"
[[ $out == *"$version"* ]] || problem "packaged regvault --version says \"$out\", not $version"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || problem "package version is not $version"

# -k: preconv reads the page as UTF-8, as man(1) does.
warnings=$(groff -k -man -Tutf8 -ww -z "$tmp/root/usr/share/man/man1/regvault.1" 2>&1)
[[ -z $warnings ]] || problem "groff warns on the man page: $(head -n 3 <<<"$warnings" | tr '\n' ' ')"
lines=$(MANWIDTH=80 man -l "$tmp/root/usr/share/man/man1/regvault.1" 2>/dev/null | wc -l)
((lines > 200)) || problem "man -l renders only $lines lines"

got=$(bash -c 'source "$1"; COMP_WORDS=(regvault mi); COMP_CWORD=1; _regvault; echo "${COMPREPLY[*]}"' _ \
	"$tmp/root/usr/share/bash-completion/completions/regvault")
[[ $got == mirror ]] || problem "packaged bash completion: \"regvault mi<Tab>\" gave \"$got\""

cmake --install "$RV_BUILD_DIR" --prefix "$tmp/inst/usr" >/dev/null
installed=$(cd "$tmp/inst" && find . -type f | sort)
[[ $installed == "$expected" ]] ||
	problem "cmake --install differs: $(diff <(echo "$expected") <(echo "$installed") | grep -E '^[<>]' | tr '\n' ' ')"

[[ $fail -eq 0 ]] && echo "package_test: ok ($(wc -l <<<"$files") files; Depends: $depends)"
exit $fail
