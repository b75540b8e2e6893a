// MNIST-style idx files (http://yann.lecun.com/exdb/mnist/), plain or gzip-compressed.
#pragma once

#include <string>

#include "ir/tensor.h"

namespace qcal::data {

// Reads an unsigned-byte idx file (magic 0x0000 08 NDIM, big-endian dims) of
// `expected_rank` dims into a uint8 tensor of that shape. Files ending in .gz are
// inflated (zlib). Errors name the file and byte offset: bad magic, wrong rank,
// unsupported element type, truncated data, trailing bytes.
Result<Tensor> ReadIdxFile(const std::string& path, int expected_rank);

// "x-images-idx3-ubyte[.gz]" -> the existing "x-labels-idx1-ubyte[.gz]" next to it, or "".
std::string IdxLabelsPathFor(const std::string& images_path);

}  // namespace qcal::data
