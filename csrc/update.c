/* float and double instances of update.inc */
#define FNN_TEMPLATE "update.inc"
#include "fnn_instantiate.h"
