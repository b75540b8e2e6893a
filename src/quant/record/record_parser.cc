// Reader for the record file: a tokenizer and recursive-descent parser for the
// subset of protobuf text format that ScaleOffsetRecord uses (comments, nested
// messages with optional ':' before '{', scalars, repeated scalars one per line
// or as [a, b] lists, quoted strings with C escapes, optional ',' / ';').
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "quant/record/record.h"

namespace qcal::quant {
namespace {

enum class Tok { kEnd, kIdent, kNumber, kString, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier / number text / decoded string / punctuation char
  int line = 1, col = 1;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  Status Error(int line, int col, const std::string& msg) const {
    return Corrupt(std::string(source_) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                   msg);
  }

  // Reads the first line's "# qcal <version> ...: algorithm=a batch_num=n" header, if any.
  RecordHeader Header() const {
    RecordHeader h;
    std::string_view first = s_.substr(0, s_.find('\n'));
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
    ReadLayerBatches(&h);
    return h;
  }

  // Lines `# batches "<layer>" <n>` (written by qcal; no escapes in the name needed
  // beyond \" and \\, which Quote() produces).
  void ReadLayerBatches(RecordHeader* h) const {
    size_t pos = 0;
    while (pos < s_.size()) {
      size_t end = s_.find('\n', pos);
      std::string_view line = s_.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
      pos = end == std::string_view::npos ? s_.size() : end + 1;
      if (line.rfind("# batches \"", 0) != 0) continue;
      size_t sp = line.rfind(' ');
      std::string_view quoted = line.substr(10, sp - 10), num = line.substr(sp + 1);
      if (quoted.size() < 2 || quoted.back() != '"') continue;
      std::string name;
      for (size_t i = 1; i + 1 < quoted.size(); ++i) {
        if (quoted[i] == '\\' && i + 2 < quoted.size()) ++i;
        name += quoted[i];
      }
      int64_t n = 0;
      if (std::from_chars(num.data(), num.data() + num.size(), n).ec == std::errc()) {
        h->layer_batches.push_back({name, n});
      }
    }
  }

  Result<Token> Next() {
    SkipSpaceAndComments();
    Token t;
    t.line = line_;
    t.col = col_;
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Tok::kIdent;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        t.text += Get();
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      t.kind = Tok::kNumber;
      t.text += Get();
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
              ((s_[pos_] == '-' || s_[pos_] == '+') && (t.text.back() == 'e' || t.text.back() == 'E')))) {
        t.text += Get();
      }
      return t;
    }
    if (c == '"' || c == '\'') return ReadString(t);
    if (std::string_view("{}[]:,;<>").find(c) != std::string_view::npos) {
      t.kind = Tok::kPunct;
      t.text = std::string(1, Get());
      return t;
    }
    return Error(line_, col_, std::string("unexpected character '") + c + "'");
  }

 private:
  char Get() {
    char c = s_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }

  void SkipSpaceAndComments() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') Get();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        Get();
      } else {
        return;
      }
    }
  }

  Result<Token> ReadString(Token t) {
    t.kind = Tok::kString;
    const char quote = Get();
    while (true) {
      if (pos_ >= s_.size() || s_[pos_] == '\n') return Error(t.line, t.col, "unterminated string");
      char c = Get();
      if (c == quote) break;
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (pos_ >= s_.size()) return Error(t.line, t.col, "unterminated string");
      const int esc_line = line_, esc_col = col_ - 1;
      char e = Get();
      static const std::map<char, char> kSimple = {{'n', '\n'}, {'t', '\t'},  {'r', '\r'}, {'\\', '\\'},
                                                   {'"', '"'},  {'\'', '\''}, {'a', '\a'}, {'b', '\b'},
                                                   {'f', '\f'}, {'v', '\v'},  {'?', '?'}};
      if (auto it = kSimple.find(e); it != kSimple.end()) {
        t.text += it->second;
      } else if (e >= '0' && e <= '7') {
        int v = e - '0';
        for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i)
          v = v * 8 + (Get() - '0');
        if (v > 255) return Error(esc_line, esc_col, "octal escape out of range");
        t.text += static_cast<char>(v);
      } else if (e == 'x' && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
        int v = 0;
        for (int i = 0; i < 2 && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]));
             ++i) {
          v = v * 16 + std::stoi(std::string(1, Get()), nullptr, 16);
        }
        t.text += static_cast<char>(v);
      } else {
        return Error(esc_line, esc_col, std::string("unknown escape '\\") + e + "' in string");
      }
    }
    return t;
  }

  std::string_view s_, source_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

// ------------------------------------------------------------ scalar decoding

Result<float> ToFloat(const Token& t, const Lexer& lx) {
  std::string s = t.text;
  if (t.kind == Tok::kIdent || t.kind == Tok::kNumber) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool neg = !lower.empty() && lower[0] == '-';
    std::string body = neg || (!lower.empty() && lower[0] == '+') ? lower.substr(1) : lower;
    if (body == "inf" || body == "infinity") return neg ? -INFINITY : INFINITY;
    if (body == "nan") return NAN;
  }
  if (t.kind != Tok::kNumber) return lx.Error(t.line, t.col, "expected a number, got '" + s + "'");
  if (!s.empty() && (s.back() == 'f' || s.back() == 'F') && s.find_first_of("xX") == std::string::npos)
    s.pop_back();
  size_t start = s[0] == '+' ? 1 : 0;
  float v = 0;
  auto r = std::from_chars(s.data() + start, s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range)
    return lx.Error(t.line, t.col, "number '" + t.text + "' is out of float range");
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return lx.Error(t.line, t.col, "'" + t.text + "' is not a valid number");
  }
  return v;
}

Result<int64_t> ToInt(const Token& t, const Lexer& lx, int64_t lo, int64_t hi) {
  if (t.kind != Tok::kNumber) return lx.Error(t.line, t.col, "expected an integer, got '" + t.text + "'");
  std::string s = t.text;
  bool neg = s[0] == '-';
  if (neg || s[0] == '+') s = s.substr(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s = s.substr(2);
  }
  uint64_t mag = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), mag, base);
  if (s.empty() || r.ec == std::errc::invalid_argument || r.ptr != s.data() + s.size()) {
    return lx.Error(t.line, t.col, "'" + t.text + "' is not a valid integer");
  }
  if (r.ec == std::errc::result_out_of_range ||
      mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return lx.Error(t.line, t.col, "integer '" + t.text + "' is out of range");
  }
  int64_t v = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  if (v < lo || v > hi) {
    return lx.Error(
        t.line, t.col,
        "integer " + t.text + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

Result<bool> ToBool(const Token& t, const Lexer& lx) {
  static const std::map<std::string, bool> kValues = {{"true", true}, {"True", true},   {"t", true},
                                                      {"1", true},    {"false", false}, {"False", false},
                                                      {"f", false},   {"0", false}};
  auto it = kValues.find(t.text);
  if (t.kind == Tok::kString || it == kValues.end())
    return lx.Error(t.line, t.col, "expected true or false, got '" + t.text + "'");
  return it->second;
}

Result<std::string> ToString(const Token& t, const Lexer& lx) {
  if (t.kind != Tok::kString)
    return lx.Error(t.line, t.col, "expected a quoted string, got '" + t.text + "'");
  return t.text;
}

Result<std::string> ToEnum(const Token& t, const Lexer& lx) {
  if (t.kind != Tok::kIdent) return lx.Error(t.line, t.col, "expected an enum name, got '" + t.text + "'");
  return t.text;
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

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : lx_(text, source), source_(source) {}

  Result<ScaleOffsetRecord> Parse() {
    ScaleOffsetRecord rec;
    rec.header = lx_.Header();
    std::map<std::string, int> first_line;
    QCAL_RETURN_IF_ERROR(Advance());
    while (tok_.kind != Tok::kEnd) {
      if (tok_.kind != Tok::kIdent || tok_.text != "record") {
        return lx_.Error(tok_.line, tok_.col, "expected 'record', got '" + tok_.text + "'");
      }
      const int line = tok_.line;
      QCAL_RETURN_IF_ERROR(Advance());
      std::string key;
      LayerRecord value;
      QCAL_RETURN_IF_ERROR(ParseEntry(&key, &value));
      if (auto it = first_line.find(key); it != first_line.end()) {
        return lx_.Error(
            line, 1,
            "duplicate record for layer '" + key + "' (first at line " + std::to_string(it->second) + ")");
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
  Status Advance() {
    QCAL_ASSIGN_OR_RETURN(tok_, lx_.Next());
    return Status::Ok();
  }
  bool Is(const char* punct) const { return tok_.kind == Tok::kPunct && tok_.text == punct; }
  Status Expect(const char* punct, const std::string& what) {
    if (!Is(punct)) {
      return lx_.Error(tok_.line, tok_.col,
                       "expected '" + std::string(punct) + "' " + what + ", got " + Describe(tok_));
    }
    return Advance();
  }
  static std::string Describe(const Token& t) {
    return t.kind == Tok::kEnd ? "end of file" : "'" + t.text + "'";
  }
  Status SkipSeparator() { return Is(",") || Is(";") ? Advance() : Status::Ok(); }

  // Message start: optional ':' then '{' or '<'; returns the closing delimiter.
  Result<std::string> OpenMessage(const std::string& name) {
    if (Is(":")) QCAL_RETURN_IF_ERROR(Advance());
    if (Is("{") || Is("<")) {
      std::string close = Is("{") ? "}" : ">";
      QCAL_RETURN_IF_ERROR(Advance());
      return close;
    }
    return lx_.Error(tok_.line, tok_.col, "expected '{' after '" + name + "', got " + Describe(tok_));
  }

  Status ParseEntry(std::string* key, LayerRecord* value) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage("record"));
    const int line = tok_.line;
    bool has_key = false, has_value = false;
    while (!Is(close.c_str())) {
      if (tok_.kind != Tok::kIdent)
        return lx_.Error(tok_.line, tok_.col, "expected a field name, got " + Describe(tok_));
      Token name = tok_;
      QCAL_RETURN_IF_ERROR(Advance());
      if (name.text == "key") {
        if (has_key) return lx_.Error(name.line, name.col, "field 'key' is given twice");
        QCAL_RETURN_IF_ERROR(Expect(":", "after 'key'"));
        QCAL_ASSIGN_OR_RETURN(*key, ToString(tok_, lx_));
        has_key = true;
        QCAL_RETURN_IF_ERROR(Advance());
      } else if (name.text == "value") {
        if (has_value) return lx_.Error(name.line, name.col, "field 'value' is given twice");
        has_value = true;
        QCAL_RETURN_IF_ERROR(ParseValue(value, *key));
      } else {
        return lx_.Error(name.line, name.col,
                         "unknown field '" + name.text + "' in record (expected key, value)");
      }
      QCAL_RETURN_IF_ERROR(SkipSeparator());
    }
    if (!has_key) return lx_.Error(line, 1, "record without a key");
    return Advance();
  }

  Status ParseValue(LayerRecord* r, const std::string& key) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage("value"));
    std::set<std::string> seen;
    while (!Is(close.c_str())) {
      if (tok_.kind != Tok::kIdent)
        return lx_.Error(tok_.line, tok_.col, "expected a field name, got " + Describe(tok_));
      Token name = tok_;
      auto it = Fields().find(name.text);
      if (it == Fields().end()) {
        return lx_.Error(name.line, name.col,
                         "unknown field '" + name.text + "' in value of layer '" + key + "'");
      }
      const FieldDef& f = it->second;
      if (!f.repeated && !seen.insert(name.text).second) {
        return lx_.Error(name.line, name.col,
                         "field '" + name.text + "' of layer '" + key + "' is given twice");
      }
      QCAL_RETURN_IF_ERROR(Advance());
      QCAL_RETURN_IF_ERROR(Expect(":", "after '" + name.text + "'"));
      if (f.repeated && Is("[")) {
        QCAL_RETURN_IF_ERROR(Advance());
        while (!Is("]")) {
          if (tok_.kind == Tok::kEnd) return lx_.Error(tok_.line, tok_.col, "unexpected end of file in list");
          QCAL_RETURN_IF_ERROR(f.set(tok_, lx_, *r));
          QCAL_RETURN_IF_ERROR(Advance());
          if (Is(",")) {
            QCAL_RETURN_IF_ERROR(Advance());
          } else if (!Is("]")) {
            return lx_.Error(tok_.line, tok_.col, "expected ',' or ']' in list, got " + Describe(tok_));
          }
        }
      } else {
        if (tok_.kind == Tok::kEnd) return lx_.Error(tok_.line, tok_.col, "unexpected end of file");
        QCAL_RETURN_IF_ERROR(f.set(tok_, lx_, *r));
      }
      QCAL_RETURN_IF_ERROR(Advance());
      QCAL_RETURN_IF_ERROR(SkipSeparator());
    }
    return Advance();
  }

  Lexer lx_;
  std::string_view source_;
  Token tok_;
};

}  // namespace

Result<ScaleOffsetRecord> ParseRecord(std::string_view text, std::string_view source) {
  return Parser(text, source).Parse();
}

}  // namespace qcal::quant
