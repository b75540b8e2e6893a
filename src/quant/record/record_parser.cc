// Reader for the record file: the recursive-descent grammar of
// ScaleOffsetRecord over the shared protobuf-text tokenizer (base/text_format.h):
// comments, nested messages with optional ':' before '{', scalars, repeated
// scalars one per line or as [a, b] lists, quoted strings, optional ',' / ';'.
#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "base/text_format.h"
#include "quant/record/record.h"

namespace qcal::quant {
namespace {

using pbtext::Lexer;
using pbtext::Tok;
using pbtext::Token;
using pbtext::ToBool;
using pbtext::ToEnum;
using pbtext::ToFloat;
using pbtext::ToInt;
using pbtext::ToString;

void ReadLayerBatches(std::string_view s, RecordHeader* h);

// Reads the first line's "# qcal <version> ...: algorithm=a batch_num=n" header, if any.
RecordHeader ReadHeader(std::string_view s) {
  RecordHeader h;
  std::string_view first = s.substr(0, s.find('\n'));
  if (first.rfind("# qcal ", 0) != 0) return h;
  std::string_view rest = first.substr(7);
  h.tool_version = std::string(rest.substr(0, rest.find(' ')));
  auto value = [&](std::string_view name) -> std::string {
    size_t p = rest.find(name);
    if (p == std::string_view::npos) return "";
    std::string_view v = rest.substr(p + name.size());
    return std::string(v.substr(0, v.find(' ')));
  };
  h.algorithm = value(" algorithm=");
  std::string b = value(" batch_num=");
  int64_t n = -1;
  if (!b.empty() && std::from_chars(b.data(), b.data() + b.size(), n).ec == std::errc()) h.batch_num = n;
  ReadLayerBatches(s, &h);
  return h;
}

// Lines `# batches "<layer>" <n>` (written by qcal); the name is a quoted string
// with the C escapes Quote() produces, decoded by the text-format lexer.
void ReadLayerBatches(std::string_view s, RecordHeader* h) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    std::string_view line = s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? s.size() : end + 1;
    if (line.rfind("# batches \"", 0) != 0) continue;
    size_t sp = line.rfind(' ');
    std::string_view quoted = line.substr(10, sp - 10), num = line.substr(sp + 1);
    if (quoted.size() < 2 || quoted.back() != '"') continue;
    Lexer lx(quoted, "record header");
    auto name = lx.Next();
    if (!name.ok() || name->kind != Tok::kString) continue;
    auto after = lx.Next();
    if (!after.ok() || after->kind != Tok::kEnd) continue;
    int64_t n = 0;
    if (std::from_chars(num.data(), num.data() + num.size(), n).ec == std::errc()) {
      h->layer_batches.push_back({name->text, n});
    }
  }
}

// ------------------------------------------------------------- field table

using Setter = std::function<Status(const Token&, const Lexer&, LayerRecord&)>;
struct FieldDef {
  bool repeated;
  Setter set;
};

template <typename T, typename Conv>
Setter SetOptional(std::optional<T> LayerRecord::*m, Conv conv) {
  return [m, conv](const Token& t, const Lexer& lx, LayerRecord& r) -> Status {
    auto v = conv(t, lx);
    if (!v.ok()) return v.status();
    r.*m = static_cast<T>(*v);
    return Status::Ok();
  };
}

template <typename T, typename Conv>
Setter AddRepeated(std::vector<T> LayerRecord::*m, Conv conv) {
  return [m, conv](const Token& t, const Lexer& lx, LayerRecord& r) -> Status {
    auto v = conv(t, lx);
    if (!v.ok()) return v.status();
    (r.*m).push_back(static_cast<T>(*v));
    return Status::Ok();
  };
}

const std::map<std::string, FieldDef>& Fields() {
  auto i32 = [](const Token& t, const Lexer& lx) {
    return ToInt(t, lx, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  };
  auto u32 = [](const Token& t, const Lexer& lx) {
    return ToInt(t, lx, 0, std::numeric_limits<uint32_t>::max());
  };
  static const std::map<std::string, FieldDef> fields = {
      {"scale_d", {false, SetOptional(&LayerRecord::scale_d, ToFloat)}},
      {"offset_d", {false, SetOptional(&LayerRecord::offset_d, i32)}},
      {"scale_w", {true, AddRepeated(&LayerRecord::scale_w, ToFloat)}},
      {"offset_w", {true, AddRepeated(&LayerRecord::offset_w, i32)}},
      {"shift_bit", {true, AddRepeated(&LayerRecord::shift_bit, u32)}},
      {"channels", {false, SetOptional(&LayerRecord::channels, u32)}},
      {"height", {false, SetOptional(&LayerRecord::height, u32)}},
      {"width", {false, SetOptional(&LayerRecord::width, u32)}},
      {"skip_fusion", {false, SetOptional(&LayerRecord::skip_fusion, ToBool)}},
      {"is_tensor_quantize", {false, SetOptional(&LayerRecord::is_tensor_quantize, ToBool)}},
      {"tensor_balance_factor", {true, AddRepeated(&LayerRecord::tensor_balance_factor, ToFloat)}},
      {"act_type", {false, SetOptional(&LayerRecord::act_type, ToString)}},
      {"wts_type", {false, SetOptional(&LayerRecord::wts_type, ToString)}},
      {"dst_type", {false, SetOptional(&LayerRecord::dst_type, ToString)}},
      {"op_data_type", {false, SetOptional(&LayerRecord::op_data_type, ToEnum)}},
  };
  return fields;
}

// --------------------------------------------------------------------- parser

class Parser : public pbtext::Parser {
 public:
  Parser(std::string_view text, std::string_view source) : pbtext::Parser(text, source), source_(source) {}

  Result<ScaleOffsetRecord> Parse() {
    ScaleOffsetRecord rec;
    rec.header = ReadHeader(lexer().text());
    std::map<std::string, int> first_line;
    QCAL_RETURN_IF_ERROR(Advance());
    while (!AtEnd()) {
      if (tok().kind != Tok::kIdent || tok().text != "record") {
        return Error(tok(), "expected 'record', got '" + tok().text + "'");
      }
      const int line = tok().line;
      QCAL_RETURN_IF_ERROR(Advance());
      std::string key;
      LayerRecord value;
      QCAL_RETURN_IF_ERROR(ParseEntry(&key, &value));
      if (auto it = first_line.find(key); it != first_line.end()) {
        return lexer().Error(
            line, 1, "duplicate record for layer '" + key + "' (first at line " + std::to_string(it->second) + ")");
      }
      Status valid = ValidateLayerRecord(key, value);
      if (!valid.ok()) return valid.WithContext(std::string(source_) + ":" + std::to_string(line));
      first_line[key] = line;
      rec.Upsert(key) = std::move(value);
      QCAL_RETURN_IF_ERROR(SkipSeparator());
    }
    return rec;
  }

 private:
  Status ParseEntry(std::string* key, LayerRecord* value) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage("record"));
    const int line = tok().line;
    bool has_key = false, has_value = false;
    QCAL_RETURN_IF_ERROR(ParseFields(close, [&](const Token& name) -> Status {
      if (name.text == "key") {
        if (has_key) return Error(name, "field 'key' is given twice");
        has_key = true;
        return ParseScalars(name, false, [&](const Token& t) -> Status {
          QCAL_ASSIGN_OR_RETURN(*key, ToString(t, lexer()));
          return Status::Ok();
        });
      }
      if (name.text == "value") {
        if (has_value) return Error(name, "field 'value' is given twice");
        has_value = true;
        return ParseValue(value, *key);
      }
      return Error(name, "unknown field '" + name.text + "' in record (expected key, value)");
    }));
    if (!has_key) return lexer().Error(line, 1, "record without a key");
    return Status::Ok();
  }

  Status ParseValue(LayerRecord* r, const std::string& key) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage("value"));
    std::set<std::string> seen;
    return ParseFields(close, [&](const Token& name) -> Status {
      auto it = Fields().find(name.text);
      if (it == Fields().end()) {
        return Error(name, "unknown field '" + name.text + "' in value of layer '" + key + "'");
      }
      const FieldDef& f = it->second;
      if (!f.repeated && !seen.insert(name.text).second) {
        return Error(name, "field '" + name.text + "' of layer '" + key + "' is given twice");
      }
      return ParseScalars(name, f.repeated, [&](const Token& t) { return f.set(t, lexer(), *r); });
    });
  }

  std::string_view source_;
};

}  // namespace

Result<ScaleOffsetRecord> ParseRecord(std::string_view text, std::string_view source) {
  return Parser(text, source).Parse();
}

}  // namespace qcal::quant
