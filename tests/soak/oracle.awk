# oracle.awk - the soak's judge. Reads one lane's records, merged in time
# order, and compares ten times a second (a tick every 0.1 s) what
# renew-loop has said with what it could know and with what the gateway
# really holds. Records (first field the wall-clock time in seconds):
#   T E EVENT GATEWAY PROTO INT-ADDR INT-PORT EXT-ADDR EXT-PORT LIFETIME
#       one of renew-loop's JSON events ("-" for a field it lacks)
#   T P in|out IFACE SRC SPORT DST DPORT LEN KIND KEY=VALUE...
#       a datagram seen on the client's wire (udp_watch)
#   T S GATEWAY COUNT PROTO/INT-ADDR/INT-PORT/EXT-PORT...
#       what the gateway holds (sample.bash)
#   T F begin|end | start ID KIND TOLD DETAIL | return ID | settled ID |
#       hook KIND: the soak's window, its faults (TOLD 1: the gateway or
#       the host's own network tells the loop; 0: only its next renewal
#       can) and the hook's mode from now on
#   T N addr IFACE ADDR | N gw GATEWAY IFACE
#       the client's address on an interface, its default gateway
#   T X GATEWAY ADDR     the gateway's real external address
#   T L on|off in|out|both|in5350   client-side loss, as nft drops it
# Variables: mode (final or live), keys ("tcp:8080 udp:5353"), lifetime,
# timeout (renew-loop's -t), gw_a, if_a, gw_b, if_b; in live mode, now.
#
# A lie is a tick at which renew-loop's last word on a mapping says it is
# active (mapped, renewed or changed, not since lost or unmapped) although it
# could know otherwise, more than GRACE (1 s) after it could:
#   expired   the lifetime of its last mapped/renewed/changed event ran out
#   restart   a genuine datagram from its gateway showed a restart (an epoch
#             below the RFC 6886 section 3.6 expectation: less than the last
#             one, or 2 s behind 7/8 of the client's elapsed time), and no
#             event for the mapping followed it (a renewal that follows is
#             a grant of the restarted gateway, so it ends the lie too)
#   address   the external address claimed differs from the one the gateway
#             last told in a genuine datagram
#   port      the external port claimed differs from the one the gateway
#             last granted this mapping in a genuine datagram
#   internal  the claimed internal address is no longer the host's address
#   gateway   the default route has moved to another gateway
# Genuine: received on the gateway's own link, from its address and port
# 5351, outside any window of injected inbound loss. A tick counts once per
# mapping, under the first rule above that holds.
#
# Healthy (a mapping is back): renew-loop claims it active, through the
# current gateway, from the host's current address, at the gateway's real
# external address, not expired, and the gateway holds it with the claimed
# external port in its latest sample or the one before (miniupnpd deletes
# and adds a rule again at each renewal: one sample may fall in between). Each tick after the first fault belongs to
# the window of the latest fault started. A fault that returned at R is back
# at the first tick after R from which every mapping stays healthy to the end
# of its window; it must be back by R + 2 * (timeout + G) (two retransmission
# schedules: one request's patience plus G, the back-off renew-loop may be
# waiting in, 2^(N-1) s for N failed attempts since its last success, at
# least 1, at most 64), plus 5/8 of the lifetime when the gateway told
# nothing (the loop can only find out at its next renewal); else the recovery
# is missed. An outage is a tick before the first fault at which a mapping is
# not healthy.
#
# An unfounded event is a gateway-reset or address-changed that no genuine
# datagram backs (see check_founded): renew-loop believed a forgery.

BEGIN {
	GRACE = 1
	nkeys = split(keys, key_list, " ")
	tick = -1
	loss_in = 0
	loss_ann = 0
	last_fault = 0
	gw_if[gw_a] = if_a
	gw_if[gw_b] = if_b
}

function key_of(proto, port) {
	return proto ":" port
}

# key=value words of a P record from field 11 on, into f[]
function parse_words(   i, eq) {
	split("", f)
	for (i = 11; i <= NF; i++) {
		eq = index($i, "=")
		if (eq > 0)
			f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
}

function genuine() {
	if ($3 != "in" || $6 != 5351 || !($5 in gw_if) || gw_if[$5] != $4)
		return 0
	if (loss_in > 0 || (loss_ann > 0 && $8 == 5350))
		return 0
	return $7 == "224.0.0.1" || $7 == if_addr[$4]
}

function learn_epoch(gw, epoch, t,   elapsed) {
	if (gw in known_epoch) {
		elapsed = t - known_epoch_t[gw]
		if (epoch + 1 < known_epoch[gw] ||
		    epoch + 2 < known_epoch[gw] + elapsed * 7 / 8)
			known_restart[gw] = t
	}
	# what renew-loop documents as a restart, to judge its gateway-reset
	if (epoch == 0 || ((gw in known_epoch) && epoch < known_epoch[gw]) ||
	    ((gw in known_restart) && known_restart[gw] == t))
		any_restart[gw] = t
	known_epoch[gw] = epoch
	known_epoch_t[gw] = t
}

function learn_address(gw, address, t) {
	if (known_addr[gw] != address) {
		known_addr[gw] = address
		known_addr_t[gw] = t
	}
}

function learn_port(gw, k, internal, port, t,   id) {
	id = gw SUBSEP k SUBSEP internal
	if (known_port[id] != port) {
		known_port[id] = port
		known_port_t[id] = t
	}
}

function on_datagram(t,   gw, k) {
	if ($10 != "natpmp" && $10 != "pcp")
		return
	if (!genuine())
		return
	gw = $5
	parse_words()
	if ("epoch" in f)
		learn_epoch(gw, f["epoch"] + 0, t)
	if (f["result"] != 0)
		return
	if ($10 == "natpmp" && f["op"] == 128 && "addr" in f)
		learn_address(gw, f["addr"], t)
	if (("int" in f) && f["life"] > 0) {
		k = key_of(f["proto"], f["int"])
		learn_port(gw, k, $7, f["ext"], t)
		if ($10 == "pcp")
			learn_address(gw, f["addr"], t)
	}
}

function on_event(t,   k) {
	if ($3 == "gateway-reset" || $3 == "address-changed") {
		check_founded(t)
		return
	}
	if ($3 == "error") {
		if ($5 == "-")
			gateway_errors++
		else
			errors[key_of($5, $7)]++
		return
	}
	if ($5 == "-")
		return
	k = key_of($5, $7)
	if ($3 == "mapped" || $3 == "renewed" || $3 == "changed") {
		active[k] = 1
		claim_gw[k] = $4
		claim_int[k] = $6
		claim_ext[k] = $8
		claim_port[k] = $9
		claim_exp[k] = t + $10
		claim_t[k] = t
		reported[k] = t
		errors[k] = 0
		gateway_errors = 0
	} else if ($3 == "lost" || $3 == "unmapped") {
		active[k] = 0
		reported[k] = t
	}
}

function on_network(t) {
	if ($3 == "addr") {
		if_addr[$4] = $5
		if ($4 == cur_if && cur_addr != $5) {
			cur_addr = $5
			cur_addr_t = t
		}
	} else if ($3 == "gw") {
		if (cur_gw != $4) {
			cur_gw = $4
			cur_gw_t = t
		}
		cur_if = $5
		if (cur_addr != if_addr[cur_if]) {
			cur_addr = if_addr[cur_if]
			cur_addr_t = t
		}
	}
}

function on_loss(t,   delta) {
	delta = $3 == "on" ? 1 : -1
	loss_change_t = t
	if ($4 == "in" || $4 == "both")
		loss_in += delta
	else if ($4 == "in5350")
		loss_ann += delta
}

function backoff(   k, n, g) {
	n = gateway_errors
	for (k in errors)
		if (errors[k] > n)
			n = errors[k]
	g = 1
	while (n > 1 && g < 64) {
		g *= 2
		n--
	}
	return g
}

function on_fault(t,   id) {
	if ($3 == "begin") {
		begin = t
		tick = 0
	} else if ($3 == "end") {
		finish = t
	} else if ($3 == "hook") {
		kinds[$4]++
	} else if ($3 == "start") {
		id = $4
		nfaults++
		fault_ids[nfaults] = id
		fault_kind[id] = $5
		fault_told[id] = $6
		fault_start[id] = t
		fault_detail[id] = $7
		last_fault = id
		kinds[$5]++
	} else if ($3 == "return") {
		id = $4
		fault_return[id] = t
		fault_deadline[id] = t + 2 * (timeout + backoff())
		if (!fault_told[id])
			fault_deadline[id] += 0.625 * lifetime
	}
}

function healthy_key(k, at,   entry) {
	if (!active[k] || claim_gw[k] != cur_gw || claim_int[k] != cur_addr)
		return 0
	if (claim_ext[k] != external[cur_gw] || at > claim_exp[k])
		return 0
	split(k, parts, ":")
	entry = " " parts[1] "/" claim_int[k] "/" parts[2] "/" claim_port[k] " "
	return index(" " held[cur_gw] " ", entry) > 0 ||
	    index(" " held_before[cur_gw] " ", entry) > 0
}

function lie_rule(k, at,   gw, id) {
	if (!active[k])
		return ""
	gw = claim_gw[k]
	if (at > claim_exp[k] + GRACE)
		return "expired"
	if ((gw in known_restart) && known_restart[gw] > reported[k] &&
	    at > known_restart[gw] + GRACE)
		return "restart"
	if (known_addr[gw] != "" && claim_ext[k] != known_addr[gw] &&
	    at > known_addr_t[gw] + GRACE)
		return "address"
	id = gw SUBSEP k SUBSEP claim_int[k]
	if ((id in known_port) && known_port[id] != claim_port[k] &&
	    at > known_port_t[id] + GRACE)
		return "port"
	if (claim_int[k] != cur_addr && at > cur_addr_t + GRACE)
		return "internal"
	if (gw != cur_gw && at > cur_gw_t + GRACE)
		return "gateway"
	return ""
}

function claim_text(k) {
	return sprintf("claim=%s:%s->%s via %s, expires %+.1fs", claim_ext[k],
		claim_port[k], claim_int[k], claim_gw[k], claim_exp[k] - begin)
}

function knowledge_text(k,   gw) {
	gw = claim_gw[k]
	return sprintf("known: address %s, port %s, restart %s; now: gateway %s, host %s, external %s",
		known_addr[gw] == "" ? "none" : sprintf("%s (%+.1fs)", known_addr[gw], known_addr_t[gw] - begin),
		known_port[gw SUBSEP k SUBSEP claim_int[k]],
		(gw in known_restart) ? sprintf("%+.1fs", known_restart[gw] - begin) : "none",
		cur_gw, cur_addr, external[cur_gw])
}

function evaluate(at,   i, k, rule, all_healthy, id) {
	all_healthy = 1
	for (i = 1; i <= nkeys; i++) {
		k = key_list[i]
		rule = lie_rule(k, at)
		if (rule != "") {
			lie_ticks[k]++
			rule_ticks[rule]++
			if (episode_rule[k] != rule) {
				close_episode(k, at)
				episode_rule[k] = rule
				episode_start[k] = at
				episode_text[k] = claim_text(k) "; " knowledge_text(k)
			}
		} else if (episode_rule[k] != "") {
			close_episode(k, at)
		}
		if (!healthy_key(k, at))
			all_healthy = 0
	}
	# each tick belongs to the window of the latest fault started
	if (last_fault) {
		if (outage_start != "")
			close_outage(at)
		id = last_fault
		last_tick[id] = at
		last_healthy[id] = all_healthy
		if (!all_healthy && (id in fault_return) && at >= fault_return[id])
			last_bad[id] = at
	} else if (!all_healthy) {
		outage_ticks++
		if (outage_start == "")
			outage_start = at
	} else if (outage_start != "") {
		close_outage(at)
	}
	return all_healthy
}

function close_outage(at,   fid) {
	fid = last_fault_at(outage_start)
	episodes[++nepisodes] = sprintf("outage from %+.1fs to %+.1fs (%.1f s), last fault %s %s",
		outage_start - begin, at - begin, at - outage_start, fid,
		fid ? fault_kind[fid] : "-")
	outage_start = ""
}

function close_episode(k, at,   fid) {
	if (episode_rule[k] == "")
		return
	fid = last_fault_at(episode_start[k])
	episodes[++nepisodes] = sprintf("lie %s %s from %+.1fs to %+.1fs (%.1f s) after fault %s %s: %s",
		k, episode_rule[k], episode_start[k] - begin, at - begin,
		at - episode_start[k], fid, fid ? fault_kind[fid] : "-",
		episode_text[k])
	episode_rule[k] = ""
}

function last_fault_at(at,   i, best) {
	best = 0
	for (i = 1; i <= nfaults; i++)
		if (fault_start[fault_ids[i]] <= at)
			best = fault_ids[i]
	return best
}

function advance(t) {
	if (tick < 0)
		return
	while (begin + tick / 10 <= t && (finish == "" || begin + tick / 10 <= finish)) {
		evaluate(begin + tick / 10)
		tick++
	}
}

{
	t = $1 + 0
	if (mode == "final")
		advance(t)
	if ($2 == "E")
		on_event(t)
	else if ($2 == "P")
		on_datagram(t)
	else if ($2 == "S") {
		held_before[$3] = held[$3]
		held[$3] = ""
		for (i = 5; i <= NF; i++)
			held[$3] = held[$3] " " $i
	} else if ($2 == "F")
		on_fault(t)
	else if ($2 == "N")
		on_network(t)
	else if ($2 == "X")
		external[$3] = $4
	else if ($2 == "L")
		on_loss(t)
}

# live: "HEALTHY FRESH DEADLINE" now; FRESH when every mapping has been
# granted again (mapped, renewed or changed) since the last fault returned
function live_report(   i, k, healthy, fresh, deadline) {
	healthy = 1
	fresh = 1
	for (i = 1; i <= nkeys; i++) {
		k = key_list[i]
		if (!healthy_key(k, now))
			healthy = 0
		if ((last_fault in fault_return) && !(claim_t[k] > fault_return[last_fault]))
			fresh = 0
	}
	deadline = (last_fault in fault_deadline) ? fault_deadline[last_fault] : now
	printf "%d %d %.3f\n", healthy, fresh, deadline
}

function final_report(   i, k, id, total, line, rule, recovered, longest, longest_id) {
	advance(finish)
	for (i = 1; i <= nkeys; i++)
		close_episode(key_list[i], finish)
	if (outage_start != "")
		close_outage(finish)
	total = 0
	for (i = 1; i <= nkeys; i++)
		total += lie_ticks[key_list[i]]
	printf "lie_seconds %.1f\n", total / 10
	for (rule in rule_ticks)
		printf "lie_rule %s %.1f\n", rule, rule_ticks[rule] / 10
	printf "faults %d\n", nfaults
	for (k in kinds)
		printf "kind %s %d\n", k, kinds[k]
	recovered = 0
	longest = 0
	longest_id = "-"
	for (i = 1; i <= nfaults; i++) {
		id = fault_ids[i]
		line = sprintf("fault %s %s at %+.1fs %s", id, fault_kind[id],
			fault_start[id] - begin, fault_detail[id])
		judge(id)
		if (id in recovery) {
			recovered++
			if (recovery[id] >= longest) {
				longest = recovery[id]
				longest_id = id " " fault_kind[id]
			}
			line = line sprintf(": back %.1f s after its return at %+.1fs (deadline %.1f s)",
				recovery[id], fault_return[id] - begin,
				fault_deadline[id] - fault_return[id])
		} else if (id in missed) {
			line = line sprintf(": MISSED, not back within %.1f s of its return at %+.1fs%s",
				fault_deadline[id] - fault_return[id],
				fault_return[id] - begin, missed[id])
			nmissed++
		} else {
			nunjudged++
			line = line ": not judged (" unjudged[id] ")"
		}
		print line
	}
	printf "recovered %d\n", recovered
	printf "missed %d\n", nmissed + 0
	printf "unjudged %d\n", nunjudged + 0
	printf "longest %.1f %s\n", longest, longest_id
	printf "outage_seconds %.1f\n", outage_ticks / 10
	printf "unfounded_events %d\n", unfounded + 0
	printf "window %.1f\n", finish - begin
	for (i = 1; i <= nepisodes; i++)
		print episodes[i]
}

END {
	if (mode == "live")
		live_report()
	else
		final_report()
}

# A fault's window runs from its start to the next fault's start (or the
# end). It is back at the first tick after its return from which every
# mapping stays healthy to the end of its window; missed when that is later
# than its deadline, or when the window ends unhealthy past the deadline.
function judge(id,   back) {
	if (!(id in fault_return)) {
		unjudged[id] = "it never returned"
		return
	}
	if (!(id in last_tick)) {
		unjudged[id] = "no tick in its window"
		return
	}
	if (!last_healthy[id]) {
		if (last_tick[id] > fault_deadline[id])
			missed[id] = sprintf(" (still down %.1f s after it)", last_tick[id] - fault_return[id])
		else
			unjudged[id] = "the next fault came first"
		return
	}
	back = (id in last_bad) ? last_bad[id] + 0.1 : fault_return[id]
	if (back > fault_deadline[id] + 0.05)
		missed[id] = sprintf(" (back after %.1f s)", back - fault_return[id])
	else
		recovery[id] = back - fault_return[id]
}

# An unfounded event: a gateway-reset with no genuine datagram showing a
# restart (by the RFC rule or renew-loop's own: epoch 0 or lower than the
# last) in the second before, or an address-changed to an address the
# gateway never told; not judged within a second of injected inbound loss,
# whose datagrams may or may not have arrived.
function check_founded(t,   gw) {
	gw = $4
	if (loss_in > 0 || loss_ann > 0 || (loss_change_t != "" && t - loss_change_t < 1))
		return
	if ($3 == "gateway-reset" && (gw in any_restart) && t - any_restart[gw] <= 1)
		return
	if ($3 == "address-changed" && $8 == known_addr[gw])
		return
	unfounded++
	episodes[++nepisodes] = sprintf("unfounded %s %s%s at %+.1fs after fault %s %s",
		$3, gw, $3 == "address-changed" ? " " $8 : "", t - begin, last_fault,
		last_fault ? fault_kind[last_fault] : "-")
}
