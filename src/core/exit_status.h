/* exit_status.h - natpmp's exit statuses: the sysexits.h values, named for
 * what they mean here. The man page's EXIT STATUS section lists them. */
#ifndef NATPMP_EXIT_STATUS_H
#define NATPMP_EXIT_STATUS_H

enum exit_status {
	EXIT_OK = 0,
	EXIT_USAGE = 64,      /* EX_USAGE: bad command line */
	EXIT_NO_GATEWAY = 68, /* EX_NOHOST: no gateway could be determined */
	EXIT_UNSUPPORTED =
		69,	  /* EX_UNAVAILABLE: gateway does not speak NAT-PMP */
	EXIT_SYSTEM = 71, /* EX_OSERR: local system error */
	EXIT_CANNOT_CREATE =
		73,	     /* EX_CANTCREAT: --port-file cannot be written */
	EXIT_OUTPUT = 74,    /* EX_IOERR: the results could not be written */
	EXIT_TRY_LATER = 75, /* EX_TEMPFAIL: no reply in time, result 3 or 4 */
	EXIT_PROTOCOL = 76,  /* EX_PROTOCOL: result code outside 0-5 */
	EXIT_REFUSED = 77,   /* EX_NOPERM: result 2, not authorized */
	EXIT_INTERRUPTED = 130, /* 128 + SIGINT, as shells report it */
};

#endif
