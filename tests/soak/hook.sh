#!/bin/sh
# hook.sh - the soak's --on-change hook: does what the file hook.mode beside
# it says (ok: succeed; fail: exit 1; hang: sleep far past --hook-timeout)
# and logs each run to hook.log beside it.
dir=$(dirname "$0")
mode=$(cat "$dir/hook.mode" 2>/dev/null) || mode=ok
echo "$(date +%s.%N) start $$ $mode $NATPMP_EVENT $NATPMP_PROTOCOL $NATPMP_INTERNAL_PORT $NATPMP_EXTERNAL_ADDRESS:$NATPMP_EXTERNAL_PORT" >>"$dir/hook.log"
case $mode in
fail) status=1 ;;
hang)
	sleep 30
	status=0
	;;
*) status=0 ;;
esac
echo "$(date +%s.%N) end $$ $status" >>"$dir/hook.log"
exit "$status"
