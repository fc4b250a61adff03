#ifndef CLVS_COPENBLAS_SHIM_H
#define CLVS_COPENBLAS_SHIM_H
// OpenBLAS's CBLAS interface. pkg-config (openblas.pc) puts the openblas-pthread include dir first.
#include <cblas.h>
// Thread control (OpenBLAS extension, not part of CBLAS).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
