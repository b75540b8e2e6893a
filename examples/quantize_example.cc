// End-to-end post-training quantization through qcal's public API only
// (include/qcal/): load the Fashion-MNIST CNN, create the config, calibrate on
// N batches of the idx training images, save the fake-quant and deploy models,
// print their paths, and load them back.
//
//   quantize_example models/fashion_mnist_cnn.onnx
//       /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz out/fashion_mnist [N=4] [BATCH=32]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "qcal/qcal.h"

namespace {

int Fail(const qcal::Status& st) {
  std::fprintf(stderr, "error: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.onnx IMAGES-idx3-ubyte[.gz] OUT_PREFIX [BATCHES=4] [BATCH_SIZE=32]\n",
                 argv[0]);
    return 2;
  }
  const std::string model_path = argv[1], images = argv[2], prefix = argv[3];
  const int batches = argc > 4 ? std::atoi(argv[4]) : 4;
  const int batch_size = argc > 5 ? std::atoi(argv[5]) : 32;
  namespace api = qcal::api;

  // 1. The FP32 model and a config listing its quantizable layers (AMCT create_quant_config).
  auto model = api::LoadModel(model_path);
  if (!model.ok()) return Fail(model.status());
  api::ConfigOptions options;
  options.batch_num = batches;
  auto config = api::CreateQuantConfig(*model, options);
  if (!config.ok()) return Fail(config.status());
  std::printf("%zu quantizable layers, batch_num=%d\n", config->layers().size(), config->batch_num());

  // 2. init + quantize_model: BN folding, ARQ weights, activation observers.
  auto session = api::QuantSession::Init(*config, *model, prefix + "_record.txt");
  if (!session.ok()) return Fail(session.status());
  if (auto st = (*session)->QuantizeModel(); !st.ok()) return Fail(st);

  // 3. Calibration on the idx images, preprocessed as in training.
  api::DataOptions data_options;
  data_options.path = images;
  data_options.preprocess = "scale 1/255; mean 0.2860; std 0.3530";
  auto data = api::OpenDataSource(*model, data_options);
  if (!data.ok()) return Fail(data.status());
  std::printf("calibration data: %s\n", data->Describe().c_str());
  if (auto st = (*session)->Calibrate(*data, batch_size); !st.ok()) return Fail(st);

  // 4. save_model: checks the record, writes both models and the report.
  auto files = api::SaveModel(**session, api::SaveType::kBoth, prefix);
  if (!files.ok()) return Fail(files.status());
  std::printf("record: %s\n", (*session)->record_path().c_str());
  std::printf("fake-quant model: %s\n", files->fake_quant_model.c_str());
  std::printf("deploy model: %s\n", files->deploy_model.c_str());
  std::printf("report: %s\n", files->quant_json.c_str());

  // 5. Both models load back (qcal runs the QDQ deploy form too).
  for (const std::string& path : {files->fake_quant_model, files->deploy_model}) {
    auto q = api::LoadModel(path);
    if (!q.ok()) return Fail(q.status());
    std::printf("loaded %s: input '%s'\n", path.c_str(), q->inputs().at(0).name.c_str());
  }
  return 0;
}
