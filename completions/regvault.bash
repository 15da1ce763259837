# bash completion for regvault(1).
#
# Installed as share/bash-completion/completions/regvault; bash-completion
# loads it on first use. Without bash-completion: `source` this file.
#
# The option lists below are kept in step with `regvault help COMMAND` by
# tests/docs/in_step.sh, which fails when an option is missing here.
# References (HOST/REPO:TAG) are not completed: that would mean asking a
# registry on every <Tab>.

_regvault_commands="ls inspect mirror backup catalog restore deployed prune help"
_regvault_global="--output --authfile --ca-cert --insecure-registry --jobs --max-rps --catalog --quiet --verbose --help --version"

_regvault_options() {
	case $1 in
	ls) echo "--long" ;;
	inspect) echo "--platform --raw" ;;
	mirror) echo "--to --tags --exclude-tags --platform --no-referrers --max-rps --metrics-file" ;;
	backup) echo "--to --platform --no-referrers --metrics-file" ;;
	catalog) echo "--deep --from --drill --to --seed --policy --price-per-gb-month" ;;
	restore) echo "--to --at --from-store --dry-run --from --run" ;;
	deployed) echo "--deployed --check --restore --rollback" ;;
	prune) echo "--policy --execute --plan-out --apply --report --kubectl --metrics-file" ;;
	esac
}

# Options whose value is the next word.
_regvault_takes_value() {
	case $1 in
	-o | --output | --authfile | --ca-cert | --insecure-registry | --jobs | --max-rps | --catalog | \
	--platform | --to | --tags | --exclude-tags | --metrics-file | --from | --at | --from-store | \
	--run | --deployed | --rollback | --policy | --plan-out | --apply | --kubectl | --report | \
	--drill | --seed | --price-per-gb-month) return 0 ;;
	esac
	return 1
}

_regvault() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" sub="" i w

	# The command is the first word that is neither an option nor an
	# option's value; catalog's subcommand is the word after it.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			[[ $w != *=* ]] && _regvault_takes_value "$w" && ((i++))
			continue
		fi
		if [[ -z $cmd ]]; then
			cmd=$w
		elif [[ $cmd == catalog && -z $sub ]]; then
			sub=$w
		fi
	done

	case $prev in
	-o | --output) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
	--from-store) mapfile -t COMPREPLY < <(compgen -W "archive registry" -- "$cur"); return ;;
	--deployed)
		mapfile -t COMPREPLY < <(compgen -W "kubectl kubectl: kubernetes-json: refs-file: none" -- "$cur")
		return
		;;
	--kubectl) mapfile -t COMPREPLY < <(compgen -c -- "$cur"); return ;;
	--authfile | --ca-cert | --catalog | --metrics-file | --policy | --plan-out | --apply | --from | --report)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--to)
		# backup writes to a directory or FILE.tar; the others (and
		# catalog verify --drill) name a registry.
		[[ $cmd == backup ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--jobs | --max-rps | --insecure-registry | --platform | --tags | --exclude-tags | --at | --run | --rollback | \
	--drill | --seed | --price-per-gb-month)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_regvault_global $(_regvault_options "$cmd")" -- "$cur")
		return
	fi
	if [[ -z $cmd ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_regvault_commands" -- "$cur")
	elif [[ $cmd == help && $prev == help ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_regvault_commands% help}" -- "$cur")
	elif [[ $cmd == catalog && -z $sub ]]; then
		mapfile -t COMPREPLY < <(compgen -W "list show history verify rebuild usage" -- "$cur")
	fi
}
complete -F _regvault regvault
