/* Fuzz target: the INI configuration loader over the full schema. Any input must
 * give 0 or a negative errno with a message, never a crash or a sanitizer report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run/schema.h"

/* Checked in every build type (assert vanishes under NDEBUG). */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ims_error err = {0};
    ims_config *cfg = ims_schema_config_create(&err);
    FUZZ_CHECK(cfg);
    int r = ims_config_load_string(cfg, text, "fuzz.ini", &err);
    FUZZ_CHECK(r <= 0);
    FUZZ_CHECK(r == 0 || err.msg[0] != '\0');
    /* Each line is also tried as a --set argument. */
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        ims_error e2 = {0};
        int s = ims_config_set_arg(cfg, line, &e2);
        FUZZ_CHECK(s <= 0);
        FUZZ_CHECK(s == 0 || e2.msg[0] != '\0');
    }
    ims_config_destroy(cfg);
    free(text);
    return 0;
}
