import CKernels
import Foundation

// The building blocks of convolutions on channels-last images [B, H, W, C]:
// patch extraction (im2col) and its adjoint, with gradients. A convolution is
// then one matrix product, which runs on the fast kernel.

extension Tensor {
    /// The k x k patches around every pixel, zero-padded by `padding`, as rows:
    /// shape [B * H' * W', k * k * C] with columns ordered (dy, dx, c), where
    /// H' = H + 2 padding - k + 1 (stride 1).
    ///
    /// `self` is a channels-last batch of images [B, H, W, C].
    public func patches(kernelSize k: Int, padding p: Int) -> Tensor {
        ensure(rank == 4, "patches: expected images [B, H, W, C], got shape \(shape)")
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1
        ensure(oh > 0 && ow > 0, "patches: kernel \(k) with padding \(p) does not fit images of shape \(shape)")
        let rowWidth = k * k * c
        let rows = b * oh * ow
        let out = [Float](unsafeUninitializedCapacity: rows * rowWidth) { buffer, initialized in
            initialized = buffer.count
            let dstAddress = UInt(bitPattern: buffer.baseAddress)
            scalars.withUnsafeBufferPointer { src in
                Parallel.forEach(b) { image in
                    let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let row = ((image * oh + y) * ow + x) * rowWidth
                            for dy in 0..<k {
                                let sy = y + dy - p
                                let d = row + dy * k * c
                                if sy < 0 || sy >= h {
                                    (dst + d).update(repeating: 0, count: k * c)
                                    continue
                                }
                                // The k pixels of this patch row sit side by side in the image.
                                let firstX = x - p
                                if firstX >= 0 && firstX + k <= w {
                                    (dst + d).update(
                                        from: src.baseAddress! + ((image * h + sy) * w + firstX) * c, count: k * c)
                                    continue
                                }
                                for dx in 0..<k {
                                    let sx = firstX + dx
                                    if sx < 0 || sx >= w {
                                        (dst + d + dx * c).update(repeating: 0, count: c)
                                    } else {
                                        (dst + d + dx * c).update(
                                            from: src.baseAddress! + ((image * h + sy) * w + sx) * c, count: c)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(shape: [rows, rowWidth], scalars: out)
        let source = shape
        result.recordGradient("patches", inputs: [self]) { g in
            [g.foldingPatches(into: source, kernelSize: k, padding: p)]
        }
        return result
    }

    /// The adjoint of ``patches(kernelSize:padding:)``: sums each patch row
    /// back onto the pixels it came from, giving images of shape `imageShape`.
    func foldingPatches(into imageShape: [Int], kernelSize k: Int, padding p: Int) -> Tensor {
        let (b, h, w, c) = (imageShape[0], imageShape[1], imageShape[2], imageShape[3])
        let oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1
        let rowWidth = k * k * c
        var out = [Float](repeating: 0, count: b * h * w * c)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { buffer in
                let dstAddress = UInt(bitPattern: buffer.baseAddress)
                Parallel.forEach(b) { image in
                    let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let row = ((image * oh + y) * ow + x) * rowWidth
                            for dy in 0..<k {
                                let sy = y + dy - p
                                if sy < 0 || sy >= h { continue }
                                let firstX = x - p
                                let s = row + dy * k * c
                                // Interior: the k pixels of this patch row are contiguous in the image.
                                let lo = Swift.max(0, -firstX), hi = Swift.min(k, w - firstX)
                                if lo < hi {
                                    let d = ((image * h + sy) * w + firstX + lo) * c
                                    let from = src.baseAddress! + s + lo * c
                                    for j in 0..<((hi - lo) * c) { dst[d + j] += from[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: imageShape, scalars: out)
    }
}

extension Tensor {
    /// A 3 x 3 convolution with stride 1 and zero padding 1, computed without
    /// materialising the patches: `self` is [B, H, W, C] (channels last) and
    /// `kernel` is [9 C, O] with rows ordered (dy, dx, c), as the patches of
    /// ``patches(kernelSize:padding:)``. Returns [B, H, W, O].
    ///
    /// The input gradient is itself such a convolution (with the kernel
    /// flipped and transposed); the kernel gradient is patches^T . gradient,
    /// or its equivalent through Winograd's transforms, on the same input
    /// the forward pass read.
    ///
    /// `algorithm` chooses how (by default Winograd's where it applies, see
    /// ``Convolution3x3Algorithm``); both give the same result up to rounding.
    /// A `bias` [O] is added to every output pixel in the same pass.
    public func convolved3x3(with kernel: Tensor, bias: Tensor? = nil, algorithm: Convolution3x3Algorithm? = nil)
        -> Tensor
    {
        ensure(rank == 4, "convolved3x3: expected images [B, H, W, C], got shape \(shape)")
        let c = shape[3]
        ensure(
            kernel.rank == 2 && kernel.shape[0] == 9 * c,
            "convolved3x3: a kernel of shape \(kernel.shape) for images of shape \(shape) (expected [\(9 * c), O])")
        if let bias {
            ensure(
                bias.shape == [kernel.shape[1]],
                "convolved3x3: a bias of shape \(bias.shape) for \(kernel.shape[1]) output channels")
        }
        let (h, w, o) = (shape[1], shape[2], kernel.shape[1])
        let chosen = algorithm ?? .preferred(height: h, width: w, channels: c, outputs: o)
        let input = Tensor.convolutionInput(self, for: chosen)
        // A tracked kernel changes at every training step: not worth caching its transform.
        var result = Tensor.convolution3x3(
            input: input, shape: shape, kernel.detached(), bias: bias?.detached(), algorithm: chosen,
            cacheable: !kernel.isTracked)
        // The Winograd kernel gradient reads the same input.
        let inputForGradient = kernel.isTracked && chosen != .direct ? input : nil
        let x = self
        result.recordGradient("convolved3x3", inputs: [self, kernel] + (bias.map { [$0] } ?? [])) { g in
            var gradX: Tensor?
            if x.isTracked {
                // dX[y, x, c] = sum over (dy, dx, o) of g[y - dy + 1, x - dx + 1, o] kernel[(dy, dx, c), o]
                var flipped = [Float](repeating: 0, count: 9 * o * c)
                kernel.scalars.withUnsafeBufferPointer { k in
                    for dy in 0..<3 {
                        for dx in 0..<3 {
                            for channel in 0..<c {
                                for out in 0..<o {
                                    flipped[((3 * (2 - dy) + (2 - dx)) * o + out) * c + channel] =
                                        k[((3 * dy + dx) * c + channel) * o + out]
                                }
                            }
                        }
                    }
                }
                // The same algorithm where it applies with the channels swapped.
                let backward = algorithm.flatMap { $0.applies(height: h, width: w, channels: o, outputs: c) ? $0 : nil }
                gradX = Tensor.convolution3x3(
                    g, Tensor(shape: [9 * o, c], scalars: flipped), algorithm: backward, cacheable: false)
            }
            var gradKernel: Tensor?
            if kernel.isTracked {
                gradKernel =
                    if let inputForGradient {
                        Tensor.convolution3x3KernelGradient(
                            input: inputForGradient, shape: x.shape, g, algorithm: chosen)
                    } else {
                        batchedProduct(
                            x.patches(kernelSize: 3, padding: 1), transA: true, g.reshaped(-1, o), transB: false,
                            op: "convolved3x3 backward")
                    }
            }
            let gradBias = bias?.isTracked == true ? g.reshaped(-1, o).sum(axis: 0) : nil
            return [gradX, gradKernel, gradBias]
        }
        return result
    }

    /// The forward computation of ``convolved3x3(with:)`` (untracked), by
    /// `algorithm` (by default Winograd's where it applies). A `cacheable`
    /// kernel has its Winograd transform kept inside ``withCachedWeights(_:)``.
    static func convolution3x3(
        _ images: Tensor, _ kernel: Tensor, bias: Tensor? = nil, algorithm: Convolution3x3Algorithm? = nil,
        cacheable: Bool = true
    ) -> Tensor {
        let (h, w, c, o) = (images.shape[1], images.shape[2], images.shape[3], kernel.shape[1])
        let chosen = algorithm ?? .preferred(height: h, width: w, channels: c, outputs: o)
        return convolution3x3(
            input: convolutionInput(images, for: chosen), shape: images.shape, kernel, bias: bias, algorithm: chosen,
            cacheable: cacheable)
    }

    /// The same on the input ``convolutionInput(_:for:)`` made of images of `shape`.
    private static func convolution3x3(
        input: [Float], shape: [Int], _ kernel: Tensor, bias: Tensor?, algorithm: Convolution3x3Algorithm,
        cacheable: Bool
    ) -> Tensor {
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let o = kernel.shape[1]
        ensure(
            algorithm.applies(height: h, width: w, channels: c, outputs: o),
            "convolution3x3: \(algorithm) does not apply to images of shape \(shape) and \(o) output channels")
        let inputImage = algorithm.inputFloatsPerImage(height: h, width: w, channels: c)
        let biasValues = bias?.scalars ?? [Float](repeating: 0, count: o)
        // Inside withCachedWeights, Winograd's transform of a kernel is
        // computed once (its layout belongs to the kernel path).
        func pack(_ kernel: Tensor) -> WinogradKernel { WinogradKernel(kernel, outputs: algorithm.tileSide) }
        let packed: WinogradKernel? =
            algorithm == .direct
            ? nil
            : cacheable
                ? kernel.cachedValue(as: "Winograd F(\(algorithm.tileSide)) on \(Compute.kernelPath.name)", pack)
                : pack(kernel)
        let out = [Float](unsafeUninitializedCapacity: b * h * w * o) { buffer, initialized in
            initialized = buffer.count
            input.withUnsafeBufferPointer { p in
                kernel.scalars.withUnsafeBufferPointer { k in
                    biasValues.withUnsafeBufferPointer { biasBuffer in
                        let (pAddress, kAddress, oAddress) = (
                            UInt(bitPattern: p.baseAddress), UInt(bitPattern: k.baseAddress),
                            UInt(bitPattern: buffer.baseAddress)
                        )
                        let biasAddress = UInt(bitPattern: biasBuffer.baseAddress)
                        Parallel.forEachBlock(of: b) { _, first, count in
                            let (p, k, out) = (
                                UnsafePointer<Float>(bitPattern: pAddress)! + first * inputImage,
                                UnsafePointer<Float>(bitPattern: kAddress)!,
                                UnsafeMutablePointer<Float>(bitPattern: oAddress)! + first * h * w * o
                            )
                            let bias = UnsafePointer<Float>(bitPattern: biasAddress)!
                            if let packed {
                                ck_winograd_convolve_packed(
                                    algorithm.tileSide, p, count, h, w, c, packed.floats, bias, o, out)
                            } else {
                                ck_conv3x3(p, count, h, w, c, k, bias, o, out)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [b, h, w, o], scalars: out)
    }

    /// The gradient of the kernel of a 3 x 3 convolution of `images`
    /// [B, H, W, C] given the gradient of its output [B, H, W, O], by the
    /// transforms of Winograd's `algorithm` (which must apply): [9C, O], rows
    /// ordered (dy, dx, c).
    static func convolution3x3KernelGradient(
        _ images: Tensor, _ outputGradient: Tensor, algorithm: Convolution3x3Algorithm
    ) -> Tensor {
        convolution3x3KernelGradient(
            input: convolutionInput(images, for: algorithm), shape: images.shape, outputGradient,
            algorithm: algorithm)
    }

    /// The same on the input ``convolutionInput(_:for:)`` made of images of `shape`.
    private static func convolution3x3KernelGradient(
        input: [Float], shape: [Int], _ outputGradient: Tensor, algorithm: Convolution3x3Algorithm
    ) -> Tensor {
        ensure(
            algorithm != .direct,
            "convolution3x3KernelGradient: Winograd's transforms only (the direct gradient is patches^T . gradient)")
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let o = outputGradient.shape[3]
        let inputImage = algorithm.inputFloatsPerImage(height: h, width: w, channels: c)
        let parts = Parallel.blockCount(of: b)
        // One partial sum per thread, added up at the end.
        var partial = [Float](repeating: 0, count: parts * 9 * c * o)
        input.withUnsafeBufferPointer { p in
            outputGradient.scalars.withUnsafeBufferPointer { g in
                partial.withUnsafeMutableBufferPointer { sums in
                    let (pAddress, gAddress, sAddress) = (
                        UInt(bitPattern: p.baseAddress), UInt(bitPattern: g.baseAddress),
                        UInt(bitPattern: sums.baseAddress)
                    )
                    Parallel.forEachBlock(of: b) { part, first, count in
                        let (p, g, sum) = (
                            UnsafePointer<Float>(bitPattern: pAddress)! + first * inputImage,
                            UnsafePointer<Float>(bitPattern: gAddress)! + first * h * w * o,
                            UnsafeMutablePointer<Float>(bitPattern: sAddress)! + part * 9 * c * o
                        )
                        ck_winograd_kernel_gradient(algorithm.tileSide, p, g, count, h, w, c, o, sum)
                    }
                }
            }
        }
        return Tensor(shape: [parts, 9 * c, o], scalars: partial).sum(axis: 0)
    }

    /// What the kernel of `algorithm` reads for images [B, H, W, C]: the
    /// images as they are for Winograd's (whose transforms supply the zero
    /// border themselves), a zero-padded copy for the direct one.
    private static func convolutionInput(_ images: Tensor, for algorithm: Convolution3x3Algorithm) -> [Float] {
        algorithm == .direct ? zeroPadded(images) : images.scalars
    }

    /// Images [B, H, W, C] with a one-pixel zero border, [B, H + 2, W + 2, C],
    /// followed by the slack the direct kernel reads past the end.
    private static func zeroPadded(_ images: Tensor) -> [Float] {
        let (b, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let paddedWidth = w + 2, paddedHeight = h + 2
        let paddedImage = paddedHeight * paddedWidth * c
        let total = b * paddedImage + ck_conv3x3_padding_slack(c)
        return [Float](unsafeUninitializedCapacity: total) { dst, initialized in
            initialized = total
            images.scalars.withUnsafeBufferPointer { src in
                let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: dst.baseAddress))
                // Each thread fills its own images: the image rows are copied and
                // only the border around them is zeroed, each float written once.
                Parallel.forEachBlock(of: b) { _, first, count in
                    let src = UnsafePointer<Float>(bitPattern: s)!, dst = UnsafeMutablePointer<Float>(bitPattern: d)!
                    for n in first..<(first + count) {
                        let image = dst + n * paddedImage
                        image.update(repeating: 0, count: paddedWidth * c)
                        for y in 0..<h {
                            let row = image + (y + 1) * paddedWidth * c
                            row.update(repeating: 0, count: c)
                            (row + c).update(from: src + ((n * h + y) * w) * c, count: w * c)
                            (row + (w + 1) * c).update(repeating: 0, count: (paddedWidth - w - 1) * c)
                        }
                        (image + (h + 1) * paddedWidth * c).update(
                            repeating: 0, count: (paddedHeight - h - 1) * paddedWidth * c)
                    }
                }
                (dst.baseAddress! + b * paddedImage).update(repeating: 0, count: total - b * paddedImage)
            }
        }
    }
}

/// How a 3 x 3 convolution is computed.
public enum Convolution3x3Algorithm: String, Sendable, CaseIterable {
    /// The patches' matrix product, without materialising the patches.
    case direct
    /// Winograd's F(2 x 2, 3 x 3): 2.25 times fewer multiply-adds per 2 x 2
    /// tile; odd sizes are covered by whole tiles (the extra outputs are
    /// computed from zeros and dropped).
    case winograd
    /// Winograd's F(4 x 4, 3 x 3): 4 times fewer multiply-adds per 4 x 4
    /// tile, for channel counts that are multiples of the vector width
    /// (sizes not divisible by 4 are covered by whole tiles: a 7 x 7 image
    /// takes four tiles, 144 multiply-adds per channel pair against the
    /// direct 441).
    case winograd4x4
    /// Winograd's F(7 x 7, 3 x 3): 5.4 times fewer multiply-adds per 7 x 7
    /// tile, for the same channel counts as F(4 x 4): 1.65 multiply-adds per
    /// output against F(4 x 4)'s 2.25. It covers MNIST's sizes exactly (28,
    /// 14 and 7 are multiples of 7; F(4 x 4) leaves tiles partly empty on 14
    /// and 7): per channel pair 1296 multiply-adds against 1764 on 28 x 28,
    /// 324 against 576 on 14 x 14. Its 9 x 9 transforms round more (up to
    /// about 5e-4 of the outputs' scale at 32 channels, 8e-4 at 128, against
    /// 2e-5 and 4e-5). It has no gradient transforms of its own: the kernel
    /// gradient goes by F(4 x 4)'s.
    case winograd7x7

    /// Output pixels per tile side (1 for the direct convolution).
    public var tileSide: Int {
        switch self {
        case .direct: 1
        case .winograd: 2
        case .winograd4x4: 4
        case .winograd7x7: 7
        }
    }

    /// The multiply-adds per channel pair for an image of this size: whole
    /// tiles of (side + 2)^2 entries, or 9 per pixel for the direct one.
    func multiplyAddsPerChannelPair(height: Int, width: Int) -> Int {
        guard self != .direct else { return 9 * height * width }
        let side = tileSide
        return ((height + side - 1) / side) * ((width + side - 1) / side) * (side + 2) * (side + 2)
    }

    /// The floats per image of the input this algorithm's kernel reads: the
    /// image with a one-pixel zero border for the direct one, the image
    /// itself for Winograd's.
    func inputFloatsPerImage(height: Int, width: Int, channels: Int) -> Int {
        self == .direct ? (height + 2) * (width + 2) * channels : height * width * channels
    }

    /// Winograd's where it applies and pays (8 channels or more): where the
    /// channels allow F(4 x 4) or F(7 x 7), the one with fewer multiply-adds
    /// for this size, else F(2 x 2). `D3PM_CONV3X3=direct` (or `winograd`,
    /// `winograd4x4`, `winograd7x7`) forces one where it applies, for
    /// comparisons.
    public static func preferred(height: Int, width: Int, channels: Int, outputs: Int) -> Convolution3x3Algorithm {
        if let forced = Compute.configuration.convolution3x3,
            forced.applies(height: height, width: width, channels: channels, outputs: outputs)
        {
            return forced
        }
        guard channels >= 8 else { return .direct }
        guard winograd4x4.applies(height: height, width: width, channels: channels, outputs: outputs) else {
            return .winograd
        }
        return winograd7x7.multiplyAddsPerChannelPair(height: height, width: width)
            < winograd4x4.multiplyAddsPerChannelPair(height: height, width: width) ? .winograd7x7 : .winograd4x4
    }

    /// Whether the algorithm handles images of this size with this many
    /// input and output channels.
    public func applies(height: Int, width: Int, channels: Int, outputs: Int) -> Bool {
        switch self {
        case .direct, .winograd: true
        case .winograd4x4, .winograd7x7: channels % ck_vector_width() == 0 && outputs % ck_vector_width() == 0
        }
    }
}

extension Tensor {
    /// The output of a kernel-2, stride-2 transposed convolution from its
    /// per-pixel blocks: `self` [B, H, W, 2, 2, O] becomes [B, 2H, 2W, O] with
    /// out[b, 2y + dy, 2x + dx, o] = self[b, y, x, dy, dx, o] + bias[o],
    /// in one pass (a permutation and a broadcast addition otherwise).
    public func spreadingBlocks2x2(bias: Tensor) -> Tensor {
        ensure(
            rank == 6 && shape[3] == 2 && shape[4] == 2,
            "spreadingBlocks2x2: expected blocks [B, H, W, 2, 2, O], got shape \(shape)")
        let (b, h, w, o) = (shape[0], shape[1], shape[2], shape[5])
        ensure(bias.shape == [o], "spreadingBlocks2x2: a bias of shape \(bias.shape) for \(o) channels")
        let rows = b * h
        let spread = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count
            scalars.withUnsafeBufferPointer { src in
                bias.scalars.withUnsafeBufferPointer { biasValues in
                    let (s, d, c) = (
                        UInt(bitPattern: src.baseAddress), UInt(bitPattern: buffer.baseAddress),
                        UInt(bitPattern: biasValues.baseAddress)
                    )
                    Parallel.ranges(rows, elementsPerItem: 4 * w * o) { range in
                        let perRow = 4 * w * o
                        ck_spread_blocks_2x2(
                            UnsafePointer<Float>(bitPattern: s)! + range.lowerBound * perRow, range.count, w, o,
                            UnsafePointer<Float>(bitPattern: c)!,
                            UnsafeMutablePointer<Float>(bitPattern: d)! + range.lowerBound * perRow)
                    }
                }
            }
        }
        var result = Tensor(shape: [b, 2 * h, 2 * w, o], scalars: spread)
        let blockShape = shape
        result.recordGradient("spreadingBlocks2x2", inputs: [self, bias]) { g in
            let gathered = [Float](unsafeUninitializedCapacity: g.count) { buffer, initialized in
                initialized = g.count
                g.scalars.withUnsafeBufferPointer { src in
                    let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: buffer.baseAddress))
                    Parallel.ranges(rows, elementsPerItem: 4 * w * o) { range in
                        let perRow = 4 * w * o
                        ck_gather_blocks_2x2(
                            UnsafePointer<Float>(bitPattern: s)! + range.lowerBound * perRow, range.count, w, o,
                            UnsafeMutablePointer<Float>(bitPattern: d)! + range.lowerBound * perRow)
                    }
                }
            }
            return [Tensor(shape: blockShape, scalars: gathered), g.reshaped(-1, o).sum(axis: 0)]
        }
        return result
    }
}

extension Tensor {
    /// 2 x 2 average pooling of channels-last images [B, H, W, C] (H, W
    /// even): [B, H / 2, W / 2, C], one vectorised pass over the cores.
    public func averagePooled2x2() -> Tensor {
        ensure(
            rank == 4 && shape[1] % 2 == 0 && shape[2] % 2 == 0,
            "averagePooled2x2: expected [B, H, W, C] with even H and W, got \(shape)")
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let rows = b * h / 2, perRow = 2 * w * c
        func run(
            _ input: Tensor, count: Int,
            _ kernel: (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
            inputPerRow: Int, outputPerRow: Int
        ) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                initialized = count
                input.scalars.withUnsafeBufferPointer { src in
                    let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: buffer.baseAddress))
                    Parallel.ranges(rows, elementsPerItem: perRow) { range in
                        kernel(
                            UnsafePointer<Float>(bitPattern: s)! + range.lowerBound * inputPerRow, range.count, w, c,
                            UnsafeMutablePointer<Float>(bitPattern: d)! + range.lowerBound * outputPerRow)
                    }
                }
            }
        }
        let pooled = run(
            self, count: count / 4, { ck_average_pool_2x2($0, $1, $2, $3, $4) }, inputPerRow: perRow,
            outputPerRow: perRow / 4)
        var result = Tensor(shape: [b, h / 2, w / 2, c], scalars: pooled)
        let inputShape = shape
        result.recordGradient("averagePooled2x2", inputs: [self]) { g in
            [
                Tensor(
                    shape: inputShape,
                    scalars: run(
                        g, count: g.count * 4, { ck_average_pool_2x2_backward($0, $1, $2, $3, $4) },
                        inputPerRow: perRow / 4, outputPerRow: perRow))
            ]
        }
        return result
    }
}

/// A 3 x 3 kernel [9C, O] transformed and packed for Winograd's
/// F(outputs x outputs, 3 x 3) on the active kernel path, in memory aligned
/// to the cache line as the products' loads want it.
final class WinogradKernel: @unchecked Sendable {
    let floats: UnsafeMutablePointer<Float>

    init(_ kernel: Tensor, outputs: Int) {
        let (c, o) = (kernel.shape[0] / 9, kernel.shape[1])
        let count = ck_winograd_packed_kernel_floats(outputs, c, o)
        floats = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        kernel.scalars.withUnsafeBufferPointer { ck_winograd_pack_kernel(outputs, $0.baseAddress!, c, o, floats) }
    }

    deinit { floats.deallocate() }
}
