import Foundation

/// A line chart described once and drawn to SVG (text) or to pixels (`PlotRaster`).
public struct LinePlot: Sendable {
    public struct Series: Sendable {
        public var label: String; public var xs: [Double]; public var ys: [Double]
        public init(label: String, xs: [Double], ys: [Double]) { self.label = label; self.xs = xs; self.ys = ys }
    }
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    public var xTicks: [Double]
    public var yTicks: [Double]
    /// Best first: the legend lists them in this order (the toolkits rank by the score in brackets).
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
                xTicks: [Double], yTicks: [Double], series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xRange = xRange; self.yRange = yRange
        self.xTicks = xTicks; self.yTicks = yTicks; self.series = series
    }

    public static let width = 640.0, height = 480.0
    static let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0
    /// A colour-blind-friendly palette (Okabe–Ito) followed by greys.
    static let palette: [(UInt8, UInt8, UInt8)] = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167),
                                                   (230, 159, 0), (86, 180, 233), (0, 0, 0), (240, 228, 66),
                                                   (120, 120, 120), (170, 60, 60)]
    static func color(_ i: Int) -> (UInt8, UInt8, UInt8) { palette[i % palette.count] }
    static func dashed(_ i: Int) -> Bool { (i / palette.count) % 2 == 1 }

    func px(_ x: Double) -> Double {
        Self.left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (Self.width - Self.left - Self.right)
    }
    func py(_ y: Double) -> Double {
        Self.height - Self.bottom - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (Self.height - Self.top - Self.bottom)
    }

    static func tickText(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }

    /// The chart as a standalone SVG document (hand-written, no dependencies).
    public func svg() -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(Self.width))\" height=\"\(Int(Self.height))\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(n(Self.width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(esc(title))</text>\n"
        for t in xTicks {
            s += "<line x1=\"\(n(px(t)))\" y1=\"\(n(py(yRange.lowerBound)))\" x2=\"\(n(px(t)))\" y2=\"\(n(py(yRange.upperBound)))\" stroke=\"#dddddd\"/>\n"
            s += "<text x=\"\(n(px(t)))\" y=\"\(n(py(yRange.lowerBound) + 18))\" text-anchor=\"middle\" font-size=\"12\">\(Self.tickText(t))</text>\n"
        }
        for t in yTicks {
            s += "<line x1=\"\(n(px(xRange.lowerBound)))\" y1=\"\(n(py(t)))\" x2=\"\(n(px(xRange.upperBound)))\" y2=\"\(n(py(t)))\" stroke=\"#dddddd\"/>\n"
            s += "<text x=\"\(n(px(xRange.lowerBound) - 8))\" y=\"\(n(py(t) + 4))\" text-anchor=\"end\" font-size=\"12\">\(Self.tickText(t))</text>\n"
        }
        s += "<rect x=\"\(n(Self.left))\" y=\"\(n(Self.top))\" width=\"\(n(Self.width - Self.left - Self.right))\" height=\"\(n(Self.height - Self.top - Self.bottom))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(n(px((xRange.lowerBound + xRange.upperBound) / 2)))\" y=\"\(n(Self.height - 18))\" text-anchor=\"middle\" font-size=\"14\">\(esc(xLabel))</text>\n"
        s += "<text x=\"18\" y=\"\(n(py((yRange.lowerBound + yRange.upperBound) / 2)))\" text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 18 \(n(py((yRange.lowerBound + yRange.upperBound) / 2))))\">\(esc(yLabel))</text>\n"
        for (i, se) in series.enumerated().reversed() {
            let (r, g, b) = Self.color(i)
            let pts = zip(se.xs, se.ys).map { "\(n(px($0))),\(n(py($1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"rgb(\(r),\(g),\(b))\" stroke-width=\"2\"\(Self.dashed(i) ? " stroke-dasharray=\"6,4\"" : "") points=\"\(pts)\"/>\n"
        }
        let lx = legendOrigin.x, ly = legendOrigin.y
        s += "<rect x=\"\(n(lx - 6))\" y=\"\(n(ly - 14))\" width=\"\(n(legendWidth))\" height=\"\(n(Double(series.count) * 18 + 8))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n"
        for (i, se) in series.enumerated() {
            let (r, g, b) = Self.color(i)
            let y = ly + Double(i) * 18
            s += "<line x1=\"\(n(lx))\" y1=\"\(n(y - 4))\" x2=\"\(n(lx + 24))\" y2=\"\(n(y - 4))\" stroke=\"rgb(\(r),\(g),\(b))\" stroke-width=\"2\"\(Self.dashed(i) ? " stroke-dasharray=\"6,4\"" : "")/>\n"
            s += "<text x=\"\(n(lx + 30))\" y=\"\(n(y))\" font-size=\"12\">\(esc(se.label))</text>\n"
        }
        return s + "</svg>\n"
    }

    var legendWidth: Double { Double(series.map(\.label.count).max() ?? 0) * 7.2 + 42 }
    /// Bottom-left for success plots (curves fall to the right), bottom-right for precision plots.
    var legendOrigin: (x: Double, y: Double) {
        let h = Double(series.count) * 18
        let bottomY = Self.height - Self.bottom - h - 4
        if title.hasPrefix("Success") { return (Self.left + 14, bottomY) }
        return (Self.width - Self.right - legendWidth - 2, bottomY)
    }
}

/// The toolkits' standard plots from a score report.
public enum ReportPlots {
    /// Success plot: IoU threshold vs success rate, legend "name [AUC]" ranked by AUC.
    public static func success(_ r: ScoreReport, title: String? = nil) -> LinePlot {
        let ts = r.trackers.filter { $0.ope != nil }.sorted { $0.ope!.auc > $1.ope!.auc }
        return LinePlot(title: title ?? "Success plot (\(r.dataset), \(r.variant))", xLabel: "Overlap threshold",
                        yLabel: "Overlap precision [%]", xRange: 0...1, yRange: 0...100,
                        xTicks: stride(from: 0.0, through: 1.0, by: 0.2).map { $0 }, yTicks: stride(from: 0.0, through: 100, by: 20).map { $0 },
                        series: ts.map { .init(label: "\($0.name) [\(String(format: "%.1f", $0.ope!.auc))]", xs: OPEScoring.overlapThresholds, ys: $0.ope!.successCurve) })
    }

    /// Precision plot: location error threshold (px) vs precision, legend ranked by P@20.
    public static func precision(_ r: ScoreReport, title: String? = nil) -> LinePlot {
        let ts = r.trackers.filter { $0.ope != nil }.sorted { $0.ope!.precision > $1.ope!.precision }
        return LinePlot(title: title ?? "Precision plot (\(r.dataset), \(r.variant))", xLabel: "Location error threshold [pixels]",
                        yLabel: "Distance precision [%]", xRange: 0...50, yRange: 0...100,
                        xTicks: stride(from: 0.0, through: 50, by: 10).map { $0 }, yTicks: stride(from: 0.0, through: 100, by: 20).map { $0 },
                        series: ts.map { .init(label: "\($0.name) [\(String(format: "%.1f", $0.ope!.precision))]", xs: OPEScoring.centerThresholds, ys: $0.ope!.precisionCurve) })
    }

    /// Normalised precision plot: threshold 0…0.5 vs precision, legend ranked by P_norm@0.2.
    public static func normPrecision(_ r: ScoreReport, title: String? = nil) -> LinePlot {
        let ts = r.trackers.filter { $0.ope != nil }.sorted { $0.ope!.normPrecision > $1.ope!.normPrecision }
        return LinePlot(title: title ?? "Normalized precision plot (\(r.dataset), \(r.variant))", xLabel: "Normalized location error threshold",
                        yLabel: "Distance precision [%]", xRange: 0...0.5, yRange: 0...100,
                        xTicks: stride(from: 0.0, through: 0.5, by: 0.1).map { ($0 * 10).rounded() / 10 }, yTicks: stride(from: 0.0, through: 100, by: 20).map { $0 },
                        series: ts.map { .init(label: "\($0.name) [\(String(format: "%.1f", $0.ope!.normPrecision))]", xs: OPEScoring.normalizedThresholds, ys: $0.ope!.normPrecisionCurve) })
    }
}
