// Running imported ONNX models on ONNX-test-style data (test_data_set_*/input_N.pb,
// output_N.pb) and comparing with ONNX's tolerance rule.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "frontends/onnx/onnx_tensor.h"
#include "runtime/executor.h"

namespace qcal::testing {

// |actual - expected| <= atol + rtol * |expected| for float32 (NaN equals NaN);
// integer and bool values must be equal. Dtype and shape must match.
inline void ExpectTensorsClose(const Tensor& expected, const Tensor& actual, const std::string& what, double rtol,
                               double atol) {
  ASSERT_EQ(DataTypeName(actual.dtype()), DataTypeName(expected.dtype())) << what;
  ASSERT_EQ(ShapeToString(actual.shape()), ShapeToString(expected.shape())) << what;
  int mismatches = 0;
  for (int64_t i = 0; i < expected.numel() && mismatches < 5; ++i) {
    if (expected.dtype() == DataType::kFloat32) {
      double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
      bool ok = (std::isnan(e) && std::isnan(a)) || e == a || std::fabs(a - e) <= atol + rtol * std::fabs(e);
      if (!ok) {
        ++mismatches;
        ADD_FAILURE() << what << "[" << i << "]: expected " << e << ", got " << a;
      }
    } else if (expected.GetAsInt64(i) != actual.GetAsInt64(i)) {
      ++mismatches;
      ADD_FAILURE() << what << "[" << i << "]: expected " << expected.GetAsInt64(i) << ", got "
                    << actual.GetAsInt64(i);
    }
  }
}

// Feeds input_N.pb to the graph inputs in order, runs, and compares output_N.pb
// with the graph outputs in order.
inline void RunTestDataSet(const Graph& graph, const std::string& set_dir, double rtol, double atol) {
  SCOPED_TRACE(set_dir);
  TensorMap inputs;
  std::map<std::string, Shape> shapes;
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    auto t = ReadTensorProtoFile(set_dir + "/input_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    inputs[graph.inputs[i].name] = t->tensor;
    shapes[graph.inputs[i].name] = t->tensor.shape();
  }
  auto exec = Executor::Create(graph, shapes);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  TensorMap outputs;
  Status st = (*exec)->Run(inputs, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    auto want = ReadTensorProtoFile(set_dir + "/output_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    const std::string& out = graph.outputs[i].name;
    ASSERT_TRUE(outputs.count(out)) << "output '" << out << "' missing";
    ExpectTensorsClose(want->tensor, outputs.at(out), "output '" + out + "'", rtol, atol);
  }
}

}  // namespace qcal::testing
