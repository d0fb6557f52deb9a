/* float and double instances of linsparse.inc */
#include <stdlib.h>

#define FNN_TEMPLATE "linsparse.inc"
#include "fnn_instantiate.h"
