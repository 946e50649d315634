import ETImage
import Foundation
import XCTest

final class ImageOpsTests: XCTestCase {
    func testMeanRoundedMeanAndPlanarMatchCV2() throws {
        try ReferenceRunner.requireOpenCV()
        var rng = SplitMix64(seed: 99)
        let img = randomImage(width: 57, height: 31, channels: 3, rng: &rng)
        let ref = try ReferenceRunner()
        try ref.writeRaw(img.pixels, "f.u8")
        ref.add(["op": "mean", "frame": "f.u8", "fw": 57, "fh": 31, "c": 3, "out": "mean.json"])
        let values: [Double] = [2.5, 3.5, 0.5, 254.5, 255.7, -3, 100.49999, 7.5000001]
        for (i, v) in values.enumerated() {
            ref.add(["op": "border_value", "value": [v, v, v], "c": 3, "out": "bv\(i).json"])
        }
        let vitMean = [0.485, 0.456, 0.406], vitStd = [0.229, 0.224, 0.225]
        ref.add(["op": "blob", "frame": "f.u8", "fw": 57, "fh": 31, "c": 3, "swap_rb": true, "scale": 1.0,
                 "mean": NSNull(), "std": NSNull(), "out": "nano.f32"])
        ref.add(["op": "blob", "frame": "f.u8", "fw": 57, "fh": 31, "c": 3, "swap_rb": false, "scale": 1.0,
                 "mean": vitMean.map { $0 * 255 }, "std": vitStd.map { $0 * 255 }, "out": "vit.f32"])
        try ref.run()

        let expectedMean = try XCTUnwrap(ref.json("mean.json") as? [Double])
        // cv2.mean (IPP in the wheels) can differ from the exact sum / count in the last bit.
        for (m, e) in zip(ImageOps.mean(img), expectedMean) { XCTAssertEqual(m, e, accuracy: 1e-9 * e, "mean") }
        for (i, v) in values.enumerated() {
            let expected = try XCTUnwrap(ref.json("bv\(i).json") as? [Int])
            XCTAssertEqual(ImageOps.roundedMean([v, v, v]).map(Int.init), expected, "border value for \(v)")
        }

        let n = 3 * 57 * 31
        var out = [Float](repeating: .nan, count: n)
        // blobFromImage(swapRB: true): planes in reversed order, raw values.
        out.withUnsafeMutableBufferPointer { ImageOps.toPlanar(img, into: $0.baseAddress!, channelOrder: .bgr) }
        XCTAssertEqual(out, try ref.floats("nano.f32"), "plain planar conversion")
        // TrackerVit's parameters, OpenCV's evaluation order: bit for bit.
        out.withUnsafeMutableBufferPointer {
            ImageOps.toPlanar(img, into: $0.baseAddress!, channelOrder: .rgb,
                              subtracting: vitMean.map { $0 * 255 }, multiplyingBy: vitStd.map { 1 / ($0 * 255) })
        }
        let vit = try ref.floats("vit.f32")
        XCTAssertEqual(out, vit, "subtract/multiply conversion")
        // The (p * scale - mean) / std form: equal up to float rounding.
        out.withUnsafeMutableBufferPointer {
            ImageOps.toPlanar(img, into: $0.baseAddress!, channelOrder: .rgb, mean: vitMean.map(Float.init),
                              std: vitStd.map(Float.init), scale: 1 / 255)
        }
        let worst = zip(out, vit).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5, "normalised conversion max diff \(worst)")
    }

    func testDrawRectangleIsClipped() {
        var img = Image(width: 20, height: 10, channels: 3, fill: 0)
        ImageOps.drawRectangle(&img, x: -5, y: 3, width: 10, height: 20, color: [255, 0, 0], thickness: 2)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(img.pixels[(y * 20 + x) * 3..<(y * 20 + x) * 3 + 3]) }
        XCTAssertEqual(px(0, 3), [255, 0, 0])       // top edge inside the frame
        XCTAssertEqual(px(4, 9), [255, 0, 0])       // right edge, columns 3...4
        XCTAssertEqual(px(2, 9), [0, 0, 0])         // interior
        XCTAssertEqual(px(5, 5), [0, 0, 0])         // outside
        ImageOps.drawRectangle(&img, x: 100, y: 100, width: 5, height: 5, color: [1, 1, 1])  // fully outside: no-op
        ImageOps.drawText(&img, "#12 0.97", x: 15, y: 6, color: [0, 255, 0], scale: 2, background: [0, 0, 0])  // clipped
        XCTAssertEqual(ImageOps.textSize("12", scale: 1).width, 11)
    }

    func testDrawTextDigitsDiffer() {
        var seen = Set<[UInt8]>()
        for ch in "0123456789" {
            var img = Image(width: 6, height: 8, channels: 1, fill: 0)
            ImageOps.drawText(&img, String(ch), x: 0, y: 0, color: [255], scale: 1)
            XCTAssertTrue(img.pixels.contains(255), "glyph \(ch) is empty")
            seen.insert(img.pixels)
        }
        XCTAssertEqual(seen.count, 10, "digit glyphs must be distinct")
    }
}
