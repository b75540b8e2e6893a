#include "quant/record/record.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/file.h"
#include "quant/algorithms/quant_params.h"

#ifndef QCAL_VERSION
#define QCAL_VERSION "unknown"
#endif

namespace qcal::quant {

// ---------------------------------------------------------- ScaleOffsetRecord

LayerRecord& ScaleOffsetRecord::Upsert(const std::string& key) {
  auto it = index_.find(key);
  if (it != index_.end()) return entries_[it->second].second;
  index_.emplace(key, entries_.size());
  entries_.emplace_back(key, LayerRecord{});
  return entries_.back().second;
}

const LayerRecord* ScaleOffsetRecord::Find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

LayerRecord* ScaleOffsetRecord::FindMutable(std::string_view key) {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

// ----------------------------------------------------------------- validation

namespace {

std::string Layer(std::string_view key) { return "layer '" + std::string(key) + "': "; }

Status CheckScale(std::string_view key, const std::string& field, float v) {
  if (std::isfinite(v) && v > 0) return Status::Ok();
  return InvalidArgument(Layer(key) + field + " " + FloatToString(v) + " must be finite and > 0");
}

}  // namespace

Status ValidateLayerRecord(std::string_view key, const LayerRecord& r) {
  if (r.scale_d.has_value() != r.offset_d.has_value()) {
    return InvalidArgument(
        Layer(key) + (r.scale_d ? "scale_d is given without offset_d" : "offset_d is given without scale_d"));
  }
  if (r.scale_d) QCAL_RETURN_IF_ERROR(CheckScale(key, "scale_d", *r.scale_d));
  if (r.offset_d && (*r.offset_d < kInt8Min || *r.offset_d > kInt8Max)) {
    return InvalidArgument(Layer(key) + "offset_d " + std::to_string(*r.offset_d) +
                           " is outside [-128, 127]");
  }
  for (size_t i = 0; i < r.scale_w.size(); ++i) {
    QCAL_RETURN_IF_ERROR(CheckScale(key, "scale_w[" + std::to_string(i) + "]", r.scale_w[i]));
  }
  for (size_t i = 0; i < r.offset_w.size(); ++i) {
    if (r.offset_w[i] != 0) {
      return InvalidArgument(Layer(key) + "offset_w[" + std::to_string(i) + "] is " +
                             std::to_string(r.offset_w[i]) +
                             "; weight offsets must be 0 (symmetric weights)");
    }
  }
  if (!r.offset_w.empty() && r.offset_w.size() != r.scale_w.size()) {
    return InvalidArgument(Layer(key) + "offset_w has " + std::to_string(r.offset_w.size()) +
                           " values but scale_w has " + std::to_string(r.scale_w.size()));
  }
  if (!r.shift_bit.empty()) {
    if (r.shift_bit.size() != r.scale_w.size()) {
      return InvalidArgument(Layer(key) + "shift_bit has " + std::to_string(r.shift_bit.size()) +
                             " values but scale_w has " + std::to_string(r.scale_w.size()));
    }
    bool all_zero = true;
    for (uint32_t s : r.shift_bit) all_zero = all_zero && s == 0;
    for (size_t i = 0; i < r.shift_bit.size() && !all_zero; ++i) {
      if (r.shift_bit[i] < 1 || r.shift_bit[i] > 16) {
        return InvalidArgument(Layer(key) + "shift_bit[" + std::to_string(i) + "] is " +
                               std::to_string(r.shift_bit[i]) +
                               "; shift bits must be all 0 or each in [1, 16]");
      }
    }
  }
  if (r.op_data_type) {
    const std::string& e = *r.op_data_type;
    bool ident = !e.empty() && (std::isalpha(static_cast<unsigned char>(e[0])) || e[0] == '_');
    for (char c : e) ident = ident && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ident) return InvalidArgument(Layer(key) + "op_data_type '" + e + "' is not an enum name");
  }
  for (size_t i = 0; i < r.tensor_balance_factor.size(); ++i) {
    if (!std::isfinite(r.tensor_balance_factor[i])) {
      return InvalidArgument(Layer(key) + "tensor_balance_factor[" + std::to_string(i) + "] is not finite");
    }
  }
  return Status::Ok();
}

Status CheckWeightChannels(std::string_view key, const LayerRecord& r, int64_t out_channels) {
  const auto n = static_cast<int64_t>(r.scale_w.size());
  if (n == 1 || n == out_channels) return Status::Ok();
  return InvalidArgument(Layer(key) + "scale_w has " + std::to_string(n) + " values; expected 1 or " +
                         std::to_string(out_channels) + " (the layer's output channels)");
}

Status RequireFactors(const ScaleOffsetRecord& rec, std::string_view key, bool activation, bool weights,
                      std::string_view source) {
  const LayerRecord* r = rec.Find(key);
  std::string missing;
  auto need = [&](bool cond, const char* name) {
    if (cond) missing += (missing.empty() ? "" : ", ") + std::string(name);
  };
  need(activation && (!r || !r->scale_d), "scale_d");
  need(activation && (!r || !r->offset_d), "offset_d");
  need(weights && (!r || r->scale_w.empty()), "scale_w");
  need(weights && (!r || r->offset_w.empty()), "offset_w");
  if (missing.empty()) return Status::Ok();
  return NotFound("cannot find " + missing + " of layer '" + std::string(key) + "' in record file " +
                  std::string(source) + "; was calibration run for all batch_num batches?");
}

// --------------------------------------------------------------------- writer

namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\%03o", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Appends fields straight to `out` (a record of a few thousand per-channel
// scales is written while calibration runs).
class Writer {
 public:
  void Field(std::string_view name, std::string_view value) {
    out.append("    ").append(name).append(": ").append(value).push_back('\n');
  }
  template <typename T>
  void Optional(const char* name, const std::optional<T>& v) {
    if (v) Value(name, *v);
  }
  template <typename T>
  void Repeated(const char* name, const std::vector<T>& v) {
    for (const T& x : v) Value(name, x);
  }
  std::string out;

 private:
  // std::to_chars without a std::string (for floats FloatToString's text: the
  // shortest that reads back exactly).
  template <typename T>
  void Number(const char* name, T v) {
    char buf[64];
    const char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    Field(name, std::string_view(buf, static_cast<size_t>(end - buf)));
  }
  void Value(const char* name, float v) { Number(name, v); }
  void Value(const char* name, int32_t v) { Number(name, v); }
  void Value(const char* name, uint32_t v) { Number(name, v); }
  void Value(const char* name, bool v) { Field(name, v ? "true" : "false"); }
  void Value(const char* name, const std::string& v) { Field(name, Quote(v)); }
};

}  // namespace

Result<std::string> FormatRecord(const ScaleOffsetRecord& rec) {
  Writer w;
  w.out = "# qcal " +
          (rec.header.tool_version.empty() ? std::string(QCAL_VERSION) : rec.header.tool_version) +
          " scale/offset record:";
  if (!rec.header.algorithm.empty()) w.out += " algorithm=" + rec.header.algorithm;
  if (rec.header.batch_num >= 0) w.out += " batch_num=" + std::to_string(rec.header.batch_num);
  w.out += "\n";
  for (const auto& [layer, n] : rec.header.layer_batches) {
    w.out += "# batches " + Quote(layer) + " " + std::to_string(n) + "\n";
  }
  for (const auto& [key, r] : rec.entries()) {
    QCAL_RETURN_IF_ERROR(ValidateLayerRecord(key, r));
    w.out += "record {\n  key: " + Quote(key) + "\n  value {\n";
    w.Optional("scale_d", r.scale_d);
    w.Optional("offset_d", r.offset_d);
    w.Repeated("scale_w", r.scale_w);
    w.Repeated("offset_w", r.offset_w);
    w.Repeated("shift_bit", r.shift_bit);
    w.Optional("channels", r.channels);
    w.Optional("height", r.height);
    w.Optional("width", r.width);
    w.Optional("skip_fusion", r.skip_fusion);
    w.Optional("is_tensor_quantize", r.is_tensor_quantize);
    w.Repeated("tensor_balance_factor", r.tensor_balance_factor);
    w.Optional("act_type", r.act_type);
    w.Optional("wts_type", r.wts_type);
    w.Optional("dst_type", r.dst_type);
    if (r.op_data_type) w.Field("op_data_type", *r.op_data_type);  // enum: bare identifier
    w.out += "  }\n}\n";
  }
  return w.out;
}

Result<ScaleOffsetRecord> ReadRecordFile(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRecord(text, path);
}

Status WriteRecordFile(const std::string& path, const ScaleOffsetRecord& rec, bool sync) {
  Result<std::string> text = FormatRecord(rec);
  if (!text.ok()) return text.status().WithContext("writing record file " + path);
  return WriteFileAtomic(path, *text, sync);
}

}  // namespace qcal::quant
