/* float and double instances of activations.inc */
#define FNN_TEMPLATE "activations.inc"
#include "fnn_instantiate.h"
