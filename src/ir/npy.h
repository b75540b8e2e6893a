// NumPy .npy (format 1.0/2.0/3.0, little-endian, C order) <-> Tensor.
// Accepted dtypes: <f4 |u1 |i1 <i4 <i8 |b1; float64 (<f8) is converted to float32.
#pragma once

#include <string>
#include <string_view>

#include "ir/tensor.h"

namespace qcal {

// Parses .npy bytes; `origin` names the source in error messages (the file).
Result<Tensor> ParseNpy(std::string_view bytes, const std::string& origin);
Result<Tensor> ReadNpyFile(const std::string& path);
std::string SerializeNpy(const Tensor& t);
Status WriteNpyFile(const std::string& path, const Tensor& t);

}  // namespace qcal
