// Backend choice for one call (docs/design/runtime.md §1): the TypeScript layer resolves 'auto' and the
// ITOKIT_DEVICE override; native code receives a concrete device.
#pragma once

namespace itk {

enum class Device : int { Cpu = 0, Cuda = 1 };

}  // namespace itk
