/* float and double instances of softmax.inc */
#define FNN_TEMPLATE "softmax.inc"
#include "fnn_instantiate.h"
