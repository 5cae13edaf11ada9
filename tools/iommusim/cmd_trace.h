/* iommusim trace: encode | decode | cat | stat | validate (traces/trace_stat.h). */
#ifndef IMS_CMD_TRACE_H
#define IMS_CMD_TRACE_H

#include <stdio.h>

/* argv[0] is "trace". Returns the process exit status (0, or 2 on bad input). */
int ims_cmd_trace(int argc, char **argv);
void ims_cmd_trace_help(FILE *out);

#endif
