extension ImageOps {
    /// Per-channel mean, as `cv2.mean(image)[:C]`: exact integer sums times `1 / count` (OpenCV
    /// multiplies by the reciprocal, which can differ from a division in the last bit).
    ///
    /// - Returns: `image.channels` values; zeros for an empty image (as OpenCV).
    public static func mean(_ image: Image) -> [Double] {
        let C = image.channels, count = image.width * image.height
        guard count > 0 else { return [Double](repeating: 0, count: C) }
        var sums = [UInt64](repeating: 0, count: C)
        image.pixels.withUnsafeBufferPointer { p in
            if C == 3 {
                // Row-sized partial sums in UInt32 cannot overflow (< 2^24 pixels per chunk).
                var i = 0
                while i < count {
                    let end = min(count, i + (1 << 23))
                    var s0: UInt32 = 0, s1: UInt32 = 0, s2: UInt32 = 0
                    for j in i..<end {
                        s0 &+= UInt32(p[3 * j]); s1 &+= UInt32(p[3 * j + 1]); s2 &+= UInt32(p[3 * j + 2])
                    }
                    sums[0] += UInt64(s0); sums[1] += UInt64(s1); sums[2] += UInt64(s2)
                    i = end
                }
            } else {
                for j in 0..<count { for c in 0..<C { sums[c] += UInt64(p[j * C + c]) } }
            }
        }
        let reciprocal = 1.0 / Double(count)
        return sums.map { Double($0) * reciprocal }
    }

    /// The 8-bit border value OpenCV writes when `copyMakeBorder` on an 8-bit image gets the
    /// float `Scalar` `values` (e.g. a mean): `saturate_cast<uchar>`, i.e. rounded half to
    /// even and clamped to 0...255 (2.5 → 2, 3.5 → 4, -3 → 0, 255.7 → 255).
    public static func roundedMean(_ values: [Double]) -> [UInt8] {
        values.map { v in
            let r = v.rounded(.toNearestOrEven)
            return r.isNaN ? 0 : UInt8(min(255, max(0, r)))
        }
    }

    /// `roundedMean(mean(image))`: the padding value TrackerNano uses for its crops.
    public static func roundedMean(_ image: Image) -> [UInt8] {
        roundedMean(mean(image))
    }
}
