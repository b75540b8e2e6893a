// Inference fusion of ShuffleNet's channel shuffle into one ChannelShuffle node
// (kernels/ref/channel_shuffle.h):
//
//   Concat(axis 1) -> Reshape [N, g, C/g, H, W] -> Transpose [0, 2, 1, 3, 4]
//     -> Reshape [N, C, H, W] [-> Split(axis 1)]        ChannelShuffle(group g, split)
//
// Four or five data-movement passes become one, and the fused node can read
// and write blocked layouts (the two Reshapes go through 5-D values, which
// never block), so the convolutions around a ShuffleNet unit need no reorder.
// Shapes come from value_info: run InferShapes first; a chain whose shapes are
// not static (apart from the batch) is left alone, as is one whose intermediate
// values have another consumer, are graph outputs or are in keep_values.
// The node takes the Concat's name and the last fused node's place.
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"

namespace qcal {

struct ChannelShuffleFusionOptions {
  std::set<std::string> keep_values;  // values that must stay computed
};

// Fused chains are counted in *fused when given.
Status FuseChannelShuffle(Graph& graph, const ChannelShuffleFusionOptions& options = {},
                          int* fused = nullptr);

}  // namespace qcal
