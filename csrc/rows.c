/* float and double instances of rows.inc */
#define FNN_TEMPLATE "rows.inc"
#include "fnn_instantiate.h"
