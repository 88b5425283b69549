/* main.c — entry point; everything else lives in sdmark_lib so tests can link it. */
#include "cli.h"

int main(int argc, char **argv) { return sd_cli_main(argc, argv); }
