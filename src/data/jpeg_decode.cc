#include "data/jpeg_decode.h"

// clang-format off
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <cstdint>
#include <vector>

#include "base/limits.h"

namespace qcal::data {
namespace {

// libjpeg's default error_exit calls exit(): ours records the message and
// longjmps back to the decode call.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings and traces are not printed. Truncated data is an error (libjpeg pads
// it with a fake end marker and warns; PIL reports "image file is truncated").
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) OnError(cinfo);
}

// Lives outside the frame that calls setjmp, so nothing that frame touches
// after setjmp is an automatic variable (their values are unspecified after longjmp).
struct DecodeState {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  bool created = false;
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  std::string problem;  // set for errors found by us rather than by libjpeg
};

// Returns false on error (message in state->err.message or state->problem).
// Only trivially destructible locals here: longjmp skips destructors.
bool DecodeInto(const unsigned char* data, unsigned long size, DecodeState* state) {
  jpeg_decompress_struct* cinfo = &state->cinfo;
  cinfo->err = jpeg_std_error(&state->err.pub);
  state->err.pub.error_exit = OnError;
  state->err.pub.emit_message = OnMessage;
  state->err.message[0] = '\0';
  if (setjmp(state->err.jump)) return false;
  jpeg_create_decompress(cinfo);
  state->created = true;
  jpeg_mem_src(cinfo, data, size);
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    state->problem = "CMYK JPEG is not supported; convert the image to RGB";
    return false;
  }
  bool gray = cinfo->jpeg_color_space == JCS_GRAYSCALE;
  cinfo->out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  jpeg_start_decompress(cinfo);
  uint64_t pixels = static_cast<uint64_t>(cinfo->output_width) * cinfo->output_height;
  const uint64_t max_pixels = static_cast<uint64_t>(GetResourceLimits().max_image_pixels);
  if (pixels > max_pixels) {
    state->problem = "image of " + std::to_string(cinfo->output_width) + "x" +
                     std::to_string(cinfo->output_height) + " pixels is larger than the limit of " +
                     std::to_string(max_pixels) + " pixels (QCAL_MAX_IMAGE_PIXELS)";
    return false;
  }
  state->width = static_cast<int>(cinfo->output_width);
  state->height = static_cast<int>(cinfo->output_height);
  state->channels = cinfo->output_components;
  size_t row_bytes = static_cast<size_t>(state->width) * state->channels;
  state->pixels.resize(row_bytes * state->height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = state->pixels.data() + row_bytes * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

Result<Image> DecodeJpeg(std::string_view bytes, const std::string& origin) {
  DecodeState state;
  bool ok = DecodeInto(reinterpret_cast<const unsigned char*>(bytes.data()),
                       static_cast<unsigned long>(bytes.size()), &state);
  if (state.created) jpeg_destroy_decompress(&state.cinfo);
  if (!ok) {
    if (!state.problem.empty()) return Unsupported(origin + ": " + state.problem);
    return Corrupt(origin + ": cannot decode JPEG (" + state.err.message + ")");
  }
  Image img{state.height, state.width, state.channels, {}};
  img.pixels.assign(state.pixels.begin(), state.pixels.end());
  return img;
}

}  // namespace qcal::data
