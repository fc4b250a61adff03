#ifndef CLVS_CCAIRO_SHIM_H
#define CLVS_CCAIRO_SHIM_H
// Cairo's C API (image surfaces, paths, toy text API, PNG output).
// pkg-config (cairo.pc) puts /usr/include/cairo on the include path.
#include <cairo.h>
#endif
