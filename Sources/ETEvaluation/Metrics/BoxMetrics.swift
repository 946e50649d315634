import ETData
import ETTracking

/// Per-frame box measures exactly as the reference toolkits compute them (protocol doc §1, §5).
///
/// pytracking uses the pixel-index convention: a box covers pixels x … x+w−1, so its centre is
/// `(x, y) + 0.5·((w, h) − 1)`. The GOT-10k toolkit uses the continuous form and clips to the image.
public enum BoxMetrics {
    /// Centre in the pixel-index convention: `(x + 0.5·(w − 1), y + 0.5·(h − 1))`.
    @inlinable
    public static func center(_ b: Box4) -> (Double, Double) {
        (b.x + 0.5 * (b.w - 1.0), b.y + 0.5 * (b.h - 1.0))
    }

    /// L2 distance between the centres, in pixels.
    @inlinable
    public static func centerError(_ p: Box4, _ g: Box4) -> Double {
        let (px, py) = center(p), (gx, gy) = center(g)
        return ((px - gx) * (px - gx) + (py - gy) * (py - gy)).squareRoot()
    }

    /// Both centres divided element-wise by the ground-truth (w, h), then the L2 distance.
    @inlinable
    public static func normalizedCenterError(_ p: Box4, _ g: Box4) -> Double {
        let (px, py) = center(p), (gx, gy) = center(g)
        let dx = px / g.w - gx / g.w, dy = py / g.h - gy / g.h
        return (dx * dx + dy * dy).squareRoot()
    }

    /// pytracking's IoU (no clipping, no epsilon):
    /// tl = max(p.xy, g.xy), br = min(p.xy + p.wh − 1, g.xy + g.wh − 1), sz = max(br − tl + 1, 0),
    /// IoU = sz.x·sz.y / (p.w·p.h + g.w·g.h − sz.x·sz.y). Zero-area against zero-area is NaN (0/0).
    @inlinable
    public static func pixelIoU(_ p: Box4, _ g: Box4) -> Double {
        let tlx = max(p.x, g.x), tly = max(p.y, g.y)
        let brx = min(p.x + p.w - 1.0, g.x + g.w - 1.0), bry = min(p.y + p.h - 1.0, g.y + g.h - 1.0)
        let sx = max(brx - tlx + 1.0, 0), sy = max(bry - tly + 1.0, 0)
        let inter = sx * sy
        return inter / (p.w * p.h + g.w * g.h - inter)
    }

    /// Clips a box to an image of size `bound` as the GOT-10k toolkit does:
    /// x = clip(x, 0, W), w = clip(w, 0, W − x), and the same for y, h.
    @inlinable
    public static func clipped(_ b: Box4, to bound: ImageSize) -> Box4 {
        let x = min(max(b.x, 0), bound.width), y = min(max(b.y, 0), bound.height)
        let w = min(max(b.w, 0), bound.width - x), h = min(max(b.h, 0), bound.height - y)
        return Box4(x, y, w, h)
    }

    /// The GOT-10k toolkit's IoU: continuous intersection, inter / (union + ε) with ε the float64
    /// machine epsilon, clipped to [0, 1]; both boxes clipped to `bound` first when given.
    @inlinable
    public static func got10kIoU(_ p: Box4, _ g: Box4, bound: ImageSize?) -> Double {
        var a = p, b = g
        if let bound { a = clipped(a, to: bound); b = clipped(b, to: bound) }
        let x1 = max(a.x, b.x), y1 = max(a.y, b.y)
        let x2 = min(a.x + a.w, b.x + b.w), y2 = min(a.y + a.h, b.y + b.h)
        let inter = max(x2 - x1, 0) * max(y2 - y1, 0)
        let union = a.w * a.h + b.w * b.h - inter
        let iou = inter / (union + Double.ulpOfOne)
        return min(max(iou, 0), 1)   // np.clip keeps NaN; only an Inf input could make one
    }
}

/// Four float64 values `x, y, w, h` as read from a text file: unlike `BoundingBox` it may hold NaN
/// and negative sizes, which the metrics must see to reject or skip them as the toolkits do.
public struct Box4: Equatable, Sendable {
    public var x: Double, y: Double, w: Double, h: Double
    @inlinable public init(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { self.x = x; self.y = y; self.w = w; self.h = h }
    public init(_ b: BoundingBox) { self.init(b.x, b.y, b.width, b.height) }
    public static let nan = Box4(.nan, .nan, .nan, .nan)
    public static let zero = Box4(0, 0, 0, 0)
    @inlinable public var hasNaN: Bool { x.isNaN || y.isNaN || w.isNaN || h.isNaN }
}

extension Array where Element == BoundingBox? {
    /// Ground truth as raw rows (`nil` → NaN row).
    public var box4: [Box4] { map { $0.map(Box4.init) ?? .nan } }
}
