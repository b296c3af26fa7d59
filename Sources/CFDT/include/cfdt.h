/* libfdt for Swift: the library's own header; fdt_property_string and the
 * other macros are used through fdt_property. */
#ifndef CFDT_H
#define CFDT_H
#include <libfdt.h>
#endif
