/* iommusim gen FAMILY [options]: write a synthetic workload trace (traces/gen/gen.h). */
#ifndef IMS_CMD_GEN_H
#define IMS_CMD_GEN_H

#include <stdio.h>

/* argv[0] is "gen". Returns the process exit status (0, or 2 on bad input). */
int ims_cmd_gen(int argc, char **argv);
void ims_cmd_gen_help(FILE *out);

#endif
