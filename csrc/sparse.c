/* float and double instances of sparse.inc */
#define FNN_TEMPLATE "sparse.inc"
#include "fnn_instantiate.h"
