// Naive pooling by definition, shared by the MaxPool and AveragePool tests.
#pragma once

#include <algorithm>
#include <limits>

#include "kernels/nn_test_util.h"

namespace qcal::testing {

struct PoolCase {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end;
  std::vector<int64_t> out;  // expected output spatial dims (computed by hand in the test)
};

// Visits every output element: f(output_multi_index, values of taps inside the input, taps in window).
template <typename T, typename F>
void ForEachWindow(const Tensor& x, const PoolCase& c, F&& f) {
  const size_t r = c.kernel.size();
  Shape out = {x.dim(0), x.dim(1)};
  out.insert(out.end(), c.out.begin(), c.out.end());
  std::vector<int64_t> oi(out.size(), 0);
  do {
    std::vector<T> vals;
    std::vector<int64_t> k(r, 0);
    int64_t taps = 0;
    do {
      ++taps;
      std::vector<int64_t> xi = {oi[0], oi[1]};
      bool inside = true;
      for (size_t i = 0; i < r; ++i) {
        int64_t p = oi[2 + i] * c.strides[i] - c.pad_begin[i] + k[i] * c.dilations[i];
        inside = inside && p >= 0 && p < x.dim(2 + i);
        xi.push_back(p);
      }
      if (inside) vals.push_back(x.data<T>()[Offset(x.shape(), xi)]);
    } while (NextIndex(Shape(c.kernel.begin(), c.kernel.end()), k));
    f(out, oi, vals, taps);
  } while (NextIndex(out, oi));
}

template <typename T>
Tensor NaiveMaxPool(const Tensor& x, const PoolCase& c) {
  Shape out = {x.dim(0), x.dim(1)};
  out.insert(out.end(), c.out.begin(), c.out.end());
  Tensor y(x.dtype(), out);
  ForEachWindow<T>(x, c, [&](const Shape& s, const std::vector<int64_t>& oi, const std::vector<T>& v, int64_t) {
    y.data<T>()[Offset(s, oi)] = *std::max_element(v.begin(), v.end());
  });
  return y;
}

inline Tensor NaiveAveragePool(const Tensor& x, const PoolCase& c, bool include_pad) {
  Shape out = {x.dim(0), x.dim(1)};
  out.insert(out.end(), c.out.begin(), c.out.end());
  Tensor y(DataType::kFloat32, out);
  ForEachWindow<float>(x, c, [&](const Shape& s, const std::vector<int64_t>& oi, const std::vector<float>& v,
                                 int64_t taps) {
    double sum = 0;
    for (float f : v) sum += f;
    y.data<float>()[Offset(s, oi)] = static_cast<float>(sum / double(include_pad ? taps : int64_t(v.size())));
  });
  return y;
}

inline Attributes PoolAttrs(const PoolCase& c, bool ceil_mode) {
  Attributes a;
  a.Set("kernel_shape", c.kernel);
  a.Set("strides", c.strides);
  a.Set("dilations", c.dilations);
  std::vector<int64_t> pads = c.pad_begin;
  pads.insert(pads.end(), c.pad_end.begin(), c.pad_end.end());
  a.Set("pads", pads);
  a.Set("ceil_mode", int64_t{ceil_mode});
  return a;
}

}  // namespace qcal::testing
