#!/usr/bin/env bash
# layers.sh - checks that every #include in src/ points down the floors
# src/README describes, never up and never sideways into a sibling of the
# same floor, and that nothing below the commands sees the command line's
# struct invocation. Prints each violation; exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/../../src"

# the floor of a folder: a file may include its own folder's headers and
# those of lower floors
floor() {
	case $1 in
	core) echo 0 ;;
	wire) echo 1 ;;
	proto | os | state | out) echo 2 ;;
	engine) echo 3 ;;
	renew | doctor) echo 4 ;;
	cli) echo 5 ;;
	cmd) echo 6 ;;
	.) echo 7 ;; # main.c
	*) echo "layers.sh: src/$1 is on no floor: add it to floor()" >&2 && exit 2 ;;
	esac
}

status=0
while IFS= read -r file; do
	folder=$(dirname "$file")
	mine=$(floor "$folder")
	while IFS=: read -r line target; do
		to=$(dirname "$target")
		if [ "$to" = . ]; then
			echo "src/$file:$line: includes \"$target\" without its folder"
			status=1
			continue
		fi
		theirs=$(floor "$to")
		if [ "$to" != "$folder" ] && [ "$theirs" -ge "$mine" ]; then
			echo "src/$file:$line: $folder (floor $mine) includes $target (floor $theirs)"
			status=1
		fi
	done < <(grep -n '^#include "' "$file" |
		sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
	if [ "$mine" -lt 5 ] && grep -n 'struct invocation' "$file" >/dev/null; then
		echo "src/$file: below the commands, yet names struct invocation (use struct options)"
		status=1
	fi
done < <(find . -name '*.[ch]' | sed 's#^\./##' | sort)
exit "$status"
