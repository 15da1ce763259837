#!/usr/bin/env bash
# --tags keeps the tags matching any of its globs, --exclude-tags then
# drops some: of fx/manytags' 5,000 tags exactly three are mirrored.
dst=$RV_REG_STANDBY/t/cli/mirror-tags-$$
regvault -o json mirror "$RV_REG_PLAIN/$RV_FX_MANYTAGS_REPO" --tags "t0000[0-3]" --tags t04999 \
	--exclude-tags "*2" --exclude-tags t00003 --to "$dst" --catalog ./cat.db |
	jq -r ".images[] | .ref + \" \" + .status"
echo "exit ${PIPESTATUS[0]}"
regvault ls "$dst/$RV_FX_MANYTAGS_REPO"
