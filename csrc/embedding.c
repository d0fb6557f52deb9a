/* float and double instances of embedding.inc */
#define FNN_TEMPLATE "embedding.inc"
#include "fnn_instantiate.h"
