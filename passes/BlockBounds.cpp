//===- BlockBounds.cpp - which tile pairs a mask lets through -------------===//

#include "passes/BlockBounds.h"

namespace flashc {

llvm::SmallVector<AxisConstraint>
toAxes(llvm::ArrayRef<LinearConstraint> constraints, bool queryIsFixed) {
  llvm::SmallVector<AxisConstraint> out;
  for (const LinearConstraint &c : constraints)
    out.push_back(queryIsFixed
                      ? AxisConstraint{c.ci, c.cj, c.c0, c.cshift}
                      : AxisConstraint{c.cj, c.ci, c.c0, c.cshift});
  return out;
}

} // namespace flashc
