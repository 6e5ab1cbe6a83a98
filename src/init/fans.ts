/**
 * Fans and gains, as `torch.nn.init` computes them, so that a named initialiser means the same
 * thing here and in PyTorch.
 *
 * A weight has PyTorch's layout: [out, in] for a linear layer, [out, in, kh, kw] for a conv kernel.
 *   fan_in  = in  · kh · kw      fan_out = out · kh · kw
 */
import { UsageError } from "../errors.js";

export type Fans = { fanIn: number; fanOut: number };

export function computeFans(shape: readonly number[]): Fans {
  if (shape.length < 2)
    throw new UsageError(
      `fans need a weight of at least 2 dimensions ([out, in, ...kernel]), got shape [${shape.join(", ")}]`,
    );
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export const NONLINEARITIES = ["linear", "conv", "sigmoid", "tanh", "relu", "leaky_relu", "selu"] as const;
export type Nonlinearity = (typeof NONLINEARITIES)[number];

/**
 * The gain that keeps the variance of activations constant through a layer followed by
 * `nonlinearity` (torch.nn.init.calculate_gain):
 *   linear, conv, sigmoid: 1 · tanh: 5/3 · relu: √2 · leaky_relu(a): √(2/(1+a²)) · selu: 3/4.
 * `param` is leaky_relu's negative slope (default 0.01, as PyTorch).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
  }
}
