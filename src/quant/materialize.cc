#include "quant/materialize.h"

#include <map>
#include <tuple>

namespace qcal {
namespace {

// Dequantized float copy of an int8/int32 tensor: (q) * scale[c] along `axis`.
Tensor Dequantize(const Tensor& q, const std::vector<float>& scale, int axis) {
  Tensor out(DataType::kFloat32, q.shape());
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < q.rank(); ++d) inner *= q.dim(d);
  int64_t channels = q.rank() == 0 ? 1 : q.dim(axis);
  for (int64_t i = 0; i < q.numel(); ++i) {
    int64_t c = scale.size() == 1 ? 0 : (i / inner) % channels;
    out.data<float>()[i] = static_cast<float>(q.GetAsDouble(i) * static_cast<double>(scale[static_cast<size_t>(c)]));
  }
  return out;
}

class Materializer {
 public:
  Materializer(const Graph& g, QuantModelKind kind) : out_(g), kind_(kind) {}

  Status Apply(const QuantPlan& plan) {
    std::map<std::string, const LayerPlan*> by_node;
    for (const auto& lp : plan.layers) by_node[lp.layer.name] = &lp;
    std::vector<Node> nodes;
    const std::vector<Node> original = out_.nodes;  // Reserve() appends to out_.nodes while we walk
    for (Node n : original) {
      auto it = by_node.find(n.name);
      if (it != by_node.end()) QCAL_RETURN_IF_ERROR(RewriteLayer(*it->second, n, nodes));
      nodes.push_back(std::move(n));
    }
    out_.nodes = std::move(nodes);
    RemoveUnusedInitializers();
    return out_.TopoSort();
  }

  Graph Take() { return std::move(out_); }

 private:
  Status RewriteLayer(const LayerPlan& lp, Node& n, std::vector<Node>& nodes) {
    const QuantizableLayer& l = lp.layer;
    n.inputs[l.rule->act_input] = ActivationQdq(l.act_value, lp.act, nodes);
    if (l.weight_value.empty()) return Status::Ok();
    if (lp.weight_q.dtype() != DataType::kInt8) return Internal(n.Describe() + ": plan has no int8 weight");
    n.inputs[l.rule->weight_input] = Constant(n.name + "_weight", lp.weight_q, lp.scale_w, l.weight_axis, nodes);
    if (!l.bias_value.empty()) {
      std::vector<float> bias_scale(lp.scale_w.size());
      for (size_t c = 0; c < bias_scale.size(); ++c) bias_scale[c] = lp.act.scale * lp.scale_w[c];
      n.inputs[l.rule->bias_input] = Constant(n.name + "_bias", lp.bias_q, bias_scale, 0, nodes);
    }
    return Status::Ok();
  }

  // Returns the name of the dequantized activation, adding Q/DQ once per (tensor, factors).
  std::string ActivationQdq(const std::string& x, const ActivationFactors& f, std::vector<Node>& nodes) {
    auto key = std::make_tuple(x, f.scale, f.offset);
    auto it = qdq_.find(key);
    if (it != qdq_.end()) return it->second;
    std::string base = x + (qdq_count_[x]++ ? "_q" + std::to_string(qdq_count_[x]) : "");
    std::string s = AddInit(base + "_scale", Tensor::Scalar<float>(f.scale));
    std::string zp = AddInit(base + "_zero_point", Tensor::Scalar<int8_t>(static_cast<int8_t>(f.offset)));
    std::string q = out_.UniqueValueName(base + "_quantized");
    std::string dq = out_.UniqueValueName(base + "_dequantized");
    nodes.push_back(Node{out_.UniqueNodeName(base + "_QuantizeLinear"), "QuantizeLinear", "", {x, s, zp}, {q}, {}});
    Reserve(nodes.back());
    nodes.push_back(Node{out_.UniqueNodeName(base + "_DequantizeLinear"), "DequantizeLinear", "", {q, s, zp}, {dq}, {}});
    Reserve(nodes.back());
    return qdq_[key] = dq;
  }

  // A quantized constant: float values (fake-quant) or int + DequantizeLinear (deploy).
  std::string Constant(const std::string& base, const Tensor& q, const std::vector<float>& scale, int axis,
                       std::vector<Node>& nodes) {
    if (kind_ == QuantModelKind::kFakeQuant) return AddInit(base + "_fakequant", Dequantize(q, scale, axis));
    std::string qname = AddInit(base + "_quantized", q);
    Tensor s = scale.size() == 1 ? Tensor::Scalar<float>(scale[0])
                                 : Tensor::FromVector<float>(scale, {static_cast<int64_t>(scale.size())});
    Tensor zp = q.dtype() == DataType::kInt8 ? Tensor(DataType::kInt8, s.shape()) : Tensor(DataType::kInt32, s.shape());
    std::string sname = AddInit(base + "_scale", s);
    std::string zname = AddInit(base + "_zero_point", zp);
    std::string dq = out_.UniqueValueName(base + "_dequantized");
    Node n{out_.UniqueNodeName(base + "_DequantizeLinear"), "DequantizeLinear", "", {qname, sname, zname}, {dq}, {}};
    if (scale.size() > 1) n.attrs.Set("axis", static_cast<int64_t>(axis));
    Reserve(n);
    nodes.push_back(std::move(n));
    return dq;
  }

  std::string AddInit(const std::string& base, Tensor t) {
    std::string name = out_.UniqueValueName(base);
    out_.initializers[name] = std::move(t);
    return name;
  }

  // Makes a new node's name and outputs visible to Unique*Name before it is placed.
  void Reserve(const Node& n) { out_.nodes.push_back(n); }

  void RemoveUnusedInitializers() {
    std::map<std::string, int> used;
    for (const auto& n : out_.nodes) for (const auto& in : n.inputs) used[in]++;
    for (const auto& o : out_.outputs) used[o.name]++;
    for (auto it = out_.initializers.begin(); it != out_.initializers.end();) {
      it = used.count(it->first) ? std::next(it) : out_.initializers.erase(it);
    }
  }

  Graph out_;
  QuantModelKind kind_;
  std::map<std::tuple<std::string, float, int32_t>, std::string> qdq_;
  std::map<std::string, int> qdq_count_;
};

}  // namespace

Result<Graph> MaterializeQuantizedGraph(const Graph& graph, const QuantPlan& plan, QuantModelKind kind) {
  Materializer m(graph, kind);
  QCAL_RETURN_IF_ERROR(m.Apply(plan));
  return m.Take();
}

}  // namespace qcal
