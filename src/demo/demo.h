/* SPDX-License-Identifier: MIT */
/*
 * `iceshop demo`: a simulated Istanbul driven against a running server through its public
 * interfaces only (the REST API with an admin key, signed WhatsApp webhooks), ending with what
 * the flash windows achieved next to the same city without them. Tests:
 * tests/integration/0007-demo.c.
 */
#ifndef ICESHOP_DEMO_DEMO_H
#define ICESHOP_DEMO_DEMO_H

/*
 * Run the demo with the arguments after "demo" (argv[0] is the first option):
 * [--url URL] [--key KEY] [--seed N] [--sellers N] [--buyers N] [--speed X] [--duration S]
 * [--no-config] [--plan N] [--quiet]. Returns the process exit status (0, 1 on failure,
 * 2 on bad usage). Installs its own SIGINT/SIGTERM handlers: Ctrl-C ends the run with the
 * summary.
 */
int demo_run(int argc, char **argv);

#endif
