// MNIST-style idx files (http://yann.lecun.com/exdb/mnist/), plain or gzip-compressed.
#pragma once

#include <string>
#include <string_view>

#include "ir/tensor.h"

namespace qcal::data {

// Reads an unsigned-byte idx file (magic 0x0000 08 NDIM, big-endian dims) of
// `expected_rank` dims into a uint8 tensor of that shape. Files ending in .gz are
// inflated (zlib). Errors name the file and byte offset: bad magic, wrong rank,
// unsupported element type, truncated data, trailing bytes.
Result<Tensor> ReadIdxFile(const std::string& path, int expected_rank);

// The same for the bytes of an uncompressed idx file; `origin` names it in errors.
Result<Tensor> ParseIdx(std::string_view bytes, const std::string& origin, int expected_rank);
// Inflates gzip data (several members allowed); OutOfRange beyond ResourceLimits::max_tensor_bytes.
Result<std::string> Gunzip(std::string_view gz, const std::string& origin);

// "x-images-idx3-ubyte[.gz]" -> the existing "x-labels-idx1-ubyte[.gz]" next to it, or "".
std::string IdxLabelsPathFor(const std::string& images_path);

}  // namespace qcal::data
