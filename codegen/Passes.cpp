//===- Passes.cpp - registration of the codegen passes --------------------===//

#include "codegen/Passes.h"
#include "codegen/cpu/CpuPipeline.h"

#include "mlir/Pass/PassRegistry.h"

void flashc::codegen::registerCodegenPasses() {
  // Registering a pipeline twice is a fatal error; tools may call this from
  // more than one place.
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  registerFlashcCodegenPasses();
  mlir::PassPipelineRegistration<>(
      "attn-lower-to-cpu",
      "lowers tiled attn kernels to the llvm dialect for the CPU JIT",
      cpu::buildCpuLoweringPipeline);
}
