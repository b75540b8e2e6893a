#include "data/preprocess.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>

#include "base/limits.h"

namespace qcal::data {
namespace {

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    parts.push_back(Trim(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos)));
    if (next == std::string_view::npos) return parts;
    pos = next + 1;
  }
}

// A number, or a fraction "a/b" (e.g. "1/255").
Result<float> ParseNumber(std::string_view text, std::string_view step) {
  auto parse = [](std::string_view t, double* v) {
    auto r = std::from_chars(t.data(), t.data() + t.size(), *v);
    return r.ec == std::errc() && r.ptr == t.data() + t.size();
  };
  double num = 0, den = 1;
  size_t slash = text.find('/');
  bool ok = slash == std::string_view::npos
                ? parse(text, &num)
                : parse(Trim(text.substr(0, slash)), &num) && parse(Trim(text.substr(slash + 1)), &den);
  if (!ok || den == 0 || !std::isfinite(num / den)) {
    return InvalidArgument("preprocess step '" + std::string(step) + "': bad number '" + std::string(text) + "'");
  }
  return static_cast<float>(num / den);
}

Result<std::vector<float>> ParseNumbers(std::string_view args, std::string_view step) {
  std::vector<float> values;
  for (std::string_view item : Split(args, ',')) {
    QCAL_ASSIGN_OR_RETURN(float v, ParseNumber(item, step));
    values.push_back(v);
  }
  return values;
}

// "H,W" or "S" (= S,S); every value a positive integer.
Status ParseSize(std::string_view args, std::string_view step, bool allow_single, int64_t* h, int64_t* w,
                 int64_t* single) {
  std::vector<int64_t> dims;
  for (std::string_view item : Split(args, ',')) {
    int64_t v = 0;
    auto r = std::from_chars(item.data(), item.data() + item.size(), v);
    if (r.ec != std::errc() || r.ptr != item.data() + item.size() || v <= 0) {
      return InvalidArgument("preprocess step '" + std::string(step) + "': expected positive integers H,W" +
                             (allow_single ? " or S" : "") + ", got '" + std::string(args) + "'");
    }
    dims.push_back(v);
  }
  if (dims.size() == 2) {
    *h = dims[0];
    *w = dims[1];
  } else if (dims.size() == 1) {
    *single = dims[0];
  } else {
    return InvalidArgument("preprocess step '" + std::string(step) + "': expected H,W or S");
  }
  return Status::Ok();
}

using StepParser = std::function<Status(std::string_view args, std::string_view step, PreprocessOptions*)>;

const std::map<std::string_view, StepParser>& StepTable() {
  static const auto* table = new std::map<std::string_view, StepParser>{
      {"resize",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         return ParseSize(a, s, true, &o->resize_h, &o->resize_w, &o->resize_shorter);
       }},
      {"crop",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         int64_t single = 0;
         QCAL_RETURN_IF_ERROR(ParseSize(a, s, true, &o->crop_h, &o->crop_w, &single));
         if (single) o->crop_h = o->crop_w = single;
         return Status::Ok();
       }},
      {"rgb",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         o->order = ChannelOrder::kRgb;
         return a.empty() ? Status::Ok() : InvalidArgument("preprocess step 'rgb' takes no argument");
       }},
      {"bgr",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         o->order = ChannelOrder::kBgr;
         return a.empty() ? Status::Ok() : InvalidArgument("preprocess step 'bgr' takes no argument");
       }},
      {"scale",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         QCAL_ASSIGN_OR_RETURN(o->scale, ParseNumber(a, s));
         return Status::Ok();
       }},
      {"mean",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         QCAL_ASSIGN_OR_RETURN(o->mean, ParseNumbers(a, s));
         return Status::Ok();
       }},
      {"std",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         QCAL_ASSIGN_OR_RETURN(o->std, ParseNumbers(a, s));
         for (float v : o->std) {
           if (v == 0) return InvalidArgument("preprocess step '" + std::string(s) + "': std must not be 0");
         }
         return Status::Ok();
       }},
      {"channels",
       [](std::string_view a, std::string_view s, PreprocessOptions* o) {
         if (a != "1" && a != "3") return InvalidArgument("preprocess step 'channels' takes 1 or 3");
         o->channels = a == "1" ? 1 : 3;
         return Status::Ok();
       }},
  };
  return *table;
}

// Per-channel value of a 1-or-C list (`fallback` when empty).
Result<std::vector<float>> PerChannel(const std::vector<float>& v, int64_t channels, float fallback,
                                      const char* what, const std::string& origin) {
  if (v.empty()) return std::vector<float>(static_cast<size_t>(channels), fallback);
  if (v.size() == 1) return std::vector<float>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels) {
    return InvalidArgument(origin + ": " + what + " has " + std::to_string(v.size()) + " values but the image has " +
                           std::to_string(channels) + " channel(s) (use 'channels 3' or give 1 value)");
  }
  return v;
}

// Source index and weight of output coordinate d for a half-pixel bilinear resize.
struct Tap {
  int64_t i0, i1;
  float w1;
};
std::vector<Tap> Taps(int64_t in, int64_t out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t d = 0; d < out; ++d) {
    double f = (d + 0.5) * scale - 0.5;
    int64_t i = static_cast<int64_t>(std::floor(f));
    double w = f - i;
    if (i < 0) i = 0, w = 0;
    if (i >= in - 1) i = in - 1, w = 0;
    taps[d] = {i, std::min(i + 1, in - 1), static_cast<float>(w)};
  }
  return taps;
}

}  // namespace

Result<PreprocessOptions> ParsePreprocessSpec(std::string_view spec) {
  PreprocessOptions options;
  for (std::string_view step : Split(spec, ';')) {
    if (step.empty()) continue;
    size_t space = step.find_first_of(" \t");
    std::string_view key = step.substr(0, space);
    std::string_view args = space == std::string_view::npos ? std::string_view() : Trim(step.substr(space));
    auto it = StepTable().find(key);
    if (it == StepTable().end()) {
      return InvalidArgument("unknown preprocess step '" + std::string(step) +
                             "' (known: resize, crop, rgb, bgr, scale, mean, std, channels)");
    }
    QCAL_RETURN_IF_ERROR(it->second(args, step, &options));
  }
  return options;
}

Image ConvertChannels(const Image& img, int64_t channels) {
  Image out{img.height, img.width, channels, {}};
  out.pixels.resize(static_cast<size_t>(img.height * img.width * channels));
  bool gray_in = img.channels <= 2;
  for (int64_t p = 0; p < img.height * img.width; ++p) {
    const float* src = &img.pixels[p * img.channels];
    float* dst = &out.pixels[p * channels];
    if (channels == 1) {
      dst[0] = gray_in ? src[0] : 0.299f * src[0] + 0.587f * src[1] + 0.114f * src[2];
    } else {
      for (int64_t c = 0; c < 3; ++c) dst[c] = gray_in ? src[0] : src[c];
    }
  }
  return out;
}

Image ResizeBilinear(const Image& img, int64_t out_h, int64_t out_w) {
  Image out{out_h, out_w, img.channels, {}};
  out.pixels.resize(static_cast<size_t>(out_h * out_w * img.channels));
  std::vector<Tap> ty = Taps(img.height, out_h), tx = Taps(img.width, out_w);
  for (int64_t y = 0; y < out_h; ++y) {
    const Tap& a = ty[y];
    for (int64_t x = 0; x < out_w; ++x) {
      const Tap& b = tx[x];
      for (int64_t c = 0; c < img.channels; ++c) {
        float top = img.at(a.i0, b.i0, c) * (1 - b.w1) + img.at(a.i0, b.i1, c) * b.w1;
        float bottom = img.at(a.i1, b.i0, c) * (1 - b.w1) + img.at(a.i1, b.i1, c) * b.w1;
        out.pixels[(y * out_w + x) * img.channels + c] = top * (1 - a.w1) + bottom * a.w1;
      }
    }
  }
  return out;
}

Result<Image> CenterCrop(const Image& img, int64_t crop_h, int64_t crop_w, const std::string& origin) {
  if (crop_h > img.height || crop_w > img.width) {
    return InvalidArgument(origin + ": crop " + std::to_string(crop_h) + "x" + std::to_string(crop_w) +
                           " is larger than the image (" + std::to_string(img.height) + "x" +
                           std::to_string(img.width) + " after resize); add or enlarge a 'resize' step");
  }
  int64_t top = (img.height - crop_h) / 2, left = (img.width - crop_w) / 2;
  Image out{crop_h, crop_w, img.channels, {}};
  out.pixels.reserve(static_cast<size_t>(crop_h * crop_w * img.channels));
  for (int64_t y = 0; y < crop_h; ++y) {
    const float* row = &img.pixels[((top + y) * img.width + left) * img.channels];
    out.pixels.insert(out.pixels.end(), row, row + crop_w * img.channels);
  }
  return out;
}

namespace {

// Output size of the resize step (the input size when there is none), checked
// against the image size limit before anything is allocated.
Status ResizeTarget(const Image& img, const PreprocessOptions& o, const std::string& origin, int64_t* h,
                    int64_t* w) {
  *h = img.height;
  *w = img.width;
  if (o.resize_h > 0) {
    *h = o.resize_h;
    *w = o.resize_w;
  } else if (o.resize_shorter > 0) {
    bool h_short = img.height <= img.width;
    int64_t shorter = h_short ? img.height : img.width, longer = h_short ? img.width : img.height;
    // long * S / short, saturated (a huge S is refused by the size check below).
    int64_t new_long = longer > INT64_MAX / o.resize_shorter ? INT64_MAX : longer * o.resize_shorter / shorter;
    *h = h_short ? o.resize_shorter : new_long;
    *w = h_short ? new_long : o.resize_shorter;
  }
  int64_t pixels = *h > INT64_MAX / *w ? -1 : *h * *w;
  return CheckLimit(origin + ": resized image of " + std::to_string(*h) + "x" + std::to_string(*w) + " pixels",
                    pixels, GetResourceLimits().max_image_pixels, "pixels", "QCAL_MAX_IMAGE_PIXELS");
}

}  // namespace

Result<Tensor> Preprocess(const Image& input, const PreprocessOptions& o, const std::string& origin) {
  if (input.height <= 0 || input.width <= 0 || input.channels <= 0) {
    return InvalidArgument(origin + ": image has no pixels (" + std::to_string(input.height) + "x" +
                           std::to_string(input.width) + "x" + std::to_string(input.channels) + ")");
  }
  int64_t out_h = 0, out_w = 0;
  QCAL_RETURN_IF_ERROR(ResizeTarget(input, o, origin, &out_h, &out_w));
  Image img = input;
  int64_t channels = o.channels ? o.channels : (input.channels <= 2 ? 1 : 3);
  if (channels != img.channels) img = ConvertChannels(img, channels);
  if (o.resize_h > 0 || o.resize_shorter > 0) {
    img = ResizeBilinear(img, out_h, out_w);
  }
  if (o.crop_h > 0) {
    QCAL_ASSIGN_OR_RETURN(img, CenterCrop(img, o.crop_h, o.crop_w, origin));
  }
  QCAL_ASSIGN_OR_RETURN(std::vector<float> mean, PerChannel(o.mean, channels, 0.0f, "mean", origin));
  QCAL_ASSIGN_OR_RETURN(std::vector<float> stdv, PerChannel(o.std, channels, 1.0f, "std", origin));
  Tensor out(DataType::kFloat32, {channels, img.height, img.width});
  float* dst = out.data<float>();
  const int64_t plane = img.height * img.width;
  for (int64_t c = 0; c < channels; ++c) {
    int64_t src_c = (o.order == ChannelOrder::kBgr && channels == 3) ? 2 - c : c;
    for (int64_t p = 0; p < plane; ++p) {
      dst[c * plane + p] = (img.pixels[p * channels + src_c] * o.scale - mean[c]) / stdv[c];
    }
  }
  return out;
}

}  // namespace qcal::data
