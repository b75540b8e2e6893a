// JPEG decoding with libjpeg(-turbo), configured like PIL and OpenCV decode by
// default: accurate integer IDCT (JDCT_ISLOW) and "fancy" (triangular) chroma
// upsampling, so preprocessed tensors match the ones Python pipelines feed models.
#pragma once

#include <string>
#include <string_view>

#include "data/preprocess.h"

namespace qcal::data {

// Decodes a JPEG to RGB (3 channels) or gray (1 channel), values 0..255.
// Every libjpeg error (and truncated data, which libjpeg only warns about)
// becomes a Corrupt status naming `origin`; CMYK JPEGs are Unsupported.
Result<Image> DecodeJpeg(std::string_view bytes, const std::string& origin);

}  // namespace qcal::data
