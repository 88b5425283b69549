/* cli.h — the `sdmark` command line: a table of subcommands (src/cli/cli.c).
 * To add a command: write src/cli/cmd_<name>.c defining `int sd_cmd_<name>(int argc, char **argv)`,
 * declare it here and add one line to the table in cli.c. argv[0] is the command name. */
#ifndef SDMARK_CLI_H
#define SDMARK_CLI_H

/* Where `cmake --install` puts docs/ (CMakeLists.txt), for the "Docs:" line of every --help. */
#define SD_DOCS_INSTALLED ".\nInstalled, the docs are in <prefix>/share/doc/sdmark/."

int sd_cli_main(int argc, char **argv);

int sd_cmd_devices(int argc, char **argv);
int sd_cmd_run(int argc, char **argv);
int sd_cmd_tune(int argc, char **argv);
int sd_cmd_estimate(int argc, char **argv);
int sd_cmd_memory(int argc, char **argv);
int sd_cmd_claims(int argc, char **argv);
int sd_cmd_compare(int argc, char **argv);
int sd_cmd_report(int argc, char **argv);

/* Exit codes shared by all commands. */
enum { SD_EXIT_OK = 0, SD_EXIT_FAIL = 1, SD_EXIT_USAGE = 2, SD_EXIT_INTERRUPTED = 130 };

#endif
