// What `qcal save` (AMCT save_model) and `qcal convert` (AMCT convert_model)
// share: model, config, record and output flags, and one step that loads the
// model, builds the config and writes the models from the record.
#pragma once

#include <functional>
#include <string>

#include "cli/commands/model_flags.h"
#include "cli/commands/quant_flags.h"

namespace qcal::cli {

struct RecordSaveFlags {
  ModelFlags model;
  ConfigFlags config;
  std::string record;
  std::string save_path;
  std::string save_type = "both";
};

// SaveModelFromRecord or ConvertModel (exporters/save_model.h).
using RecordSaver = Status (*)(const QuantConfig&, const Graph&, const std::string& record_path, SaveType,
                               const std::string& prefix, SavedFiles*);

// Adds the model, config, --record (described by `record_help`), --save-path and --save-type flags.
void AddRecordSaveFlags(CLI::App& sub, RecordSaveFlags& flags, const std::string& record_help);

// The subcommand's callback: loads the model, makes the config, runs `saver`, prints the files.
std::function<int()> RecordSaveCommand(std::shared_ptr<const RecordSaveFlags> flags, RecordSaver saver);

}  // namespace qcal::cli
