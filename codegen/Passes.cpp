//===- Passes.cpp - registration of the codegen passes --------------------===//

#include "codegen/Passes.h"
#include "codegen/cpu/CpuPipeline.h"

#include "mlir/Pass/PassRegistry.h"

void flashc::codegen::registerCodegenPasses() {
  registerFlashcCodegenPasses();
  mlir::PassPipelineRegistration<>(
      "attn-lower-to-cpu",
      "lowers tiled attn kernels to the llvm dialect for the CPU JIT",
      cpu::buildCpuLoweringPipeline);
}
