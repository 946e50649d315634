import ETImage
import XCTest

/// `ImageOps.cropResize` against cv2.resize(cv2.copyMakeBorder(...)[roi], INTER_LINEAR).
final class CropResizeTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var frame: Int, x: Int, y: Int, w: Int, h: Int, pad: [UInt8], ow: Int, oh: Int
        var description: String { "frame#\(frame) roi=(\(x),\(y),\(w),\(h)) pad=\(pad) out=\(ow)x\(oh)" }
    }

    func testMatchesOpenCVOnRandomCrops() throws {
        try ReferenceRunner.requireOpenCV()
        var rng = SplitMix64(seed: 20240611)
        let ref = try ReferenceRunner()
        var frames: [Image] = []
        for (i, (w, h, c)) in [(360, 240, 3), (97, 61, 3), (640, 360, 3), (45, 80, 1), (120, 90, 4), (64, 50, 2)].enumerated() {
            let img = randomImage(width: w, height: h, channels: c, rng: &rng)
            frames.append(img)
            try ref.writeRaw(img.pixels, "frame\(i).u8")
        }
        var cases: [Case] = []
        func add(_ c: Case) { cases.append(c) }
        // Fixed cases: the tracker's sizes, exact scales, identity, all placements.
        let f0 = frames[0]
        for (w, o) in [(253, 127), (510, 255), (512, 256), (255, 255), (127, 127), (100, 255), (254, 127), (1000, 255), (50, 127)] {
            for (x, y) in [(40, 10), (-w / 2, -w / 3), (f0.width - w / 3, f0.height - w / 4), (-w - 5, 20), (f0.width + 3, -w - 9), (-20, -30)] {
                add(Case(frame: 0, x: x, y: y, w: w, h: w, pad: [124, 116, 104], ow: o, oh: o))
            }
        }
        add(Case(frame: 0, x: 0, y: 0, w: 360, h: 240, pad: [0, 0, 0], ow: 360, oh: 240))
        add(Case(frame: 0, x: 0, y: 0, w: 360, h: 240, pad: [0, 0, 0], ow: 180, oh: 120))
        add(Case(frame: 0, x: 5, y: 7, w: 1, h: 1, pad: [1, 2, 3], ow: 7, oh: 5))
        add(Case(frame: 0, x: 359, y: 239, w: 2, h: 2, pad: [9, 8, 7], ow: 255, oh: 255))
        // Random cases over all frames and channel counts.
        for _ in 0..<400 {
            let fi = Int.random(in: 0..<frames.count, using: &rng)
            let f = frames[fi]
            let w = Int.random(in: 1...min(700, 3 * f.width), using: &rng)
            let h = Bool.random(using: &rng) ? w : Int.random(in: 1...min(700, 3 * f.height), using: &rng)
            let x = Int.random(in: -w - 10...f.width + 10, using: &rng)
            let y = Int.random(in: -h - 10...f.height + 10, using: &rng)
            var ow = Int.random(in: 1...300, using: &rng), oh = Int.random(in: 1...300, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: ow = w; oh = h                                  // identity
            case 1: ow = max(1, w / 2); oh = max(1, h / 2)          // 2x (exact when even)
            case 2: ow = 2 * w; oh = 2 * h; ow = min(ow, 600); oh = min(oh, 600)
            case 3: ow = 255; oh = 255
            case 4: ow = 127; oh = 127
            default: break
            }
            let pad = (0..<f.channels).map { _ in UInt8.random(in: 0...255, using: &rng) }
            add(Case(frame: fi, x: x, y: y, w: w, h: h, pad: pad, ow: ow, oh: oh))
        }
        for (i, c) in cases.enumerated() {
            let f = frames[c.frame]
            ref.add(["op": "crop_resize", "frame": "frame\(c.frame).u8", "fw": f.width, "fh": f.height, "c": f.channels,
                     "x": c.x, "y": c.y, "w": c.w, "h": c.h, "pad": c.pad.map(Int.init), "ow": c.ow, "oh": c.oh,
                     "out": "out\(i).u8"])
        }
        try ref.run()
        var failures = 0
        for (i, c) in cases.enumerated() {
            let f = frames[c.frame]
            let mine = ImageOps.cropResize(f, x: c.x, y: c.y, width: c.w, height: c.h, padding: c.pad,
                                           outWidth: c.ow, outHeight: c.oh)
            let expected = try ref.raw("out\(i).u8")
            let (maxDiff, count) = compare(mine.pixels, expected)
            if count != 0 {
                failures += 1
                if failures <= 20 {
                    XCTFail("cropResize differs from cv2 for \(c) channels=\(f.channels): max diff \(maxDiff), \(count) bytes")
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(cases.count) cases differ")
    }

    func testWindowOutsideFrameIsPadding() {
        let img = Image(width: 10, height: 10, channels: 3, fill: 200)
        let out = ImageOps.cropResize(img, x: 50, y: -70, width: 33, height: 20, padding: [1, 2, 3], outWidth: 17, outHeight: 9)
        XCTAssertEqual(out.width, 17)
        XCTAssertEqual(out.height, 9)
        for i in 0..<(17 * 9) { XCTAssertEqual(Array(out.pixels[3 * i..<3 * i + 3]), [1, 2, 3]) }
    }

    func testIdentityInsideIsACopy() {
        var rng = SplitMix64(seed: 7)
        let img = randomImage(width: 31, height: 17, channels: 3, rng: &rng)
        let out = ImageOps.cropResize(img, x: 0, y: 0, width: 31, height: 17, padding: [0, 0, 0], outWidth: 31, outHeight: 17)
        XCTAssertEqual(out, img)
    }
}
