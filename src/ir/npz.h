// NumPy .npz archives (zip files of .npy members), as written by numpy.savez:
// only stored (uncompressed) members are supported; savez_compressed archives
// give an Unsupported error naming the member.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ir/tensor.h"

namespace qcal {

// Member name without the ".npy" suffix -> tensor. `origin` names the source in errors.
Result<std::map<std::string, Tensor>> ParseNpz(std::string_view bytes, const std::string& origin);
Result<std::map<std::string, Tensor>> ReadNpzFile(const std::string& path);

}  // namespace qcal
