// Text table and JSON for a CompareReport (qcal compare, auto-calibrate).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "accuracy/compare.h"

namespace qcal::accuracy {

// Layers worst first, one row each; rows with output cosine < threshold end in "<-- below".
std::string FormatCompareTable(const CompareReport& report, double cosine_threshold);

// {"samples", "cosine_threshold", "layers": [worst first: name, op_type, output,
//  cosine, sqnr_db, max_abs_error, below_threshold, weight_cosine, weight_sqnr_db], "outputs": [...]}.
// Infinite SQNR (identical values) is written as null.
nlohmann::ordered_json CompareReportJson(const CompareReport& report, double cosine_threshold);

}  // namespace qcal::accuracy
