// The residual add of an exact sum (calibration's FusedConv, conv.cc) when Z
// and Y hold the same NCHW tensor in different layouts: Y = act(Y + Z) read
// straight from Z's layout, instead of reordering Z into a staging copy in Y's
// layout first (a buffer per conv that the first run faults in page by page,
// and a second pass over Z in every run).
#pragma once

#include <cstdint>

#include "kernels/ref/quant_output.h"
#include "kernels/registry.h"

namespace qcal::dnnl_kernels {

// The logical NCHW extent of Y and Z.
struct ResidualDims {
  int64_t n = 0, c = 0, hw = 0;
};

// y = ref::ResidualOutputValue(y, z, act) element by element, y in y_layout and
// z in z_layout (each kPlain or a blocked kNChw8c / kNChw16c, whose lanes past
// c are padding). A blocked y's padding lanes add Z's padding lanes when Z has
// y's layout (ApplyResidual over the whole buffer), else 0 (what a reorder of
// Z into y's layout puts there). Same IEEE operations as
// ApplyResidual on a reordered Z, so bit-identical to it; multi-threaded with
// the OpenMP runtime.
void ApplyResidualRelayout(ref::ResidualActivation act, const float* z, Layout z_layout, float* y,
                           Layout y_layout, const ResidualDims& dims);

// Whether ApplyResidualRelayout has a vector path for these layouts on this
// machine (AVX-512; Y or Z NCHW, the other blocked by 16 for a blocked Y); otherwise it
// runs the scalar definition, and a reorder of Z plus ApplyResidual is faster.
bool ResidualRelayoutIsVectorized(Layout z_layout, Layout y_layout);

// The scalar definition (tests compare the vector paths with it).
void ApplyResidualRelayoutReference(ref::ResidualActivation act, const float* z, Layout z_layout, float* y,
                                    Layout y_layout, const ResidualDims& dims);

}  // namespace qcal::dnnl_kernels
