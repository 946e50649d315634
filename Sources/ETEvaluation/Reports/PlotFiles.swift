import ETData
import ETCore
import Foundation
import ETImage

/// Writes the report's plots: `success.svg`, `precision.svg`, `norm_precision.svg`, and a PNG of
/// each. PNGs come from `rsvg-convert` (librsvg) when it is on PATH, which renders the SVG exactly,
/// text included; without it a built-in rasteriser draws the same curves, grid and legend colours
/// but no text (a warning says so).
public enum PlotFiles {
    /// - Returns: the files written.
    /// - Throws: `EvaluationError` when the folder cannot be written.
    @discardableResult
    public static func write(_ report: ScoreReport, to dir: String, png: Bool = true,
                             warn: (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        let plots = [("success", ReportPlots.success(report)), ("precision", ReportPlots.precision(report)),
                     ("norm_precision", ReportPlots.normPrecision(report))]
        let rsvg = png ? findExecutable("rsvg-convert") : nil
        if png && rsvg == nil { warn("rsvg-convert not found (apt-get install librsvg2-bin): PNG plots use the built-in bitmap font") }
        for (name, plot) in plots where !plot.series.isEmpty {
            written += try write(plot, svg: DatasetFiles.join(dir, name + ".svg"), png: png, rsvg: rsvg)
        }
        return written
    }

    /// Writes one plot as `svg` and, with `png`, beside it as `.png`.
    @discardableResult
    public static func write(_ plot: LinePlot, svg svgPath: String, png: Bool = true) throws -> [String] {
        try write(plot, svg: svgPath, png: png, rsvg: png ? findExecutable("rsvg-convert") : nil)
    }

    static func write(_ plot: LinePlot, svg svgPath: String, png: Bool, rsvg: String?) throws -> [String] {
        try ResultFiles.writeAtomically(plot.svg(), to: svgPath)
        guard png else { return [svgPath] }
        let pngPath = svgPath.pathDeletingExtension + ".png"
        if let rsvg, run(rsvg, ["-f", "png", "-b", "white", "-o", pngPath, svgPath]) { return [svgPath, pngPath] }
        let data = try ImageIO.encode(PlotRaster.render(plot), format: .png, name: pngPath)
        do { try AtomicFile.write([UInt8](data), to: pngPath) } catch { throw EvaluationError("\(error)") }
        return [svgPath, pngPath]
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for d in path.split(separator: ":") {
            let p = "\(d)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}

/// A minimal rasteriser for `LinePlot`: white background, grey grid, black frame, 2-px curves,
/// legend swatches, and text in ETImage's 5x7 bitmap font (upper case).
public enum PlotRaster {
    public static func render(_ plot: LinePlot) -> Image {
        let w = Int(LinePlot.width), h = Int(LinePlot.height)
        var px = [UInt8](repeating: 255, count: w * h * 3)
        func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, y >= 0, x < w, y < h else { return }
            let i = (y * w + x) * 3
            px[i] = c.0; px[i + 1] = c.1; px[i + 2] = c.2
        }
        func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: (UInt8, UInt8, UInt8), width: Int = 1, dash: Bool = false) {
            let steps = max(Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)), 1)
            for k in 0...steps {
                if dash && (k / 6) % 2 == 1 { continue }
                let t = Double(k) / Double(steps)
                let x = Int((x0 + (x1 - x0) * t).rounded()), y = Int((y0 + (y1 - y0) * t).rounded())
                for dx in 0..<width { for dy in 0..<width { dot(x + dx - width / 2, y + dy - width / 2, c) } }
            }
        }
        let grid: (UInt8, UInt8, UInt8) = (221, 221, 221), black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        let (xl, xr) = (plot.px(plot.xRange.lowerBound), plot.px(plot.xRange.upperBound))
        let (yb, yt) = (plot.py(plot.yRange.lowerBound), plot.py(plot.yRange.upperBound))
        for t in plot.xTicks { line(plot.px(t), yb, plot.px(t), yt, grid); line(plot.px(t), yb, plot.px(t), yb + 5, black) }
        for t in plot.yTicks { line(xl, plot.py(t), xr, plot.py(t), grid); line(xl - 5, plot.py(t), xl, plot.py(t), black) }
        line(xl, yb, xr, yb, black); line(xl, yt, xr, yt, black); line(xl, yb, xl, yt, black); line(xr, yb, xr, yt, black)
        for (i, s) in plot.series.enumerated().reversed() {
            let pts = zip(s.xs, s.ys).map { (plot.px($0), plot.py($1)) }
            for k in 1..<max(pts.count, 1) { line(pts[k - 1].0, pts[k - 1].1, pts[k].0, pts[k].1, LinePlot.color(i), width: 2, dash: LinePlot.dashed(i)) }
        }
        var img = Image(width: w, height: h, channels: 3, pixels: px)
        func text(_ t: String, _ x: Double, _ y: Double, anchor: Double = 0, scale: Int = 1) {
            let size = ImageOps.textSize(t, scale: scale)
            ImageOps.drawText(&img, t, x: Int(x - anchor * Double(size.width)), y: Int(y) - size.height, color: [0, 0, 0], scale: scale)
        }
        text(plot.title, LinePlot.width / 2, 28, anchor: 0.5, scale: 2)
        for t in plot.xTicks { text(LinePlot.tickText(t), plot.px(t), yb + 18, anchor: 0.5) }
        for t in plot.yTicks { text(LinePlot.tickText(t), xl - 8, plot.py(t) + 4, anchor: 1) }
        text(plot.xLabel, (xl + xr) / 2, LinePlot.height - 16, anchor: 0.5)
        text(plot.yLabel, 4, yt - 8)
        let (lx, ly) = plot.legendOrigin
        let lw = Int(plot.legendWidth)
        ImageOps.fillRect(&img, x: Int(lx) - 6, y: Int(ly) - 14, width: lw, height: plot.series.count * 18 + 8, color: [255, 255, 255])
        ImageOps.drawRectangle(&img, x: Int(lx) - 6, y: Int(ly) - 14, width: lw, height: plot.series.count * 18 + 8, color: [153, 153, 153], thickness: 1)
        for (i, s) in plot.series.enumerated() {
            let y = ly + Double(i) * 18
            let c = LinePlot.color(i)
            for k in 0..<24 where !(LinePlot.dashed(i) && (k / 6) % 2 == 1) {
                ImageOps.fillRect(&img, x: Int(lx) + k, y: Int(y) - 5, width: 1, height: 2, color: [c.0, c.1, c.2])
            }
            text(s.label, lx + 30, y)
        }
        return img
    }
}
