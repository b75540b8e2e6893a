// The scale/offset record file: AMCT's `ScaleOffsetRecord` in protobuf text
// format (docs/record_format.md), read and written without protobuf.
//
//   # qcal 0.1.0 scale/offset record: algorithm=ifmr batch_num=2
//   record {
//     key: "conv1"
//     value { scale_d: 0.01 offset_d: -3 scale_w: 0.002 offset_w: 0 channels: 3 ... }
//   }
//
// Entries keep insertion order (file order when read); the writer emits them
// in that order, fields in schema order, floats as the shortest text that
// parses back to the same float32 (so write -> read is exact).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "qcal/status.h"

namespace qcal::quant {

// One layer's factors. Field names and types follow AMCT's SingleLayerRecord
// (Caffe schema) plus the ONNX-schema extras, so AMCT record files parse.
struct LayerRecord {
  std::optional<float> scale_d;      // activation scale (per tensor)
  std::optional<int32_t> offset_d;   // activation offset, [-128, 127]
  std::vector<float> scale_w;        // weight scale: 1 or one per output channel
  std::vector<int32_t> offset_w;     // weight offset: same length as scale_w, all 0
  std::vector<uint32_t> shift_bit;   // per-channel shift (joint quant): all 0 or each in [1, 16]
  std::optional<uint32_t> channels;  // layer INPUT C, H, W (Caffe schema)
  std::optional<uint32_t> height;
  std::optional<uint32_t> width;
  std::optional<bool> skip_fusion;  // skip Conv+BN(+Scale) fusion for this layer
  // ONNX-schema extras (kept for round trips; qcal does not interpret them).
  std::optional<bool> is_tensor_quantize;
  std::vector<float> tensor_balance_factor;
  std::optional<std::string> act_type, wts_type, dst_type, op_data_type;

  bool operator==(const LayerRecord&) const = default;
};

struct RecordHeader {
  std::string tool_version;  // QCAL_VERSION when written by qcal
  std::string algorithm;     // e.g. "ifmr" or "mixed"; empty = not stated
  int64_t batch_num = -1;    // -1 = not stated
  // Calibration progress: batches each layer's observer has seen, written as
  // comment lines `# batches "<layer>" <n>` so a later save can say why a
  // layer lacks factors. Comments: AMCT-style readers ignore them.
  std::vector<std::pair<std::string, int64_t>> layer_batches;
  bool operator==(const RecordHeader&) const = default;
};

class ScaleOffsetRecord {
 public:
  // The entry for `key`, appended (empty) if missing.
  LayerRecord& Upsert(const std::string& key);
  const LayerRecord* Find(std::string_view key) const;
  LayerRecord* FindMutable(std::string_view key);
  const std::vector<std::pair<std::string, LayerRecord>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  bool operator==(const ScaleOffsetRecord& o) const { return header == o.header && entries_ == o.entries_; }

  RecordHeader header;

 private:
  std::vector<std::pair<std::string, LayerRecord>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// Range and consistency rules applied on read and before write. Errors name
// the layer and the field:
//   scale_d, scale_w[i]: finite and > 0; offset_d in [-128, 127]; offset_w[i] == 0;
//   scale_d and offset_d together; offset_w and shift_bit (if present) as long
//   as scale_w; shift_bit all 0 or each in [1, 16]; tensor_balance_factor finite.
Status ValidateLayerRecord(std::string_view key, const LayerRecord& r);

// scale_w must have 1 or `out_channels` values. Needs the model: `channels` in
// the record is the layer's input C, not its output channel count.
Status CheckWeightChannels(std::string_view key, const LayerRecord& r, int64_t out_channels);

// NotFound "cannot find scale_d, offset_d of layer 'x' in record file f" when a
// quantized layer lacks its factors (AMCT's save_model check).
Status RequireFactors(const ScaleOffsetRecord& rec, std::string_view key, bool activation, bool weights,
                      std::string_view source);

// Text form; validates every entry first.
Result<std::string> FormatRecord(const ScaleOffsetRecord& rec);
// Parses and validates. Syntax errors: Corrupt "<source>:<line>:<col>: ...";
// rule violations: InvalidArgument "<source>:<line>: layer 'x': field ...".
Result<ScaleOffsetRecord> ParseRecord(std::string_view text, std::string_view source);

Result<ScaleOffsetRecord> ReadRecordFile(const std::string& path);
// Atomic (WriteFileAtomic; `sync` false: not flushed to the disk, for progress records).
Status WriteRecordFile(const std::string& path, const ScaleOffsetRecord& rec, bool sync = true);

}  // namespace qcal::quant
