// Named, typed node attributes (the ONNX attribute kinds qcal uses).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ir/tensor.h"

namespace qcal {

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor>;

std::string AttributeToString(const Attribute& a);

// Ordered by name so dumps and exports are deterministic.
class Attributes {
 public:
  bool Has(const std::string& name) const { return map_.count(name) != 0; }
  void Set(const std::string& name, Attribute value) { map_[name] = std::move(value); }
  void Erase(const std::string& name) { map_.erase(name); }
  const Attribute* Find(const std::string& name) const;
  const std::map<std::string, Attribute>& all() const { return map_; }

  // Typed getters: return `def` when the attribute is absent. A present attribute
  // of the wrong kind also returns `def`; use the Result forms to detect that.
  int64_t GetInt(const std::string& name, int64_t def) const;
  float GetFloat(const std::string& name, float def) const;
  std::string GetString(const std::string& name, const std::string& def) const;
  std::vector<int64_t> GetInts(const std::string& name, const std::vector<int64_t>& def = {}) const;
  std::vector<float> GetFloats(const std::string& name, const std::vector<float>& def = {}) const;
  const Tensor* GetTensor(const std::string& name) const;

 private:
  std::map<std::string, Attribute> map_;
};

}  // namespace qcal
