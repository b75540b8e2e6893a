#include "accuracy/compare.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "quant/rules.h"

namespace qcal::accuracy {
namespace {

const Node* FindProducer(const std::map<std::string, const Node*>& producers, const std::string& value) {
  auto it = producers.find(value);
  return it == producers.end() ? nullptr : it->second;
}

const Node* FindNode(const Graph& g, const std::string& name) {
  for (const auto& n : g.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

std::map<std::string, const Node*> Producers(const Graph& g) {
  std::map<std::string, const Node*> p;
  for (const auto& n : g.nodes) {
    for (const auto& o : n.outputs) p[o] = &n;
  }
  return p;
}

// A constant input of the quantized graph: an initializer, or DequantizeLinear
// of initializers (deploy weights and biases).
std::optional<Tensor> ConstantValue(const Graph& g, const std::map<std::string, const Node*>& producers,
                                    const std::string& value) {
  auto init = g.initializers.find(value);
  if (init != g.initializers.end()) return init->second;
  auto it = producers.find(value);
  if (it == producers.end() || it->second->op_type != "DequantizeLinear") return std::nullopt;
  std::vector<const Tensor*> inputs;
  for (const auto& in : it->second->inputs) {
    auto c = g.initializers.find(in);
    if (c == g.initializers.end()) return std::nullopt;
    inputs.push_back(&c->second);
  }
  auto out = EvaluateNode(*it->second, inputs);
  if (!out.ok() || out->empty()) return std::nullopt;
  return (*out)[0];
}

// Constants for inputs 1.. of `n` (input 0 is filled per batch); nullopt if one is not constant.
std::optional<std::vector<Tensor>> TrailingConstants(const Graph& g, const std::map<std::string, const Node*>& producers,
                                                     const Node& n, size_t skip) {
  std::vector<Tensor> out(n.inputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (i == skip || n.inputs[i].empty()) continue;
    std::optional<Tensor> c = ConstantValue(g, producers, n.inputs[i]);
    if (!c) return std::nullopt;
    out[i] = *c;
  }
  return out;
}

std::optional<ErrorAccumulator> WeightError(const Graph& fp32, const Node& fnode, const Graph& quantized,
                                            const Node& qnode, const std::map<std::string, const Node*>& producers,
                                            const QuantRule& rule) {
  auto w = static_cast<size_t>(rule.weight_input);
  if (rule.weight_input < 0 || w >= fnode.inputs.size() || w >= qnode.inputs.size()) return std::nullopt;
  auto f = fp32.initializers.find(fnode.inputs[w]);
  if (f == fp32.initializers.end() || f->second.dtype() != DataType::kFloat32) return std::nullopt;
  std::optional<Tensor> q = ConstantValue(quantized, producers, qnode.inputs[w]);
  if (!q || q->numel() != f->second.numel() || q->dtype() != DataType::kFloat32) return std::nullopt;
  ErrorAccumulator acc;
  acc.Add(f->second.data<float>(), q->data<float>(), q->numel());
  return acc;
}

Status CheckPair(const Tensor& ref, const Tensor& test, const std::string& what) {
  if (ref.dtype() != DataType::kFloat32 || test.dtype() != DataType::kFloat32) {
    return Unsupported(what + ": only float32 outputs can be compared");
  }
  if (ref.shape() != test.shape()) {
    return InvalidArgument(what + ": the FP32 and quantized outputs have different shapes (" +
                           ShapeToString(ref.shape()) + " vs " + ShapeToString(test.shape()) + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ModelComparer>> ModelComparer::Create(const Graph& fp32, const Graph& quantized,
                                                             int threads) {
  std::unique_ptr<ModelComparer> c(new ModelComparer());
  auto producers = Producers(quantized);
  for (const auto& q : quantized.nodes) {
    const QuantRule* rule = FindQuantRule(q.op_type);
    if (!rule || static_cast<size_t>(rule->act_input) >= q.inputs.size() || q.outputs.empty()) continue;
    auto p = producers.find(q.inputs[rule->act_input]);
    if (p == producers.end() || p->second->op_type != "DequantizeLinear") continue;
    const Node* f = FindNode(fp32, q.name);
    if (!f || f->op_type != q.op_type || f->outputs.empty()) {
      return InvalidArgument("quantized layer \"" + q.name + "\" (" + q.op_type + ") has no " + q.op_type +
                             " node of that name in the FP32 model; was the quantized model made from this "
                             "model (with the same BN folding settings)?");
    }
    c->isolated_.push_back(std::nullopt);
    const Node* qn = p->second->inputs.empty() ? nullptr : FindProducer(producers, p->second->inputs[0]);
    auto layer_in = TrailingConstants(quantized, producers, q, static_cast<size_t>(rule->act_input));
    if (qn && qn->op_type == "QuantizeLinear" && layer_in) {
      auto q_in = TrailingConstants(quantized, producers, *qn, 0);
      auto dq_in = TrailingConstants(quantized, producers, *p->second, 0);
      std::string act = f->inputs[static_cast<size_t>(rule->act_input)];
      if (q_in && dq_in && qn->inputs[0] == act) {
        c->isolated_.back() = Isolated{*qn, *p->second, q, *q_in, *dq_in, *layer_in, rule->act_input, act};
        c->act_uses_[act]++;
      }
    }
    c->fp32_node_to_layer_[f->name] = c->report_.layers.size();
    c->quant_node_to_layer_[q.name] = c->report_.layers.size();
    c->report_.layers.push_back({q.name, q.op_type, q.outputs[0], {}, std::nullopt,
                                 WeightError(fp32, *f, quantized, q, producers, *rule)});
    if (c->isolated_.back()) c->report_.layers.back().alone = ErrorAccumulator();
  }
  if (c->report_.layers.empty()) {
    return InvalidArgument("the quantized model has no quantized layer (no quantizable node reads a "
                           "DequantizeLinear output); give the fake-quant or deploy model qcal saved");
  }
  for (const auto& o : quantized.outputs) {
    for (const auto& fo : fp32.outputs) {
      if (fo.name == o.name) c->report_.outputs.push_back({o.name, "output", o.name, {}, std::nullopt, std::nullopt});
    }
  }
  c->captured_.resize(c->report_.layers.size());
  ExecutorOptions eo;
  eo.threads = threads;
  QCAL_ASSIGN_OR_RETURN(c->fp32_, Executor::Create(fp32, {}, eo));
  QCAL_ASSIGN_OR_RETURN(c->quant_, Executor::Create(quantized, {}, eo));
  ModelComparer* self = c.get();
  c->fp32_->SetObserver([self](const Node& n, const std::vector<const Tensor*>& outs) { return self->Capture(n, outs); });
  c->quant_->SetObserver(
      [self](const Node& n, const std::vector<const Tensor*>& outs) { return self->Accumulate(n, outs); });
  return c;
}

Status ModelComparer::Capture(const Node& node, const std::vector<const Tensor*>& outputs) {
  size_t k = 0;
  for (const auto& name : node.outputs) {
    if (name.empty()) continue;
    if (act_uses_.count(name)) captured_acts_[name] = *outputs[k];
    ++k;
  }
  auto it = fp32_node_to_layer_.find(node.name);
  if (it == fp32_node_to_layer_.end() || outputs.empty()) return Status::Ok();
  captured_[it->second] = *outputs[0];
  if (isolated_[it->second]) QCAL_RETURN_IF_ERROR(AddIsolated(it->second, *isolated_[it->second], *outputs[0]));
  return Status::Ok();
}

Status ModelComparer::AddIsolated(size_t index, const Isolated& iso, const Tensor& ref) {
  auto act = captured_acts_.find(iso.act_value);
  if (act == captured_acts_.end()) return Internal("layer-only error: FP32 value '" + iso.act_value + "' not seen");
  auto run = [](const Node& n, const std::vector<Tensor>& consts, size_t slot, const Tensor& x) {
    std::vector<const Tensor*> in;
    for (size_t i = 0; i < consts.size(); ++i) in.push_back(i == slot ? &x : &consts[i]);
    return EvaluateNode(n, in);
  };
  std::string where = "layer \"" + iso.layer.name + "\" alone";
  QCAL_ASSIGN_OR_RETURN(auto q, run(iso.quantize, iso.quantize_in, 0, act->second));
  QCAL_ASSIGN_OR_RETURN(auto dq, run(iso.dequantize, iso.dequantize_in, 0, q[0]));
  QCAL_ASSIGN_OR_RETURN(auto y, run(iso.layer, iso.layer_in, static_cast<size_t>(iso.act_input), dq[0]));
  QCAL_RETURN_IF_ERROR(CheckPair(ref, y[0], where));
  report_.layers[index].alone->Add(ref.data<float>(), y[0].data<float>(), ref.numel());
  if (--act_left_[iso.act_value] == 0) captured_acts_.erase(act);
  return Status::Ok();
}

Status ModelComparer::Accumulate(const Node& node, const std::vector<const Tensor*>& outputs) {
  auto it = quant_node_to_layer_.find(node.name);
  if (it == quant_node_to_layer_.end() || outputs.empty()) return Status::Ok();
  Tensor ref = std::move(captured_[it->second]);
  captured_[it->second] = Tensor();
  if (ref.empty()) return Internal("layer \"" + node.name + "\": the FP32 model produced no output for it");
  const Tensor& test = *outputs[0];
  QCAL_RETURN_IF_ERROR(CheckPair(ref, test, "layer \"" + node.name + "\""));
  report_.layers[it->second].output.Add(ref.data<float>(), test.data<float>(), ref.numel());
  return Status::Ok();
}

Status ModelComparer::AddBatch(const TensorMap& inputs) {
  TensorMap ref, test;
  act_left_ = act_uses_;
  captured_acts_.clear();
  for (const auto& [name, t] : inputs) {
    if (act_uses_.count(name)) captured_acts_[name] = t;
  }
  QCAL_RETURN_IF_ERROR(fp32_->Run(inputs, &ref).WithContext("running the FP32 model"));
  QCAL_RETURN_IF_ERROR(quant_->Run(inputs, &test).WithContext("running the quantized model"));
  for (auto& o : report_.outputs) {
    const Tensor &r = ref.at(o.value), &t = test.at(o.value);
    QCAL_RETURN_IF_ERROR(CheckPair(r, t, "model output '" + o.value + "'"));
    o.output.Add(r.data<float>(), t.data<float>(), r.numel());
  }
  if (!inputs.empty()) report_.samples += inputs.begin()->second.rank() ? inputs.begin()->second.dim(0) : 1;
  return Status::Ok();
}

Tensor FirstSamples(const Tensor& batch, int64_t keep) {
  Shape shape = batch.shape();
  if (shape.empty() || keep >= shape[0]) return batch;
  shape[0] = keep;
  Tensor out(batch.dtype(), shape);
  std::memcpy(out.raw(), batch.raw(), out.nbytes());
  return out;
}

Result<CompareReport> CompareOnData(const Graph& fp32, const Graph& quantized, const data::DataSource& source,
                                    const CompareOptions& options) {
  if (fp32.inputs.size() != 1) return Unsupported("comparison feeds one model input");
  QCAL_ASSIGN_OR_RETURN(auto comparer, ModelComparer::Create(fp32, quantized, options.threads));
  data::Batcher batcher(source, options.batch_size);
  int64_t total = options.limit > 0 ? std::min(options.limit, source.size()) : source.size();
  int64_t seen = 0;
  for (int64_t b = 0; b < batcher.num_batches() && seen < total; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    Tensor x = FirstSamples(batch.data, total - seen);
    seen += x.dim(0);
    QCAL_RETURN_IF_ERROR(comparer->AddBatch({{fp32.inputs[0].name, x}}));
    if ((b + 1) % 20 == 0) LogInfo("compare: " + std::to_string(seen) + "/" + std::to_string(total));
  }
  return comparer->report();
}

std::vector<const LayerError*> WorstFirst(const CompareReport& report, bool alone) {
  std::vector<const LayerError*> order;
  for (const auto& l : report.layers) order.push_back(&l);
  auto key = [alone](const LayerError* l) { return alone && l->alone ? l->alone->Cosine() : l->output.Cosine(); };
  std::stable_sort(order.begin(), order.end(), [&](const LayerError* a, const LayerError* b) { return key(a) < key(b); });
  return order;
}

}  // namespace qcal::accuracy
