extension ImageOps {
    /// Channel order of planar network input.
    public enum ChannelOrder: Sendable {
        /// Planes in the image's own order (R, G, B for decoded frames).
        case rgb
        /// Planes reversed (B, G, R), as `swapRB` does for OpenCV's BGR frames.
        case bgr
    }

    /// Converts an 8-bit HWC image to planar float CHW, as network input.
    ///
    /// `value = (p * scale - mean[c]) / std[c]`, with `mean` and `std` given in the output
    /// channel order. This is evaluated as `(p - mean/scale) * (scale/std)` with the two
    /// constants folded in Double, which equals `cv2.dnn.blobFromImage(image, scale, mean=mean/scale)`
    /// for `std == nil` and is within about 1 ulp of `blobFromImageWithParams`. For
    /// OpenCV's own constants bit for bit, use ``toPlanar(_:into:channelOrder:subtracting:multiplyingBy:)``.
    ///
    /// - Parameters:
    ///   - image: The (cropped) image, C channels.
    ///   - output: `C * H * W` floats, written plane by plane.
    ///   - channelOrder: `.rgb` keeps the image's order; `.bgr` reverses it (3 channels only).
    ///   - mean: Per-channel mean on the scaled values, or nil for 0.
    ///   - std: Per-channel standard deviation, or nil for 1.
    ///   - scale: Multiplies the raw 0...255 values first (e.g. 1/255).
    public static func toPlanar(_ image: Image, into output: UnsafeMutablePointer<Float>,
                                channelOrder: ChannelOrder = .rgb, mean: [Float]? = nil,
                                std: [Float]? = nil, scale: Float = 1) {
        let C = image.channels
        precondition(scale != 0, "toPlanar: scale must not be 0")
        let subtract = (0..<C).map { Double(mean?[$0] ?? 0) / Double(scale) }
        let multiply = (0..<C).map { Double(scale) / Double(std?[$0] ?? 1) }
        toPlanar(image, into: output, channelOrder: channelOrder, subtracting: subtract, multiplyingBy: multiply)
    }

    /// Converts to planar float CHW exactly as `cv2.dnn.blobFromImageWithParams` (and
    /// `blobFromImage`) do: `value = (Float(p) - Float(subtract[c])) * Float(multiply[c])`, all in
    /// Float, with the Double parameters rounded to Float first as OpenCV does.
    ///
    /// TrackerVit's documented normalisation is `subtracting: 255 * m, multiplyingBy: 1 / (255 * s)`
    /// (cv2.TrackerVit itself passes other multipliers: `OneStreamTracker.openCVBlobParameters`);
    /// TrackerNano is `channelOrder: .bgr` on a BGR frame (here: `.rgb` on our RGB frames)
    /// with no mean and multiplier 1.
    ///
    /// - Parameters:
    ///   - subtract: Per output channel (OpenCV's `mean`), C values.
    ///   - multiply: Per output channel (OpenCV's `scalefactor`), C values.
    public static func toPlanar(_ image: Image, into output: UnsafeMutablePointer<Float>,
                                channelOrder: ChannelOrder, subtracting subtract: [Double],
                                multiplyingBy multiply: [Double]) {
        let C = image.channels, plane = image.width * image.height
        precondition(subtract.count == C && multiply.count == C,
                     "toPlanar: need \(C) mean and scale values, got \(subtract.count) and \(multiply.count)")
        precondition(channelOrder == .rgb || C == 3, "toPlanar: .bgr needs 3 channels, not \(C)")
        image.pixels.withUnsafeBufferPointer { p in
            for oc in 0..<C {
                let sc = channelOrder == .bgr ? C - 1 - oc : oc
                let sub = Float(subtract[oc]), mul = Float(multiply[oc])
                let dst = output + oc * plane
                if sub == 0 && mul == 1 {
                    for i in 0..<plane { dst[i] = Float(p[i * C + sc]) }
                } else {
                    for i in 0..<plane { dst[i] = (Float(p[i * C + sc]) - sub) * mul }
                }
            }
        }
    }
}
