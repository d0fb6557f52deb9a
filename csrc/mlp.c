/* float and double instances of mlp.inc */
#define FNN_TEMPLATE "mlp.inc"
#include "fnn_instantiate.h"
