import CKernels

/// Group normalisation of channels-last data as one fused operation
/// (PyTorch's `F.group_norm`, with the channels on the last axis).
///
/// For each batch element and each of `groups` groups of channels, the
/// values are normalised over every position and channel of the group, then
/// scaled by `weight[c]` and shifted by `bias[c]`:
///
///     y = (x - mean) / sqrt(var + epsilon) * weight + bias
///
/// The forward pass reads the input twice and the backward pass twice,
/// where composing the formula from elementwise operations would take a
/// dozen passes and as many temporary tensors.
///
/// - Parameters:
///   - x: shape [B, ..., C], with C divisible by `groups`.
///   - weight, bias: shape [C].
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
    groupNorm(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon, thenSiLU: false)
}

/// `silu(groupNorm(x, ...))` in one fused operation: the normalised values
/// are activated while they are in cache, and the backward pass recomputes
/// them instead of keeping them. The values are those of the two operations
/// in sequence (up to the rounding of the vectorised exponential).
public func groupNormSiLU(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
    groupNorm(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon, thenSiLU: true)
}

private func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, epsilon: Float, thenSiLU: Bool) -> Tensor
{
    let op = thenSiLU ? "groupNormSiLU" : "groupNorm"
    ensure(x.rank >= 2, "\(op): expected [B, ..., C], got shape \(x.shape)")
    let channels = x.shape[x.rank - 1]
    ensure(groups > 0 && channels % groups == 0, "\(op): \(channels) channels do not split into \(groups) groups")
    ensure(
        weight.shape == [channels] && bias.shape == [channels],
        "\(op): weight \(weight.shape) and bias \(bias.shape) for \(channels) channels")
    let batch = x.shape[0]
    let positions = x.count / max(batch * channels, 1)
    let perGroup = channels / groups
    let groupSize = Float(positions * perGroup)
    var mean = [Float](repeating: 0, count: batch * groups)
    var inverseStd = [Float](repeating: 0, count: batch * groups)
    let out = [Float](unsafeUninitializedCapacity: x.count) { dst, initialized in
        initialized = x.count
        let dstAddress = UInt(bitPattern: dst.baseAddress)
        x.scalars.withUnsafeBufferPointer { src in
            weight.scalars.withUnsafeBufferPointer { w in
                bias.scalars.withUnsafeBufferPointer { b in
                    mean.withUnsafeMutableBufferPointer { meanBuffer in
                        inverseStd.withUnsafeMutableBufferPointer { stdBuffer in
                            let meanAddress = UInt(bitPattern: meanBuffer.baseAddress),
                                stdAddress = UInt(bitPattern: stdBuffer.baseAddress)
                            Parallel.forEach(batch) { n in
                                let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
                                let means = UnsafeMutablePointer<Float>(bitPattern: meanAddress)!
                                let stds = UnsafeMutablePointer<Float>(bitPattern: stdAddress)!
                                let base = n * positions * channels
                                // Per-channel sums (vectorised, in C), then per group in Double.
                                var channelSums = [Float](repeating: 0, count: channels),
                                    channelSquares = [Float](repeating: 0, count: channels)
                                ck_channel_sums(
                                    src.baseAddress! + base, positions, channels, &channelSums, &channelSquares)
                                var sums = [Double](repeating: 0, count: groups),
                                    squares = [Double](repeating: 0, count: groups)
                                for c in 0..<channels {
                                    sums[c / perGroup] += Double(channelSums[c])
                                    squares[c / perGroup] += Double(channelSquares[c])
                                }
                                for g in 0..<groups {
                                    let m = sums[g] / Double(groupSize)
                                    let variance = max(squares[g] / Double(groupSize) - m * m, 0)
                                    means[n * groups + g] = Float(m)
                                    stds[n * groups + g] = Float(1 / (variance + Double(epsilon)).squareRoot())
                                }
                                let (scale, shift) = normalisingAffine(
                                    means: means + n * groups, inverseStds: stds + n * groups, perGroup: perGroup,
                                    weight: w, bias: b)
                                if thenSiLU {
                                    ck_channel_affine_silu(
                                        src.baseAddress! + base, positions, channels, scale, shift, dst + base)
                                } else {
                                    ck_channel_affine(
                                        src.baseAddress! + base, positions, channels, scale, shift, dst + base)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    var result = Tensor(shape: x.shape, scalars: out)
    let (savedMean, savedStd) = (mean, inverseStd)
    result.recordGradient(op, inputs: [x, weight, bias]) { g in
        groupNormBackward(
            g, x: x, weight: weight, mean: savedMean, inverseStd: savedStd, groups: groups,
            siluBias: thenSiLU ? bias : nil)
    }
    return result
}

/// The affine map that normalises one image, per channel c of group g:
/// y = x * scale[c] + shift[c] with scale = r w[c] and shift = b[c] - m r w[c]
/// (m and r the group's mean and inverse standard deviation). One definition
/// for the forward pass and for the backward pass's recomputation, so that
/// both see the same values bit for bit.
private func normalisingAffine(
    means: UnsafePointer<Float>, inverseStds: UnsafePointer<Float>, perGroup: Int,
    weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>
) -> (scale: [Float], shift: [Float]) {
    var scale = [Float](repeating: 0, count: weight.count), shift = [Float](repeating: 0, count: weight.count)
    for c in 0..<weight.count {
        let (m, r) = (means[c / perGroup], inverseStds[c / perGroup])
        scale[c] = r * weight[c]
        shift[c] = bias[c] - m * r * weight[c]
    }
    return (scale, shift)
}

/// Gradients of ``groupNorm(_:groups:weight:bias:epsilon:)`` with respect to
/// x, weight and bias; with `siluBias`, of ``groupNormSiLU(_:groups:weight:bias:epsilon:)``
/// (whose normalised values are recomputed with that bias).
func groupNormBackward(
    _ g: Tensor, x: Tensor, weight: Tensor, mean: [Float], inverseStd: [Float], groups: Int, siluBias: Tensor? = nil
) -> [Tensor?] {
    let channels = weight.count
    let batch = x.shape[0]
    let positions = x.count / max(batch * channels, 1)
    let perGroup = channels / groups
    let groupSize = Float(positions * perGroup)
    var weightGradients = [Float](repeating: 0, count: batch * channels)
    var biasGradients = [Float](repeating: 0, count: batch * channels)
    let dx = [Float](unsafeUninitializedCapacity: x.count) { dst, initialized in
        initialized = x.count
        let dstAddress = UInt(bitPattern: dst.baseAddress)
        x.scalars.withUnsafeBufferPointer { src in
            g.scalars.withUnsafeBufferPointer { outputGradient in
                weight.scalars.withUnsafeBufferPointer { w in
                    weightGradients.withUnsafeMutableBufferPointer { dwBuffer in
                        biasGradients.withUnsafeMutableBufferPointer { dbBuffer in
                            let dwAddress = UInt(bitPattern: dwBuffer.baseAddress),
                                dbAddress = UInt(bitPattern: dbBuffer.baseAddress)
                            Parallel.forEach(batch) { n in
                                let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
                                let dw = UnsafeMutablePointer<Float>(bitPattern: dwAddress)! + n * channels
                                let db = UnsafeMutablePointer<Float>(bitPattern: dbAddress)! + n * channels
                                let base = n * positions * channels
                                // Through the SiLU first: dy = g * silu'(normalised x), for this image.
                                var activationGradient: UnsafeMutablePointer<Float>?
                                defer { activationGradient?.deallocate() }
                                if let siluBias {
                                    let pre = UnsafeMutablePointer<Float>.allocate(capacity: positions * channels)
                                    activationGradient = pre
                                    let (scale, shift) = mean.withUnsafeBufferPointer { means in
                                        inverseStd.withUnsafeBufferPointer { stds in
                                            siluBias.scalars.withUnsafeBufferPointer { bias in
                                                normalisingAffine(
                                                    means: means.baseAddress! + n * groups,
                                                    inverseStds: stds.baseAddress! + n * groups,
                                                    perGroup: perGroup, weight: w, bias: bias)
                                            }
                                        }
                                    }
                                    ck_channel_affine(src.baseAddress! + base, positions, channels, scale, shift, pre)
                                    ck_silu_backward(pre, outputGradient.baseAddress! + base, pre, positions * channels)
                                }
                                // The gradient of this image's normalised values, [positions, channels].
                                let dy =
                                    activationGradient.map { UnsafePointer($0) } ?? outputGradient.baseAddress! + base
                                // Per channel: sum dy and sum dy * xhat; xhat = (x - mean) * rstd.
                                var sumDy = [Float](repeating: 0, count: channels),
                                    sumDyX = [Float](repeating: 0, count: channels)
                                ck_channel_dot_sums(dy, src.baseAddress! + base, positions, channels, &sumDy, &sumDyX)
                                var a = [Float](repeating: 0, count: channels),
                                    b = [Float](repeating: 0, count: channels)
                                for group in 0..<groups {
                                    let m = mean[n * groups + group], r = inverseStd[n * groups + group]
                                    // Group means of dxhat and dxhat * xhat, with dxhat = dy * w.
                                    var meanDxhat: Float = 0, meanDxhatXhat: Float = 0
                                    for c in (group * perGroup)..<((group + 1) * perGroup) {
                                        let dyXhat = (sumDyX[c] - m * sumDy[c]) * r
                                        dw[c] = dyXhat
                                        db[c] = sumDy[c]
                                        meanDxhat += w[c] * sumDy[c]
                                        meanDxhatXhat += w[c] * dyXhat
                                    }
                                    meanDxhat /= groupSize
                                    meanDxhatXhat /= groupSize
                                    // dx = r * (w dy - meanDxhat - xhat * meanDxhatXhat) = a[c] dy + b[c] x + const
                                    for c in (group * perGroup)..<((group + 1) * perGroup) {
                                        a[c] = r * w[c]
                                        b[c] = -r * r * meanDxhatXhat
                                    }
                                    let constant = -r * meanDxhat + r * r * m * meanDxhatXhat
                                    for c in (group * perGroup)..<((group + 1) * perGroup) { sumDy[c] = constant }
                                }
                                ck_channel_combine(
                                    dy, src.baseAddress! + base, positions, channels, a, b, sumDy, dst + base)
                            }
                        }
                    }
                }
            }
        }
    }
    let dWeight = Tensor(shape: [batch, channels], scalars: weightGradients).sum(axis: 0)
    let dBias = Tensor(shape: [batch, channels], scalars: biasGradients).sum(axis: 0)
    return [Tensor(shape: x.shape, scalars: dx), dWeight, dBias]
}
