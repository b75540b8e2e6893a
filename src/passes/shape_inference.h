// Shape inference: fills Graph::value_info (and graph output infos) for every
// node output using each op's InferFn. Symbolic dims stay -1.
#pragma once

#include "ir/graph.h"

namespace qcal {

Status InferShapes(Graph& graph);

}  // namespace qcal
