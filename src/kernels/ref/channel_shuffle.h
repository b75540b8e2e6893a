// ChannelShuffle (qcal-internal op, domain "ai.qcal", made by
// passes/fuse_channel_shuffle.h from ShuffleNet's Concat -> Reshape ->
// Transpose -> Reshape [-> Split]):
//
//   X = Concat(inputs, axis = 1)                        C channels, 4-D NCHW
//   S = channel shuffle of X with `group` groups: S[:, j] = X[:, (j % g) * (C / g) + j / g]
//   outputs = Split(S, axis = 1, sizes = `split`)       absent: equal parts, one per output
//
// The map from an output channel to its input channel is the ShufflePlan below,
// shared by the reference kernel (the spec) and the x86 kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/registry.h"

namespace qcal::ref {

inline constexpr const char* kChannelShuffleDomain = "ai.qcal";

struct ShufflePlan {
  int64_t group = 1;
  std::vector<int64_t> in_channels, out_channels;  // per input / output
  std::vector<int64_t> in_offsets, out_offsets;    // first concat / shuffled channel of each

  int64_t channels() const { return in_offsets.empty() ? 0 : in_offsets.back(); }
  struct Source {
    size_t input;
    int64_t channel;
  };
  // Where channel c of output o comes from.
  Source SourceOf(size_t output, int64_t c) const;
};

// Checks the channel counts against the node's `group` / `split` attributes.
// num_outputs: the node's output count.
Result<ShufflePlan> MakeShufflePlan(const Node& node, const std::vector<int64_t>& in_channels,
                                    size_t num_outputs);

}  // namespace qcal::ref
