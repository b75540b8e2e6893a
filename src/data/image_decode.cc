#include "data/image_decode.h"

#include <cstdint>
#include <limits>
#include <string_view>

#include "base/file.h"
#include "base/limits.h"
#include "data/jpeg_decode.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

namespace qcal::data {
namespace {

bool IsJpeg(std::string_view bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF;
}

// stb_image allocates each PNG chunk's declared length before reading it (a
// 76-byte file can ask for 2 GiB): check every chunk fits in the file first.
Status CheckPngChunks(std::string_view bytes, const std::string& origin) {
  constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  if (bytes.substr(0, 8) != kSignature) return Status::Ok();
  size_t at = 8;
  while (bytes.size() - at >= 8) {
    uint64_t length = 0;
    for (size_t i = 0; i < 4; ++i) length = length << 8 | static_cast<uint8_t>(bytes[at + i]);
    if (length + 12 > bytes.size() - at) {
      return Corrupt(origin + ": PNG chunk at offset " + std::to_string(at) + " declares " + std::to_string(length) +
                     " bytes, more than the file holds (truncated or corrupt PNG)");
    }
    if (bytes.substr(at + 4, 4) == "IEND") break;
    at += length + 12;
  }
  return Status::Ok();
}

// PNG and BMP through stb_image.
Result<Image> DecodeWithStb(std::string_view bytes, const std::string& origin) {
  QCAL_RETURN_IF_ERROR(CheckPngChunks(bytes, origin));
  int w = 0, h = 0, c = 0;
  // Check the header's dimensions before the decoder allocates the pixels.
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &c)) {
    QCAL_RETURN_IF_ERROR(CheckImageSize(origin, w, h));
  }
  stbi_uc* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                      static_cast<int>(bytes.size()), &w, &h, &c, 0);
  if (!px) {
    const char* why = stbi_failure_reason();
    return Corrupt(origin + ": cannot decode image (" + (why ? why : "unknown reason") +
                   "); supported formats: JPEG, PNG, BMP");
  }
  Image img{h, w, c, {}};
  img.pixels.assign(px, px + static_cast<size_t>(w) * h * c);
  stbi_image_free(px);
  return img;
}

}  // namespace

Status CheckImageSize(const std::string& origin, int64_t width, int64_t height) {
  return CheckLimit(origin + ": image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels",
                    width * height, GetResourceLimits().max_image_pixels, "pixels", "QCAL_MAX_IMAGE_PIXELS");
}

Result<Image> DecodeImage(std::string_view bytes, const std::string& origin) {
  if (bytes.empty()) return Corrupt(origin + ": empty image file");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Unsupported(origin + ": image file larger than 2 GiB");
  }
  if (IsJpeg(bytes)) return DecodeJpeg(bytes, origin);
  return DecodeWithStb(bytes, origin);
}

Result<Image> ReadImageFile(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeImage(bytes, path);
}

}  // namespace qcal::data
