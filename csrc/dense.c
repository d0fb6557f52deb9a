/* float and double instances of dense.inc */
#define FNN_TEMPLATE "dense.inc"
#include "fnn_instantiate.h"
