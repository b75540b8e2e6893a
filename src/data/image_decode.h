// Image file decoding: JPEG with libjpeg-turbo (jpeg_decode.h, matches PIL), PNG and BMP with stb_image.
#pragma once

#include <string>
#include <string_view>

#include "data/preprocess.h"

namespace qcal::data {

// Decodes image bytes to 8-bit pixels (as float 0..255), native channel count
// (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). `origin` names the file in errors.
Result<Image> DecodeImage(std::string_view bytes, const std::string& origin);
Result<Image> ReadImageFile(const std::string& path);

// OutOfRange when width * height exceeds ResourceLimits::max_image_pixels
// (base/limits.h); decoders call it with the header's size before allocating.
Status CheckImageSize(const std::string& origin, int64_t width, int64_t height);

}  // namespace qcal::data
