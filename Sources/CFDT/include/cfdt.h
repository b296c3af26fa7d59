/* libfdt for Swift: the library's own header; fdt_property_string and the
 * other macros are used through fdt_property. */
#ifndef CFDT_H
#define CFDT_H
#include <libfdt.h>

/* fdt_totalsize is a macro. */
static inline uint32_t cfdt_totalsize(const void *fdt) { return fdt_totalsize(fdt); }
#endif
