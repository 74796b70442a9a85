/* result.c - what each kind of failure means to a script: its exit status
 * and its stable JSON error code. */
#include "core/result.h"

#include "core/exit_status.h"

int failure_exit_status(enum failure failure)
{
	switch (failure) {
	case FAILURE_NONE: return EXIT_OK;
	case FAILURE_TIMEOUT:
	case FAILURE_NETWORK:
	case FAILURE_OUT_OF_RESOURCES:
	case FAILURE_QUOTA:
	case FAILURE_PORT_UNAVAILABLE: return EXIT_TRY_LATER;
	case FAILURE_PORT_UNREACHABLE:
	case FAILURE_UNSUPPORTED:
	case FAILURE_UNSUPPORTED_OPTION:
	case FAILURE_ADDRESS_MISMATCH:
	case FAILURE_TOO_MANY_PEERS: return EXIT_UNSUPPORTED;
	case FAILURE_NOT_AUTHORIZED: return EXIT_REFUSED;
	case FAILURE_BAD_RESULT:
	case FAILURE_MALFORMED: return EXIT_PROTOCOL;
	case FAILURE_NO_GATEWAY: return EXIT_NO_GATEWAY;
	case FAILURE_INTERRUPTED: return EXIT_INTERRUPTED;
	case FAILURE_SYSTEM: break;
	}
	return EXIT_SYSTEM;
}

const char *failure_code(enum failure failure)
{
	switch (failure) {
	case FAILURE_NONE: return "none";
	case FAILURE_TIMEOUT: return "timeout";
	case FAILURE_PORT_UNREACHABLE: return "port-unreachable";
	case FAILURE_UNSUPPORTED: return "unsupported";
	case FAILURE_NOT_AUTHORIZED: return "not-authorized";
	case FAILURE_NETWORK: return "network-failure";
	case FAILURE_OUT_OF_RESOURCES: return "out-of-resources";
	case FAILURE_BAD_RESULT: return "bad-reply";
	case FAILURE_NO_GATEWAY: return "no-gateway";
	case FAILURE_SYSTEM: return "system-error";
	case FAILURE_UNSUPPORTED_OPTION: return "unsupported-option";
	case FAILURE_MALFORMED: return "malformed-request";
	case FAILURE_QUOTA: return "quota-exceeded";
	case FAILURE_PORT_UNAVAILABLE: return "cannot-provide-external";
	case FAILURE_ADDRESS_MISMATCH: return "address-mismatch";
	case FAILURE_TOO_MANY_PEERS: return "excessive-remote-peers";
	case FAILURE_INTERRUPTED: return "interrupted";
	}
	return "system-error";
}

bool failure_is_silence(enum failure failure)
{
	return failure == FAILURE_TIMEOUT ||
	       failure == FAILURE_PORT_UNREACHABLE;
}
