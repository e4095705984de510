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
                                    (dst + d).update(from: src.baseAddress! + ((image * h + sy) * w + firstX) * c, count: k * c)
                                    continue
                                }
                                for dx in 0..<k {
                                    let sx = firstX + dx
                                    if sx < 0 || sx >= w {
                                        (dst + d + dx * c).update(repeating: 0, count: c)
                                    } else {
                                        (dst + d + dx * c).update(from: src.baseAddress! + ((image * h + sy) * w + sx) * c, count: c)
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
        result.recordGradient("patches", inputs: [self]) { g in [g.foldingPatches(into: source, kernelSize: k, padding: p)] }
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
