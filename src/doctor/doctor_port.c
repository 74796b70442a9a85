/* doctor_port.c - the test mappings' internal port when --port is not
 * given: a dynamic port that no mapping natpmp made holds, and that no
 * common program takes by default. Pure: the random numbers and what is
 * held come from the caller. */
#include "doctor/doctor.h"

/* Transmission's default peer port, in the dynamic range; BitTorrent's
 * traditional 6881-6889 lie below DOCTOR_PORT_FIRST, never drawn */
#define TRANSMISSION_PORT 51413
/* draws before walking on from the last one: more than enough while the
 * state holds at most STATE_ENTRIES_MAX mappings of 16384 ports */
#define DRAWS_MAX 64
#define PORT_SPAN (65536u - DOCTOR_PORT_FIRST)

static bool avoided(uint16_t port, doctor_port_held *held, void *context)
{
	return port == TRANSMISSION_PORT || held(context, port);
}

uint16_t doctor_random_port(doctor_port_draw *draw, doctor_port_held *held,
			    void *context)
{
	unsigned offset = 0, step;
	int draws;

	for (draws = 0; draws < DRAWS_MAX; draws++) {
		offset = draw(context) % PORT_SPAN;
		if (!avoided((uint16_t)(DOCTOR_PORT_FIRST + offset), held,
			     context))
			return (uint16_t)(DOCTOR_PORT_FIRST + offset);
	}
	for (step = 1; step < PORT_SPAN; step++) {
		uint16_t port = (uint16_t)(DOCTOR_PORT_FIRST +
					   (offset + step) % PORT_SPAN);
		if (!avoided(port, held, context))
			return port;
	}
	return (uint16_t)(DOCTOR_PORT_FIRST + offset); /* all held: cannot be */
}
