// Image preprocessing: decoded HWC pixels (0..255) -> float32 CHW tensor.
//
// Steps are applied in this fixed order, whatever order the spec lists them in:
//   channels (force 1 or 3) -> resize -> center crop -> channel order (rgb|bgr)
//   -> x * scale -> x - mean[c] -> x / std[c]
// Resize is bilinear with half-pixel centers and edge clamping, computed in float
// (= cv2.resize INTER_LINEAR on a float32 image, = torch interpolate bilinear
// align_corners=False without antialias). Center crop offset = floor((H - h) / 2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/tensor.h"

namespace qcal::data {

// Decoded pixels, row-major HWC, values 0..255 as float. Decoded color images are RGB.
struct Image {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<float> pixels;
  float at(int64_t y, int64_t x, int64_t c) const { return pixels[(y * width + x) * channels + c]; }
};

enum class ChannelOrder { kRgb, kBgr };

struct PreprocessOptions {
  int64_t resize_h = 0, resize_w = 0;  // "resize H,W" (0 = no resize)
  int64_t resize_shorter = 0;          // "resize S": shorter side to S, aspect kept (long = trunc(long*S/short))
  int64_t crop_h = 0, crop_w = 0;      // "crop H,W" / "crop S" (center)
  ChannelOrder order = ChannelOrder::kRgb;
  float scale = 1.0f;                  // "scale S" (a number or a fraction "1/255")
  std::vector<float> mean;             // "mean a,b,c" (1 value = all channels); empty = 0
  std::vector<float> std;              // "std a,b,c"; empty = 1
  int64_t channels = 0;                // "channels 1|3": 0 = as decoded (gray 1, color 3; alpha dropped)
};

// Parses a spec like "resize 256; crop 224; bgr; scale 1/255; mean 0.485,0.456,0.406; std 0.229,0.224,0.225".
// Steps are separated by ';', a step is a keyword and its arguments separated by spaces:
//   resize H,W | resize S | crop H,W | crop S | rgb | bgr | scale S | mean a[,b,c] | std a[,b,c] | channels 1|3
// An empty spec gives the defaults (no-op apart from the conversion to float CHW).
Result<PreprocessOptions> ParsePreprocessSpec(std::string_view spec);

// Converts an image to channels (1 or 3): gray is replicated, RGB -> gray uses
// 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as OpenCV/PIL), alpha is dropped.
Image ConvertChannels(const Image& img, int64_t channels);
Image ResizeBilinear(const Image& img, int64_t out_h, int64_t out_w);
// Errors when the crop is larger than the image; `origin` names the image.
Result<Image> CenterCrop(const Image& img, int64_t crop_h, int64_t crop_w, const std::string& origin);

// The whole pipeline: returns float32 [C,H,W]. `origin` names the image in errors
// (crop larger than the image, mean/std count not matching the channels).
Result<Tensor> Preprocess(const Image& img, const PreprocessOptions& options, const std::string& origin);

}  // namespace qcal::data
