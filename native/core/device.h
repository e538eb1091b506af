// Backend choice for one call (DESIGN.md "Layers"): the TypeScript layer resolves 'auto' and the
// ITOKIT_DEVICE override; native code receives a concrete device.
#pragma once

namespace itk {

enum class Device : int { Cpu = 0, Cuda = 1 };

}  // namespace itk
