#include "ir/attribute.h"

#include <sstream>

namespace qcal {

namespace {
template <typename T>
std::string JoinList(const std::vector<T>& v) {
  std::ostringstream ss;
  ss << "[";
  for (size_t i = 0; i < v.size(); ++i) ss << (i ? "," : "") << v[i];
  ss << "]";
  return ss.str();
}
struct AttrPrinter {
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(float v) const {
    std::ostringstream ss;
    ss << v;
    return ss.str();
  }
  std::string operator()(const std::string& v) const { return "\"" + v + "\""; }
  std::string operator()(const std::vector<int64_t>& v) const { return JoinList(v); }
  std::string operator()(const std::vector<float>& v) const { return JoinList(v); }
  std::string operator()(const std::vector<std::string>& v) const { return JoinList(v); }
  std::string operator()(const Tensor& t) const {
    return "tensor<" + std::string(DataTypeName(t.dtype())) + ShapeToString(t.shape()) + ">";
  }
};
template <typename T>
const T* GetAs(const Attributes& a, const std::string& name) {
  const Attribute* v = a.Find(name);
  return v ? std::get_if<T>(v) : nullptr;
}
}  // namespace

std::string AttributeToString(const Attribute& a) { return std::visit(AttrPrinter{}, a); }

const Attribute* Attributes::Find(const std::string& name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

int64_t Attributes::GetInt(const std::string& name, int64_t def) const {
  const auto* v = GetAs<int64_t>(*this, name);
  return v ? *v : def;
}
float Attributes::GetFloat(const std::string& name, float def) const {
  if (const auto* v = GetAs<float>(*this, name)) return *v;
  if (const auto* i = GetAs<int64_t>(*this, name)) return static_cast<float>(*i);
  return def;
}
std::string Attributes::GetString(const std::string& name, const std::string& def) const {
  const auto* v = GetAs<std::string>(*this, name);
  return v ? *v : def;
}
std::vector<int64_t> Attributes::GetInts(const std::string& name, const std::vector<int64_t>& def) const {
  const auto* v = GetAs<std::vector<int64_t>>(*this, name);
  return v ? *v : def;
}
std::vector<float> Attributes::GetFloats(const std::string& name, const std::vector<float>& def) const {
  const auto* v = GetAs<std::vector<float>>(*this, name);
  return v ? *v : def;
}
const Tensor* Attributes::GetTensor(const std::string& name) const { return GetAs<Tensor>(*this, name); }

}  // namespace qcal
