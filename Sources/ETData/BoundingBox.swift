/// An axis-aligned box in pixel coordinates: top-left corner (x, y), width and height.
///
/// Coordinates are floats so sub-pixel boxes survive; conversions to other conventions are
/// explicit (`xyxy`, `center`).
public struct BoundingBox: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// From centre and size.
    public init(centerX: Double, centerY: Double, width: Double, height: Double) {
        self.init(x: centerX - width / 2, y: centerY - height / 2, width: width, height: height)
    }

    public var centerX: Double { x + width / 2 }
    public var centerY: Double { y + height / 2 }
    /// (x1, y1, x2, y2) with x2 = x + width.
    public var xyxy: (Double, Double, Double, Double) { (x, y, x + width, y + height) }
    public var area: Double { width * height }

    /// Continuous intersection-over-union (0 for disjoint or empty boxes).
    public func iou(_ o: BoundingBox) -> Double {
        let iw = min(x + width, o.x + o.width) - max(x, o.x)
        let ih = min(y + height, o.y + o.height) - max(y, o.y)
        guard iw > 0, ih > 0 else { return 0 }
        let inter = iw * ih
        let union = area + o.area - inter
        return union > 0 ? inter / union : 0
    }

    /// "x,y,w,h" with shortest round-trip formatting.
    public var description: String { "\(Self.format(x)),\(Self.format(y)),\(Self.format(width)),\(Self.format(height))" }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// Parses "x,y,w,h" (commas, tabs or spaces). Returns nil when it is not four numbers.
    public init?(parsing text: Substring) {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == "\t" || $0 == " " })
        guard parts.count == 4 else { return nil }
        let v = parts.compactMap { Double($0) }
        guard v.count == 4 else { return nil }
        self.init(x: v[0], y: v[1], width: v[2], height: v[3])
    }

    public init?(parsing text: String) { self.init(parsing: Substring(text)) }
}
