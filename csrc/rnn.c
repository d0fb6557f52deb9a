/* float and double instances of rnn.inc */
#define FNN_TEMPLATE "rnn.inc"
#include "fnn_instantiate.h"
