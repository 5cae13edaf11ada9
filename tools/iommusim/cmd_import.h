/* iommusim import: qemu-vtd | ftrace captures -> traces (traces/import/import.h). */
#ifndef IMS_CMD_IMPORT_H
#define IMS_CMD_IMPORT_H

#include <stdio.h>

/* argv[0] is "import". Returns the process exit status (0, or 2 on bad input). */
int ims_cmd_import(int argc, char **argv);
void ims_cmd_import_help(FILE *out);

#endif
