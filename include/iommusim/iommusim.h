/* iommusim public C API.
 *
 * The simulator is a library (libiommusim) plus the `iommusim` command-line
 * tool. This header is the stable entry point for programs that embed it
 * (sweep drivers, the SystemC/TLM-2.0 adapter). Internal model headers live
 * next to their sources and are not installed. */
#ifndef IOMMUSIM_IOMMUSIM_H
#define IOMMUSIM_IOMMUSIM_H

#ifdef __cplusplus
extern "C" {
#endif

#define IOMMUSIM_EXIT_OK 0          /* ran to the end, every expectation held */
#define IOMMUSIM_EXIT_FAILED 1      /* an expectation failed or the checker found a violation */
#define IOMMUSIM_EXIT_BAD_INPUT 2   /* bad trace, config or arguments */

/* Library version, "MAJOR.MINOR.PATCH". */
const char *iommusim_version(void);

#ifdef __cplusplus
}
#endif
#endif
