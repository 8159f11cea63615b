/* cli.h — the verbs of the timonel binary. Each verb lives in its own file (cli/<verb>.c) and
 * returns a process exit status. Errors are one line on stderr and a non-zero status. */
#pragma once

int cli_main(int argc, char **argv);

int cli_server_main(int argc, char **argv);    /* cli/server.c */
int cli_agent_main(int argc, char **argv);     /* cli/agent.c */
int cli_image_main(int argc, char **argv);     /* cli/image.c */
int cli_killall_main(int argc, char **argv);   /* cli/killall.c */
int cli_fakenodes_main(int argc, char **argv); /* cli/fakenodes.c */

/* A TCP port 1..65535 in decimal; -EINVAL otherwise. */
int cli_parse_port(const char *s, int *ret);
