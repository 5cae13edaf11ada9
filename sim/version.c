#include "iommusim/iommusim.h"

#ifndef IMS_VERSION_STRING
#define IMS_VERSION_STRING "0.0.0"
#endif

const char *iommusim_version(void)
{
    return IMS_VERSION_STRING;
}
